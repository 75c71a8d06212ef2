"""Monitoring as pgAdmin, DBeaver and Metabase do it, through psycopg, against this server
and PostgreSQL 15: pg_stat_activity shows the other session's state and query,
pg_cancel_backend cancels its statement (57014), pg_terminate_backend disconnects it,
pg_stat_user_tables counts live rows, and the admin functions answer as PostgreSQL's
(backends.py, exec/functions/admin.py)."""
from __future__ import annotations

import ipaddress
import threading
import time

import pytest

psycopg = pytest.importorskip("psycopg")

ACTIVITY = ("SELECT state, query, application_name, backend_type, usename = current_user, "
            "datname = current_database(), backend_start <= now(), xact_start IS NOT NULL, "
            "wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s")


IDLE_IN_TRANSACTION = ("idle in transaction", "SELECT 42", "rmdb-monitor", "client backend",
                       True, True, True, True, "Client", "ClientRead")


def _poll(conn, sql: str, args: tuple, want, limit: float = 10.0):
    end = time.monotonic() + limit
    while True:
        got = conn.execute(sql, args).fetchone()
        if got == want or time.monotonic() > end:
            return got
        time.sleep(0.02)


def _scenario(dsn: str) -> list:
    a = psycopg.connect(dsn, autocommit=True)
    b = psycopg.connect(dsn, autocommit=True, application_name="rmdb-monitor")
    seen: list = []
    try:
        pid = b.execute("SELECT pg_backend_pid()").fetchone()[0]
        b.execute("BEGIN")
        b.execute("SELECT 42")
        # idle in transaction; polled: PostgreSQL's backend shows ClientRead only once it
        # waits for the next message, a moment after its reply (NULL when caught before)
        seen.append(_poll(a, ACTIVITY, (pid,), IDLE_IN_TRANSACTION))
        b.execute("ROLLBACK")
        seen.append(a.execute(ACTIVITY, (pid,)).fetchone()[:4])   # idle
        seen.append(a.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = "
                              "pg_backend_pid() AND state = 'active'").fetchone())
        # a running statement, seen and cancelled from the other session
        out: dict = {}

        def sleep() -> None:
            try:
                b.execute("SELECT pg_sleep(30)")
            except psycopg.Error as exc:
                out["error"] = exc.sqlstate
        thread = threading.Thread(target=sleep)
        thread.start()
        seen.append(_poll(a, "SELECT state, query FROM pg_stat_activity WHERE pid = %s",
                          (pid,), ("active", "SELECT pg_sleep(30)")))
        seen.append(a.execute("SELECT pg_cancel_backend(%s)", (pid,)).fetchone())
        thread.join(10)
        seen.append(out)
        seen.append(a.execute("SELECT pg_cancel_backend(0)").fetchone())     # no such pid
        # row counts
        a.execute("CREATE TABLE mon_t (id INTEGER PRIMARY KEY, v TEXT)")
        a.execute("INSERT INTO mon_t SELECT g, 'x' FROM generate_series(1, 3) AS g")
        a.execute("SELECT pg_stat_force_next_flush()")
        seen.append(_poll(b, "SELECT relname, schemaname, n_live_tup FROM pg_stat_user_tables "
                             "WHERE relname = %s", ("mon_t",), ("mon_t", "public", 3)))
        seen.append(a.execute("SELECT count(*) FROM pg_stat_all_tables WHERE relname = "
                              "'mon_t'").fetchone())
        seen.append(a.execute("SELECT numbackends >= 2 FROM pg_stat_database WHERE datname = "
                              "current_database()").fetchone())
        seen.append(a.execute("SELECT pg_is_in_recovery(), pg_postmaster_start_time() <= now(), "
                              "pg_conf_load_time() <= now(), pg_database_size(current_database()) "
                              "> 0, pg_table_size('mon_t') > 0, pg_total_relation_size('mon_t') "
                              ">= pg_table_size('mon_t')").fetchone())
        # terminated: the client is disconnected and leaves pg_stat_activity
        seen.append(a.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone())
        try:
            b.execute("SELECT 1")
            seen.append("still connected")
        except psycopg.OperationalError:
            seen.append("disconnected")
        seen.append(_poll(a, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,),
                          (0,)))
        a.execute("DROP TABLE mon_t")
        return seen
    finally:
        a.close()
        b.close()


def test_monitoring_as_postgresql(dsn, pg_dsn):
    ours, theirs = _scenario(dsn), _scenario(pg_dsn)
    assert ours == theirs
    assert ours[0] == IDLE_IN_TRANSACTION
    assert ours[5] == {"error": "57014"}
    assert ours[-3] == (True,) and ours[-2] == "disconnected"


def test_client_and_server_addresses(server, dsn):
    """inet_client_addr() and friends report the TCP connection (NULL embedded)."""
    with psycopg.connect(dsn) as conn:
        got = conn.execute("SELECT inet_client_addr(), inet_client_port(), inet_server_addr(), "
                           "inet_server_port(), client_addr, client_port FROM pg_stat_activity "
                           "WHERE pid = pg_backend_pid()").fetchone()
    local = ipaddress.ip_address("127.0.0.1")       # inet values, as PostgreSQL's
    assert got[0] == local and got[2] == local and got[3] == server.port
    assert got[1] > 0 and got[4:] == (got[0], got[1])


def test_signalling_another_role_needs_privilege(server, engine, dsn):
    """A role that is not a superuser may cancel its own role's sessions only (42501)."""
    engine.execute("CREATE ROLE mon_user LOGIN PASSWORD 'pw'")
    other = dsn.replace("user=admin password=s3cret", "user=mon_user password=pw")
    with psycopg.connect(dsn) as admin, psycopg.connect(other, autocommit=True) as user:
        admin_pid = admin.execute("SELECT pg_backend_pid()").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            user.execute("SELECT pg_terminate_backend(%s)", (admin_pid,))
        hidden = user.execute("SELECT query FROM pg_stat_activity WHERE pid = %s",
                              (admin_pid,)).fetchone()
        assert hidden == ("<insufficient privilege>",)
