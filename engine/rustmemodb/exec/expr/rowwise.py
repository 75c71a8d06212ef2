"""``map_rows``: a Python row function applied across Arrow values.

The fallback of vectorised evaluation (exec/expr/vector.py) for functions that have only
a row body (user UDFs, rare built-ins), and the row loop many function modules use for
their rare cases. It sits below vector.py and the function modules so that both can
import it at module level.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ...lazy_import import arrow as pa

from ... import infinity, numeric_arrays, statement_limits as limits, types

Value = Any  # pa.Array | pa.ChunkedArray | pa.Scalar


def map_rows(fn: Callable, args: Sequence[Value], n: int | None = None, *, strict: bool = True,
             out_type: pa.DataType | None = None, volatile: bool = False) -> Value:
    """Apply a Python row function across Arrow values (scalars broadcast)."""
    if n is None:
        lengths = [len(a) for a in args if not isinstance(a, pa.Scalar)]
        n = lengths[0] if lengths else 1
        if not lengths and not volatile:
            vals = [_from_arrow(infinity.pyscalar(a), a.type) for a in args]
            res = None if strict and any(v is None for v in vals) else fn(*vals)
            return pa.scalar(res, out_type) if out_type is not None else pa.scalar(res)
    columns = []
    for a in args:
        if isinstance(a, pa.Scalar):
            columns.append([_from_arrow(infinity.pyscalar(a), a.type)] * n)
        elif pa.types.is_interval(a.type):
            columns.append([_from_arrow(v, a.type) for v in infinity.pylist(a)])
        else:
            columns.append(infinity.pylist(a))
    out = []
    check_every = limits.CHECK_EVERY
    for vals in zip(*columns) if columns else ([()] * n):
        if len(out) % check_every == 0:
            limits.check()   # interrupt / statement_timeout inside long row loops
        if strict and None in vals:
            out.append(None)
        else:
            out.append(fn(*vals))
    try:
        return pa.array(_arrow_values(out), type=out_type)
    except pa.ArrowTypeError:
        if out_type is None or not pa.types.is_binary(out_type):
            raise
        # numerics: a body returned a Decimal (a value of the vector form) beside keys
        return numeric_arrays.array_of(_arrow_values(out), out_type)



def _from_arrow(v, t: pa.DataType):
    """Arrow's Python form to ours (intervals become types.Interval)."""
    if v is not None and pa.types.is_interval(t):
        return types.Interval.of(v)
    return v


def _arrow_values(values: list) -> list:
    if any(isinstance(v, types.Interval) for v in values):
        return [None if v is None else pa.MonthDayNano([v.months, v.days, v.micros * 1000])
                for v in values]
    return values
