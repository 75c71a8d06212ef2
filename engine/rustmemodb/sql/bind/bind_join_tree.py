"""Binding a parenthesised join tree in FROM: ``(a JOIN b ON ...) LEFT JOIN c``.

sqlglot parses ``(a CROSS JOIN b)`` as a Subquery whose body is the Table ``a``
carrying ``joins``; ``bind_from_item`` binds such a body like any FROM list (the
first item, then its joins), so the parentheses only set the join order. Without
an alias the tables inside stay visible by their own names, as in PostgreSQL.
With one, ``(a JOIN b USING (x)) AS j [(c1, ...)]`` hides them: every visible
column is reached as ``j.col`` (or renamed by the column list), and the
USING twins that ``*`` never showed are dropped.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ...plan.expr import ColRef
from ...plan.logical import LogicalNode, LogicalProject
from ..parse import position_of
from .scope import Scope
from .bind_from import bind_from_item


def bind_join_tree(stmt, item: exp.Subquery, parent: Scope | None) -> tuple[LogicalNode, Scope]:
    plan, scope = bind_from_item(stmt, item.this, parent)
    alias_node = item.args.get("alias")
    if alias_node is None or not alias_node.name:
        return plan, scope
    alias = alias_node.name
    visible = [i for i, c in enumerate(scope.columns) if not c.hidden and not c.twin]
    names = [scope.columns[i].name for i in visible]
    renames = [c.name for c in alias_node.columns] if alias_node.columns else []
    if len(renames) > len(names):
        raise errors.sql_error("42P10", f'table "{alias}" has {len(names)} columns available '
                                        f'but {len(renames)} columns specified',
                               position=position_of(item))
    names = renames + names[len(renames):]
    exprs = [ColRef(i, scope.columns[i].type, scope.columns[i].name) for i in visible]
    out_scope = Scope(parent=parent)
    for name, e in zip(names, exprs):
        out_scope.add(alias, name, e.type)
    return LogicalProject([(n, e.type) for n, e in zip(names, exprs)], plan, exprs), out_scope
