"""What a client's startup packet sets, differentially against PostgreSQL 15: the
``options`` switches of a connection string (``options=-c search_path=app``), asyncpg's
``server_settings``, which wins over which, and the logins they refuse (FATAL 42704 /
22023 / 42601), with the same client talking to both servers."""
from __future__ import annotations

import asyncio

import pytest

from rustmemodb.server.session import parse_options

psycopg = pytest.importorskip("psycopg")
asyncpg = pytest.importorskip("asyncpg")

SHOWN = ("statement_timeout", "work_mem", "application_name", "lock_timeout")
CASES = [
    {"options": "-c statement_timeout=5s -c lock_timeout=2s"},
    {"options": r"--work_mem=8MB -c application_name=hello\ world"},
    {"options": "-cwork-mem=16MB"},
    {"application_name": "app1", "options": "-c application_name=app2"},
    {"options": "-c my.tenant=acme"},
    {"options": "-c nosuch=1"},
    {"options": "-c work_mem=1XB"},
    {"options": "-c server_version=1"},
    {"options": "-X"},
]


def _outcome(connect) -> object:
    try:
        with connect() as conn:
            return tuple(conn.execute(f"SHOW {n}").fetchone()[0] for n in SHOWN)
    except psycopg.OperationalError as exc:
        text = str(exc)
        for code, marker in (("42704", "unrecognized configuration parameter"),
                             ("22023", "invalid value for parameter"),
                             ("55P02", "cannot be changed"),
                             ("42601", "invalid command-line argument")):
            if marker in text:
                return code
        return text


@pytest.fixture
def both(pg_dsn, server):
    pg = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    return {
        "postgres": lambda **kw: psycopg.connect(host=pg["host"], port=pg.get("port", 5432),
                                                 user=pg.get("user", "postgres"),
                                                 dbname=pg.get("dbname", "postgres"), **kw),
        "rustmemodb": lambda **kw: psycopg.connect(host="127.0.0.1", port=server.port,
                                                   user="admin", password="s3cret",
                                                   dbname="main", **kw),
    }


@pytest.mark.parametrize("params", CASES, ids=[str(c) for c in CASES])
def test_startup_parameters_as_on_postgresql(both, params):
    pg = _outcome(lambda: both["postgres"](**params))
    mine = _outcome(lambda: both["rustmemodb"](**params))
    assert mine == pg


def test_asyncpg_server_settings_as_on_postgresql(pg_dsn, server):
    pg = psycopg.conninfo.conninfo_to_dict(pg_dsn)

    async def run(settings, **where):
        try:
            conn = await asyncpg.connect(server_settings=settings, **where)
        except asyncpg.PostgresError as exc:
            return exc.sqlstate
        try:
            return tuple([await conn.fetchval(f"SHOW {n}") for n in SHOWN])
        finally:
            await conn.close()

    ours = {"host": "127.0.0.1", "port": server.port, "user": "admin", "password": "s3cret",
            "database": "main"}
    theirs = {"host": pg["host"], "port": int(pg.get("port", 5432)),
              "user": pg.get("user", "postgres"), "database": pg.get("dbname", "postgres")}
    for settings in ({"work_mem": "16MB", "statement_timeout": "7s"}, {"jit": "off"},
                     {"nosuch": "1"}, {"work_mem": "1XB"}):
        assert asyncio.run(run(settings, **ours)) == asyncio.run(run(settings, **theirs)), \
            settings


def test_role_settings_come_first_and_the_client_wins(engine, server):
    engine.execute("ALTER ROLE admin SET work_mem = '64MB'")
    engine.execute("ALTER ROLE admin SET lock_timeout = '3s'")
    with psycopg.connect(host="127.0.0.1", port=server.port, user="admin", password="s3cret",
                         dbname="main", options="-c work_mem=2MB") as conn:
        assert conn.execute("SHOW work_mem").fetchone()[0] == "2MB"
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "3s"
        conn.execute("SET work_mem = '9MB'")
        conn.execute("SET lock_timeout = '1s'")
        conn.execute("RESET work_mem")       # back to the session's start: the client's
        assert conn.execute("SHOW work_mem").fetchone()[0] == "2MB"
        conn.execute("RESET ALL")
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "3s"   # the role's


def test_parse_options_reads_postgresqls_switches():
    assert parse_options(r"-c a=1  --b-c=x\ y -cd=") == [("a", "1"), ("b_c", "x y"), ("d", "")]
    assert parse_options("") == []
    for bad in ("-X", "-c", "-c a", "plain"):
        with pytest.raises(Exception) as info:
            parse_options(bad)
        assert getattr(info.value, "sqlstate", None) == "42601"
