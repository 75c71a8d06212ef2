"""Evaluating subquery expressions over a batch of outer rows.

An uncorrelated subquery runs once per statement (memoised in the context) and
its result is applied to the whole batch with vector kernels: ``x IN (...)``
becomes one ``is_in`` plus SQL's NULL rules, ``x > ALL (...)`` one comparison
with the subquery's max, and so on.

A correlated subquery that the optimizer could not turn into a join
(``optimize/decorrelate_subqueries``) runs once per *distinct* combination of
the outer values it reads, with that combination pushed on ``ctx.outer`` as a
frame; the rows sharing a combination get the answer together. That is
correct for any shape, and as fast as the number of distinct keys allows
(each run costs a few Arrow operators, ~0.2 ms).

NULL rules (PostgreSQL): ``x IN (S)`` is true on a match, else NULL when x is
NULL or S holds a NULL (and S is not empty), else false; ``op ALL`` over an
empty S is true and ``op ANY`` false, whatever x is. A scalar subquery with no
row is NULL and with several rows is error ``21000``.
"""
from __future__ import annotations

from ..deep import deep
import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc, kernel
from .arrays import contiguous

from .. import errors, numeric_arrays as na, types
from ..plan.expr import OuterRef, SubqueryExpr
from .expr.vector import as_array, evaluate
from .run import run_plan
from .semantics import hash_key, jsonb_hash_columns
from .subquery_range import range_subquery
from ..plan.expr import Expr
from ..plan.logical import LogicalNode
from .. import infinity


def evaluate_subquery(expr: SubqueryExpr, table: pa.Table, ctx):
    n = table.num_rows
    arg = evaluate(expr.arg, table, ctx) if expr.arg is not None else None
    if not expr.correlated:
        result = _run_memo(expr, (), ctx)
        return _apply(expr, result, arg, n)
    keys = [as_array(evaluate(c, table, ctx), n) for c in expr.correlated]
    if n > 1 and expr.kind == "scalar":
        ranged = range_subquery(expr, keys, n, ctx)    # one inequality: sorted prefixes
        if ranged is not None:
            return ranged
    return _per_key(expr, keys, arg, n, ctx)


def _run_memo(expr: SubqueryExpr, frame: tuple, ctx) -> pa.Table:
    """The subquery's rows for one outer frame, memoised for the statement."""
    depth = _escape_depth(expr, ctx)
    outer = tuple(ctx.outer[len(ctx.outer) - k] for k in range(1, depth)) if depth > 1 else ()
    key = ("subquery", id(expr), frame, outer)
    memo = ctx.cte_results
    hit = memo.get(key)
    if hit is not None:
        return hit
    ctx.outer.append(frame)     # always a frame: nested OuterRefs count levels
    try:
        out = run_plan(expr.plan, ctx)
    finally:
        ctx.outer.pop()
    memo[key] = out
    return out


def _escape_depth(expr: SubqueryExpr, ctx) -> int:
    """How many enclosing levels the subquery reads (1 = only its own frame)."""
    key = ("escape", id(expr))
    got = ctx.cte_results.get(key)
    if got is None:
        got = _max_depth(expr.plan, 0)
        ctx.cte_results[key] = got
    return got


@deep
def _max_depth(plan, level: int) -> int:
    import dataclasses
    best = 0

    def visit_value(v, level):
        nonlocal best
        if isinstance(v, LogicalNode):
            best = max(best, _max_depth(v, level))
        elif isinstance(v, Expr):
            for n in v.walk():
                if isinstance(n, OuterRef):
                    best = max(best, n.depth - level)
                elif isinstance(n, SubqueryExpr):
                    best = max(best, _max_depth(n.plan, level + 1))
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit_value(x, level)
        elif getattr(v, "correlated", False) is True and isinstance(getattr(v, "plan", None),
                                                                    LogicalNode):
            best = max(best, _max_depth(v.plan, level))    # a WITH query reading outer rows
    for f in dataclasses.fields(plan):
        visit_value(getattr(plan, f.name), level)
    return best


def _per_key(expr, keys, arg, n, ctx):
    """Run once per distinct outer key combination; scatter the answers back."""
    cols = [frozen_values(k) for k in keys]
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(*cols)):
        groups.setdefault(key, []).append(i)
    out_type = types.arrow_type(expr.type)
    pieces, order = [], []
    for key, rows in groups.items():
        ctx.check_cancel()
        result = _run_memo(expr, key, ctx)
        idx = pa.array(rows, pa.int64())
        sub_arg = None
        if arg is not None:
            sub_arg = arg if isinstance(arg, pa.Scalar) else arg.take(idx)
        value = _apply(expr, result, sub_arg, len(rows))
        pieces.append(as_array(value, len(rows)).cast(out_type))
        order.append(rows)
    if not pieces:
        return pa.array([], out_type)
    values = pa.concat_arrays([contiguous(p) for p in pieces])
    positions = np.concatenate([np.asarray(r, np.int64) for r in order])
    inverse = np.empty(n, np.int64)
    inverse[positions] = np.arange(n, dtype=np.int64)
    return values.take(pa.array(inverse))


def frozen_values(column) -> list:
    """A column's values as dict keys: arrays (lists) become tuples."""
    values = infinity.pylist(column)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return [None if v is None else tuple(v) for v in values]
    return values


# ---- applying a subquery result to the outer values ------------------------------------

def _apply(expr: SubqueryExpr, result: pa.Table, arg, n: int):
    kind = expr.kind
    if kind == "scalar":
        if result.num_rows > 1:
            raise errors.sql_error("21000", "more than one row returned by a subquery used as "
                                            "an expression")
        t = types.arrow_type(expr.type)
        if result.num_rows == 0:
            return pa.scalar(None, t)
        return result.column(0)[0].cast(t)
    if kind == "exists":
        return pa.scalar(result.num_rows > 0, pa.bool_())
    if kind == "array":          # ARRAY(SELECT ...): the column, in the subquery's order
        t = types.arrow_type(expr.type)
        return pa.scalar(infinity.pylist(result.column(0).cast(t.value_type)), t)
    values = result.column(0)
    if expr.arg is not None and expr.arg.type == types.JSON and (
            kind == "in" or kind in ("any:eq", "all:ne")):
        # jsonb matched by hash key: {"a": 1.0} IN (SELECT '{"a": 1}') is true
        arg, values = jsonb_hash_columns([arg, values], [types.JSON, types.JSON])[0]
    if kind == "in":
        return _quantified("any", "eq", arg, values)
    quant, op = kind.split(":")
    return _quantified(quant, op, arg, values)


_CMP = {"eq": kernel("equal"), "ne": kernel("not_equal"), "lt": kernel("less"), "le": kernel("less_equal"),
        "gt": kernel("greater"), "ge": kernel("greater_equal")}


def _quantified(quant: str, op: str, arg, values):
    """``arg op ANY/ALL (values)`` with SQL's three-valued rules, vectorised."""
    total = len(values)
    if total == 0:
        return pa.scalar(quant == "all", pa.bool_())
    values = contiguous(values)
    has_null = values.null_count > 0
    valid = values.drop_null()
    arg = _align(arg, valid.type)
    core = _core(quant, op, arg, valid)
    # ANY: true if core, else NULL if unknowns exist, else false.
    # ALL: false if not core, else NULL if unknowns exist, else true.
    decided = core if quant == "any" else pc.invert(core)
    unknown = pc.is_null(arg)
    if has_null:
        unknown = pc.or_(unknown, pa.scalar(True))
    if quant == "any":
        out = pc.if_else(pc.fill_null(decided, False), True,
                         pc.if_else(unknown, pa.scalar(None, pa.bool_()), False))
    else:
        out = pc.if_else(pc.fill_null(decided, False), False,
                         pc.if_else(unknown, pa.scalar(None, pa.bool_()), True))
    return out


def _same_numeric_form(arg, valid):
    """Numerics of two forms or scales (decimal128 of another scale, keys) as keys, whose
    hash_key is the value without its scale: 2.50 IN (SELECT 2.5) is true."""
    forms = [x.type for x in (arg, valid)]
    if forms[0] != forms[1] and all(na.is_numeric_form(t) for t in forms):
        return na.as_keys(arg), na.as_keys(valid)
    return arg, valid


def _align(arg, t):
    if arg.type == t:
        return arg
    if pa.types.is_null(arg.type):
        return arg.cast(t)
    if pa.types.is_date(arg.type) and pa.types.is_timestamp(t):
        return pc.cast(arg, t)
    return arg


def _core(quant: str, op: str, arg, valid):
    """Whether some (ANY) / every (ALL) non-NULL value satisfies ``arg op value``."""
    if len(valid) == 0:
        return pa.scalar(quant == "all", pa.bool_())
    if op in ("eq", "ne") and ((quant, op) in (("any", "eq"), ("all", "ne"))):
        arg, valid = _same_numeric_form(arg, valid)
        hit = pc.is_in(hash_key(arg), value_set=pc.unique(hash_key(valid)))
        return hit if op == "eq" else pc.invert(hit)
    lo, hi = pc.min(valid), pc.max(valid)
    if op == "eq":   # ALL equal: every value equals arg
        return pc.and_(pc.equal(arg, lo), pc.equal(arg, hi))
    if op == "ne":   # ANY different: not all values equal arg
        return pc.or_(pc.not_equal(arg, lo), pc.not_equal(arg, hi))
    if quant == "any":
        bound = lo if op in ("gt", "ge") else hi
    else:
        bound = hi if op in ("gt", "ge") else lo
    return _CMP[op](arg, bound)
