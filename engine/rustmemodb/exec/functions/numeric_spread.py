"""stddev/variance of integers and numerics, as PostgreSQL computes them: numeric.

PostgreSQL's stddev/variance family over int2/int4/int8/numeric returns numeric
(numeric_stddev_internal): the exact sums N, Sx, Sxx of the inputs; the numerator
N*Sxx - Sx*Sx, exact, with the display scale 2 * (the largest input scale); the
denominator N*(N-1) (samp) or N*N (pop); the variance is their quotient rounded half away
from zero at select_div_scale (at least 16 significant digits, no fewer digits than the
numerator shows), and the stddev is its square root rounded at that same scale. A
numerator <= 0 is the numeric 0; any NaN or infinity among the inputs makes NaN. That is
why ``stddev(x)`` of 1, 2, 4 prints ``1.5275252316519467`` (float8 says ...468) and the
variance of 1.000 and 2.5 ``1.12500000000000000000``.

Everything is integer arithmetic here: the values arrive as integers at one common
``scale`` (value * 10**scale) so that the per-group aggregate (exec/functions/aggregate.py)
and the window frames' prefix sums (exec/operators/window_spread.py) share ``finish``.
Float inputs keep float8's own path (statistics of floats).
"""
from __future__ import annotations

from decimal import Decimal
from math import isqrt

from ... import numeric
from ...lazy_import import arrow as pa, numpy as np

VARIANCES = ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop")


def is_population(fn: str) -> bool:
    return fn.endswith("_pop")


def finish(fn: str, n: int, total: int, squares: int, scale: int, dscale: int,
           special: bool = False) -> Decimal | None:
    """The numeric result of ``fn`` over ``n`` values whose sum is ``total / 10**scale``
    and sum of squares ``squares / 10**(2*scale)``; ``dscale``: the largest display scale
    among the values; ``special``: a NaN or an infinity was among them. None for NULL."""
    pop = is_population(fn)
    if n == 0 or (not pop and n <= 1):
        return None
    if special:
        return numeric.NAN
    num = n * squares - total * total            # exact, at scale 2 * scale
    if num <= 0:                                 # round-off cannot happen; zero spread
        return numeric.ZERO
    den = n * n if pop else n * (n - 1)
    rscale = _div_scale(num, 2 * scale, den, 2 * dscale)
    shift = rscale - 2 * scale
    top, bottom = (num * 10 ** shift, den) if shift >= 0 else (num, den * 10 ** -shift)
    v, r = divmod(top, bottom)
    if 2 * r >= bottom:                          # half away from zero (num > 0)
        v += 1
    if fn.startswith("stddev"):
        # sqrt(v / 10**rscale) at rscale digits: isqrt(v * 10**rscale), rounded half up
        # ((2R+1)**2 is odd, 4*v*10**rscale even: never a tie)
        wide = v * 10 ** rscale
        root = isqrt(wide)
        if 4 * wide >= (2 * root + 1) ** 2:
            root += 1
        v = root
    return Decimal((0, tuple(map(int, str(v))), -rscale))


def _div_scale(num: int, num_scale: int, den: int, num_dscale: int) -> int:
    """select_div_scale of (num / 10**num_scale, shown with num_dscale digits) by the
    integer ``den``: NBASE (10000) weights and first digits."""
    digits = len(str(num)) - num_scale           # digits before the point (may be <= 0)
    w1 = (digits - 1) // 4                       # NBASE weight of the first digit group
    f1 = num * 10 ** -(4 * w1 + num_scale) if 4 * w1 + num_scale < 0 else \
        num // 10 ** (4 * w1 + num_scale)
    w2 = (len(str(den)) - 1) // 4
    f2 = den // 10000 ** w2
    qweight = w1 - w2 - (1 if f1 <= f2 else 0)
    rscale = max(numeric.MIN_SIG_DIGITS - qweight * 4, num_dscale, 0)
    return min(rscale, numeric.MAX_DISPLAY_SCALE)


def spread_of_values(fn: str, values: list) -> Decimal | None:
    """``fn`` over one group's non-NULL values: Python ints or numerics (storage keys or
    Decimals)."""
    if not values:
        return finish(fn, 0, 0, 0, 0, 0)
    if type(values[0]) is int:
        return finish(fn, len(values), sum(values), sum(v * v for v in values), 0, 0)
    decs = [numeric.as_decimal(v) for v in values]
    if not all(d.is_finite() for d in decs):
        return finish(fn, len(decs), 0, 0, 0, 0, special=True)
    scale = max(numeric.scale_of(d) for d in decs)
    ints = [int(d.scaleb(scale, context=numeric.CTX)) for d in decs]
    return finish(fn, len(ints), sum(ints), sum(v * v for v in ints), scale, scale)


_SQUARE_FITS = 3037000499        # isqrt(2**63 - 1): its square is an exact int64


def spread_of_array(fn: str, values):
    """``fn`` over an Arrow array of int64 values (NULLs skipped) with the sums taken in
    numpy in blocks whose int64 sums cannot wrap; NotImplemented for other arrays."""
    if not pa.types.is_integer(values.type):
        return NotImplemented
    if values.null_count:
        values = values.drop_null()
    n = len(values)
    if n == 0:
        return finish(fn, 0, 0, 0, 0, 0)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    x = values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    top = max(abs(int(x.min())), abs(int(x.max())))
    if top > _SQUARE_FITS:
        return NotImplemented
    squares = x * x
    block = max(1, ((1 << 63) - 1) // max(top * top, 1))
    if block < 64:
        return NotImplemented                    # huge values: Python ints are as fast
    total = sum(int(x[i:i + block].sum()) for i in range(0, n, block))
    sq = sum(int(squares[i:i + block].sum()) for i in range(0, n, block))
    return finish(fn, n, total, sq, 0, 0)


def merged(fn: str, n: int, sx, sxx) -> Decimal | None:
    """``fn`` from merged partial sums (a cluster's shards, cluster/plansplit.py and
    split.py): the count, the exact numeric sum (its scale the inputs' largest) and the
    exact numeric sum of squares; NULL sums mean no value."""
    if sx is None or sxx is None or not n:
        return finish(fn, 0, 0, 0, 0, 0)
    sx, sxx = numeric.as_decimal(sx), numeric.as_decimal(sxx)
    if not (sx.is_finite() and sxx.is_finite()):
        return finish(fn, n, 0, 0, 0, 0, special=True)
    scale = max(numeric.scale_of(sx), -(-numeric.scale_of(sxx) // 2))
    total = int(sx.scaleb(scale, context=numeric.CTX))
    squares = int(sxx.scaleb(2 * scale, context=numeric.CTX))
    return finish(fn, n, total, squares, scale, numeric.scale_of(sx))
