"""numeric over the wire: OID 1700 (numeric[] 1231), parameters and results in text and
binary (PostgreSQL's numeric_send: base-10000 digits, weight, sign, display scale), which
psycopg and asyncpg read as ``decimal.Decimal`` with the value's scale kept, COPY, and the
catalog rows psql's \\d reads. Every expectation here is what PostgreSQL 15 gives (the
file passes unchanged against one: ``RUSTMEMODB_NUMERIC_WIRE_DSN``)."""
from __future__ import annotations

import os
from decimal import Decimal

import pytest

psycopg = pytest.importorskip("psycopg")

ROWS = [(1, Decimal("1.10")), (2, Decimal("-12345678.90")), (3, Decimal("0.00")),
        (4, Decimal("0.01")), (5, None)]
# values whose base-10000 digits take every branch of numeric_send: leading and trailing
# zero groups, a negative weight, no fraction, a long fraction, specials
VALUES = ["0", "0.000", "1", "10000", "100000000", "0.0001", "0.00001", "123456789.000000001",
          "-0.5", "99999999999999999999.99999", "1e-20", "12345678901234567890",
          "NaN", "Infinity", "-Infinity"]


@pytest.fixture
def conn(request):
    dsn = os.environ.get("RUSTMEMODB_NUMERIC_WIRE_DSN") or request.getfixturevalue("dsn")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS tnum")
        c.execute("CREATE TABLE tnum (id BIGINT PRIMARY KEY, p numeric(12, 2))")
        yield c
        c.execute("DROP TABLE tnum")


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_parameters_and_results_in_both_formats(conn, binary):
    p = "%b" if binary else "%t"
    conn.cursor().executemany(f"INSERT INTO tnum VALUES ({p}, {p})", ROWS)
    cur = conn.cursor(binary=binary)
    got = cur.execute("SELECT * FROM tnum ORDER BY id").fetchall()
    assert got == ROWS
    assert [str(v) for _, v in got[:4]] == ["1.10", "-12345678.90", "0.00", "0.01"]
    assert cur.execute(f"SELECT id FROM tnum WHERE p = {p}", (Decimal("1.1"),)).fetchall() \
        == [(1,)]
    assert [d.type_code for d in cur.execute("SELECT p, ARRAY[p] FROM tnum").description] \
        == [1700, 1231]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_every_digit_layout_round_trips(conn, binary):
    cur = conn.cursor(binary=binary)
    for text in VALUES:
        got = cur.execute(f"SELECT '{text}'::numeric, '{text}'::numeric::text").fetchone()
        assert format(got[0], "f") == got[1], text       # value and scale
        p = "%b" if binary else "%t"
        echoed = cur.execute(f"SELECT {p}::numeric::text", (Decimal(got[1]),)).fetchone()[0]
        assert echoed == got[1], text


def test_sum_and_avg_keep_postgres_scale(conn):
    conn.cursor().executemany("INSERT INTO tnum VALUES (%s, %s)",
                              [(1, Decimal("1.1")), (2, Decimal("2.2")), (3, Decimal("0.1"))])
    assert conn.execute("SELECT sum(p), avg(p) FROM tnum").fetchone() == \
        (Decimal("3.40"), Decimal("1.13333333333333333333"))


def test_copy_text_and_binary(conn):
    with conn.cursor().copy("COPY tnum FROM STDIN") as cp:
        cp.write(b"1\t1.1\n")
    with conn.cursor().copy("COPY tnum FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "numeric"])
        cp.write_row((2, Decimal("-2.5")))
    with conn.cursor().copy("COPY tnum TO STDOUT") as cp:
        text = b"".join(bytes(d) for d in cp)
    assert text == b"1\t1.10\n2\t-2.50\n"
    with conn.cursor(binary=True).copy("COPY tnum TO STDOUT (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "numeric"])
        assert list(cp.rows()) == [(1, Decimal("1.10")), (2, Decimal("-2.50"))]


def test_catalog_describes_the_column(conn):
    conn.execute("ALTER TABLE tnum ADD COLUMN q numeric")
    rows = conn.execute("SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname "
                        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                        "WHERE a.attrelid = 'tnum'::regclass AND a.attnum > 0 "
                        "ORDER BY a.attnum").fetchall()
    assert rows == [("id", "bigint", "int8"), ("p", "numeric(12,2)", "numeric"),
                    ("q", "numeric", "numeric")]


def test_asyncpg_binary_codec(conn, request):
    """asyncpg reads and writes numeric in the binary format (Decimal)."""
    asyncpg = pytest.importorskip("asyncpg")
    import asyncio
    dsn = os.environ.get("RUSTMEMODB_NUMERIC_WIRE_DSN")
    if dsn:            # key=value pairs (pg_server.py's): asyncpg takes them as keywords
        parts = dict(p.split("=", 1) for p in dsn.split())
        login = {"host": parts["host"], "port": int(parts.get("port", 5432)),
                 "user": parts["user"], "database": parts["dbname"]}
    else:
        login = request.getfixturevalue("login")

    async def run():
        a = await asyncpg.connect(**login)
        try:
            await a.executemany("INSERT INTO tnum VALUES ($1, $2)", ROWS)
            rows = await a.fetch("SELECT id, p FROM tnum ORDER BY id")
            found = await a.fetchval("SELECT id FROM tnum WHERE p = $1", Decimal("-12345678.9"))
            special = await a.fetchrow("SELECT 'NaN'::numeric, 1e-20::numeric, "
                                       "12345678901234567890::numeric, 10::numeric / 4")
            return [tuple(r) for r in rows], found, tuple(map(str, special))
        finally:
            await a.close()

    assert asyncio.run(run()) == (ROWS, 2, ("NaN", "1E-20", "12345678901234567890",
                                            "2.5000000000000000"))


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_unconstrained_column_loaded_in_bulk(conn, binary):
    """An unconstrained column filled by INSERT ... SELECT of computed values (stored as
    decimal128 chunks) and by rows of other scales: each value keeps its scale."""
    conn.execute("DROP TABLE IF EXISTS tfree")
    conn.execute("CREATE TABLE tfree (id BIGINT, x numeric)")
    try:
        conn.execute("INSERT INTO tfree SELECT i, i * 0.25 - 600 FROM generate_series(1, 5000) AS g(i)")
        conn.execute("INSERT INTO tfree VALUES (5001, 1.5), (5002, 7), (5003, NULL)")
        cur = conn.cursor(binary=binary)
        got = cur.execute("SELECT x FROM tfree WHERE id IN (1, 4, 2400, 5000, 5001, 5002, 5003) "
                          "ORDER BY id").fetchall()
        assert [None if v is None else str(v) for v, in got] == [
            "-599.75", "-599.00", "0.00", "650.00", "1.5", "7", None]
        assert [str(v) for v in cur.execute(
            "SELECT sum(x), max(x * 2 + 1), avg(x) FROM tfree WHERE id <= 5000").fetchone()] == \
            ["125625.00", "1301.00", "25.1250000000000000"]
    finally:
        conn.execute("DROP TABLE tfree")
