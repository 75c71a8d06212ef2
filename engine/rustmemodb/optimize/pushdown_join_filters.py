"""Predicate pushdown through joins and projections.

Each conjunct of a WHERE filter moves as far down as it may go:

* above a projection (a view, a FROM subquery, a USING join) it is rewritten in
  terms of the projection's input and moved below it;
* above an inner or cross join, a conjunct reading one side only becomes a
  filter on that side, and one reading both joins the join condition (so a
  comma join with ``WHERE a.x = b.y`` becomes an inner hash join);
* above an outer join only conjuncts over the *preserved* side move (a filter
  on the NULL-extended side would change which rows survive); above a LATERAL
  join, those over its left side;
* inside an inner join's ON, single-side conjuncts move into that side; in an
  outer join's ON, only conjuncts over the NULL-extended side may.

Conjuncts with subqueries or volatile functions stay where they are. This is a
simple heuristic pass; it does not reorder joins or infer transitive keys.

Example:
    >>> from rustmemodb.plan.expr import ColRef, Const, make_call
    >>> from rustmemodb.plan.logical import LogicalFilter, LogicalJoin, LogicalValues
    >>> l = LogicalValues([("a", "INTEGER")], []); r = LogicalValues([("b", "INTEGER")], [])
    >>> j = LogicalJoin(l.columns + r.columns, l, r, "cross")
    >>> f = LogicalFilter(j.columns, j, make_call("eq", [ColRef(0, "INTEGER"), ColRef(1, "INTEGER")]))
    >>> out = pushdown_join_filters(f); (type(out).__name__, out.kind, str(out.condition))
    ('LogicalJoin', 'inner', '(#0 = #1)')
"""
from __future__ import annotations

import dataclasses

from ..plan.expr import (column_refs, conjoin, conjuncts, has_subquery, is_volatile,
                         remap_columns, shift_columns)
from ..plan.logical import (LogicalFilter, LogicalJoin, LogicalLateralJoin, LogicalNode,
                            LogicalProject)
from ..plan.walk import map_children


def pushdown_join_filters(plan: LogicalNode, ctx=None) -> LogicalNode:
    if isinstance(plan, LogicalFilter):
        plan = _push_filter(plan)
    if isinstance(plan, LogicalJoin):
        plan = _push_on(plan)
    return map_children(plan, lambda c: pushdown_join_filters(c, ctx))


def _movable(c) -> bool:
    return not has_subquery(c) and not is_volatile(c)


def _push_filter(f: LogicalFilter) -> LogicalNode:
    child = f.child
    parts = conjuncts(f.predicate)
    if isinstance(child, LogicalFilter):
        return _push_filter(LogicalFilter(f.columns, child.child,
                                          conjoin(conjuncts(child.predicate) + parts)))
    if isinstance(child, LogicalProject):
        return _through_project(f, child, parts)
    if isinstance(child, LogicalJoin):
        return _into_join(f, child, parts)
    if isinstance(child, LogicalLateralJoin):
        return _into_lateral(f, child, parts)
    return f


def _into_lateral(f, j: LogicalLateralJoin, parts) -> LogicalNode:
    """Conjuncts over the left side of a LATERAL join (inner or LEFT: the left side is
    preserved by both) filter its input, so the right side never runs for rows the
    WHERE drops: ``FROM t, jsonb_each(t.doc) WHERE t.id = 1`` reads one document."""
    nl = len(j.left.columns)
    left, keep = [], []
    for c in parts:
        refs = column_refs(c)
        (left if _movable(c) and refs and max(refs) < nl else keep).append(c)
    if not left:
        return f
    new = dataclasses.replace(j, left=_filtered(j.left, left))
    return LogicalFilter(f.columns, new, conjoin(keep)) if keep else new


def _through_project(f, proj: LogicalProject, parts) -> LogicalNode:
    down, keep = [], []
    for c in parts:
        used = [proj.exprs[i] for i in column_refs(c)]
        if _movable(c) and all(_movable(e) and not _has_window(e) for e in used):
            down.append(remap_columns(c, lambda r: proj.exprs[r.index]))
        else:
            keep.append(c)
    if not down:
        return f
    inner = LogicalFilter(proj.child.columns, proj.child, conjoin(down))
    out = dataclasses.replace(proj, child=_push_filter(inner))
    return LogicalFilter(f.columns, out, conjoin(keep)) if keep else out


def _has_window(e) -> bool:
    return any(type(n).__name__ in ("WindowCall", "AggCall") for n in e.walk())


def _into_join(f, j: LogicalJoin, parts) -> LogicalNode:
    nl = len(j.left.columns)
    left, right, cond, keep = [], [], [], []
    kind = j.kind
    for c in parts:
        refs = column_refs(c)
        if not _movable(c):
            keep.append(c)
        elif refs and max(refs) < nl and kind in ("inner", "cross", "left", "semi", "anti"):
            left.append(c)
        elif refs and min(refs) >= nl and kind in ("inner", "cross", "right"):
            right.append(shift_columns(c, -nl))
        elif kind in ("inner", "cross"):
            cond.append(c)
        else:
            keep.append(c)
    if not (left or right or cond):
        return f
    new = dataclasses.replace(
        j, left=_filtered(j.left, left), right=_filtered(j.right, right),
        kind="inner" if cond and kind == "cross" else kind,
        condition=conjoin(conjuncts(j.condition) + cond) if cond else j.condition)
    return LogicalFilter(f.columns, new, conjoin(keep)) if keep else new


def _push_on(j: LogicalJoin) -> LogicalJoin:
    if j.condition is None or j.kind in ("cross", "full"):
        return j
    nl = len(j.left.columns)
    left, right, rest = [], [], []
    for c in conjuncts(j.condition):
        refs = column_refs(c)
        if not _movable(c) or not refs:
            rest.append(c)
        elif max(refs) < nl and j.kind in ("inner", "right", "semi"):
            left.append(c)
        elif min(refs) >= nl and j.kind in ("inner", "left", "semi", "anti"):
            right.append(shift_columns(c, -nl))
        else:
            rest.append(c)
    if not (left or right):
        return j
    return dataclasses.replace(j, left=_filtered(j.left, left), right=_filtered(j.right, right),
                               condition=conjoin(rest), equi_keys=j.equi_keys)


def _filtered(node: LogicalNode, parts) -> LogicalNode:
    if not parts:
        return node
    return _push_filter(LogicalFilter(node.columns, node, conjoin(parts)))
