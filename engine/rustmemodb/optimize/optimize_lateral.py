"""Optimizing the right side of LATERAL joins, which the other rules cannot reach.

A ``LogicalLateralJoin`` keeps its right plan inside a ``SubqueryExpr`` (it runs per
left row, in its own frame), so rules walking the node tree never see it. This
rule, last in the list, runs the whole rule list on each such plan (nested ones
included, by recursion through ``optimize``).

Example: the right side's filter on the outer column moves into its scan.
    >>> from rustmemodb.plan.expr import ColRef, OuterRef, SubqueryExpr, make_call
    >>> from rustmemodb.plan.logical import LogicalFilter, LogicalLateralJoin, LogicalScan
    >>> left, b = LogicalScan([("x", "INTEGER")], "a"), LogicalScan([("y", "INTEGER")], "b")
    >>> on_x = make_call("eq", [ColRef(0, "INTEGER"), OuterRef(1, 0, "INTEGER", "x")])
    >>> right = SubqueryExpr("lateral", LogicalFilter(b.columns, b, on_x), "NULL",
    ...                      correlated=(ColRef(0, "INTEGER", "x"),))
    >>> from rustmemodb.optimize import optimize
    >>> join = LogicalLateralJoin(left.columns + b.columns, left, right)
    >>> out = optimize_lateral(join, None, optimize)
    >>> type(out.right.plan).__name__, str(out.right.plan.filter)
    ('LogicalScan', '(#0 = outer.x)')
"""
from __future__ import annotations

import dataclasses

from ..plan.logical import LogicalLateralJoin, LogicalNode
from ..plan.walk import map_children


def optimize_lateral(plan: LogicalNode, ctx=None, optimize=None) -> LogicalNode:
    """``optimize``: the optimizer itself, which passes itself in (a nested rule)."""
    plan = map_children(plan, lambda child: optimize_lateral(child, ctx, optimize))
    if isinstance(plan, LogicalLateralJoin):
        sub = plan.right
        # its subqueries and CTE references were done by optimize_subqueries already
        inner = optimize(sub.plan, ctx, disabled=frozenset({"optimize_subqueries"}))
        if inner is not sub.plan:
            plan = dataclasses.replace(plan, right=dataclasses.replace(sub, plan=inner))
    return plan
