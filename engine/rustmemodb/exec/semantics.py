"""Where Arrow is not SQL: the corrections, in one place (DESIGN.md).

Arrow's kernels differ from PostgreSQL in ways that give wrong answers rather
than errors: integer ``add`` wraps, ``sum`` of int64 wraps, ``and_``/``or_`` are
not three-valued, ``is_in`` ignores NULLs in the list, DESC puts NULLs last,
``round`` is half-to-even, NaN never equals NaN, hashing (``is_in``, hash joins,
``group_by``) tells -0.0 from 0.0. Every operator goes through
the helpers here. The SQL behaviour they give is pinned against PostgreSQL's by the
sqllogictest files: overflow and division in ``tests/sql/foundation/arithmetic.test``
and ``tests/sql/query/integer_edges.test``, three-valued logic in
``tests/sql/foundation/logic.test``, NULL in IN lists in
``tests/sql/foundation/predicates.test``, NULL ordering in
``tests/sql/foundation/order_by.test``, NaN and -0.0 in
``tests/sql/query/float_special.test``, rounding in ``tests/sql/query/math_functions.test``.
"""
from __future__ import annotations

import math

from ..lazy_import import arrow as pa, compute as pc, numpy as np
from .arrays import contiguous
from .jsonb_keys import hash_keys

from .. import errors, types
from .. import infinity


def arrow_errors(fn):
    """Run an Arrow kernel, translating its errors to SQLSTATEs."""
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except pa.ArrowInvalid as exc:
            raise translate(exc) from None
    wrapped.__name__ = getattr(fn, "__name__", "kernel")
    return wrapped


def translate(exc: Exception) -> errors.Error:
    text = str(exc)
    low = text.lower()
    if "divide by zero" in low or "division by zero" in low:
        return errors.division_by_zero()
    if "overflow" in low:
        return errors.numeric_out_of_range()
    if "invalid input syntax" in low or "failed to parse" in low:
        return errors.sql_error("22P02", text)
    return errors.sql_error("22000", text)


def widen(a, b):
    """INTEGER meets FLOAT: widen the integer side to float64, rounding like PostgreSQL.

    Arrow's implicit cast refuses integers beyond 2**53 (not exactly representable);
    SQL rounds them to the nearest double instead.
    """
    fa, fb = pa.types.is_floating(a.type), pa.types.is_floating(b.type)
    if fa and pa.types.is_integer(b.type):
        b = pc.cast(b, pa.float64(), safe=False)
    elif fb and pa.types.is_integer(a.type):
        a = pc.cast(a, pa.float64(), safe=False)
    return a, b


def to_numpy(v, fill) -> tuple[np.ndarray, np.ndarray | None]:
    """Values as numpy with NULLs replaced by ``fill``, plus the null mask (or None)."""
    v = contiguous(v)
    nulls = None
    if v.null_count:
        nulls = v.is_null().to_numpy(zero_copy_only=False)
        v = v.fill_null(fill)
    return v.to_numpy(zero_copy_only=False), nulls


def from_numpy(values: np.ndarray, nulls: np.ndarray | None, type_: pa.DataType) -> pa.Array:
    return pa.array(values, type=type_, mask=nulls)


# ---- integer arithmetic with PostgreSQL's truncating division and overflow errors -------

def int_div_row(a: int, b: int) -> int:
    if b == 0:
        raise errors.division_by_zero()
    q = abs(a) // abs(b)
    return types.check_int(-q if (a < 0) != (b < 0) else q)


def int_mod_row(a: int, b: int) -> int:
    if b == 0:
        raise errors.division_by_zero()
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def float_div_row(a: float, b: float) -> float:
    if b == 0:
        if a != a:             # NaN / 0 is NaN (float8div)
            return a
        raise errors.division_by_zero()
    return a / b


def float_mod_row(a: float, b: float) -> float:
    if b == 0:
        raise errors.division_by_zero()
    return math.fmod(a, b)


def check_divisor(b) -> None:
    """SQL raises on any zero divisor among the rows evaluated (NULLs excepted)."""
    if isinstance(b, pa.Scalar):
        if b.is_valid and infinity.pyscalar(b) == 0:
            raise errors.division_by_zero()
        return
    if len(b) and pc.any(pc.equal(b, 0)).as_py():
        raise errors.division_by_zero()


def round_half_away(values, ndigits: int = 0):
    """PostgreSQL rounds numeric half away from zero; Arrow defaults to half-to-even."""
    if ndigits > 340:          # no digit of a double lies that far right
        return values
    if ndigits < -340:
        return pc.multiply(values, 0.0)
    scaled = pc.multiply(values, 10.0 ** ndigits)
    rounded = pc.multiply(pc.sign(scaled), pc.floor(pc.add(pc.abs(scaled), 0.5)))
    out = pc.divide(rounded, 10.0 ** ndigits)
    # a value so large that scaling overflowed has no digits there to round
    return pc.if_else(pc.is_finite(scaled), out, values)


def round_half_away_row(x: float, ndigits: int = 0) -> float:
    if ndigits > 340 or x != x or x in (math.inf, -math.inf):
        return x          # no digit of a double lies that far right
    if ndigits < -340:
        return math.copysign(0.0, x)
    scale = 10.0 ** ndigits
    scaled = abs(x) * scale
    if scaled == math.inf:
        return x
    return math.copysign(math.floor(scaled + 0.5), x) / scale


def sum_int64(values) -> int | None:
    """Exact SUM of int64 (Arrow's wraps silently); errors like PostgreSQL's bigint sum."""
    total = pc.sum(values, min_count=1)
    if not total.is_valid:
        return None
    # Arrow sums int64 in int64 and wraps; detect by comparing with a float sum.
    approx = pc.sum(pc.cast(values, pa.float64(), safe=False), min_count=1).as_py()
    exact = infinity.pyscalar(total)
    if abs(approx - exact) > max(1.0, abs(approx)) * 1e-6:
        exact = sum(v for v in infinity.pylist(values) if v is not None)
    return types.check_int(exact)


def hash_key(values):
    """Values as hash-based kernels (GROUP BY, DISTINCT, hash joins) must see them: float
    -0.0 as 0.0 (SQL: equal; Arrow hashes the bits; IEEE -0.0 + 0.0 is +0.0 and every
    other value is unchanged), and each interval as its span (interval_span)."""
    if pa.types.is_floating(values.type):
        return pc.add(values, 0.0)
    if pa.types.is_interval(values.type):
        return interval_span(values)
    if pa.types.is_binary(values.type):     # numerics: by value, not scale (numeric.py)
        return pc.binary_slice(values, 0, -2) if not isinstance(values, pa.Scalar) else \
            pa.scalar(None if not values.is_valid else values.as_py()[:-2], values.type)
    return values


_DAY_NS = 86_400_000_000_000


def interval_span(values):
    """One interval per span, as PostgreSQL compares them (a month is 30 days, a day 24
    hours): ``1 mon``, ``30 days`` and ``720:00:00`` all become (0, 30 days, 0 ns).
    Hash keys only: a result shows a group's own value (see restore_interval_keys)."""
    values = contiguous(values)
    out = []
    for v in infinity.pylist(values):
        if v is None:
            out.append(None)
            continue
        days, ns = divmod(v.nanoseconds, _DAY_NS)
        out.append((0, v.months * 30 + v.days + days, ns))
    return pa.array(out, pa.month_day_nano_interval())


def restored_key(t) -> bool:
    """Whether hash_key groups values of this Arrow type by less than they show: an
    interval by its span, a numeric by its value (not its scale)."""
    return pa.types.is_interval(t) or pa.types.is_binary(t)


def jsonb_hash_columns(columns: list, sql_types) -> tuple[list, tuple]:
    """``columns`` with each jsonb one (by ``sql_types``) as its hash key (numbers in
    one form, exec/jsonb_keys.py), and the positions whose keys differ from
    the documents (to show through restore_interval_keys' ``also``)."""
    if types.JSON not in sql_types:
        return list(columns), ()
    out, changed = [], []
    for i, (c, t) in enumerate(zip(columns, sql_types)):
        if t == types.JSON:
            k = hash_keys(c)
            if k is not c:
                changed.append(i)
            c = k
        out.append(c)
    return out, tuple(changed)


def restore_interval_keys(out_keys: list, spans: list, originals: list,
                          also: tuple = ()) -> list:
    """Group key columns showing, for each interval key, the value the group's first row
    had (PostgreSQL shows the first value it met), not the span it was grouped by.
    The same for numerics, grouped by value (``1.1`` and ``1.10`` are one group), and
    for the positions in ``also`` (jsonb documents grouped by their hash keys).
    ``out_keys``: the grouped key columns (spans for intervals); ``spans`` and
    ``originals``: the input key columns, hashed and as written."""
    which = [i for i, o in enumerate(originals) if restored_key(o.type) or i in also]
    if not which:
        return out_keys
    first: dict = {}
    span_rows = list(zip(*[infinity.pylist(s) for s in spans]))
    original_rows = list(zip(*[infinity.pylist(originals[i]) for i in which]))
    for key, orig in zip(span_rows, original_rows):
        first.setdefault(key, orig)
    grouped = list(zip(*[infinity.pylist(k) for k in out_keys])) if out_keys else []
    fixed = list(out_keys)
    for j, i in enumerate(which):
        fixed[i] = pa.array([first[key][j] if key in first else None for key in grouped],
                            originals[i].type)
    return fixed


def sort_keys_for(values, order: str, null_placement: str) -> list:
    """Arrow sort keys ``[(array, order, null_placement), ...]`` for one SQL sort key.

    Arrow places NaN next to the NULLs (at the same end), PostgreSQL sorts NaN above
    every number and apart from NULLs. A float column holding NaN is therefore sorted by
    (is NaN, value): the first key, with the column's direction and NULL placement, lifts
    NaN above the numbers; NaNs tie on the value key, as NaN = NaN in SQL. A numeric's
    key sorts without its display scale, so equal numbers tie for the next key. Arrays
    sort by their ranks in PostgreSQL's array order (``sort_ranks``)."""
    if pa.types.is_interval(values.type):
        return _interval_keys(values, order, null_placement)
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        return [(sort_ranks(values), order, null_placement)]    # arrays: by rank
    if pa.types.is_binary(values.type):     # numerics by value: 2.5 ties with 2.50
        return [(hash_key(values), order, null_placement)]
    if pa.types.is_floating(values.type) and values.null_count < len(values) and \
            pc.any(pc.is_nan(values)).as_py():
        return [(pc.is_nan(values), order, null_placement), (values, order, null_placement)]
    return [(values, order, null_placement)]


def _interval_keys(values, order: str, null_placement: str) -> list:
    """Intervals have no Arrow sort kernel: sort by PostgreSQL's span (a month is 30
    days), as (whole days, remaining microseconds) so no int64 overflows."""
    values = contiguous(values)
    day_us = 86_400_000_000
    parts = [(0, 0) if v is None else (v.months * 30 + v.days, v.nanoseconds // 1000)
             for v in infinity.pylist(values)]
    days = np.array([d + us // day_us for d, us in parts], dtype=np.int64)
    rest = np.array([us % day_us for _, us in parts], dtype=np.int64)
    mask = values.is_null().to_numpy(zero_copy_only=False) if values.null_count else None
    return [(pa.array(days, mask=mask), order, null_placement),
            (pa.array(rest, mask=mask), order, null_placement)]


def array_order_key(lst) -> list:
    """An array as PostgreSQL's btree orders arrays: element by element, a NULL element
    after every value (and equal to another NULL), a float NaN after every number, then
    the shorter array first."""
    return [(1, 0) if v is None else _NAN_ELEMENT if v != v else (0, v) for v in lst]


_NAN_ELEMENT = (0, math.inf, 1)      # above (0, inf), below a NULL's (1, 0)


def sort_ranks(values):
    """Dense ranks (int64, NULL kept) ordering the arrays as PostgreSQL compares them."""
    values = contiguous(values)
    items = infinity.pylist(values)
    present = sorted({tuple(v) for v in items if v is not None},
                     key=array_order_key)
    rank = {v: i for i, v in enumerate(present)}
    return pa.array([None if v is None else rank[tuple(v)] for v in items], pa.int64())


def order_codes(values) -> "np.ndarray":
    """Dense int64 codes ordering ``values`` as SQL orders them (arrays element by
    element); a NULL's code is above every value's. For min/max over window frames."""
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        ranks = sort_ranks(values)
        top = pc.max(ranks).as_py()
        return pc.fill_null(ranks, (top if top is not None else -1) + 1) \
            .to_numpy(zero_copy_only=False).astype(np.int64)
    return pc.rank(values, sort_keys="ascending",
                   tiebreaker="dense").to_numpy(zero_copy_only=False).astype(np.int64)
