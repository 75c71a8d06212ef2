"""Binding INSERT ... ON CONFLICT: the arbiter indexes and the DO UPDATE expressions.

PostgreSQL's rules, as this module applies them:

* The conflict target picks the *arbiter* indexes. ``(col, ...)`` infers every
  unique index (PRIMARY KEY, UNIQUE, CREATE UNIQUE INDEX) whose columns are exactly
  that set, in any order; ``ON CONSTRAINT name`` names a PRIMARY KEY or UNIQUE
  constraint (a bare unique index is not a constraint: ``42704``; a CHECK or
  FOREIGN KEY has no index: ``42809``). No match is ``42P10``. Without a target,
  ``DO NOTHING`` treats a collision on any unique index as a conflict, and
  ``DO UPDATE`` is ``42601``. A target's ``WHERE`` (partial-index inference) is
  checked for validity and otherwise ignored: every unique index here is total,
  and PostgreSQL infers a total index for any predicate.
* ``DO UPDATE SET`` and its ``WHERE`` see the existing row under the table's name
  (or its ``AS`` alias) and the proposed row as ``excluded``; both have the same
  columns, so an unqualified column name is ambiguous (``42702``), as in
  PostgreSQL. Expressions are bound over the existing row followed by the
  proposed row (positions ``0..w-1`` and ``w..2w-1``) and typed for the column
  they are stored into, as UPDATE's are.

The result is a ``plan.logical.OnConflict`` that the INSERT plan node carries;
exec/operators/upsert.py runs it.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ...plan.logical import OnConflict
from ..parse import parse_one, position_of
from .bind_expr import ExprBinder
from .bind_index import expr_sql
from .bind_insert import assign_to_column, default_expr, is_default, refuse_identity_value
from .scope import Scope

EXCLUDED = "excluded"


def bind_on_conflict(stmt, node: exp.OnConflict, version, alias: str) -> OnConflict:
    """The bound ON CONFLICT clause of ``INSERT INTO <version's table> AS alias``."""
    schema = version.schema
    if node.args.get("duplicate"):
        raise errors.not_supported("ON DUPLICATE KEY UPDATE",
                                   hint="Use INSERT ... ON CONFLICT (key) DO UPDATE.")
    action_node = node.args.get("action")
    action_text = (action_node.name if action_node is not None else "").upper()
    action = "update" if "UPDATE" in action_text else "nothing"
    scope = conflict_scope(schema, alias)
    arbiters, target = _arbiters(stmt, node, version, scope, action)
    if action == "nothing":
        return OnConflict("nothing", arbiters, target, width=len(schema.columns), alias=alias)
    binder = ExprBinder(stmt, scope, clause="ON CONFLICT DO UPDATE")
    assignments: dict = {}
    for a in node.expressions:
        for col_node, value in _assignment_pairs(a):
            pos = _target_column(schema, col_node)
            if pos in assignments:
                raise errors.sql_error("42601", f'multiple assignments to same column '
                                                f'"{schema.columns[pos].name}"',
                                       position=position_of(col_node))
            if is_default(value):
                assignments[pos] = default_expr(stmt, schema, pos)
            else:
                refuse_identity_value(schema, pos, value, update=True)
                assignments[pos] = assign_to_column(stmt, binder.bind(value), schema, pos, value)
    where = None
    where_node = node.args.get("where")
    if where_node is not None:
        where = binder.bind_boolean(where_node.this, "WHERE")
    return OnConflict("update", arbiters, target, assignments, where, len(schema.columns), alias)


def conflict_scope(schema, alias: str) -> Scope:
    """The existing row (as ``alias``) followed by the proposed row (as ``excluded``)."""
    scope = Scope()
    for c in schema.columns:
        scope.add(alias, c.name, c.type)
    for c in schema.columns:
        scope.add(EXCLUDED, c.name, c.type)
    return scope


def _assignment_pairs(a: exp.Expression) -> list[tuple]:
    """[(column node, value node)] of ``col = v`` or ``(c1, c2) = (v1, v2)``."""
    if not isinstance(a, exp.EQ):
        raise errors.syntax_error("expected column = expression in DO UPDATE SET",
                                  position=position_of(a))
    left, right = a.this, a.expression
    if isinstance(left, exp.Tuple):
        values = right.expressions if isinstance(right, exp.Tuple) else None
        if values is None or len(values) != len(left.expressions):
            raise errors.syntax_error("number of columns does not match number of values",
                                      position=position_of(right))
        return list(zip(left.expressions, values))
    return [(left, right)]


def _target_column(schema, col_node: exp.Expression) -> int:
    name = col_node.name
    if isinstance(col_node, exp.Column) and col_node.table:
        name = col_node.table   # PostgreSQL reads "x.b" as field b of column x
    pos = schema.position(name)
    if pos is None:
        raise errors.sql_error("42703", f'column "{name}" of relation "{schema.name}" '
                                        f'does not exist', position=position_of(col_node))
    if isinstance(col_node, exp.Column) and col_node.table:
        raise errors.not_supported(f'assigning to a field of column "{name}"')
    return pos


def _arbiters(stmt, node: exp.OnConflict, version, scope: Scope, action: str
              ) -> tuple[list | None, str]:
    """(names of the arbiter unique indexes or None for all, the target as written)."""
    schema = version.schema
    constraint = node.args.get("constraint")
    keys = node.args.get("conflict_keys")
    if constraint is not None:
        name = constraint.name
        for u in schema.uniques:
            if u.name == name:
                return [name], f"on constraint {name}"
        if any(c.name == name for c in schema.checks) or \
                any(f.name == name for f in schema.foreign_keys):
            raise errors.sql_error("42809", "constraint in ON CONFLICT clause has no "
                                            "associated index", position=position_of(constraint))
        raise errors.sql_error("42704", f'constraint "{name}" for table "{schema.name}" '
                                        f'does not exist', position=position_of(constraint),
                               hint="ON CONSTRAINT names a PRIMARY KEY or UNIQUE constraint; "
                                    "for a unique index, list its columns instead.")
    if not keys:
        if action == "update":
            raise errors.syntax_error("ON CONFLICT DO UPDATE requires inference specification "
                                      "or constraint name", position=position_of(node),
                                      hint="For example, ON CONFLICT (column_name).")
        return None, ""
    positions = []
    names = []
    row_scope = Scope(columns=scope.columns[:len(schema.columns)])
    for k in keys:
        e = k.this if isinstance(k, exp.Ordered) else k
        while isinstance(e, exp.Paren):
            e = e.this
        if isinstance(e, exp.Column) and not e.table:
            pos = schema.position(e.name)
            if pos is None:
                raise errors.undefined_column(e.name, position=position_of(e))
            positions.append(pos)
        else:   # an index expression: (lower(email))
            ExprBinder(stmt, row_scope, clause="ON CONFLICT").bind(e.copy())
        names.append(expr_sql(e))
    predicate = node.args.get("index_predicate")
    if predicate is not None:
        ExprBinder(stmt, row_scope, clause="WHERE").bind_boolean(predicate.this, "WHERE")
    wanted = set(positions)
    arbiters = []
    if len(positions) == len(names):    # plain columns: the indexes on exactly those
        arbiters = [name for name, index in version.indexes.items()
                    if not index.keyed and set(index.columns) == wanted
                    and len(index.columns) == len(wanted)]
    # indexes on expressions, and partial ones whose predicate the WHERE implies (as
    # PostgreSQL infers them: the same key parts in any order; a total index needs no WHERE)
    given = _conjuncts(predicate.this) if predicate is not None else set()
    arbiters += [d.name for d in schema.indexes
                 if d.keyed and d.unique and d.name in version.indexes
                 and set(d.exprs) == set(names) and len(d.exprs) == len(set(names))
                 and (d.predicate is None or _conjuncts(parse_one(
                     f"SELECT {d.predicate}").expressions[0]) <= given)]
    if not arbiters:
        raise _no_match(f"No PRIMARY KEY, UNIQUE constraint or unique index of "
                        f'"{schema.name}" has exactly the key ({", ".join(names)})'
                        + (" and a predicate the WHERE implies." if predicate is not None
                           else "; a partial index needs its WHERE."))
    return arbiters, "(" + ", ".join(names) + ")"


def _conjuncts(node: exp.Expression) -> set[str]:
    """The ANDed parts of a predicate, each as an index stores its SQL."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.this) | _conjuncts(node.expression)
    return {expr_sql(node)}


def _no_match(hint: str) -> errors.Error:
    return errors.sql_error("42P10", "there is no unique or exclusion constraint matching "
                                     "the ON CONFLICT specification", hint=hint)
