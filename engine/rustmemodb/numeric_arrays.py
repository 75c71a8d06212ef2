"""NUMERIC columns as Arrow ``decimal128``: the vector form of exact decimals.

Why: numeric.py keeps each value as an ordered byte key (exact at any size, NaN and
±Infinity, a display scale per value), which every operation decodes to a Python
``Decimal``: 150-1400x slower than the float8 NUMERIC it replaced. Arrow's ``decimal128``
holds a scaled 128-bit integer per value and one scale per array; Arrow's kernels add,
multiply, compare, sort, hash, sum and group it, and numpy does the rest on the scaled
integers. So a NUMERIC array has two physical forms:

    decimal128(p, s)   the vector form: every value finite, at most 38 digits, all
                       shown with the array's scale ``s``
    binary             numeric.py's ordered keys: anything else (NaN, ±Infinity, more
                       than 38 digits, values of different display scales)

and a NUMERIC row value is a ``Decimal`` (read from the vector form) or a key (bytes):
every row body reads both (numeric.as_decimal). Operators compute in the vector form
when their inputs have it and the result fits (numeric_ops.py), with PostgreSQL's
result scales (add/sub: the larger scale, mul: the sum of the scales, which are also
Arrow's); otherwise they convert to keys (``to_keys``, per value) and compute exactly.

Storage: a ``numeric(p, s)`` column (p <= 38) is stored as ``decimal128(p, s)``: every
value of it shows s digits, as in PostgreSQL, so nothing is lost. An unconstrained
``numeric`` column is declared as keys, since PostgreSQL prints ``1.5`` and ``1.50`` of
one column differently, which one scale per array cannot say; but a chunk whose values
all show one scale (a bulk load of computed values: PostgreSQL's rules make ``int_col *
1.5`` scale 1 on every row; an Arrow decimal128 load) holds decimal128 (``store_cast``,
``stored_decimal``), and scans hand it on as such when all chunks agree (``unify``).
Rows of several scales in one chunk stay keys, but sum/avg (scalar and grouped) and
+ - * read them in numpy (``keys_vector``: decimal128 at the largest scale, each value's
display scale beside it; ``keys_of_scaled`` writes keys back from decimal128 and those
scales), a frozen chunk's decoded form kept; min/max compare the keys themselves.

Still by rows: division and mod (select_div_scale gives each row its own scale), the
math functions (sqrt, ln, exp, power), casts from text and float8 (a scale per value),
window sums, and keys with more than 18 significant digits, NaN or ±Infinity (and + - *
results past 18 digits). Where the forms meet (CASE,
coalesce, UNION, a cluster's shards) ``one_form`` / ``concat_tables`` turn decimal128
into keys unless all share one scale. A sum reads 16 bytes a value against float8's 8:
over millions of rows it is memory-bound at about twice float8's time.
"""
from __future__ import annotations

from decimal import Decimal

from .lazy_import import arrow as pa, compute as pc, numpy as np

from . import numeric

MAX_PRECISION = 38
_INT64_DIGITS = 18           # every 18-digit scaled integer fits an int64


def is_numeric_form(t) -> bool:
    """Whether an Arrow type holds numerics: decimal128 (of a scale) or keys (binary)."""
    return is_decimal(t) or pa.types.is_binary(t)


def is_decimal(t) -> bool:
    return pa.types.is_decimal128(t)


def storage_type(typmod):
    """The Arrow type a column with this typmod stores numerics as (None: keys)."""
    if type(typmod) is tuple and len(typmod) == 3 and typmod[0] == "numeric" and \
            typmod[1] is not None and 0 < typmod[1] <= MAX_PRECISION and \
            0 <= typmod[2] <= typmod[1]:
        return pa.decimal128(typmod[1], typmod[2])
    return None


def digits_of(d: Decimal) -> tuple[int, int]:
    """(precision, scale) a finite normal Decimal needs as decimal128."""
    sign, digits, exponent = d.as_tuple()
    scale = -exponent if exponent < 0 else 0
    n = len(digits) + (exponent if exponent > 0 else 0)
    return max(n, scale, 1), scale


def fits(d: Decimal) -> bool:
    return d.is_finite() and digits_of(d)[0] <= MAX_PRECISION


# ---- conversions ------------------------------------------------------------------------

def to_keys(values):
    """A decimal128 array, chunked array or scalar as numeric.py's keys (per value)."""
    if isinstance(values, pa.Scalar):
        return pa.scalar(None if not values.is_valid else numeric.encode(values.as_py()),
                         pa.binary())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return pa.array([None if v is None else numeric.encode(v) for v in values.to_pylist()],
                    pa.binary())


def as_keys(values):
    """Keys from either form (other types pass)."""
    return to_keys(values) if is_decimal(values.type) else values


def decimal_scalar(value):
    """A numeric scalar (key, Decimal or decimal128) as a decimal128 scalar, or None when
    the value has no vector form (NaN, infinity, more than 38 digits)."""
    if isinstance(value, pa.Scalar):
        if is_decimal(value.type):
            return value
        if not value.is_valid:
            return pa.scalar(None, pa.decimal128(1, 0))
        value = value.as_py()
    d = numeric.as_decimal(value) if not isinstance(value, Decimal) else value
    if not fits(d):
        return None
    p, s = digits_of(d)
    return pa.scalar(d, pa.decimal128(p, s))


def from_keys(values, scale: int | None = None):
    """Keys as decimal128 at ``scale`` (default: the largest scale among them) when every
    value has a vector form and, with no scale given, all show the same scale; else None."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    ds = [None if k is None else numeric.decode(k) for k in values.to_pylist()]
    scales = {numeric.scale_of(d) for d in ds if d is not None}
    if not all(d is None or d.is_finite() for d in ds):
        return None
    if scale is None:
        if len(scales) > 1:
            return None
        scale = scales.pop() if scales else 0
    p = max([digits_of(d)[0] - digits_of(d)[1] for d in ds if d is not None] or [1]) + scale
    if p > MAX_PRECISION:
        return None
    return pa.array(ds, pa.decimal128(max(p, 1), scale))


def unscaled64(values):
    """The scaled integers of a decimal128 array whose precision is at most 18, as an
    int64 numpy view (no copy; NULL slots hold garbage: see the validity), else None."""
    t = values.type
    if not is_decimal(t) or t.precision > _INT64_DIGITS:
        return None
    words = np.frombuffer(values.buffers()[1], dtype=np.int64)
    return words[2 * values.offset:2 * (values.offset + len(values)):2]


def from_unscaled64(ints, precision: int, scale: int, validity=None):
    """A decimal128(precision, scale) array holding these scaled int64 integers."""
    buffer, words = _words(len(ints))
    words[:, 0] = ints
    np.right_shift(ints, 63, out=words[:, 1])       # the sign, extended
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(ints),
                                 [validity, buffer])


def _words(n: int):
    """A new buffer of ``n`` 16-byte decimal128 values from Arrow's memory pool, and a
    writable (n, 2) int64 numpy view of it. The pool keeps freed memory for reuse, where
    numpy's allocations of a megabyte are fresh pages each time: on 5M rows a numpy
    buffer per 64k-row chunk made ``x * 2 + 1`` 5x slower (page faults)."""
    buffer = pa.allocate_buffer(16 * n)
    return buffer, np.frombuffer(buffer, dtype=np.int64).reshape(n, 2)


def sum_exact(values) -> Decimal | None:
    """The exact sum of a decimal128 array or chunked array (None when all are NULL):
    numpy over the scaled integers where they fit int64, Arrow's sum otherwise."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    total, seen, scale = 0, False, values.type.scale
    for c in chunks:
        if len(c) == c.null_count:
            continue
        seen = True
        ints = unscaled64(c) if not c.null_count else None
        if ints is not None:
            exact = int(np.add.reduce(ints))
            if len(ints) * 10 ** c.type.precision < 2 ** 63:
                total += exact
                continue
            # int64 may have wrapped: a float sum says (a wrap is off by 2**64; the
            # float's error is far below 2**62 for any 18-digit values)
            shadow = float(ints.sum(dtype=np.float64))
            if abs(shadow) < 2.0 ** 62 and abs(shadow - exact) < 2.0 ** 62:
                total += exact
                continue
        total += _wide_sum(c)
    return Decimal(total).scaleb(-scale, context=numeric.CTX) if seen else None


def min_max_exact(values, fn: str):
    """min or max of a decimal128 array or chunked array whose precision is at most 18
    (numpy over the scaled integers: Arrow's decimal min/max is ~10x slower), as a
    Decimal shown at the array's scale (None when all are NULL); NotImplemented for
    wider precisions."""
    if values.type.precision > _INT64_DIGITS:
        return NotImplemented
    pick = np.minimum.reduce if fn == "min" else np.maximum.reduce
    best = None
    for c in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        if len(c) == c.null_count:
            continue
        ints = unscaled64(c)
        if c.null_count:
            ints = ints[np.asarray(c.is_valid())]
        found = int(pick(ints))
        best = found if best is None else (min if fn == "min" else max)(best, found)
    if best is None:
        return None
    return Decimal(best).scaleb(-values.type.scale, context=numeric.CTX)


def _wide_sum(c) -> int:
    """The exact sum of a decimal128 array's scaled integers of any size (Arrow's decimal
    sum wraps past 38 digits; PostgreSQL's numeric just grows): each 128-bit value read
    as four 32-bit words, each word column summed in int64 (no sum of 2**31 words of 32
    bits can wrap), recombined as Python ints."""
    words = np.frombuffer(c.buffers()[1], dtype=np.uint32)[4 * c.offset:4 * (c.offset + len(c))]
    words = words.reshape(-1, 4)
    if c.null_count:
        words = words[np.asarray(c.is_valid())]
    low = [int(words[:, i].sum(dtype=np.int64)) for i in range(3)]
    top = int(words[:, 3].view(np.int32).sum(dtype=np.int64))
    return low[0] + (low[1] << 32) + (low[2] << 64) + (top << 96)


def sum_may_wrap(values, n: int) -> bool:
    """Whether a sum of ``n`` values of this decimal128 column could pass 38 digits
    (Arrow's grouped sum would wrap): decided by the precision, else by the values."""
    t = values.type
    if 10 ** t.precision * max(n, 1) < 10 ** MAX_PRECISION:
        return False
    mm = pc.min_max(values)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if lo is None:
        return False
    bound = max(abs(lo), abs(hi)).scaleb(t.scale, context=numeric.CTX)
    return bound * max(n, 1) >= 10 ** MAX_PRECISION


def tight(values):
    """The array with the smallest precision its values need (Arrow's result types
    grow by the inputs' declared precisions)."""
    t = values.type
    if isinstance(values, pa.Scalar):
        return values
    if pa.types.is_integer(t):
        values = values.cast(pa.decimal128(19 if t.bit_width == 64 else 10, 0))
        t = values.type
    mm = pc.min_max(values)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if lo is None:
        return values.cast(pa.decimal128(max(1, t.scale), t.scale))
    need = max(digits_of(abs(lo))[0], digits_of(abs(hi))[0], t.scale, 1)
    # the min/max show the array's scale: their digits count the scale already
    return values.cast(pa.decimal128(min(max(need, 1), MAX_PRECISION), t.scale)) \
        if need < t.precision else values


# ---- kernels ------------------------------------------------------------------------------

def arith(kernel: str, a, b):
    """a + - * b over decimal128 (and integer) operands, or None when the result needs
    more than 38 digits (the caller computes it by rows, exactly)."""
    fast = _scaled_int_product(a, b) if kernel == "multiply" else \
        _scaled_int_shift(kernel, a, b) if kernel in ("add", "subtract") else None
    if fast is not None:
        return fast
    fn = getattr(pc, kernel)
    try:
        return fn(a, b)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass      # the declared precisions overflow 38: try what the values need
    try:
        return fn(tight(a), tight(b))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _scaled_int_product(a, b):
    """int64 (or decimal128 of at most 18 digits) array times a decimal scalar, in numpy
    on the scaled integers when no product can leave int64 (``sum(i * 1.5)``)."""
    if isinstance(a, pa.Scalar):
        a, b = b, a
    if isinstance(a, pa.Scalar) or not isinstance(b, pa.Scalar) or \
            not is_decimal(b.type) or not b.is_valid:
        return None
    if isinstance(a, pa.ChunkedArray):      # chunk by chunk, all typed (18, s)
        parts = [_scaled_int_product(c, b) for c in a.chunks]
        if not parts or any(p is None for p in parts):
            return None
        t = pa.decimal128(max(p.type.precision for p in parts), parts[0].type.scale)
        return pa.chunked_array([p.cast(t) if p.type != t else p for p in parts], t)
    if pa.types.is_int64(a.type):
        ints, scale = np.frombuffer(a.buffers()[1], np.int64)[a.offset:a.offset + len(a)], 0
    else:
        ints, scale = unscaled64(a), a.type.scale if is_decimal(a.type) else 0
    if ints is None or not len(ints):
        return None
    if scale + b.type.scale > _INT64_DIGITS:
        return None
    factor = int(b.as_py().scaleb(b.type.scale, context=numeric.CTX))
    if is_decimal(a.type) and (10 ** a.type.precision - 1) * abs(factor) < 10 ** _INT64_DIGITS:
        # the declared precision bounds every product: no pass over the values, and the
        # result declares the digits it may need (the next operator's bound)
        precision = max(len(str((10 ** a.type.precision - 1) * abs(factor))), 1)
    else:
        lo, hi = (int(x) for x in (ints.min(), ints.max())) if not a.null_count else \
            _valid_bounds(a, ints)
        bound = max(abs(lo), abs(hi)) * abs(factor)
        if bound >= 10 ** _INT64_DIGITS:
            return None
        precision = _INT64_DIGITS       # the bound is below 10**18: every product fits
    return _ints_op(np.multiply, ints, factor, precision, scale + b.type.scale, a)


def _ints_op(op, ints, other, precision: int, scale: int, like, flip: bool = False):
    """A decimal128(precision, scale) array of ``op(ints, other)`` (``op(other, ints)``
    with ``flip``; scaled int64 integers known to fit), written straight into the
    16-byte words (no temporary), with the validity of ``like``."""
    buffer, words = _words(len(ints))
    if flip:
        op(np.int64(other), ints, out=words[:, 0])
    else:
        op(ints, other, out=words[:, 0])
    np.right_shift(words[:, 0], 63, out=words[:, 1])       # the sign, extended
    validity = None if not like.null_count else (
        like.buffers()[0] if not like.offset else _validity(like))
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(ints),
                                 [validity, buffer])


def _scaled_int_shift(kernel: str, a, b):
    """decimal128 array (at most 18 digits) plus or minus a decimal or integer scalar
    (either side), in numpy on the scaled integers when no result can leave 18 digits
    (``x * 2 + 1``); the result's scale is the larger one (PostgreSQL's and Arrow's)."""
    flip = isinstance(a, pa.Scalar)
    arr, sc = (b, a) if flip else (a, b)
    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks and is_decimal(arr.type):
        parts = [_scaled_int_shift(kernel, *((sc, c) if flip else (c, sc))) for c in arr.chunks]
        if any(p is None for p in parts):
            return None
        return pa.chunked_array(parts, parts[0].type)
    if not isinstance(arr, pa.Array) or not isinstance(sc, pa.Scalar) or not sc.is_valid \
            or not is_decimal(arr.type) or not len(arr):
        return None
    ints = unscaled64(arr)
    if ints is None:
        return None
    if pa.types.is_integer(sc.type):
        value, s_scale = Decimal(sc.as_py()), 0
    elif is_decimal(sc.type):
        value, s_scale = sc.as_py(), sc.type.scale
    else:
        return None
    scale = max(arr.type.scale, s_scale)
    up = 10 ** (scale - arr.type.scale)
    const = int(value.scaleb(scale, context=numeric.CTX))
    bound = (10 ** arr.type.precision - 1) * up + abs(const)   # by the declared precision
    if bound < 10 ** _INT64_DIGITS:
        precision = len(str(bound))
    else:
        lo, hi = (int(x) for x in (ints.min(), ints.max())) if not arr.null_count else \
            _valid_bounds(arr, ints)
        if (max(abs(lo), abs(hi)) * up + abs(const)) >= 10 ** _INT64_DIGITS:
            return None
        precision = _INT64_DIGITS
    if up != 1:
        ints = ints * up
    if kernel == "add":
        return _ints_op(np.add, ints, const, precision, scale, arr)
    return _ints_op(np.subtract, ints, const, precision, scale, arr, flip)


def _valid_bounds(a, ints):
    valid = np.asarray(a.is_valid())
    picked = ints[valid]
    if not len(picked):
        return 0, 0
    return int(picked.min()), int(picked.max())


def _validity(a):
    return pa.array(np.asarray(a.is_valid())).buffers()[1]


def round_to(values, digits: int, mode: str):
    """round/trunc to ``digits`` >= 0 places, shown with exactly that many (PostgreSQL):
    Arrow rounds keeping the array's scale; the rescale after is exact."""
    t = values.type
    if digits < t.scale:
        values = pc.round(_carry_room(values), ndigits=digits, round_mode=mode)
        precision = t.precision - t.scale + digits + 1       # 9.99 -> 10.0: one more digit
    else:
        precision = t.precision - t.scale + digits
    if precision > MAX_PRECISION:
        return None
    return values.cast(pa.decimal128(max(precision, 1), digits))


def _carry_room(values):
    """The array with one more digit of precision (if it has less than 38): rounding
    999.99 to one place gives 1000.0, which decimal128(5, 2) cannot hold."""
    t = values.type
    if t.precision < MAX_PRECISION:
        return values.cast(pa.decimal128(t.precision + 1, t.scale))
    return values


def fit(values, precision: int, scale: int):
    """Values (decimal128 or integers) as numeric(precision, scale) holds them: rounded
    half away from zero to ``scale`` digits; 22003 when the digits before the point do
    not fit (numeric.fit's error, for the first value that does not)."""
    if pa.types.is_integer(values.type):
        values = values.cast(pa.decimal128(19 if values.type.bit_width == 64 else 10, 0))
    t = values.type
    if t.scale > scale:
        values = pc.round(_carry_room(values), ndigits=scale, round_mode="half_towards_infinity")
        t = values.type
    if t.precision - t.scale + scale > MAX_PRECISION:
        values = tight(values)
        t = values.type
    if t.precision - t.scale + scale > MAX_PRECISION:
        return _fit_by_rows(values, precision, scale)
    wide = values.cast(pa.decimal128(t.precision - t.scale + scale, scale))
    try:
        return wide.cast(pa.decimal128(precision, scale))
    except pa.ArrowInvalid:
        return _fit_by_rows(values, precision, scale)


def _fit_by_rows(values, precision: int, scale: int):
    out = [None if d is None else numeric.fit(d, precision, scale)
           for d in values.to_pylist()]         # raises numeric.fit's 22003
    return pa.array(out, pa.decimal128(precision, scale))


def cast_to(values, t):
    """``values.cast(t)`` where either side may be a numeric form: into a decimal128
    column the values are fitted to its numeric(p, s) (rounded; 22003), into keys a
    decimal128 array is encoded. Every other pair is Arrow's cast."""
    if values.type == t:
        return values
    if is_decimal(t):
        src = values.type
        if is_decimal(src) or pa.types.is_integer(src):
            return fit(values, t.precision, t.scale)
        if pa.types.is_null(src):
            return pa.nulls(len(values), t)
        if pa.types.is_binary(src) or pa.types.is_floating(src):
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            return pa.array([None if v is None else numeric.fit(
                numeric.as_decimal(v), t.precision, t.scale) for v in values.to_pylist()], t)
    if pa.types.is_binary(t) and is_decimal(values.type):
        return to_keys(values)
    return values.cast(t)


def keep_form(values, want) -> bool:
    """Whether an array of a NUMERIC expression may stay as it is where ``want`` (keys,
    types.arrow_type) is asked for: the vector form is a NUMERIC column's form too."""
    return is_decimal(values.type) and pa.types.is_binary(want)


def array_of(values: list, t):
    """pa.array(values, t) for Python values, where numerics may be Decimals or keys,
    also as the elements of lists (array_agg of a numeric(p, s) column into NUMERIC[])."""
    if pa.types.is_binary(t) and any(isinstance(v, Decimal) for v in values):
        values = [numeric.encode(v) if isinstance(v, Decimal) else v for v in values]
    elif is_decimal(t) and any(type(v) is bytes for v in values):
        values = [numeric.decode(v) if type(v) is bytes else v for v in values]
    elif (pa.types.is_list(t) or pa.types.is_large_list(t)) and \
            (pa.types.is_binary(t.value_type) or is_decimal(t.value_type)):
        values = [None if v is None else array_of(list(v), t.value_type).to_pylist()
                  for v in values]
    return pa.array(values, t)


def from_integers(values):
    """An int64 array as numeric (scale 0): decimal128(18, 0) when every value has at
    most 18 digits (numpy then reads the scaled integers: unscaled64), else (19, 0)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not pa.types.is_int64(values.type):
        values = values.cast(pa.int64())
    ints = np.frombuffer(values.buffers()[1], np.int64)[values.offset:values.offset + len(values)] \
        if len(values) else np.zeros(0, np.int64)
    if values.null_count:
        lo, hi = _valid_bounds(values, ints)
    else:
        lo, hi = (int(ints.min()), int(ints.max())) if len(ints) else (0, 0)
    precision = 18 if max(abs(lo), abs(hi)) < 10 ** _INT64_DIGITS else 19
    validity = None if not values.null_count else (
        values.buffers()[0] if not values.offset else _validity(values))
    return from_unscaled64(np.ascontiguousarray(ints), precision, 0, validity)


def common_keys(a, b):
    """Two numeric key columns (a join's sides, compared by value) in one form: both
    decimal128 at the larger scale, or both keys; None when neither is decimal128."""
    if not (is_decimal(a.type) or is_decimal(b.type)):
        return None
    if is_decimal(a.type) and is_decimal(b.type):
        ta, tb = a.type, b.type
        scale = max(ta.scale, tb.scale)
        precision = max(ta.precision - ta.scale, tb.precision - tb.scale) + scale
        if precision <= MAX_PRECISION:
            t = pa.decimal128(precision, scale)
            return a.cast(t), b.cast(t)
    return as_keys(a), as_keys(b)


def cast_table(table, schema, store: bool = False):
    """``table.cast(schema)`` with numeric columns converted by ``cast_to`` (Arrow would
    read keys as decimal text, and has no decimal128 -> binary cast); ``store``: for a
    table's rows, decimal128 bound for keys stays decimal128 (``store_cast``)."""
    if not any(is_decimal(f.type) or is_decimal(c.type)
               for f, c in zip(schema, table.columns)):
        return table.cast(schema)
    convert = store_cast if store else cast_to
    arrays = [c if c.type == f.type else convert(c, f.type)
              for c, f in zip(table.columns, schema)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(
        [f.with_type(a.type) for f, a in zip(schema, arrays)], schema.metadata))


# A keys column leaving the engine (cursor.arrow(): the cluster moves results between
# shards as Arrow) says it holds numerics in its field metadata, so a table registered
# from it reads the column as NUMERIC, not as the bytea its Arrow type would say.
KEY_TAG = {b"rustmemodb.type": b"NUMERIC"}


# a jsonb column (large_string, as text's) says so too: read back from a registered
# table (the cluster's exchanges) it is jsonb again, compared and hashed as documents
JSONB_TAG = {b"rustmemodb.type": b"JSONB"}
_JSONB = "JSON"          # types.JSON (types imports this module's neighbours: no import)


def tag_keys(table, sql_types):
    """The table with each keys column of a NUMERIC result tagged (KEY_TAG), and each
    jsonb column (JSONB_TAG)."""
    fields = list(table.schema)
    changed = False
    for i, t in enumerate(sql_types):
        if t == numeric.NUMERIC and i < len(fields) and pa.types.is_binary(fields[i].type) \
                and fields[i].metadata != KEY_TAG:
            fields[i] = fields[i].with_metadata(KEY_TAG)
            changed = True
        elif t == _JSONB and i < len(fields) and pa.types.is_large_string(fields[i].type) \
                and fields[i].metadata != JSONB_TAG:
            fields[i] = fields[i].with_metadata(JSONB_TAG)
            changed = True
    return table.cast(pa.schema(fields, table.schema.metadata)) if changed else table


def tagged_jsonb(field) -> bool:
    return pa.types.is_large_string(field.type) and bool(field.metadata) and \
        field.metadata.get(b"rustmemodb.type") == b"JSONB"


def tagged_numeric(field) -> bool:
    return pa.types.is_binary(field.type) and bool(field.metadata) and \
        field.metadata.get(b"rustmemodb.type") == b"NUMERIC"


def column_of(values: list):
    """A NUMERIC result column from row values (Decimals or keys): decimal128 when every
    value has a vector form and all show one scale (nothing of the text is lost), else
    keys."""
    ds = [None if v is None else numeric.decode(v) for v in values]
    finite = [d for d in ds if d is not None]
    if all(fits(d) for d in finite) and len({numeric.scale_of(d) for d in finite}) <= 1:
        scale = numeric.scale_of(finite[0]) if finite else 0
        whole = max([digits_of(d)[0] - digits_of(d)[1] for d in finite] or [1])
        if whole + scale <= MAX_PRECISION:
            return pa.array(ds, pa.decimal128(max(whole + scale, 1), scale))
    return pa.array([None if d is None else numeric.encode(d) for d in ds], pa.binary())


def one_form(args):
    """Operands of a function over values of one SQL type (coalesce, greatest, CASE arms)
    in one Arrow form: as they are unless decimal128 meets keys or another scale (a
    common scale would change how values print), then all as keys; decimal128 of one
    scale and several precisions widened to the largest (Arrow's element-wise kernels
    want one type)."""
    forms = {a.type for a in args if is_numeric_form(a.type)}
    if not any(is_decimal(t) for t in forms) or (
            len(forms) == 1 and not any(pa.types.is_binary(t) for t in forms)):
        return list(args)
    if all(is_decimal(t) for t in forms) and len({t.scale for t in forms}) == 1:
        wide = max(forms, key=lambda t: t.precision)
        return [a.cast(wide) if is_decimal(a.type) and a.type != wide else a for a in args]
    return [as_keys(a) for a in args]


def as_key_value(v):
    """A numeric row value as a key (Decimals from the vector form), others as they are:
    for row bodies that compare values of any type with each other."""
    return numeric.encode(v) if isinstance(v, Decimal) else v


def concat_tables(tables, **options):
    """``pa.concat_tables`` of results that may hold one numeric column in different
    forms (a shard answering from its rows has keys, another from decimal128 chunks):
    such a column becomes one form first (``one_form``; decimal128 of one scale widened
    to one precision), so nothing of the values or their text changes."""
    tables = list(tables)
    if len(tables) > 1 and any(not t.schema.equals(tables[0].schema) for t in tables[1:]) \
            and all(t.num_columns == tables[0].num_columns for t in tables):
        for i in range(tables[0].num_columns):
            cols = [t.column(i) for t in tables]
            kinds = {c.type for c in cols}
            if len(kinds) < 2 or not any(is_decimal(k) for k in kinds):
                continue
            cols = one_form(cols)
            kinds = {c.type for c in cols}
            if len(kinds) > 1 and all(is_decimal(k) for k in kinds):
                t = pa.decimal128(max(k.precision for k in kinds), kinds.pop().scale)
                cols = [c.cast(t) for c in cols]
            for j, c in enumerate(cols):
                field = tables[j].schema.field(i)
                meta = KEY_TAG if pa.types.is_binary(c.type) and \
                    (is_decimal(field.type) or tagged_numeric(field)) else field.metadata
                tables[j] = tables[j].set_column(
                    i, pa.field(field.name, c.type, metadata=meta), c)
    return pa.concat_tables(tables, **options)


# ---- unconstrained columns: stored chunks in the vector form ------------------------------
#
# An unconstrained ``numeric`` column's declared Arrow type is keys (binary: numeric.py),
# but a chunk of it may hold decimal128(18 or 38, S) instead when every value of that
# chunk shows S digits (Arrow loads of decimal128, CREATE TABLE AS of computed values,
# INSERT ... SELECT of expressions: PostgreSQL's result-scale rules give every row of a
# computed column one scale). Nothing of a value's text is lost: a decimal128 array
# means "every value shows the array's scale". Rows inserted one by one (the tail) stay
# keys, as do values of different scales in one load. Scans read the vector form when
# all chunks of a column share one scale (``unify``); every other reader gets keys
# (``conform`` in storage/chunk.py), so indexes, row diffs and checks see one form.

def stored_decimal(values):
    """A decimal128 array as an unconstrained column's chunks hold it: its own precision
    up to 18 (numpy reads the scaled integers as int64: ``unscaled64``, and a sum of
    small precisions needs no overflow check), else 18 when every value fits, else 38.
    A scan widens chunks of one scale to one precision (``unify``)."""
    t = values.type
    if t.precision <= _INT64_DIGITS or t.precision == MAX_PRECISION:
        return values
    try:
        return values.cast(pa.decimal128(_INT64_DIGITS, t.scale))
    except pa.ArrowInvalid:
        return values.cast(pa.decimal128(MAX_PRECISION, t.scale))


def store_cast(values, t):
    """``cast_to`` for values going into a table column of Arrow type ``t``: a
    decimal128 array bound for keys (an unconstrained numeric column) stays decimal128
    (``stored_decimal``; the table decides at insert whether it may, see storage)."""
    if pa.types.is_binary(t) and is_decimal(values.type):
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        return stored_decimal(values)
    return cast_to(values, t)


def from_decimals(values: list):
    """Python Decimals (or None) bound for an unconstrained numeric column (executemany)
    as one array: decimal128 when all are finite and show one scale (precision as
    ``stored_decimal``), else keys; None when some value is not a Decimal (the row path
    converts it)."""
    if not set(map(type, values)) <= {Decimal, type(None)}:
        return None
    exponents = {d.as_tuple().exponent for d in values if d is not None}
    if len(exponents) <= 1 and all(type(e) is int for e in exponents):
        e = exponents.pop() if exponents else 0
        try:
            return stored_decimal(pa.array(values, pa.decimal128(MAX_PRECISION, max(-e, 0))))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass        # more than 38 digits: keys
    return pa.array([None if d is None else numeric.encode(numeric.as_decimal(d))
                     for d in values], pa.binary())


def stored_as(got, want) -> bool:
    """Whether a stored column of Arrow type ``got`` is a valid form of a column whose
    declared type is ``want``: the same type, or decimal128 for keys."""
    return got == want or (pa.types.is_binary(want) and is_decimal(got))


def unify(columns: list, want):
    """Arrays of one stored column (chunk by chunk) in one Arrow type: decimal128 of one
    scale (precision widened to the largest) when every array is decimal128 of that
    scale, else all keys. Returns (arrays, type)."""
    kinds = {c.type for c in columns}
    if not kinds or kinds == {want}:
        return columns, want
    # arrays of NULLs only take either form (pa.nulls)
    valued = {c.type for c in columns if c.null_count != len(c)}
    if valued and all(is_decimal(k) for k in valued) and len({k.scale for k in valued}) == 1:
        t = pa.decimal128(max(k.precision for k in valued), next(iter(valued)).scale)
        return [c if c.type == t else pa.nulls(len(c), t) if c.null_count == len(c) else
                c.cast(t) for c in columns], t
    return [as_keys(c) if c.null_count != len(c) or not is_decimal(c.type) else
            pa.nulls(len(c), want) for c in columns], want


# ---- keys of mixed display scales, read as one array ---------------------------------------

_POW10 = None


def _pow10():
    global _POW10
    if _POW10 is None:
        _POW10 = np.array([10 ** i for i in range(_INT64_DIGITS + 1)], dtype=np.int64)
    return _POW10


def _decode_keys(c):
    """(significant digits as int64, power of ten of the last one, largest display scale
    or None when no value, validity bitmap or None, number of significant digits, display
    scale of each value) of a binary array of keys; None when a value is not finite or
    has more than 18 significant digits."""
    n = len(c)
    if n == 0 or c.null_count == n:
        zeros = np.zeros(n, np.int64)
        return (zeros, zeros, None, pc.is_valid(c).buffers()[1] if n else None, zeros, zeros)
    offsets = np.frombuffer(c.buffers()[1], dtype=np.int32)[c.offset:c.offset + n + 1]
    data = np.frombuffer(c.buffers()[2], dtype=np.uint8)
    starts, ends = offsets[:-1].astype(np.int64), offsets[1:].astype(np.int64)
    lengths = ends - starts
    valid = lengths > 0                   # a key has at least 3 bytes; NULL slots none
    if c.null_count:
        valid &= np.asarray(c.is_valid(), dtype=bool)
    top = len(data) - 1
    cls = np.where(valid, data[np.minimum(starts, top)], 2)
    if ((cls != 1) & (cls != 2) & (cls != 3)).any():
        return None                       # NaN or an infinity
    ndig = np.where(valid & (cls != 2), lengths - 8, 0)
    width = int(ndig.max())
    if width > _INT64_DIGITS:
        return None
    neg = cls == 1
    scales = (data[np.maximum(ends - 2, 0)].astype(np.int64) << 8) | \
        data[np.maximum(ends - 1, 0)]
    # the exponent (4 bytes) and the digits (one byte each) of every key in one gather;
    # a negative number's body is inverted
    body = data[np.minimum(starts[:, None] + np.arange(1, 5 + width), top)]
    body = np.where(neg[:, None], np.uint8(255) - body, body)
    adjusted = np.ascontiguousarray(body[:, :4]).view(">u4").ravel().astype(np.int64) - 2 ** 31
    sig = np.zeros(n, np.int64)
    if width:
        digits = body[:, 4:].astype(np.int64) - 1
        digits[np.arange(width) >= ndig[:, None]] = 0
        pow10 = _pow10()
        # left-aligned digits read as a width-digit integer, then the missing places cut
        sig = (digits @ pow10[width - 1::-1]) // pow10[width - ndig]
    sig = np.where(neg, -sig, sig)
    last = np.where(cls == 2, 0, adjusted - ndig + 1)     # the last digit's power of ten
    live = valid & (cls != 2)
    scales = np.where(valid, scales, 0)
    validity = pc.is_valid(c).buffers()[1] if c.null_count else None
    # zeros and NULLs: sig 0, last 0; the exponent needed to reach a scale is checked there
    return (np.where(live, sig, 0), np.where(live, last, 0),
            int(scales[valid].max()) if valid.any() else None, validity, ndig, scales)


def _at_scale(part, scale: int):
    """decimal128(p, scale) of a decoded chunk (``_decode_keys``): int64 where every
    value fits 18 digits at that scale, else 128-bit words (a value's significant digits
    times at most 10**19); None past that or 38 digits."""
    sig, last, _, validity, ndig, _ = part
    shift = last + scale                  # >= 0: no value shows more digits than ``scale``
    if not len(sig):
        return from_unscaled64(sig, max(scale, 1), scale, validity)
    digits = int((ndig + shift).max())
    precision = max(digits, scale, 1)
    if shift.min() < 0 or precision > MAX_PRECISION:
        return None
    if digits <= _INT64_DIGITS:
        return from_unscaled64(sig * _pow10()[shift], precision, scale, validity)
    buffer, words = _words(len(sig))
    first = np.minimum(shift, 19)
    lo, hi = _times_power_of_ten(np.abs(sig).astype(np.uint64), first)
    if (shift > first).any():             # the rest of the shift: (hi, lo) * 10**k
        rest = shift - first              # (no carry past 128 bits: at most 38 digits)
        lo2, carry = _times_power_of_ten(lo, rest)
        hi = hi * np.array([10 ** i for i in range(20)], dtype=np.uint64)[rest] + carry
        lo = lo2
    neg = sig < 0                          # two's complement of the 128-bit magnitude
    lo_n = ~lo + np.uint64(1)
    hi_n = ~hi + (lo_n == 0).astype(np.uint64)
    words[:, 0] = np.where(neg, lo_n, lo).view(np.int64)
    words[:, 1] = np.where(neg, hi_n, hi).view(np.int64)
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(sig), [validity, buffer])


def _times_power_of_ten(x, shift):
    """(low, high) 64-bit words of ``x * 10**shift`` (uint64 x, shift <= 19), by 32-bit
    limbs (numpy has no 128-bit integers)."""
    mask = np.uint64(0xFFFFFFFF)
    y = np.array([10 ** i for i in range(20)], dtype=np.uint64)[shift]
    x0, x1, y0, y1 = x & mask, x >> np.uint64(32), y & mask, y >> np.uint64(32)
    p00, p01, p10, p11 = x0 * y0, x0 * y1, x1 * y0, x1 * y1
    mid = (p00 >> np.uint64(32)) + (p01 & mask) + (p10 & mask)
    lo = (p00 & mask) | (mid << np.uint64(32))
    hi = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))
    return lo, hi


# A chunk's column of keys is read again by every aggregate over it; decoding it costs
# ~0.1 µs a value (numpy), its decimal128 form ~nothing to sum. Frozen chunks never
# change, so the decoded form is kept, keyed by the key array's buffers (the entry holds
# the array: its buffers, hence the key, cannot be reused while the entry lives), least
# recently used first out past _CACHE_BYTES. A filtered or computed array is decoded
# and dropped (its buffers are new each time: it would only evict the chunks' entries).
_CACHE_BYTES = 64 << 20
_cache: "dict" = {}
_cache_bytes = [0]
_cache_lock = __import__("threading").Lock()


def keys_vector(values, with_scales: bool = False):
    """Keys (numeric.py's ordered bytes, any mix of display scales: an array or chunked
    array) as decimal128 at the largest scale among them, decoded in numpy; None when
    some value has no such form (NaN, ±Infinity, more than 18 digits at that scale).

    Why: an unconstrained column written with several scales (executemany of
    ``Decimal(i) / 100``, ``float_col::numeric``) stays keys, and reading each key as a
    Decimal cost ~3 µs a value. A sum or avg of such a column is the sum of the values at
    the largest scale (PostgreSQL's sum shows the largest scale of its inputs), so each
    value's own display scale may be dropped there; min/max read the keys themselves
    (they order as the numbers do) and keep each value's scale. A chunk's decoded form
    is kept (see above). ``with_scales``: (that array, each value's display scale as
    int16 (0 where NULL), chunked alike), or None."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    arrays, scales = [], []
    for c in chunks:
        key = _cache_key(c)
        with _cache_lock:
            hit = _cache.pop(key, None) if key is not None else None
            if hit is not None:
                _cache[key] = hit                # most recently used: last
        if hit is None:
            part = _decode_keys(c)
            hit = (c, None, None) if part is None else \
                (c, _at_scale(part, part[2] or 0), pa.array(part[5].astype(np.int16)))
            if key is not None and len(c) >= 4096:
                _remember(key, hit, 19 * len(c))
        if hit[1] is None:
            return None
        arrays.append(hit[1])
        scales.append(hit[2])
    scale = max([a.type.scale for a in arrays] or [0])
    whole = max([a.type.precision - a.type.scale for a in arrays] or [1])
    if whole + scale > MAX_PRECISION:
        return None
    t = pa.decimal128(max(whole + scale, 1), scale)
    arrays = [a.cast(t) if a.type != t else a for a in arrays]
    if not isinstance(values, pa.ChunkedArray):
        return (arrays[0], scales[0]) if with_scales else arrays[0]
    out = pa.chunked_array(arrays, t)
    return (out, pa.chunked_array(scales, pa.int16())) if with_scales else out


def _cache_key(c):
    buffers = c.buffers()
    if len(buffers) < 3 or buffers[1] is None or buffers[2] is None:
        return None
    return (buffers[1].address, buffers[2].address, c.offset, len(c), c.null_count)


def _remember(key, entry, size: int) -> None:
    with _cache_lock:
        if key in _cache:
            return
        _cache[key] = entry + (size,)
        _cache_bytes[0] += size
        while _cache_bytes[0] > _CACHE_BYTES and _cache:
            old = _cache.pop(next(iter(_cache)))
            _cache_bytes[0] -= old[3]


def keys_of_scaled(values, scales):
    """Keys (numeric.py's ordered bytes) of a decimal128 array of precision <= 18 whose
    values show the display scales ``scales`` (int numpy array, each at most the array's
    scale and never cutting a digit), built in numpy; None for a wider array. The result
    is remembered with its decoded form, for an operator that reads it next."""
    t = values.type
    if t.precision > _INT64_DIGITS:
        return None
    n = len(values)
    ints = unscaled64(values)
    valid = np.ones(n, bool) if not values.null_count else \
        np.asarray(values.is_valid(), dtype=bool)
    ints = np.where(valid, ints, 0)
    mag = np.abs(ints)
    pow10 = _pow10()
    ndig = np.searchsorted(pow10, mag, side="right")        # digits of |m| (0 for 0)
    tz = np.zeros(n, np.int64)
    rest = mag.copy()
    for _ in range(_INT64_DIGITS):                           # trailing zeros, cut
        more = (rest != 0) & (rest % 10 == 0)
        if not more.any():
            break
        rest = np.where(more, rest // 10, rest)
        tz += more
    k = np.where(mag != 0, ndig - tz, 0)                      # significant digits kept
    width = int(k.max()) if n else 0
    lengths = np.where(mag != 0, k + 8, 3)
    row = np.zeros((n, 8 + width), np.uint8)
    neg = ints < 0
    row[:, 0] = np.where(mag == 0, 2, np.where(neg, 1, 3))
    exp = (ndig - 1 - t.scale + 2 ** 31).astype(np.uint32)
    body = np.zeros((n, 5 + width), np.uint8)               # exponent, digits, terminator
    body[:, :4] = exp.astype(">u4").view(np.uint8).reshape(n, 4)
    digits = rest.copy()
    for j in range(width - 1, -1, -1):                       # last digit first
        inside = j < k
        body[:, 4 + j] = np.where(inside, digits % 10 + 1, 0)
        digits = np.where(inside, digits // 10, digits)
    if neg.any():      # (bytes past a body are inverted too: cut or overwritten below)
        body[neg] = np.uint8(255) - body[neg]
    row[:, 1:6 + width] = body
    scale_bytes = np.asarray(scales, np.int64).astype(">u2").view(np.uint8).reshape(n, 2)
    # the two scale bytes go right after each key's own body (or after its class byte)
    at = np.where(mag != 0, k + 6, 1)
    every = np.arange(n)
    row[every, at] = scale_bytes[:, 0]
    row[every, at + 1] = scale_bytes[:, 1]
    lengths = np.where(valid, lengths, 0)
    data = row[np.arange(8 + width) < lengths[:, None]]
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity = pc.is_valid(values).buffers()[1] if values.null_count else None
    keys = pa.Array.from_buffers(pa.binary(), n, [validity, pa.py_buffer(offsets),
                                                  pa.py_buffer(data)])
    key = _cache_key(keys)
    if key is not None and n >= 4096:
        _remember(key, (keys, values, pa.array(np.asarray(scales).astype(np.int16))), 19 * n)
    return keys


def keys_min_max(values, fn: str):
    """min or max of numeric keys (an array or chunked array) as the key of the value
    found, which keeps its own display scale; NotImplemented when some chunk has no
    int64 vector form (``keys_vector``: NaN, infinities, wide values), None when every
    value is NULL. Numpy over the decoded chunks (kept: see ``keys_vector``), where
    Arrow's min/max of binary compares bytes, ~20x slower."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    pick = np.argmin if fn == "min" else np.argmax
    best = None          # (scaled value at the common scale, chunk, position)
    vec = keys_vector(values)
    if vec is None or vec.type.precision > _INT64_DIGITS:
        return NotImplemented
    for c, d in zip(chunks, vec.chunks if isinstance(vec, pa.ChunkedArray) else [vec]):
        if len(c) == c.null_count:
            continue
        ints = unscaled64(d)
        if c.null_count:
            valid = np.asarray(c.is_valid(), dtype=bool)
            positions = np.flatnonzero(valid)
            i = int(positions[pick(ints[valid])])
        else:
            i = int(pick(ints))
        found = int(ints[i])
        if best is None or (found < best[0] if fn == "min" else found > best[0]):
            best = (found, c, i)
    return None if best is None else best[1][best[2]].as_py()
