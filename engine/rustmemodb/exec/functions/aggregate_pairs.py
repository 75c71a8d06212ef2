"""Aggregates over (first, second) argument pairs, computed per group with numpy.

* PostgreSQL's statistics of (Y, X): ``corr``, ``covar_pop``, ``covar_samp`` and the
  ``regr_*`` family. PostgreSQL accumulates n, Sx, Sy, Sxx, Syy, Sxy row by row with the
  Youngs-Cramer update; the same update is written here as prefix sums, which numpy's
  ``cumsum`` adds strictly left to right, so the per-group states (and the answers, to
  the last bit) are PostgreSQL's for the same row order, with no Python loop over rows.
  Groups are laid out as rows of padded matrices (groups of similar size share one
  matrix, so padding at most doubles the work) and summed along each row.
* DuckDB's ``arg_max(arg, val)`` / ``arg_min`` (aliases ``max_by`` / ``min_by``): the
  ``arg`` of the row with the largest / smallest ``val``; rows with a NULL ``val`` are
  ignored; ties go to the first such row in input order.

The aggregate operator (``exec/operators/aggregate.py``) evaluates both arguments, drops
FILTERed rows and hands the arrays with a group id per row to ``pair_aggregate``;
window frames call ``regr_states`` on each frame's rows (``window.py``).
"""
from __future__ import annotations

from ...lazy_import import arrow as pa, compute as pc

from ... import errors, types

STATISTICS = ("corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "regr_r2",
              "regr_count", "regr_avgx", "regr_avgy", "regr_sxx", "regr_syy", "regr_sxy")
EXTREMES = ("arg_max", "arg_min")
PAIR_AGGREGATES = STATISTICS + EXTREMES

_NUMERIC = (types.INTEGER, types.FLOAT, types.NULL)
_ORDERABLE = (types.INTEGER, types.FLOAT, types.TEXT, types.DATE, types.TIMESTAMP,
              types.BOOLEAN, types.UUID, types.INTERVAL)


def _statistic_type(name: str):
    def resolve(ts):
        if len(ts) != 2 or ts[0] not in _NUMERIC or ts[1] not in _NUMERIC:
            return None
        return types.INTEGER if name == "regr_count" else types.FLOAT
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


def _float(values):
    import numpy as np
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False) \
        .astype(np.float64, copy=False)


def _valid(values):
    import numpy as np
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not values.null_count:
        return np.ones(len(values), bool)
    return values.is_valid().to_numpy(zero_copy_only=False)


def pair_aggregate(fn: str, first, second, keep, gid, ngroups: int) -> pa.Array:
    """One aggregate per group id (0..ngroups-1) over the rows where ``keep`` holds."""
    import numpy as np
    if fn in EXTREMES:
        return _extreme(fn, first, second, keep, gid, ngroups)
    rows = keep & _valid(first) & _valid(second)
    y, x = _float(first)[rows], _float(second)[rows]
    states = regr_states(y, x, gid[rows], ngroups)
    return finish(fn, states)


def regr_states(y, x, gid, ngroups: int) -> tuple:
    """(N, Sx, Sxx, Sy, Syy, Sxy) per group: PostgreSQL's float8_regr_accum over the
    group's rows in order. Overflow from finite inputs is 22003, as there."""
    import numpy as np
    n_rows = len(gid)
    counts = np.bincount(gid, minlength=ngroups).astype(np.int64) if n_rows else \
        np.zeros(ngroups, np.int64)
    out = [np.zeros(ngroups) for _ in range(6)]
    out[0] = counts.astype(np.float64)
    if not n_rows:
        return tuple(out)
    order = np.argsort(gid, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # size classes: groups of 1, 2, 3-4, 5-8, ... rows share one padded matrix
    size_class = np.zeros(ngroups, np.int64)
    nonempty = counts > 0
    size_class[nonempty] = np.ceil(np.log2(counts[nonempty])).astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        for c in np.unique(size_class[nonempty]):
            groups = np.flatnonzero(nonempty & (size_class == c))
            width = int(counts[groups].max())
            col = np.arange(width)
            lengths = counts[groups]
            inside = col[None, :] < lengths[:, None]
            src = order[np.where(inside, starts[groups][:, None] + col[None, :], 0)]
            xs = np.where(inside, x[src], 0.0)
            ys = np.where(inside, y[src], 0.0)
            sx, sy, sxx, syy, sxy = _youngs_cramer(xs, ys, inside)
            last = lengths - 1
            pick = (np.arange(len(groups)), last)
            out[1][groups], out[3][groups] = sx[pick], sy[pick]
            out[2][groups], out[4][groups], out[5][groups] = sxx[pick], syy[pick], sxy[pick]
    return tuple(out)


def _youngs_cramer(xs, ys, inside):
    """Row-wise running states of padded groups (see regr_states)."""
    import numpy as np
    sx, sy = np.cumsum(xs, axis=1), np.cumsum(ys, axis=1)
    k = np.arange(1, xs.shape[1] + 1, dtype=np.float64)[None, :]
    tx, ty = xs * k - sx, ys * k - sy
    with np.errstate(divide="ignore"):
        scale = 1.0 / (k * (k - 1.0))
    scale[:, 0] = 0.0
    later = inside.copy()
    later[:, 0] = False
    terms_xx = np.where(later, tx * tx * scale, 0.0)
    terms_yy = np.where(later, ty * ty * scale, 0.0)
    terms_xy = np.where(later, tx * ty * scale, 0.0)
    # a first value that is NaN or infinite makes the dependent sums NaN (as PostgreSQL)
    bad_x = ~np.isfinite(xs[:, :1])
    bad_y = ~np.isfinite(ys[:, :1])
    terms_xx[:, :1] = np.where(bad_x, np.nan, 0.0)
    terms_yy[:, :1] = np.where(bad_y, np.nan, 0.0)
    terms_xy[:, :1] = np.where(bad_x | bad_y, np.nan, 0.0)
    sxx, syy, sxy = (np.cumsum(terms_xx, axis=1), np.cumsum(terms_yy, axis=1),
                     np.cumsum(terms_xy, axis=1))
    finite_x = np.isfinite(np.where(inside, xs, 0.0)).all(axis=1, keepdims=True)
    finite_y = np.isfinite(np.where(inside, ys, 0.0)).all(axis=1, keepdims=True)
    ends = inside
    if (np.isinf(np.where(ends, sx, 0.0)) & finite_x).any() or \
            (np.isinf(np.where(ends, sy, 0.0)) & finite_y).any() or \
            (np.isinf(np.where(ends, sxx, 0.0)) & finite_x).any() or \
            (np.isinf(np.where(ends, syy, 0.0)) & finite_y).any() or \
            (np.isinf(np.where(ends, sxy, 0.0)) & finite_x & finite_y).any():
        raise errors.numeric_out_of_range("value out of range: overflow")
    sxx = np.where(np.isinf(sxx), np.nan, sxx)
    syy = np.where(np.isinf(syy), np.nan, syy)
    sxy = np.where(np.isinf(sxy), np.nan, sxy)
    return sx, sy, sxx, syy, sxy


def finish(fn: str, states) -> pa.Array:
    """The final function of ``fn`` over per-group states (PostgreSQL's float8_corr,
    float8_regr_slope, ...): NULL where PostgreSQL returns NULL."""
    import numpy as np
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
        else:
            raise errors.not_supported(f"aggregate {fn}")
    return pa.array(np.where(none, 0.0, v), pa.float64(), mask=none)


def _extreme(fn: str, arg, val, keep, gid, ngroups: int) -> pa.Array:
    """arg_max / arg_min per group: one Arrow sort of (group, val), first row per group
    (a stable sort, so a tie goes to the earliest row)."""
    import numpy as np
    if isinstance(arg, pa.ChunkedArray):
        arg = arg.combine_chunks()
    if isinstance(val, pa.ChunkedArray):
        val = val.combine_chunks()
    rows = np.flatnonzero(keep & _valid(val))
    result_type = arg.type
    if not len(rows):
        return pa.nulls(ngroups, result_type)
    v = val.take(pa.array(rows))
    if pa.types.is_interval(v.type):
        v = _interval_order_key(v)
    elif pa.types.is_floating(v.type):       # NaN is the largest value (DuckDB, PostgreSQL)
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
    winners = rows[perm[first]]
    groups = g_sorted[first]
    src = np.zeros(ngroups, np.int64)
    found = np.zeros(ngroups, bool)
    src[groups] = winners
    found[groups] = True
    return arg.take(pa.array(src, mask=~found))


def _interval_order_key(v):
    """Intervals ordered as PostgreSQL compares them (30-day months, 24-hour days)."""
    return pa.array([None if x is None else
                     float((x.months * 30 + x.days) * 86_400_000_000_000 + x.nanoseconds)
                     for x in v.to_pylist()], pa.float64())
