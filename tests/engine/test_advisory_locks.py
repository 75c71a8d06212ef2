"""Advisory locks between embedded sessions: two ``connect()`` sessions of one database
on two threads (advisory.py). The SQL-visible semantics are checked against PostgreSQL
by tests/sql/foundation/advisory_locks.test; here, what only threads can show: a blocked
lock waits and is granted on unlock, and ends on interrupt (57014), statement_timeout
(57014), lock_timeout (55P03) and a deadlock (40P01); a session dropped or closed
releases what it held; a fork has locks of its own."""
from __future__ import annotations

import gc
import threading
import time

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def pair():
    a = rustmemodb.connect()
    b = a.database.connect()
    yield a, b
    b.close()
    a.close()


def _background(conn, sql: str) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["rows"] = conn.execute(sql).fetchall()
        except errors.Error as exc:
            out["error"] = exc.sqlstate
    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _one(conn, sql: str):
    return conn.execute(sql).fetchone()[0]


def _waits(conn, limit: float = 5.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if _one(conn, "SELECT count(*) FROM pg_locks WHERE NOT granted"):
            return True
        time.sleep(0.01)
    return False


def test_a_blocked_lock_is_granted_on_unlock(pair):
    a, b = pair
    a.execute("SELECT pg_advisory_lock(1)")
    thread, out = _background(b, "SELECT pg_advisory_lock(1)")
    assert _waits(a)
    assert thread.is_alive()
    assert _one(a, "SELECT pg_advisory_unlock(1)") is True
    thread.join(5)
    assert out == {"rows": [("",)]}
    assert _one(a, "SELECT pg_try_advisory_lock(1)") is False


@pytest.mark.parametrize("how, sqlstate", [("interrupt", "57014"),
                                           ("statement_timeout", "57014"),
                                           ("lock_timeout", "55P03")])
def test_a_wait_ends(pair, how, sqlstate):
    a, b = pair
    a.execute("SELECT pg_advisory_lock(2)")
    if how != "interrupt":
        b.execute(f"SET {how} = '100ms'")
    thread, out = _background(b, "SELECT pg_advisory_lock(2)")
    if how == "interrupt":
        assert _waits(a)
        b.interrupt()
    thread.join(5)
    assert out == {"error": sqlstate}
    assert _one(a, "SELECT count(*) FROM pg_locks") == 1      # nothing left waiting


def test_a_two_session_deadlock_fails_one(pair):
    a, b = pair
    a.execute("SELECT pg_advisory_lock(10)")
    b.execute("SELECT pg_advisory_lock(20)")
    thread, out = _background(a, "SELECT pg_advisory_lock(20)")
    assert _waits(b)
    with pytest.raises(errors.Error) as info:
        b.execute("SELECT pg_advisory_lock(10)")
    assert info.value.sqlstate == "40P01"
    b.execute("SELECT pg_advisory_unlock_all()")
    thread.join(5)
    assert out == {"rows": [("",)]}


def test_transaction_locks_end_with_the_transaction(pair):
    a, b = pair
    for end in (a.commit, a.rollback):
        a.execute("BEGIN")
        a.execute("SELECT pg_advisory_xact_lock(3)")
        assert _one(b, "SELECT pg_try_advisory_xact_lock(3)") is False
        end()
        assert _one(b, "SELECT pg_try_advisory_xact_lock(3)") is True


def test_a_closed_or_dropped_session_releases_its_locks(pair):
    a, _ = pair
    c = a.database.connect()
    c.execute("SELECT pg_advisory_lock(4)")
    c.close()
    assert _one(a, "SELECT pg_try_advisory_lock(4)") is True
    a.execute("SELECT pg_advisory_unlock_all()")
    d = a.database.connect()
    d.execute("SELECT pg_advisory_lock(4)")
    del d
    gc.collect()
    assert _one(a, "SELECT pg_try_advisory_lock(4)") is True


def test_a_fork_has_its_own_locks(pair):
    a, _ = pair
    a.execute("SELECT pg_advisory_lock(5)")
    other = a.database.fork().connect()
    assert _one(other, "SELECT pg_try_advisory_lock(5)") is True
    other.close()


def test_lock_calls_are_never_point_statements(pair):
    """The wire server runs point statements on its event loop: a lock call never is."""
    a, _ = pair
    for _ in range(3):
        a.execute("SELECT pg_try_advisory_lock(6)")
        a.execute("SELECT pg_sleep(0)")
    assert a._session.point_kind("SELECT pg_try_advisory_lock(6)") is None
    assert a._session.point_kind("SELECT pg_sleep(0)") is None
