"""The rows a statement writes or locks: one stored table read with its rowids (hidden
``_rowid``), filtered by the statement's WHERE. UPDATE and DELETE (bind_update.py,
bind_delete.py), MERGE's target and SELECT ... FOR UPDATE (bind_locks.py) start here.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ...plan.logical import LogicalFilter, LogicalScan
from ..parse import position_of
from .bind_expr import ExprBinder
from .scope import Scope


def table_source(stmt, table_node: exp.Table, where) -> tuple:
    if table_node.args.get("sample") is not None:
        raise errors.not_supported("TABLESAMPLE on the target of UPDATE or DELETE")
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
