"""Decorrelation: WHERE [NOT] EXISTS / IN subqueries become semi and anti joins.

A correlated subquery evaluated per outer row costs a few Arrow operators per
distinct outer key; as a join it is one hash join for the whole batch. A
conjunct of a WHERE filter is rewritten when it is

* ``EXISTS (q)``      → semi join of the filter's input with q's core
* ``NOT EXISTS (q)``  → anti join
* ``x IN (q)``        → semi join on ``x = q's column`` (NULLs behave: in a
  WHERE clause an unknown IN is as good as false). ``NOT IN`` is left alone:
  its NULL rules are not an anti join's.

and q is ``[Project] [Distinct] [renaming Projects] Filter/Scan-with-filter`` whose correlated
conjuncts read only the scan's columns and the outer frame. The correlated
conjuncts (``inner.k = outer.k`` and any others) become the join condition;
``extract_equi_keys`` then hashes on the equalities. Anything else (aggregates,
LIMIT, outer references deeper inside) keeps the per-key evaluation of
``exec/subquery.py``.

Example (shape): ``SELECT * FROM o WHERE EXISTS (SELECT 1 FROM l WHERE l.k = o.k AND l.x < l.y)``

    Filter (EXISTS ...)                  Join semi on (o.k = l.k)
    └── Scan o                  ==>      ├── Scan o
                                         └── Scan l filter: (l.x < l.y)

Example (through EXPLAIN): EXISTS becomes a semi join.
    >>> import rustmemodb
    >>> c = rustmemodb.connect()
    >>> _ = c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    >>> _ = c.execute("CREATE TABLE u (t_id INTEGER, x FLOAT)")
    >>> sql = "EXPLAIN SELECT v FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.t_id = t.id)"
    >>> [r[0] for r in c.execute(sql).fetchall()][1]
    '->  Hash Join  (semi on id = t_id)  [rows=1]'
"""
from __future__ import annotations

from ..deep import deep
import dataclasses

from ..plan.expr import (Call, ColRef, OuterRef, SubqueryExpr, conjoin, conjuncts, make_call,
                         transform)
from ..plan.logical import (LogicalDistinct, LogicalFilter, LogicalJoin, LogicalNode,
                            LogicalProject, LogicalScan)
from ..plan.walk import map_children, reads_outer


@deep
def decorrelate_subqueries(plan: LogicalNode, ctx=None) -> LogicalNode:
    plan = map_children(plan, lambda c: decorrelate_subqueries(c, ctx))
    if not isinstance(plan, LogicalFilter):
        return plan
    child, keep = plan.child, []
    for c in conjuncts(plan.predicate):
        joined = _as_join(child, c)
        if joined is None:
            keep.append(c)
        else:
            child = joined
    if child is plan.child:
        return plan
    return LogicalFilter(plan.columns, child, conjoin(keep)) if keep else child


def _as_join(outer: LogicalNode, c) -> LogicalNode | None:
    anti = False
    if isinstance(c, Call) and c.fn == "not" and isinstance(c.args[0], SubqueryExpr):
        c, anti = c.args[0], True
    if not isinstance(c, SubqueryExpr) or c.negated:
        return None
    if c.kind == "exists":
        split = _split(c.plan, want_value=False)
    elif c.kind == "in" and not anti:
        split = _split(c.plan, want_value=True)
    else:
        return None
    if split is None:
        return None
    core, corr, value = split
    if not corr and c.kind == "exists":
        return None    # uncorrelated EXISTS: evaluated once, cheaper than a join
    nl = len(outer.columns)
    conds = [_to_join_expr(x, c.correlated, nl) for x in corr]
    if any(x is None for x in conds):
        return None
    if value is not None:
        inner_value = transform(value, lambda n: ColRef(n.index + nl, n.type, n.name)
                                if isinstance(n, ColRef) else n)
        conds.insert(0, make_call("eq", [c.arg, inner_value]))
    return LogicalJoin(list(outer.columns), outer, core, "anti" if anti else "semi",
                       conjoin(conds))


def _split(plan: LogicalNode, want_value: bool):
    """(core plan without correlated conjuncts, correlated conjuncts, value expr) or None."""
    value = None
    if isinstance(plan, LogicalProject):
        if want_value:
            if len(plan.exprs) != 1 or _reads_outer_expr(plan.exprs[0]):
                return None
            value = plan.exprs[0]
        elif any(_reads_outer_expr(e) for e in plan.exprs):
            return None
        plan = plan.child
    elif want_value:
        return None
    if isinstance(plan, LogicalDistinct) and plan.on is None and value is not None:
        return None    # the value would refer to the distinct's output, keep it simple
    if isinstance(plan, LogicalDistinct) and plan.on is None:
        plan = plan.child
    # Projections that only pick or rename columns (a derived table's ``AS s(x, y)``)
    # change no row's existence: look through them, reading the value below them.
    while isinstance(plan, LogicalProject) and all(type(e) is ColRef for e in plan.exprs):
        if value is not None:
            picks = plan.exprs
            value = transform(value, lambda n: picks[n.index] if isinstance(n, ColRef) else n)
        plan = plan.child
    if isinstance(plan, LogicalFilter):
        parts, base = conjuncts(plan.predicate), plan.child
        rebuild = lambda rest: LogicalFilter(base.columns, base, conjoin(rest)) if rest else base  # noqa: E731
    elif isinstance(plan, LogicalScan) and plan.filter is not None and plan.index_lookup is None:
        parts, base = conjuncts(plan.filter), plan
        rebuild = lambda rest: dataclasses.replace(base, filter=conjoin(rest))  # noqa: E731
    else:
        parts, base, rebuild = [], plan, (lambda rest: plan)
    corr = [p for p in parts if _reads_outer_expr(p)]
    rest = [p for p in parts if not _reads_outer_expr(p)]
    core = rebuild(rest) if corr else plan
    if reads_outer(core):
        return None
    if any(_deep(p) for p in corr):
        return None
    return core, corr, value


def _to_join_expr(e, correlated: tuple, nl: int):
    """A correlated conjunct over (outer frame, inner columns) -> over (outer ++ inner)."""
    # OuterRefs become outer ColRefs, which must not be shifted: shift inner ColRefs first.
    shifted = transform(e, lambda n: ColRef(n.index + nl, n.type, n.name)
                        if isinstance(n, ColRef) else n)
    return transform(shifted, lambda n: correlated[n.index] if isinstance(n, OuterRef) else n)


def _deep(e) -> bool:
    """Outer references other than the subquery's own frame, or nested subqueries."""
    for n in e.walk():
        if isinstance(n, OuterRef) and n.depth != 1:
            return True
        if isinstance(n, SubqueryExpr):
            return True
    return False


def _reads_outer_expr(e) -> bool:
    for n in e.walk():
        if isinstance(n, OuterRef) and n.depth >= 1:
            return True
        if isinstance(n, SubqueryExpr) and reads_outer(n.plan, 1):
            return True
    return False
