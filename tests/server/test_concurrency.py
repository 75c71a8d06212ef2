"""Many clients at once: every connection held open while all of them run mixed work."""
from __future__ import annotations

import threading

import pytest

psycopg = pytest.importorskip("psycopg")

CLIENTS = 40


@pytest.mark.timeout(300)
def test_many_connections_mixed_work(server, dsn, engine):
    engine.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner INTEGER, n INTEGER)")
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(CLIENTS)]
    assert len(server._sessions) == CLIENTS
    barrier = threading.Barrier(CLIENTS)
    failures: list[BaseException] = []

    def work(i: int, conn) -> None:
        try:
            barrier.wait()
            for j in range(10):
                conn.execute("INSERT INTO acct VALUES (%s, %s, 0)", (i * 100 + j, i))
            with conn.transaction():
                conn.execute("UPDATE acct SET n = n + 1 WHERE owner = %s", (i,))
            got = conn.execute("SELECT count(*), sum(n) FROM acct WHERE owner = %s",
                               (i,), prepare=True).fetchone()
            assert got == (10, 10), got
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in conns:
        c.close()
    assert not failures, failures[:3]
    assert engine.execute("SELECT count(*), sum(n) FROM acct").fetchone() == (CLIENTS * 10,
                                                                            CLIENTS * 10)
