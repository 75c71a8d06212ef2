"""GROUP BY in numpy where the keys allow it: count(DISTINCT) and count/sum/avg by codes.

Arrow's hash aggregation is general; these paths are for the common shapes where integer
codes make grouping a bitmap or a bincount (no hashing), several times faster at millions
of rows. Each returns None when its shape does not apply, and the aggregate operator
(aggregate.py) falls back to Arrow.
"""
from __future__ import annotations

from ...lazy_import import arrow as pa, compute as pc, numpy as np
from ..arrays import contiguous

from decimal import Decimal

from ... import numeric, numeric_arrays, types


# ---- count(DISTINCT x) by integer codes ------------------------------------------------------
# Arrow's hash_count_distinct is slow (0.6 s for 1M rows x 7 groups here). With integer
# group ids and integer value codes the distinct (group, value) pairs are a bitmap (or a
# sorted unique) and the counts a reshape-sum: ~15x faster. The aggregate operator uses
# this when every grouping key and every count(DISTINCT) input can be encoded.

_BITMAP_LIMIT = 1 << 26


def group_ids(keys: list) -> tuple | None:
    """(gid per row, number of groups, a representative row per group) or None."""
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
    values = contiguous(values)
    t = values.type
    if pa.types.is_floating(t) or pa.types.is_interval(t) or pa.types.is_nested(t):
        return None      # -0.0/NaN grouping rules: leave floats to Arrow
    enc = pc.dictionary_encode(values, null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), max(len(enc.dictionary), 1)


def count_distinct_codes(gid, ngroups: int, values):
    """count(DISTINCT values) per group id, NULLs not counted; None if not encodable."""
    values = contiguous(values)
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

def grouped_int_bincount(aggregates, keys, inputs, columns, bounds=None, rows=None,
                         fold=None):
    """``bounds``: the key's (min, max) when the caller knows them (no two passes);
    ``rows``: the rows per key value from min to max, when already counted (then a key
    of None stands for one that only count(*) needed); ``fold``: when the key values are
    codes into a small table (a join's dimension rows, from 0), each code's group: the
    aggregates are counted per code and then added up per group, so no group number is
    gathered per row."""
    if len(keys) != 1 or not aggregates:
        return None
    if not all(a.fn in ("count", "sum", "avg") and not a.distinct for a in aggregates):
        return None
    if keys[0] is None:
        if rows is None or not all(a.star for a in aggregates):
            return None
        slot, lo, span, n = None, bounds[0], len(rows), int(rows.sum())
    else:
        key = contiguous(keys[0])
        n = len(key)
        if not pa.types.is_integer(key.type) or key.null_count or n == 0:
            return None
        k = key.to_numpy(zero_copy_only=False)
        lo, hi = bounds if bounds is not None else (int(k.min()), int(k.max()))
        span = hi - lo + 1
        if span > max(4 * n, 1 << 16):
            return None
        # narrow slots from 0 stay as they are: bincount widens them block by block
        slot = k if not lo and k.dtype.kind == "i" else k.astype(np.int64) - lo
    counts = rows if rows is not None else _counted(slot, span)     # shared: rows per group
    parts = []
    for a, v in zip(aggregates, inputs):
        part = _bincount_parts(a, v, slot, span, n, counts)
        if part is None:
            return None
        parts.append(part)
    if fold is not None:
        groups = int(fold.max()) + 1 if len(fold) else 0

        def folded(x, whole=True):
            total = np.bincount(fold, weights=x, minlength=groups)
            return np.rint(total).astype(np.int64) if whole else total
        counts = folded(counts)
        parts = [(folded(c), None if s is None else folded(s, False), t) for c, s, t in parts]
        lo = 0
    groups = np.flatnonzero(counts)
    out = [pa.array(groups + lo, pa.int64())]
    for a, part in zip(aggregates, parts):
        col = _finished(a, *part)
        out.append(col[groups] if isinstance(col, np.ndarray) else col.take(pa.array(groups)))
    arrays = [c if isinstance(c, (pa.Array, pa.ChunkedArray)) else pa.array(c) for c in out]
    arrays = [c.cast(types.arrow_type(t)) if c.type != types.arrow_type(t) and
              not numeric_arrays.keep_form(c, types.arrow_type(t)) else c
              for c, (_, t) in zip(arrays, columns)]
    return pa.Table.from_arrays(arrays, names=[c for c, _ in columns])


BLOCK = 1 << 16     # rows a block-by-block pass takes at once (its temporaries in cache)


def few_slots(span: int, n: int) -> bool:
    """Whether ``span`` slots are few enough to count ``n`` rows block by block (one
    ``span``-long bincount per block costs no more than the rows themselves)."""
    return span * -(-n // BLOCK) <= n


def _counted(slot: np.ndarray, span: int, weights: np.ndarray | None = None) -> np.ndarray:
    """np.bincount of the slots (int64 counts, or float sums of ``weights``), block by
    block while the slots are few: each block's temporaries stay in cache, and int32
    slots are widened there, not all at once."""
    n = len(slot)
    if not few_slots(span, n):
        out = np.bincount(slot, weights=weights, minlength=span)
        return out if weights is not None else out.astype(np.int64)
    out = np.zeros(span, np.int64 if weights is None else np.float64)
    for i in range(0, n, BLOCK):
        out += np.bincount(slot[i:i + BLOCK], minlength=span,
                           weights=None if weights is None else weights[i:i + BLOCK])
    return out


def _bincount_parts(a, v, slot, span, n, rows):
    """One aggregate's (values counted, their sum or None, the values' type) per key
    slot; ``rows``: the rows per slot (count(*)); None when numpy cannot sum exactly."""
    if a.star:
        return rows, None, None
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
        return rows, sums, v.type
    if isinstance(v, pa.ChunkedArray) and not v.null_count and a.fn in ("sum", "avg") and \
            numeric_arrays.is_decimal(v.type):
        # numerics chunk by chunk, as floats above: no copy of the column
        sums = _decimal_sums(v, None, slot, span)
        return None if sums is None else (rows, sums, v.type)
    v = contiguous(v)
    t = v.type
    valid = v.is_valid().to_numpy(zero_copy_only=False) if v.null_count else None
    s = slot if valid is None else slot[valid]
    counts = rows if valid is None else _counted(s, span)
    if a.fn == "count":
        return counts, None, t
    if numeric_arrays.is_decimal(t):
        sums = _decimal_sums(v, valid, s, span)
        return None if sums is None else (counts, sums, t)
    if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return None
    vals = (v.drop_null() if valid is not None else v).to_numpy(zero_copy_only=False)
    if pa.types.is_integer(t) and len(vals) and float(np.abs(vals).max()) * len(vals) >= 2.0 ** 53:
        return None
    return counts, _counted(s, span, vals.astype(np.float64, copy=False)), t


_SPLIT = 1 << 26


def _decimal_sums(v, valid, slot, span):
    """Exact int64 sums per slot of a decimal128 column's scaled integers (precision at
    most 18): each value split into 26-bit halves, each half summed by a float bincount
    that cannot round (every partial sum stays below 2**53); None when one could."""
    chunks = v.chunks if isinstance(v, pa.ChunkedArray) else [v]
    parts = [numeric_arrays.unscaled64(c) for c in chunks]
    if any(p is None for p in parts):
        return None
    if valid is not None:
        parts = [parts[0][valid]]
    n = sum(len(p) for p in parts)
    if not n:
        return np.zeros(span, np.int64)
    bound = max(max(abs(int(p.min())), abs(int(p.max()))) for p in parts if len(p))
    if bound * n >= 1 << 62 or (bound // _SPLIT + 1) * n >= 1 << 53 or _SPLIT * n >= 1 << 53:
        return None
    high_sums = np.zeros(span)
    low_sums = np.zeros(span)
    start = 0
    if bound * n < 1 << 53:             # no float sum of these can round: one pass
        for ints in parts:
            stop = start + len(ints)
            low_sums += np.bincount(slot[start:stop], weights=ints, minlength=span)
            start = stop
        return np.rint(low_sums).astype(np.int64)
    for ints in parts:
        stop = start + len(ints)
        high = np.right_shift(ints, 26)
        low = ints - (high << 26)                    # 0 <= low < 2**26
        high_sums += np.bincount(slot[start:stop], weights=high, minlength=span)
        low_sums += np.bincount(slot[start:stop], weights=low, minlength=span)
        start = stop
    return (np.rint(high_sums).astype(np.int64) << 26) + np.rint(low_sums).astype(np.int64)


def _finished(a, counts, sums, t):
    """One aggregate's per-group column from its counts and sums (_bincount_parts)."""
    if a.star or a.fn == "count":
        return counts
    empty = counts == 0
    if numeric_arrays.is_decimal(t):          # exact scaled sums (_decimal_sums)
        if a.fn == "avg":
            return pa.array([None if not c else numeric.encode(numeric.div(
                Decimal(int(x)).scaleb(-t.scale, context=numeric.CTX), Decimal(int(c))))
                for x, c in zip(sums.tolist(), counts.tolist())], pa.binary())
        validity = pa.array(~empty).buffers()[1] if empty.any() else None
        return numeric_arrays.from_unscaled64(sums, numeric_arrays.MAX_PRECISION, t.scale,
                                              validity)
    if a.fn == "avg" and a.type == types.NUMERIC:     # avg of integers: exact (numeric.py)
        return pa.array(numeric.average_keys(sums.tolist(), counts.tolist()), pa.binary())
    if a.fn == "avg":
        with np.errstate(divide="ignore", invalid="ignore"):
            return pa.array(sums / np.maximum(counts, 1), pa.float64(), mask=empty)
    if pa.types.is_integer(t):
        return pa.array(np.rint(sums).astype(np.int64), pa.int64(), mask=empty)
    return pa.array(sums, pa.float64(), mask=empty)
