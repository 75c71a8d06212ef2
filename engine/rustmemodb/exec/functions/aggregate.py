"""Aggregates without Arrow hash kernels: string_agg, bool_and/bool_or, stddev/variance.

They plug in through two hooks: ``AGGREGATE_TYPES`` of ``plan/aggregates.py``
(name -> result type from argument types, used by the binder) and, in
``exec/operators/aggregate.py``, ``PYTHON_AGGREGATES`` (name -> ``fn(values, aggcall)`` run once per
group on the group's values; NULL inputs are skipped as SQL says, an empty or
all-NULL group gives NULL). ``agg_pack`` bundles a value with its ORDER BY keys (as JSON text)
(``string_agg(x, ',' ORDER BY y)``) so the body can sort the group.
"""
from __future__ import annotations

import functools
import json as _json
import math
import operator
import statistics

from ...lazy_import import arrow as pa, compute as pc

from ... import types, types as _t
from .aggregate_pairs import register as register_pairs
from .registry import ScalarFunction
from ..expr.vector import map_rows
from ...plan.aggregates import AGGREGATE_TYPES, MINMAX_TYPES as _MINMAX_TYPES
from ..operators.aggregate import ARROW_AGGREGATES, PYTHON_AGGREGATES

T, B, F, N = types.TEXT, types.BOOLEAN, types.FLOAT, types.NULL


def _string_agg(values, a):
    sep = a.extra[0] if a.extra else None
    if a.order_by:
        packed = getattr(a.args[0], "fn", None) == "agg_pack"
        if packed:
            values = [None if v is None else _json.loads(v) for v in values]
        values = _sorted(values, a, packed)
        if packed:
            values = [v[0] if v is not None else None for v in values]
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return (sep or "").join(vals)


class _Key:
    """Sort key with PostgreSQL NULL placement and direction per key."""
    __slots__ = ("v", "desc", "nf")

    def __init__(self, v, desc, nf):
        self.v, self.desc, self.nf = v, desc, nf

    def __lt__(self, other):
        a, b = self.v, other.v
        if a is None or b is None:
            if a is None and b is None:
                return False
            return (a is None) == self.nf
        return a > b if self.desc else a < b

    def __eq__(self, other):
        return self.v == other.v


def _sorted(values, a, packed):
    def key(v):
        if packed:
            ks = [None] * len(a.order_by) if v is None else v[1:]
        else:
            ks = [v] * len(a.order_by)
        return [_Key(k, d, nf) for k, (_, d, nf) in zip(ks, a.order_by)]
    return sorted(values, key=key)


def _bool_and(values, a):
    vals = [v for v in values if v is not None]
    return all(vals) if vals else None


def _bool_or(values, a):
    vals = [v for v in values if v is not None]
    return any(vals) if vals else None


def _bits(op):
    """bit_and / bit_or / bit_xor: the operator folded over the non-NULL values."""
    def run(values, a):
        vals = [v for v in values if v is not None]
        return functools.reduce(op, vals) if vals else None
    return run


def _stat(fn, minimum):
    def run(values, a):
        vals = [float(v) for v in values if v is not None]
        if len(vals) < minimum:
            return None
        if not all(map(math.isfinite, vals)):   # PostgreSQL: NaN (statistics raises)
            return float("nan")
        return fn(vals)
    return run


def _ordered(values) -> list:
    """Non-NULL values in PostgreSQL's order (NaN above every number)."""
    vals = [v for v in values if v is not None]
    return sorted(vals, key=lambda x: (x != x, x if x == x else 0.0)) \
        if vals and isinstance(vals[0], float) else sorted(vals)


def _quantile_cont(values, a):
    """Linear interpolation between the two closest ranks (percentile_cont)."""
    vals = [float(v) for v in _ordered(values)]
    if not vals:
        return None
    pos = a.extra[0] * (len(vals) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    if pos == lo:
        return vals[lo]
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def _quantile_disc(values, a):
    """The first value whose rank reaches the fraction (percentile_disc)."""
    import math
    vals = _ordered(values)
    if not vals:
        return None
    return vals[max(math.ceil(a.extra[0] * len(vals)) - 1, 0)]


def _quantile_arrow(values, a):
    """median / quantile_cont / quantile_disc over one group's Arrow values: one sort
    in Arrow (NaN after every number, as PostgreSQL orders floats)."""
    import math
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.drop_null()
    n = len(values)
    if n == 0:
        return None
    q = a.extra[0]
    if a.fn == "quantile_disc":
        ranks = [max(math.ceil(q * n) - 1, 0)]
    else:
        pos = q * (n - 1)
        ranks = [int(pos), min(int(pos) + 1, n - 1)]
    picked = _at_ranks(values, ranks)
    if a.fn == "quantile_disc":
        return picked[0]
    low, high = float(picked[0]), float(picked[1])
    return low if pos == ranks[0] else low + (high - low) * (pos - ranks[0])


def _at_ranks(values, ranks: list) -> list:
    """The values at these ranks of the sorted order: numpy's O(n) partition for
    numbers (NaN sorts last there too), an Arrow sort for everything else."""
    t = values.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        import numpy as np
        part = np.partition(values.to_numpy(zero_copy_only=False), sorted(set(ranks)))
        return [part[r].item() for r in ranks]
    order = pc.sort_indices(values)
    return [values[order[r].as_py()].as_py() for r in ranks]


def _pack_row(*args):
    """A value and its ORDER BY keys as JSON text (Arrow cannot hash_list structs).

    Dates and timestamps become ISO text, which sorts like the values do."""
    return _json.dumps(list(args), default=str)


def _pack_vector(*args):
    return map_rows(_pack_row, args, out_type=pa.large_string(), strict=False)


def register(reg) -> None:
    AGGREGATE_TYPES.update({
        "string_agg": lambda ts: T if ts and ts[0] in (T, N) else None,
        "bool_and": lambda ts: B if ts and ts[0] in (B, N) else None,
        "bool_or": lambda ts: B if ts and ts[0] in (B, N) else None,
        "every": lambda ts: B if ts and ts[0] in (B, N) else None,
    })
    for name, op in (("bit_and", operator.and_), ("bit_or", operator.or_),
                     ("bit_xor", operator.xor)):
        AGGREGATE_TYPES[name] = lambda ts: types.INTEGER if ts and ts[0] in (types.INTEGER, N) \
            else None
        PYTHON_AGGREGATES[name] = _bits(op)
    for name in ("median", "quantile_cont"):
        AGGREGATE_TYPES[name] = lambda ts: F if ts and ts[0] in (types.INTEGER, F, N) else None
    AGGREGATE_TYPES["quantile_disc"] = lambda ts: ts[0] if ts and ts[0] in _MINMAX_TYPES \
        else (T if ts and ts[0] == N else None)
    PYTHON_AGGREGATES.update({"median": _quantile_cont, "quantile_cont": _quantile_cont,
                              "quantile_disc": _quantile_disc})
    ARROW_AGGREGATES.update({"median": _quantile_arrow, "quantile_cont": _quantile_arrow,
                             "quantile_disc": _quantile_arrow})
    for name in ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop"):
        AGGREGATE_TYPES[name] = lambda ts: F if ts and ts[0] in (types.INTEGER, F, N) else None
    PYTHON_AGGREGATES.update({
        "string_agg": _string_agg, "bool_and": _bool_and, "bool_or": _bool_or,
        "every": _bool_and,
        "stddev": _stat(statistics.stdev, 2), "stddev_samp": _stat(statistics.stdev, 2),
        "stddev_pop": _stat(statistics.pstdev, 1), "variance": _stat(statistics.variance, 2),
        "var_samp": _stat(statistics.variance, 2), "var_pop": _stat(statistics.pvariance, 1),
    })
    register_pairs(AGGREGATE_TYPES)
    reg.add(ScalarFunction("agg_pack", lambda ts: T, _pack_vector, _pack_row, strict=False))


# ---- count(DISTINCT x) by integer codes ------------------------------------------------------
# Arrow's hash_count_distinct is slow (0.6 s for 1M rows x 7 groups here). With integer
# group ids and integer value codes the distinct (group, value) pairs are a bitmap (or a
# sorted unique) and the counts a reshape-sum: ~15x faster. The aggregate operator uses
# this when every grouping key and every count(DISTINCT) input can be encoded.

_BITMAP_LIMIT = 1 << 26


def group_ids(keys: list) -> tuple | None:
    """(gid per row, number of groups, a representative row per group) or None."""
    import numpy as np
    n = len(keys[0]) if keys else 0
    codes, sizes = [], []
    for k in keys:
        c = _codes(k)
        if c is None:
            return None
        codes.append(c[0])
        sizes.append(c[1])
    raw = np.zeros(n, np.int64)
    total = 1
    for c, size in zip(codes, sizes):
        raw = raw * size + c
        total *= size
        if total > (1 << 40):
            return None
    if len(keys) == 1:
        gid, ngroups = raw, total
        present = np.zeros(total, bool)
        present[gid] = True
        if not present.all():      # dictionary_encode never leaves holes, but be safe
            remap = np.cumsum(present) - 1
            gid, ngroups = remap[gid], int(present.sum())
    elif total <= _BITMAP_LIMIT:
        present = np.zeros(total, bool)
        present[raw] = True
        remap = np.cumsum(present) - 1
        gid, ngroups = remap[raw], int(present.sum())
    else:
        _, gid = np.unique(raw, return_inverse=True)
        ngroups = int(gid.max()) + 1 if n else 0
    rep = np.empty(ngroups, np.int64)
    rep[gid] = np.arange(n, dtype=np.int64)
    return gid, ngroups, rep


def _codes(values):
    """(int64 codes per row with NULL as its own code, number of codes) or None."""
    import numpy as np
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if pa.types.is_floating(t) or pa.types.is_interval(t) or pa.types.is_nested(t):
        return None      # -0.0/NaN grouping rules: leave floats to Arrow
    enc = pc.dictionary_encode(values, null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), max(len(enc.dictionary), 1)


def count_distinct_codes(gid, ngroups: int, values):
    """count(DISTINCT values) per group id, NULLs not counted; None if not encodable."""
    import numpy as np
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    valid = None
    if values.null_count:
        valid = values.is_valid().to_numpy(zero_copy_only=False)
        values = values.drop_null()
    if pa.types.is_integer(t) or pa.types.is_date(t) or pa.types.is_timestamp(t):
        if pa.types.is_date(t):
            v = values.cast(pa.int32()).cast(pa.int64())
        else:
            v = values.cast(pa.int64()) if not pa.types.is_integer(t) else values
        v = v.to_numpy(zero_copy_only=False).astype(np.int64)
        lo = int(v.min()) if len(v) else 0
        span = (int(v.max()) - lo + 1) if len(v) else 1
        code = v - lo
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t):
        enc = pc.dictionary_encode(values)
        code = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        span = max(len(enc.dictionary), 1)
    else:
        return None
    g = gid if valid is None else gid[valid]
    if ngroups * span <= _BITMAP_LIMIT:
        seen = np.zeros(ngroups * span, bool)
        seen[g * span + code] = True
        return seen.reshape(ngroups, span).sum(axis=1).astype(np.int64)
    if ngroups * span >= (1 << 62):
        return None
    pairs = np.unique(g * span + code)
    return np.bincount(pairs // span, minlength=ngroups).astype(np.int64)


# ---- GROUP BY one integer key: numpy bincount ---------------------------------------------------
# With a single non-NULL integer key whose value range is not much larger than the row
# count (ids, foreign keys, years), each count/sum/avg is one ``np.bincount`` over
# ``key - min``: no hashing at all, ~5x faster than Arrow's hash aggregation for 250k
# groups over 1M rows. Integer sums go this way only when float64 is provably exact
# (n * max|v| < 2^53). Anything else returns None and Arrow does the work.

def grouped_int_bincount(aggregates, keys, inputs, columns):
    import numpy as np
    if len(keys) != 1 or not aggregates:
        return None
    key = keys[0]
    if isinstance(key, pa.ChunkedArray):
        key = key.combine_chunks()
    n = len(key)
    if not pa.types.is_integer(key.type) or key.null_count or n == 0:
        return None
    if not all(a.fn in ("count", "sum", "avg") and not a.distinct for a in aggregates):
        return None
    k = key.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    lo, hi = int(k.min()), int(k.max())
    span = hi - lo + 1
    if span > max(4 * n, 1 << 16):
        return None
    slot = k - lo if lo else k
    counts = np.bincount(slot, minlength=span).astype(np.int64)   # shared: rows per group
    groups = np.flatnonzero(counts)
    out = [pa.array(groups + lo, pa.int64())]
    for a, v in zip(aggregates, inputs):
        col = _bincount_agg(a, v, slot, span, n, counts)
        if col is None:
            return None
        out.append(col[groups] if isinstance(col, np.ndarray) else col.take(pa.array(groups)))
    arrays = [c if isinstance(c, (pa.Array, pa.ChunkedArray)) else pa.array(c) for c in out]
    arrays = [c.cast(_t.arrow_type(t)) if c.type != _t.arrow_type(t) else c
              for c, (_, t) in zip(arrays, columns)]
    return pa.Table.from_arrays(arrays, names=[c for c, _ in columns])


def _bincount_agg(a, v, slot, span, n, rows):
    """One aggregate's per-group column; ``rows``: the rows per group (count(*))."""
    import numpy as np
    if a.star:
        return rows
    if isinstance(v, pa.ChunkedArray) and v.num_chunks > 1 and not v.null_count and \
            a.fn in ("sum", "avg") and pa.types.is_floating(v.type) and \
            span * v.num_chunks <= n:
        # float sums chunk by chunk: no copy of the whole column (a stored table's
        # 64k-row chunks), the few groups' partial sums added up
        sums = np.zeros(span)
        start = 0
        for chunk in v.chunks:
            stop = start + len(chunk)
            sums += np.bincount(slot[start:stop], weights=chunk.to_numpy(zero_copy_only=False),
                                minlength=span)
            start = stop
        empty = rows == 0
        if a.fn == "avg":
            with np.errstate(divide="ignore", invalid="ignore"):
                return pa.array(sums / np.maximum(rows, 1), pa.float64(), mask=empty)
        return pa.array(sums, pa.float64(), mask=empty)
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks()
    t = v.type
    valid = v.is_valid().to_numpy(zero_copy_only=False) if v.null_count else None
    s = slot if valid is None else slot[valid]
    counts = rows if valid is None else np.bincount(s, minlength=span).astype(np.int64)
    if a.fn == "count":
        return counts
    if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return None
    vals = (v.drop_null() if valid is not None else v).to_numpy(zero_copy_only=False)
    if pa.types.is_integer(t) and len(vals) and float(np.abs(vals).max()) * len(vals) >= 2.0 ** 53:
        return None
    sums = np.bincount(s, weights=vals.astype(np.float64, copy=False), minlength=span)
    empty = counts == 0
    if a.fn == "avg":
        with np.errstate(divide="ignore", invalid="ignore"):
            return pa.array(sums / np.maximum(counts, 1), pa.float64(), mask=empty)
    if pa.types.is_integer(t):
        return pa.array(np.rint(sums).astype(np.int64), pa.int64(), mask=empty)
    return pa.array(sums, pa.float64(), mask=empty)
