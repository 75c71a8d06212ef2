"""The optimizer: an ordered tuple of rules, each a pure function over a plan.

``optimize(plan, ctx)`` runs the rules of ``registry.RULES`` in order over a whole
statement's plan, the subplans nested in it included (``optimize_subqueries``,
``optimize_lateral``: those are handed the optimizer itself). A rule can be switched
off by name (``disabled``), as those two do for the subplans they optimize.
"""
from __future__ import annotations

from ..statement_limits import check
from ..plan.logical import LogicalNode
from .gates import features, runs
from .registry import NESTED, RULES


# For a statement the binder says has no subquery or WITH plan: the walk looking for
# them costs ~30 us on a point SELECT (a third of the rest of the optimizer's work), and
# the decorrelation rules have no subquery to move.
FLAT = frozenset({"optimize_subqueries", "decorrelate_subqueries",
                  "decorrelate_scalar_subqueries"})
# Off: prune_columns narrows a plan even when every table it reads is small (its
# shortcut for the row path). A plan split for a cluster is planned on the coordinator's
# empty mirror of tables that are large on the shards (cluster/plansplit.py).
SMALL_TABLE_SHORTCUT = "prune_columns:small_tables"


def optimize(plan: LogicalNode, ctx=None, disabled: frozenset = frozenset()) -> LogicalNode:
    found = None      # the plan's features (gates.py), made again once a rule changes it
    for name, rule in RULES:
        if name not in disabled:
            if found is None:
                found = features(plan)
            if not runs(name, found):
                continue    # nothing in this plan that the rule rewrites
            check()   # interrupt / statement_timeout between rules (statement_limits.py)
            if name in NESTED:
                new = rule(plan, ctx, optimize)
            elif name == "prune_columns" and SMALL_TABLE_SHORTCUT in disabled:
                new = rule(plan)          # narrowed whatever the tables' sizes
            else:
                new = rule(plan, ctx)
            if new is not plan:
                plan, found = new, None
    return plan
