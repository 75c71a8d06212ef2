"""LISTEN / NOTIFY through psycopg (``conn.notifies()``) and asyncpg (``add_listener``),
against this server and PostgreSQL 15: notifications go out at COMMIT of the notifying
transaction (at once in autocommit, never after ROLLBACK), to every listener including
the sender, deduplicated within a transaction, in order, promptly to a listener idle
between queries, and not into a listener's open transaction (backends.py)."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

psycopg = pytest.importorskip("psycopg")


def _take(conn, n: int, timeout: float = 3.0) -> list:
    return [(note.channel, note.payload, note.pid)
            for note in conn.notifies(timeout=timeout, stop_after=n)]


def _scenario(dsn: str) -> list:
    a = psycopg.connect(dsn, autocommit=True)
    b = psycopg.connect(dsn, autocommit=True)
    seen: list = []
    try:
        b_pid = b.execute("SELECT pg_backend_pid()").fetchone()[0]
        a_pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
        a.execute("LISTEN jobs")
        a.execute('LISTEN "Mixed"')
        b.execute("NOTIFY jobs, 'autocommit'")
        b.execute("BEGIN")
        b.execute("NOTIFY jobs, 'twice'")
        b.execute("NOTIFY jobs, 'twice'")
        b.execute("SELECT pg_notify('Mixed', 'by function')")
        b.execute("NOTIFY jobs")
        b.execute("COMMIT")
        b.execute("BEGIN")
        b.execute("NOTIFY jobs, 'rolled back'")
        b.execute("ROLLBACK")
        a.execute("NOTIFY jobs, 'to myself'")
        got = _take(a, 5)
        seen.append([(c, p, "b" if pid == b_pid else "a" if pid == a_pid else pid)
                     for c, p, pid in got])
        # a listener idle between queries hears a NOTIFY made later, promptly
        timer = threading.Timer(0.3, lambda: b.execute("NOTIFY jobs, 'later'"))
        timer.start()
        started = time.monotonic()
        seen.append([p for _, p, _ in _take(a, 1, 5)])
        seen.append(time.monotonic() - started < 3)
        timer.join()
        # inside a listener's transaction, nothing arrives until it ends
        a.execute("BEGIN")
        a.execute("SELECT 1")
        b.execute("NOTIFY jobs, 'after your commit'")
        time.sleep(0.2)
        a.execute("SELECT 2")
        early = [p for _, p, _ in _take(a, 1, 0.3)]
        a.execute("COMMIT")
        seen.append((early, [p for _, p, _ in _take(a, 1)]))
        a.execute("UNLISTEN *")
        b.execute("NOTIFY jobs, 'nobody'")
        a.execute("SELECT 1")
        seen.append(_take(a, 1, 0.3))
        try:
            b.execute("SELECT pg_notify('jobs', repeat('x', 8000))")
            seen.append("no error")
        except psycopg.Error as exc:
            seen.append(exc.sqlstate)
        return seen
    finally:
        a.close()
        b.close()


def test_listen_notify_as_postgresql(dsn, pg_dsn):
    ours, theirs = _scenario(dsn), _scenario(pg_dsn)
    assert ours == theirs
    assert ours[0] == [("jobs", "autocommit", "b"), ("jobs", "twice", "b"),
                       ("Mixed", "by function", "b"), ("jobs", "", "b"),
                       ("jobs", "to myself", "a")]
    assert ours[1] == ["later"] and ours[2] is True
    assert ours[3] == ([], ["after your commit"])
    assert ours[4] == [] and ours[5] == "22023"


def _asyncpg_listener(login: dict, dsn: str) -> list:
    asyncpg = pytest.importorskip("asyncpg")

    async def main() -> list:
        conn = await asyncpg.connect(**login)
        got: asyncio.Queue = asyncio.Queue()
        try:
            await conn.add_listener("jobs", lambda _c, _pid, ch, payload:
                                    got.put_nowait((ch, payload)))
            with psycopg.connect(dsn, autocommit=True) as other:
                other.execute("NOTIFY jobs, 'one'")
                other.execute("SELECT pg_notify('jobs', 'two')")
            return [await asyncio.wait_for(got.get(), 5) for _ in range(2)]
        finally:
            await conn.close()
    return asyncio.run(main())


def test_asyncpg_add_listener_as_postgresql(login, dsn, pg_dsn):
    from tests.pg_server import as_url  # noqa: PLC0415 - only this test needs it
    pg_login = {"dsn": as_url(pg_dsn)}
    ours = _asyncpg_listener(login, dsn)
    assert ours == _asyncpg_listener(pg_login, pg_dsn) == [("jobs", "one"), ("jobs", "two")]
