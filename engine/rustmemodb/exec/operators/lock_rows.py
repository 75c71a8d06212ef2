"""SELECT ... FOR UPDATE / FOR SHARE (plan/logical.LogicalLockRows): the rows the
query's WHERE selects are registered as locked in the transaction (txn/transaction.py
``LockOp``), then the query runs. Under snapshot isolation a lock is a claim checked at
commit: a concurrent transaction that changes a locked row and this one cannot both
commit (40001 for the second), which is what FOR UPDATE is there to guarantee. Nothing
waits, so NOWAIT holds trivially; SKIP LOCKED cannot be honoured (0A000 at bind).
"""
from __future__ import annotations

from ...lazy_import import arrow as pa

from ...plan.logical import LogicalLockRows
from ..run import operator, run_plan


@operator(LogicalLockRows)
def lock_rows(node: LogicalLockRows, ctx) -> pa.Table:
    txn = ctx.txn
    if txn is not None:         # outside a transaction a lock would end at once
        locked = run_plan(node.source, ctx)
        txn.lock_rows(node.table, locked.column("_rowid").to_pylist())
    return run_plan(node.child, ctx)
