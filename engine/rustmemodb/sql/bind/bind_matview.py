"""Materialized views: CREATE MATERIALIZED VIEW, REFRESH MATERIALIZED VIEW, DROP
MATERIALIZED VIEW, and the refusal to write into one.

A materialized view is a stored table whose schema keeps its defining query
(``TableSchema.matview_sql``): CREATE fills it as CREATE TABLE ... AS does, REFRESH
runs the query again and replaces the rows in the statement's transaction (readers
see the old rows or the new, never a mix), DROP removes it. It is read like any table
(and may be indexed); INSERT, UPDATE, DELETE, MERGE, TRUNCATE and COPY into it are
42809, as in PostgreSQL.
"""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from ... import errors
from ...plan.ddl import LogicalDropTable, LogicalRefreshMatview
from ..parse import parse_one, position_of
from .bind_select import bind_query
from . import view_stars

_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "TRUNCATE"})


def is_materialized(node: exp.Create) -> bool:
    props = node.args.get("properties")
    return props is not None and any(isinstance(p, exp.MaterializedProperty)
                                     for p in props.expressions)


def bind_create_matview(stmt, node: exp.Create, create_table_as):
    """CREATE MATERIALIZED VIEW [IF NOT EXISTS] name [(cols)] AS query: CREATE TABLE AS
    (``create_table_as``, bind_ddl.py) whose schema remembers the query."""
    props = [p for p in node.args["properties"].expressions
             if not isinstance(p, exp.MaterializedProperty)]
    if props:
        raise errors.not_supported(f"materialized view option {props[0].sql(dialect='postgres')!r}")
    target = node.this
    table_node = target.this if isinstance(target, exp.Schema) else target
    names = [e.name for e in target.expressions] if isinstance(target, exp.Schema) else []
    stars = view_stars.recording(stmt)
    try:
        plan = create_table_as(stmt, table_node.name, node, bool(node.args.get("exists")))
    finally:
        stmt.star_expansions = None
    columns = plan.schema.columns
    if len(names) > len(columns):
        raise errors.sql_error("42601", "too many column names were specified",
                               position=position_of(target))
    columns = tuple(dataclasses.replace(c, name=n) for c, n in zip(columns, names)) + \
        columns[len(names):]
    twice = errors.duplicate_column([c.name for c in columns])
    if twice is not None:
        raise twice
    schema = dataclasses.replace(plan.schema, columns=columns,
                                 matview_sql=view_stars.fixed_stars(node.expression, stars)
                                 .sql(dialect="postgres"))
    return dataclasses.replace(plan, schema=schema)


def bind_refresh(stmt, node: exp.Refresh) -> LogicalRefreshMatview:
    name = node.this.name
    version = stmt.root.tables.get(name)
    if version is None:
        raise errors.sql_error("42P01", f'relation "{name}" does not exist',
                               position=position_of(node.this))
    sql = version.schema.matview_sql
    if sql is None:      # PostgreSQL answers 0A000 here, 42809 for the other wrong kinds
        raise errors.sql_error("0A000", f'"{name}" is not a materialized view',
                               position=position_of(node.this))
    stmt.deps.append(("table", name, version.schema))
    return LogicalRefreshMatview([], bind_query(stmt, parse_one(sql), None), name)


def bind_drop_matview(node: exp.Drop, targets: list[str]) -> LogicalDropTable:
    return LogicalDropTable([], tuple(targets), bool(node.args.get("exists")),
                            bool(node.args.get("cascade")), materialized=True)


def refuse_writes(root, privileges) -> None:
    """42809 when the statement would write into a materialized view."""
    for what, name, privilege, _ in privileges:
        if what == "table" and privilege in _WRITES:
            version = root.tables.get(name)
            if version is not None and version.schema.matview_sql is not None:
                raise errors.sql_error("42809", f'cannot change materialized view "{name}"',
                                       hint="REFRESH MATERIALIZED VIEW recomputes it.")
