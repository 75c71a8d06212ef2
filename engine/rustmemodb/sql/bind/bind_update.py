"""Binding UPDATE: a filtered scan carrying rowids, and typed assignments.

The plan reads the old rows (plus their rowid) through the same Scan/Filter
machinery as SELECT, so ``use_index`` turns ``WHERE id = $1`` into a point
lookup for UPDATE exactly as for SELECT.

``UPDATE ... FROM`` (and ``DELETE ... USING``, bind_delete.py) join that scan
with the FROM items like a SELECT's FROM list, so the optimizer turns
``WHERE t.id = o.id`` into a hash join; a DISTINCT ON the rowid keeps one
joined row per target row (``joined_source``).
"""
from __future__ import annotations

from sqlglot import exp

from ... import composite, errors
from ...plan.expr import ColRef
from ...plan.logical import (LogicalDistinctOn, LogicalFilter, LogicalJoin, LogicalUpdate)
from ..parse import position_of
from .bind_expr import ExprBinder
from .bind_insert import (assign_to_column, bind_returning, bind_returning_in, default_expr,
                          is_default, refuse_identity_value)
from .scope import Scope
from .bind_from import bind_from_item
from .table_source import table_source


def bind_update(stmt, node: exp.Update) -> LogicalUpdate:
    if node.args.get("from_") or node.args.get("from"):
        return stmt.bind_update_from(node)
    schema, scope, source = table_source(stmt, node.this, node.args.get("where"))
    assignments = _assignments(stmt, node, schema, scope)
    returning = bind_returning(stmt, node, schema, node.this.alias_or_name)
    return LogicalUpdate(returning[1] if returning else [], schema.name, source, assignments,
                         returning[0] if returning else None)


def field_assignments(schema, items: list, table_alias: str) -> list:
    """``SET p.a = 1, p.b = 'x'`` (fields of composite column p) as the one assignment
    ``p = ROW(1, 'x', (p).c, ...)::type`` PostgreSQL's field assignment amounts to (the
    other fields keep their values; a NULL p gets the assigned fields)."""
    fields: dict = {}
    out = []
    for a in items:
        col = a.this
        if isinstance(a, exp.EQ) and isinstance(col, exp.Column) and col.table and \
                col.table != table_alias:
            pos = schema.position(col.table)
            if pos is not None and composite.is_record(schema.columns[pos].type):
                record = schema.columns[pos]
                if col.name not in [f for f, _ in composite.fields_of(record.type)]:
                    raise errors.sql_error(
                        "42703", f'cannot assign to field "{col.name}" of column '
                                 f'"{record.name}" because there is no such column in data '
                                 f"type {composite.type_name(record.type)}",
                        position=position_of(col))
                if record.name not in fields:
                    fields[record.name] = {}
                    out.append(record.name)
                fields[record.name][col.name] = a.expression
                continue
        out.append(a)
    if not fields:
        return items
    rewritten = []
    for a in out:
        if not isinstance(a, str):
            rewritten.append(a)
            continue
        sql_type = schema.columns[schema.position(a)].type
        current = exp.Paren(this=exp.column(a, quoted=True))
        values = [fields[a].get(f, exp.Dot(this=current.copy(), expression=exp.to_identifier(f)))
                  for f, _ in composite.fields_of(sql_type)]
        to = exp.DataType(this=exp.DataType.Type.USERDEFINED,
                          kind=exp.to_identifier(composite.type_name(sql_type), quoted=True))
        rewritten.append(exp.EQ(this=exp.column(a, quoted=True), expression=exp.Cast(
            this=exp.Anonymous(this="row", expressions=values), to=to)))
    return rewritten


def _assignments(stmt, node: exp.Update, schema, scope: Scope) -> dict:
    binder = ExprBinder(stmt, scope, clause="UPDATE")
    assignments = {}
    for a in field_assignments(schema, list(node.expressions), node.this.alias_or_name):
        col_node = a.this
        pos = schema.position(col_node.name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{col_node.name}" of relation '
                                   f'"{schema.name}" does not exist', position=position_of(col_node))
        if pos in assignments:
            raise errors.sql_error("42601", f'multiple assignments to same column "{col_node.name}"')
        value = a.expression
        if is_default(value):
            assignments[pos] = default_expr(stmt, schema, pos)
        else:
            refuse_identity_value(schema, pos, value, update=True)
            assignments[pos] = assign_to_column(stmt, binder.bind(value), schema, pos, value)
    return assignments


# ---- UPDATE ... FROM and DELETE ... USING ------------------------------------------------

def joined_source(stmt, table_node: exp.Table, items: list, where, keyword: str) -> tuple:
    """(schema, scope, plan) of the target's rows joined with the FROM/USING items.

    The plan yields the target row, its _rowid, then the items' columns, filtered by
    ``where``; a target row that several item rows match comes out once, with the
    first match in join order (PostgreSQL updates such a row once, with an arbitrary
    one of the matches; keeping the first makes that deterministic). The target's
    name or alias must not appear again among the items (``42712``)."""
    schema, scope, target = table_source(stmt, table_node, None)
    alias = table_node.alias_or_name
    plan, item_scope = None, None
    for item in items:
        p, sc = bind_from_item(stmt, item, None)    # joins inside the item included
        if plan is None:
            plan, item_scope = p, sc
        else:
            both = Scope()
            both.extend(item_scope)
            both.extend(sc)
            plan, item_scope = LogicalJoin(plan.columns + p.columns, plan, p, "cross"), both
    if alias in item_scope.tables:
        raise errors.sql_error("42712", f'table name "{alias}" specified more than once',
                               position=position_of(table_node),
                               hint=f"Give the {keyword} item another alias to join the "
                                    f"table with itself.")
    scope.extend(item_scope)
    plan = LogicalJoin(target.columns + plan.columns, target, plan, "cross")
    if where is not None:
        pred = ExprBinder(stmt, scope, clause="WHERE").bind_boolean(where.this, "WHERE")
        plan = LogicalFilter(plan.columns, plan, pred)
    width = len(schema.columns)
    plan = LogicalDistinctOn(plan.columns, plan, [ColRef(width, "INTEGER", "_rowid")])
    return schema, scope, plan


def bind_update_from(stmt, node: exp.Update) -> LogicalUpdate:
    """UPDATE t SET ... FROM items WHERE ...: assignments and RETURNING may read the items."""
    from_ = node.args.get("from_") or node.args.get("from")
    schema, scope, source = joined_source(stmt, node.this, [from_.this], node.args.get("where"),
                                          "FROM")
    assignments = _assignments(stmt, node, schema, scope)
    returning = bind_returning_in(stmt, node, scope)
    return LogicalUpdate(returning[1] if returning else [], schema.name, source, assignments,
                         returning[0] if returning else None)
