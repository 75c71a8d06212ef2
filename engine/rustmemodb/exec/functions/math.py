"""Math functions: abs, sign, round, ceil/floor/trunc, sqrt/cbrt, power, exp/ln/log, pi, random.

PostgreSQL's rules kept here: ``round(float)`` rounds halves to even (float8
round uses rint), while ``round(x, n)`` — which PostgreSQL computes in NUMERIC —
rounds halves away from zero; ``abs``/``sign``/``ceil``/``floor``/``trunc``/
``round`` keep an INTEGER an INTEGER; everything transcendental returns FLOAT.
Domain errors are PostgreSQL's: ``sqrt(-1)`` and ``power(0, -1)`` are ``2201F``,
``ln(0)`` is ``2201E``; overflow is ``22003``.
"""
from __future__ import annotations

import math
import random as _random

from ...lazy_import import arrow as pa, compute as pc, numpy as np, kernel

from ... import errors, numeric, types
from ..semantics import arrow_errors, round_half_away, round_half_away_row
from .registry import ScalarFunction, fixed
from ..expr.rowwise import map_rows
from ..typmods import INT_RANGES, fit_array, fit_numeric, fit_real, int_out_of_range

I, F, N = types.INTEGER, types.FLOAT, types.NULL


def _same_numeric(ts):
    return ts[0] if len(ts) == 1 and ts[0] in (I, F) else (I if ts == [N] else None)


def _float_of(ts, arity=1):
    return F if len(ts) == arity and all(t in (I, F, N) for t in ts) else None


def _f(v):
    return pc.cast(v, pa.float64(), safe=False) if v.type != pa.float64() else v


def _any(pred_array) -> bool:
    if isinstance(pred_array, pa.Scalar):
        return pred_array.as_py() is True
    return bool(pc.any(pred_array).as_py())


# ---- rounding --------------------------------------------------------------------------

def _round_resolve(ts):
    if len(ts) == 1:
        return _same_numeric(ts)
    # The binder widens an integer literal beside a FLOAT (round(x, 2)): accept F digits.
    # round(integer, n) is PostgreSQL's round(numeric, n) (7.00, not 7): numeric_ops has it.
    if len(ts) == 2 and ts[0] in (F, N) and ts[1] in (I, F, N):
        return F
    return None


@arrow_errors
def _round_vec(x, n=None):
    if n is None:
        if pa.types.is_integer(x.type):
            return x
        return pc.round(x, 0, round_mode="half_to_even")
    if not isinstance(n, pa.Scalar):
        return map_rows(_round_row, [x, n])
    if not n.is_valid:
        return pa.scalar(None, x.type) if isinstance(x, pa.Scalar) else pa.nulls(len(x), x.type)
    digits = _digits(n.as_py())
    if pa.types.is_integer(x.type):
        if digits >= 0:
            return x
        return pc.cast(round_half_away(_f(x), digits), pa.int64())
    return round_half_away(x, digits)


def _digits(n) -> int:
    """A digit count: a float one must be finite (PostgreSQL: integer out of range)."""
    if isinstance(n, float) and not math.isfinite(n):
        raise errors.numeric_out_of_range("integer")
    return int(n)


def _round_row(x, n=None):
    if n is None:
        return x if isinstance(x, int) else float(np.rint(x))
    out = round_half_away_row(float(x), _digits(n))
    return int(out) if isinstance(x, int) else out


def _unary_keep(kernel, row):
    @arrow_errors
    def vec(x):
        if pa.types.is_integer(x.type):
            return x
        return kernel(x)
    return vec, row


def _trunc_resolve(ts):
    return _round_resolve(ts)


@arrow_errors
def _trunc_vec(x, n=None):
    if pa.types.is_integer(x.type) and (n is None or (isinstance(n, pa.Scalar) and n.is_valid
                                                      and n.as_py() >= 0)):
        return x
    if n is None:
        return pc.trunc(x)
    if not isinstance(n, pa.Scalar):
        return map_rows(_trunc_row, [x, n])
    scale = 10.0 ** int(n.as_py())
    out = pc.divide(pc.trunc(pc.multiply(_f(x), scale)), scale)
    return pc.cast(out, pa.int64()) if pa.types.is_integer(x.type) else out


def _trunc_row(x, n=None):
    if n is None:
        return x if isinstance(x, int) else float(np.trunc(x))   # -0.0, inf and NaN kept
    if isinstance(n, float) and not math.isfinite(n):
        raise errors.numeric_out_of_range("integer")
    scale = 10.0 ** int(n)
    scaled = x * scale
    # a value so large that scaling overflows has no digits there to cut
    out = float(np.trunc(scaled)) / scale if math.isfinite(scaled) else x
    return int(out) if isinstance(x, int) else out


# ---- domain-checked functions --------------------------------------------------------------

@arrow_errors
def _sqrt_vec(x):
    x = _f(x)
    if _any(pc.less(x, 0)):
        raise errors.sql_error("2201F", "cannot take square root of a negative number")
    return pc.sqrt(x)


def _sqrt_row(x):
    if x < 0:
        raise errors.sql_error("2201F", "cannot take square root of a negative number")
    return math.sqrt(x)


def _check_log(x):
    if _any(pc.equal(x, 0)):
        raise errors.sql_error("2201E", "cannot take logarithm of zero")
    if _any(pc.less(x, 0)):
        raise errors.sql_error("2201E", "cannot take logarithm of a negative number")


@arrow_errors
def _ln_vec(x):
    x = _f(x)
    _check_log(x)
    return pc.ln(x)


@arrow_errors
def _log10_vec(x, y=None):
    if y is not None:   # log(base, x)
        b, v = _f(x), _f(y)
        _check_log(b)
        _check_log(v)
        if isinstance(b, pa.Scalar) and b.as_py() == 10:   # log10(x): exact at powers of 10
            return pc.log10(v)
        return pc.divide(pc.ln(v), pc.ln(b))
    x = _f(x)
    _check_log(x)
    return pc.log10(x)


def _log_row(x, y=None):
    for v in ((x,) if y is None else (x, y)):
        if v == 0:
            raise errors.sql_error("2201E", "cannot take logarithm of zero")
        if v < 0:
            raise errors.sql_error("2201E", "cannot take logarithm of a negative number")
    if y is None or x == 10:     # log10(x), which sqlglot reads as log(10, x)
        return math.log10(x if y is None else y)
    return math.log(y) / math.log(x)


def _ln_row(x):
    return _log_row(math.e, x)


def _overflow() -> Exception:
    return errors.sql_error("22003", "value out of range: overflow")


def _underflow() -> Exception:
    return errors.sql_error("22003", "value out of range: underflow")


@arrow_errors
def _exp_vec(x):
    return map_rows(_exp_row, [_f(x)], out_type=pa.float64())


def _exp_row(x):
    """dexp: infinities map to themselves / 0 without error; a finite argument whose
    result overflows or underflows (exp(-1000)) is 22003."""
    x = float(x)
    if x != x:
        return x
    if math.isinf(x):
        return x if x > 0 else 0.0
    try:
        out = math.exp(x)
    except OverflowError:
        raise _overflow() from None
    if out == 0.0:
        raise _underflow()
    return out


@arrow_errors
def _power_vec(a, b):
    return map_rows(_power_row, [a, b], out_type=pa.float64())


def _power_row(a, b):
    """dpow, case by case as PostgreSQL spells them out (its comments: pow(3) is not
    trusted with NaN and infinities); overflow and underflow are 22003."""
    a, b = float(a), float(b)
    if a != a:
        return 1.0 if b == 0 else a
    if b != b:
        return 1.0 if a == 1 else b
    if a == 0 and b < 0:
        raise errors.sql_error("2201F", "zero raised to a negative power is undefined")
    if a < 0 and not math.isinf(b) and math.floor(b) != b:
        raise errors.sql_error("2201F", "a negative number raised to a non-integer power "
                                        "yields a complex result")
    if math.isinf(b):
        absx = abs(a)
        if absx == 1:
            return 1.0
        if b > 0:
            return b if absx > 1 else 0.0
        return 0.0 if absx > 1 else -b
    if math.isinf(a):
        if b == 0:
            return 1.0
        if a > 0:
            return a if b > 0 else 0.0
        odd = math.floor(b / 2) != b / 2
        if b > 0:
            return a if odd else -a
        return -0.0 if odd else 0.0
    try:
        out = math.pow(a, b)
    except OverflowError:
        raise _overflow() from None
    if math.isinf(out):
        raise _overflow()
    if out == 0.0 and a != 0:
        raise _underflow()
    return out


def _degrees_row(x):
    """float8_div(x, RADIANS_PER_DEGREE), as PostgreSQL divides (not x * 180 / pi: the
    last digit differs); a finite x that overflows is 22003."""
    out = x / _RADIANS_PER_DEGREE
    if math.isinf(out) and not math.isinf(x):
        raise _overflow()
    return out


_RADIANS_PER_DEGREE = 0.0174532925199432957692


@arrow_errors
def _abs_vec(x):
    return pc.abs_checked(x)


def _abs_row(x):
    return types.check_int(abs(x)) if isinstance(x, int) else abs(x)


def _sign_vec(x):
    out = pc.sign(x)
    return pc.cast(out, pa.int64()) if pa.types.is_integer(x.type) else pc.cast(out, pa.float64())


def _sign_row(x):
    s = (x > 0) - (x < 0)
    return s if isinstance(x, int) else float(s)


def _numeric_fit_vec(x, precision, scale):
    """``x::numeric(p, s)`` (exec/typmods.py: NUMERIC is float8 here)."""
    return map_rows(fit_numeric, [x, precision, scale], out_type=pa.float64())


def _int_fit(typmod: str):
    """``x::smallint``, ``x::integer``: INTEGER is int64 here, so the cast checks the
    narrower range (22003), as PostgreSQL's int2 and int4 do."""
    low, high, name = INT_RANGES[typmod]

    def row(x):
        if not low <= x <= high:
            raise int_out_of_range(name)
        return x

    def vec(x):
        if isinstance(x, pa.Scalar):
            return map_rows(row, [x], out_type=pa.int64())
        return fit_array((typmod,), x)
    return vec, row


def _width_bucket_resolve(ts):
    if len(ts) == 4 and all(t in (I, F, N) for t in ts[:3]) and ts[3] in (I, N):
        return I
    if len(ts) == 2 and isinstance(ts[1], str) and ts[1].endswith("[]") and \
            ts[0] in (ts[1][:-2], N):
        return I            # width_bucket(operand, thresholds array)
    return None


def _width_bucket_array(operand, thresholds) -> int:
    """width_bucket(x, thresholds): how many of the (ascending) thresholds are <= x, found
    by bisection as PostgreSQL does (so an unsorted array gives what it gives there)."""
    if any(t is None for t in thresholds):
        raise errors.sql_error("22004", "thresholds array must not contain NULLs")
    low, high = 0, len(thresholds)
    while low < high:
        mid = (low + high) // 2
        if _key(operand) < _key(thresholds[mid]):
            high = mid
        else:
            low = mid + 1
    return low


def _key(v):
    """A numeric's storage key read as its Decimal; NaN sorts above every number."""
    if type(v) is bytes:
        v = numeric.decode(v)
        return (1, 0) if v.is_nan() else (0, v)
    return (1, 0) if v != v else (0, v)


def _width_bucket_row(operand, low, high=None, count=None):
    if count is None:
        return _width_bucket_array(operand, low)
    return _width_bucket_4(operand, low, high, count)


def _width_bucket_4(operand, low, high, count):
    """PostgreSQL's width_bucket: which of ``count`` equal buckets between ``low`` and
    ``high`` holds ``operand`` (0 below the range, count + 1 past it; a range given high
    to low counts downwards)."""
    if count <= 0:
        raise errors.sql_error("2201G", "count must be greater than zero")
    if low == high:
        raise errors.sql_error("2201G", "lower bound cannot equal upper bound")
    if any(isinstance(v, float) and not math.isfinite(v) for v in (operand, low, high)):
        if isinstance(operand, float) and math.isnan(operand):
            raise errors.sql_error("2201G", "operand, lower bound, and upper bound cannot "
                                            "be NaN")
        if not all(math.isfinite(v) for v in (low, high)):
            raise errors.sql_error("2201G", "lower and upper bounds must be finite")
    if low < high:
        if operand < low:
            return 0
        if operand >= high:
            return types.check_int(count + 1)
        return _bucket(count, operand - low, high - low)
    if operand > low:
        return 0
    if operand <= high:
        return types.check_int(count + 1)
    return _bucket(count, low - operand, low - high)


def _bucket(count: int, offset, width) -> int:
    if isinstance(offset, int) and isinstance(width, int):   # exact, as for numeric
        return count * offset // width + 1
    # the quotient may round up to 1.0 (PostgreSQL clamps it the same way)
    return min(int(count * (offset / width)), count - 1) + 1


def _width_bucket_vec(*args):
    return map_rows(_width_bucket_row, list(args), out_type=pa.int64())


def register(reg) -> None:
    # numpy's rounding keeps -0.0 (ceil(-0.25)), inf and NaN as the Arrow kernels do
    ceil_vec, ceil_row = _unary_keep(kernel("ceil"), lambda x: x if isinstance(x, int) else float(np.ceil(x)))
    floor_vec, floor_row = _unary_keep(kernel("floor"), lambda x: x if isinstance(x, int) else float(np.floor(x)))
    for name, vec, row in (("ceil", ceil_vec, ceil_row), ("ceiling", ceil_vec, ceil_row),
                           ("floor", floor_vec, floor_row)):
        reg.add(ScalarFunction(name, _same_numeric, vec, row))
    reg.add(ScalarFunction("round", _round_resolve, _round_vec, _round_row))
    reg.add(ScalarFunction("trunc", _trunc_resolve, _trunc_vec, _trunc_row))
    reg.add(ScalarFunction("abs", _same_numeric, _abs_vec, _abs_row))
    reg.add(ScalarFunction("sign", _same_numeric, _sign_vec, _sign_row))
    reg.add(ScalarFunction("numeric_fit", lambda ts: F if len(ts) == 3 and ts[0] in (I, F, N)
                           and ts[1] == I and ts[2] == I else None, _numeric_fit_vec,
                           fit_numeric))
    for typmod in INT_RANGES:
        vec, row = _int_fit(typmod)
        reg.add(ScalarFunction(typmod + "_fit", fixed((I, I)), vec, row))
    reg.add(ScalarFunction("float4_fit", fixed((F, F)), lambda x: map_rows(
        fit_real, [x], out_type=pa.float64()) if isinstance(x, pa.Scalar) else
        fit_array(("float4",), x), fit_real))
    reg.add(ScalarFunction("width_bucket", _width_bucket_resolve, _width_bucket_vec,
                           _width_bucket_row))
    reg.add(ScalarFunction("sqrt", _float_of, _sqrt_vec, _sqrt_row))
    # libm's cbrt, as PostgreSQL's dcbrt calls it (x ** (1/3) is off in the last digit:
    # cbrt(7) 1.912931182772389, not 1.9129311827723894)
    reg.add(ScalarFunction("cbrt", _float_of, lambda x: map_rows(
        math.cbrt, [_f(x)], out_type=pa.float64()), lambda x: math.cbrt(x)))
    reg.add(ScalarFunction("exp", _float_of, _exp_vec, _exp_row))
    reg.add(ScalarFunction("ln", _float_of, _ln_vec, _ln_row))
    # log(b, x) of integers is numeric_ops' (PostgreSQL has it for numeric only)
    reg.add(ScalarFunction("log", lambda ts: _float_of(ts, 1) if len(ts) == 1 else (
        _float_of(ts, 2) if len(ts) == 2 and F in ts else None),
                           _log10_vec, _log_row))
    reg.add(ScalarFunction("log10", _float_of, _log10_vec, _log_row))
    for name in ("power", "pow"):
        reg.add(ScalarFunction(name, lambda ts: _float_of(ts, 2), _power_vec, _power_row))
    reg.add(ScalarFunction("pi", lambda ts: F if not ts else None,
                           lambda: pa.scalar(math.pi), lambda: math.pi))
    reg.add(ScalarFunction("degrees", _float_of, lambda x: map_rows(
        _degrees_row, [_f(x)], out_type=pa.float64()), _degrees_row))
    reg.add(ScalarFunction("radians", _float_of, lambda x: pc.multiply(
        _f(x), _RADIANS_PER_DEGREE), lambda x: x * _RADIANS_PER_DEGREE))
    reg.add(ScalarFunction("random", lambda ts: F if not ts else None, None,
                           _random.random, volatile=True))
