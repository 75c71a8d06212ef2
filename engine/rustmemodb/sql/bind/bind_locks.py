"""Binding SELECT ... FOR UPDATE | FOR NO KEY UPDATE | FOR SHARE | FOR KEY SHARE
[OF t] [NOWAIT | SKIP LOCKED]: a LogicalLockRows over the query
(exec/operators/lock_rows.py).

As PostgreSQL requires, the query reads one table without grouping, aggregates,
DISTINCT or set operations (0A000 otherwise, naming what is in the way); here it also
has no joins. Every row the WHERE selects is locked, also those an ORDER BY ... LIMIT
then drops: more than PostgreSQL locks, never fewer. Except under SKIP LOCKED, where
locking a row the query does not return would hide it from the other workers of a
queue: there the scan carries each row's rowid to the end of the query (``with_rowid``
and a trailing select item), and exactly the rows returned are locked.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import ColRef
from ...plan.logical import LogicalLockRows, LogicalScan
from ..parse import position_of
from .scope import Scope
from .table_source import table_source


def wait_policy(node: exp.Select) -> str:
    """'skip' (SKIP LOCKED), 'nowait' (NOWAIT) or 'check' (the default: nothing
    waits here, a conflict is found at commit) of a locking SELECT's clauses."""
    waits = [lock.args.get("wait") for lock in node.args.get("locks") or ()]
    if False in waits:
        return "skip"
    return "nowait" if True in waits else "check"


def with_rowid(plan, scope: Scope):
    """A SKIP LOCKED query's FROM (lockable_table checked: one stored table) with each
    row's rowid as a hidden trailing column, and the select item that carries it out."""
    if type(plan) is not LogicalScan:       # TABLESAMPLE wraps the scan
        raise errors.not_supported("SKIP LOCKED over a sampled table")
    cols = list(plan.columns) + [("_rowid", types.INTEGER)]
    plan = LogicalScan(cols, plan.table, alias=plan.alias, with_rowid=True)
    scope.add(None, "_rowid", types.INTEGER, hidden=True)
    return plan, ColRef(len(cols) - 1, types.INTEGER, "_rowid")


def lockable_table(stmt, node: exp.Select) -> exp.Table:
    """The one stored table a locking SELECT reads, or the 0A000 / 42P01 that says what
    is in the way; checked before the query is bound (so a SKIP LOCKED query's rowid
    column never meets a GROUP BY)."""
    locks = node.args.get("locks") or []
    what = "FOR UPDATE" if any(lk.args.get("update") for lk in locks) else "FOR SHARE"
    from_ = node.args.get("from_") or node.args.get("from")
    table = from_.this if from_ is not None else None
    for key, label in (("group", "GROUP BY"), ("having", "HAVING"), ("distinct", "DISTINCT")):
        if node.args.get(key):
            raise errors.not_supported(f"{what} with {label}", position=position_of(node))
    if any(e.find(exp.AggFunc, exp.Window) is not None for e in node.expressions):
        raise errors.not_supported(f"{what} with aggregate or window functions",
                                   position=position_of(node))
    if not isinstance(table, exp.Table) or node.args.get("joins") or \
            not isinstance(table.this, exp.Identifier) or not stmt.has_table(table.name):
        raise errors.not_supported(f"{what} on anything but one stored table",
                                   hint="Lock the rows of one table; join after.",
                                   position=position_of(node))
    for lock in locks:
        for target in lock.expressions or []:
            if target.name not in (table.name, table.alias_or_name):
                raise errors.sql_error("42P01", f'relation "{target.name}" in {what} clause '
                                                "not found in FROM clause")
    if wait_policy(node) == "skip" and (table.args.get("alias") is not None
                                         and table.args["alias"].columns):
        raise errors.not_supported(f"{what} SKIP LOCKED over a column alias list",
                                   position=position_of(node))
    return table


def bind_locks(stmt, node: exp.Select, plan):
    """The LogicalLockRows over ``plan``, the query bound (lockable_table checked it)."""
    table = (node.args.get("from_") or node.args.get("from")).this
    exclusive = any(lk.args.get("update") for lk in node.args["locks"])
    wait = wait_policy(node)
    stmt.note_read(table.name)
    if wait == "skip":          # the plan ends with the rowid column (with_rowid)
        return LogicalLockRows(plan.columns[:-1], plan, table.name, None, exclusive, wait)
    _, _, source = table_source(stmt, table, node.args.get("where"))
    return LogicalLockRows(plan.columns, plan, table.name, source, exclusive, wait)
