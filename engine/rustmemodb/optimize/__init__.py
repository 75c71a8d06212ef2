"""The optimizer: an ordered tuple of rules, each a pure function over a plan.

``optimize(plan, ctx)`` runs the rules of ``registry.RULES`` in order; a rule can be
switched off by name (``disabled``), as the binder does for correlated subqueries.
"""
from __future__ import annotations

from ..exec.limits import check
from ..plan.logical import LogicalNode
from .registry import RULES


def optimize(plan: LogicalNode, ctx=None, disabled: frozenset = frozenset()) -> LogicalNode:
    for name, rule in RULES:
        if name not in disabled:
            check()   # interrupt / statement_timeout between rules (exec/limits.py)
            plan = rule(plan, ctx)
    return plan
