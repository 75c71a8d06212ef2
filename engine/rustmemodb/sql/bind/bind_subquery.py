"""Binding subqueries used as values: scalar, EXISTS, IN, and ``op ANY/ALL``.

The subquery is bound as a query whose FROM scope has the enclosing scope as
its parent, so a name it cannot resolve locally becomes an ``OuterRef`` (made
by ``StatementBinder._outer_column``). Afterwards the outer references that
reach exactly *this* enclosing scope — from anywhere inside the subquery,
including subqueries nested in it — are renumbered into parameter slots:

    outer scope columns  ──►  SubqueryExpr.correlated = (ColRef a, ColRef c)
    OuterRef(depth, a)   ──►  OuterRef(depth, 0)      (slot 0 of the frame)

At run time the subquery is evaluated with a frame of the correlated values
pushed on ``ctx.outer``; ``OuterRef(depth, slot)`` reads ``ctx.outer[-depth]``.
Because ``correlated`` holds ordinary ColRefs of the enclosing expression, the
enclosing query's rewrites (GROUP BY lifting, pushdown) keep them right.

Kinds: ``scalar`` (one column, at most one row: else ``21000``), ``exists``,
``in`` (= ``any:eq``), ``any:<op>`` and ``all:<op>`` for a comparison operator.
"""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Call, Cast, ColRef, Expr, OuterRef, SubqueryExpr, transform
from ...plan.logical import LogicalNode, LogicalProject
from ...plan.walk import init_fields
from ..parse import position_of
from .bind_cte import BoundCTE
from .bind_select import bind_query

_OPS = {exp.EQ: "eq", exp.NEQ: "ne", exp.LT: "lt", exp.LTE: "le", exp.GT: "gt", exp.GTE: "ge"}


def bind_scalar_subquery(stmt, binder, node: exp.Subquery):
    plan, correlated = bind_subquery_plan(stmt, binder, node.this)
    _one_column(plan, node)
    t = plan.columns[0][1]
    return SubqueryExpr("scalar", plan, types.TEXT if t == types.NULL else t,
                        correlated=correlated)


def bind_exists(stmt, binder, node: exp.Exists):
    plan, correlated = bind_subquery_plan(stmt, binder, node.this)
    return SubqueryExpr("exists", plan, types.BOOLEAN, correlated=correlated)


def bind_in_subquery(stmt, binder, node: exp.In):
    query = node.args["query"]
    return _quantified(stmt, binder, "in", node.this, query, node)


def bind_quantified(stmt, binder, node: exp.Binary):
    """``x op ANY (subquery)`` / ``x op ALL (subquery)``."""
    op = _OPS.get(type(node))
    q = node.expression
    if op is None:
        raise errors.not_supported(f"{type(node).__name__} with ANY/ALL")
    if isinstance(q, exp.Anonymous):      # x = ALL (...) arrives as a call named all
        quant = "all" if q.name.lower() == "all" else "any"
        inner = q.expressions[0]
    else:
        quant = "any" if isinstance(q, exp.Any) else "all"
        inner = q.this
    kind = quant + ":" + op
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if not isinstance(inner, (exp.Subquery, exp.Select, exp.Union, exp.Intersect, exp.Except)):
        return stmt.bind_array_quantified(binder, node, quant, inner)
    return _quantified(stmt, binder, kind, node.this, inner, node)


def _quantified(stmt, binder, kind, left_node, query, node):
    arg = binder.bind(left_node)
    body = query.this if isinstance(query, exp.Subquery) else query
    plan, correlated = bind_subquery_plan(stmt, binder, body)
    _one_column(plan, query)
    rtype = plan.columns[0][1]
    op = "eq" if kind == "in" else kind.split(":")[1]
    probe = binder.call(op, [arg, ColRef(0, rtype)], node)   # type check, like `arg op col`
    arg = probe.args[0] if probe.args[0].type != arg.type else arg
    right = probe.args[1]
    if types.is_bpchar(arg.type) or types.is_bpchar(rtype):
        # char(n) values compare without their trailing blanks where the other side is
        # text or another length (bpchar.py): both sides as the comparison has them
        arg = probe.args[0]
        if not isinstance(right, ColRef):
            plan = LogicalProject([(plan.columns[0][0], right.type)], plan, [right])
    if isinstance(right, Call) and right.fn == "enum_sortkey":
        # enums compare by label position (enum_order.py): the subquery's values too
        plan = LogicalProject([(plan.columns[0][0], right.type)], plan, [right])
    if arg.type != rtype and types.is_numeric(arg.type) and types.is_numeric(rtype):
        wide = types.wider_number((arg.type, rtype))
        plan = _cast_column(plan, wide) if rtype != wide else plan
        if arg.type != wide:
            arg = Cast(arg, wide)
    return SubqueryExpr(kind, plan, types.BOOLEAN, arg=arg, correlated=correlated)


def _cast_column(plan: LogicalNode, target: str) -> LogicalNode:
    name, t = plan.columns[0]
    return LogicalProject([(name, target)], plan, [Cast(ColRef(0, t, name), target)])


def _one_column(plan: LogicalNode, node) -> None:
    if len(plan.columns) != 1:
        raise errors.sql_error("42601", "subquery must return only one column",
                               position=position_of(node))


def bind_subquery_plan(stmt, binder, query) -> tuple[LogicalNode, tuple]:
    """Bind ``query`` under the binder's scope; renumber its outer references. The
    plan is optimized with the statement's (optimize/optimize_subqueries.py)."""
    stmt.nested = True
    made = stmt.outer_refs_made
    plan = bind_query(stmt, query, binder.scope)
    slots: dict[int, int] = {}
    if stmt.outer_refs_made != made:   # else no OuterRef in it to renumber (binder.py)
        plan = _renumber(plan, 0, slots, set())
    cols = binder.scope.columns
    correlated = tuple(ColRef(i, cols[i].type, cols[i].name)
                       for i, _ in sorted(slots.items(), key=lambda kv: kv[1]))
    return plan, correlated


# ---- renumbering outer references ------------------------------------------------------------

def _renumber(plan: LogicalNode, level: int, slots: dict, seen: set) -> LogicalNode:
    """Rewrite OuterRefs reaching the scope just outside nesting ``level`` into slots.
    A WITH query that reads outer columns is renumbered in place, once per pass
    (``seen``: every reference to it shares its plan)."""
    changes = {}
    # The fields that may hold nodes or expressions (not the output columns' names and
    # types, nor atoms): walking every field was most of binding a correlated subquery.
    for name in init_fields(type(plan)):
        v = getattr(plan, name)
        nv = _renumber_value(v, level, slots, seen)
        if nv is not v:
            changes[name] = nv
    return dataclasses.replace(plan, **changes) if changes else plan


def _renumber_value(v, level: int, slots: dict, seen: set):
    if isinstance(v, LogicalNode):
        return _renumber(v, level, slots, seen)
    if isinstance(v, Expr):
        return _renumber_expr(v, level, slots, seen)
    if isinstance(v, list):
        out = [_renumber_value(x, level, slots, seen) for x in v]
        return out if any(a is not b for a, b in zip(out, v)) else v
    if isinstance(v, tuple):
        out = tuple(_renumber_value(x, level, slots, seen) for x in v)
        return out if any(a is not b for a, b in zip(out, v)) else v
    if isinstance(v, dict):
        out = {k: _renumber_value(x, level, slots, seen) for k, x in v.items()}
        return out if any(out[k] is not v[k] for k in v) else v
    if isinstance(v, BoundCTE) and v.correlated and id(v) not in seen:
        seen.add(id(v))
        v.plan = _renumber(v.plan, level, slots, seen)
    return v


def _renumber_expr(e, level: int, slots: dict, seen: set):
    def fn(n):
        if isinstance(n, OuterRef) and n.depth == level + 1:
            slot = slots.setdefault(n.index, len(slots))
            return OuterRef(n.depth, slot, n.type, n.name)
        if isinstance(n, SubqueryExpr):
            inner = _renumber(n.plan, level + 1, slots, seen)
            if inner is not n.plan:
                return dataclasses.replace(n, plan=inner)
        return n
    return transform(e, fn)
