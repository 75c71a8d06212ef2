"""``--persist VAR`` and ``--append VAR``: notebook data into real tables.

A DataFrame in the namespace can already be *queried* by name (replacement
scan); persisting copies it into a table of the current branch, so it is
forked, diffed, merged and typed like any other table. The table is created
with a ``CREATE TABLE`` whose types come from the Arrow schema, then filled
with ``INSERT INTO t SELECT * FROM <registered frame>`` in one transaction:
the data goes through Arrow, never row by row through Python.

This is a simple approach: it does not infer primary keys or NOT NULL
constraints (write the DDL yourself and use ``--append`` for those).
"""

from __future__ import annotations


import pyarrow as pa

from rustmemodb_lab.command import Command
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.frames import to_engine_table
from rustmemodb_lab.session import as_table
from rustmemodb_lab.views import Status

_TEMP_NAME = "__rustmemodb_lab_persist"


def persist(cmd: Command, ctx: Context) -> Status:
    table = _arrow_of(cmd.persist, ctx)
    n = create_from_arrow(ctx, cmd.persist, table)
    return Status(f"created table {cmd.persist} ({n:,} rows) on branch {ctx.registry.current}")


def create_from_arrow(ctx: Context, name: str, table: pa.Table, primary_key: list[str] | None = None) -> int:
    """``CREATE TABLE name`` typed from ``table``'s schema (and an optional primary key),
    filled in one transaction."""
    columns = [f"{quote(f.name)} {sql_type(f)}" for f in table.schema]
    if primary_key:
        columns.append(f"PRIMARY KEY ({', '.join(quote(c) for c in primary_key)})")
    return _load(ctx, name, table, f"CREATE TABLE {quote(name)} ({', '.join(columns)})")


def append(cmd: Command, ctx: Context) -> Status:
    table = _arrow_of(cmd.append, ctx)
    n = _load(ctx, cmd.append, table, None)
    return Status(f"appended {n:,} rows to {cmd.append} on branch {ctx.registry.current}")


def _arrow_of(var: str, ctx: Context) -> pa.Table:
    if var not in ctx.ns:
        raise LabUsageError(f"no variable named {var!r} to persist")
    value = as_table(ctx.ns[var])
    if value is None:
        raise LabUsageError(f"{var!r} is not a pandas DataFrame or an Arrow table")
    import rustmemodb

    try:
        return to_engine_table(value, var)
    except rustmemodb.Error as exc:
        raise LabUsageError(f"[{exc.sqlstate}] {exc.message}" + (f"\nHINT:  {exc.hint}" if exc.hint else "")) from None


def _load(ctx: Context, name: str, table: pa.Table, ddl: str | None) -> int:
    """Run the DDL (if any) and the bulk insert in one transaction."""
    from rustmemodb_lab.execute import _rollback

    branch = ctx.registry.active
    conn = branch.conn
    before = branch.root()
    conn.register(_TEMP_NAME, table)
    try:
        conn.execute("BEGIN")
        if ddl:
            conn.execute(ddl)
        conn.execute(f"INSERT INTO {quote(name)} SELECT * FROM {_TEMP_NAME}")
        conn.execute("COMMIT")
    except Exception as exc:
        _rollback(conn)
        raise LabUsageError(f"could not load {name!r}: {getattr(exc, 'message', None) or exc}") from exc
    finally:
        conn.unregister(_TEMP_NAME)
        ctx.registry.remember(branch, before, ctx.label or f"--persist {name}")
    return table.num_rows


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def sql_type(f: pa.Field) -> str:
    """The SQL type for an Arrow field (the engine's type mapping, in reverse)."""
    t = f.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    checks = [
        (pa.types.is_boolean, "BOOLEAN"),
        (pa.types.is_integer, "BIGINT"),      # int64 (an int column would be int4)
        (pa.types.is_floating, "FLOAT"),
        (lambda x: pa.types.is_string(x) or pa.types.is_large_string(x), "TEXT"),
        (pa.types.is_timestamp, "TIMESTAMP"),
        (pa.types.is_date, "DATE"),
        (pa.types.is_decimal, "NUMERIC"),
        (pa.types.is_null, "TEXT"),  # a column of NULLs only (e.g. imported from SQLite)
    ]
    for check, name in checks:
        if check(t):
            return name
    raise LabUsageError(f"column {f.name!r}: no SQL type for Arrow type {t}")
