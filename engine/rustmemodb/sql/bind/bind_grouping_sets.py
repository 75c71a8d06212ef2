"""GROUP BY GROUPING SETS / ROLLUP / CUBE, and ``GROUPING(...)``.

``expand_group_by`` turns the GROUP BY list into the distinct group expressions
and the grouping sets over them (positions into that list), PostgreSQL's way:

    GROUP BY a, ROLLUP (b, c)   ->  {a,b,c} {a,b} {a}        (product of the elements)
    CUBE (a, b)                 ->  {a,b} {a} {b} {}
    GROUPING SETS ((a), (a, b), ())

Plain ``GROUP BY a, b`` yields no sets (``None``): the ordinary aggregate runs.

``aggregate_grouping_sets`` plans one aggregate per set over the same input and
concatenates them (UNION ALL). Each branch outputs the full layout of the plain
aggregate — every group column, then every aggregate — with NULL for the group
columns outside its set, so the select list, HAVING and ORDER BY are lifted onto
it exactly as for a plain GROUP BY. ``GROUPING(x, y)`` is an ``AggCall`` named
``grouping`` that no aggregate computes: each branch emits it as a constant, the
bit mask of its arguments missing from the branch's set (first argument in the
most significant bit), as PostgreSQL defines it.
"""
from __future__ import annotations

import itertools

from sqlglot import exp

from ... import errors, types
from ...plan.expr import AggCall, ColRef, Const, Expr
from ...plan.logical import LogicalAggregate, LogicalNode, LogicalProject, LogicalSetOp
from ..parse import position_of

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
    from .bind_expr import ExprBinder
    inner = ExprBinder(stmt, binder.scope, clause="GROUPING")
    args = tuple(inner.bind(a) for a in node.expressions)
    if len(args) > 31:
        raise errors.sql_error("54023", "GROUPING must have fewer than 32 arguments",
                               position=position_of(node))
    return AggCall("grouping", args, types.INTEGER)


def aggregate_grouping_sets(child: LogicalNode, groups: list[Expr], sets, aggs: list[AggCall],
                            columns) -> LogicalNode:
    """UNION ALL of one aggregate per grouping set, each in the full output layout."""
    if sets is None:
        sets = [tuple(range(len(groups)))]
    for a in aggs:
        if a.fn == "grouping" and any(x not in groups for x in a.args):
            raise errors.sql_error("42803", "arguments to GROUPING must be grouping expressions "
                                            "of the associated query level")
    real = [a for a in aggs if a.fn != "grouping"]
    branches = []
    for members in sets:
        sub = [groups[i] for i in members]
        agg_cols = [columns[i] for i in members] + \
            [(a.fn, a.type) for a in real]
        agg = LogicalAggregate(agg_cols, child, sub, real)
        exprs: list[Expr] = []
        for i, g in enumerate(groups):
            if i in members:
                k = members.index(i)
                exprs.append(ColRef(k, g.type, columns[i][0]))
            else:
                exprs.append(Const(None, g.type if g.type != types.NULL else types.TEXT))
        for a in aggs:
            if a.fn == "grouping":
                exprs.append(Const(_grouping_bits(a, groups, members), types.INTEGER))
            else:
                j = real.index(a)
                exprs.append(ColRef(len(sub) + j, a.type, a.fn))
        branches.append(LogicalProject(list(columns), agg, exprs))
    return _union_all(branches, columns)


def _grouping_bits(call: AggCall, groups: list[Expr], members) -> int:
    bits = 0
    for arg in call.args:
        bits = (bits << 1) | (0 if groups.index(arg) in members else 1)
    return bits


def _union_all(branches: list[LogicalNode], columns) -> LogicalNode:
    """A balanced tree of UNION ALLs (CUBE of 12 columns makes 4096 branches)."""
    while len(branches) > 1:
        paired = []
        for i in range(0, len(branches) - 1, 2):
            paired.append(LogicalSetOp(list(columns), branches[i], branches[i + 1], "union",
                                       all=True))
        if len(branches) % 2:
            paired.append(branches[-1])
        branches = paired
    return branches[0]
