"""PostgreSQL's trigonometric functions on double precision: sin, cos, tan, cot, asin,
acos, atan, atan2, their degree forms (sind ... atan2d) and the hyperbolic ones (sinh ...
atanh). Analysts reach for them first in distance formulas (haversine).

An argument outside a function's domain (``asin(2)``, ``acosh(0.5)``) is 22003 "input is
out of range", as in PostgreSQL, never a NaN; NaN in gives NaN out and infinities follow
PostgreSQL (``sin('Infinity')`` is out of range, ``atan('Infinity')`` is pi/2). The row
path uses ``math``; the Arrow path maps the same row function, so both agree exactly.
"""
from __future__ import annotations

import math

from ...lazy_import import arrow as pa

from ... import errors, types
from ..expr.rowwise import map_rows
from .registry import ScalarFunction

F, I, N = types.FLOAT, types.INTEGER, types.NULL


def _out_of_range() -> errors.Error:
    return errors.sql_error("22003", "input is out of range")


def _guard(fn):
    """``fn`` with PostgreSQL's domain errors: a ValueError from math, or a finite
    argument giving an infinite result, is 22003."""
    def row(*args):
        args = [float(a) for a in args]
        try:
            out = fn(*args)
        except (ValueError, OverflowError):
            if any(math.isnan(a) for a in args):
                return math.nan
            raise _out_of_range() from None
        if math.isinf(out) and all(math.isfinite(a) for a in args):
            raise _out_of_range()
        return out
    return row


def _cot(x: float) -> float:
    t = math.tan(x)
    return math.inf if t == 0 else 1.0 / t


def _degrees_in(fn):
    return lambda x: fn(math.radians(x))


def _degrees_out(fn):
    return lambda *a: math.degrees(fn(*a))


def _exact_sind(x: float) -> float:
    """sind(30) is 0.5 exactly, as PostgreSQL makes the multiples of 30 and 45 degrees."""
    r = math.fmod(x, 360.0)
    exact = {0.0: 0.0, 30.0: 0.5, 90.0: 1.0, 150.0: 0.5, 180.0: 0.0, 210.0: -0.5, 270.0: -1.0,
             330.0: -0.5}
    return exact.get(r % 360.0, math.sin(math.radians(x)))


def _exact_cosd(x: float) -> float:
    return _exact_sind(x + 90.0)


_ONE = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "cot": _cot,
    "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "sind": _exact_sind, "cosd": _exact_cosd, "tand": _degrees_in(math.tan),
    "cotd": _degrees_in(_cot),
    "asind": _degrees_out(math.asin), "acosd": _degrees_out(math.acos),
    "atand": _degrees_out(math.atan),
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "asinh": math.asinh, "acosh": math.acosh, "atanh": math.atanh,
}
_TWO = {"atan2": math.atan2, "atan2d": _degrees_out(math.atan2)}


def _resolver(arity: int):
    return lambda ts: F if len(ts) == arity and all(t in (I, F, N) for t in ts) else None


def _vector(row):
    # pyarrow is touched only when a column is computed (start-up stays without it)
    return lambda *args: map_rows(row, args, out_type=pa.float64())


def register(reg) -> None:
    for table, arity in ((_ONE, 1), (_TWO, 2)):
        for name, fn in table.items():
            row = _guard(fn)
            reg.add(ScalarFunction(name, _resolver(arity), _vector(row), row))
