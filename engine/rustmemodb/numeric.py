"""PostgreSQL's ``numeric``: exact decimals, kept as bytes that sort as the numbers do.

Why a module of its own: NUMERIC was float8 here, which loses digits (``0.1 + 0.2``) and
the scale a value was written with (``numeric(10,2)`` keeps ``1.10``). PostgreSQL's
numeric is an exact decimal with a display scale, NaN and (since 14) ±Infinity; its
division picks a scale of its own (``select_div_scale``) and its typmod rounds half away
from zero. Python's ``decimal`` computes all of it exactly; this module holds the one
``decimal.Context`` the engine uses (never the process's ``getcontext()``: rustmemodb
changes no process-wide state) and PostgreSQL's rules on top of it.

Storage form: ``bytes`` (rows) and Arrow ``binary`` (columns), an order key followed by
the display scale, so that Arrow's byte comparisons, sorts, min/max and index keys order
numerics as PostgreSQL does with no kernel of their own:

    class    00 -Infinity | 01 negative | 02 zero | 03 positive | 04 +Infinity | 05 NaN
    finite   <exponent: 4 bytes, biased by 2**31> <digits: one byte 01..0A each> 00
             (negative numbers: exponent and digits inverted, so larger magnitudes sort
             first; digits are the significant ones, trailing zeros cut)
    scale    2 bytes: the digits after the point the value shows

The order key (all but the last two bytes) is the same for equal numbers written with
different scales (``1.1`` and ``1.10``): comparisons and hash keys (GROUP BY, DISTINCT,
joins) read that part (``value_part``); the scale only decides the text. NaN sorts above
+Infinity and equals itself, as in PostgreSQL. Arrow's ``binary`` (32-bit offsets) is
used by no other type, so an Arrow column says it holds numerics.

Python form (DB-API results, parameters): ``decimal.Decimal``. The keys are the general
form; numeric(p, s) columns and most arithmetic use Arrow ``decimal128`` instead, whose
values reach rows as Decimals (numeric_arrays.py): ``decode`` and the row bodies take both.
"""
from __future__ import annotations

import builtins
import math
import decimal
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from . import errors

NUMERIC = "NUMERIC"

# Exact for every sum and product the engine makes (PostgreSQL's numeric holds up to
# 131072 digits before the point and 16383 after); division rounds by hand (divide()).
CTX = decimal.Context(prec=300_000, rounding=ROUND_HALF_UP, Emax=decimal.MAX_EMAX,
                      Emin=decimal.MIN_EMIN,
                      traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                             decimal.Overflow])

MIN_SIG_DIGITS = 16          # NUMERIC_MIN_SIG_DIGITS
MAX_DISPLAY_SCALE = 1000     # NUMERIC_MAX_DISPLAY_SCALE
MAX_RESULT_SCALE = 2000      # NUMERIC_MAX_RESULT_SCALE
_BIAS = 2 ** 31

NAN = Decimal("NaN")
INF = Decimal("Infinity")
NINF = Decimal("-Infinity")
ZERO = Decimal(0)


# ---- storage form ------------------------------------------------------------------------

def scale_of(d: Decimal) -> int:
    """The display scale: digits after the point (0 for NaN, infinities, integers)."""
    if not d.is_finite():
        return 0
    e = d.as_tuple().exponent
    return -e if e < 0 else 0


def encode(d: Decimal) -> bytes:
    """The storage key of ``d`` (see the module docstring)."""
    scale = scale_of(d)
    return _order_key(d) + scale.to_bytes(2, "big")


def _order_key(d: Decimal) -> bytes:
    if d.is_nan():
        return b"\x05"
    if d.is_infinite():
        return b"\x04" if d > 0 else b"\x00"
    if not d:
        return b"\x02"
    sign, digits, exponent = d.as_tuple()
    n = len(digits)
    while n > 1 and digits[n - 1] == 0:
        n -= 1
    adjusted = exponent + len(digits) - 1          # the leading digit's power of ten
    body = (adjusted + _BIAS).to_bytes(4, "big") + bytes(x + 1 for x in digits[:n]) + b"\x00"
    if sign:
        return b"\x01" + bytes(255 - b for b in body)
    return b"\x03" + body


def decode(key) -> Decimal:
    """The number a storage key holds, at its display scale. A Decimal (a value read from
    the vector form, numeric_arrays.py) is its own number."""
    if type(key) is bytes:
        return _decode_key(key)
    return as_decimal(key)


@lru_cache(maxsize=65536)
def _decode_key(key: bytes) -> Decimal:
    # cached by bytes only: Decimal('1.5') == Decimal('1.50') would share an entry
    cls = key[0]
    if cls == 2:
        return Decimal((0, (0,), -int.from_bytes(key[-2:], "big")))
    if cls == 5:
        return NAN
    if cls == 4:
        return INF
    if cls == 0:
        return NINF
    body = key[1:-2]
    if cls == 1:
        body = bytes(255 - b for b in body)
    adjusted = int.from_bytes(body[:4], "big") - _BIAS
    digits = tuple(b - 1 for b in body[4:-1])
    scale = int.from_bytes(key[-2:], "big")
    # digits d0.d1d2... * 10**adjusted, shown with ``scale`` digits after the point
    exponent = adjusted - len(digits) + 1
    if exponent > -scale:
        digits = digits + (0,) * (exponent + scale)
        exponent = -scale
    return Decimal((1 if cls == 1 else 0, digits, exponent))


def valid(key: bytes) -> bool:
    """Whether ``key`` is a well-formed storage key (a value read from disk)."""
    try:
        if isinstance(key, Decimal):
            return key == _normal(key) or key.is_nan()
        return len(key) >= 3 and encode(_decode_key.__wrapped__(key)) == key
    except (IndexError, ValueError, OverflowError, ArithmeticError):
        return False


def value_part(key) -> bytes:
    """The key without its scale: equal for equal numbers (1.1 and 1.10)."""
    if type(key) is not bytes:
        key = encode(as_decimal(key))
    return key[:-2]


def key_value(value) -> Decimal:
    """A number (storage key or Decimal) as a hash key that is equal for equal numbers
    whatever their scales: a Decimal (2.5 == 2.50, same hash), every NaN the one ``NAN``
    (NaN equals NaN in PostgreSQL; a dict or set matches it by identity)."""
    d = decode(value)
    return NAN if d.is_nan() else d


def of_python(value) -> bytes:
    """A Python number (Decimal, int, float: its shortest repr) as a storage key."""
    return encode(as_decimal(value))


def as_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        if value.is_snan():
            return NAN
        return _normal(value)
    if isinstance(value, bool):
        raise errors.datatype_mismatch("cannot use a boolean as numeric")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return from_float(value)
    if isinstance(value, bytes):
        return _decode_key(value)
    return parse(str(value))


def _normal(d: Decimal) -> Decimal:
    """A finite decimal with exponent <= 0 (1E+2 is 100): every stored value's form."""
    if d.is_finite():
        e = d.as_tuple().exponent
        if e > 0:
            d = d.quantize(Decimal(1), context=CTX)
        if d.is_zero() and d.is_signed():
            d = d.copy_abs()
    return d


# ---- text -------------------------------------------------------------------------------

_SPECIAL = {"nan": NAN, "infinity": INF, "+infinity": INF, "-infinity": NINF,
            "inf": INF, "+inf": INF, "-inf": NINF}


def parse(text: str) -> Decimal:
    """numeric_in: leading/trailing spaces, a sign, digits with a point, an exponent,
    NaN and [+-]Infinity (any case); anything else is 22P02."""
    s = text.strip()
    special = _SPECIAL.get(s.lower())
    if special is not None:
        return special
    if not s or not all(c in "0123456789.eE+-" for c in s) or s.lower().startswith(
            ("+.e", "-.e", ".e")) or s in (".", "+.", "-."):
        raise invalid_text(text)
    try:
        d = Decimal(s)
    except decimal.InvalidOperation:
        raise invalid_text(text) from None
    if not d.is_finite():
        raise invalid_text(text)
    if d.adjusted() > 131071 or scale_of(d) > 16383:
        raise errors.sql_error("22003", "value overflows numeric format")
    return _normal(d)


def of_json(token: str) -> Decimal:
    """A JSON number with a point or an exponent (already well-formed: the JSON reader
    checked it) as jsonb keeps it, numeric_in's value: its scale kept (``1.50``), an
    exponent applied (``1e2`` is ``100``), the same limits (22003)."""
    d = Decimal(token)
    if d.adjusted() > 131071 or scale_of(d) > 16383:
        raise errors.sql_error("22003", "value overflows numeric format")
    return _normal(d)


def of_float8(value: float) -> Decimal:
    """The numeric that float8out's text of a finite ``value`` reads as (to_jsonb of a
    float8): its shortest digits, no scale beyond them (``100``, not ``100.0``)."""
    text = repr(value)
    return _normal(Decimal(text[:-2] if text.endswith(".0") else text))


def invalid_text(text: str) -> errors.Error:
    return errors.sql_error("22P02", f'invalid input syntax for type numeric: "{text}"')


def format(d: Decimal) -> str:
    """numeric_out: fixed notation with the value's scale; NaN, Infinity, -Infinity."""
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "Infinity" if d > 0 else "-Infinity"
    if d.is_zero() and d.is_signed():
        d = d.copy_abs()
    return builtins.format(d, "f")


def text_of(key: bytes) -> str:
    return format(decode(key))


def from_float(value: float) -> Decimal:
    """float8 -> numeric: PostgreSQL keeps 15 significant digits (float8_numeric)."""
    if value != value:
        return NAN
    if value in (_FINF, -_FINF):
        return INF if value > 0 else NINF
    d = Decimal(builtins.format(value, ".15g"))
    return _normal(d)


def from_real(value: float) -> Decimal:
    """The shortest decimal that reads back as the double (a stored FLOAT column's value
    read as numeric: what it printed before)."""
    if value != value:
        return NAN
    if value in (_FINF, -_FINF):
        return INF if value > 0 else NINF
    return _normal(Decimal(repr(value)))


_FINF = float("inf")


def to_float(d: Decimal) -> float:
    """numeric -> float8 (22003 past its range, as numeric_float8 says)."""
    if d.is_nan():
        return float("nan")
    f = float(d)
    if f in (_FINF, -_FINF) and d.is_finite():
        raise errors.numeric_out_of_range("value out of range: overflow")
    return f


def to_int(d: Decimal, what: str = "bigint", low: int = -2 ** 63, high: int = 2 ** 63 - 1) -> int:
    """numeric -> integer: rounded half away from zero; 22003 out of range, 0A000 for
    NaN/Infinity (PostgreSQL: "cannot convert NaN to bigint")."""
    if d.is_nan():
        raise errors.sql_error("0A000", f"cannot convert NaN to {what}")
    if d.is_infinite():
        raise errors.sql_error("0A000", f"cannot convert infinity to {what}")
    n = int(d.to_integral_value(rounding=ROUND_HALF_UP, context=CTX))
    if not low <= n <= high:
        raise errors.numeric_out_of_range(what)
    return n


# ---- typmods -----------------------------------------------------------------------------

def fit(d: Decimal, precision: int, scale: int) -> Decimal:
    """``d`` as numeric(precision, scale) holds it: rounded half away from zero to
    ``scale`` digits; 22003 "numeric field overflow" when the digits left of the point do
    not fit, with PostgreSQL's DETAIL. NaN passes."""
    if d.is_nan():
        return d
    if d.is_infinite():
        raise errors.sql_error(
            "22003", "numeric field overflow",
            detail=f"A field with precision {precision}, scale {scale} cannot hold an "
                   "infinite value.")
    q = d.quantize(Decimal((0, (1,), -scale)), rounding=ROUND_HALF_UP, context=CTX)
    digits = precision - scale
    if q and q.adjusted() >= digits:
        raise errors.sql_error(
            "22003", "numeric field overflow",
            detail=f"A field with precision {precision}, scale {scale} must round to an "
                   f"absolute value less than {f'10^{digits}' if digits else '1'}.")
    return _normal(q)


def _nan_or_inf(a: Decimal, b: Decimal) -> bool:
    return not (a.is_finite() and b.is_finite())


def add(a: Decimal, b: Decimal) -> Decimal:
    if _nan_or_inf(a, b):
        if a.is_nan() or b.is_nan():
            return NAN
        if a.is_infinite() and b.is_infinite() and a != b:
            return NAN                       # Infinity + -Infinity
        return a if a.is_infinite() else b
    return checked(_normal(CTX.add(a, b)))


def checked(d: Decimal) -> Decimal:
    """make_result's limit: more than 131072 digits before the point is 22003."""
    if d and d.is_finite() and d.adjusted() > 131071:
        raise errors.sql_error("22003", "value overflows numeric format")
    return d


def sub(a: Decimal, b: Decimal) -> Decimal:
    return add(a, negate(b))


def negate(a: Decimal) -> Decimal:
    if a.is_nan():
        return a
    return _normal(a.copy_negate())


def mul(a: Decimal, b: Decimal) -> Decimal:
    if _nan_or_inf(a, b):
        if a.is_nan() or b.is_nan():
            return NAN
        if (a.is_finite() and not a) or (b.is_finite() and not b):
            return NAN                       # Infinity * 0
        return INF if (a > 0) == (b > 0) else NINF
    r = CTX.multiply(a, b)
    if scale_of(r) > MAX_RESULT_SCALE:
        r = r.quantize(Decimal((0, (1,), -MAX_RESULT_SCALE)), context=CTX)
    return checked(_normal(r))


def division_by_zero() -> errors.Error:
    return errors.sql_error("22012", "division by zero")


def _weight_and_first(d: Decimal) -> tuple[int, int]:
    """The base-10000 weight and value of the first non-zero NBASE digit of ``d``."""
    if not d:
        return 0, 0
    d = d.copy_abs()
    w = d.adjusted() // 4
    first = int(d.scaleb(-4 * w, context=CTX))
    return w, first


def div_scale(a: Decimal, b: Decimal) -> int:
    """select_div_scale: at least 16 significant digits, and no fewer digits after the
    point than either input shows."""
    w1, f1 = _weight_and_first(a)
    w2, f2 = _weight_and_first(b)
    qweight = w1 - w2
    if f1 <= f2:
        qweight -= 1
    rscale = MIN_SIG_DIGITS - qweight * 4
    rscale = max(rscale, scale_of(a), scale_of(b), 0)
    return min(rscale, MAX_DISPLAY_SCALE)


def divide_at(a: Decimal, b: Decimal, rscale: int) -> Decimal:
    """a / b rounded half away from zero to ``rscale`` digits (exact: integer division)."""
    sa, da, ea = a.as_tuple()
    sb, db, eb = b.as_tuple()
    # through Decimal, not text: int <-> str stops at 4300 digits (power(10.0, -20000))
    ia = int(Decimal((0, da, 0)))
    ib = int(Decimal((0, db, 0)))
    k = ea - eb + rscale
    num, den = (ia * 10 ** k, ib) if k >= 0 else (ia, ib * 10 ** -k)
    q, r = divmod(num, den)
    if 2 * r >= den:
        q += 1
    return _normal(Decimal(-q if (sa != sb and q) else q).scaleb(-rscale, context=CTX))


def div(a: Decimal, b: Decimal) -> Decimal:
    if _nan_or_inf(a, b):
        if a.is_nan() or b.is_nan():
            return NAN
        if a.is_infinite():
            if b.is_infinite():
                return NAN
            if not b:
                raise division_by_zero()
            return INF if (a > 0) == (b >= 0) else NINF
        return ZERO                                  # finite / infinity
    if not b:
        raise division_by_zero()
    return divide_at(a, b, div_scale(a, b))


def div_trunc(a: Decimal, b: Decimal) -> Decimal:
    """div(a, b): the quotient truncated toward zero (an integral numeric)."""
    if a.is_nan() or b.is_nan():
        return NAN
    if not b:
        raise division_by_zero()
    if a.is_infinite():
        if b.is_infinite():
            return NAN
        return INF if (a > 0) == (b > 0) else NINF
    if b.is_infinite():
        return ZERO
    return _normal(CTX.divide_int(a, b))


def mod(a: Decimal, b: Decimal) -> Decimal:
    """a % b: the remainder's sign is the dividend's, its scale the larger one's."""
    if a.is_nan() or b.is_nan():
        return NAN
    if b.is_finite() and not b:
        raise division_by_zero()
    if a.is_infinite():
        return NAN
    if b.is_infinite():
        return a
    return _normal(CTX.remainder(a, b))


def average_keys(sums, counts) -> list:
    """avg of integers per group, exactly as numeric_avg makes it (the sum divided by
    the count as numerics): storage keys, None where a group counted nothing."""
    return [None if not c or s is None else _integer_quotient_key(int(s), int(c))
            for s, c in zip(sums, counts)]


def _int_weight(n: int) -> tuple[int, int]:
    """(NBASE weight, first NBASE digit) of a non-zero integer's magnitude."""
    digits = len(str(n))
    w = (digits - 1) // 4
    return w, n // 10000 ** w


def _integer_quotient_key(s: int, c: int) -> bytes:
    """encode(div(s, c)) for integers, in integer arithmetic (avg over many groups: no
    Decimal per group). Same select_div_scale and rounding as ``div``."""
    w1, f1 = _int_weight(abs(s)) if s else (0, 0)
    w2, f2 = _int_weight(c)
    qweight = w1 - w2 - (1 if f1 <= f2 else 0)
    rscale = min(max(MIN_SIG_DIGITS - qweight * 4, 0), MAX_DISPLAY_SCALE)
    q, r = divmod(abs(s) * 10 ** rscale, c)
    if 2 * r >= c:
        q += 1
    return encode(Decimal((1 if s < 0 else 0, tuple(map(int, str(q))), -rscale)))


# ---- functions ------------------------------------------------------------------------

def round_to(d: Decimal, n: int) -> Decimal:
    """round(numeric, n): half away from zero; a negative n rounds left of the point.
    The result shows max(n, 0) digits after the point."""
    if not d.is_finite():
        return d
    if n >= 0:
        n = min(n, MAX_RESULT_SCALE)
        return _normal(d.quantize(Decimal((0, (1,), -n)), rounding=ROUND_HALF_UP, context=CTX))
    q = d.scaleb(n, context=CTX).quantize(Decimal(1), rounding=ROUND_HALF_UP, context=CTX)
    return _normal(q.scaleb(-n, context=CTX).quantize(Decimal(1), context=CTX))


def trunc_to(d: Decimal, n: int) -> Decimal:
    if not d.is_finite():
        return d
    if n >= 0:
        n = min(n, MAX_RESULT_SCALE)
        return _normal(d.quantize(Decimal((0, (1,), -n)), rounding=decimal.ROUND_DOWN,
                                  context=CTX))
    q = d.scaleb(n, context=CTX).quantize(Decimal(1), rounding=decimal.ROUND_DOWN,
                                          context=CTX)
    return _normal(q.scaleb(-n, context=CTX).quantize(Decimal(1), context=CTX))


def ceil(d: Decimal) -> Decimal:
    if not d.is_finite():
        return d
    return _normal(d.to_integral_value(rounding=decimal.ROUND_CEILING, context=CTX))


def floor(d: Decimal) -> Decimal:
    if not d.is_finite():
        return d
    return _normal(d.to_integral_value(rounding=decimal.ROUND_FLOOR, context=CTX))


def sign(d: Decimal) -> Decimal:
    if d.is_nan():
        return d
    return Decimal(0 if not d else (1 if d > 0 else -1))


def _approx(fn, d: Decimal, rscale: int) -> Decimal:
    c = CTX.copy()          # a context of its own: nothing process- or thread-wide changes
    c.prec = max(rscale + (abs(d.adjusted()) if d else 0) + 20, 40)
    r = fn(c)
    if r and r.is_finite() and r.adjusted() + rscale + 10 > c.prec:
        # a result with more digits before the point than the input had (exp(123.456)
        # has 54): again, with room for all of them and the rscale ones after it
        c.prec = r.adjusted() + rscale + 20
        r = fn(c)
    return _normal(r.quantize(Decimal((0, (1,), -rscale)), rounding=ROUND_HALF_UP,
                              context=CTX))


def sqrt(d: Decimal) -> Decimal:
    if d.is_nan():
        return d
    if d < 0:
        raise errors.sql_error("2201F", "cannot take square root of a negative number")
    if d.is_infinite():
        return d
    # numeric_sqrt's rscale: 16 significant digits from the NBASE weight's half
    weight = d.adjusted() // 4 if d else 0
    sweight = (weight + 1) * 4 // 2 - 1
    rscale = max(MIN_SIG_DIGITS - sweight, scale_of(d), 0)
    rscale = min(rscale, MAX_DISPLAY_SCALE)
    return _approx(lambda c: c.sqrt(d), d, rscale)


def ln(d: Decimal) -> Decimal:
    if d.is_nan():
        return d
    if not d:
        raise errors.sql_error("2201E", "cannot take logarithm of zero")
    if d < 0:
        raise errors.sql_error("2201E", "cannot take logarithm of a negative number")
    if d.is_infinite():
        return d
    # ln's rscale (numeric_ln): 16 digits around the result's magnitude
    rscale = max(MIN_SIG_DIGITS - _ln_dweight(d), scale_of(d), 0)
    rscale = min(rscale, MAX_DISPLAY_SCALE)
    return _approx(lambda c: c.ln(d), d, rscale)


_POINT_NINE, _ONE_POINT_ONE = Decimal("0.9"), Decimal("1.1")


def _ln_dweight(d: Decimal) -> int:
    """estimate_ln_dweight: the decimal weight of ln(d), as numeric.c estimates it (from
    d - 1 near 1, else from d's first NBASE digit); its rounding decides result scales."""
    if d <= 0:
        return 0
    if _POINT_NINE <= d <= _ONE_POINT_ONE:
        x = CTX.subtract(d, ONE)
        if not x:
            return 0
        w, first = _weight_and_first(x)
        return w * 4 + int(math.log10(first))
    w, first = _weight_and_first(d)
    approx = math.log(first) + w * 4 * math.log(10)
    return int(math.log10(abs(approx))) if approx else 0


def log(base: Decimal, num: Decimal) -> Decimal:
    """log(numeric, numeric): ln(num) / ln(base) with log_var's scale (16 significant
    digits of the result, no fewer than either input shows)."""
    for v in (base, num):
        if v.is_nan():
            return NAN
    for v in (base, num):
        if not v:
            raise errors.sql_error("2201E", "cannot take logarithm of zero")
        if v < 0:
            raise errors.sql_error("2201E", "cannot take logarithm of a negative number")
    if base.is_infinite():      # Inf / Inf is NaN; log(Inf, x) is 0 (no underflow error)
        return NAN if num.is_infinite() else ZERO
    if num.is_infinite():
        return INF
    if base == 1:
        raise division_by_zero()
    rscale = MIN_SIG_DIGITS - (_ln_dweight(num) - _ln_dweight(base))
    rscale = min(max(rscale, scale_of(base), scale_of(num), 0), MAX_DISPLAY_SCALE)
    return _approx(lambda c: c.divide(c.ln(num), c.ln(base)), num, rscale)


def exp(d: Decimal) -> Decimal:
    if d.is_nan():
        return d
    if d.is_infinite():
        return ZERO if d < 0 else d
    val = float(d)
    if val > 300000:
        raise errors.sql_error("22003", "value overflows numeric format")
    # numeric_exp: 16 significant digits of the result
    dweight = int(val * 0.434294481903252)
    rscale = max(MIN_SIG_DIGITS - dweight, scale_of(d), 0)
    rscale = min(rscale, MAX_DISPLAY_SCALE)
    return _approx(lambda c: c.exp(d), d, rscale)


def power(base: Decimal, e: Decimal) -> Decimal:
    """power(numeric, numeric) / ``^``: an integral exponent exactly, rounded to
    max(16, the base's scale) digits (power_var_int); otherwise through ln and exp with
    16 significant digits of the result (power_var)."""
    if base.is_nan() or e.is_nan():      # 1 ^ NaN and NaN ^ 0 are 1, as in PostgreSQL
        one = (not base.is_nan() and base == 1) or (not e.is_nan() and not e)
        return ONE if one else NAN
    if not base.is_finite() or not e.is_finite():
        if base.is_infinite() and base < 0 and e.is_finite() and \
                e != e.to_integral_value():
            raise errors.sql_error("2201F", "a negative number raised to a non-integer "
                                            "power yields a complex result")
        return from_float(math.pow(float(base), float(e)))
    if base and abs(float(e) * math.log10(abs(float(base)))) > 131072 and \
            float(e) * math.log10(abs(float(base))) > 0:
        # the result would have more digits before the point than numeric holds (its
        # exact power would not even fit in memory): 22003 before computing it
        raise errors.sql_error("22003", "value overflows numeric format")
    if not base and e < 0:
        raise errors.sql_error("2201F", "zero raised to a negative power is undefined")
    integral = e == e.to_integral_value()
    if base < 0 and not integral:
        raise errors.sql_error("2201F", "a negative number raised to a non-integer power "
                                        "yields a complex result")
    if integral and e.copy_abs() < 2 ** 31:
        rscale = min(max(MIN_SIG_DIGITS, scale_of(base), 0), MAX_DISPLAY_SCALE)
        n = int(e)
        if n == 0:              # 0 ^ 0 too (Decimal's power traps it): 1 at that scale
            return Decimal((0, (1,) + (0,) * rscale, -rscale))
        if n >= 0:
            exact = CTX.power(base, n)
            return _normal(exact.quantize(Decimal((0, (1,), -rscale)), rounding=ROUND_HALF_UP,
                                          context=CTX))
        return divide_at(Decimal(1), CTX.power(base, -n), rscale)
    if not base:                # power_var: 0 at NUMERIC_MIN_SIG_DIGITS, not rounded
        return Decimal((0, (0,), -MIN_SIG_DIGITS))
    val = float(e) * math.log(float(base)) * 0.434294481903252
    rscale = MIN_SIG_DIGITS - int(max(min(val, MAX_RESULT_SCALE), -MAX_RESULT_SCALE))
    rscale = min(max(rscale, scale_of(base), scale_of(e), 0), MAX_DISPLAY_SCALE)
    return _approx(lambda c: c.power(base, e), base, rscale)


ONE = Decimal(1)
TEN = Decimal(10)
