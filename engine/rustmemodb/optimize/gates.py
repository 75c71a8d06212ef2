"""Which rules can change a plan: the node kinds a rule rewrites, checked before it runs.

A one-off statement pays every rule's walk over its plan: a dozen rules, each rebuilding
or probing every node, were ~10% of planning a small SELECT with no join in it, where the
join rules (reordering, equi keys, index joins), the DISTINCT ON rule and the LATERAL
rule can only ever return the plan they were given. ``features(plan)`` lists, in one walk
over the plan nodes the rules themselves reach (``plan.walk.map_children``'s fields, not
plans nested in expressions: those are optimized on their own), the node classes present
and, per filter, the class of its input. A rule whose ``NEEDS`` meets none of them is
skipped; the list is made again after a rule that changed the plan.

Example:
    >>> from rustmemodb.plan.expr import ColRef
    >>> from rustmemodb.plan.logical import LogicalFilter, LogicalScan
    >>> s = LogicalScan([("a", "BOOLEAN")], "t")
    >>> f = features(LogicalFilter(s.columns, s, ColRef(0, "BOOLEAN")))
    >>> runs("pushdown_filters", f), runs("reorder_joins", f)
    (True, False)
"""
from __future__ import annotations

from ..plan import logical as L
from ..plan.walk import init_fields

# rule name -> the features at least one of which it needs; rules not named always run.
NEEDS: dict[str, frozenset] = {
    # merges stacked filters, moves them through projections and into (lateral) joins
    "pushdown_join_filters": frozenset({L.LogicalJoin, L.LogicalLateralJoin,
                                        ("filter over", L.LogicalFilter),
                                        ("filter over", L.LogicalProject)}),
    "pushdown_filters": frozenset({("filter over", L.LogicalScan)}),
    "reorder_joins": frozenset({L.LogicalJoin}),
    "extract_equi_keys": frozenset({L.LogicalJoin}),
    "use_index_join": frozenset({L.LogicalJoin}),
    "order_distinct_on": frozenset({L.LogicalDistinctOn}),
    "optimize_lateral": frozenset({L.LogicalLateralJoin}),
}


def features(plan: L.LogicalNode) -> set:
    """The node classes in ``plan`` and ``("filter over", class)`` per filter (iterative)."""
    out: set = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        kind = type(node)
        out.add(kind)
        if kind is L.LogicalFilter:
            out.add(("filter over", type(node.child)))
        for name in init_fields(kind):
            v = getattr(node, name)
            if isinstance(v, L.LogicalNode):
                stack.append(v)
    return out


def runs(name: str, found: set) -> bool:
    """Whether rule ``name`` may change a plan with the features ``found``."""
    needs = NEEDS.get(name)
    return needs is None or not needs.isdisjoint(found)
