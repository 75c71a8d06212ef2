"""Row-path evaluation: a bound expression compiled once into a Python closure.

Point statements (``WHERE id = $1``, single-row INSERT/UPDATE) touch one or a
few rows; an Arrow kernel costs 7-220 µs per call even on one row, a Python
closure well under a microsecond (ENGINE-MEASUREMENTS §2). ``compile_row``
returns ``f(row, params) -> value`` or raises ``RowPathUnsupported`` for shapes
only the vector path handles (subqueries), in which case the planner keeps the
vector path.
"""
from __future__ import annotations

from ...deep import deep
from typing import Callable

from ...plan.expr import Call, Case, Cast, ColRef, Const, Expr, InList, Param, depth_exceeds
from ..functions.cast import cast_row
from ... import types

RowFn = Callable[[tuple, list], object]


class RowPathUnsupported(Exception):
    pass


@deep
def compile_row(expr: Expr) -> RowFn:
    kind = type(expr)
    if kind is ColRef:
        i = expr.index
        return lambda row, params: row[i]
    if kind is Const:
        v = expr.value
        return lambda row, params: v
    if kind is Param:
        slot = expr.slot
        return lambda row, params: params[slot]
    if kind is Call:
        return _compile_call(expr)
    if kind is Cast:
        arg, src, dst = compile_row(expr.arg), expr.arg.type, expr.type
        return lambda row, params: cast_row(arg(row, params), src, dst)
    if kind is Case:
        return _compile_case(expr)
    if kind is InList:
        return _compile_in(expr)
    compiled = getattr(expr, "row_fn", None)   # a node compiled by its maker (row_ops)
    if compiled is not None:
        return compiled
    raise RowPathUnsupported(kind.__name__)


def _compile_call(expr: Call) -> RowFn:
    fn = expr.impl
    if expr.fn in ("and", "or", "coalesce") and len(expr.args) > 1:
        return _compile_lazy(expr)
    body = fn.row
    if body is None:
        raise RowPathUnsupported(expr.fn)
    if fn.strict and len(expr.args) == 2:
        leaf = _leaf_call2(body, *expr.args)
        if leaf is not None:
            return leaf
    args = [compile_row(a) for a in expr.args]
    if fn.strict:
        if len(args) == 2:
            a0, a1 = args

            def call2(row, params):
                x = a0(row, params)
                if x is None:
                    return None
                y = a1(row, params)
                return None if y is None else body(x, y)
            return call2

        def call(row, params):
            vals = [a(row, params) for a in args]
            return None if None in vals else body(*vals)
        return call
    return lambda row, params: body(*[a(row, params) for a in args])


def _leaf_call2(body, a: Expr, b: Expr) -> RowFn | None:
    """A strict two-argument call whose arguments are a column and a column, a constant
    or a parameter (``x.b < t1.b``, ``a + 1``, ``id = $1``): one closure reading them in
    place, where the general one calls a closure per argument for every row (filters of
    small tables and correlated subqueries evaluate these most). Same order, same NULL
    rule: the left value first, NULL on either side gives NULL without calling ``body``.
    Anything else: None."""
    ka, kb = type(a), type(b)
    if ka is ColRef:
        i = a.index
        if kb is ColRef:
            j = b.index

            def col_col(row, params):
                x = row[i]
                if x is None:
                    return None
                y = row[j]
                return None if y is None else body(x, y)
            return col_col
        if kb is Const:
            y = b.value
            if y is None:
                return lambda row, params: None

            def col_const(row, params):
                x = row[i]
                return None if x is None else body(x, y)
            return col_const
        if kb is Param:
            s = b.slot

            def col_param(row, params):
                x = row[i]
                if x is None:
                    return None
                y = params[s]
                return None if y is None else body(x, y)
            return col_param
        return None
    if ka is Const and kb is ColRef:
        x = a.value
        j = b.index
        if x is None:
            return lambda row, params: None

        def const_col(row, params):
            y = row[j]
            return None if y is None else body(x, y)
        return const_col
    return None


def _compile_lazy(expr: Call) -> RowFn:
    """AND/OR/COALESCE evaluating later operands only when they decide the result, as
    PostgreSQL does (``a <> 0 AND 100 / a > 1`` never divides by zero)."""
    args = [compile_row(a) for a in expr.args]
    if expr.fn == "coalesce":
        def coalesce(row, params):
            for a in args:
                v = a(row, params)
                if v is not None:
                    return v
            return None
        return coalesce
    a0, a1 = args
    return lazy_pair(expr.fn, a0, a1)


def lazy_pair(fn: str, a0: RowFn, a1: RowFn) -> RowFn:
    """The closure of ``a0 AND a1`` (``fn`` "and") or ``a0 OR a1`` ("or") over the closures
    of its sides, three-valued, the right side evaluated only when it decides."""
    if fn == "and":
        def and_(row, params):
            x = a0(row, params)
            if x is False:
                return False
            y = a1(row, params)
            if y is False:
                return False
            return None if x is None or y is None else True
        return and_

    def or_(row, params):
        x = a0(row, params)
        if x is True:
            return True
        y = a1(row, params)
        if y is True:
            return True
        return None if x is None or y is None else False
    return or_


def _compile_case(expr: Case) -> RowFn:
    whens = [(compile_row(c), compile_row(v)) for c, v in expr.whens]
    default = compile_row(expr.default) if expr.default is not None else (lambda r, p: None)

    def case(row, params):
        for cond, value in whens:
            if cond(row, params) is True:
                return value(row, params)
        return default(row, params)
    return case


def numeric_value(fn: RowFn) -> RowFn:
    """A numeric row function's key without its scale (numeric.value_part)."""
    def value(row, params):
        key = fn(row, params)
        return None if key is None else types.numeric.value_part(key)
    return value


def _compile_in(expr: InList) -> RowFn:
    arg = compile_row(expr.arg)
    values = [compile_row(v) for v in expr.values]
    negated = expr.negated
    if expr.arg.type == types.NUMERIC:     # by value, not scale (numeric.py)
        arg = numeric_value(arg)
        values = [numeric_value(v) for v in values]

    def in_list(row, params):
        x = arg(row, params)
        if x is None:
            return None
        saw_null = False
        for v in values:
            y = v(row, params)
            if y is None:
                saw_null = True
            elif x == y:
                return not negated
        return None if saw_null else negated
    return in_list


# Row functions are nested closures: evaluating one recurses once per tree level for every
# row, where no hop to a fresh stack (deep.py) is affordable. Deeper expressions take the
# vectorized path, which recurses once per batch.
MAX_ROW_DEPTH = 64


def try_compile_row(expr: Expr) -> RowFn | None:
    if depth_exceeds(expr, MAX_ROW_DEPTH):
        return None
    try:
        return compile_row(expr)
    except RowPathUnsupported:
        return None
