"""Scalar aggregate subqueries correlated by one inequality, answered for every outer row
at once: sort the inner rows once, then prefix sums and ``searchsorted``.

    SELECT ... WHERE c > (SELECT avg(c) FROM t AS x WHERE x.b < t.b AND ...)

The optimizer turns equality correlation into joins; an inequality it cannot, so
exec/subquery.py would run the subquery once per distinct outer value (a scan and an
aggregate each, ~0.5-1 ms: seconds on a few thousand keys). When the subquery is
``Aggregate(count|sum|avg|min|max, no GROUP BY)`` over a scan or filter whose only
outer reference is one conjunct ``inner op outer`` (op one of < <= > >=), the inner rows
matching for an outer value are a prefix or a suffix of the inner rows sorted by
``inner``: the subquery without that conjunct runs once, and each aggregate is read from
prefix (or suffix) arrays at the position ``searchsorted`` gives. Anything else returns
None and the per-key path runs. NULLs follow SQL: an inner or outer NULL never
compares true (count 0, other aggregates NULL); NULL aggregate inputs are skipped.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from .arrays import contiguous
from .. import numeric, types
from ..plan.expr import (AggCall, Call, ColRef, Expr, OuterRef, SubqueryExpr, conjoin,
                         conjuncts)
from ..plan.logical import (LogicalAggregate, LogicalFilter, LogicalNode, LogicalProject,
                            LogicalScan)
from .expr.vector import as_array, evaluate
from .run import run_plan

_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_AGGS = ("count", "sum", "avg", "min", "max")


def range_subquery(expr: SubqueryExpr, keys: list, n: int, ctx) -> pa.Array | None:
    """The subquery's value for each of the ``n`` outer rows, or None (shape not handled)."""
    if expr.kind != "scalar" or len(keys) != 1:
        return None
    shape = _shape(expr.plan)
    if shape is None:
        return None
    agg, inner_plan, inner_expr, op = shape
    outer = keys[0]
    if not (_numeric(outer.type) and _numeric(inner_expr.type)):
        return None
    if _plan_reads_outer(inner_plan):    # something else in it still reads outer rows
        return None
    table = run_plan(inner_plan, ctx)
    m = table.num_rows
    iv = as_array(evaluate(inner_expr, table, ctx), m)
    av = None if agg.star else as_array(evaluate(agg.args[0], table, ctx), m)
    if not (_numeric(iv.type) and (av is None or _numeric(av.type))):
        return None
    ivals, inull = _np(iv)
    ovals, onull = _np(outer)
    if _has_nan(ivals) or _has_nan(ovals) or (av is not None and _has_nan(_np(av)[0])):
        return None                     # NaN sorts above numbers in SQL, not in numpy
    keep = ~inull
    ivals = ivals[keep]
    order = np.argsort(ivals, kind="stable")
    sv = ivals[order]
    if av is not None:
        avals, anull = _np(av)
        avals, avalid = avals[keep][order], ~anull[keep][order]
    else:
        avals, avalid = None, np.ones(len(sv), bool)
    prefix = op in ("lt", "le")
    side = "left" if op in ("lt", "ge") else "right"
    cut = np.searchsorted(sv, ovals, side=side)
    # rows matching an outer value: sorted[:cut] (prefix ops) or sorted[cut:] (suffix)
    take = cut if prefix else len(sv) - cut
    if not prefix:                      # a suffix is a prefix of the reversed order
        avalid = avalid[::-1]
        avals = None if avals is None else avals[::-1]
    return _aggregate(agg, expr.type, take, onull, avals, avalid)


def _shape(plan):
    """(aggregate call, inner plan without the correlated conjunct, inner expression,
    operator as ``inner op outer``) or None."""
    if isinstance(plan, LogicalProject):
        if len(plan.exprs) != 1 or type(plan.exprs[0]) is not ColRef or plan.exprs[0].index:
            return None
        plan = plan.child
    if not isinstance(plan, LogicalAggregate) or plan.groups or plan.grouping_sets is not None \
            or len(plan.aggregates) != 1:
        return None
    agg = plan.aggregates[0]
    if not isinstance(agg, AggCall) or agg.fn not in _AGGS or agg.distinct or \
            agg.filter is not None or agg.order_by or (agg.star and agg.fn != "count"):
        return None
    child = plan.child
    if isinstance(child, LogicalScan) and child.index_lookup is None and \
            child.projection is None and not child.with_rowid:
        predicate = child.filter
    elif isinstance(child, LogicalFilter):
        predicate = child.predicate
    else:
        return None
    found = None
    rest = []
    for part in conjuncts(predicate):
        if not _reads_outer(part):
            rest.append(part)
            continue
        if found is not None:
            return None
        found = _inequality(part)
        if found is None:
            return None
    if found is None:
        return None
    inner_expr, op = found
    if isinstance(child, LogicalScan):
        inner_plan = dataclasses.replace(child, filter=conjoin(rest))
    else:
        inner_plan = dataclasses.replace(child, predicate=conjoin(rest)) if rest else child.child
    return agg, inner_plan, inner_expr, op


def _plan_reads_outer(plan) -> bool:
    """Whether any expression in the plan holds an outer reference or a subquery
    (iterative walk over the nodes' dataclass fields)."""
    stack = [plan]
    while stack:
        v = stack.pop()
        if isinstance(v, LogicalNode):
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))
        elif isinstance(v, Expr):
            if _reads_outer(v):
                return True
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return False


def _inequality(part):
    """(inner expression, op) for ``inner op outer`` / ``outer op inner``, else None."""
    if not isinstance(part, Call) or part.fn not in _FLIP or len(part.args) != 2:
        return None
    a, b = part.args
    if _is_key(b) and not _reads_outer(a):
        return a, part.fn
    if _is_key(a) and not _reads_outer(b):
        return b, _FLIP[part.fn]
    return None


def _is_key(e) -> bool:
    return isinstance(e, OuterRef) and e.depth == 1 and e.index == 0


def _reads_outer(e) -> bool:
    return any(isinstance(x, (OuterRef, SubqueryExpr)) for x in e.walk())


def _numeric(t) -> bool:
    if isinstance(t, str):
        return t in (types.INTEGER, types.FLOAT)
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _np(col) -> tuple[np.ndarray, np.ndarray]:
    """(values with NULLs as 0, NULL mask)."""
    col = contiguous(col)
    nulls = col.is_null().to_numpy(zero_copy_only=False) if col.null_count \
        else np.zeros(len(col), bool)
    return col.fill_null(0).to_numpy(zero_copy_only=False), nulls


def _has_nan(v: np.ndarray) -> bool:
    return v.dtype.kind == "f" and bool(np.isnan(v).any())


def _aggregate(agg: AggCall, out_type: str, take: np.ndarray, onull: np.ndarray,
               avals, avalid: np.ndarray) -> pa.Array | None:
    """Each outer row's aggregate over the first ``take`` inner rows (in sorted order)."""
    counts = np.concatenate(([0], np.cumsum(avalid)))[take]
    counts[onull] = 0
    arrow_type = types.arrow_type(out_type)
    if agg.fn == "count":
        return pa.array(counts.astype(np.int64), arrow_type)
    empty = counts == 0
    vals = np.where(avalid, avals, 0)
    if agg.fn in ("sum", "avg"):
        if vals.dtype.kind in "iu":
            if len(vals) and float(np.abs(vals).max()) * len(vals) >= 2.0 ** 62:
                return None             # an int64 prefix sum could wrap: per-key path
            sums = np.concatenate(([0], np.cumsum(vals, dtype=np.int64)))[take]
        else:
            sums = np.concatenate(([0.0], np.cumsum(vals, dtype=np.float64)))[take]
        if agg.fn == "avg" and out_type == types.NUMERIC:    # avg(integer): numeric
            keys = numeric.average_keys(sums.tolist(), counts.tolist())
            return pa.array([None if e else k for k, e in zip(keys, empty.tolist())],
                            arrow_type)
        if agg.fn == "avg":
            with np.errstate(divide="ignore", invalid="ignore"):
                out = sums / np.maximum(counts, 1)
            return pa.array(out, arrow_type, mask=empty)
        return pa.array(sums, arrow_type, mask=empty)
    # min / max: running extremes over the valid values, NULL inputs neutral
    if vals.dtype.kind == "f":
        fill = np.inf if agg.fn == "min" else -np.inf
    else:
        info = np.iinfo(vals.dtype)
        fill = info.max if agg.fn == "min" else info.min
    run = np.where(avalid, vals, fill)
    run = (np.minimum if agg.fn == "min" else np.maximum).accumulate(run) if len(run) else run
    out = np.concatenate(([fill], run)).astype(run.dtype)[take]
    return pa.array(out, arrow_type, mask=empty)
