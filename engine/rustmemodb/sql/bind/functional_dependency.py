"""GROUP BY a table's primary key makes its other columns usable ungrouped.

PostgreSQL accepts ``SELECT o.id, o.customer, sum(l.qty) FROM orders o JOIN lines l ...
GROUP BY o.id``: each group holds one row of ``orders``, so ``o.customer`` has one value
per group (a functional dependency on the primary key). The binder lifts every
ungrouped column into the aggregate's output only if it is a group key, so here the
dependent columns that the query reads are appended to the group keys: the groups are
the same (each added key has one value per group), and the lift then finds them.

Only stored tables read directly at this query level count (a derived table or view
has no primary key), and only plain GROUP BY (PostgreSQL does not use dependencies
under GROUPING SETS either).
"""
from __future__ import annotations

from ...plan.expr import AggCall, ColRef, Expr
from ...plan.logical import LogicalFilter, LogicalJoin, LogicalNode, LogicalScan
from .scope import Scope


def with_dependent_columns(stmt, plan: LogicalNode, scope: Scope, groups: list[Expr],
                           exprs: list[Expr]) -> list[Expr]:
    """``groups`` plus each column ``exprs`` read that a grouped primary key determines."""
    grouped = {g.index for g in groups if isinstance(g, ColRef)}
    if not grouped:
        return groups
    dependent: set[int] = set()
    scans = list(_scans(plan))
    aliases = [s.alias or s.table for s in scans]
    for scan, alias in zip(scans, aliases):
        if aliases.count(alias) != 1:
            continue
        version = stmt.root.tables.get(scan.table)
        pk = version.schema.primary_key if version is not None else None
        if pk is None:
            continue
        positions = {c.name: i for i, c in enumerate(scope.columns)
                     if c.table == alias and not c.hidden}
        key = [positions.get(version.schema.columns[k].name) for k in pk.columns]
        if None not in key and grouped.issuperset(key):
            dependent |= set(positions.values())
    dependent -= grouped
    if not dependent:
        return groups
    extra: list[Expr] = []
    for e in exprs:
        for n in _outside_aggregates(e):
            if isinstance(n, ColRef) and n.index in dependent and n not in extra:
                extra.append(n)
    return groups + extra


def _outside_aggregates(e: Expr | None):
    """The nodes of ``e`` not inside an aggregate call (those are computed per row)."""
    stack = [e] if e is not None else []
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, AggCall):
            stack.extend(node.children() or ())


def _scans(plan: LogicalNode):
    """The stored tables of this query level's FROM (joins and filters over scans; a
    derived table's scans are a level down, behind its projection)."""
    if isinstance(plan, LogicalScan):
        yield plan
    elif isinstance(plan, LogicalJoin):
        yield from _scans(plan.left)
        yield from _scans(plan.right)
    elif isinstance(plan, LogicalFilter):
        yield from _scans(plan.child)
