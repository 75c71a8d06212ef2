"""Durable commits over the wire (sync durability): point writes run on the server's
loop, their fsync is awaited off it (server/durable.py), one fsync covers the commits
that arrived meanwhile, and nothing is visible or acknowledged before it is durable."""
from __future__ import annotations

import logging
import socket
import struct
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


def _gated_fsync():
    """(gate, entered, fsync): an fsync that says it started and waits for the gate."""
    gate = threading.Event()
    entered = threading.Event()
    real = wal_module.Log._fsync

    def slow_fsync(fd):
        entered.set()
        assert gate.wait(30)
        real(fd)
    return gate, entered, slow_fsync


# ---- raw protocol: extended-query groups sent by hand (pipelining the driver hides) ----

def _msg(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(payload) + 4) + payload


def _group(stmt: bytes, *params: bytes) -> bytes:
    """Bind (text parameters) + Execute + Sync of the prepared statement ``stmt``."""
    body = b"\x00" + stmt + b"\x00" + struct.pack("!hh", 0, len(params))
    for p in params:
        body += struct.pack("!i", len(p)) + p
    return (_msg(b"B", body + struct.pack("!h", 0)) + _msg(b"E", b"\x00\x00\x00\x00\x00")
            + _msg(b"S"))


def _replies(sock, n_ready: int, timeout: float = 10) -> list:
    """(kind, payload) of each message up to the ``n_ready``-th ReadyForQuery."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while sum(1 for k, _ in out if k == b"Z") < n_ready:
        while len(buf) < 5 or len(buf) < 1 + struct.unpack("!i", buf[1:5])[0]:
            buf += sock.recv(65536)
        n = struct.unpack("!i", buf[1:5])[0]
        out.append((buf[:1], buf[5:1 + n]))
        buf = buf[1 + n:]
    return out


def _raw_session(srv) -> socket.socket:
    """A socket past startup (trust, user t) on ``srv``, ready for queries."""
    sock = socket.create_connection(("127.0.0.1", srv.port))
    body = struct.pack("!i", 196608) + b"user\x00t\x00database\x00main\x00\x00"
    sock.sendall(struct.pack("!i", len(body) + 4) + body)
    _replies(sock, 1)
    return sock


def test_fsync_in_flight_blocks_neither_reads_nor_the_loop(durable, monkeypatch):
    path, conn = durable
    gate, entered, slow_fsync = _gated_fsync()

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


def test_a_write_after_a_pending_commit_builds_on_it_and_waits_for_it(durable, monkeypatch):
    """A point write arriving while an earlier commit waits for its fsync starts from
    that commit (no rebase, no 40001) and is not answered before it is durable, even
    when it changes nothing (UPDATE 0 decided on the pending state)."""
    path, conn = durable
    gate, entered, slow_fsync = _gated_fsync()

    with rustmemodb.serve(conn, users={USER: PASSWORD}) as srv:
        clients = [psycopg.connect(_dsn(srv), autocommit=True) for _ in range(3)]
        for c in clients:          # plans cached: these run on the loop
            c.execute("UPDATE t SET v = v + 0 WHERE id = %s", (1,))
            c.execute("DELETE FROM t WHERE id = %s", (1000,))
        monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(slow_fsync))
        done: dict[str, object] = {}

        def run(name, c, sql, key):
            done[name] = c.execute(sql, (key,)).rowcount

        first = threading.Thread(target=run, args=("first", clients[0],
                                                   "UPDATE t SET v = v + 1 WHERE id = %s", 5))
        first.start()
        assert entered.wait(10)
        second = threading.Thread(target=run, args=("second", clients[1],
                                                    "UPDATE t SET v = v + 0 WHERE id = %s", 5))
        nothing = threading.Thread(target=run, args=("nothing", clients[2],
                                                     "DELETE FROM t WHERE id = %s", 1000))
        second.start()
        nothing.start()
        time.sleep(0.3)
        assert done == {}          # neither answered while the first is not durable
        gate.set()
        for th in (first, second, nothing):
            th.join(10)
        assert done == {"first": 1, "second": 1, "nothing": 0}
        for c in clients:
            c.execute("UPDATE t SET v = v + 10 WHERE id = %s", (5,))
        assert clients[0].execute("SELECT v FROM t WHERE id = 5").fetchone() == (31,)
        for c in clients:
            c.close()
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT v FROM t WHERE id = 5").fetchone() == (31,)
    finally:
        again.close()


def test_acknowledged_commits_survive_sigkill_of_the_server(tmp_path):
    """Four clients write concurrently to a server process with sync durability; it
    is killed (SIGKILL) mid-stream; every acknowledged insert and update is there after
    reopening (one in flight may be there too, never an unacknowledged gap before it)."""
    import os
    import subprocess
    import sys
    path = tmp_path / "db"
    proc = subprocess.Popen([sys.executable, "-m", "rustmemodb.server", "--db", str(path),
                             "--port", "0", "--trust", "--durability", "sync"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    try:
        line = proc.stdout.readline()
        assert "listening on" in line, proc.stderr.read()
        dsn = f"host=127.0.0.1 port={int(line.rsplit(':', 1)[1])} user=w dbname=main"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
            c.execute("INSERT INTO t SELECT i, 0 FROM generate_series(1, 4) i")
        acked = {w: [] for w in range(4)}       # inserted ids, in order
        counters = {w: 0 for w in range(4)}     # last acknowledged counter value
        stop = threading.Event()

        def work(w: int) -> None:
            try:
                with psycopg.connect(dsn, autocommit=True) as c:
                    n = 0
                    while not stop.is_set():
                        n += 1
                        c.execute("INSERT INTO t VALUES (%s, %s)", (1000 * (w + 1) + n, w))
                        acked[w].append(1000 * (w + 1) + n)
                        c.execute("UPDATE t SET v = %s WHERE id = %s", (n, w + 1))
                        counters[w] = n
            except psycopg.Error:
                pass                     # the server went away mid-statement

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 20
        while min(counters.values()) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()
        proc.wait(10)
        stop.set()
        for th in threads:
            th.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert min(counters.values()) >= 30
    again = rustmemodb.connect(str(path), "sync")
    try:
        ids = {r[0] for r in again.execute("SELECT id FROM t WHERE id > 4").fetchall()}
        values = dict(again.execute("SELECT id, v FROM t WHERE id <= 4").fetchall())
    finally:
        again.close()
    for w in range(4):
        assert set(acked[w]) <= ids
        # At most the one statement in flight when the server died is beyond what was
        # acknowledged.
        assert counters[w] <= values[w + 1] <= counters[w] + 1
        mine = sorted(i for i in ids if 1000 * (w + 1) < i < 1000 * (w + 2))
        assert mine == list(range(1000 * (w + 1) + 1, 1000 * (w + 1) + 1 + len(mine)))
        assert len(mine) - len(acked[w]) <= 1


def test_point_write_answered_as_it_arrives_waits_for_its_fsync(durable, monkeypatch):
    """A prepared point UPDATE's Bind/Execute/Sync answered in the read callback
    (session._answer_now) is acknowledged only once its fsync returned: with the fsync
    held, no reply comes, and a SELECT sent meanwhile is held behind it (replies keep
    the messages' order); a failed fsync is the UPDATE's 58030 and nothing changes."""

    from rustmemodb.server.session import ClientSession
    path, conn = durable
    answered = []
    real = ClientSession._answer_now

    def counted(self, data):
        took = real(self, data)
        answered.append((data[:1], took))
        return took

    monkeypatch.setattr(ClientSession, "_answer_now", counted)

    with rustmemodb.serve(conn, auth="trust") as srv:
        sock = _raw_session(srv)
        sock.sendall(_msg(b"P", b"upd\x00UPDATE t SET v = $1 WHERE id = $2\x00\x00\x00")
                     + _msg(b"P", b"sel\x00SELECT v FROM t WHERE id = $1\x00\x00\x00")
                     + _msg(b"S"))
        _replies(sock, 1)
        for g in (_group(b"upd", b"1", b"5"), _group(b"sel", b"5")):   # plans cached
            sock.sendall(g)
            _replies(sock, 1)
        gate, entered, slow_fsync = _gated_fsync()
        monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(slow_fsync))
        answered.clear()
        sock.sendall(_group(b"upd", b"7", b"5"))
        assert entered.wait(10)
        sock.sendall(_group(b"sel", b"5"))
        sock.settimeout(0.3)
        with pytest.raises(socket.timeout):
            sock.recv(65536)                    # nothing acknowledged before the fsync
        assert answered == [(b"B", True)]       # the SELECT was held, not answered
        gate.set()
        got = _replies(sock, 2)
        assert b"".join(k for k, _ in got) == b"2CZ2DCZ"
        assert got[1][1] == b"UPDATE 1\x00" and got[4][1].endswith(b"7")
        def broken(fd):
            raise OSError(5, "Input/output error")
        monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(broken))
        sock.sendall(_group(b"upd", b"9", b"6"))
        got = _replies(sock, 1)
        assert b"".join(k for k, _ in got) == b"2EZ" and b"C58030" in got[1][1]
        assert answered[-1] == (b"B", True)
        sock.sendall(_group(b"sel", b"6"))       # never published
        got = _replies(sock, 1)
        assert b"".join(k for k, _ in got) == b"2DCZ" and got[1][1].endswith(b"0")
        sock.close()
    conn.close()
    monkeypatch.undo()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT v FROM t WHERE id = 5").fetchone() == (7,)
    finally:
        again.close()


def test_pipelined_reads_and_durable_writes_keep_their_order(durable):
    """Pipelined groups with sync durability: replies held for a batch go out before
    a write awaits its fsync (ClientSession._reply), every reply comes in order and a
    read after a write sees it."""

    path, conn = durable

    with rustmemodb.serve(conn, auth="trust") as srv:
        sock = _raw_session(srv)
        sock.sendall(_msg(b"P", b"upd\x00UPDATE t SET v = $1 WHERE id = $2\x00\x00\x00")
                     + _msg(b"P", b"sel\x00SELECT v FROM t WHERE id = $1\x00\x00\x00")
                     + _msg(b"S"))
        _replies(sock, 1)
        for g in (_group(b"upd", b"1", b"5"), _group(b"sel", b"5")):   # plans cached
            sock.sendall(g)
            _replies(sock, 1)
        batch = []
        for i in range(2, 8):
            batch += [_group(b"sel", b"5"), _group(b"upd", str(i).encode(), b"5")]
        sock.sendall(b"".join(batch + [_group(b"sel", b"5")]))
        got = _replies(sock, len(batch) + 1)
        values = [body for kind, body in got if kind == b"D"]
        assert [v[-1:] for v in values] == [b"1", b"2", b"3", b"4", b"5", b"6", b"7"]
        assert b"".join(k for k, _ in got) == b"2DCZ2CZ" * 6 + b"2DCZ"
        sock.close()
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT v FROM t WHERE id = 5").fetchone() == (7,)
    finally:
        again.close()


def test_client_gone_while_its_point_write_awaits_the_fsync(durable, monkeypatch, caplog):
    """A client that sends a point UPDATE (answered in the read callback) and more
    input, then disconnects while the fsync is held: the commit still completes, the
    held input runs or is dropped without errors, and the server goes on serving."""
    path, conn = durable

    caplog.set_level(logging.ERROR, logger="asyncio")
    with rustmemodb.serve(conn, auth="trust") as srv:
        sock = _raw_session(srv)
        sock.sendall(_msg(b"P", b"upd\x00UPDATE t SET v = $1 WHERE id = $2\x00\x00\x00")
                     + _msg(b"S"))
        _replies(sock, 1)
        sock.sendall(_group(b"upd", b"1", b"9"))      # the plan cached
        _replies(sock, 1)
        gate, entered, slow_fsync = _gated_fsync()
        monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(slow_fsync))
        sock.sendall(_group(b"upd", b"3", b"9"))
        assert entered.wait(10)
        sock.sendall(_group(b"upd", b"4", b"9"))      # held behind the first
        time.sleep(0.1)
        sock.close()
        time.sleep(0.2)
        gate.set()
        with psycopg.connect(_dsn(srv).replace(f"user={USER} password={PASSWORD}",
                                               "user=t"), autocommit=True) as c:
            # Visible once durable and published; the held UPDATE was sent before the
            # close, so it may run too (after a FIN, as PostgreSQL would) or not (the
            # reply to the first met a reset).
            deadline = time.monotonic() + 10
            while c.execute("SELECT v FROM t WHERE id = 9").fetchone() not in ((3,), (4,)):
                assert time.monotonic() < deadline
                time.sleep(0.01)
    assert not [r for r in caplog.records if r.name == "asyncio"]
    conn.close()
