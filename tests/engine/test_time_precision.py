"""TIMESTAMP(p), TIMESTAMPTZ(p) and TIME(p): columns and casts round to p digits of a
second as PostgreSQL's AdjustTimestampForTypmod does (half away from zero, counted from
2000-01-01), on every write path, and the modifier survives a reopen."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import rustmemodb

UTC = dt.timezone.utc


def test_every_write_path_rounds() -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TIMESTAMP(0), b TIME(1), "
                  "c TIMESTAMPTZ(3))")
    conn.execute("INSERT INTO t VALUES (1, '2020-01-01 12:00:00.5', '12:00:00.56', "
                  "'2020-01-01 12:00:00.12351+00')")
    conn.execute("INSERT INTO t VALUES (%s, %s, %s, %s)",
                 (2, dt.datetime(1999, 12, 31, 23, 59, 59, 500000), dt.time(1, 2, 3, 40000),
                  dt.datetime(2020, 1, 1, 0, 0, 0, 999600, tzinfo=UTC)))
    conn.execute("INSERT INTO t SELECT id + 10, a + interval '0.7 seconds', b, c FROM t")
    conn.execute("UPDATE t SET c = c + interval '0.0004 seconds' WHERE id = 1")
    rows = conn.execute("SELECT id, a, b, c FROM t ORDER BY id").fetchall()
    assert rows == [
        (1, dt.datetime(2020, 1, 1, 12, 0, 1), dt.time(12, 0, 0, 600000),
         dt.datetime(2020, 1, 1, 12, 0, 0, 124000, tzinfo=UTC)),
        # before 2000-01-01 a half rounds down (away from zero, as PostgreSQL counts)
        (2, dt.datetime(1999, 12, 31, 23, 59, 59), dt.time(1, 2, 3),
         dt.datetime(2020, 1, 1, 0, 0, 1, tzinfo=UTC)),
        (11, dt.datetime(2020, 1, 1, 12, 0, 2), dt.time(12, 0, 0, 600000),
         dt.datetime(2020, 1, 1, 12, 0, 0, 124000, tzinfo=UTC)),
        (12, dt.datetime(2000, 1, 1), dt.time(1, 2, 3),
         dt.datetime(2020, 1, 1, 0, 0, 1, tzinfo=UTC)),
    ]


def test_arrow_insert_and_casts_round() -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a TIMESTAMP(2))")
    conn.register("src", pa.table({"a": pa.array([dt.datetime(2020, 1, 1, 0, 0, 0, 125000),
                                                  None], pa.timestamp("us"))}))
    conn.execute("INSERT INTO t SELECT a FROM src")
    assert conn.execute("SELECT a FROM t").fetchall() == \
        [(dt.datetime(2020, 1, 1, 0, 0, 0, 130000),), (None,)]
    assert conn.execute("SELECT '2020-01-01 12:00:00.123456'::timestamp(3), "
                        "'12:00:00.56'::time(1)").fetchall() == \
        [(dt.datetime(2020, 1, 1, 12, 0, 0, 123000), dt.time(12, 0, 0, 600000))]


def test_precision_survives_a_reopen(tmp_path) -> None:
    db = rustmemodb.Database.open(tmp_path / "db", durability="sync")
    db.connect().execute("CREATE TABLE t (a TIMESTAMP(1))")
    db.close()
    db = rustmemodb.Database.open(tmp_path / "db", durability="sync")
    conn = db.connect()
    conn.execute("INSERT INTO t VALUES ('2020-01-01 00:00:00.06')")
    assert conn.execute("SELECT a::text, format_type(atttypid, atttypmod) FROM t, "
                        "pg_attribute WHERE attrelid = 't'::regclass AND attname = 'a'"
                        ).fetchall() == [("2020-01-01 00:00:00.1",
                                          "timestamp(1) without time zone")]
    db.close()
