"""Per-group bodies of the ordered-set aggregates (sql/bind/bind_ordered_set.py).

Each gets one group's values (NULLs included, skipped here) and the ``AggCall``
whose ``extra`` is ``(fraction or fractions, descending, nulls_first)``. Values
are sorted as ORDER BY would (NaN above every number, as PostgreSQL orders floats).
"""
from __future__ import annotations

import math
from collections import Counter

from ... import types
from ...plan.aggregates import AGGREGATE_TYPES
from ..operators.aggregate import PYTHON_AGGREGATES


def _sorted(values: list, descending: bool) -> list:
    vals = [v for v in values if v is not None]
    if vals and isinstance(vals[0], float):
        nans = [v for v in vals if v != v]
        if nans:        # NaN sorts above every number; plain sorted() on floats is C-fast
            vals = sorted(v for v in vals if v == v) + nans
            return vals[::-1] if descending else vals
    return sorted(vals, reverse=descending)


def _each(body):
    """Apply ``body(sorted values, fraction)`` to one fraction or to an array of them."""
    def run(values, a):
        fractions, descending, _ = a.extra
        vals = _sorted(values, descending)
        if isinstance(fractions, tuple):
            return [None if f is None else body(vals, f) for f in fractions] if vals else None
        return body(vals, fractions) if vals and fractions is not None else None
    return run


def _cont(vals: list, f: float):
    pos = f * (len(vals) - 1)
    lo = math.floor(pos)
    hi = math.ceil(pos)
    a, b = float(vals[lo]), float(vals[hi])
    if lo == hi or a == b:
        return a
    return a + (pos - lo) * (b - a)


def _disc(vals: list, f: float):
    k = max(1, math.ceil(f * len(vals) - 1e-12))
    return vals[min(k, len(vals)) - 1]


def _mode(values, a):
    vals = _sorted(values, a.extra[1])
    if not vals:
        return None
    counts = Counter(("nan" if v != v else v) for v in vals)
    best, seen = None, set()
    for v in vals:                       # first in sort order wins a tie
        k = "nan" if v != v else v
        if k in seen:
            continue
        seen.add(k)
        if best is None or counts[k] > counts[best[0]]:
            best = (k, v)
    return best[1]


def register_aggregates() -> None:
    AGGREGATE_TYPES.update({
        "percentile_cont": lambda ts: types.FLOAT if ts and ts[0] in (
            types.INTEGER, types.FLOAT, types.NULL) else None,
        "percentile_disc": lambda ts: ts[0] if ts else None,
        "mode": lambda ts: ts[0] if ts else None,
    })
    PYTHON_AGGREGATES.update({"percentile_cont": _each(_cont), "percentile_disc": _each(_disc),
                              "mode": _mode})
