"""asyncpg against the wire server: binary results, Describe-before-Bind, cursors."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

asyncpg = pytest.importorskip("asyncpg")


def run(login, body):
    async def main():
        conn = await asyncpg.connect(**login)
        try:
            return await body(conn)
        finally:
            await conn.close()
    return asyncio.run(main())


def test_parameter_types_inferred_at_parse(login):
    async def body(conn):
        assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
        assert await conn.fetchval("SELECT $1 || 'x'", "a") == "ax"
        st = await conn.prepare("SELECT $1::float * 2")
        assert [t.name for t in st.get_parameters()] == ["float8"]
        assert [a.type.name for a in st.get_attributes()] == ["float8"]
        assert await st.fetchval(1.25) == 2.5
    run(login, body)


def test_every_type_binary(login):
    row = (1, "ada", 2.5, dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4, 5, 6),
           uuid.UUID("12345678-1234-5678-1234-567812345678"), '{"a": 1}', True)

    async def body(conn):
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, "
                           "born DATE, seen TIMESTAMP, key UUID, doc JSONB, ok BOOLEAN)")
        status = await conn.execute("INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", *row)
        assert status == "INSERT 0 1"
        got = await conn.fetchrow("SELECT * FROM t")
        assert tuple(got) == row
        assert await conn.fetchval("SELECT interval '1 month 2 days 3 seconds'") is not None
        assert await conn.fetchval("SELECT NULL::int") is None
    run(login, body)


def test_prepared_and_transaction(login):
    async def body(conn):
        await conn.execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT)")
        await conn.executemany("INSERT INTO k VALUES ($1, $2)", [(i, f"v{i}") for i in range(50)])
        st = await conn.prepare("SELECT v FROM k WHERE id = $1")
        assert [await st.fetchval(i) for i in (3, 4)] == ["v3", "v4"]
        try:
            async with conn.transaction():
                await conn.execute("DELETE FROM k")
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        assert await conn.fetchval("SELECT count(*) FROM k") == 50
        with pytest.raises(asyncpg.exceptions.UniqueViolationError):
            await conn.execute("INSERT INTO k VALUES (1, 'dup')")
        assert await conn.fetchval("SELECT count(*) FROM k") == 50
    run(login, body)


def test_cursor_row_limit_portal_suspended(login):
    async def body(conn):
        await conn.execute("CREATE TABLE c (id INTEGER)")
        await conn.executemany("INSERT INTO c VALUES ($1)", [(i,) for i in range(25)])
        async with conn.transaction():
            seen = [r["id"] async for r in conn.cursor("SELECT id FROM c ORDER BY id",
                                                       prefetch=4)]
            cur = await conn.cursor("SELECT id FROM c ORDER BY id")
            first = await cur.fetch(10)
            rest = await cur.fetch(100)
        assert seen == list(range(25))
        assert [r["id"] for r in first + rest] == list(range(25))
    run(login, body)


def test_describe_does_not_execute(login, engine):
    engine.execute("CREATE TABLE d (x INTEGER)")

    async def body(conn):
        st = await conn.prepare("INSERT INTO d VALUES ($1) RETURNING x")
        assert [a.name for a in st.get_attributes()] == ["x"]
        assert await conn.fetchval("SELECT count(*) FROM d") == 0
    run(login, body)
