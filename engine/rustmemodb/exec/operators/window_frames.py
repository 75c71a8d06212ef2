"""Window frame pieces beyond ROWS/RANGE: GROUPS offsets and EXCLUDE.

GROUPS offsets count peer groups: ``2 PRECEDING`` starts at the first row of the peer
group two groups back (clamped to the partition; a bound past the partition's edge
makes the frame empty). Layout arrays come from ``window._Layout``: ``gid`` (peer
group id per sorted row) and ``group_first``/``group_last`` (row positions by id).

EXCLUDE cuts rows out of an already computed frame ``lo..hi``: the current row,
its peer group, or its peers but not itself (TIES). What is left is at most three
runs in order: ``lo .. cut_lo-1``, the current row (TIES only), ``cut_hi+1 .. hi``.
count/sum/avg add prefix-sum differences over the runs; min/max combine a sparse-
table query per run; first/last/nth_value pick positions through the runs.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ... import errors, types
from ..expr.vector import as_array, evaluate
from ...plan.aggregates import FRAME_STATISTICS, VARIANCES
from ..functions.aggregate_pairs import finish, pieced_states
from ..semantics import order_codes
from .window import (aggregate_input, pair_rows, run_sums, sum_avg, _gather, _sparse_query,
                     _const_arg)
from .window_collect import COLLECTING, collect
from .window_spread import frame_spread


def groups_bound(L, kind: str, k: int, is_start: bool) -> np.ndarray:
    first_gid = L.gid[L.part_first]
    last_gid = L.gid[L.part_last]
    target = L.gid - k if kind == "preceding" else L.gid + k
    inside = (target >= first_gid) & (target <= last_gid)
    t = np.clip(target, first_gid, last_gid)
    if is_start:
        pos = L.group_first[t]
        # starting past the partition's last group: empty frame
        return np.where(inside | (target < first_gid), pos, L.part_last + 1)
    pos = L.group_last[t]
    return np.where(inside | (target > last_gid), pos, L.part_first - 1)


def _runs(call, L, lo, hi):
    """[(start, end)] * 3 per row (start > end: empty run), in frame order."""
    exclude = call.frame[3]
    if exclude == "current":
        cut_lo, cut_hi = L.pos, L.pos
    else:
        cut_lo, cut_hi = L.peer_first, L.peer_last
    a = (lo, np.minimum(hi, cut_lo - 1))
    b = (np.maximum(lo, cut_hi + 1), hi)
    if exclude == "ties":
        inside = (L.pos >= lo) & (L.pos <= hi)
        c = (np.where(inside, L.pos, 1), np.where(inside, L.pos, 0))
    else:
        c = (np.ones_like(lo), np.zeros_like(lo))
    return [a, c, b]


def compute_excluded(call, L, table, ctx, lo, hi):
    runs = _runs(call, L, lo, hi)
    fn = call.fn
    if fn in ("first_value", "last_value", "nth_value"):
        return _nth(call, L, table, ctx, runs)
    if fn in COLLECTING:
        return collect(call, L, table, ctx, runs)
    values, valid = aggregate_input(call, L, table, ctx)
    if fn in VARIANCES and call.type == types.NUMERIC:         # of integers, numerics
        return frame_spread(fn, values, valid, runs, _sparse_query)
    if fn in FRAME_STATISTICS:
        return _statistic(call, L, table, ctx, valid, runs)
    counts = sum(run_sums(np.concatenate([[0], np.cumsum(valid, dtype=np.int64)]), runs))
    if fn == "count":
        return counts
    if fn in ("sum", "avg"):
        return sum_avg(call, values, valid, counts, runs)
    if fn in ("min", "max"):
        return _min_max(call, values, valid, runs, counts)
    raise errors.not_supported(f"{fn} as a window function")


def _statistic(call, L, table, ctx, valid, runs):
    """corr/covar/regr_* over frames with EXCLUDE: the kept rows where both arguments are
    set, piece after piece in frame order (aggregate_pairs.pieced_states)."""
    y, x, before = pair_rows(call, L, table, ctx, valid)
    pieces = []
    for s, e in runs:
        empty = s > e
        s0, e0 = np.where(empty, 0, s), np.where(empty, 0, e)
        pieces.append((np.where(empty, 0, before[s0]), np.where(empty, -1, before[e0 + 1] - 1)))
    return finish(call.fn, pieced_states(y, x, pieces))


def _min_max(call, values, valid, runs, counts):
    n = len(values)
    codes = order_codes(values)
    is_max = call.fn == "max"
    sentinel = -1 if is_max else int(codes.max(initial=0)) + 1
    c = np.where(valid, codes, sentinel)
    op = np.maximum if is_max else np.minimum
    best = np.full(n, sentinel, np.int64)
    for s, e in runs:
        empty = s > e
        got = _sparse_query(c, np.where(empty, 0, s), np.where(empty, 0, e), is_max)
        best = op(best, np.where(empty, sentinel, got))
    missing = (counts == 0) | (best == sentinel)
    rep = np.zeros(int(codes.max(initial=0)) + 2, np.int64)
    rep[codes] = np.arange(n, dtype=np.int64)
    src = rep[np.clip(best, 0, len(rep) - 1)]
    return _gather(values, np.where(missing, 0, src), ~missing)


def _nth(call, L, table, ctx, runs):
    values = L.sorted(as_array(evaluate(call.args[0], table, ctx), L.n))
    lengths = [np.maximum(e - s + 1, 0) for s, e in runs]
    total = lengths[0] + lengths[1] + lengths[2]
    if call.fn == "last_value":
        k = total
    elif call.fn == "first_value":
        k = np.ones(L.n, np.int64)
    else:
        kk = _const_arg(call, 1, table, ctx, "nth_value position")
        if kk is None:
            return pa.nulls(L.n, types.arrow_type(call.type))
        if kk <= 0:
            raise errors.sql_error("22016", "argument of nth_value must be greater than zero")
        k = np.full(L.n, kk, np.int64)
    ok = (k >= 1) & (k <= total)
    src = np.zeros(L.n, np.int64)
    before = np.zeros(L.n, np.int64)
    for (s, _), length in zip(runs, lengths):
        here = ok & (k > before) & (k <= before + length)
        src = np.where(here, s + (k - before) - 1, src)
        before = before + length
    return _gather(values, np.where(ok, src, 0), ok)
