"""Predicate pushdown: a Filter directly over a Scan becomes the Scan's filter.

A filter inside the scan is applied chunk by chunk, fused with the deletion
vector, and lets ``use_index`` see ``pk = $1`` on the table itself. This is the
simple form; pushing through projections and into join sides is left to the
join-aware rules.

Example:
    >>> from rustmemodb.plan.expr import ColRef, Const, make_call
    >>> from rustmemodb.plan.logical import LogicalFilter, LogicalScan
    >>> scan = LogicalScan([("a", "INTEGER")], "t")
    >>> gt = make_call("gt", [ColRef(0, "INTEGER"), Const(1, "INTEGER")])
    >>> out = pushdown_filters(LogicalFilter(scan.columns, scan, gt))
    >>> type(out).__name__, str(out.filter)
    ('LogicalScan', '(#0 > 1)')
"""
from __future__ import annotations

import dataclasses

from ..plan.logical import LogicalFilter, LogicalNode, LogicalScan
from ..plan.walk import map_children


def pushdown_filters(plan: LogicalNode, ctx=None) -> LogicalNode:
    plan = map_children(plan, lambda c: pushdown_filters(c, ctx))
    if isinstance(plan, LogicalFilter) and isinstance(plan.child, LogicalScan) \
            and plan.child.filter is None and plan.child.columns == plan.columns:
        return dataclasses.replace(plan.child, filter=plan.predicate)
    return plan
