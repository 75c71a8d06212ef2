"""``'infinity'``/``'-infinity'`` dates and timestamps (engine/rustmemodb/infinity.py):
what the DB-API and pandas hand out, storage on both paths, and a reopen from the log
and from a checkpoint. Their SQL behaviour (output, order, arithmetic, extract) is in
tests/sql/types/infinity.test, replayed on PostgreSQL 15 too."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb import errors, infinity
from rustmemodb.durability.open import DurableDatabase

UTC = dt.timezone.utc


def _rows(conn, sql, params=None):
    return conn.execute(sql, params).fetchall() if params else conn.execute(sql).fetchall()


def test_dbapi_hands_out_pythons_extremes() -> None:
    conn = rustmemodb.connect()
    row = _rows(conn, "SELECT 'infinity'::date, '-infinity'::date, 'infinity'::timestamp, "
                      "'-infinity'::timestamp, 'infinity'::timestamptz, DATE '2020-01-02'")[0]
    assert row == (dt.date.max, dt.date.min, dt.datetime.max, dt.datetime.min,
                   dt.datetime.max.replace(tzinfo=UTC), dt.date(2020, 1, 2))


def test_pandas_has_pythons_extremes_not_nat() -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER, d DATE, ts TIMESTAMP, z TIMESTAMPTZ)")
    conn.execute("INSERT INTO t VALUES (1, 'infinity', '-infinity', 'infinity'), "
                 "(2, '2020-01-01', '2020-01-01 10:00', NULL)")
    df = conn.execute("SELECT * FROM t ORDER BY id").df()
    assert df["d"].tolist() == [dt.date.max, dt.date(2020, 1, 1)]
    assert df["ts"][0].to_pydatetime() == dt.datetime.min
    assert df["z"][0].to_pydatetime() == dt.datetime.max.replace(tzinfo=UTC)
    assert df["z"].isna().tolist() == [False, True]


@pytest.mark.parametrize("arrow_path", [False, True])
def test_stored_infinity_orders_filters_and_updates(arrow_path) -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ts TIMESTAMP)")
    conn.execute("INSERT INTO t VALUES (1, '2020-01-01'), (2, 'infinity'), (3, '-infinity'),"
                 " (4, NULL)")
    if arrow_path:      # enough rows that the table is scanned as Arrow chunks
        conn.execute("INSERT INTO t SELECT i, '2021-01-01'::timestamp + i * interval '1 "
                     "minute' FROM generate_series(10, 5000) i")
        conn.execute("CREATE INDEX t_ts ON t (ts)")
    assert _rows(conn, "SELECT id FROM t WHERE id < 5 ORDER BY ts NULLS FIRST") == \
        [(4,), (3,), (1,), (2,)]
    assert _rows(conn, "SELECT id FROM t WHERE ts = 'infinity'") == [(2,)]
    assert _rows(conn, "SELECT id FROM t WHERE ts > '9999-12-31 23:59:59.999999'") == [(2,)]
    assert _rows(conn, "SELECT max(ts), min(ts) FROM t") == [(dt.datetime.max,
                                                              dt.datetime.min)]
    conn.execute("UPDATE t SET ts = ts + interval '1 day' WHERE id IN (1, 2, 3)")
    assert _rows(conn, "SELECT ts::text FROM t WHERE id < 5 ORDER BY id") == \
        [("2020-01-02 00:00:00",), ("infinity",), ("-infinity",), (None,)]
    assert _rows(conn, "SELECT count(*) FROM t WHERE NOT isfinite(ts)") == [(2,)]


def test_infinity_parameter_and_difference_error() -> None:
    conn = rustmemodb.connect()
    assert _rows(conn, "SELECT %s::date > DATE '2020-01-01'", ("infinity",)) == [(True,)]
    with pytest.raises(errors.DataError) as err:
        conn.execute("SELECT 'infinity'::timestamp - TIMESTAMP '2020-01-01'")
    assert err.value.sqlstate == "22008"
    with pytest.raises(errors.DataError) as err:
        conn.execute("SELECT DATE '2020-01-01' - 'infinity'::date")
    assert "cannot subtract infinite dates" in str(err.value)


def test_arrow_helpers_round_trip_the_sentinels() -> None:
    arr = pa.array([dt.date(2020, 1, 1), infinity.DATE_INF, None, infinity.DATE_NINF],
                   pa.date32())
    assert arr.cast(pa.int32()).to_pylist()[1] == 2 ** 31 - 1
    assert infinity.pylist(arr) == [dt.date(2020, 1, 1), infinity.DATE_INF, None,
                                    infinity.DATE_NINF]
    assert infinity.in_arrow(arr) and not infinity.in_arrow(arr.slice(0, 1))
    assert sorted([infinity.TS_INF, dt.datetime(2020, 1, 1), infinity.TS_NINF]) == \
        [infinity.TS_NINF, dt.datetime(2020, 1, 1), infinity.TS_INF]


@pytest.mark.parametrize("checkpoint", [False, True])
def test_infinity_survives_a_reopen(tmp_path, checkpoint) -> None:
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, d DATE, ts TIMESTAMP, "
                 "z TIMESTAMPTZ)")
    conn.execute("INSERT INTO t VALUES (1, 'infinity', '-infinity', 'infinity'), "
                 "(2, '2020-01-01', '2020-01-01 10:00', '-infinity')")
    conn.execute("UPDATE t SET d = '-infinity' WHERE id = 2")
    if checkpoint:
        conn.execute("CHECKPOINT")
        db.close()
    else:
        assert isinstance(db, DurableDatabase)
        db._abandon()                    # as kill -9: the log is replayed
    db = rustmemodb.Database.open(path, durability="sync")
    got = db.connect().execute("SELECT id, d::text, ts::text, z::text FROM t ORDER BY d"
                               ).fetchall()
    assert got == [(2, "-infinity", "2020-01-01 10:00:00", "-infinity"),
                   (1, "infinity", "-infinity", "infinity")]
    db.close()
