"""Connecting to and loading data into the engines compared in the suites.

Each engine gets the same Arrow table through its own fastest ordinary path:

    rustmemodb  CREATE TABLE + conn.register(src, arrow) + INSERT INTO t SELECT * FROM src
    DuckDB      CREATE TABLE (BIGINT/DOUBLE/VARCHAR types) + INSERT ... SELECT from Arrow
    sqlite3     CREATE TABLE + executemany inside one transaction (dates as ISO text)

Type names differ per engine: our INTEGER is 64-bit and FLOAT is double, whereas DuckDB's
INTEGER is 32-bit and FLOAT single precision, so DuckDB gets BIGINT and DOUBLE.
sqlite3 connections are opened with isolation_level=None (true autocommit), like the
other two, so explicit BEGIN/COMMIT mean the same thing everywhere.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

RUSTMEMODB = "rustmemodb"
SQLITE = "sqlite3"
DUCKDB = "duckdb"
PANDAS = "pandas"

_TYPES = {
    RUSTMEMODB: {"int": "INTEGER", "float": "FLOAT", "text": "TEXT", "date": "DATE",
                 "timestamp": "TIMESTAMP", "bool": "BOOLEAN"},
    DUCKDB: {"int": "BIGINT", "float": "DOUBLE", "text": "VARCHAR", "date": "DATE",
             "timestamp": "TIMESTAMP", "bool": "BOOLEAN"},
    SQLITE: {"int": "INTEGER", "float": "REAL", "text": "TEXT", "date": "TEXT",
             "timestamp": "TEXT", "bool": "INTEGER"},
}


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_boolean(t):
        return "bool"
    raise TypeError(f"unsupported Arrow type {t}")


def ddl(engine: str, name: str, schema: pa.Schema, primary_key: tuple[str, ...] = ()) -> str:
    """CREATE TABLE for `schema` in `engine`'s type names, with an optional PRIMARY KEY."""
    types = _TYPES[engine]
    cols = [f"{f.name} {types[_kind(f.type)]}" for f in schema]
    if len(primary_key) == 1:
        i = schema.get_field_index(primary_key[0])
        cols[i] += " PRIMARY KEY"
    elif primary_key:
        cols.append(f"PRIMARY KEY ({', '.join(primary_key)})")
    return f"CREATE TABLE {name} ({', '.join(cols)})"


# --------------------------------------------------------------------------- connect

def connect(engine: str) -> Any:
    if engine == RUSTMEMODB:
        import rustmemodb

        return rustmemodb.connect()
    if engine == SQLITE:
        return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    if engine == DUCKDB:
        import duckdb

        return duckdb.connect(":memory:")
    raise ValueError(engine)


# --------------------------------------------------------------------------- load

def sqlite_rows(table: pa.Table) -> list[tuple]:
    """Rows of `table` as tuples sqlite3 accepts (dates/timestamps as ISO text)."""
    cols = []
    for col in table.columns:
        if pa.types.is_date(col.type):
            col = pc.strftime(col, format="%Y-%m-%d")
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")  # %S carries the microseconds
        cols.append(col.to_pylist())
    return list(zip(*cols))


def load(engine: str, conn: Any, name: str, table: pa.Table,
         primary_key: tuple[str, ...] = (), rows: list[tuple] | None = None) -> None:
    """Create `name` in `conn` and fill it from the Arrow `table` (see module doc)."""
    if engine == RUSTMEMODB:
        conn.execute(ddl(engine, name, table.schema, primary_key))
        src = f"__bench_src_{name}"
        conn.register(src, table)
        conn.execute(f"INSERT INTO {name} SELECT * FROM {src}")
        unregister = getattr(conn, "unregister", None)
        if unregister is not None:
            unregister(src)
    elif engine == DUCKDB:
        conn.execute(ddl(engine, name, table.schema, primary_key))
        src = f"__bench_src_{name}"
        conn.register(src, table)
        conn.execute(f"INSERT INTO {name} SELECT * FROM {src}")
        conn.unregister(src)
    elif engine == SQLITE:
        conn.execute(ddl(engine, name, table.schema, primary_key))
        rows = sqlite_rows(table) if rows is None else rows
        marks = ", ".join("?" * table.num_columns)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        conn.execute("COMMIT")
    else:
        raise ValueError(engine)


def close(conn: Any) -> None:
    close_fn = getattr(conn, "close", None)
    if close_fn is not None:
        try:
            close_fn()
        except Exception:  # noqa: BLE001 - best effort
            pass
