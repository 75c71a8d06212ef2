"""Vectorised evaluation of bound expressions over an Arrow table.

``evaluate(expr, table, ctx)`` returns a ``pyarrow`` Array/ChunkedArray with one
value per row, or a Scalar when the expression does not depend on the rows
(the caller broadcasts with ``as_array``). Functions come with Arrow bodies; a
function that has only a row body is mapped over the rows (``map_rows``), which
is correct but slow, and is what user UDFs without a vector body get.
"""
from __future__ import annotations

from ...deep import deep
from typing import Any

from ...lazy_import import arrow as pa, compute as pc

from ... import errors, numeric_arrays, types
from ...plan.expr import (Call, Case, Cast, ColRef, Const, Expr, InList, NextVal, CurrVal, SetVal,
                          OuterRef, Param, SubqueryExpr)
from ..semantics import arrow_errors, hash_key
from . import lazy
from .. functions.compare import _vec_align
from .rowwise import map_rows
from ..functions.cast import cast_vector
from ..arrays import repeated
from ... import infinity

Value = Any  # pa.Array | pa.ChunkedArray | pa.Scalar


@deep
def evaluate(expr: Expr, table: pa.Table, ctx) -> Value:
    kind = type(expr)
    if kind is ColRef:
        return table.column(expr.index)
    if kind is Const:
        return const_scalar(expr.value, expr.type)
    if kind is Param:
        return const_scalar(ctx.params[expr.slot], expr.type)
    if kind is Call:
        return _call(expr, table, ctx)
    if kind is Case:
        return _case(expr, table, ctx)
    if kind is Cast:
        return cast_vector(evaluate(expr.arg, table, ctx), expr.arg.type, expr.type)
    if kind is InList:
        return _in_list(expr, table, ctx)
    if kind is SubqueryExpr:
        # a subquery runs a plan whose operators evaluate expressions: mutual recursion
        from ..subquery import evaluate_subquery
        return evaluate_subquery(expr, table, ctx)
    if kind is NextVal:
        drawn = pa.array(ctx.txn.next_values(expr.sequence, table.num_rows), pa.int64())
        if ctx.drawn is None:
            ctx.drawn = {}
        ctx.drawn[expr.sequence] = drawn
        return drawn
    if kind is CurrVal:
        return _currval(expr.sequence, table.num_rows, ctx)
    if kind is SetVal:
        n = table.num_rows
        values = infinity.pylist(as_array(evaluate(expr.value, table, ctx), n))
        called = [True] * n if expr.is_called is None else \
            infinity.pylist(as_array(evaluate(expr.is_called, table, ctx), n))
        return pa.array([None if v is None or c is None else
                         ctx.txn.set_value(expr.sequence, v, c)    # strict, as setval is
                         for v, c in zip(values, called)], pa.int64())
    if kind is OuterRef:
        row = ctx.outer[-expr.depth]
        return const_scalar(row[expr.index], expr.type)
    raise errors.InternalError(f"cannot evaluate {kind.__name__} here")


def _currval(sequence: str, n: int, ctx) -> Value:
    """currval(): each row's own nextval() when the same rows just drew from the
    sequence, else the value this session drew last (55000 if none yet)."""
    drawn = ctx.drawn.get(sequence) if ctx.drawn else None
    if drawn is not None and len(drawn) == n:
        return drawn
    value = (ctx.txn.drawn or {}).get(sequence)
    if value is None:
        raise errors.sql_error(
            "55000", f'currval of sequence "{sequence}" is not yet defined in this session')
    return pa.scalar(value, pa.int64())


def const_scalar(value, sql_type: str) -> pa.Scalar:
    if sql_type in (types.NULL, types.UNKNOWN):
        return pa.scalar(None, pa.null()) if value is None else pa.scalar(value)
    if sql_type == types.INTERVAL and value is not None:
        return pa.scalar(pa.MonthDayNano([value.months, value.days, value.micros * 1000]),
                         pa.month_day_nano_interval())
    return pa.scalar(value, types.arrow_type(sql_type))


def as_array(value: Value, n: int) -> pa.Array | pa.ChunkedArray:
    """Broadcast a scalar to ``n`` rows; arrays pass through."""
    if isinstance(value, pa.Scalar):
        return repeated(value, n)
    return value


def _call(expr: Call, table, ctx) -> Value:
    fn = expr.impl
    name = expr.fn
    if (name == "and" or name == "or" or name == "coalesce") and len(expr.args) > 1 \
            and table.num_rows and any(lazy.can_raise(a) for a in expr.args[1:]):
        # later operands only on the rows that reach them (exec/expr/lazy.py)
        if name == "coalesce":
            return lazy.coalesce(expr.args, table, ctx, evaluate, types.arrow_type(expr.type))
        return lazy.and_or(name, expr.args, table, ctx, evaluate)
    args = [evaluate(a, table, ctx) for a in expr.args]
    if fn.vector is None:
        return map_rows(fn.row, args, table.num_rows, strict=fn.strict,
                        out_type=types.arrow_type(expr.type), volatile=fn.volatile)
    out = fn.vector(*args)
    if pa.types.is_null(out.type) and expr.type not in (types.NULL, types.UNKNOWN):
        # a row-by-row kernel over no rows (or NULLs only) cannot tell its type: the
        # next kernel wants the declared one (date_trunc of an empty t + interval)
        try:
            wanted = types.arrow_type(expr.type)
        except KeyError:        # (a type known by name only, as an enum's: left as is)
            return out
        if not pa.types.is_null(wanted):
            return out.cast(wanted)
    return out


def _case(expr: Case, table, ctx) -> Value:
    out_type = types.arrow_type(expr.type)
    if table.num_rows and lazy.can_raise(expr):
        # each arm only on the rows that reach it (exec/expr/lazy.py)
        return lazy.case(expr, table, ctx, evaluate, out_type)
    result = (evaluate(expr.default, table, ctx) if expr.default is not None
              else pa.scalar(None, out_type))
    result = _cast_to(result, out_type)
    for cond, value in reversed(expr.whens):
        c = evaluate(cond, table, ctx)
        c = pc.fill_null(c, False)
        v = _cast_to(evaluate(value, table, ctx), out_type)
        result = pc.if_else(c, v, result)
    return result


def _cast_to(v: Value, t: pa.DataType) -> Value:
    return v if v.type == t else numeric_arrays.cast_to(v, t)


@arrow_errors
def _in_list(expr: InList, table, ctx) -> Value:
    arg = evaluate(expr.arg, table, ctx)
    values = [evaluate(v, table, ctx) for v in expr.values]
    forms = {x.type for x in (arg, *values) if numeric_arrays.is_numeric_form(x.type)}
    if len(forms) > 1:
        # numerics in more than one form (decimal128 of some scale, keys): all as keys,
        # compared by value below
        arg, values = numeric_arrays.as_keys(arg), [numeric_arrays.as_keys(v) for v in values]
    if all(isinstance(v, pa.Scalar) for v in values) and len(values) > 4 and \
            not isinstance(arg, pa.Scalar):
        valid = [v for v in values if v.is_valid]
        has_null = len(valid) != len(values)
        value_set = pa.array([infinity.pyscalar(v) for v in valid], type=arg.type if valid else None)
        hit = pc.is_in(hash_key(arg), value_set=hash_key(value_set.cast(arg.type)) if valid
                       else pa.array([], arg.type))
        hit = pc.if_else(pc.is_null(arg), pa.scalar(None, pa.bool_()), hit)
        if has_null:  # x IN (.., NULL) is NULL, never false
            hit = pc.if_else(hit, True, pa.scalar(None, pa.bool_()))
    else:
        hit = None
        for v in values:
            a, b = _vec_align(arg, v)
            if pa.types.is_binary(a.type):     # numerics by value, not scale (numeric.py)
                a, b = hash_key(a), hash_key(b)
            eq = pc.equal(a, b)
            hit = eq if hit is None else pc.or_kleene(hit, eq)
    return pc.invert(hit) if expr.negated else hit


