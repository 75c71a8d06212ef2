"""Which table column each output column of a plan passes through unchanged.

PostgreSQL's RowDescription names, per result column, the table (pg_class oid) and
column (attnum) it comes straight from, 0 and 0 for anything computed; pgjdbc's
ResultSetMetaData reads them for getTableName, isNullable and isAutoIncrement, which
tools such as DBeaver use to know a result is a table's rows (and editable). This walk
finds them in a logical plan: a scan's columns, carried through filters, sorts, limits,
DISTINCT, row locks and projections of plain column references, and through joins;
whatever an expression, an aggregate, a window or a set operation made has none.
"""
from __future__ import annotations

from .expr import ColRef
from .logical import (LogicalAggregate, LogicalDistinct, LogicalFilter, LogicalJoin,
                      LogicalLimit, LogicalLockRows, LogicalNode, LogicalProject, LogicalScan,
                      LogicalSort)

_PASS_THROUGH = (LogicalFilter, LogicalSort, LogicalLimit, LogicalDistinct, LogicalLockRows)


def output_sources(plan: LogicalNode, hidden: frozenset = frozenset()
                   ) -> list[tuple[str, int] | None]:
    """Per output column of ``plan``: (table key, 0-based column position in the table)
    when it is that table column's value as stored, else None. ``hidden``: tables the
    statement reads only inside views (PostgreSQL names the view there, which the
    expanded plan no longer knows: none rather than the wrong relation)."""
    n = len(plan.columns)
    if isinstance(plan, LogicalScan):
        if plan.table in hidden:
            return [None] * n
        positions = plan.projection if plan.projection is not None else \
            range(n - (1 if plan.with_rowid else 0))
        out = [(plan.table, int(p)) for p in positions]
        return (out + [None] * n)[:n]
    if isinstance(plan, _PASS_THROUGH):
        return output_sources(plan.child, hidden)
    if isinstance(plan, LogicalProject):
        return _through(plan.exprs, output_sources(plan.child, hidden))
    if isinstance(plan, LogicalAggregate):       # the group keys; aggregates are computed
        groups = _through(plan.groups, output_sources(plan.child, hidden))
        return (groups + [None] * n)[:n]
    if isinstance(plan, LogicalJoin):
        # (an outer join's padded side still names its table, as PostgreSQL's Var does)
        left = output_sources(plan.left, hidden)
        right = output_sources(plan.right, hidden)
        both = left + right
        return both if len(both) == n else (left + [None] * n)[:n]
    return [None] * n


def _through(exprs: list, below: list) -> list:
    return [below[e.index] if isinstance(e, ColRef) and e.index < len(below) else None
            for e in exprs]
