"""Deterministic data generators for demos, tests and benchmarks.

Every generator is seeded and vectorised (numpy + pyarrow.compute), returns pyarrow
Tables with the project's type mapping, and never touches the network or the disk:

    INTEGER -> int64      FLOAT -> float64      TEXT -> large_string
    DATE    -> date32     TIMESTAMP -> timestamp[us]      BOOLEAN -> bool

Modules:
    tpch    TPC-H-like schema (lineitem, orders, customer, part, supplier, nation,
            region) scaled by the number of lineitem rows.
    trades  a small market-trades table (id, sym, px, qty, ts) for the tour notebook.

`create_table_sql(name, table)` turns a generated table's schema into a CREATE TABLE
statement in our SQL dialect, so a caller can create the table and then
`INSERT INTO name SELECT * FROM <registered arrow table>`.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["sql_type", "create_table_sql"]

_SQL_TYPES = {
    pa.int64(): "INTEGER",
    pa.int32(): "INTEGER",
    pa.float64(): "FLOAT",
    pa.large_string(): "TEXT",
    pa.string(): "TEXT",
    pa.date32(): "DATE",
    pa.bool_(): "BOOLEAN",
}


def sql_type(arrow_type: pa.DataType) -> str:
    """The SQL type name for an Arrow type produced by these generators."""
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    try:
        return _SQL_TYPES[arrow_type]
    except KeyError:
        raise TypeError(f"no SQL type for Arrow type {arrow_type}") from None


def create_table_sql(
    name: str, table: pa.Table | pa.Schema, primary_key: str | tuple[str, ...] | None = None
) -> str:
    """CREATE TABLE statement matching `table`'s schema, optionally with a PRIMARY KEY
    (a column name, or a tuple of names for a composite key)."""
    schema = table if isinstance(table, pa.Schema) else table.schema
    if isinstance(primary_key, str):
        primary_key = (primary_key,)
    parts = []
    for field in schema:
        col = f"{field.name} {sql_type(field.type)}"
        if primary_key and len(primary_key) == 1 and field.name == primary_key[0]:
            col += " PRIMARY KEY"
        parts.append(col)
    if primary_key and len(primary_key) > 1:
        parts.append(f"PRIMARY KEY ({', '.join(primary_key)})")
    return f"CREATE TABLE {name} ({', '.join(parts)})"
