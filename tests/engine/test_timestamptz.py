"""TIMESTAMPTZ: an instant that keeps its type through Python, pandas, Arrow and disk,
read and shown in the session's TimeZone (PostgreSQL's timestamptz)."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import rustmemodb

UTC = dt.timezone.utc
PLUS5 = dt.timezone(dt.timedelta(hours=5))


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    yield c
    c.close()


def test_aware_datetime_parameter_reads_back_aware_and_compares(conn) -> None:
    conn.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMPTZ)")
    written = dt.datetime(2021, 1, 1, 5, 0, tzinfo=PLUS5)
    conn.execute("INSERT INTO ev VALUES (?, ?)", [1, written])
    got = conn.execute("SELECT at FROM ev").fetchone()[0]
    assert got == written and got.utcoffset() == dt.timedelta(0)
    # the comparison an app makes next works (aware against aware)
    assert got < dt.datetime(2021, 1, 1, 1, tzinfo=UTC)
    assert conn.execute("SELECT id FROM ev WHERE at = ?", [written]).fetchall() == [(1,)]


def test_naive_parameter_into_timestamptz_is_the_session_zones_wall_clock(conn) -> None:
    conn.execute("CREATE TABLE ev (id INTEGER, at TIMESTAMPTZ)")
    conn.execute("SET TIME ZONE 'America/New_York'")
    conn.execute("INSERT INTO ev VALUES (?, ?)", [1, dt.datetime(2020, 7, 1, 8, 0)])
    assert conn.execute("SELECT at FROM ev").fetchone()[0] == \
        dt.datetime(2020, 7, 1, 12, 0, tzinfo=UTC)
    assert conn.execute("SELECT at::text FROM ev").fetchone()[0] == "2020-07-01 08:00:00-04"


def test_pandas_and_arrow_out_are_tz_aware(conn) -> None:
    conn.execute("CREATE TABLE ev (at TIMESTAMPTZ, plain TIMESTAMP)")
    conn.execute("INSERT INTO ev VALUES ('2020-01-01 10:00+02', '2020-01-01 10:00')")
    table = conn.execute("SELECT * FROM ev").arrow()
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("plain").type == pa.timestamp("us")
    frame = conn.execute("SELECT * FROM ev").df()
    assert str(frame["at"].dtype) == "datetime64[us, UTC]"
    assert frame["at"][0].isoformat() == "2020-01-01T08:00:00+00:00"


def test_a_tz_aware_dataframe_keeps_its_type_registered_and_inserted(conn) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"id": [1, 2], "at": pd.to_datetime(
        ["2020-01-01T00:00Z", "2020-06-01T12:00Z"], utc=True).tz_convert("Europe/Paris")})
    conn.register("frame", df)
    assert conn.execute("SELECT pg_typeof(at)::text FROM frame LIMIT 1").fetchone()[0] == \
        "timestamp with time zone"
    conn.execute("CREATE TABLE copied AS SELECT * FROM frame")
    conn.execute("CREATE TABLE ev (id INTEGER, at TIMESTAMPTZ)")
    conn.execute("INSERT INTO ev SELECT * FROM frame")
    for name in ("copied", "ev"):
        rows = conn.execute(f"SELECT id, at FROM {name} ORDER BY id").fetchall()
        assert rows == [(1, dt.datetime(2020, 1, 1, tzinfo=UTC)),
                        (2, dt.datetime(2020, 6, 1, 12, tzinfo=UTC))]
    assert str(conn.execute("SELECT at FROM ev").df()["at"].dtype) == "datetime64[us, UTC]"


def test_an_arrow_table_with_a_zone_registers_as_timestamptz(conn) -> None:
    arr = pa.array([0, 3_600_000_000], pa.timestamp("us", tz="Asia/Tokyo"))
    conn.register("t", pa.table({"at": arr}))
    assert conn.execute("SELECT max(at), min(at)::text FROM t").fetchone() == (
        dt.datetime(1970, 1, 1, 1, tzinfo=UTC), "1970-01-01 00:00:00+00")


def test_session_zone_shapes_text_fields_and_truncation(conn) -> None:
    conn.execute("SET TIME ZONE 'Europe/Paris'")
    assert conn.execute("SHOW timezone").fetchone()[0] == "Europe/Paris"
    row = conn.execute("SELECT x::text, extract(hour FROM x), date_trunc('day', x)::text, "
                       "extract(epoch FROM x), x::date FROM (SELECT TIMESTAMPTZ "
                       "'2020-06-30 23:30:00+00' AS x) s").fetchone()
    assert row == ("2020-07-01 01:30:00+02", 1, "2020-07-01 00:00:00+02", 1593559800.0,
                   dt.date(2020, 7, 1))
    conn.execute("RESET timezone")
    assert conn.execute("SELECT TIMESTAMPTZ '2020-06-30 23:30:00+00'::text").fetchone()[0] == \
        "2020-06-30 23:30:00+00"


def test_set_time_zone_is_per_session_and_undone_by_rollback() -> None:
    db = rustmemodb.Database()
    conn, other = db.connect(), db.connect()
    conn.execute("BEGIN")
    conn.execute("SET TIME ZONE 'Asia/Kolkata'")
    assert conn.execute("SELECT TIMESTAMPTZ '2020-01-01 00:00+00'::text").fetchone()[0] == \
        "2020-01-01 05:30:00+05:30"
    assert other.execute("SHOW timezone").fetchone()[0] == "UTC"
    conn.execute("ROLLBACK")
    assert conn.execute("SHOW timezone").fetchone()[0] == "UTC"


def test_one_text_in_two_zones_is_two_instants_not_one_shared_plan() -> None:
    db = rustmemodb.Database()
    utc, tokyo = db.connect(), db.connect()
    tokyo.execute("SET TIME ZONE 'Asia/Tokyo'")
    sql = "SELECT '2020-01-01 00:00:00'::timestamptz, TIMESTAMP '2020-01-01 09:00' = " \
          "TIMESTAMPTZ '2020-01-01 00:00+00'"
    for _ in range(3):       # the second sighting of a text is when plans get cached
        assert utc.execute(sql).fetchone() == (dt.datetime(2020, 1, 1, tzinfo=UTC), False)
        assert tokyo.execute(sql).fetchone() == (dt.datetime(2019, 12, 31, 15, tzinfo=UTC),
                                                 True)


def test_unknown_zone_is_22023(conn) -> None:
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SET TIME ZONE 'Nowhere/Land'")
    assert info.value.sqlstate == "22023"
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT TIMESTAMPTZ '2020-01-01 00:00' AT TIME ZONE 'Nowhere/Land'")
    assert info.value.sqlstate == "22023"


def test_default_now_into_timestamp_and_timestamptz_columns(conn) -> None:
    conn.execute("CREATE TABLE log (id INTEGER, a TIMESTAMP DEFAULT now(), "
                 "b TIMESTAMPTZ DEFAULT now())")
    conn.execute("INSERT INTO log (id) VALUES (1)")
    a, b = conn.execute("SELECT a, b FROM log").fetchone()
    assert a.tzinfo is None and b.tzinfo is not None
    assert a == b.replace(tzinfo=None)          # the UTC session's wall clock


def test_timestamptz_survives_checkpoint_and_log_replay(tmp_path) -> None:
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMPTZ, plain TIMESTAMP)")
    conn.execute("INSERT INTO ev VALUES (1, '2020-01-01 10:00+02', '2020-01-01 10:00')")
    conn.execute("CHECKPOINT")
    conn.execute("INSERT INTO ev VALUES (2, '2020-01-02 10:00+02', '2020-01-02 10:00')")
    conn.close()
    again = rustmemodb.connect(path)
    rows = again.execute("SELECT id, at, plain FROM ev ORDER BY id").fetchall()
    assert rows == [(1, dt.datetime(2020, 1, 1, 8, tzinfo=UTC), dt.datetime(2020, 1, 1, 10)),
                    (2, dt.datetime(2020, 1, 2, 8, tzinfo=UTC), dt.datetime(2020, 1, 2, 10))]
    assert again.execute("SELECT pg_typeof(at)::text, pg_typeof(plain)::text FROM ev LIMIT 1"
                         ).fetchone() == ("timestamp with time zone",
                                          "timestamp without time zone")
    again.close()


def test_timestamp_input_ignores_a_written_offset_as_postgresql(conn) -> None:
    assert conn.execute("SELECT TIMESTAMP '2020-01-01 10:00:00+02'").fetchone()[0] == \
        dt.datetime(2020, 1, 1, 10)


def test_a_zone_dependent_plan_is_still_cached_for_its_zone() -> None:
    db = rustmemodb.Database()
    conn = db.connect()
    conn.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMPTZ)")
    conn.execute("INSERT INTO ev VALUES (1, '2020-01-01 00:30+00')")
    sql = "SELECT id FROM ev WHERE at > '2020-01-01 00:00:00'"
    for _ in range(2):
        assert conn.execute(sql).fetchall() == [(1,)]
    hits = db.plan_cache.hits
    assert conn.execute(sql).fetchall() == [(1,)]
    assert db.plan_cache.hits == hits + 1
    conn.execute("SET TIME ZONE 'Europe/Paris'")      # 00:00 in Paris is 23:00 UTC before
    assert conn.execute(sql).fetchall() == [(1,)]
    conn.execute("SET TIME ZONE 'Asia/Kolkata'")      # 05:59 in Kolkata: 00:29 UTC
    assert conn.execute("SELECT id FROM ev WHERE at > '2020-01-01 05:59:00'").fetchall() == \
        [(1,)]
    conn.execute("SET TIME ZONE 'America/New_York'")  # 00:00 in New York: 05:00 UTC
    assert conn.execute(sql).fetchall() == []


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_keep_the_instant(conn, tmp_path, fmt) -> None:
    conn.execute(f"SET file_root = '{tmp_path}'")
    conn.execute("CREATE TABLE ev (id INTEGER, at TIMESTAMPTZ)")
    conn.execute("INSERT INTO ev VALUES (1, '2020-01-01 10:00+02')")
    opts = f"(FORMAT {fmt}, HEADER)" if fmt == "csv" else f"(FORMAT {fmt})"
    conn.execute(f"COPY ev TO 'out.{fmt}' {opts}")
    conn.execute("CREATE TABLE back (id INTEGER, at TIMESTAMPTZ)")
    conn.execute(f"COPY back FROM 'out.{fmt}' {opts}")
    assert conn.execute("SELECT at FROM back").fetchall() == [
        (dt.datetime(2020, 1, 1, 8, tzinfo=UTC),)]
    assert conn.execute(f"SELECT pg_typeof(at)::text FROM read_{fmt}('out.{fmt}')"
                        ).fetchone()[0] == "timestamp with time zone"


def test_timestamp_against_timestamptz_in_joins_and_indexes(conn) -> None:
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMPTZ, plain TIMESTAMP)")
    conn.execute("INSERT INTO t SELECT i, TIMESTAMPTZ '2020-01-01 00:00+00' + i * INTERVAL "
                 "'1 minute', TIMESTAMP '2020-01-01' + i * INTERVAL '1 minute' "
                 "FROM generate_series(1, 5000) i")
    conn.execute("CREATE INDEX t_at ON t (at)")
    join = "SELECT count(*), min(b.id - a.id), max(b.id - a.id) FROM t a JOIN t b " \
           "ON a.at = b.plain WHERE a.id < 100"
    assert conn.execute(join).fetchone() == (99, 0, 0)
    assert conn.execute("SELECT id FROM t WHERE at = TIMESTAMP '2020-01-01 00:10'"
                        ).fetchall() == [(10,)]
    conn.execute("SET TIME ZONE 'Asia/Tokyo'")       # the timestamp side is Tokyo time now
    assert conn.execute(join).fetchone() == (99, 540, 540)   # nine hours of minutes later
    assert conn.execute("SELECT id FROM t WHERE at = TIMESTAMP '2020-01-01 09:10'"
                        ).fetchall() == [(10,)]


def test_alter_column_type_moves_timestamp_to_timestamptz(conn) -> None:
    """A database from before timestamptz kept such columns as UTC timestamps: ALTER
    COLUMN ... TYPE timestamptz (no USING, as PostgreSQL) makes them instants again."""
    conn.execute("CREATE TABLE old (id INTEGER, at TIMESTAMP)")
    conn.execute("INSERT INTO old VALUES (1, '2020-01-01 08:00')")
    conn.execute("ALTER TABLE old ALTER COLUMN at TYPE TIMESTAMPTZ")
    assert conn.execute("SELECT at, pg_typeof(at)::text FROM old").fetchone() == (
        dt.datetime(2020, 1, 1, 8, tzinfo=UTC), "timestamp with time zone")
    conn.execute("ALTER TABLE old ALTER COLUMN at TYPE TIMESTAMP")
    assert conn.execute("SELECT at FROM old").fetchone()[0] == dt.datetime(2020, 1, 1, 8)
