"""Binding DELETE: the rows to remove are a filtered scan carrying rowids.

``DELETE ... USING`` joins the scan with the USING items (bind_update.py
``joined_source``, shared with UPDATE ... FROM); RETURNING may read their columns.
"""
from __future__ import annotations

from sqlglot import exp

from ...plan.logical import LogicalDelete
from .bind_insert import bind_returning, bind_returning_in
from .bind_update import joined_source
from .table_source import table_source


def bind_delete(stmt, node: exp.Delete) -> LogicalDelete:
    if node.args.get("using"):
        return stmt.bind_delete_using(node)
    schema, scope, source = table_source(stmt, node.this, node.args.get("where"))
    returning = bind_returning(stmt, node, schema, node.this.alias_or_name)
    return LogicalDelete(returning[1] if returning else [], schema.name, source,
                         returning[0] if returning else None)


def bind_delete_using(stmt, node: exp.Delete) -> LogicalDelete:
    schema, scope, source = joined_source(stmt, node.this, node.args["using"],
                                          node.args.get("where"), "USING")
    returning = bind_returning_in(stmt, node, scope)
    return LogicalDelete(returning[1] if returning else [], schema.name, source,
                         returning[0] if returning else None)
