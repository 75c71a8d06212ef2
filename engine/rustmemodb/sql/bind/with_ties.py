"""``FETCH FIRST n ROWS WITH TIES``: the first n rows in ORDER BY order, and every
row after them that ties with the n-th on every ORDER BY key.

Those are exactly the rows whose ``rank()`` over the ORDER BY keys is at most n (a
rank counts the rows strictly before, plus one), so the binder computes that rank as a
window over the sorted-to-be rows and keeps rank <= OFFSET + n; the ORDER BY and the
OFFSET then apply as usual, and nothing downstream (top-k sorts, index-ordered limits,
the cluster's per-shard top-k) sees a LIMIT it could cut ties with.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import ColRef, WindowCall
from ...plan.logical import LogicalFilter, LogicalNode, LogicalProject, LogicalWindow
from ..parse import position_of
from .bind_expr import ExprBinder
from .scope import Scope

_RANK = "?ties_rank"


def with_ties(node: exp.Expression) -> bool:
    limit = node.args.get("limit")
    options = limit.args.get("limit_options") if isinstance(limit, exp.Fetch) else None
    return bool(options is not None and options.args.get("with_ties"))


def keep_ties(stmt, node: exp.Expression, plan: LogicalNode, keys: list, count: exp.Expression,
              parent: Scope | None) -> LogicalNode:
    """``plan`` (the rows before ORDER BY) cut to those ranked within OFFSET + ``count``
    by the ORDER BY ``keys``; same columns."""
    if not keys:
        raise errors.syntax_error("WITH TIES cannot be specified without ORDER BY clause",
                                  position=position_of(node.args["limit"]))
    rank = WindowCall("rank", (), types.INTEGER, order=tuple(keys))
    window = LogicalWindow(list(plan.columns) + [(_RANK, types.INTEGER)], plan, [rank])
    scope = Scope(parent=parent)
    for name, sql_type in window.columns:
        scope.add(None, name, sql_type)
    offset = node.args.get("offset")
    skipped = offset.expression.copy() if offset is not None else exp.Literal.number(0)
    bound = ExprBinder(stmt, scope, clause="FETCH").bind_boolean(exp.LTE(
        this=exp.column(_RANK, quoted=True),
        expression=exp.Add(this=exp.Paren(this=count.copy()),
                           expression=exp.Coalesce(this=exp.Paren(this=skipped),
                                                   expressions=[exp.Literal.number(0)]))),
        "FETCH")
    kept = LogicalFilter(window.columns, window, bound)
    return LogicalProject(list(plan.columns), kept,
                          [ColRef(i, t, n) for i, (n, t) in enumerate(plan.columns)])
