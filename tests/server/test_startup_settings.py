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


REPORTED = ("application_name", "client_encoding", "DateStyle", "IntervalStyle",
            "standard_conforming_strings", "session_authorization", "is_superuser",
            "default_transaction_read_only", "in_hot_standby", "integer_datetimes",
            "server_encoding", "TimeZone")
STEPS = ["SET application_name = 'a1'", "SET datestyle = 'ISO, DMY'",
         "SET SESSION AUTHORIZATION sts_bob", "RESET SESSION AUTHORIZATION", "BEGIN",
         "SET application_name = 'a2'", "ROLLBACK", "SET default_transaction_read_only = on",
         "RESET ALL", "SET application_name = 'a3'", "SET TIME ZONE 'Europe/Paris'"]


def test_parameter_status_follows_changes_as_on_postgresql(pg_dsn, engine, server):
    """ParameterStatus at login and after every statement that changes a reported
    parameter (SET, RESET, SET SESSION AUTHORIZATION, a ROLLBACK undoing a SET), as
    psycopg's ``info.parameter_status`` sees it on both servers."""
    pg = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS sts_bob")
        admin.execute("CREATE ROLE sts_bob LOGIN")
    engine.execute("CREATE ROLE sts_bob LOGIN")
    try:
        seen = []
        for where in ({"host": pg["host"], "port": pg.get("port", 5432),
                       "user": pg.get("user", "postgres"), "dbname": pg.get("dbname", "postgres")},
                      {"host": "127.0.0.1", "port": server.port, "user": "admin",
                       "password": "s3cret", "dbname": "main"}):
            with psycopg.connect(autocommit=True, application_name="a0", **where) as conn:
                snap = lambda: {k: conn.info.parameter_status(k) for k in REPORTED}  # noqa: E731
                steps = [snap()]
                for sql in STEPS:
                    conn.execute(sql)
                    steps.append(snap())
                seen.append(steps)
        # the login user differs (postgres / admin): compare it as "who logged in"
        for steps, user in zip(seen, (pg.get("user", "postgres"), "admin")):
            for status in steps:
                if status["session_authorization"] == user:
                    status["session_authorization"] = "<login>"
        assert seen[0] == seen[1]
        assert seen[1][3]["session_authorization"] == "sts_bob"
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("DROP ROLE IF EXISTS sts_bob")
