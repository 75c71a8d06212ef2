"""What a transaction covers, against PostgreSQL 15: SET (and SET ROLE) is undone by
ROLLBACK and SET LOCAL ends with the transaction; in the extended protocol the
statements executed between two Syncs outside BEGIN are one implicit transaction."""
from __future__ import annotations

import asyncio

import pytest

psycopg = pytest.importorskip("psycopg")

ROLE = "txn_scope_role"


@pytest.fixture
def pair(dsn, pg_dsn):
    conns = [psycopg.connect(dsn, autocommit=True), psycopg.connect(pg_dsn, autocommit=True)]
    for c in conns:
        c.execute("DROP TABLE IF EXISTS scope_t")
        c.execute(f"DROP ROLE IF EXISTS {ROLE}")
        c.execute(f"CREATE ROLE {ROLE}")
    yield conns
    for c in conns:
        c.execute("RESET ROLE")
        c.execute("DROP TABLE IF EXISTS scope_t")
        c.execute(f"DROP ROLE IF EXISTS {ROLE}")
        c.close()


def _both(pair, script: list[str], probe: str) -> list:
    out = []
    for conn in pair:
        for sql in script:
            conn.execute(sql)
        out.append(conn.execute(probe).fetchone())
    return out


def test_rollback_undoes_set_role(pair):
    got = _both(pair, ["BEGIN", f"SET ROLE {ROLE}", "ROLLBACK"],
                "SELECT current_user = session_user, current_setting('role')")
    assert got[0] == got[1] == (True, "none")


def test_commit_keeps_set_role(pair):
    got = _both(pair, ["BEGIN", f"SET ROLE {ROLE}", "COMMIT"],
                "SELECT current_user, current_setting('role')")
    assert got[0] == got[1] == (ROLE, ROLE)


def test_rollback_of_failed_transaction_undoes_set(pair):
    out = []
    for conn in pair:
        conn.execute("SET application_name = 'before'")
        conn.execute("BEGIN")
        conn.execute("SET application_name = 'inside'")
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
        conn.execute("ROLLBACK")
        out.append(conn.execute("SHOW application_name").fetchone())
    assert out[0] == out[1] == ("before",)


def test_set_local_ends_with_the_transaction(pair):
    got = _both(pair, ["SET statement_timeout = '7s'", "BEGIN",
                       "SET LOCAL statement_timeout = '3s'", "COMMIT"],
                "SHOW statement_timeout")
    assert got[0] == got[1] == ("7s",)
    got = _both(pair, ["BEGIN", "SET LOCAL statement_timeout = '3s'",
                       "SET statement_timeout = '5s'", "COMMIT"], "SHOW statement_timeout")
    assert got[0] == got[1] == ("5s",)
    got = _both(pair, ["RESET statement_timeout"], "SHOW statement_timeout")
    assert got[0] == got[1] == ("0",)


def test_set_outside_a_transaction_stays(pair):
    got = _both(pair, ["SET application_name = 'kept'", "ROLLBACK"], "SHOW application_name")
    assert got[0] == got[1] == ("kept",)


# ---- extended protocol: Executes up to Sync are one implicit transaction ------------------
def _as_url(dsn: str) -> str:
    import pg_server
    return pg_server.as_url(dsn)


def test_executemany_is_all_or_nothing(pair, login, pg_dsn):
    """asyncpg's executemany sends Bind/Execute per row and one Sync: on PostgreSQL a
    failing row undoes the rows before it (one implicit transaction)."""
    asyncpg = pytest.importorskip("asyncpg")
    for conn in pair:
        conn.execute("CREATE TABLE scope_t (id BIGINT PRIMARY KEY, v TEXT)")

    async def run(**kw):
        conn = await asyncpg.connect(**kw)
        try:
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.executemany("INSERT INTO scope_t VALUES ($1, $2)",
                                       [(1, "a"), (2, "b"), (1, "again"), (3, "c")])
            failed = await conn.fetchval("SELECT count(*) FROM scope_t")
            await conn.executemany("INSERT INTO scope_t VALUES ($1, $2)",
                                   [(1, "a"), (2, "b"), (3, "c")])
            return failed, await conn.fetchval("SELECT count(*) FROM scope_t"), \
                await conn.fetchval("SELECT 1")    # the connection is usable afterwards
        finally:
            await conn.close()

    ours = asyncio.run(run(**login))
    theirs = asyncio.run(run(dsn=_as_url(pg_dsn)))
    assert ours == theirs == (0, 3, 1)


def test_pipeline_between_syncs_is_one_transaction(pair):
    """psycopg's pipeline mode: statements sent before one Sync stand or fall together,
    and a Sync commits them (others then see them)."""
    out = []
    for conn in pair:
        conn.execute("CREATE TABLE scope_t (id BIGINT PRIMARY KEY, v TEXT)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            with conn.pipeline() as p:
                conn.execute("INSERT INTO scope_t VALUES (%s, %s)", (1, "a"))
                conn.execute("INSERT INTO scope_t VALUES (%s, %s)", (1, "b"))
                p.sync()
        first = conn.execute("SELECT count(*) FROM scope_t").fetchone()
        with conn.pipeline() as p:
            conn.execute("INSERT INTO scope_t VALUES (%s, %s)", (1, "a"))
            conn.execute("INSERT INTO scope_t VALUES (%s, %s)", (2, "b"))
            p.sync()
        out.append((first, conn.execute("SELECT count(*) FROM scope_t").fetchone(),
                    conn.pgconn.transaction_status))
    assert out[0] == out[1]
    assert out[0][:2] == ((0,), (2,))


def test_rollback_to_savepoint_undoes_the_sets_after_it(pair):
    got = _both(pair, ["SET application_name = 'start'", "BEGIN",
                       "SET application_name = 'kept'", "SAVEPOINT s1",
                       f"SET ROLE {ROLE}", "SET application_name = 'undone'",
                       "SET statement_timeout = '9s'", "SAVEPOINT s2",
                       "SET application_name = 'inner'", "ROLLBACK TO SAVEPOINT s1",
                       "COMMIT"],
                "SELECT current_setting('application_name'), current_setting('role'), "
                "current_setting('statement_timeout')")
    assert got[0] == got[1] == ("kept", "none", "0")
    got = _both(pair, ["BEGIN", "SAVEPOINT a", "SET application_name = 'released'",
                       "RELEASE SAVEPOINT a", "COMMIT"], "SHOW application_name")
    assert got[0] == got[1] == ("released",)
