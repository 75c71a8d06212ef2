"""The optimizer: an ordered tuple of rules, each a pure function over a plan.

``optimize(plan, ctx)`` runs each rule in ``RULES`` order; a rule can be switched
off by name (``disabled``) for debugging and differential testing, and each run
is timed so EXPLAIN can show where planning time went.
"""
from __future__ import annotations

import time
from typing import Callable

from ..exec.limits import check
from ..plan.logical import LogicalNode

RULES: tuple[tuple[str, Callable], ...] = ()


def optimize(plan: LogicalNode, ctx=None, disabled: frozenset = frozenset(),
             timings: dict | None = None) -> LogicalNode:
    for name, rule in _rules():
        if name in disabled:
            continue
        check()   # interrupt / statement_timeout between rules (exec/limits.py)
        started = time.perf_counter()
        plan = rule(plan, ctx)
        if timings is not None:
            timings[name] = time.perf_counter() - started
    return plan


def _rules():
    from . import registry
    return registry.RULES
