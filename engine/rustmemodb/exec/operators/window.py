"""Window functions with one sort and numpy segment arithmetic (no per-row Python).

Arrow has no window operator. For each distinct (PARTITION BY, ORDER BY) the
input is sorted once (``sort_indices``, stable); in sorted order, boundary
flags mark where a partition and where a peer group (rows equal on ORDER BY)
begins, and every function is then index arithmetic over whole arrays:

    pos        0 1 2 3 4 5 6          row_number = pos - part_first + 1
    partition  a a a a b b b          rank       = peer_first - part_first + 1
    peers      1 2 2 3 1 1 2          dense_rank = peer# - peer#[part_first] + 1

A frame is a pair of inclusive bounds ``lo[i]..hi[i]`` per row (ROWS: offsets
clamped to the partition; RANGE: peer bounds, or ``searchsorted`` for offsets).
sum/count/avg over a frame are differences of prefix sums; min/max use running
accumulations (with per-partition offsets so they restart at each partition)
or, for sliding frames, a sparse table; first/last/nth_value and lag/lead are
gathers. Results are scattered back to input order with the inverse
permutation. Integer frame sums wrap in int64 prefix sums exactly when the
frame sum fits; a float shadow detects when it does not (``22003``).

DISTINCT ON (``LogicalDistinctOn``) lives here too: the first row of each key
group, by one hash aggregation of row numbers.
"""
from __future__ import annotations

import datetime as dt
import functools
import itertools
import math

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc
from ..arrays import contiguous

from ... import errors, numeric, numeric_arrays, types
from ...plan.aggregates import FRAME_STATISTICS, PAIR_EXTREMES, VARIANCES
from ...plan.logical import LogicalDistinctOn, LogicalWindow
from ..expr.vector import as_array, evaluate
from .window_spread import frame_spread
from ..functions.aggregate_pairs import as_floats, finish, frame_extreme, frame_states, valid_mask
from ..functions.arith import add_interval_to
from ..functions.datetime import scale_interval
from ..semantics import hash_key, jsonb_hash_columns, order_codes, sort_keys_for, sort_ranks
from ..run import operator, run_plan
from .window_collect import COLLECTING, collect
from ... import infinity


@operator(LogicalWindow)
def window(node: LogicalWindow, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    n = table.num_rows
    out = list(table.columns)
    layouts: dict = {}
    for call in node.functions:
        key = (call.partition, call.order)
        layout = layouts.get(key)
        if layout is None:
            layout = layouts[key] = _Layout(call, table, ctx)
        values = _compute(call, layout, table, ctx) if n else \
            pa.array([], types.arrow_type(call.type))
        out.append(layout.unsort(values, types.arrow_type(call.type)) if n else values)
    return pa.Table.from_arrays(out, names=[c for c, _ in node.columns])


class _Layout:
    """Sorted order and partition / peer boundaries for one (PARTITION BY, ORDER BY)."""

    def __init__(self, call, table, ctx) -> None:
        n = self.n = table.num_rows
        # One contiguous array per key: Arrow sorts a table of chunked columns (a stored
        # table's 64k-row chunks) by merging per-chunk sorts, several times slower.
        # a jsonb partition key as its hash key: {"a": 1.0} and {"a": 1} are one partition
        pcols = [contiguous(as_array(evaluate(e, table, ctx), n)) for e in call.partition]
        pcols = jsonb_hash_columns(pcols, [e.type for e in call.partition])[0]
        ocols = [contiguous(as_array(evaluate(e, table, ctx), n)) for e, _, _ in call.order]
        # sort_keys_for: an interval (no Arrow sort kernel) sorts by its span, in parts
        keys = [k for c in pcols for k in sort_keys_for(c, "ascending", "at_end")]
        n_part_keys = len(keys)
        for c, (_, d, nf) in zip(ocols, call.order):   # NaN above numbers (semantics)
            keys += sort_keys_for(c, "descending" if d else "ascending",
                                  "at_start" if nf else "at_end")
        packed = _packed_int_key(keys) if keys and n else None
        ordered_keys = None
        if packed is not None:
            self.perm, ordered_keys = stable_order(packed[0])
        elif keys and n:
            kt = pa.Table.from_arrays([k[0] for k in keys], names=[f"k{i}" for i in range(len(keys))])
            perm = pc.sort_indices(kt, sort_keys=[(f"k{i}", k[1], k[2]) for i, k in enumerate(keys)])
            self.perm = perm.to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            self.perm = np.arange(n, dtype=np.int64)
        self.identity = keys == [] or bool(np.all(self.perm == np.arange(n)))
        self._ocols = ocols
        pos = np.arange(n, dtype=np.int64)
        part_start = np.zeros(n, bool)
        if n:
            part_start[0] = True
        if ordered_keys is not None:
            # boundaries from the sorted packed keys: the partition keys are its high
            # digits (above the ORDER BY keys' spans), peers share the whole key
            order_span = math.prod(packed[1][n_part_keys:])
            if pcols:
                part_start |= _int_changes(ordered_keys // order_span if order_span > 1
                                           else ordered_keys)
            peer_start = part_start | _int_changes(ordered_keys)
        else:
            for c in pcols:
                part_start |= _changes(self.sorted(c))
            peer_start = part_start.copy()
            for c in self.order_sorted:
                peer_start |= _changes(c)
        self.pos = pos
        self.part_start, self.peer_start = part_start, peer_start
        starts = np.flatnonzero(part_start)
        self.pid = np.cumsum(part_start) - 1
        ends = np.append(starts[1:], n)
        self.part_first = starts[self.pid] if n else pos
        self.part_last = ends[self.pid] - 1 if n else pos
        pstarts = np.flatnonzero(peer_start)
        self.gid = np.cumsum(peer_start) - 1
        pends = np.append(pstarts[1:], n)
        self.group_first, self.group_last = pstarts, pends - 1    # by peer group id (GROUPS)
        self.peer_first = pstarts[self.gid] if n else pos
        self.peer_last = pends[self.gid] - 1 if n else pos
        self.nparts = len(starts)

    @functools.cached_property
    def order_sorted(self) -> list:
        """The ORDER BY columns in sorted order (RANGE frames with offsets read them)."""
        return [self.sorted(c) for c in self._ocols]

    def sorted(self, col):
        if self.identity:
            return col
        return col.take(pa.array(self.perm))

    def unsort(self, values, arrow_type):
        if isinstance(values, np.ndarray):
            values = pa.array(values, type=arrow_type)
        values = contiguous(values)
        if values.type != arrow_type and not numeric_arrays.keep_form(values, arrow_type):
            values = values.cast(arrow_type)
        if self.identity:
            return values
        inv = np.empty(self.n, np.int64)
        inv[self.perm] = np.arange(self.n, dtype=np.int64)
        return values.take(pa.array(inv))


def _packed_int_key(keys) -> tuple[np.ndarray, list[int]] | None:
    """Several integer-like sort keys (integers, dates, timestamps; no NULLs) packed into
    one non-negative int64 whose order is theirs, each key scaled by the value ranges
    after it and flipped when descending: a stable sort of it is the multi-key sort
    (Arrow sorts three keys ~3x slower than one). Returned with each key's span (its
    digit's base). None when a key does not qualify or the product of the ranges
    passes 2^62."""
    parts = []
    span_total = 1
    for col, order, _ in keys:
        t = col.type
        if col.null_count or not (pa.types.is_integer(t) or pa.types.is_date32(t) or
                                  pa.types.is_timestamp(t) or pa.types.is_date64(t)):
            return None
        if not pa.types.is_integer(t):
            col = col.cast(pa.int32() if pa.types.is_date32(t) else pa.int64())
        v = col.to_numpy(zero_copy_only=False)
        if v.dtype == np.uint64 and len(v) and int(v.max()) >= 1 << 62:
            return None
        v = v.astype(np.int64, copy=False)
        lo, hi = int(v.min()), int(v.max())
        span = hi - lo + 1
        span_total *= span
        if span_total >= 1 << 62:
            return None
        parts.append((v, lo, hi, span, order == "descending"))
    packed = None
    for v, lo, hi, span, desc in parts:
        digit = (hi - v) if desc else (v - lo) if lo else v
        packed = digit if packed is None else packed * span + digit
    return packed, [p[3] for p in parts]


def stable_order(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.argsort(packed, kind="stable")`` for non-negative int64 keys, and the keys in
    that order, faster than the stable argsort: numpy
    sorts plain int64 values several times faster than it argsorts them stably (SIMD
    sorts; 5M keys: ~0.15 s against ~0.65 s). With the row number in the low bits the
    values are unique and sort in the stable order, and the low bits are the permutation.
    Keys too wide for that sort unstably; that order is the stable one when no two keys
    are equal, checked on the sorted keys (else the stable argsort)."""
    n = len(packed)
    if n < 2:
        return np.arange(n, dtype=np.int64), packed
    bits = max(n - 1, 1).bit_length()
    top = int(packed.max())
    if top.bit_length() + bits <= 62:
        both = np.sort((packed << bits) | np.arange(n, dtype=np.int64))
        return both & ((1 << bits) - 1), both >> bits
    perm = np.argsort(packed)
    ordered = packed[perm]
    if (ordered[1:] == ordered[:-1]).any():
        perm = np.argsort(packed, kind="stable")
        ordered = packed[perm]
    return perm.astype(np.int64, copy=False), ordered


def _int_changes(ordered: np.ndarray) -> np.ndarray:
    """True where a sorted integer key differs from the previous row's."""
    out = np.zeros(len(ordered), bool)
    np.not_equal(ordered[1:], ordered[:-1], out=out[1:])
    return out


def _changes(col) -> np.ndarray:
    """True where a sorted column's value differs from the previous row (NULLs equal)."""
    n = len(col)
    out = np.zeros(n, bool)
    if n < 2:
        return out
    col = contiguous(col)
    if pa.types.is_binary(col.type):     # numerics: peers by value (2.5 and 2.50)
        col = hash_key(col)
    if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        col = sort_ranks(col)            # arrays: peers by their rank (equal arrays)
    if pa.types.is_interval(col.type):   # no Arrow kernel: compare spans in Python
        vals = [None if v is None else (v.months * 30 + v.days) * 86_400_000_000_000 +
                v.nanoseconds for v in infinity.pylist(col)]
        out[1:] = [x != y for x, y in zip(vals[1:], vals[:-1])]
        return out
    a, b = col.slice(1), col.slice(0, n - 1)
    ne = pc.not_equal(a, b)
    if pa.types.is_floating(col.type):   # NaN equals NaN for grouping
        ne = pc.and_(ne, pc.invert(pc.and_(pc.is_nan(a), pc.is_nan(b))))
    an, bn = pc.is_null(a), pc.is_null(b)
    diff = pc.if_else(pc.or_(an, bn), pc.xor(an, bn), ne)
    out[1:] = diff.to_numpy(zero_copy_only=False)
    return out


# ---- the functions ----------------------------------------------------------------------

def _compute(call, L: _Layout, table, ctx):
    fn = call.fn
    if fn == "row_number":
        return L.pos - L.part_first + 1
    if fn == "rank":
        return L.peer_first - L.part_first + 1
    if fn == "dense_rank":
        return L.gid - L.gid[L.part_first] + 1
    if fn == "percent_rank":
        size = L.part_last - L.part_first
        rank = L.peer_first - L.part_first
        return np.where(size > 0, rank / np.maximum(size, 1), 0.0)
    if fn == "cume_dist":
        return (L.peer_last - L.part_first + 1) / (L.part_last - L.part_first + 1)
    if fn == "ntile":
        return _ntile(call, L, table, ctx)
    if fn in ("lag", "lead"):
        return _lag_lead(call, L, table, ctx)
    lo, hi = _frame(call, L, table, ctx)
    if call.frame is not None and len(call.frame) > 3 and call.frame[3] is not None:
        from .window_frames import compute_excluded
        return compute_excluded(call, L, table, ctx, lo, hi)
    if fn in ("first_value", "last_value", "nth_value"):
        return _nth(call, L, table, ctx, lo, hi)
    if fn in COLLECTING:
        return collect(call, L, table, ctx, [(lo, hi)])
    return _aggregate(call, L, table, ctx, lo, hi)


def _const_arg(call, i, table, ctx, what):
    v = evaluate(call.args[i], table, ctx)
    if not isinstance(v, pa.Scalar):
        if len(v) and pc.count_distinct(v).as_py() > 1:
            raise errors.not_supported(f"a non-constant {what}")
        v = v[0] if len(v) else pa.scalar(None, pa.int64())
    return infinity.pyscalar(v)


def _ntile(call, L, table, ctx):
    k = _const_arg(call, 0, table, ctx, "ntile argument")
    if k is None:
        return pa.nulls(L.n, pa.int64())
    if k <= 0:
        raise errors.sql_error("22014", "argument of ntile must be greater than zero")
    m = L.part_last - L.part_first + 1
    r = L.pos - L.part_first
    q, rem = m // k, m % k
    big = rem * (q + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        small_bucket = rem + (r - big) // np.maximum(q, 1) + 1
    return np.where(r < big, r // (q + 1) + 1, small_bucket)


def _lag_lead(call, L, table, ctx):
    off = _const_arg(call, 1, table, ctx, "lag/lead offset") if len(call.args) > 1 else 1
    values = L.sorted(as_array(evaluate(call.args[0], table, ctx), L.n))
    if off is None:
        return pa.nulls(L.n, types.arrow_type(call.type))
    src = L.pos - off if call.fn == "lag" else L.pos + off
    ok = (src >= L.part_first) & (src <= L.part_last)
    out = _gather(values, np.where(ok, src, 0), ok)
    if len(call.args) > 2:
        default = L.sorted(as_array(evaluate(call.args[2], table, ctx), L.n))
        default = default.cast(out.type) if default.type != out.type else default
        out = pc.if_else(pa.array(ok), out, default)
    return out


def _gather(values, idx: np.ndarray, ok: np.ndarray):
    values = contiguous(values)
    return values.take(pa.array(idx, mask=~ok))


def _nth(call, L, table, ctx, lo, hi):
    values = L.sorted(as_array(evaluate(call.args[0], table, ctx), L.n))
    if call.fn == "first_value":
        src = lo
    elif call.fn == "last_value":
        src = hi
    else:
        k = _const_arg(call, 1, table, ctx, "nth_value position")
        if k is None:
            return pa.nulls(L.n, types.arrow_type(call.type))
        if k <= 0:
            raise errors.sql_error("22016", "argument of nth_value must be greater than zero")
        src = lo + k - 1
    ok = (lo <= hi) & (src <= hi)
    return _gather(values, np.where(ok, src, 0), ok)


# ---- frames -------------------------------------------------------------------------------

def _frame(call, L: _Layout, table, ctx) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive frame bounds per sorted row (lo > hi: empty frame)."""
    if call.frame is None:
        return L.part_first, (L.peer_last if call.order else L.part_last)
    mode, start, end = call.frame[:3]
    lo = _bound(mode, start, L, call, True)
    hi = _bound(mode, end, L, call, False)
    return np.maximum(lo, L.part_first), np.minimum(hi, L.part_last)


def _bound(mode, bound, L, call, is_start):
    kind, k = bound
    if kind == "unbounded_preceding":
        return L.part_first
    if kind == "unbounded_following":
        return L.part_last
    if mode == "rows":
        if kind == "current":
            return L.pos
        k = int(k)
        return L.pos - k if kind == "preceding" else L.pos + k
    if mode == "groups" and kind != "current":
        from .window_frames import groups_bound
        return groups_bound(L, kind, int(k), is_start)
    if kind == "current":
        return L.peer_first if is_start else L.peer_last
    return _range_offset(L, call, kind, k, is_start)


def _range_offset(L, call, kind, k, is_start):
    if len(call.order) != 1:
        raise errors.sql_error("42P20", "RANGE with offset PRECEDING/FOLLOWING requires exactly "
                                        "one ORDER BY column")
    col = L.order_sorted[0]
    col = contiguous(col)
    desc = call.order[0][1]
    nulls = col.is_null().to_numpy(zero_copy_only=False)
    if isinstance(k, types.Interval):
        v, target = _interval_targets(col, k, kind, desc)
    elif numeric_arrays.is_numeric_form(col.type):
        v, target = _numeric_targets(col, k, kind, desc)
    else:
        t = col.type
        if pa.types.is_date(t):
            col = col.cast(pa.int32()).cast(pa.int64())
        elif not (pa.types.is_integer(t) or pa.types.is_floating(t)):
            raise errors.sql_error(
                "0A000", "RANGE with offset PRECEDING/FOLLOWING is not supported for column "
                         f"type {t}", hint="Give a date or timestamp an INTERVAL offset.")
        v = col.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
        fixed = None
        if pa.types.is_floating(t):
            v, fixed = _ordered_floats(v, k)
        if desc:
            v = -v
        # "k PRECEDING" in sort direction: value - k (ascending keys after negating DESC).
        target = v - k if kind == "preceding" else v + k
        if fixed is not None:            # an infinity or NaN plus or minus k is itself
            target = np.where(fixed, v, target)
    # Search within each partition: shift each partition into its own value band.
    reach = float(np.max(np.abs(target - v))) if len(v) else 0.0
    low = float(np.nanmin(v)) if len(v) else 0.0
    high = float(np.nanmax(v)) if len(v) else 0.0
    span = high - low + 2 * reach + 4
    band = L.pid * span
    # Rows are sorted by (partition, key); NULL keys sit at one end of their partition,
    # just outside every key and target of it but inside its band (an infinite edge
    # would break the bands' order for the partitions after it).
    edge = low - reach - 1 if call.order[0][2] else high + reach + 1
    base = np.where(nulls, edge, v) + band
    side = "left" if is_start else "right"
    idx = np.searchsorted(base, target + band, side=side)
    out = idx if is_start else idx - 1
    # NULL-keyed rows: their frame is their peer group.
    peer = L.peer_first if is_start else L.peer_last
    return np.where(nulls, peer, out)


def _ordered_floats(v: np.ndarray, k) -> tuple:
    """float8 keys of ``RANGE ... k PRECEDING/FOLLOWING`` with PostgreSQL's order of the
    non-finite ones: -Infinity < numbers < Infinity < NaN, NaN a peer of NaN only. Each
    becomes a finite stand-in far enough out that no frame of a number reaches it, nor
    the frame of one the next; and which rows those are (their frame edges are their own
    keys: an infinity or NaN plus or minus k is itself), or None."""
    finite = np.isfinite(v)
    if finite.all():
        return v, None
    reach = float(np.max(np.abs(v[finite]), initial=0.0)) + abs(float(k)) + 1.0
    inf_at, nan_at = 4.0 * reach, 16.0 * reach
    if not np.isfinite(nan_at + abs(float(k))):
        raise errors.sql_error("0A000", "RANGE with offset PRECEDING/FOLLOWING over float8 "
                                        "values this large beside infinities is not supported")
    return np.where(np.isnan(v), nan_at, np.where(np.isinf(v), np.sign(v) * inf_at, v)), ~finite


def _numeric_targets(col, k, kind: str, desc: bool):
    """(keys, frame edges) of ``RANGE BETWEEN k PRECEDING/FOLLOWING`` over a numeric
    column: every value and the offset scaled to integers at their largest scale, exact
    as float64 up to 2**53 (beyond, or for NaN and infinities, 0A000)."""
    values = [None if x is None else numeric.decode(x) for x in col.to_pylist()]
    offset = numeric.decode(k) if isinstance(k, bytes) else numeric.as_decimal(k)
    finite = [d for d in values if d is not None] + [offset]
    if not all(d.is_finite() for d in finite):
        raise errors.sql_error("0A000", "RANGE with offset PRECEDING/FOLLOWING over a "
                               "numeric NaN or infinity is not supported")
    scale = max(0, *(-d.as_tuple().exponent for d in finite))
    ints = [0 if d is None else int(d.scaleb(scale)) for d in values]
    step = int(offset.scaleb(scale))
    if max(map(abs, ints + [step])) >= 2 ** 53:
        raise errors.sql_error("0A000", "RANGE with offset PRECEDING/FOLLOWING over numerics "
                               "of more than 15 digits is not supported")
    v = np.array(ints, dtype=np.float64)
    if desc:
        v = -v
    return v, (v - step if kind == "preceding" else v + step)


def _interval_targets(col, span: types.Interval, kind: str, desc: bool):
    """(keys, frame edges) of ``RANGE BETWEEN interval PRECEDING/FOLLOWING`` over a date
    or timestamp column, as numbers in sort direction (days for a date, microseconds
    for a timestamp). A span with months moves each row by calendar (a month from
    Jan 31 is Feb 29); one without is a fixed shift."""
    t = col.type
    if pa.types.is_date(t):
        scale = 1.0
        v = col.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
    elif pa.types.is_timestamp(t):
        scale = 86_400_000_000.0
        v = col.cast(pa.timestamp("us")).cast(pa.int64()).fill_null(0).to_numpy(
            zero_copy_only=False).astype(np.float64)
    else:
        raise errors.sql_error("0A000", "RANGE with offset PRECEDING/FOLLOWING is not "
                                        f"supported for column type {t} and offset type "
                                        "interval")
    backwards = (kind == "preceding") != desc      # toward smaller values
    shift = -span if backwards else span
    if not shift.months:
        delta = shift.days + shift.micros / 86_400_000_000
        target = v + delta * scale
    else:
        origin = dt.datetime(1970, 1, 1)
        values = infinity.pylist(col)
        target = np.array([0.0 if x is None else
                           (add_interval_to(x, shift) - origin).total_seconds() * 1e6 / 86_400e6
                           * scale for x in values], dtype=np.float64)
    if desc:
        v, target = -v, -target
    return v, target


# ---- aggregates over frames ----------------------------------------------------------------

def aggregate_input(call, L: _Layout, table, ctx):
    """``(values, valid)`` of a window aggregate in frame order: its argument (None for
    ``count(*)``) and which rows count (not NULL, and passing ``FILTER``)."""
    n = L.n
    if call.star:
        valid = np.ones(n, bool)
        values = None
    else:
        values = L.sorted(as_array(evaluate(call.args[0], table, ctx), n))
        values = contiguous(values)
        valid = values.is_valid().to_numpy(zero_copy_only=False)
    if call.filter is not None:
        f = L.sorted(as_array(evaluate(call.filter, table, ctx), n))
        valid = valid & pc.fill_null(f, False).to_numpy(zero_copy_only=False)
    return values, valid


def _aggregate(call, L: _Layout, table, ctx, lo, hi):
    empty = lo > hi
    values, valid = aggregate_input(call, L, table, ctx)
    cnt_prefix = np.concatenate([[0], np.cumsum(valid, dtype=np.int64)])
    safe_hi, safe_lo = np.where(empty, 0, hi), np.where(empty, 0, lo)
    counts = np.where(empty, 0, cnt_prefix[safe_hi + 1] - cnt_prefix[safe_lo])
    if call.fn == "count":
        return counts
    if call.fn in ("sum", "avg"):
        return sum_avg(call, values, valid, counts, [(lo, hi)])
    if call.fn in ("min", "max"):
        return _min_max(call, L, values, valid, lo, hi, counts)
    if call.fn in PAIR_EXTREMES:
        second = L.sorted(as_array(evaluate(call.args[1], table, ctx), L.n))
        return frame_extreme(call.fn, values, second, valid, lo, hi)
    if call.fn in VARIANCES and call.type == types.NUMERIC:     # of integers, numerics
        return frame_spread(call.fn, values, valid, [(lo, hi)], _sparse_query)
    if call.fn in FRAME_STATISTICS:
        return _statistic(call, L, table, ctx, valid, cnt_prefix, safe_lo, safe_hi, empty)
    raise errors.not_supported(f"{call.fn} as a window function")


def pair_rows(call, L, table, ctx, valid) -> tuple:
    """(y, x, before) for corr(y, x) and kin over a window: the floats of the rows, in
    window order, where both arguments are set (and ``valid``: FILTER holds), and per
    row the number of such rows before it."""
    second = L.sorted(as_array(evaluate(call.args[1], table, ctx), L.n))
    both = valid & valid_mask(second)
    keep = np.flatnonzero(both)
    before = np.concatenate([[0], np.cumsum(both, dtype=np.int64)])
    first = L.sorted(as_array(evaluate(call.args[0], table, ctx), L.n))
    return as_floats(first)[keep], as_floats(second)[keep], before


def _statistic(call, L, table, ctx, valid, cnt_prefix, lo, hi, empty):
    """corr(y, x) and the regr_* family over frames: the frame's rows where both
    arguments are set (and FILTER holds), accumulated in frame order as PostgreSQL does
    (exec/functions/aggregate_pairs.frame_states)."""
    y, x, before = pair_rows(call, L, table, ctx, valid)
    flo = np.where(empty, 0, before[lo])
    fhi = np.where(empty, -1, before[hi + 1] - 1)
    return finish(call.fn, frame_states(y, x, flo, fhi))


def _interval_sum_avg(call, values, valid, counts, runs):
    """sum/avg of intervals over frames (``runs`` as ``sum_avg``'s): prefix sums of months,
    days and microseconds apart (PostgreSQL adds intervals field by field); avg divides
    as interval / count."""
    parts = [np.zeros(len(valid), np.int64) for _ in range(3)]
    for i, v in enumerate(infinity.pylist(values)):
        if v is not None and valid[i]:
            parts[0][i], parts[1][i], parts[2][i] = v.months, v.days, v.nanoseconds // 1000
    sums = [np.concatenate([[0], np.cumsum(p)]) for p in parts]
    fields = [sum(run_sums(prefix, runs)) for prefix in sums]
    out = []
    for k in range(len(valid)):
        if counts[k] == 0:
            out.append(None)
            continue
        total = types.Interval(*(int(f[k]) for f in fields))
        if call.fn == "avg":
            total = scale_interval(total, int(counts[k]), divide=True)
        out.append(total)               # Arrow reads its months, days and nanoseconds
    return pa.array(out, pa.month_day_nano_interval())


def run_sums(prefix, runs) -> list:
    """Per run, each row's prefix[end + 1] - prefix[start] (0 for an empty run)."""
    out = []
    for start, end in runs:
        empty = start > end
        s, e = np.where(empty, 0, start), np.where(empty, 0, end)
        out.append(np.where(empty, 0, prefix[e + 1] - prefix[s]))
    return out


def sum_avg(call, values, valid, counts, runs):
    """sum/avg over frames (``runs``: [(starts, ends)] per row, start > end an empty run;
    one run, or up to three with EXCLUDE) by differences of prefix sums: intervals and
    numerics exact (``_interval_sum_avg``, ``_numeric_sum_avg``), avg of integers exact
    as numeric, sums of integers checked against the float sum for overflow."""
    if pa.types.is_interval(values.type):
        return _interval_sum_avg(call, values, valid, counts, runs)
    if pa.types.is_binary(values.type) or numeric_arrays.is_decimal(values.type):
        return _numeric_sum_avg(call, values, valid, counts, runs)
    raw = np.where(valid, values.fill_null(0).to_numpy(zero_copy_only=False), 0)
    if call.fn == "avg" and call.type == types.NUMERIC:     # avg(integer): exact, numeric
        isum = np.array([0, *itertools.accumulate(int(x) for x in raw)], dtype=object)
        return pa.array(numeric.average_keys(list(sum(run_sums(isum, runs))),
                                             counts.tolist()), pa.binary())
    fsum = np.concatenate([[0.0], np.cumsum(raw.astype(np.float64))])
    fs = sum(run_sums(fsum, runs))
    nothing = counts == 0
    if call.fn == "avg":
        with np.errstate(divide="ignore", invalid="ignore"):
            return pa.array(fs / np.maximum(counts, 1), mask=nothing)
    if pa.types.is_integer(values.type):
        isum = np.concatenate([[0], np.cumsum(raw.astype(np.int64))])   # wraps, exact mod 2^64
        s = sum(run_sums(isum, runs))
        if np.any(np.abs(np.asarray(s, np.float64) - fs) > np.abs(fs) * 1e-6 + 1.0):
            raise errors.numeric_out_of_range()
        return pa.array(s, pa.int64(), mask=nothing)
    return pa.array(fs, pa.float64(), mask=nothing)


def _numeric_sum_avg(call, values, valid, counts, runs):
    """sum/avg of numerics over frames (``runs`` as ``sum_avg``'s): exact prefix
    sums (numeric.CTX), each frame's sum shown with the largest scale among its values,
    as PostgreSQL's running sum has it."""
    keys = values.to_pylist()
    decimals = [numeric.decode(k) if k is not None else numeric.ZERO for k in keys]
    prefix = [numeric.ZERO]
    for d in decimals:
        prefix.append(numeric.add(prefix[-1], d))
    scales = np.array([numeric.scale_of(d) if k is not None else -1
                       for d, k in zip(decimals, keys)], np.int64)
    n = len(counts)
    frame_scale = np.full(n, -1, np.int64)
    for s in np.unique(scales[scales >= 0]):      # few distinct scales: one pass each
        has = np.concatenate([[0], np.cumsum(scales >= s)])
        frame_scale = np.where(sum(run_sums(has, runs)) > 0, s, frame_scale)
    bounds = [(np.where(start > end, -1, start).tolist(), end.tolist()) for start, end in runs]
    out = []
    for k, (count, s) in enumerate(zip(counts.tolist(), frame_scale.tolist())):
        if not count:
            out.append(None)
            continue
        total = numeric.ZERO
        for starts, ends in bounds:
            if starts[k] >= 0:
                total = numeric.add(total, numeric.sub(prefix[ends[k] + 1], prefix[starts[k]]))
        total = numeric.round_to(total, s) if total.is_finite() else total
        out.append(numeric.encode(total if call.fn == "sum" else
                                  numeric.div(total, numeric.Decimal(count))))
    return pa.array(out, pa.binary())


def _min_max(call, L, values, valid, lo, hi, counts):
    """min/max over frames via dense codes (any orderable type)."""
    n = L.n
    codes = order_codes(values)
    is_max = call.fn == "max"
    sentinel = -1 if is_max else int(codes.max(initial=0)) + 1
    c = np.where(valid, codes, sentinel)
    mode = _shape(call, L, lo, hi)
    if mode == "running":          # lo = partition start
        big = int(c.max(initial=0)) + 2
        if is_max:
            best = np.maximum.accumulate(c + L.pid * big) - L.pid * big
        else:
            off = (L.nparts - L.pid) * big
            best = np.minimum.accumulate(c + off) - off
        best = best[hi]
    elif mode == "reverse":        # hi = partition end
        rc, rp = c[::-1], L.pid[::-1]
        big = int(c.max(initial=0)) + 2
        if is_max:
            off = (L.nparts - rp) * big
            acc = (np.maximum.accumulate(rc + off) - off)[::-1]
        else:
            acc = (np.minimum.accumulate(rc + rp * big) - rp * big)[::-1]
        # A frame starting past its partition's end (lo == n for the last partition) is
        # empty: counts are 0 there, so any in-range index does.
        best = acc[np.minimum(lo, n - 1)]
    else:
        best = _sparse_query(c, lo, hi, is_max)
    missing = (counts == 0) | (best == sentinel)
    rep = np.zeros(int(codes.max(initial=0)) + 2, np.int64)
    rep[codes] = np.arange(n, dtype=np.int64)
    src = rep[np.clip(best, 0, len(rep) - 1)]
    return _gather(values, np.where(missing, 0, src), ~missing)


def _shape(call, L, lo, hi):
    if np.array_equal(lo, L.part_first):
        return "running"
    if np.array_equal(hi, L.part_last):
        return "reverse"
    return "sliding"


def _sparse_query(c: np.ndarray, lo, hi, is_max: bool) -> np.ndarray:
    """Range min/max by a sparse table: O(n log n) build, O(1) per query."""
    op = np.maximum if is_max else np.minimum
    n = len(c)
    levels = [c]
    j = 1
    while (1 << j) <= n:
        prev = levels[-1]
        half = 1 << (j - 1)
        levels.append(op(prev[:-half], prev[half:]))
        j += 1
    length = np.maximum(hi - lo + 1, 1)
    k = np.floor(np.log2(length)).astype(np.int64)
    out = np.empty(n, np.int64)
    for level in np.unique(k):
        sel = k == level
        table = levels[level]
        a = np.clip(lo[sel], 0, len(table) - 1)
        b = np.clip(hi[sel] - (1 << level) + 1, 0, len(table) - 1)
        out[sel] = op(table[a], table[b])
    return out


# ---- DISTINCT ON ----------------------------------------------------------------------------

@operator(LogicalDistinctOn)
def distinct_on(node: LogicalDistinctOn, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    n = table.num_rows
    if n <= 1 or not node.keys:
        return table.slice(0, min(n, 1)) if not node.keys else table
    # hash_key: keys as GROUP BY sees them (2.5 and 2.50 one numeric, -0.0 and 0.0 one float)
    keys = jsonb_hash_columns([as_array(evaluate(k, table, ctx), n) for k in node.keys],
                              [k.type for k in node.keys])[0]   # jsonb: numbers in one form
    cols = {f"k{i}": hash_key(k) for i, k in enumerate(keys)}
    cols["__i"] = pa.array(np.arange(n, dtype=np.int64))
    firsts = pa.table(cols).group_by([f"k{i}" for i in range(len(node.keys))],
                                     use_threads=False).aggregate([("__i", "min")])
    idx = np.sort(firsts.column("__i_min").to_numpy(zero_copy_only=False))
    return table.take(pa.array(idx))
