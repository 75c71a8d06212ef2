"""timetz over the wire: OID 1266 (timetz[] 1270), parameters and results in text and
binary (PostgreSQL's timetz_send: int8 local microseconds, int4 zone west of UTC), which
psycopg reads as aware ``datetime.time`` values, COPY, and the catalog rows psql's \\d
reads. Every expectation here is what PostgreSQL 15 gives (the file passes unchanged
against one: ``RUSTMEMODB_TIMETZ_WIRE_DSN``)."""
from __future__ import annotations

import datetime as dt
import os

import pytest

psycopg = pytest.importorskip("psycopg")


def tz(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


ROWS = [(1, dt.time(12, 34, 56, tzinfo=tz(2))),
        (2, dt.time(12, 34, 56, 500000, tzinfo=tz(-3.5))),
        (3, dt.time(23, 59, 59, 999999, tzinfo=tz(0))),
        (4, None)]


@pytest.fixture
def conn(request):
    dsn = os.environ.get("RUSTMEMODB_TIMETZ_WIRE_DSN") or request.getfixturevalue("dsn")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET TIME ZONE 'UTC'")
        c.execute("DROP TABLE IF EXISTS ttz")
        c.execute("CREATE TABLE ttz (id BIGINT PRIMARY KEY, t timetz)")
        yield c
        c.execute("DROP TABLE ttz")


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_parameters_and_results_in_both_formats(conn, binary):
    p = "%b" if binary else "%t"
    conn.cursor().executemany(f"INSERT INTO ttz VALUES ({p}, {p})", ROWS)
    cur = conn.cursor(binary=binary)
    assert cur.execute("SELECT * FROM ttz ORDER BY id").fetchall() == ROWS
    # ordered by the UTC instant, then by zone (timetz_cmp)
    assert cur.execute("SELECT id FROM ttz WHERE t IS NOT NULL ORDER BY t, id"
                       ).fetchall() == [(1,), (2,), (3,)]
    assert cur.execute(f"SELECT id FROM ttz WHERE t = {p}",
                       (dt.time(12, 34, 56, tzinfo=tz(2)),)).fetchall() == [(1,)]
    assert [d.type_code for d in cur.execute("SELECT t, ARRAY[t] FROM ttz").description] \
        == [1266, 1270]


def test_text_forms(conn):
    cur = conn.cursor()
    cur.execute("SELECT '12:34:56.5-03:30'::timetz::text, '12:00 PST'::timetz, "
                "'12:00+02'::timetz + interval '13 hours', '12:00+02'::timetz::time")
    assert cur.fetchone() == ("12:34:56.5-03:30", dt.time(12, 0, tzinfo=tz(-8)),
                              dt.time(1, 0, tzinfo=tz(2)), dt.time(12, 0))


def test_copy_text_and_binary(conn):
    with conn.cursor().copy("COPY ttz FROM STDIN") as cp:
        cp.write(b"1\t12:34:56+02\n")
    with conn.cursor().copy("COPY ttz FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "timetz"])
        cp.write_row(ROWS[1])
    with conn.cursor().copy("COPY ttz TO STDOUT") as cp:
        text = b"".join(bytes(d) for d in cp)
    assert text == b"1\t12:34:56+02\n2\t12:34:56.5-03:30\n"
    with conn.cursor(binary=True).copy("COPY ttz TO STDOUT (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "timetz"])
        assert list(cp.rows()) == ROWS[:2]


def test_catalog_describes_the_column(conn):
    conn.execute("ALTER TABLE ttz ADD COLUMN p time(3) with time zone")
    rows = conn.execute("SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname "
                        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                        "WHERE a.attrelid = 'ttz'::regclass AND a.attnum > 0 "
                        "ORDER BY a.attnum").fetchall()
    assert rows == [("id", "bigint", "int8"), ("t", "time with time zone", "timetz"),
                    ("p", "time(3) with time zone", "timetz")]
    assert conn.execute("SELECT data_type FROM information_schema.columns WHERE "
                        "table_name = 'ttz' ORDER BY ordinal_position").fetchall() == [
        ("bigint",), ("time with time zone",), ("time with time zone",)]


def test_asyncpg_binary_codec(conn, request):
    """asyncpg reads and writes timetz in the binary format (aware datetime.time)."""
    asyncpg = pytest.importorskip("asyncpg")
    import asyncio
    dsn = os.environ.get("RUSTMEMODB_TIMETZ_WIRE_DSN")
    if dsn:            # key=value pairs (pg_server.py's): asyncpg takes them as keywords
        parts = dict(p.split("=", 1) for p in dsn.split())
        login = {"host": parts["host"], "port": int(parts.get("port", 5432)),
                 "user": parts["user"], "database": parts["dbname"]}
    else:
        login = request.getfixturevalue("login")

    async def run():
        a = await asyncpg.connect(**login)
        try:
            await a.execute("SET TIME ZONE 'UTC'")
            await a.executemany("INSERT INTO ttz VALUES ($1, $2)", ROWS)
            rows = await a.fetch("SELECT id, t FROM ttz ORDER BY id")
            found = await a.fetchval("SELECT id FROM ttz WHERE t = $1",
                                     dt.time(12, 34, 56, 500000, tzinfo=tz(-3.5)))
            return [tuple(r) for r in rows], found
        finally:
            await a.close()

    assert asyncio.run(run()) == (ROWS, 2)
