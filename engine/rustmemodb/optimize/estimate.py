"""Row-count estimates for EXPLAIN and plan choices, from simple statistics.

The statistics are what every table version knows for free (live row count);
selectivities are the textbook defaults (equality on a unique key: 1 row, other
equality 10%, ranges 33%). This is a simple approach; per-column distinct
counts and min/max would make join ordering smarter.
"""
from __future__ import annotations

from ..plan import logical as L


def estimate(node: L.LogicalNode, root) -> float:
    if isinstance(node, L.LogicalScan):
        version = root.tables.get(node.table)
        n = float(version.live_rows) if version is not None else 1000.0
        if node.index_lookup is not None:
            return node.index_lookup.estimate(n)
        return n * (0.1 if node.filter is not None else 1.0)
    if isinstance(node, L.LogicalArrowScan):
        return float(node.data.num_rows)
    if isinstance(node, L.LogicalValues):
        return float(len(node.rows))
    if isinstance(node, L.LogicalFilter):
        return estimate(node.child, root) * 0.33
    if isinstance(node, L.LogicalAggregate):
        n = estimate(node.child, root)
        return 1.0 if not node.groups else max(1.0, n ** 0.5)
    if isinstance(node, L.LogicalLimit):
        n = estimate(node.child, root)
        lim = getattr(node.limit, "value", None)
        return min(n, float(lim)) if isinstance(lim, int) else n
    if isinstance(node, L.LogicalJoin):
        l, r = estimate(node.left, root), estimate(node.right, root)
        return l * r if node.kind == "cross" else max(l, r)
    kids = node.children()
    return estimate(kids[0], root) if kids else 1.0
