"""Composite types over the wire, compared with PostgreSQL 15: the RowDescription OIDs
(the type's own, ``record`` 2249 for ROW(...)), the text form, and psycopg 3's composite
loader registered from ``CompositeInfo.fetch`` (which reads pg_type and pg_attribute) in
text and binary formats; asyncpg (binary, its own introspection) reads them as Records."""
from __future__ import annotations

import asyncio

import pytest

psycopg = pytest.importorskip("psycopg")
from psycopg.types.composite import CompositeInfo, register_composite  # noqa: E402

SETUP = ["CREATE TYPE cw_pair AS (a int8, b text, c float8)",
         "CREATE TABLE cw (id int8 PRIMARY KEY, p cw_pair)",
         "INSERT INTO cw VALUES (1, ROW(1, 'a b', 1.5)), (2, '(,\"\",)'), (3, NULL), "
         "(4, '(-7,\"x,\"\"y\"\"\",-0.25)')"]
TEARDOWN = ["DROP TABLE cw", "DROP TYPE cw_pair"]
QUERIES = ["SELECT id, p FROM cw ORDER BY p, id",
           "SELECT (p).a, (p).b FROM cw ORDER BY id",
           "SELECT id, p::text FROM cw ORDER BY id",
           "SELECT id FROM cw WHERE p IS NULL ORDER BY id"]


def _described(conn, sql: str) -> list:
    cur = conn.execute(sql)
    cur.fetchall()
    return [d.type_code for d in cur.description]


def _run(dsn: str, binary: bool) -> list:
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for s in SETUP:
            conn.execute(s)
        try:
            pair_oid = conn.execute("SELECT oid FROM pg_type WHERE typname = 'cw_pair'"
                                    ).fetchone()[0]
            out.append(_described(conn, "SELECT p FROM cw") == [pair_oid])
            out.append(_described(conn, "SELECT ROW(1, 'x'::text)"))
            out.append(_described(conn, "SELECT ARRAY[ROW(1, 'x'::text)]"))     # _record
            out.append(conn.execute("SELECT ROW(1, 'a b'::text), "
                                    "ARRAY[ROW(2, 'c,d'::text), NULL]").fetchall())
            out.append([conn.execute(q).fetchall() for q in QUERIES])     # text, unregistered
            info = CompositeInfo.fetch(conn, "cw_pair")
            out.append((info.name, info.field_names, info.array_oid != 0))
            register_composite(info, conn)
            cur = conn.cursor(binary=binary)
            rows = cur.execute("SELECT id, p FROM cw ORDER BY id").fetchall()
            out.append([(i, None if p is None else (p.a, p.b, p.c)) for i, p in rows])
            cur.execute("SELECT id FROM cw WHERE p = %s::cw_pair",
                        (info.python_type(1, "a b", 1.5),))
            out.append(cur.fetchall())
        finally:
            for s in TEARDOWN:
                conn.execute(s)
    return out


@pytest.mark.parametrize("binary", [False, True])
def test_composites_answer_as_postgresql(dsn, pg_dsn, binary):
    ours = _run(dsn, binary)
    theirs = _run(pg_dsn, binary)
    assert ours == theirs
    assert ours[1] == [2249]
    assert ours[6][3] == (4, (-7, 'x,"y"', -0.25))


def _asyncpg_rows(target) -> list:
    asyncpg = pytest.importorskip("asyncpg")

    async def main():
        conn = await (asyncpg.connect(**target) if isinstance(target, dict)
                      else asyncpg.connect(target))
        try:
            for s in SETUP:
                await conn.execute(s)
            try:
                rows = await conn.fetch("SELECT id, p FROM cw ORDER BY id")
                return [(r["id"], None if r["p"] is None else tuple(r["p"])) for r in rows]
            finally:
                for s in TEARDOWN:
                    await conn.execute(s)
        finally:
            await conn.close()
    return asyncio.run(main())


def test_asyncpg_reads_composites(login, pg_url):
    ours = _asyncpg_rows(login)
    assert ours == _asyncpg_rows(pg_url)
    assert ours[0] == (1, (1, "a b", 1.5))


def _psql(args: list, conninfo: str, password: str | None = None) -> str:
    import os
    import shutil
    import subprocess
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql not installed")
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    if password:
        env["PGPASSWORD"] = password
    out = subprocess.run([psql, "-X", "-d", conninfo, "-v", "ON_ERROR_STOP=1", *args],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_psql_describes_composite_types_as_postgresql(login, pg_dsn):
    """psql's \\dT lists the type and \\d shows its fields (pg_type typtype 'c', pg_class
    relkind 'c', pg_attribute), as on PostgreSQL."""
    ours = (f"host=127.0.0.1 port={login['port']} user={login['user']} "
            f"dbname={login['database']}")
    script = ["-c", "CREATE TYPE cw_t AS (a int8, b text, c float8, d date)",
              "-c", "CREATE TABLE cw_u (id int8, t cw_t)",
              "-c", r"\dT cw_t", "-c", r"\d cw_t", "-c", r"\d cw_u",
              "-c", "DROP TABLE cw_u", "-c", "DROP TYPE cw_t"]
    mine = _psql(script, ours, login["password"])
    assert mine == _psql(script, pg_dsn)
    assert 'Composite type "public.cw_t"' in mine
