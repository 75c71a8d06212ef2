"""array_agg and string_agg as window functions: each frame's values gathered in frame order.

The other window aggregates (window.py) are prefix sums or sparse tables over whole
arrays; these two build one value per row out of the frame's rows, so they walk the
frame in Python. Rows with the same frame (every row of a partition without ORDER BY,
or the peers of a RANGE frame) share one result, so a partition-wide frame costs its
rows once; a frame that moves (a running or sliding one) costs the frame's size per row,
as its output does. With EXCLUDE the frame is several runs read one after the other
(window_frames.py).

As in PostgreSQL: array_agg keeps NULL elements and gives NULL for an empty frame;
string_agg skips NULL values, puts each value's own row delimiter before it (but the
first), and gives NULL when no value is set. FILTER drops rows for both.
"""
from __future__ import annotations

from ...lazy_import import arrow as pa, compute as pc, numpy as np

from ... import numeric_arrays, types
from ..expr.vector import as_array, evaluate
from ... import infinity

COLLECTING = ("array_agg", "string_agg")


def collect(call, L, table, ctx, runs: list) -> pa.Array:
    """One value per row (in window order) of ``call`` over its frame, the frame being
    ``runs``: [(start, end)] arrays per row, read in order (start > end: empty)."""
    n = L.n
    values = infinity.pylist(L.sorted(as_array(evaluate(call.args[0], table, ctx), n)))
    keep = np.ones(n, bool)
    if call.filter is not None:
        f = L.sorted(as_array(evaluate(call.filter, table, ctx), n))
        keep = pc.fill_null(f, False).to_numpy(zero_copy_only=False).astype(bool)
    if call.fn == "string_agg":
        seps = infinity.pylist(L.sorted(as_array(evaluate(call.args[1], table, ctx), n)))
        keep = keep & np.array([v is not None for v in values], bool)
    bounds = np.stack([np.asarray(a, np.int64) for run in runs for a in run], axis=1)
    done: dict = {}
    out = []
    for k in range(n):
        key = bounds[k].tobytes()
        if key not in done:
            rows = [i for s, e in zip(bounds[k][0::2], bounds[k][1::2])
                    for i in range(int(s), int(e) + 1) if keep[i]]
            if not rows:
                done[key] = None
            elif call.fn == "array_agg":
                done[key] = [values[i] for i in rows]
            else:
                parts = [values[rows[0]]]
                for i in rows[1:]:
                    parts.append((seps[i] or "") + values[i])
                done[key] = "".join(parts)
        out.append(done[key])
    return numeric_arrays.array_of(out, types.arrow_type(call.type))
