"""GROUP BY GROUPING SETS / ROLLUP / CUBE, and ``GROUPING(...)``.

``expand_group_by`` turns the GROUP BY list into the distinct group expressions
and the grouping sets over them (positions into that list), PostgreSQL's way:

    GROUP BY a, ROLLUP (b, c)   ->  {a,b,c} {a,b} {a}        (product of the elements)
    CUBE (a, b)                 ->  {a,b} {a} {b} {}
    GROUPING SETS ((a), (a, b), ())

Plain ``GROUP BY a, b`` yields no sets (``None``): the ordinary aggregate runs.

``aggregate_grouping_sets`` plans one ``LogicalAggregate`` carrying the sets; its
output is the plain aggregate's layout — every group column, then every aggregate —
with NULL for the group columns outside a row's set, so the select list, HAVING and
ORDER BY are lifted onto it exactly as for a plain GROUP BY. ``GROUPING(x, y)`` is an
``AggCall`` named ``grouping`` that the operator emits per set as a constant
(exec/operators/grouping_sets.py), computed from an input read only once.
"""
from __future__ import annotations

import itertools

from sqlglot import exp

from ... import errors, types
from ...plan.expr import AggCall, Expr
from ...plan.logical import LogicalAggregate, LogicalNode
from ..parse import position_of
from .bind_expr import ExprBinder

MAX_SETS = 4096      # PostgreSQL: "too many grouping sets present (maximum 4096)"


def has_grouping_sets(group_nodes) -> bool:
    """ROLLUP, CUBE, GROUPING SETS, or a parenthesised list such as ``GROUP BY ()``."""
    return any(isinstance(g, (exp.Rollup, exp.Cube, exp.GroupingSets, exp.Tuple))
               for g in group_nodes)


def expand_group_by(group_nodes, bind_one) -> tuple[list[Expr], list[tuple[int, ...]] | None]:
    """(distinct group expressions, grouping sets as sorted position tuples, or None)."""
    groups: list[Expr] = []

    def index(node) -> int:
        e = bind_one(node)
        if e not in groups:
            groups.append(e)
        return groups.index(e)

    def members(node) -> frozenset:
        """The positions one set element names: ``(a, b)``, ``(a)``, ``()`` or ``a``."""
        if isinstance(node, exp.Tuple):
            return frozenset(index(x) for x in node.expressions)
        if isinstance(node, exp.Paren):
            return members(node.this)
        return frozenset([index(node)])

    def sets_of(node) -> list[frozenset]:
        if isinstance(node, exp.Rollup):
            parts = [members(x) for x in node.expressions]
            return [frozenset().union(*parts[:k]) for k in range(len(parts), -1, -1)]
        if isinstance(node, exp.Cube):
            parts = [members(x) for x in node.expressions]
            out = []
            for k in range(len(parts), -1, -1):
                for combo in itertools.combinations(parts, k):
                    out.append(frozenset().union(*combo))
            return out
        if isinstance(node, exp.GroupingSets):
            out = []
            for item in node.expressions:
                if isinstance(item, (exp.Rollup, exp.Cube, exp.GroupingSets)):
                    out.extend(sets_of(item))
                else:
                    out.append(members(item))
            return out
        return [members(node)]

    if not has_grouping_sets(group_nodes):
        for g in group_nodes:
            index(g)
        return groups, None
    product: list[frozenset] = [frozenset()]
    for g in group_nodes:
        options = sets_of(g)
        product = [a | b for a in product for b in options]
        if len(product) > MAX_SETS:
            raise errors.sql_error("54001", f"too many grouping sets present (maximum {MAX_SETS})",
                                   position=position_of(g))
    return groups, [tuple(sorted(s)) for s in product]


def bind_grouping(stmt, binder, node: exp.Grouping) -> AggCall:
    """``GROUPING(a, b)``: checked against the GROUP BY list when the query is lifted."""
    if not binder.aggregates:
        where = f" in {binder.clause}" if binder.clause else " here"
        raise errors.sql_error("42803", f"grouping operations are not allowed{where}",
                               position=position_of(node))
    inner = ExprBinder(stmt, binder.scope, clause="GROUPING")
    args = tuple(inner.bind(a) for a in node.expressions)
    if len(args) > 31:
        raise errors.sql_error("54023", "GROUPING must have fewer than 32 arguments",
                               position=position_of(node))
    return AggCall("grouping", args, types.INTEGER)


def aggregate_grouping_sets(child: LogicalNode, groups: list[Expr], sets, aggs: list[AggCall],
                            columns) -> LogicalNode:
    """One aggregate node computing every set (exec/operators/grouping_sets.py)."""
    if sets is None:
        sets = [tuple(range(len(groups)))]
    for a in aggs:
        if a.fn == "grouping" and any(x not in groups for x in a.args):
            raise errors.sql_error("42803", "arguments to GROUPING must be grouping expressions "
                                            "of the associated query level")
    return LogicalAggregate(list(columns), child, list(groups), list(aggs),
                            grouping_sets=[tuple(s) for s in sets])
