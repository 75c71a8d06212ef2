"""LISTEN / NOTIFY between embedded sessions (backends.py): ``Connection.notifies()``
returns what was delivered, once; delivery happens at COMMIT (at once in autocommit,
never after ROLLBACK or a failed statement), to the sender too, deduplicated within a
transaction; ``timeout`` waits for a NOTIFY from another thread's session. The wire
delivery is checked against PostgreSQL in tests/server/test_listen_notify.py."""
from __future__ import annotations

import threading

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


def _payloads(conn, timeout: float = 0.0) -> list:
    return [(n.channel, n.payload) for n in conn.notifies(timeout)]


def test_delivered_at_commit_deduplicated_to_every_listener(pair):
    a, b = pair
    a.execute("LISTEN jobs")
    b.execute("LISTEN jobs")
    b.execute("BEGIN")
    b.execute("NOTIFY jobs, 'x'")
    b.execute("NOTIFY jobs, 'x'")
    b.execute("SELECT pg_notify('jobs', 'y')")
    assert _payloads(a) == []
    b.execute("COMMIT")
    assert _payloads(a) == [("jobs", "x"), ("jobs", "y")]
    assert _payloads(b) == [("jobs", "x"), ("jobs", "y")]      # the sender listens too
    assert _payloads(a) == []                                  # each is returned once
    pid = b.execute("SELECT pg_backend_pid()").fetchone()[0]
    b.execute("NOTIFY jobs")
    assert [n.pid for n in a.notifies()] == [pid]


def test_not_delivered_after_rollback_or_failure(pair):
    a, b = pair
    a.execute("LISTEN jobs")
    b.execute("BEGIN")
    b.execute("NOTIFY jobs, 'gone'")
    b.execute("ROLLBACK")
    with pytest.raises(errors.Error):
        b.execute("SELECT pg_notify('jobs', 'failed'), 1 / 0")
    assert _payloads(a) == []


def test_unlisten_and_a_closed_session(pair):
    a, b = pair
    a.execute("LISTEN one")
    a.execute("LISTEN two")
    a.execute("UNLISTEN one")
    b.execute("NOTIFY one")
    b.execute("NOTIFY two")
    assert _payloads(a) == [("two", "")]
    a.execute("UNLISTEN *")
    b.execute("NOTIFY two")
    assert _payloads(a) == []
    c = a.database.connect()
    c.execute("LISTEN two")
    c.close()
    b.execute("NOTIFY two")          # nobody left listening: nothing kept anywhere
    assert all(not bk.channels for bk in a.database.backends.live.values())


def test_waiting_for_a_notification_from_another_thread(pair):
    a, b = pair
    a.execute("LISTEN later")
    timer = threading.Timer(0.1, lambda: b.execute("NOTIFY later, 'now'"))
    timer.start()
    assert _payloads(a, timeout=5) == [("later", "now")]
    timer.join()


@pytest.mark.parametrize("sql", ["SELECT pg_notify('c', repeat('x', 8000))",
                                 "SELECT pg_notify('', 'x')", "NOTIFY c 'no comma'"])
def test_bad_notifications_are_refused(pair, sql):
    a, _ = pair
    with pytest.raises(errors.Error) as info:
        a.execute(sql)
    assert info.value.sqlstate in ("22023", "42601")
