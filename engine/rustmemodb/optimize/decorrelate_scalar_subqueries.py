"""Decorrelation of scalar aggregate subqueries into a grouped LEFT JOIN.

``(SELECT max(v) FROM t2 WHERE t2.k = t.k)`` evaluated per outer key costs a
few Arrow operators per distinct key (a cliff at 10^5 keys). Grouping the inner
side once by its correlation key and left-joining it answers every outer row
at once:

    Project (..., (SELECT f(agg) ... WHERE t2.k = t.k))      Project (..., CASE WHEN g.k IS NOT NULL
    └── X                                              ==>              THEN f(g.agg) ELSE f(<empty>) END)
                                                              └── Join left on (t.k = g.k)
                                                                  ├── X
                                                                  └── Aggregate groups=[t2.k] (g)

An outer row without partner sees what the subquery returns over no rows: the
value expression evaluated with count = 0 and every other aggregate NULL
(folded at plan time), so ``count(*)`` subqueries stay 0, not NULL.

Applies to subqueries in a Project's expressions or a Filter's predicate whose
plan is ``Project(one expr) <- Aggregate(no GROUP BY) <- Filter/Scan`` and whose
correlated conjuncts are all ``inner_expr = outer_expr``. Anything else keeps
the per-key evaluation (``exec/subquery.py``).

Example (through EXPLAIN): the subquery runs once, grouped by its key, and is joined.
    >>> import rustmemodb
    >>> c = rustmemodb.connect()
    >>> _ = c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    >>> _ = c.execute("CREATE TABLE u (t_id INTEGER, x FLOAT)")
    >>> sql = "EXPLAIN SELECT v, (SELECT max(x) FROM u WHERE u.t_id = t.id) FROM t"
    >>> [r[0] for r in c.execute(sql).fetchall()][1:4:2]
    ['->  Hash Join  (left on id = key0)  [rows=1]', '  ->  HashAggregate  (group by t_id; max(x))  [rows=1]']
"""
from __future__ import annotations

from ..deep import deep
import dataclasses

from ..plan.walk import map_children, reads_outer
from ..plan.expr import (Call, Case, ColRef, Const, OuterRef, SubqueryExpr, conjoin,
                         conjuncts, make_call, transform)
from ..plan.logical import (LogicalAggregate, LogicalFilter, LogicalJoin, LogicalNode,
                            LogicalProject, LogicalScan)
from .fold_constants import fold


@deep
def decorrelate_scalar_subqueries(plan: LogicalNode, ctx=None) -> LogicalNode:
    plan = map_children(plan, lambda c: decorrelate_scalar_subqueries(c, ctx))
    if isinstance(plan, LogicalProject):
        child, exprs = _rewrite(plan.child, list(plan.exprs))
        return plan if child is plan.child else dataclasses.replace(plan, child=child, exprs=exprs)
    if isinstance(plan, LogicalFilter):
        child, (pred,) = _rewrite(plan.child, [plan.predicate])
        if child is plan.child:
            return plan
        inner = LogicalFilter(child.columns, child, pred)
        return LogicalProject(list(plan.columns), inner,
                              [ColRef(i, t, n) for i, (n, t) in enumerate(plan.columns)])
    return plan


def _rewrite(child: LogicalNode, exprs: list):
    """Join each decorrelatable scalar subquery in ``exprs`` onto ``child``."""
    if all(_nothing_to_join(e) for e in exprs):
        return child, exprs
    found = []
    for e in exprs:
        for n in e.walk():
            if isinstance(n, SubqueryExpr) and n.kind == "scalar" and n.correlated \
                    and n not in found:
                found.append(n)
    for sub in found:
        shape = _shape(sub)
        if shape is None:
            continue
        joined, replacement = _join(child, sub, *shape)
        child = joined
        exprs = [transform(e, lambda n, s=sub, r=replacement: r if n is s else n) for e in exprs]
    return child, exprs


# id(expression) -> (expression, whether no scalar subquery under it has a shape this
# rule joins): a session hands the same bound select items and conditions to statement
# after statement (sql/bind/reuse.py); the answer depends on the expression alone
# (``_shape`` reads only the subquery's plan, and plans are immutable). Entries hold the
# expression, so its id is not reused while it is here; bounded.
_NOTHING: dict = {}
_NOTHING_MAX = 2048


def _nothing_to_join(e, depth: int = 0) -> bool:
    hit = _NOTHING.get(id(e))
    if hit is not None and hit[0] is e:
        return hit[1]
    if depth < 8 and type(e) is Call and (e.fn == "and" or e.fn == "or") and len(e.args) == 2:
        # a new AND/OR of known conditions: answered from its sides
        out = _nothing_to_join(e.args[0], depth + 1) and _nothing_to_join(e.args[1], depth + 1)
    else:
        out = not any(isinstance(n, SubqueryExpr) and n.kind == "scalar" and n.correlated
                      and _shape(n) is not None for n in e.walk())
    if len(_NOTHING) >= _NOTHING_MAX:
        _NOTHING.clear()
    _NOTHING[id(e)] = (e, out)
    return out


def _shape(sub: SubqueryExpr):
    p = sub.plan
    if not (isinstance(p, LogicalProject) and len(p.exprs) == 1):
        return None
    agg = p.child
    if not isinstance(agg, LogicalAggregate) or agg.groups or agg.grouping_sets is not None:
        return None
    if any(_outer(e) for e in [p.exprs[0]] + list(agg.aggregates)):
        return None
    base = agg.child
    if isinstance(base, LogicalFilter):
        parts, below = conjuncts(base.predicate), base.child
        rebuild = lambda rest: LogicalFilter(below.columns, below, conjoin(rest)) if rest else below  # noqa: E731
    elif isinstance(base, LogicalScan) and base.filter is not None and base.index_lookup is None \
            and base.projection is None:
        parts = conjuncts(base.filter)
        rebuild = lambda rest: dataclasses.replace(base, filter=conjoin(rest))  # noqa: E731
    else:
        return None
    keys, rest = [], []
    for c in parts:
        if not _outer(c):
            rest.append(c)
            continue
        pair = _key(c)
        if pair is None:
            return None
        keys.append(pair)
    if not keys:
        return None
    core = rebuild(rest)
    if _plan_reads_outer(core):
        return None
    return core, keys, agg, p.exprs[0]


def _key(c):
    """(inner expr, outer expr) for ``inner = outer``, else None."""
    if not (isinstance(c, Call) and c.fn == "eq"):
        return None
    a, b = c.args
    if _outer(a) and not _outer(b) and _only_outer(a):
        return b, a
    if _outer(b) and not _outer(a) and _only_outer(b):
        return a, b
    return None


def _join(child, sub, core, keys, agg, value):
    nl = len(child.columns)
    k = len(keys)
    groups = [inner for inner, _ in keys]
    cols = [(f"key{i}", g.type) for i, g in enumerate(groups)] + list(agg.columns)
    grouped = LogicalAggregate(cols, core, groups, list(agg.aggregates))
    conds = []
    for i, (inner, outer) in enumerate(keys):
        o = transform(outer, lambda n: sub.correlated[n.index] if isinstance(n, OuterRef) else n)
        conds.append(make_call("eq", [o, ColRef(nl + i, inner.type, f"key{i}")]))
    join = LogicalJoin(list(child.columns) + cols, child, grouped, "left", conjoin(conds))
    matched = make_call("is_not_null", [ColRef(nl, groups[0].type, "key0")])
    hit = transform(value, lambda n: ColRef(n.index + nl + k, n.type, n.name)
                    if isinstance(n, ColRef) else n)
    miss = _empty_value(value, agg)
    replacement = Case(((matched, hit),), miss, sub.type)
    return join, replacement


def _empty_value(value, agg):
    """The subquery's value over no rows: count = 0, other aggregates NULL, folded."""

    def fn(n):
        if isinstance(n, ColRef):
            a = agg.aggregates[n.index]
            return Const(0 if a.fn == "count" else None, n.type)
        return fold(n)
    out = transform(value, fn)
    return out if isinstance(out, Const) else Const(None, value.type)


def _outer(e) -> bool:
    return any(isinstance(n, (OuterRef, SubqueryExpr)) for n in e.walk())


def _only_outer(e) -> bool:
    return all(not isinstance(n, (ColRef, SubqueryExpr)) for n in e.walk()) and \
        all(n.depth == 1 for n in e.walk() if isinstance(n, OuterRef))


def _plan_reads_outer(plan: LogicalNode) -> bool:
    return reads_outer(plan)
