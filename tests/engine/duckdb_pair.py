"""The same tables in rustmemodb and in DuckDB, for differential tests of DuckDB's SQL
(test_duckdb_*.py): each statement must give the answer DuckDB gives on the same rows."""
from __future__ import annotations

import rustmemodb


def loaded_pair(duckdb, tables: dict) -> tuple:
    """(rustmemodb connection, DuckDB connection) holding ``tables``:
    ``{"CREATE TABLE t (...)": rows}``, rows inserted through each one's executemany."""
    ours, theirs = rustmemodb.connect(), duckdb.connect()
    for create, rows in tables.items():
        name = create.split()[2]
        marks = ", ".join("?" * len(rows[0])) if rows else ""
        for conn in (ours, theirs):
            conn.execute(create)
            if rows:
                conn.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
    return ours, theirs


def assert_same(pair: tuple, sql: str) -> None:
    ours, theirs = pair
    assert ours.execute(sql).fetchall() == theirs.execute(sql).fetchall(), sql
