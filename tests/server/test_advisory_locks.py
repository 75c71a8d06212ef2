"""Advisory locks through psycopg, against this server and PostgreSQL 15: a blocked
pg_advisory_lock waits without stopping other clients, shows in pg_locks as not granted,
and ends when the holder unlocks, disconnects or vanishes, on CancelRequest (57014), on
lock_timeout (55P03), and on a two-session deadlock (40P01 for one of them)
(advisory.py, exec/functions/advisory.py)."""
from __future__ import annotations

import socket
import threading
import time

import pytest

psycopg = pytest.importorskip("psycopg")

KEY = 72707369        # what Prisma migrate locks


def _connect(dsn: str):
    return psycopg.connect(dsn, autocommit=True)


def _in_thread(fn) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except psycopg.Error as exc:
            out["error"] = exc.sqlstate
    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _waiting(conn, pid: int, limit: float = 10.0) -> bool:
    """Whether ``pid`` shows up waiting for an advisory lock in pg_locks (polled)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND NOT granted AND pid = %s", (pid,)).fetchone()[0]:
            return True
        time.sleep(0.02)
    return False


def _scenario(dsn: str) -> list:
    a, b, c = _connect(dsn), _connect(dsn), _connect(dsn)
    seen: list = []
    try:
        b_pid = b.execute("SELECT pg_backend_pid()").fetchone()[0]
        a.execute("SELECT pg_advisory_lock(%s)", (KEY,))
        thread, out = _in_thread(lambda: b.execute("SELECT pg_try_advisory_lock(1), "
                                                   "pg_advisory_lock(%s)", (KEY,)).fetchone())
        seen.append(_waiting(c, b_pid))                    # waits, seen by others
        started = time.monotonic()
        seen.append(c.execute("SELECT 1").fetchone())     # who are served meanwhile
        seen.append(time.monotonic() - started < 2)
        seen.append(c.execute("SELECT mode, granted FROM pg_locks WHERE locktype = 'advisory' "
                              "AND objid = %s ORDER BY granted", (KEY,)).fetchall())
        seen.append(a.execute("SELECT pg_advisory_unlock(%s)", (KEY,)).fetchone())
        thread.join(10)
        seen.append(out)                                   # granted once unlocked
        # lock_timeout
        a.execute("SET lock_timeout = '100ms'")
        try:
            a.execute("SELECT pg_advisory_lock(%s)", (KEY,))
            seen.append("no error")
        except psycopg.Error as exc:
            seen.append(exc.sqlstate)
        b.execute("SELECT pg_advisory_unlock_all()")
        a.execute("RESET lock_timeout")
        # CancelRequest
        a.execute("SELECT pg_advisory_lock(%s)", (KEY,))
        thread, out = _in_thread(lambda: b.execute("SELECT pg_advisory_lock(%s)", (KEY,)))
        seen.append(_waiting(c, b_pid))
        b.cancel_safe()        # libpq 17: PQcancel keeps the GIL (test_protocol.py)
        thread.join(10)
        seen.append(out)
        # the holder vanishes (its socket shut, no Terminate): its locks go
        sock = socket.socket(fileno=a.fileno())
        sock.shutdown(socket.SHUT_RDWR)
        sock.detach()
        b.execute("SET lock_timeout = '10s'")
        seen.append(b.execute("SELECT pg_advisory_lock_shared(%s) IS NULL", (KEY,)).fetchone())
        b.execute("SELECT pg_advisory_unlock_all()")
        return seen
    finally:
        for conn in (a, b, c):
            try:
                conn.close()
            except psycopg.Error:
                pass


def _deadlock(dsn: str) -> list:
    a, b = _connect(dsn), _connect(dsn)
    try:
        a.execute("BEGIN")
        b.execute("BEGIN")
        a.execute("SELECT pg_advisory_xact_lock(1)")
        b.execute("SELECT pg_advisory_xact_lock(2)")
        thread, out = _in_thread(lambda: a.execute("SELECT pg_advisory_xact_lock(2)"))
        time.sleep(0.2)
        try:
            b.execute("SELECT pg_advisory_xact_lock(1)")
            mine = "ok"
        except psycopg.Error as exc:
            mine = exc.sqlstate
        if mine != "ok":
            b.execute("ROLLBACK")      # its locks go: the other one is granted
        thread.join(10)
        theirs = "error" in out and out["error"] or "ok"
        if theirs != "ok":
            a.execute("ROLLBACK")
        for conn in (a, b):
            conn.execute("ROLLBACK")
        return sorted([mine, theirs])
    finally:
        a.close()
        b.close()


def test_advisory_locks_as_postgresql(dsn, pg_dsn):
    ours, theirs = _scenario(dsn), _scenario(pg_dsn)
    assert ours == theirs
    assert ours[0] is True and ours[2] is True
    assert ours[3] == [("ExclusiveLock", False), ("ExclusiveLock", True)]
    assert ours[5] == {"value": (True, "")}      # void: an empty value, as PostgreSQL
    assert ours[6] == "55P03" and ours[8] == {"error": "57014"}


def test_two_session_deadlock_as_postgresql(dsn, pg_dsn):
    assert _deadlock(dsn) == _deadlock(pg_dsn) == ["40P01", "ok"]
