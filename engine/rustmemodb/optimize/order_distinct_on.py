"""DISTINCT ON runs after the ORDER BY it depends on.

The SELECT binder stacks ``Sort`` above ``DistinctOn`` (ORDER BY is applied to
the result); but "the first row of each group" means first in ORDER BY order,
so the sort must come first. DISTINCT ON keeps rows in input order, so the
output stays sorted.

Example:
    >>> from rustmemodb.plan.logical import LogicalDistinctOn, LogicalSort, LogicalValues
    >>> v = LogicalValues([("a", "INTEGER")], [])
    >>> out = order_distinct_on(LogicalSort(v.columns, LogicalDistinctOn(v.columns, v, []), []))
    >>> type(out).__name__, type(out.child).__name__
    ('LogicalDistinctOn', 'LogicalSort')
"""
from __future__ import annotations

import dataclasses

from ..plan.walk import map_children
from ..plan.logical import LogicalDistinctOn, LogicalNode, LogicalSort


def order_distinct_on(plan: LogicalNode, ctx=None) -> LogicalNode:
    plan = map_children(plan, lambda c: order_distinct_on(c, ctx))
    if isinstance(plan, LogicalSort) and isinstance(plan.child, LogicalDistinctOn):
        d = plan.child
        return dataclasses.replace(d, child=dataclasses.replace(plan, child=d.child))
    return plan
