"""Columns declared int / integer / int4 / serial: int64 in storage, PostgreSQL's 32-bit
range on every way rows arrive, and described as integer (exec/typmods.py).

The SQL side is in tests/sql/types/int4_columns.test (replayed on PostgreSQL 15); here:
the write paths SQL files cannot reach (executemany past the tail, a registered Arrow
table and DataFrame, COPY from a file, the point paths in and out of a transaction),
the typmod every declaration spelling gets, and the width surviving a restart.
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb.exec.typmods import fit_array, fit_rows, int_ranges
from rustmemodb.storage.schema import Column, TableSchema

LOW, HIGH = -2 ** 31, 2 ** 31 - 1


def _schema(conn, table: str):
    return conn._session._catalog_root().tables[table].schema


@pytest.mark.parametrize("declared, typmod", [
    ("int", ("int4",)), ("integer", ("int4",)), ("int4", ("int4",)), ("serial", ("int4",)),
    ("serial4", ("int4",)), ("INTEGER NOT NULL", ("int4",)), ("smallint", ("int2",)),
    ("bigint", None), ("int8", None), ("bigserial", None)])
def test_each_spelling_keeps_its_width(declared, typmod):
    conn = rustmemodb.connect()
    conn.execute(f"CREATE TABLE w (v {declared})")
    assert _schema(conn, "w").columns[0].typmod == typmod


def test_the_quick_create_table_path_keeps_the_width_too():
    # a one-word-types CREATE TABLE is bound without sqlglot (sql/quick.py)
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE q (a int, b integer, c int4, d bigint, e int8)")
    assert [c.typmod for c in _schema(conn, "q").columns] == [
        ("int4",), ("int4",), ("int4",), None, None]


def _refused(conn, call, *args):
    with pytest.raises(errors.DataError) as info:
        call(*args)
    assert info.value.sqlstate == "22003"
    assert "integer out of range" in str(info.value)


def test_int_range_on_every_write_path(tmp_path):
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, v int)")
    # executemany past the tail (the Arrow path) and the point path
    conn.executemany("INSERT INTO t (id, v) VALUES (?, ?)",
                     [(i, HIGH - i) for i in range(5000)])
    many = conn.executemany
    _refused(conn, many, "INSERT INTO t (id, v) VALUES (?, ?)", [(9_000, HIGH + 1)])
    _refused(conn, many, "INSERT INTO t (id, v) VALUES (?, ?)",
             [(10_000 + i, LOW - 1 if i == 2999 else 1) for i in range(3000)])
    _refused(conn, conn.execute, "INSERT INTO t (id, v) VALUES (?, ?)", (99_999, LOW - 1))
    # a set-based UPDATE and a point UPDATE (autocommit and in a transaction)
    _refused(conn, conn.execute, "UPDATE t SET v = v + 1")
    _refused(conn, conn.execute, "UPDATE t SET v = ? WHERE id = ?", (HIGH + 1, 4))
    conn.execute("BEGIN")
    _refused(conn, conn.execute, "UPDATE t SET v = ? WHERE id = ?", (LOW - 1, 4))
    conn.execute("ROLLBACK")
    # a registered Arrow table and DataFrame through INSERT ... SELECT
    conn.register("arrow", pa.table({"id": [20_001, 20_002], "v": [1, HIGH + 1]}))
    _refused(conn, conn.execute, "INSERT INTO t (id, v) SELECT * FROM arrow")
    conn.register("df", pd.DataFrame({"id": [20_003, 20_004], "v": [LOW - 1, 1]}))
    _refused(conn, conn.execute, "INSERT INTO t (id, v) SELECT * FROM df")
    # COPY from a file
    bad = tmp_path / "bad.txt"
    bad.write_text("30001\t5\n30002\t2147483648\n")
    with pytest.raises(errors.Error) as info:
        conn.execute(f"COPY t (id, v) FROM '{bad}'")
    assert info.value.sqlstate == "22003"
    # nothing of the refused statements was written
    assert conn.execute("SELECT count(*), min(v), max(v) FROM t").fetchall() == [
        (5000, HIGH - 4999, HIGH)]
    # the bounds themselves are fine, from every side
    conn.register("ok", pa.table({"id": [40_001, 40_002], "v": [LOW, HIGH]}))
    conn.execute("INSERT INTO t (id, v) SELECT * FROM ok")
    conn.execute("UPDATE t SET v = ? WHERE id = ?", (LOW, 1))
    assert conn.execute("SELECT min(v), count(*) FROM t").fetchall() == [(LOW, 5002)]


def test_the_width_survives_a_restart(tmp_path):
    conn = rustmemodb.connect(str(tmp_path / "db"))
    conn.execute("CREATE TABLE r (id serial PRIMARY KEY, v int, b bigint)")
    conn.execute("INSERT INTO r (v, b) VALUES (7, 3000000000)")
    conn.close()
    again = rustmemodb.connect(str(tmp_path / "db"))
    assert again.execute("SELECT column_name, data_type FROM information_schema.columns "
                         "WHERE table_name = 'r' ORDER BY ordinal_position").fetchall() == [
        ("id", "integer"), ("v", "integer"), ("b", "bigint")]
    with pytest.raises(errors.DataError):
        again.execute("UPDATE r SET v = 2147483648")
    assert again.execute("SELECT id, v, b FROM r").fetchall() == [(1, 7, 3000000000)]


def test_the_checks_themselves():
    schema = TableSchema("x", (Column("a", "INTEGER", typmod=("int4",)),
                               Column("b", "INTEGER"),
                               Column("c", "INTEGER", typmod=("int2",))))
    assert int_ranges(schema) == ((0, LOW, HIGH, "integer"), (2, -2 ** 15, 2 ** 15 - 1,
                                                               "smallint"))
    rows = [(LOW, 2 ** 62, 0), (None, None, None), (HIGH, -2 ** 62, 1)]
    assert fit_rows(schema, rows) is rows          # checked, never copied
    with pytest.raises(errors.DataError, match="integer out of range"):
        fit_rows(schema, [(HIGH + 1, 0, 0)])
    column = pa.chunked_array([[LOW, None], [HIGH]], pa.int64())
    assert fit_array(("int4",), column) is column
    with pytest.raises(errors.DataError, match="integer out of range"):
        fit_array(("int4",), pa.chunked_array([[1], [LOW - 1]], pa.int64()))
