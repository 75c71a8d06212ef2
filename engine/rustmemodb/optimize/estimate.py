"""Row-count estimates for EXPLAIN and plan choices, from simple statistics.

The statistics are what a table version knows for free or nearly: the live
row count; for a column that leads an ordered index, the entry count, the
distinct keys of the index base (counted once per base, cached) and min/max
(the two ends of the sorted arrays); for a column with a unique index,
"every value distinct". Selectivities fall back to textbook defaults
(equality 10%, one-sided range 33%, a range between two parameters 0.5% as
in PostgreSQL). This is a simple approach: no histograms, no correlation
between columns, and join estimates take the larger side.

Example:
    >>> from rustmemodb.optimize.estimate import ColumnStats
    >>> ColumnStats(rows=1000, distinct=100, low=0, high=999).eq_fraction()
    0.01
"""
from __future__ import annotations

from dataclasses import dataclass

from ..plan import logical as L

DEFAULT_EQ = 0.1
DEFAULT_RANGE = 1 / 3
DEFAULT_BETWEEN = 0.005


@dataclass(frozen=True)
class ColumnStats:
    rows: int                    # live rows of the table
    distinct: int | None = None  # distinct non-null values, when known
    low: object = None           # min / max non-null value, when known
    high: object = None
    nulls: int | None = None

    def eq_fraction(self) -> float:
        if self.distinct:
            return 1.0 / self.distinct
        return DEFAULT_EQ

    def range_fraction(self, lo=None, hi=None, lo_known=True, hi_known=True) -> float:
        """Share of rows in [lo, hi]; None = open end; *_known=False: a parameter."""
        if not lo_known and not hi_known:
            return DEFAULT_BETWEEN
        if (not lo_known and hi is None) or (not hi_known and lo is None):
            return DEFAULT_RANGE
        try:
            span = float(self.high) - float(self.low)
            a = float(self.low) if lo is None or not lo_known else max(float(lo), float(self.low))
            b = float(self.high) if hi is None or not hi_known else min(float(hi), float(self.high))
        except (TypeError, ValueError):
            return DEFAULT_RANGE if (lo is None or hi is None) else DEFAULT_RANGE ** 2
        if span <= 0:
            return 1.0 if a <= b else 0.0
        frac = max(0.0, b - a) / span
        if not lo_known or not hi_known:
            frac = min(frac, DEFAULT_RANGE)
        return min(1.0, max(frac, 1.0 / max(self.rows, 1)))


def column_stats(version, col: int) -> ColumnStats:
    rows = version.live_rows
    unique = any(tuple(ix.columns) == (col,) and not ix.keyed
                 for ix in version.indexes.values())
    for ix in version.ordered.values():
        if ix.columns[0] == col:
            n, lo, hi = ix.stats()
            nulls = ix.base_nulls if len(ix.columns) == 1 else None
            if unique:
                return ColumnStats(rows, distinct=max(n, 1), low=lo, high=hi, nulls=nulls)
            base = ix.base_size
            distinct = max(1, round(ix.distinct_keys() * max(n, 1) / base)) if base \
                else max(n, 1)
            return ColumnStats(rows, distinct=min(distinct, max(n, 1)), low=lo, high=hi,
                               nulls=nulls)
    return ColumnStats(rows, distinct=max(rows, 1)) if unique else ColumnStats(rows)


def estimate(node: L.LogicalNode, root) -> float:
    if isinstance(node, L.LogicalScan):
        version = root.tables.get(node.table)
        n = float(version.live_rows) if version is not None else 1000.0
        if node.index_lookup is not None:
            n = node.index_lookup.estimate(n)
            return n * (0.5 if node.filter is not None else 1.0)
        return n * (DEFAULT_EQ if node.filter is not None else 1.0)
    if isinstance(node, L.LogicalArrowScan):
        return float(node.data.num_rows)
    if isinstance(node, L.LogicalValues):
        return float(len(node.rows))
    if isinstance(node, L.LogicalFilter):
        return estimate(node.child, root) * DEFAULT_RANGE
    if isinstance(node, L.LogicalAggregate):
        n = estimate(node.child, root)
        return 1.0 if not node.groups else max(1.0, n ** 0.5)
    if isinstance(node, L.LogicalLimit):
        n = estimate(node.child, root)
        lim = getattr(node.limit, "value", None)
        return min(n, float(lim)) if isinstance(lim, int) else n
    if isinstance(node, L.LogicalSample):
        n = estimate(node.child, root)
        pct, rows = getattr(node.percent, "value", None), getattr(node.rows, "value", None)
        if isinstance(pct, (int, float)) and not isinstance(pct, bool):
            return n * max(0.0, min(pct, 100.0)) / 100.0
        return min(n, float(rows)) if isinstance(rows, int) else n
    if isinstance(node, L.LogicalJoin):
        l, r = estimate(node.left, root), estimate(node.right, root)
        return l * r if node.kind == "cross" else max(l, r)
    kids = node.children()
    return estimate(kids[0], root) if kids else 1.0
