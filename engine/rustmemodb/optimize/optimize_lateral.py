"""Optimizing the right side of LATERAL joins, which the other rules cannot reach.

A ``LogicalLateralJoin`` keeps its right plan inside a ``SubqueryExpr`` (it runs per
left row, in its own frame), so rules walking the node tree never see it. This
rule, last in the list, runs the whole rule list on each such plan (nested ones
included, by recursion through ``optimize``).
"""
from __future__ import annotations

import dataclasses

from ..plan.logical import LogicalLateralJoin, LogicalNode
from ..plan.walk import map_children


def optimize_lateral(plan: LogicalNode, ctx=None) -> LogicalNode:
    plan = map_children(plan, lambda child: optimize_lateral(child, ctx))
    if isinstance(plan, LogicalLateralJoin):
        from . import optimize
        sub = plan.right
        inner = optimize(sub.plan, ctx)
        if inner is not sub.plan:
            plan = dataclasses.replace(plan, right=dataclasses.replace(sub, plan=inner))
    return plan
