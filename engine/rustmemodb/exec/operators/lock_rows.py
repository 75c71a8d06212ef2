"""SELECT ... FOR UPDATE / FOR SHARE (plan/logical.LogicalLockRows): the rows the
query's WHERE selects are registered as locked in the transaction (txn/transaction.py
``LockOp``), then the query runs. Under snapshot isolation a lock is a claim checked at
commit: a concurrent transaction that changes a locked row and this one cannot both
commit (40001 for the second), which is what FOR UPDATE is there to guarantee. Nothing
waits by default.

NOWAIT and SKIP LOCKED look at the claims of the other open transactions
(txn/row_claims.py): NOWAIT fails with 55P03 when one of its rows is held, as
PostgreSQL's would instead of waiting; SKIP LOCKED runs the query as if the held rows
were deleted (on a read root without them) and locks exactly the rows it returns,
under the claims lock, so two workers of a queue never take the same row.
"""
from __future__ import annotations

from ...lazy_import import arrow as pa

from ... import errors
from ...plan.logical import LogicalLockRows
from ...storage.root import replace
from ..run import operator, run_plan
from ... import infinity


@operator(LogicalLockRows)
def lock_rows(node: LogicalLockRows, ctx) -> pa.Table:
    txn = ctx.txn
    claims = getattr(txn, "claims", None)
    if node.wait == "skip":
        if claims is None:     # not an open transaction: nobody else's claims to see
            out = run_plan(node.child, ctx)
            return out.remove_column(out.num_columns - 1)
        with claims.lock:
            out = _without_held(node, ctx, claims.held(txn, node.table, node.exclusive))
            txn.lock_rows(node.table, infinity.pylist(out.column(out.num_columns - 1)),
                          node.exclusive)
        return out.remove_column(out.num_columns - 1)
    if txn is not None:         # outside a transaction a lock would end at once
        rowids = run_plan(node.source, ctx).column("_rowid").to_pylist()
        if node.wait == "nowait" and claims is not None and rowids:
            with claims.lock:
                if not claims.held(txn, node.table, node.exclusive).isdisjoint(rowids):
                    raise errors.sql_error(
                        "55P03", f'could not obtain lock on row in relation "{node.table}"')
                txn.lock_rows(node.table, rowids, node.exclusive)
        else:
            txn.lock_rows(node.table, rowids, node.exclusive)
    return run_plan(node.child, ctx)


def _without_held(node: LogicalLockRows, ctx, held: set) -> pa.Table:
    """The query's result read from a root where the rows others hold are gone."""
    if not held:
        return run_plan(node.child, ctx)
    root = ctx.root
    saved = ctx.read_root
    ctx.read_root = replace(root, tables={**root.tables,
                                          node.table: root.tables[node.table].delete(sorted(held))})
    try:
        return run_plan(node.child, ctx)
    finally:
        ctx.read_root = saved
