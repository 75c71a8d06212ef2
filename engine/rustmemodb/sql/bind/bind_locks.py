"""Binding SELECT ... FOR UPDATE | FOR NO KEY UPDATE | FOR SHARE | FOR KEY SHARE
[OF t] [NOWAIT]: a LogicalLockRows over the query (exec/operators/lock_rows.py).

As PostgreSQL requires, the query reads one table without grouping, aggregates,
DISTINCT or set operations (0A000 otherwise, naming what is in the way); here it also
has no joins. Every row the WHERE selects is locked, also those an ORDER BY ... LIMIT
then drops: more than PostgreSQL locks, never fewer. SKIP LOCKED is refused: nothing
is ever locked in a way another transaction could skip.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ...plan.logical import LogicalLockRows
from ..parse import position_of
from .table_source import table_source


def bind_locks(stmt, node: exp.Select, plan):
    locks = node.args.get("locks") or []
    for lock in locks:
        if lock.args.get("wait") is False:
            raise errors.not_supported("SKIP LOCKED",
                                       hint="Locks here are checked at commit; nothing is "
                                            "skipped (NOWAIT needs no option).")
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
    _, _, source = table_source(stmt, table, node.args.get("where"))
    stmt.note_read(table.name)
    return LogicalLockRows(plan.columns, plan, table.name, source)
