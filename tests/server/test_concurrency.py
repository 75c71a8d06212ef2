"""Many clients at once: every connection held open while all of them run mixed work."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")

CLIENTS = 40


@pytest.mark.timeout(300)
def test_many_connections_mixed_work(server, dsn, engine, run_together):
    engine.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner INTEGER, n INTEGER)")
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(CLIENTS)]
    assert len(server._sessions) == CLIENTS

    def work(i: int, conn) -> None:
        for j in range(10):
            conn.execute("INSERT INTO acct VALUES (%s, %s, 0)", (i * 100 + j, i))
        with conn.transaction():
            conn.execute("UPDATE acct SET n = n + 1 WHERE owner = %s", (i,))
        got = conn.execute("SELECT count(*), sum(n) FROM acct WHERE owner = %s",
                           (i,), prepare=True).fetchone()
        assert got == (10, 10), got

    failures = run_together(conns, work)
    for c in conns:
        c.close()
    assert not failures, failures[:3]
    assert engine.execute("SELECT count(*), sum(n) FROM acct").fetchone() == (CLIENTS * 10,
                                                                            CLIENTS * 10)


@pytest.mark.timeout(300)
def test_concurrent_transactions_insert_into_a_serial_table(server, dsn, engine,
                                                             run_together):
    """What an ORM does from several connections: BEGIN, INSERT ... RETURNING id into a
    table with a serial key, COMMIT. nextval() never gives a value twice (as
    PostgreSQL's), so no transaction fails with 40001 over a duplicate key."""
    engine.execute("CREATE TABLE item (id SERIAL PRIMARY KEY, owner INTEGER)")
    conns = [psycopg.connect(dsn) for _ in range(8)]

    def work(i: int, conn) -> None:
        for _ in range(25):
            conn.execute("INSERT INTO item (owner) VALUES (%s) RETURNING id", (i,))
            conn.commit()

    failures = run_together(conns, work)
    for c in conns:
        c.close()
    assert not failures, failures[:3]
    assert engine.execute("SELECT count(*), count(DISTINCT id) FROM item").fetchone() == \
        (200, 200)
