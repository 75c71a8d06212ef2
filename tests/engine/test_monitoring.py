"""pg_stat_activity and the backend functions between embedded sessions (backends.py):
a row per live session with its state and last query, pg_cancel_backend stopping another
thread's statement (57014), pg_terminate_backend ending a session (57P01 afterwards), and
the oids backends.py shares with the catalog. The wire behaviour is checked against
PostgreSQL in tests/server/test_monitoring.py."""
from __future__ import annotations

import threading
import time

import rustmemodb
from rustmemodb import backends, errors
from rustmemodb.catalog import pg_catalog


def test_backends_use_the_catalogs_oids():
    assert (backends.DATABASE_OID, backends.ROLE_OID) == (pg_catalog.DATABASE_OID,
                                                          pg_catalog.ROLE_OID)


def test_activity_lists_every_live_session():
    a = rustmemodb.connect()
    b = a.database.connect()
    pid_b = b.execute("SELECT pg_backend_pid()").fetchone()[0]
    b.execute("BEGIN")
    b.execute("SELECT 7")
    rows = a.execute("SELECT pid, state, query FROM pg_stat_activity ORDER BY pid").fetchall()
    assert (pid_b, "idle in transaction", "SELECT 7") in rows
    assert len(rows) == 2
    assert a.execute("SELECT numbackends FROM pg_stat_database").fetchone() == (2,)
    b.close()
    assert a.execute("SELECT count(*) FROM pg_stat_activity").fetchone() == (1,)
    a.close()


def test_cancel_and_terminate_another_session():
    a = rustmemodb.connect()
    b = a.database.connect()
    pid_b = b.execute("SELECT pg_backend_pid()").fetchone()[0]
    out: dict = {}

    def sleep() -> None:
        try:
            b.execute("SELECT pg_sleep(30)")
        except errors.Error as exc:
            out["error"] = exc.sqlstate
    thread = threading.Thread(target=sleep)
    thread.start()
    end = time.monotonic() + 10
    while a.execute("SELECT state FROM pg_stat_activity WHERE pid = %d" % pid_b
                    ).fetchone() != ("active",) and time.monotonic() < end:
        time.sleep(0.01)
    assert a.execute(f"SELECT pg_cancel_backend({pid_b})").fetchone() == (True,)
    thread.join(10)
    assert out == {"error": "57014"}
    assert a.execute(f"SELECT pg_terminate_backend({pid_b})").fetchone() == (True,)
    try:
        b.execute("SELECT 1")
        raise AssertionError("a terminated session ran a statement")
    except errors.Error as exc:
        assert exc.sqlstate == "57P01"
    assert a.execute("SELECT pg_cancel_backend(1)").fetchone() == (False,)
    assert "not a PostgreSQL backend process" in str(a.notices[-1])
    a.close()
