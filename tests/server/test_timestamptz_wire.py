"""timestamptz over the wire (OID 1184): aware datetimes in, aware datetimes out, in text
and binary, shown in the connection's TimeZone, which SET TIME ZONE changes and the
server reports (ParameterStatus), as PostgreSQL does."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

psycopg = pytest.importorskip("psycopg")

UTC = dt.timezone.utc
PARIS = dt.timezone(dt.timedelta(hours=1))


def test_psycopg_aware_datetime_round_trips_text_and_binary(dsn) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMPTZ)")
        written = dt.datetime(2020, 1, 1, 9, 0, tzinfo=PARIS)
        conn.execute("INSERT INTO ev VALUES (%s, %s)", (1, written))
        conn.execute("INSERT INTO ev VALUES (%b, %b)", (2, written + dt.timedelta(hours=1)))
        for binary in (False, True):
            rows = conn.cursor(binary=binary).execute("SELECT id, at FROM ev ORDER BY id"
                                                      ).fetchall()
            assert rows[0][1] == written and rows[0][1].tzinfo is not None
            assert rows[1][1] == written + dt.timedelta(hours=1)
        assert conn.execute("SELECT at::text FROM ev WHERE id = 1").fetchone()[0] == \
            "2020-01-01 08:00:00+00"
        # an aware value compares with the stored instants (no naive/aware mix)
        assert conn.execute("SELECT count(*) FROM ev WHERE at >= %s",
                            (dt.datetime(2020, 1, 1, 8, 30, tzinfo=UTC),)).fetchone()[0] == 1


def test_set_time_zone_is_reported_and_shapes_text(dsn) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.info.parameter_status("TimeZone") == "UTC"
        conn.execute("SET TIME ZONE 'Europe/Paris'")
        assert conn.info.parameter_status("TimeZone") == "Europe/Paris"
        assert conn.execute("SHOW timezone").fetchone()[0] == "Europe/Paris"
        text = conn.execute("SELECT TIMESTAMPTZ '2020-06-01 08:00:00+00'::text").fetchone()[0]
        assert text == "2020-06-01 10:00:00+02"
        # psycopg reads timestamptz text in the zone it was told: the same instant
        value = conn.execute("SELECT TIMESTAMPTZ '2020-06-01 08:00:00+00'").fetchone()[0]
        assert value == dt.datetime(2020, 6, 1, 8, 0, tzinfo=UTC)
        # text without an offset is read in the session's zone
        value = conn.execute("SELECT '2020-01-01 00:00:00'::timestamptz").fetchone()[0]
        assert value == dt.datetime(2019, 12, 31, 23, 0, tzinfo=UTC)
        conn.execute("SET timezone = 'UTC'")
        assert conn.info.parameter_status("TimeZone") == "UTC"


def test_unknown_time_zone_is_22023_and_changes_nothing(dsn) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SET TIME ZONE 'Mars/Olympus'")
        assert conn.execute("SHOW timezone").fetchone()[0] == "UTC"


def test_now_is_timestamptz_on_the_wire(dsn) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute("SELECT now(), localtimestamp")
        assert [d.type_code for d in cur.description] == [1184, 1114]
        now, local = cur.fetchone()
        assert now.tzinfo is not None and local.tzinfo is None


def test_asyncpg_aware_datetimes(login) -> None:
    asyncpg = pytest.importorskip("asyncpg")

    async def run() -> None:
        conn = await asyncpg.connect(**login)
        try:
            await conn.execute("CREATE TABLE aev (id INTEGER PRIMARY KEY, at TIMESTAMPTZ)")
            written = dt.datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=PARIS)
            await conn.execute("INSERT INTO aev VALUES ($1, $2)", 1, written)
            got = await conn.fetchval("SELECT at FROM aev WHERE id = 1")
            assert got == written and got.tzinfo is not None
            assert await conn.fetchval("SELECT $1::timestamptz", written) == written
            assert await conn.fetchval("SELECT count(*) FROM aev WHERE at < $1",
                                       written + dt.timedelta(seconds=1)) == 1
        finally:
            await conn.close()

    asyncio.run(run())


def test_copy_in_and_out_in_the_connections_zone(dsn) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE cev (id INTEGER, at TIMESTAMPTZ)")
        conn.execute("SET TIME ZONE 'Europe/Paris'")
        with conn.cursor().copy("COPY cev FROM STDIN") as cp:
            cp.write_row((1, dt.datetime(2020, 1, 1, 10, tzinfo=UTC)))
            cp.write_row((2, "2020-01-01 10:00"))          # no offset: Paris time
        out = []
        with conn.cursor().copy("COPY cev TO STDOUT") as cp:
            out.extend(bytes(data) for data in cp)
        assert out == [b"1\t2020-01-01 11:00:00+01\n", b"2\t2020-01-01 10:00:00+01\n"]
        with conn.cursor().copy("COPY cev TO STDOUT (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "timestamptz"])
            assert [r[1] for r in cp.rows()] == [dt.datetime(2020, 1, 1, 10, tzinfo=UTC),
                                                 dt.datetime(2020, 1, 1, 9, tzinfo=UTC)]
