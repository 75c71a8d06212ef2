"""int / smallint columns over the wire: described as int4 / int2 (OID 23 / 21, typlen 4 /
2) and sent in 4 / 2 bytes in binary, as PostgreSQL does, though stored as int64; an
expression over them stays int8 (server/session.py ``_declared_widths``).

Checked with psycopg 3 (text and binary, simple and extended protocol, COPY binary both
ways) and asyncpg (which reads the column types off the catalogs and encodes COPY rows
by them); pgjdbc's getColumnType is in jdbc/JdbcCheck.java (test_clients.py).
"""
from __future__ import annotations

import asyncio

import pytest

psycopg = pytest.importorskip("psycopg")

INT2, INT4, INT8 = 21, 23, 20


@pytest.fixture
def widths(engine):
    engine.execute("CREATE TABLE w (id serial PRIMARY KEY, a int, s smallint, b bigint)")
    engine.execute("INSERT INTO w (a, s, b) VALUES (2147483647, -32768, 3000000000), "
                   "(-5, NULL, 7)")
    engine.commit()
    return engine


def _described(cur) -> list:
    return [(d.name, d.type_code, d.internal_size) for d in cur.description]


WANT = [("id", INT4, 4), ("a", INT4, 4), ("s", INT2, 2), ("b", INT8, 8), ("x", INT8, 8)]
ROWS = [(1, 2147483647, -32768, 3000000000, 2147483648), (2, -5, None, 7, -4)]
QUERY = "SELECT id, a, s, b, a + 1 AS x FROM w ORDER BY id"


@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_sees_the_declared_widths(widths, dsn, binary):
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        cur.execute(QUERY)                   # no parameters: the simple protocol in text
        assert _described(cur) == WANT and cur.fetchall() == ROWS
        cur.execute(QUERY + " LIMIT %s", (5,))          # extended protocol
        assert _described(cur) == WANT and cur.fetchall() == ROWS
        for _ in range(3):                               # prepared, point reads
            cur.execute("SELECT a, s FROM w WHERE id = %s", (1,), prepare=True)
            assert _described(cur) == [("a", INT4, 4), ("s", INT2, 2)]
            assert cur.fetchall() == [(2147483647, -32768)]
        cur.execute("SELECT a FROM w WHERE id = 1")     # a point read, simple protocol
        assert _described(cur) == [("a", INT4, 4)] and cur.fetchall() == [(2147483647,)]
        for _ in range(3):                               # RETURNING the written row
            cur.execute("UPDATE w SET a = a - %s WHERE id = 2 RETURNING id, a, b, a * 2 AS x",
                        (1,), prepare=True)
            assert [d[:2] for d in _described(cur)] == [("id", INT4), ("a", INT4), ("b", INT8),
                                                        ("x", INT8)]
        assert cur.fetchall() == [(2, -8, 7, -16)]
        cur.execute("INSERT INTO w (a) VALUES (%s) RETURNING id, a", (1,))
        assert _described(cur) == [("id", INT4, 4), ("a", INT4, 4)]
        cur.execute("DELETE FROM w WHERE id = %s RETURNING a", (cur.fetchone()[0],))
        assert _described(cur) == [("a", INT4, 4)] and cur.fetchall() == [(1,)]
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            cur.execute("INSERT INTO w (a) VALUES (%s)", (2 ** 31,))


def test_psycopg_binary_copy_both_ways(widths, dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.cursor()
        with cur.copy("COPY w (a, s, b) FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(["int4", "int2", "int8"])      # 4, 2 and 8 bytes, as PostgreSQL reads
            copy.write_row((-2147483648, 32767, 2 ** 40))
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            with cur.copy("COPY w (a) FROM STDIN (FORMAT csv)") as copy:
                copy.write_row((2 ** 31,))
        with pytest.raises(psycopg.errors.InvalidBinaryRepresentation):   # 22P03
            with cur.copy("COPY w (a) FROM STDIN (FORMAT binary)") as copy:
                copy.set_types(["int8"])                  # 8 bytes for an int4 column
                copy.write_row((1,))
        with cur.copy("COPY w (a, s, b) TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["int4", "int2", "int8"])
            assert list(copy.rows()) == [(2147483647, -32768, 3000000000), (-5, None, 7),
                                         (-2147483648, 32767, 2 ** 40)]
        with cur.copy("COPY (SELECT a, a + 1 FROM w WHERE id = 1) TO STDOUT (FORMAT binary)"
                      ) as copy:
            copy.set_types(["int4", "int8"])
            assert list(copy.rows()) == [(2147483647, 2147483648)]
        assert cur.execute("SELECT count(*) FROM w").fetchall() == [(3,)]


def test_asyncpg_reads_and_copies_by_the_declared_widths(widths, login):
    asyncpg = pytest.importorskip("asyncpg")

    async def run():
        conn = await asyncpg.connect(**login)
        try:
            stmt = await conn.prepare(QUERY)
            assert [(a.name, a.type.name) for a in stmt.get_attributes()] == [
                ("id", "int4"), ("a", "int4"), ("s", "int2"), ("b", "int8"), ("x", "int8")]
            assert [tuple(r) for r in await stmt.fetch()] == ROWS
            # asyncpg encodes the rows by the column types it read off the catalogs
            await conn.copy_records_to_table("w", records=[(9, 9, 9)], columns=["a", "s", "b"])
            with pytest.raises(asyncpg.NumericValueOutOfRangeError):
                await conn.execute("UPDATE w SET a = $1 WHERE id = 2", 2 ** 31)
            return await conn.fetch("SELECT a, s, b FROM w WHERE a = 9")
        finally:
            await conn.close()

    assert [tuple(r) for r in asyncio.run(run())] == [(9, 9, 9)]


def test_a_column_retyped_under_a_prepared_statement(widths, login):
    # PostgreSQL refuses to run a prepared statement whose result type changed; here the
    # binary int4 a value no longer fits in says so (0A000), and the session goes on
    asyncpg = pytest.importorskip("asyncpg")

    async def run():
        conn = await asyncpg.connect(**login)
        try:
            stmt = await conn.prepare("SELECT a FROM w WHERE id = $1")
            assert [tuple(r) for r in await stmt.fetch(2)] == [(-5,)]
            await conn.execute("ALTER TABLE w ALTER COLUMN a TYPE bigint")
            await conn.execute("UPDATE w SET a = 3000000000 WHERE id = 2")
            with pytest.raises(asyncpg.FeatureNotSupportedError,
                               match="cached plan must not change result type"):
                await stmt.fetch(2)
            return await conn.fetchval("SELECT a FROM w WHERE id = 2")
        finally:
            await conn.close()

    assert asyncio.run(run()) == 3000000000
