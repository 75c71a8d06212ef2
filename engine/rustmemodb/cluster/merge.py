"""The coordinator's side of a split query: typed tables from Arrow partials, merge SQL.

Partials arrive as Arrow tables with the SQL types the shards reported. They are loaded
into a small in-memory engine of the coordinator as real tables of those SQL types (not
registered Arrow, which would lose types Arrow cannot tell apart, such as JSON or
INTERVAL), and the merge SQL runs there with the engine's own semantics.
"""
from __future__ import annotations

import contextvars

import pyarrow as pa

import zlib

from .. import composite, numeric_arrays, types
from ..database import Database
from ..result import Result
from .split import PARTIALS


# The TimeZone (SET text) of the cluster session whose statement the coordinator runs
# (connect.py sets it per statement): merge SQL over timestamptz values reads and
# compares them in it, as the single engine would.
ZONE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "rustmemodb_cluster_zone", default=None)
# Its DateStyle likewise: 'nn/nn/yyyy' text the coordinator reads (a routed INSERT's
# values) is read in the session's field order.
DATESTYLE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "rustmemodb_cluster_datestyle", default=None)


def in_zone(conn):
    """``conn`` (a coordinator's scratch engine) set to the cluster session's zone and
    DateStyle."""
    zone = ZONE.get()
    if zone and zone != "UTC":
        conn.execute("SET TIME ZONE '" + zone.replace("'", "''") + "'")
    style = DATESTYLE.get()
    if style and style != "ISO, MDY":
        conn.execute("SET datestyle = '" + style.replace("'", "''") + "'")
    return conn


def scratch_connection():
    """A connection of a new in-memory engine for merge SQL, in the session's zone."""
    return in_zone(Database().connect())


def _sql_type(t: str) -> str:
    return types.TEXT if t == types.NULL else types.sql_name(t)


def load_table(conn, name: str, data: pa.Table) -> None:
    """Append ``data`` (the table's columns, in order) to table ``name`` of ``conn``'s
    database, in one transaction of that connection."""
    conn.begin()
    try:
        txn = conn._session.txn
        schema = txn.table(name).schema
        if data.num_rows:
            txn.insert_arrow(name, numeric_arrays.cast_table(
                data.rename_columns(schema.names), schema.arrow_schema))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def create_typed(conn, name: str, columns: list) -> None:
    cols = ", ".join(f'"{n}" {_declared(conn, t)}' for n, t in columns)
    conn.execute(f'CREATE TABLE "{name}" ({cols})')


def _declared(conn, t: str) -> str:
    """The column type for values of SQL type ``t``; an enum type's values get that enum
    type in the scratch engine too (made on first use), so the merge orders them by
    label position as the single engine does."""
    if composite.is_record(t):
        return _composite_declared(conn, t)
    enum = types.enum_of(t)
    if enum is None:
        return _sql_type(t)
    name = '"' + enum.enum_name.replace('"', '""') + '"'
    if conn.execute("SELECT count(*) FROM pg_type WHERE typname = ?",
                    (enum.enum_name,)).fetchone()[0] == 0:
        labels = ", ".join("'" + label.replace("'", "''") + "'" for label in enum.labels)
        conn.execute(f"CREATE TYPE {name} AS ENUM ({labels})")
    return name


def _composite_declared(conn, t: str) -> str:
    """A composite type (an anonymous ROW(...)'s too) made in the scratch engine under a
    name of its own definition: its values' bytes are the same (composite.py), and
    ``conform`` gives the result the type the single engine would."""
    name = f'"__record_{zlib.crc32(t.encode()):08x}"'
    if conn.execute("SELECT count(*) FROM pg_type WHERE typname = ?",
                    (name.strip('"'),)).fetchone()[0] == 0:
        fields = ", ".join('"' + f.replace('"', '""') + '" ' + _declared(conn, ft)
                           for f, ft in composite.fields_of(t))
        conn.execute(f"CREATE TYPE {name} AS ({fields})")
    return name


def run_merge(columns: list, partials: list[pa.Table], merge_sql: str) -> tuple[list, pa.Table]:
    """Run ``merge_sql`` over the union of ``partials`` (each with ``columns``)."""
    conn = scratch_connection()
    create_typed(conn, PARTIALS, columns)
    names = [n for n, _ in columns]
    parts = [p.rename_columns(names) for p in partials if p.num_rows]
    if parts:
        load_table(conn, PARTIALS, numeric_arrays.concat_tables(parts, promote_options="permissive"))
    cur = conn.execute(merge_sql)
    return cur._result.columns, cur.arrow()


def conform(result_columns: list, table: pa.Table, want: list) -> Result:
    """The merged table under the names and SQL types the single engine would give."""
    names = [n for n, _ in want]
    table = table.rename_columns(names)
    target = [types.arrow_type(t) if t != types.NULL else table.schema.field(i).type
              for i, (_, t) in enumerate(want)]
    arrays = []
    for i, col in enumerate(table.columns):
        if col.type != target[i]:
            try:
                col = col.cast(target[i])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        arrays.append(col)
    table = pa.Table.from_arrays(arrays, names=names) if arrays else table
    return Result(columns=list(want), table=table, rowcount=table.num_rows, kind="SELECT")
