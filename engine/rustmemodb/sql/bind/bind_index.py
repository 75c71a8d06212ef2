"""Binding CREATE [UNIQUE] INDEX and DROP INDEX into plan nodes (plan/ddl.py).

The columns are resolved and a default name chosen here; building the index over
the live rows, and the existence checks, happen at execution inside the
transaction (exec/operators/ddl.py, storage/index_define.py), so a rolled-back
CREATE INDEX never existed and forks that never saw it share nothing new.

Index names share one namespace with tables, views and constraint indexes
(PostgreSQL's relation names): a clash is ``42P07``.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ...plan.ddl import LogicalCreateIndex, LogicalDropIndex
from ...storage.root import relation_exists
from ...storage.schema import IndexDef
from ..parse import position_of
from .bind_select import bind_query


# Operator classes an index on a plain column may name: the btree defaults and the
# pattern classes (LIKE-prefix ordering); any other is 0A000 rather than ignored.
_OPCLASSES = frozenset({"varchar_pattern_ops", "text_pattern_ops", "bpchar_pattern_ops",
                        "text_ops", "varchar_ops", "bpchar_ops", "int2_ops", "int4_ops",
                        "int8_ops", "float4_ops", "float8_ops", "numeric_ops", "bool_ops",
                        "date_ops", "timestamp_ops", "timestamptz_ops", "time_ops",
                        "uuid_ops", "bytea_ops", "interval_ops"})


def _check_opclass(node: exp.Opclass) -> None:
    name = node.expression.name.lower() if node.expression is not None else ""
    if name not in _OPCLASSES:
        raise errors.not_supported(f"operator class {name}",
                                   hint="Index the plain column: CREATE INDEX i ON t (a).")


def bind_create_index(stmt, node: exp.Create):
    index = node.this
    table_node = index.args.get("table")
    version = stmt.table(table_node.name, position_of(table_node))
    schema = version.schema
    params = index.args.get("params")
    columns = []
    for item in (params.args.get("columns") or []) if params is not None else []:
        col = item.this if isinstance(item, exp.Ordered) else item
        if isinstance(col, exp.Opclass):
            # ``(name varchar_pattern_ops)`` (Django makes one for every indexed text
            # column): the operator class only picks which operators the index serves;
            # the index here is the column's own, and LIKE 'prefix%' scans as before
            _check_opclass(col)
            col = col.this
        if not isinstance(col, exp.Column):
            raise errors.not_supported("indexes on expressions",
                                       hint="Index plain columns: CREATE INDEX i ON t (a, b).")
        pos = schema.position(col.name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{col.name}" does not exist',
                                   position=position_of(col))
        columns.append(pos)
    if not columns:
        raise errors.syntax_error("CREATE INDEX needs at least one column")
    name = index.name or _default_name(schema, columns, stmt.root)
    unique = bool(node.args.get("unique"))
    where = params.args.get("where") if params is not None else None
    if where is not None:
        _partial(stmt, table_node, where, unique)
    if_not_exists = bool(node.args.get("exists"))
    return LogicalCreateIndex([], schema.name, IndexDef(name, tuple(columns), unique),
                              if_not_exists)


def _partial(stmt, table_node: exp.Table, where: exp.Expression, unique: bool) -> None:
    """``CREATE INDEX ... WHERE pred`` (Django's ``Index(condition=...)``, Rails' ``where:``):
    the predicate is checked as PostgreSQL checks it, then the index covers every row, which
    answers the same queries (an index only ever narrows which rows are read). A partial
    UNIQUE index would have to leave the other rows out of the key: 0A000."""
    if unique:
        raise errors.not_supported(
            "partial unique indexes (CREATE UNIQUE INDEX ... WHERE)", position=position_of(where),
            hint="Keep the key unique over all rows, or check it in the application.")
    pred = where.this if isinstance(where, exp.Where) else where
    bind_query(stmt, exp.select("1").from_(table_node.copy()).where(pred.copy()), None)


def _default_name(schema, columns, root) -> str:
    base = f"{schema.name}_{'_'.join(schema.columns[c].name for c in columns)}_idx"
    name, i = base, 0
    while relation_exists(root, name):
        i += 1
        name = f"{base}{i}"
    return name


def bind_drop_index(stmt, node: exp.Drop):
    names = [t.name for t in (node.args.get("tables") or
                              ([node.this] if node.this is not None else []))]
    return LogicalDropIndex([], tuple(names), bool(node.args.get("exists")))
