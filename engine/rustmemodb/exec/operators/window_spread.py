"""stddev/variance of integers and numerics over window frames: numeric, exact.

Over floats these are the pair statistics of (x, x) (window.py ``_statistic``, float8 as
in PostgreSQL). Over integers and numerics PostgreSQL's result is numeric, computed from
the frame's exact count, sum and sum of squares with the frame's largest input scale
(numeric_spread.finish). Here each frame's sums are differences of prefix sums of Python
integers (every value scaled to the largest scale of the column), its largest display
scale a range-max query, its NaN/infinity count another prefix difference. A frame is a
list of runs (start, end) per row: one for plain frames, up to three with EXCLUDE.
"""
from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from ... import infinity, numeric
from ..functions.numeric_spread import finish


def frame_spread(fn: str, values, valid: np.ndarray, runs: list, range_max) -> pa.Array:
    """``fn`` of each row's frame (``runs``: [(starts, ends)], start > end an empty run)
    over ``values`` in frame order; ``range_max(c, lo, hi, True)``: window.py's
    sparse-table maximum of ``c`` over each [lo, hi]."""
    n = len(valid)
    raw = infinity.pylist(values)
    ints = [0] * n
    scales = np.zeros(n, np.int64)
    special = np.zeros(n, np.int64)
    scale = 0
    if pa.types.is_integer(values.type):
        for i, v in enumerate(raw):
            if valid[i] and v is not None:
                ints[i] = v
    else:
        decs = [numeric.as_decimal(v) if valid[i] and v is not None else None
                for i, v in enumerate(raw)]
        for i, d in enumerate(decs):
            if d is not None:
                if d.is_finite():
                    scales[i] = numeric.scale_of(d)
                else:
                    special[i] = 1
        scale = int(scales.max(initial=0))
        for i, d in enumerate(decs):
            if d is not None and d.is_finite():
                ints[i] = int(d.scaleb(scale, context=numeric.CTX))
    counts = np.concatenate([[0], np.cumsum(valid, dtype=np.int64)])
    specials = np.concatenate([[0], np.cumsum(special)])
    sums = [0, *itertools.accumulate(ints)]
    squares = [0, *itertools.accumulate(v * v for v in ints)]
    parts = []
    for s, e in runs:
        empty = s > e
        s0, e0 = np.where(empty, 0, s), np.where(empty, 0, e)
        top = np.where(empty, 0, range_max(scales, s0, e0, True)) if scale else None
        parts.append((empty.tolist(), s0.tolist(), e0.tolist(),
                      None if top is None else top.tolist()))
    out = []
    for k in range(n):
        cnt = total = sq = sp = dscale = 0
        for empty, s0, e0, top in parts:
            if empty[k]:
                continue
            a, b = s0[k], e0[k] + 1
            cnt += int(counts[b] - counts[a])
            total += sums[b] - sums[a]
            sq += squares[b] - squares[a]
            sp += int(specials[b] - specials[a])
            if top is not None:
                dscale = max(dscale, top[k])
        got = finish(fn, cnt, total, sq, scale, dscale, special=sp > 0)
        out.append(None if got is None else numeric.encode(got))
    return pa.array(out, pa.binary())
