"""Fixtures for the wire server tests: a database served on a free loopback port."""
from __future__ import annotations

import threading

import pytest

import rustmemodb

USER, PASSWORD = "admin", "s3cret"


@pytest.fixture
def engine():
    conn = rustmemodb.connect()
    yield conn
    conn.close()


@pytest.fixture
def server(engine):
    with rustmemodb.serve(engine, users={USER: PASSWORD}) as srv:
        yield srv


@pytest.fixture
def dsn(server):
    return f"host=127.0.0.1 port={server.port} user={USER} password={PASSWORD} dbname=main"


@pytest.fixture
def login(server):
    """Keyword arguments for drivers that take them (asyncpg)."""
    return {"host": "127.0.0.1", "port": server.port, "user": USER, "password": PASSWORD,
            "database": "main"}


@pytest.fixture
def run_together():
    """The ``run_together(conns, work)`` helper below, for the many-client tests."""
    return _run_together


def _run_together(conns: list, work) -> list[BaseException]:
    """``work(i, conn)`` on a thread per connection, all starting at once (a barrier);
    returns what the threads raised (assertion failures included), for the caller to
    assert empty."""
    barrier = threading.Barrier(len(conns))
    failures: list[BaseException] = []

    def run(i: int, conn) -> None:
        try:
            barrier.wait()
            work(i, conn)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures
