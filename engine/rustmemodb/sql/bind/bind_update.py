"""Binding UPDATE: a filtered scan carrying rowids, and typed assignments.

The plan reads the old rows (plus their rowid) through the same Scan/Filter
machinery as SELECT, so ``use_index`` turns ``WHERE id = $1`` into a point
lookup for UPDATE exactly as for SELECT.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ...plan.logical import LogicalFilter, LogicalScan, LogicalUpdate
from ..parse import position_of
from .bind_expr import ExprBinder
from .bind_insert import assign_to_column, bind_returning
from .scope import Scope


def table_source(stmt, table_node: exp.Table, where) -> tuple:
    version = stmt.table(table_node.name, position_of(table_node))
    schema = version.schema
    alias = table_node.alias_or_name
    scope = Scope()
    for c in schema.columns:
        scope.add(alias, c.name, c.type)
    scope.add(None, "_rowid", "INTEGER", hidden=True)
    cols = [(c.name, c.type) for c in schema.columns] + [("_rowid", "INTEGER")]
    plan = LogicalScan(cols, schema.name, alias=alias, with_rowid=True)
    if where is not None:
        pred = ExprBinder(stmt, scope, clause="WHERE").bind_boolean(where.this, "WHERE")
        plan = LogicalFilter(cols, plan, pred)
    return schema, scope, plan


def bind_update(stmt, node: exp.Update) -> LogicalUpdate:
    if node.args.get("from_") or node.args.get("from"):
        return stmt.bind_update_from(node)
    schema, scope, source = table_source(stmt, node.this, node.args.get("where"))
    binder = ExprBinder(stmt, scope, clause="UPDATE")
    assignments = {}
    for a in node.expressions:
        col_node = a.this
        pos = schema.position(col_node.name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{col_node.name}" of relation '
                                   f'"{schema.name}" does not exist', position=position_of(col_node))
        if pos in assignments:
            raise errors.sql_error("42601", f'multiple assignments to same column "{col_node.name}"')
        value = a.expression
        if isinstance(value, exp.Var) and value.name.upper() == "DEFAULT":
            from .bind_insert import default_expr
            assignments[pos] = default_expr(stmt, schema, pos)
        else:
            assignments[pos] = assign_to_column(stmt, binder.bind(value), schema, pos, value)
    returning = bind_returning(stmt, node, schema, node.this.alias_or_name)
    return LogicalUpdate(returning[1] if returning else [], schema.name, source, assignments,
                         returning[0] if returning else None)
