"""Binding DELETE: the rows to remove are a filtered scan carrying rowids."""
from __future__ import annotations

from sqlglot import exp

from ...plan.logical import LogicalDelete
from .bind_insert import bind_returning
from .bind_update import table_source


def bind_delete(stmt, node: exp.Delete) -> LogicalDelete:
    if node.args.get("using"):
        return stmt.bind_delete_using(node)
    schema, scope, source = table_source(stmt, node.this, node.args.get("where"))
    returning = bind_returning(stmt, node, schema, node.this.alias_or_name)
    return LogicalDelete(returning[1] if returning else [], schema.name, source,
                         returning[0] if returning else None)
