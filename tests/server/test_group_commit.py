"""Durable commits over the wire (sync durability): point writes run on the server's
loop, their fsync is awaited off it (server/durable.py), one fsync covers the commits
that arrived meanwhile, and nothing is visible or acknowledged before it is durable."""
from __future__ import annotations

import threading
import time

import psycopg
import pytest

import rustmemodb
from rustmemodb.durability import wal as wal_module

USER, PASSWORD = "admin", "s3cret"


@pytest.fixture
def durable(tmp_path):
    conn = rustmemodb.connect(str(tmp_path / "db"), "sync")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    conn.execute("INSERT INTO t SELECT i, 0 FROM generate_series(1, 100) i")
    yield tmp_path / "db", conn


def _dsn(srv) -> str:
    return f"host=127.0.0.1 port={srv.port} user={USER} password={PASSWORD} dbname=main"


def test_fsync_in_flight_blocks_neither_reads_nor_the_loop(durable, monkeypatch):
    path, conn = durable
    gate = threading.Event()
    entered = threading.Event()
    real = wal_module.Log._fsync

    def slow_fsync(fd):
        entered.set()
        assert gate.wait(30)
        real(fd)

    with rustmemodb.serve(conn, users={USER: PASSWORD}) as srv:
        writers = [psycopg.connect(_dsn(srv), autocommit=True) for _ in range(3)]
        reader = psycopg.connect(_dsn(srv), autocommit=True)
        for w in writers:       # plans cached: the UPDATE is a point statement run on the loop
            w.execute("UPDATE t SET v = v + 0 WHERE id = %s", (1,))
        reader.execute("SELECT v FROM t WHERE id = %s", (1,)).fetchone()
        monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(slow_fsync))
        done = []

        def update(conn_, key):
            conn_.execute("UPDATE t SET v = v + 1 WHERE id = %s", (key,))
            done.append(key)

        threads = [threading.Thread(target=update, args=(w, i + 1))
                   for i, w in enumerate(writers)]
        for th in threads:
            th.start()
        assert entered.wait(10)
        time.sleep(0.2)             # the other updates arrive while the fsync is held
        # The loop still answers: a point read and a new connection, without the
        # updates waiting for durability (not acknowledged, not visible).
        rows = reader.execute("SELECT id, v FROM t WHERE id IN (1, 2, 3) ORDER BY id").fetchall()
        assert rows == [(1, 0), (2, 0), (3, 0)]
        assert reader.execute("SELECT v FROM t WHERE id = %s", (2,)).fetchone() == (0,)
        with psycopg.connect(_dsn(srv), autocommit=True) as late:
            assert late.execute("SELECT count(*) FROM t").fetchone() == (100,)
        assert done == []
        rounds_before = srv.durability.rounds
        gate.set()
        for th in threads:
            th.join(10)
        assert sorted(done) == [1, 2, 3]
        rows = reader.execute("SELECT id, v FROM t WHERE id IN (1, 2, 3) ORDER BY id").fetchall()
        assert rows == [(1, 1), (2, 1), (3, 1)]
        # Three commits, at most two fsync rounds: the held one and one for the rest.
        assert srv.durability.rounds - rounds_before <= 2
        for c in writers + [reader]:
            c.close()
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT id, v FROM t WHERE v > 0 ORDER BY id").fetchall() == \
            [(1, 1), (2, 1), (3, 1)]
    finally:
        again.close()


def test_concurrent_point_writes_are_all_durable(durable):
    path, conn = durable
    with rustmemodb.serve(conn, users={USER: PASSWORD}) as srv:
        def work(worker: int) -> None:
            with psycopg.connect(_dsn(srv), autocommit=True) as c:
                for i in range(50):
                    key = worker * 25 + i % 25 + 1
                    c.execute("UPDATE t SET v = v + 1 WHERE id = %s", (key,))
                    c.execute("INSERT INTO t VALUES (%s, %s)", (1000 + worker * 100 + i, worker))
                    assert c.execute("SELECT v FROM t WHERE id = %s",
                                     (1000 + worker * 100 + i,)).fetchone() == (worker,)
                c.execute("DELETE FROM t WHERE id = %s", (1000 + worker * 100,))

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        # Each statement text's first run binds it on a worker thread; the rest ran here.
        assert srv.durability.commits >= 4 * 101 - 3 * 4
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT sum(v) FROM t WHERE id <= 100").fetchone() == (200,)
        assert again.execute("SELECT count(*) FROM t WHERE id > 100").fetchone() == (196,)
    finally:
        again.close()


def test_failed_fsync_is_the_statements_error(durable, monkeypatch):
    path, conn = durable

    def broken(fd):
        raise OSError(5, "Input/output error")

    with rustmemodb.serve(conn, users={USER: PASSWORD}) as srv:
        with psycopg.connect(_dsn(srv), autocommit=True) as c:
            c.execute("UPDATE t SET v = 5 WHERE id = %s", (7,))
            monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(broken))
            with pytest.raises(psycopg.errors.Error) as info:
                c.execute("UPDATE t SET v = 6 WHERE id = %s", (7,))
            assert info.value.sqlstate == "58030"
            monkeypatch.undo()
            # Never acknowledged, never published.
            assert c.execute("SELECT v FROM t WHERE id = %s", (7,)).fetchone() == (5,)
