"""Operators and functions of ``numeric`` (exact decimals; numeric.py), as numeric.c has them.

numeric + - * / % numeric (division with select_div_scale's scale), unary minus,
comparisons (by value: ``1.1 = 1.10``; NaN equal to itself and above everything), and
abs, sign, round, trunc, ceil/ceiling, floor, sqrt, ln, exp, power, scale, div, mod,
numeric(p, s) fitting, extract's numeric result (``extract_numeric``) and the output
function functions that print their arguments call (``value_out``). An integer operand
is read as numeric (the binder casts it; the bodies accept one too). Functions with no overload here take numerics as float8 (the
binder's fallback, bind_expr._numeric_as_float), as PostgreSQL's implicit cast does.

Values are storage keys (bytes) or Decimals in rows, and Arrow ``decimal128`` or
``binary`` keys in columns (numeric_arrays.py). The arithmetic, comparisons, round and
trunc compute decimal128 inputs with Arrow's kernels (``_vector_*``); anything without a
vector form falls back to the row bodies, which decode, compute with numeric.CTX and
encode.
"""
from __future__ import annotations

import math
from decimal import Decimal

from ...lazy_import import arrow as pa, compute as pc

from ... import numeric, numeric_arrays as na, types
from ..expr.rowwise import map_rows
from .registry import ScalarFunction, fixed

NU, I, F, T, B, N = (types.NUMERIC, types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN,
                     types.NULL)


def _dec(v):
    return numeric.decode(v) if type(v) is bytes else numeric.as_decimal(v)


def _key(v):
    return v if type(v) is bytes else numeric.encode(numeric.as_decimal(v))


def _lift(fn):
    """A row body over storage keys from one over Decimals."""
    def row(*args):
        return numeric.encode(fn(*(_dec(a) for a in args)))
    return row


def _lift_n(fn, n_numeric: int):
    """Like _lift, but only the first ``n_numeric`` arguments are numerics (the rest
    integers: round's digits)."""
    def row(*args):
        vals = [_dec(a) for a in args[:n_numeric]] + list(args[n_numeric:])
        return numeric.encode(fn(*vals))
    return row


def _vector(row, out_type: str = "binary"):
    def vec(*args):
        return map_rows(row, args, out_type=getattr(pa, out_type)())
    return vec


def _numbers(ts):
    """Two operands, numeric with numeric or integer (at least one numeric)."""
    if len(ts) == 2 and all(t in (NU, I, N) for t in ts) and NU in ts:
        return NU
    return None


# ---- comparisons: by the order key without its scale ------------------------------------

_KERNELS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
            "gt": "greater", "ge": "greater_equal"}


def _values(v):
    """Keys without their scale (numeric.value_part), column or scalar."""
    if isinstance(v, pa.Scalar):
        return pa.scalar(None if not v.is_valid else numeric.value_part(v.as_py()), pa.binary())
    return pc.binary_slice(v, 0, -2)


def _compare_vector(name):
    kernel = _KERNELS[name]       # looked up on the first call: pyarrow loads lazily

    def vec(a, b):
        ops = _vector_ready((a, b))
        if ops is not None:        # decimal128 compares by value across scales
            return getattr(pc, kernel)(*ops)
        return getattr(pc, kernel)(_values(na.as_keys(a)), _values(na.as_keys(b)))
    return vec


# ---- the vector form: decimal128 (numeric_arrays.py) -----------------------------------

def _operand(v):
    """An operand as Arrow's decimal kernels take it: decimal128 and integer arrays and
    scalars pass, a key scalar becomes decimal128; None when it has no vector form."""
    t = v.type
    if na.is_decimal(t) or pa.types.is_integer(t):
        return v
    if pa.types.is_binary(t) and isinstance(v, pa.Scalar) and v.is_valid:
        return na.decimal_scalar(v)
    return None


def _vector_ready(args):
    """The operands for the decimal kernels when one is an array, one is decimal128 and
    none lacks a vector form (keys columns, NaN, NULL constants: the row bodies)."""
    ops = [_operand(a) for a in args]
    if any(o is None for o in ops) or all(isinstance(o, pa.Scalar) for o in ops) or \
            not any(na.is_decimal(o.type) for o in ops):
        return None
    return ops


_ARITH = {"add": "add", "sub": "subtract", "mul": "multiply"}


def _arith_vector(name, row):
    """+ - * over decimal128: Arrow's result scales are PostgreSQL's (the larger scale;
    the sum of the scales). A result needing more than 38 digits goes by rows."""
    kernel = _ARITH[name]

    def vec(a, b):
        ops = _vector_ready((a, b))
        if ops is not None:
            out = na.arith(kernel, *ops)
            if out is not None:
                return out
        out = _keys_arith(kernel, a, b)
        if out is not None:
            return out
        return map_rows(row, [a, b], out_type=pa.binary())
    return vec


def _scaled_operand(v):
    """(decimal128 or integer operand, its display scales: an int, or an int16 array per
    value) of a keys column of several scales (na.keys_vector) or of anything
    ``_operand`` takes; None without a vector form."""
    if pa.types.is_binary(v.type) and not isinstance(v, pa.Scalar):
        got = na.keys_vector(v, with_scales=True)
        if got is None:
            return None
        vec, scales = got
        if isinstance(scales, pa.ChunkedArray):
            scales = scales.combine_chunks() if scales.num_chunks != 1 else scales.chunk(0)
        return vec, scales.to_numpy(zero_copy_only=False).astype("int64")
    o = _operand(v)
    if o is None:
        return None
    return o, (o.type.scale if na.is_decimal(o.type) else 0)


def _keys_arith(kernel, a, b):
    """+ - * where an operand is a keys column of several display scales: computed on
    decimal128 at the largest scale, each result keeping PostgreSQL's scale for its own
    row (the larger scale of the two for + -, their sum for *), back to keys in numpy
    (na.keys_of_scaled). None when a value has no such form (the row bodies then)."""
    if not any(pa.types.is_binary(x.type) and not isinstance(x, pa.Scalar) for x in (a, b)):
        return None
    pa_, pb = _scaled_operand(a), _scaled_operand(b)
    if pa_ is None or pb is None:
        return None
    (x, sx), (y, sy) = pa_, pb
    if isinstance(x, pa.ChunkedArray) and not isinstance(y, pa.ChunkedArray) and \
            not isinstance(y, pa.Scalar):
        x = x.combine_chunks()
    if isinstance(y, pa.ChunkedArray) and not isinstance(x, pa.ChunkedArray) and \
            not isinstance(x, pa.Scalar):
        y = y.combine_chunks()
    out = na.arith(kernel, x, y)
    if out is None:
        return None
    import numpy as np
    scales = np.add(sx, sy) if kernel == "multiply" else np.maximum(sx, sy)
    if isinstance(out, pa.ChunkedArray):
        out = out.combine_chunks() if out.num_chunks != 1 else out.chunk(0)
    if np.ndim(scales) == 0:
        scales = np.full(len(out), int(scales))
    if not na.is_decimal(out.type) or np.any(scales > out.type.scale):
        return None
    return na.keys_of_scaled(out, scales)


def _unary_vector(kernel, row):
    def vec(a):
        if na.is_decimal(a.type) and not isinstance(a, pa.Scalar):
            return getattr(pc, kernel)(a)
        return map_rows(row, [a], out_type=pa.binary())
    return vec


def _digits_vector(mode, row):
    """round/trunc(numeric, n) for n >= 0 given once: Arrow rounds (half away from zero /
    toward zero) keeping the scale; the result shows n digits (numeric_arrays.rescale)."""
    def vec(a, n=None):
        if na.is_decimal(a.type) and not isinstance(a, pa.Scalar) and (
                n is None or (isinstance(n, pa.Scalar) and n.is_valid)):
            digits = 0 if n is None else _as_int(n.as_py())
            if 0 <= digits <= na.MAX_PRECISION:
                out = na.round_to(a, digits, mode)
                if out is not None:
                    return out
        return map_rows(row, [a] if n is None else [a, n], out_type=pa.binary())
    return vec


def _fit_vector(v, p, s):
    if (na.is_decimal(v.type) or pa.types.is_integer(v.type)) and \
            not isinstance(v, pa.Scalar) and isinstance(p, pa.Scalar) and \
            isinstance(s, pa.Scalar) and p.is_valid and s.is_valid and \
            na.storage_type(("numeric", p.as_py(), s.as_py())) is not None:
        return na.fit(v, p.as_py(), s.as_py())
    return map_rows(_fit_row, [v, p, s], out_type=pa.binary())


def _fit_row(v, p, s):
    return numeric.encode(numeric.fit(_dec(v), p, s))


def _compare_row(name):
    import operator
    op = getattr(operator, name)

    def row(a, b):
        return op(numeric.value_part(_key(a)), numeric.value_part(_key(b)))
    return row


def _distinct_row(negate: bool):
    def row(a, b):
        if a is None or b is None:
            same = a is None and b is None
        else:
            same = numeric.value_part(_key(a)) == numeric.value_part(_key(b))
        return same if negate else not same
    return row


def _nullif_row(a, b):
    if a is None or b is None:
        return a
    return None if numeric.value_part(_key(a)) == numeric.value_part(_key(b)) else a


def _scale(key):
    """scale(numeric): the digits after the point; NULL for NaN and infinities."""
    d = _dec(key)
    return numeric.scale_of(d) if d.is_finite() else None


def _min_scale(key):
    """min_scale(numeric): the fewest digits after the point that show the value exactly."""
    d = _dec(key)
    if not d.is_finite():
        return None
    return numeric.scale_of(_trimmed(d))


def _trimmed(d):
    """trim_scale: trailing zeros after the point dropped (1.500 -> 1.5, 0.000 -> 0)."""
    if not d.is_finite() or not d:
        return d if not d.is_finite() else numeric.ZERO
    out = d.normalize(context=numeric.CTX)
    return out.quantize(Decimal(1), context=numeric.CTX) if out.as_tuple().exponent > 0 else out


def _gcd_lcm(lcm: bool):
    """gcd/lcm(numeric, numeric): of the two read as integers at the larger scale, shown
    at that scale (gcd(12.5, 7.5) = 2.5, lcm(4.5, 6) = 18.0); NaN or infinities give NaN."""
    def fn(a, b):
        if not (a.is_finite() and b.is_finite()):
            return numeric.NAN
        scale = max(numeric.scale_of(a), numeric.scale_of(b))
        ia, ib = int(a.scaleb(scale)), int(b.scaleb(scale))
        r = math.lcm(ia, ib) if lcm else math.gcd(ia, ib)
        return numeric.checked(Decimal(r).scaleb(-scale, context=numeric.CTX))
    return fn


def _extract_numeric(value: float, scale: int) -> bytes:
    """date_part's float8 as extract's numeric: the double's shortest digits (exact for
    the microseconds a timestamp holds) rounded to the field's scale."""
    d = numeric.from_real(value)
    return numeric.encode(numeric.round_to(d, scale) if d.is_finite() else d)


# ---- registration --------------------------------------------------------------------

def _as_int(n):
    return n if type(n) is int else numeric.to_int(_dec(n), "integer", -2 ** 31, 2 ** 31 - 1)


def register(reg) -> None:
    def add(name, resolve, row, out_type="binary", strict=True):
        reg.add(ScalarFunction(name, resolve, _vector(row, out_type) if strict else
                               (lambda *a: map_rows(row, a, out_type=getattr(pa, out_type)(),
                                                    strict=False)),
                               row, strict=strict))

    for name, fn in (("add", numeric.add), ("sub", numeric.sub), ("mul", numeric.mul)):
        row = _lift(fn)
        reg.add(ScalarFunction(name, _numbers, _arith_vector(name, row), row))
    for name, fn in (("div", numeric.div), ("mod", numeric.mod),
                     ("div_trunc", numeric.div_trunc)):
        add(name, _numbers, _lift(fn))
    row = _lift(numeric.negate)
    reg.add(ScalarFunction("neg", fixed((NU, NU)), _unary_vector("negate", row), row))
    for name in _KERNELS:
        reg.add(ScalarFunction(name, fixed((NU, NU, B)), _compare_vector(name),
                               _compare_row(name)))
    # nullif(a, b) by value (2.50 and 2.5 are one number): the generic one compares the
    # keys, scale and all (misc.py)
    add("nullif", fixed((NU, NU, NU)), _nullif_row, strict=False)
    add("is_distinct", fixed((NU, NU, B)), _distinct_row(False), "bool_", strict=False)
    add("is_not_distinct", fixed((NU, NU, B)), _distinct_row(True), "bool_", strict=False)

    row = _lift(lambda d: d.copy_abs())
    reg.add(ScalarFunction("abs", fixed((NU, NU)), _unary_vector("abs", row), row))
    add("sign", fixed((NU, NU)), _lift(numeric.sign))
    add("ceil", fixed((NU, NU)), _lift(numeric.ceil))
    add("ceiling", fixed((NU, NU)), _lift(numeric.ceil))
    add("floor", fixed((NU, NU)), _lift(numeric.floor))
    # (numeric, numeric): the binder reads an integer literal beside a numeric as one;
    # (integer, n) too: PostgreSQL casts the integer, so round(7, 2) is 7.00
    digits = fixed((NU, I, NU), (NU, NU, NU), (I, I, NU))
    for name, fn, mode in (("round", numeric.round_to, "half_towards_infinity"),
                           ("trunc", numeric.trunc_to, "towards_zero")):
        row = _lift(lambda d, fn=fn: fn(d, 0))
        reg.add(ScalarFunction(name, fixed((NU, NU)), _digits_vector(mode, row), row))
        row = _lift_n(lambda d, n, fn=fn: fn(d, _as_int(n)), 1)
        reg.add(ScalarFunction(name, digits, _digits_vector(mode, row), row))
    add("sqrt", fixed((NU, NU)), _lift(numeric.sqrt))
    add("ln", fixed((NU, NU)), _lift(numeric.ln))
    add("exp", fixed((NU, NU)), _lift(numeric.exp))
    # log(b, x) is numeric only in PostgreSQL (integers cast to it: log(2, 1024) is
    # 10.0000000000000000); log(x) and log10(x) of a numeric are its base-10 logarithm
    add("log", fixed((NU, NU, NU), (I, NU, NU), (NU, I, NU), (I, I, NU)), _lift(numeric.log))
    for name in ("log", "log10"):
        add(name, fixed((NU, NU)), _lift(lambda d: numeric.log(numeric.TEN, d)))
    for name in ("power", "pow"):
        add(name, _numbers, _lift(numeric.power))
    add("scale", fixed((NU, I)), _scale, "int64")
    add("min_scale", fixed((NU, I)), _min_scale, "int64")
    add("trim_scale", fixed((NU, NU)), _lift(_trimmed))
    for name, lcm in (("gcd", False), ("lcm", True)):
        add(name, fixed((NU, NU, NU), (I, NU, NU), (NU, I, NU)), _lift(_gcd_lcm(lcm)))
    add("extract_numeric", fixed((F, I, NU)), _extract_numeric)
    # the output function, for functions that print their arguments (bind/network_args)
    add("value_out", fixed((NU, T)), numeric.text_of, "large_string")
    each = (lambda a: [None if v is None else numeric.text_of(v) for v in a])   # noqa: E731
    reg.add(ScalarFunction("value_out", fixed((NU + "[]", T + "[]")), lambda a: map_rows(
        each, [a], out_type=pa.list_(pa.large_string())), each))
    reg.add(ScalarFunction("numeric_fit", fixed((NU, I, I, NU), (I, I, I, NU), (F, I, I, NU)),
                           _fit_vector, _fit_row))
