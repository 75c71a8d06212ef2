"""Aggregates over (first, second) argument pairs, computed per group with numpy.

* PostgreSQL's statistics of (Y, X): ``corr``, ``covar_pop``, ``covar_samp`` and the
  ``regr_*`` family. PostgreSQL accumulates n, Sx, Sy, Sxx, Syy, Sxy row by row with the
  Youngs-Cramer update; the same update is written here as prefix sums, which numpy's
  ``cumsum`` adds strictly left to right, so the per-group states (and the answers, to
  the last bit) are PostgreSQL's for the same row order, with no Python loop over rows.
  Groups are laid out as rows of padded matrices (groups of similar size share one
  matrix, so padding at most doubles the work) and summed along each row.
* DuckDB's ``arg_max(arg, val)`` / ``arg_min`` (aliases ``max_by`` / ``min_by``): the
  ``arg`` of the row with the largest / smallest ``val`` (NaN largest); rows where
  ``arg`` or ``val`` is NULL are ignored, as DuckDB 1.1+ does; ties go to the first such
  row in input order (DuckDB keeps the first row it meets).

The aggregate operator (``exec/operators/aggregate.py``) evaluates both arguments, drops
FILTERed rows and hands the arrays with a group id per row to ``pair_aggregate``;
window frames call ``regr_states`` on each frame's rows (``window.py``).
"""
from __future__ import annotations

from ...lazy_import import arrow as pa, compute as pc, numpy as np
from ..arrays import contiguous

from ... import errors, types

from ...plan.aggregates import PAIR_STATISTICS as STATISTICS, PAIR_EXTREMES as EXTREMES
from ... import infinity
PAIR_AGGREGATES = STATISTICS + EXTREMES

_NUMERIC = (types.INTEGER, types.FLOAT, types.NULL)
_ORDERABLE = (types.INTEGER, types.FLOAT, types.TEXT, types.DATE, types.TIMESTAMP,
              types.BOOLEAN, types.UUID, types.INTERVAL, types.TIME, types.BYTEA,
              types.TIMESTAMPTZ) + types.NETWORK_TYPES + (types.MONEY,)


def _statistic_type(name: str):
    def resolve(ts):
        if len(ts) != 2 or ts[0] not in _NUMERIC or ts[1] not in _NUMERIC:
            return None
        return types.INTEGER if name == "regr_count" else types.FLOAT
    # pg_proc lists PostgreSQL's one signature (integers reach it through the float cast)
    resolve.signatures = [(types.FLOAT, types.FLOAT,
                           types.INTEGER if name == "regr_count" else types.FLOAT)]
    return resolve


def _extreme_type(ts):
    if len(ts) != 2 or (ts[1] not in _ORDERABLE and ts[1] != types.NULL):
        return None
    return types.TEXT if ts[0] == types.NULL else ts[0]


def register(aggregate_types: dict) -> None:
    for name in STATISTICS:
        aggregate_types[name] = _statistic_type(name)
    for name in EXTREMES:
        aggregate_types[name] = _extreme_type


def as_floats(values):
    values = contiguous(values)
    return values.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False) \
        .astype(np.float64, copy=False)


def valid_mask(values):
    values = contiguous(values)
    if not values.null_count:
        return np.ones(len(values), bool)
    return values.is_valid().to_numpy(zero_copy_only=False)


def pair_aggregate(fn: str, first, second, keep, gid, ngroups: int,
                   memo: dict | None = None, key=None) -> pa.Array:
    """One aggregate per group id (0..ngroups-1) over the rows where ``keep`` holds.
    Statistics of the same (Y, X, FILTER) share one state computation through ``memo``."""
    if fn in EXTREMES:
        return _extreme(fn, first, second, keep, gid, ngroups)
    states = memo.get(key) if memo is not None and key is not None else None
    if states is None:
        if keep.all() and not first.null_count and not second.null_count:
            y, x, g = as_floats(first), as_floats(second), gid
        else:
            rows = keep & valid_mask(first) & valid_mask(second)
            y, x, g = as_floats(first)[rows], as_floats(second)[rows], gid[rows]
        states = regr_states(y, x, g, ngroups)
        if memo is not None and key is not None:
            memo[key] = states
    return finish(fn, states)


def regr_states(y, x, gid, ngroups: int) -> tuple:
    """(N, Sx, Sxx, Sy, Syy, Sxy) per group: PostgreSQL's float8_regr_accum over the
    group's rows in order. Overflow from finite inputs is 22003, as there."""
    counts = np.bincount(gid, minlength=ngroups).astype(np.int64) if len(gid) else \
        np.zeros(ngroups, np.int64)
    if ngroups == 1 and len(x):           # one run over every row: no layout, no copy
        running = _youngs_cramer(x[None, :], y[None, :], None)
        return (np.array([float(len(x))]),) + tuple(
            a[:, -1] for a in (running[0], running[2], running[1], running[3], running[4]))
    # numpy's stable sort is a radix sort for 16-bit keys (5M rows: ~10x faster)
    order = np.argsort(gid.astype(np.uint16) if ngroups <= 65536 else gid, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return frame_states(y[order], x[order], starts, starts + counts - 1)


def frame_states(y, x, lo, hi) -> tuple:
    """(N, Sx, Sxx, Sy, Syy, Sxy) of the rows lo..hi (inclusive; lo > hi: none) of y, x,
    accumulated in order (see _frame_runs)."""
    out = [np.zeros(len(lo)) for _ in range(6)]
    out[0] = np.maximum(hi - lo + 1, 0).astype(np.float64)
    for src, inside, rows, pick in _frame_runs(lo, hi):
        running = _youngs_cramer(np.where(inside, x[src], 0.0), np.where(inside, y[src], 0.0),
                                 inside)
        for k, arr in zip((1, 3, 2, 4, 5), running):
            out[k][rows] = arr[pick]
    return tuple(out)


def pieced_states(y, x, pieces) -> tuple:
    """(N, Sx, Sxx, Sy, Syy, Sxy) per frame made of several pieces ``[(lo, hi), ...]`` read
    one after the other (a frame with EXCLUDE: the rows before and after the cut). Every
    frame is its own matrix row (frames of similar size share a matrix)."""
    m = len(pieces[0][0])
    sizes = [np.maximum(h - l + 1, 0) for l, h in pieces]
    total = sum(sizes)
    out = [np.zeros(m) for _ in range(6)]
    out[0] = total.astype(np.float64)
    rows_all = np.flatnonzero(total > 0)
    if not len(rows_all):
        return tuple(out)
    size_class = np.ceil(np.log2(total[rows_all])).astype(np.int64)
    for c in np.unique(size_class):
        members = rows_all[size_class == c]
        for rows in _bounded(members, int(total[members].max())):
            _pieced(y, x, pieces, sizes, total, rows, out)
    return tuple(out)


def _pieced(y, x, pieces, sizes, total, rows, out) -> None:
    """The states of these frames (one matrix row each) into ``out``."""
    col = np.arange(int(total[rows].max()))[None, :]
    inside = col < total[rows][:, None]
    src = np.zeros(inside.shape, np.int64)
    before = np.zeros((len(rows), 1), np.int64)
    for (lo, _), size in zip(pieces, sizes):
        here = (col >= before) & (col < before + size[rows][:, None])
        src = np.where(here, lo[rows][:, None] + col - before, src)
        before = before + size[rows][:, None]
    running = _youngs_cramer(np.where(inside, x[src], 0.0), np.where(inside, y[src], 0.0),
                             inside)
    pick = (np.arange(len(rows)), total[rows] - 1)
    for k, arr in zip((1, 3, 2, 4, 5), running):
        out[k][rows] = arr[pick]


def _frame_runs(lo, hi):
    """The frames lo..hi laid out for running sums along matrix rows. Frames that share a
    start are prefixes of one run: each distinct start is one row of a padded matrix (runs
    of similar length share a matrix, so the padding at most doubles the work), read left
    to right. Yields (source row per cell, cell in the run, frames answered, (matrix row,
    column) of each frame's last cell)."""
    size = np.maximum(hi - lo + 1, 0)
    nonempty = np.flatnonzero(size > 0)
    if not len(nonempty):
        return
    starts, which = np.unique(lo[nonempty], return_inverse=True)
    length = np.zeros(len(starts), np.int64)
    np.maximum.at(length, which, size[nonempty])
    size_class = np.ceil(np.log2(length)).astype(np.int64)
    for c in np.unique(size_class):
        members = np.flatnonzero(size_class == c)
        for runs in _bounded(members, int(length[members].max())):
            yield _layout(runs, starts, which, length, nonempty, size)


def _bounded(items, width: int):
    """``items`` in slices of at most _CELLS cells per matrix of this width: a frame that
    runs to the partition's end from every row (O(n^2) cells, as PostgreSQL's restarts
    are O(n^2) work) is computed slice by slice in bounded memory."""
    step = max(1, _CELLS // max(width, 1))
    return [items[i:i + step] for i in range(0, len(items), step)]


_CELLS = 1 << 20


def _layout(runs, starts, which, length, nonempty, size):
    """One matrix: the runs' source rows, which cells are inside, the frames answered and
    where each frame's last cell is."""
    col = np.arange(int(length[runs].max()))
    inside = col[None, :] < length[runs][:, None]
    src = np.where(inside, starts[runs][:, None] + col[None, :], 0)
    slot = np.full(len(starts), -1, np.int64)
    slot[runs] = np.arange(len(runs))
    mine = slot[which] >= 0
    rows = nonempty[mine]
    return src, inside, rows, (slot[which][mine], size[rows] - 1)


def frame_extreme(fn: str, arg, val, valid, lo, hi) -> pa.Array:
    """arg_max / arg_min over window frames lo..hi of already sorted arg, val (``valid``:
    the rows FILTER keeps): a running max (min) of rank-and-position keys per run, so a
    tie goes to the frame's first row, as in _extreme."""
    arg = contiguous(arg)
    val = contiguous(val)
    ok = valid & valid_mask(arg) & valid_mask(val)
    keep = np.flatnonzero(ok)
    before = np.concatenate([[0], np.cumsum(ok, dtype=np.int64)])
    empty = lo > hi
    safe_lo, safe_hi = np.where(empty, 0, lo), np.where(empty, 0, hi)
    flo = np.where(empty, 0, before[safe_lo])
    fhi = np.where(empty, -1, before[safe_hi + 1] - 1)
    v = val.take(pa.array(keep))
    if pa.types.is_interval(v.type):
        v = _interval_order_key(v)
    codes = pc.rank(v, sort_keys="ascending", tiebreaker="dense") \
        .to_numpy(zero_copy_only=False).astype(np.int64) if len(v) else np.zeros(0, np.int64)
    found = np.zeros(len(lo), bool)
    src_row = np.zeros(len(lo), np.int64)
    for src, inside, rows, pick in _frame_runs(flo, fhi):
        width = src.shape[1]
        col = np.arange(width)[None, :]
        if fn == "arg_max":
            key = np.where(inside, codes[src] * width + (width - 1 - col), -1)
            best = np.maximum.accumulate(key, axis=1)[pick]
            at = width - 1 - best % width
        else:
            big = (int(codes.max(initial=0)) + 2) * width
            key = np.where(inside, codes[src] * width + col, big)
            best = np.minimum.accumulate(key, axis=1)[pick]
            at = best % width
        src_row[rows] = keep[src[pick[0], at]]
        found[rows] = True
    return arg.take(pa.array(src_row, mask=~found))


def _youngs_cramer(xs, ys, inside):
    """Row-wise running states of padded groups (see regr_states)."""
    with np.errstate(over="ignore", invalid="ignore"):   # inf/NaN handled as PostgreSQL
        return _running(xs, ys, inside)


def _running(xs, ys, inside):
    """Running (Sx, Sy, Sxx, Syy, Sxy) along each row. Column 0's scale is 0, so its terms
    are 0, or NaN when the first value is NaN or infinite (PostgreSQL's first-row rule);
    the padding after a run's end never reaches a cell that is read."""
    sx, sy = np.cumsum(xs, axis=1), np.cumsum(ys, axis=1)
    k = np.arange(1, xs.shape[1] + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        scale = 1.0 / (k * (k - 1.0))
    scale[0] = 0.0
    tx = xs * k
    tx -= sx
    ty = ys * k
    ty -= sy
    sxy = tx * ty
    sxy *= scale
    tx *= tx
    tx *= scale
    ty *= ty
    ty *= scale
    sxx = np.cumsum(tx, axis=1, out=tx)
    syy = np.cumsum(ty, axis=1, out=ty)
    sxy = np.cumsum(sxy, axis=1, out=sxy)
    # Infinity and NaN never leave a running sum (inf + x is inf or NaN), so a clean
    # last column proves every cell finite; otherwise look closer (rare).
    if not all(np.isfinite(a[:, -1]).all() for a in (sx, sy, sxx, syy, sxy)):
        _overflow_check(xs, ys, inside, sx, sy, sxx, syy, sxy)
        sxx[np.isinf(sxx)] = np.nan
        syy[np.isinf(syy)] = np.nan
        sxy[np.isinf(sxy)] = np.nan
    return sx, sy, sxx, syy, sxy


def _overflow_check(xs, ys, inside, sx, sy, sxx, syy, sxy) -> None:
    """22003 when finite inputs reach an infinite state (PostgreSQL's overflow rule);
    states from infinite inputs become NaN instead (the caller's job)."""
    if inside is None:
        inside = np.ones(xs.shape, bool)
    finite_x = np.isfinite(np.where(inside, xs, 0.0)).all(axis=1, keepdims=True)
    finite_y = np.isfinite(np.where(inside, ys, 0.0)).all(axis=1, keepdims=True)
    if (np.isinf(np.where(inside, sx, 0.0)) & finite_x).any() or \
            (np.isinf(np.where(inside, sy, 0.0)) & finite_y).any() or \
            (np.isinf(np.where(inside, sxx, 0.0)) & finite_x).any() or \
            (np.isinf(np.where(inside, syy, 0.0)) & finite_y).any() or \
            (np.isinf(np.where(inside, sxy, 0.0)) & finite_x & finite_y).any():
        raise errors.numeric_out_of_range("value out of range: overflow")


def finish(fn: str, states) -> pa.Array:
    """The final function of ``fn`` over per-group states (PostgreSQL's float8_corr,
    float8_regr_slope, ...): NULL where PostgreSQL returns NULL."""
    n, sx, sxx, sy, syy, sxy = states
    if fn == "regr_count":
        return pa.array(n.astype(np.int64), pa.int64())
    none = n < 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if fn == "regr_sxx":
            v = sxx
        elif fn == "regr_syy":
            v = syy
        elif fn == "regr_sxy":
            v = sxy
        elif fn == "regr_avgx":
            v = sx / n
        elif fn == "regr_avgy":
            v = sy / n
        elif fn == "covar_pop":
            v = sxy / n
        elif fn == "covar_samp":
            none = n < 2.0
            v = sxy / (n - 1.0)
        elif fn == "corr":
            none = none | (sxx == 0) | (syy == 0)
            v = sxy / np.sqrt(sxx * syy)
        elif fn == "regr_r2":
            none = none | (sxx == 0)
            v = np.where(syy == 0, 1.0, (sxy * sxy) / (sxx * syy))
        elif fn == "regr_slope":
            none = none | (sxx == 0)
            v = sxy / sxx
        elif fn == "regr_intercept":
            none = none | (sxx == 0)
            v = (sy - sx * sxy / sxx) / n
        elif fn in ("var_pop", "stddev_pop"):          # over (x, x): a window's stddev
            v = np.maximum(sxx, 0.0) / n
            v = np.sqrt(v) if fn == "stddev_pop" else v
        elif fn in ("variance", "var_samp", "stddev", "stddev_samp"):
            none = n < 2.0
            v = np.maximum(sxx, 0.0) / (n - 1.0)
            v = np.sqrt(v) if fn.startswith("stddev") else v
        else:
            raise errors.not_supported(f"aggregate {fn}")
    return pa.array(np.where(none, 0.0, v), pa.float64(), mask=none)


def _extreme(fn: str, arg, val, keep, gid, ngroups: int) -> pa.Array:
    """arg_max / arg_min per group; a tie goes to the earliest row."""
    arg = contiguous(arg)
    val = contiguous(val)
    rows = np.flatnonzero(keep & valid_mask(arg) & valid_mask(val))
    result_type = arg.type
    if not len(rows):
        return pa.nulls(ngroups, result_type)
    v = val.take(pa.array(rows))
    if pa.types.is_interval(v.type):
        v = _interval_order_key(v)
    try:
        winners, groups = _extreme_by_kernel(fn, v, gid[rows], ngroups, rows)
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        winners, groups = _extreme_by_sort(fn, v, gid, ngroups, rows)
    src = np.zeros(ngroups, np.int64)
    found = np.zeros(ngroups, bool)
    src[groups] = winners
    found[groups] = True
    return arg.take(pa.array(src, mask=~found))


def _extreme_by_kernel(fn: str, v, g, ngroups: int, rows):
    """(winning row, its group) per group: each group's max (min) by Arrow's hash
    aggregation, then the first row holding it. NaN is the largest float: it wins
    arg_max in a group holding one, and arg_min only in a group of NaNs."""
    kernel = "max" if fn == "arg_max" else "min"
    if ngroups == 1:
        best = getattr(pc, kernel)(v)
        hit = pc.fill_null(pc.equal(v, best), False)
    else:
        agg = pa.table({"g": g, "v": v}).group_by("g", use_threads=False) \
            .aggregate([("v", kernel)])
        at = np.zeros(ngroups, np.int64)
        at[agg.column("g").to_numpy()] = np.arange(agg.num_rows)
        hit = pc.fill_null(pc.equal(v, agg.column(f"v_{kernel}").take(pa.array(at[g]))), False)
    hit = hit.to_numpy(zero_copy_only=False)
    if pa.types.is_floating(v.type):
        nan = pc.is_nan(v).to_numpy(zero_copy_only=False)
        if nan.any():
            with_nan = np.zeros(ngroups, bool)
            with_nan[g[nan]] = True
            if fn == "arg_max":
                hit = np.where(with_nan[g], nan, hit)
            else:
                only_nan = with_nan.copy()
                only_nan[g[~nan]] = False
                hit = np.where(only_nan[g], nan, hit)
    cand = np.flatnonzero(hit)
    groups, first = np.unique(g[cand], return_index=True)
    return rows[cand[first]], groups


def _extreme_by_sort(fn: str, v, gid, ngroups: int, rows):
    """The same by one sort of (group, val, row): for types without hash min/max."""
    if pa.types.is_floating(v.type):         # NaN is the largest value (DuckDB, PostgreSQL)
        v = pc.if_else(pc.is_nan(v), pa.scalar(float("inf"), v.type), v), \
            pc.is_nan(v)
    t = {"g": pa.array(gid[rows])}
    order_keys = [("g", "ascending")]
    direction = "descending" if fn == "arg_max" else "ascending"
    if isinstance(v, tuple):
        t["nan"], t["v"] = v[1], v[0]
        order_keys += [("nan", direction), ("v", direction)]
    else:
        t["v"] = v
        order_keys.append(("v", direction))
    t["r"] = pa.array(np.arange(len(rows)))
    order_keys.append(("r", "ascending"))
    perm = pc.sort_indices(pa.table(t), sort_keys=order_keys).to_numpy(zero_copy_only=False)
    g_sorted = gid[rows][perm]
    first = np.ones(len(perm), bool)
    first[1:] = g_sorted[1:] != g_sorted[:-1]
    return rows[perm[first]], g_sorted[first]


def _interval_order_key(v):
    """Intervals ordered as PostgreSQL compares them (30-day months, 24-hour days)."""
    return pa.array([None if x is None else
                     float((x.months * 30 + x.days) * 86_400_000_000_000 + x.nanoseconds)
                     for x in infinity.pylist(v)], pa.float64())
