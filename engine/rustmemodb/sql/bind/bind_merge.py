"""Binding MERGE INTO target USING source ON condition WHEN ... (PostgreSQL 15).

The source (a table, a subquery, a VALUES list) is joined LEFT to the target's rows
with their rowids on the ON condition; each WHEN clause is bound over that joined row
(source columns first, then the target's): its condition, and UPDATE SET assignments,
DELETE, INSERT (columns) VALUES (...) or DO NOTHING. Values are typed for their
columns as INSERT and UPDATE type them (42804), and a GENERATED ALWAYS identity
column refuses them (428C9). exec/operators/merge.py runs the actions.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ...plan.logical import LogicalJoin, LogicalMerge, MergeAction
from ..parse import position_of
from .bind_expr import ExprBinder
from .bind_from import bind_from_item
from .bind_insert import assign_to_column, default_expr, is_default, refuse_identity_value
from .table_source import table_source
from .scope import Scope


def bind_merge(stmt, node: exp.Merge) -> LogicalMerge:
    if node.args.get("returning") is not None:
        raise errors.not_supported("MERGE ... RETURNING",
                                   hint="PostgreSQL 15 has no RETURNING for MERGE either.")
    schema, target_scope, target = table_source(stmt, node.this, None)
    source, source_scope = bind_from_item(stmt, node.args["using"], None)
    scope = Scope()
    scope.extend(source_scope)
    scope.extend(target_scope)
    on = ExprBinder(stmt, scope, clause="MERGE ON").bind_boolean(node.args["on"], "ON")
    joined = LogicalJoin(source.columns + target.columns, source, target, "left", on)
    whens = node.args.get("whens")
    clauses = whens.expressions if isinstance(whens, exp.Whens) else (whens or [])
    actions = [_action(stmt, w, schema, scope, len(source.columns)) for w in clauses]
    if not actions:
        raise errors.syntax_error("MERGE needs at least one WHEN clause",
                                  position=position_of(node))
    return LogicalMerge([], schema.name, joined, len(source.columns), actions)


def _action(stmt, when: exp.When, schema, scope: Scope, source_width: int) -> MergeAction:
    matched = bool(when.args.get("matched"))
    if when.args.get("source"):
        raise errors.not_supported("WHEN NOT MATCHED BY SOURCE",
                                   hint="PostgreSQL 15 has WHEN MATCHED and WHEN NOT MATCHED.")
    binder = ExprBinder(stmt, scope, clause="MERGE WHEN")
    cond = when.args.get("condition")
    condition = binder.bind_boolean(cond, "WHEN") if cond is not None else None
    then = when.args.get("then")
    word = then.name.upper() if isinstance(then, exp.Var) else ""
    if word == "DELETE" or word == "DO NOTHING":
        if word == "DELETE" and not matched:
            raise errors.syntax_error("DELETE is not allowed in WHEN NOT MATCHED",
                                      position=position_of(when))
        return MergeAction(matched, "delete" if word == "DELETE" else "nothing", condition)
    if isinstance(then, exp.Update):
        if not matched:
            raise errors.syntax_error("UPDATE is not allowed in WHEN NOT MATCHED",
                                      position=position_of(when))
        assignments: dict = {}
        for a in then.expressions:
            pos = schema.position(a.this.name)
            if pos is None:
                raise errors.sql_error("42703", f'column "{a.this.name}" of relation '
                                       f'"{schema.name}" does not exist',
                                       position=position_of(a.this))
            if pos in assignments:
                raise errors.sql_error("42601", f'multiple assignments to same column '
                                                f'"{a.this.name}"')
            value = a.expression
            if is_default(value):
                assignments[pos] = default_expr(stmt, schema, pos)
            else:
                refuse_identity_value(schema, pos, value, update=True)
                assignments[pos] = assign_to_column(stmt, binder.bind(value), schema, pos,
                                                    value)
        return MergeAction(matched, "update", condition, assignments=assignments)
    if isinstance(then, exp.Insert):
        if matched:
            raise errors.syntax_error("INSERT is not allowed in WHEN MATCHED",
                                      position=position_of(when))
        names = then.this.expressions if isinstance(then.this, exp.Tuple) else (
            [then.this] if isinstance(then.this, exp.Column) else None)
        targets = [schema.position(c.name) for c in names] if names is not None else \
            list(range(len(schema.columns)))
        for c, pos in zip(names or [], targets):
            if pos is None:
                raise errors.sql_error("42703", f'column "{c.name}" of relation '
                                       f'"{schema.name}" does not exist', position=position_of(c))
        given = then.expression
        items = given.expressions if isinstance(given, exp.Tuple) else (
            [] if given is None or (isinstance(given, exp.Var) and
                                    given.name.upper() == "DEFAULT VALUES") else [given])
        if names is None and 0 < len(items) < len(targets):
            targets = targets[:len(items)]       # VALUES fills the leading columns
        if given is not None and len(items) != len(targets) and items:
            raise errors.syntax_error("INSERT has more target columns than expressions"
                                      if len(items) < len(targets) else
                                      "INSERT has more expressions than target columns",
                                      position=position_of(given))
        if not items:
            targets = []
        values = []
        for item, pos in zip(items, targets):
            if is_default(item):
                values.append(default_expr(stmt, schema, pos))
            else:
                refuse_identity_value(schema, pos, item)
                values.append(assign_to_column(stmt, binder.bind(item), schema, pos, item))
        defaults = {i: default_expr(stmt, schema, i) for i in range(len(schema.columns))
                    if i not in targets}
        return MergeAction(matched, "insert", condition, targets=targets, values=values,
                           defaults=defaults)
    raise errors.not_supported(f"MERGE action {then.sql(dialect='postgres')!r}")

