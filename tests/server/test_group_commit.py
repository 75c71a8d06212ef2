"""Durable commits over the wire (sync durability): point writes run on the server's
loop, their fsync is awaited off it (server/durable.py), one fsync covers the commits
that arrived meanwhile, and nothing is visible or acknowledged before it is durable."""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import struct
import threading
import time

import psycopg
import pytest

import rustmemodb
from rustmemodb.txn import isolation
from rustmemodb.durability import wal as wal_module
from rustmemodb.durability.aio_fsync import AioFsync
from rustmemodb.durability.uring_sync import UringSync

_REAL_SUBMIT = AioFsync._submit
_REAL_URING_SUBMIT = UringSync._submit
_REAL_URING_BARRIER = UringSync.barrier


def _uring_works() -> bool:
    try:
        UringSync().close()
    except OSError:
        return False
    return True

USER, PASSWORD = "admin", "s3cret"


@pytest.fixture
def durable(tmp_path):
    conn = rustmemodb.connect(str(tmp_path / "db"), "sync")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    conn.execute("INSERT INTO t SELECT i, 0 FROM generate_series(1, 100) i")
    yield tmp_path / "db", conn


@pytest.fixture(params=["aio", "process", "replies", "uring", False],
                ids=["aio", "process", "replies", "uring", "thread"])
def helper(request):
    """How the server's loop waits for fsyncs (``fsync_helper``): Linux AIO on an
    eventfd, the fsync helper process (also writing the frames and sending the point
    writes' replies: ``replies``), io_uring (durable writes linked to those replies:
    ``uring``), or its durability thread (the fallback)."""
    if request.param == "aio":
        try:
            AioFsync().close()
        except OSError:
            pytest.skip("Linux AIO fdatasync is not available here")
    if request.param == "uring" and not _uring_works():
        pytest.skip("io_uring is not available here")
    return request.param


class _Gate:
    """Holds the server's fsyncs: the log's own fsync (a worker thread's commit, or the
    thread path) waits for a gate (monkeypatched); the helper process is stopped
    (SIGSTOP); an AIO fdatasync is not submitted until released."""

    def __init__(self, srv, helper, monkeypatch) -> None:
        self.srv, self.helper, self.monkeypatch = srv, helper, monkeypatch
        self.gate, self.started, self.slow = _gated_fsync()
        self.held: list = []

    def channel(self):
        channel = self.srv.durability._channels[id(self.srv.database)]
        assert channel is not None
        return channel

    def hold(self) -> None:
        # A statement run on a worker thread (its text's first run) waits for its own
        # fsync: that one is held on every path.
        self.monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(self.slow))
        if self.helper in ("process", "replies"):
            channel = self.channel()
            # A reply the helper sent is counted just after the send (the client may
            # run first): stopped in between, the session would wait for the count.
            deadline = time.monotonic() + 10
            while channel.waiting and time.monotonic() < deadline:
                time.sleep(0.005)
            self.requested = channel.helper.requested
            os.kill(channel.helper.process.pid, signal.SIGSTOP)
        elif self.helper == "aio":
            held = self.held

            def submit_later(syncer, fd, lsn):
                syncer._in_flight = lsn       # as if submitted: nothing else is
                held.append(syncer)
            self.monkeypatch.setattr(AioFsync, "_submit", submit_later)
        elif self.helper == "uring":
            held = self.held

            def submit_later(syncer, *args, **kwargs):
                held.append((syncer, args, kwargs, syncer._wfd, syncer._base))
            self.monkeypatch.setattr(UringSync, "_submit", submit_later)
            real_barrier, gate, started = UringSync.barrier, self.gate, self.started

            def gated_barrier(syncer):    # (a thread's commit: written synchronously)
                started.set()
                assert gate.wait(30)
                return real_barrier(syncer)
            self.monkeypatch.setattr(UringSync, "barrier", gated_barrier)

    def entered(self, timeout: float = 10) -> bool:
        """Whether an fsync was asked for while held (within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while not self.started.is_set():
            if (self.helper in ("process", "replies")
                    and self.channel().helper.requested > self.requested):
                return True
            if self.held:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def release(self) -> None:
        if self.helper in ("process", "replies"):
            os.kill(self.channel().helper.process.pid, signal.SIGCONT)
        elif self.helper == "aio":
            self.monkeypatch.setattr(AioFsync, "_submit", _REAL_SUBMIT)
            channel, held = self.channel(), list(self.held)

            def submit():                 # on the loop, as the log would
                with channel.log._cond:
                    for syncer in held:
                        syncer._submit(syncer._fd, syncer._wanted)
            self.srv._loop.call_soon_threadsafe(submit)
        elif self.helper == "uring":
            self.monkeypatch.setattr(UringSync, "_submit", _REAL_URING_SUBMIT)
            self.monkeypatch.setattr(UringSync, "barrier", _REAL_URING_BARRIER)
            held = list(self.held)

            def submit_uring():           # on the loop, in the order asked
                for syncer, args, kwargs, wfd, base in held:
                    with syncer._lock:
                        now = syncer._wfd, syncer._base
                        syncer._wfd, syncer._base = wfd, base
                        try:
                            syncer._submit(*args, **kwargs)
                        finally:
                            syncer._wfd, syncer._base = now
            self.srv._loop.call_soon_threadsafe(submit_uring)
        self.gate.set()

    def fail(self) -> None:
        """Make the next fsync fail: an EIO, or the helper process killed."""
        if self.helper in ("process", "replies"):
            process = self.channel().helper.process
            process.kill()
            process.wait(10)
            return

        def broken(*args):
            raise OSError(5, "Input/output error")
        self.monkeypatch.setattr(wal_module.Log, "_fsync", staticmethod(broken))
        if self.helper == "aio":
            self.monkeypatch.setattr(AioFsync, "_submit", broken)
        elif self.helper == "uring":
            # The kernel's durable write fails (a descriptor open read-only: EBADF), so
            # the send linked to it is cancelled: a real failed chain, not a mock.
            syncer = self.channel().helper

            def fail_writes():
                with syncer._lock:
                    fd = os.open(f"/proc/self/fd/{syncer._wfd}", os.O_RDONLY)
                    old, syncer._wfd = syncer._wfd, fd
                    syncer._fds[fd] = 0
                    if not syncer._fds.get(old):      # (else closed by its last chain)
                        syncer._fds.pop(old, None)
                        os.close(old)
            done = threading.Event()
            self.srv._loop.call_soon_threadsafe(lambda: (fail_writes(), done.set()))
            assert done.wait(10)


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


def test_fsync_in_flight_blocks_neither_reads_nor_the_loop(durable, monkeypatch, helper):
    path, conn = durable

    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=helper) as srv:
        gate = _Gate(srv, helper, monkeypatch)
        writers = [psycopg.connect(_dsn(srv), autocommit=True) for _ in range(3)]
        reader = psycopg.connect(_dsn(srv), autocommit=True)
        for w in writers:       # plans cached: the UPDATE is a point statement run on the loop
            w.execute("UPDATE t SET v = v + 0 WHERE id = %s", (1,))
        reader.execute("SELECT v FROM t WHERE id = %s", (1,)).fetchone()
        gate.hold()
        done = []

        def update(conn_, key):
            conn_.execute("UPDATE t SET v = v + 1 WHERE id = %s", (key,))
            done.append(key)

        threads = [threading.Thread(target=update, args=(w, i + 1))
                   for i, w in enumerate(writers)]
        for th in threads:
            th.start()
        assert gate.entered(10)
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
        gate.release()
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


def test_concurrent_point_writes_are_all_durable(durable, helper):
    path, conn = durable
    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=helper) as srv:
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


def test_failed_fsync_is_the_statements_error(durable, monkeypatch, helper):
    """A failed fsync (thread path) or a killed fsync helper process fails the commit
    with 58030, never acknowledged nor published; every later commit fails alike,
    reads and new connections are still answered."""
    path, conn = durable

    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=helper) as srv:
        with psycopg.connect(_dsn(srv), autocommit=True) as c:
            c.execute("UPDATE t SET v = 5 WHERE id = %s", (7,))
            _Gate(srv, helper, monkeypatch).fail()
            with pytest.raises(psycopg.errors.Error) as info:
                c.execute("UPDATE t SET v = 6 WHERE id = %s", (7,))
            assert info.value.sqlstate == "58030"
            assert "fsync" in str(info.value)
            monkeypatch.undo()
            # Never acknowledged, never published.
            assert c.execute("SELECT v FROM t WHERE id = %s", (7,)).fetchone() == (5,)
            with pytest.raises(psycopg.errors.Error) as info:
                c.execute("UPDATE t SET v = 8 WHERE id = %s", (7,))
            assert info.value.sqlstate == "58030"
        with psycopg.connect(_dsn(srv), autocommit=True) as c:
            assert c.execute("SELECT v FROM t WHERE id = %s", (7,)).fetchone() == (5,)
            assert c.execute("SELECT count(*) FROM t").fetchone() == (100,)


def test_failed_fsync_of_a_write_answered_as_it_arrived_logs_nothing(durable, monkeypatch,
                                                                       caplog, helper):
    """A prepared point UPDATE answered in the read callback whose fsync fails: the
    client hears 58030 and asyncio logs no "Future exception was never retrieved" for
    the commit's future (the error was delivered; before, it was logged whenever the
    future was collected, even during a later test)."""
    import gc
    path, conn = durable
    caplog.set_level(logging.ERROR, logger="asyncio")
    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=helper) as srv:
        with psycopg.connect(_dsn(srv), autocommit=True) as c:
            for v in (1, 2):
                c.execute("UPDATE t SET v = %s WHERE id = %s", (v, 7), prepare=True)
            _Gate(srv, helper, monkeypatch).fail()
            with pytest.raises(psycopg.errors.Error) as info:
                c.execute("UPDATE t SET v = %s WHERE id = %s", (3, 7), prepare=True)
            assert info.value.sqlstate == "58030"
            monkeypatch.undo()
    gc.collect()
    assert not [r for r in caplog.records if r.name == "asyncio"]
    conn.close()


def test_a_failed_uring_write_taken_by_the_probe_still_fails_its_commit(durable,
                                                                        monkeypatch):
    """io_uring: the ring's descriptor polls readable only while completions wait, so a
    failed write's completion taken from the ring by the probe (before a client's
    message, or on the channel's tick) is never signalled again: the probe itself must
    break the log. Here nothing watches the descriptor at all; the client still hears
    58030 (it waited forever when only the descriptor's reader raised the error)."""
    if not _uring_works():
        pytest.skip("io_uring is not available here")
    path, conn = durable
    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper="uring") as srv:
        with psycopg.connect(_dsn(srv), autocommit=True) as c:
            for v in (1, 2):
                c.execute("UPDATE t SET v = %s WHERE id = %s", (v, 7), prepare=True)
            gate = _Gate(srv, "uring", monkeypatch)
            syncer = gate.channel().helper
            unwatched = threading.Event()
            srv._loop.call_soon_threadsafe(
                lambda: (srv._loop.remove_reader(syncer.fileno()), unwatched.set()))
            assert unwatched.wait(10)
            gate.fail()
            got: list = []

            def update():
                try:
                    c.execute("UPDATE t SET v = %s WHERE id = %s", (3, 7), prepare=True)
                    got.append(None)
                except psycopg.Error as exc:
                    got.append(exc.sqlstate)
            th = threading.Thread(target=update, daemon=True)
            th.start()
            th.join(10)
            hung = th.is_alive()
            if hung:                 # (its socket shut, the client thread returns)
                sock = socket.socket(fileno=os.dup(c.pgconn.socket))
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
                th.join(10)
            assert not hung and got == ["58030"]
    conn.close()


def test_a_write_after_a_pending_commit_builds_on_it_and_waits_for_it(durable, monkeypatch,
                                                                      helper):
    """A point write arriving while an earlier commit waits for its fsync starts from
    that commit (no rebase, no 40001) and is not answered before it is durable, even
    when it changes nothing (UPDATE 0 decided on the pending state)."""
    path, conn = durable

    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=helper) as srv:
        gate = _Gate(srv, helper, monkeypatch)
        clients = [psycopg.connect(_dsn(srv), autocommit=True) for _ in range(3)]
        for c in clients:          # plans cached: these run on the loop
            c.execute("UPDATE t SET v = v + 0 WHERE id = %s", (1,))
            c.execute("DELETE FROM t WHERE id = %s", (1000,))
        gate.hold()
        done: dict[str, object] = {}

        def run(name, c, sql, key):
            done[name] = c.execute(sql, (key,)).rowcount

        first = threading.Thread(target=run, args=("first", clients[0],
                                                   "UPDATE t SET v = v + 1 WHERE id = %s", 5))
        first.start()
        assert gate.entered(10)
        second = threading.Thread(target=run, args=("second", clients[1],
                                                    "UPDATE t SET v = v + 0 WHERE id = %s", 5))
        nothing = threading.Thread(target=run, args=("nothing", clients[2],
                                                     "DELETE FROM t WHERE id = %s", 1000))
        second.start()
        nothing.start()
        time.sleep(0.3)
        assert done == {}          # neither answered while the first is not durable
        gate.release()
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


@pytest.mark.parametrize("fsync, explicit", [("auto", False), ("aio", False),
                                             ("thread", False), ("replies", False),
                                             ("uring", False), ("auto", True),
                                             ("thread", True), ("uring", True)],
                         ids=["auto", "aio", "thread", "replies", "uring",
                              "auto-begin-commit", "thread-begin-commit",
                              "uring-begin-commit"])
def test_acknowledged_commits_survive_sigkill_of_the_server(tmp_path, fsync, explicit):
    """Four clients write concurrently to a server process with sync durability; it
    is killed (SIGKILL) mid-stream; every acknowledged insert and update is there after
    reopening (one in flight may be there too, never an unacknowledged gap before it).
    ``explicit``: each insert and update is one BEGIN ... COMMIT transaction, run whole
    on the loop (a light transaction), acknowledged when COMMIT returns."""
    import os
    import subprocess
    import sys
    if fsync == "uring" and not _uring_works():
        pytest.skip("io_uring is not available here")
    path = tmp_path / "db"
    proc = subprocess.Popen([sys.executable, "-m", "rustmemodb.server", "--db", str(path),
                             "--port", "0", "--trust", "--durability", "sync",
                             "--fsync", fsync],
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
                with psycopg.connect(dsn, autocommit=not explicit) as c:
                    n = 0
                    while not stop.is_set():
                        n += 1
                        c.execute("INSERT INTO t VALUES (%s, %s)", (1000 * (w + 1) + n, w))
                        c.execute("UPDATE t SET v = %s WHERE id = %s", (n, w + 1))
                        if explicit:
                            c.commit()
                        acked[w].append(1000 * (w + 1) + n)
                        counters[w] = n
            except psycopg.Error:
                pass                     # the server went away mid-statement

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 20
        while min(counters.values()) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        helpers = _children(proc.pid)      # the fsync helper process
        # (auto: io_uring where it works, else the helper process)
        assert bool(helpers) == (fsync in ("process", "replies")
                                 or (fsync == "auto" and not _uring_works()))
        proc.kill()
        proc.wait(10)
        for pid in helpers:                # it sees the end of its socket and exits
            _wait_gone(pid)
        stop.set()
        for th in threads:
            th.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _assert_acknowledged_survived(path, counters, acked)


def _counting_executor(srv, monkeypatch) -> list:
    """The calls the server's sessions hand to its worker threads from now on."""
    calls: list = []
    submit = srv.executor.submit

    def counted(fn, *args, **kwargs):
        calls.append((fn, args))
        return submit(fn, *args, **kwargs)
    monkeypatch.setattr(srv.executor, "submit", counted)
    return calls


def test_light_transaction_runs_on_the_loop_and_its_commit_waits_for_its_fsync(
        durable, monkeypatch, helper):
    """BEGIN, point statements and COMMIT (what psycopg without autocommit, JDBC and
    pgbench's TPC-B send) run on the loop without a worker thread (session.py,
    ``_run_engine``); the COMMIT is acknowledged, and its change seen by others, only
    once its fsync is done. A statement that is not a point one moves the rest of the
    transaction, COMMIT included, to the worker threads."""
    path, conn = durable
    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=helper) as srv:
        gate = _Gate(srv, helper, monkeypatch)
        txn = psycopg.connect(_dsn(srv))              # psycopg's default: transactions
        reader = psycopg.connect(_dsn(srv), autocommit=True)
        for key in (5, 6):                            # plans cached
            txn.execute("UPDATE t SET v = v + 1 WHERE id = %s", (key,))
            txn.execute("SELECT v FROM t WHERE id = %s", (key,))
            txn.commit()
        reader.execute("SELECT v FROM t WHERE id = %s", (5,))
        hops = _counting_executor(srv, monkeypatch)
        gate.hold()
        done = []

        def work():
            txn.execute("UPDATE t SET v = v + 1 WHERE id = %s", (6,))
            assert txn.execute("SELECT v FROM t WHERE id = %s", (6,)).fetchone() == (2,)
            txn.commit()
            done.append(True)

        th = threading.Thread(target=work)
        th.start()
        assert gate.entered(10)
        time.sleep(0.2)
        assert done == []                             # not acknowledged ...
        assert reader.execute("SELECT v FROM t WHERE id = %s", (6,)).fetchone() == (1,)
        gate.release()
        th.join(10)
        assert done == [True]                         # ... until durable
        assert reader.execute("SELECT v FROM t WHERE id = %s", (6,)).fetchone() == (2,)
        assert hops == []
        txn.execute("UPDATE t SET v = v + 1 WHERE id = %s", (7,))
        txn.execute("UPDATE t SET v = v WHERE v >= 0")        # a scan: a worker thread
        txn.execute("UPDATE t SET v = v + 1 WHERE id = %s", (8,))
        txn.commit()
        assert len(hops) == 3                         # the scan, the next UPDATE, COMMIT
        assert reader.execute("SELECT id, v FROM t WHERE id IN (7, 8) ORDER BY id"
                              ).fetchall() == [(7, 1), (8, 1)]
        txn.close()
        reader.close()
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT id, v FROM t WHERE v > 0 ORDER BY id").fetchall() == \
            [(5, 1), (6, 2), (7, 1), (8, 1)]
    finally:
        again.close()


def test_bounded_inserts_run_on_the_loop(durable, monkeypatch, helper):
    """An INSERT with no fast path but bounded work (one row into a table with a serial
    key, RETURNING, ON CONFLICT: what an ORM sends) runs on the loop like a point
    statement, in autocommit and in a light transaction, and is acknowledged only
    once durable; an INSERT ... SELECT still goes to a worker thread."""
    path, conn = durable
    conn.execute("CREATE TABLE s (id SERIAL PRIMARY KEY, name TEXT NOT NULL)")
    insert = "INSERT INTO s (name) VALUES (%s) RETURNING id"
    upsert = ("INSERT INTO s (id, name) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE "
              "SET name = excluded.name")
    with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=helper) as srv:
        gate = _Gate(srv, helper, monkeypatch)
        auto = psycopg.connect(_dsn(srv), autocommit=True)
        txn = psycopg.connect(_dsn(srv))
        for c in (auto, txn):                        # plans cached
            c.execute(insert, ("warm",))
            c.execute(upsert, (1, "warm"))
            c.commit()
        hops = _counting_executor(srv, monkeypatch)
        assert txn.execute(insert, ("a",)).fetchone() == (3,)
        txn.execute(upsert, (1, "b"))
        txn.commit()
        gate.hold()
        done = []

        def work():
            done.append(auto.execute(insert, ("c",)).fetchone())

        th = threading.Thread(target=work)
        th.start()
        assert gate.entered(10)
        time.sleep(0.2)
        assert done == []                             # not acknowledged before durable
        gate.release()
        th.join(10)
        assert done == [(4,)]
        assert hops == []
        auto.execute("INSERT INTO s (name) SELECT name FROM s WHERE id = 4")
        assert len(hops) >= 1                         # a scan: a worker thread
        assert auto.execute("SELECT id, name FROM s ORDER BY id").fetchall() == \
            [(1, "b"), (2, "warm"), (3, "a"), (4, "c"), (5, "c")]
        auto.close()
        txn.close()
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT count(*) FROM s").fetchone() == (5,)
    finally:
        again.close()


def test_light_transaction_conflict_and_rollback_on_the_loop(durable, monkeypatch):
    """Under REPEATABLE READ the first committer wins: the loser's COMMIT on the loop
    is 40001 and changes nothing; ROLLBACK and savepoints run on the loop too. Under
    READ COMMITTED (the server's default) the loser runs again on the newest data, at
    once and on the loop, and commits."""
    path, conn = durable
    with rustmemodb.serve(conn, users={USER: PASSWORD},
                          default_isolation="repeatable read") as srv:
        a = psycopg.connect(_dsn(srv))
        b = psycopg.connect(_dsn(srv), autocommit=True)
        for key in (9, 10):                           # plans cached
            a.execute("UPDATE t SET v = v + 1 WHERE id = %s", (key,))
            a.rollback()
            b.execute("UPDATE t SET v = v + 1 WHERE id = %s", (key,))
        hops = _counting_executor(srv, monkeypatch)
        a.execute("UPDATE t SET v = v + 1 WHERE id = %s", (9,))
        b.execute("UPDATE t SET v = v + 1 WHERE id = %s", (9,))
        with pytest.raises(psycopg.errors.SerializationFailure):
            a.commit()
        a.rollback()
        a.execute("UPDATE t SET v = v + 1 WHERE id = %s", (10,))
        a.execute("SAVEPOINT s")
        a.execute("UPDATE t SET v = v + 1 WHERE id = %s", (10,))
        a.execute("ROLLBACK TO SAVEPOINT s")
        a.commit()
        assert hops == []
        assert b.execute("SELECT id, v FROM t WHERE id IN (9, 10) ORDER BY id"
                         ).fetchall() == [(9, 2), (10, 2)]
        a.execute("SET default_transaction_isolation = 'read committed'")
        a.commit()
        del hops[:]
        sleeps = []
        monkeypatch.setattr(isolation, "backoff", sleeps.append)
        a.execute("UPDATE t SET v = v + 1 WHERE id = %s", (9,))
        b.execute("UPDATE t SET v = v + 1 WHERE id = %s", (9,))
        a.commit()                                    # re-run on b's row: no 40001
        assert hops == [] and sleeps == []            # on the loop, at once
        assert b.execute("SELECT v FROM t WHERE id = %s", (9,)).fetchone() == (4,)
        a.close()
        b.close()


def test_sigkilled_server_leaves_its_helper_to_finish_and_hold_the_lock(tmp_path):
    """Prepared point writes, whose frames and replies the fsync helper process writes
    and sends (``session._point_write``), under load from four psycopg clients; the
    helper is stopped (SIGSTOP), the server killed (SIGKILL). While the orphaned helper
    lives it holds the database's lock: opening the directory fails (55006). Resumed,
    it writes and syncs what it received, sends those replies and exits; reopened,
    every update and insert a client saw acknowledged is there."""
    import subprocess
    import sys
    path = tmp_path / "db"
    proc = subprocess.Popen([sys.executable, "-m", "rustmemodb.server", "--db", str(path),
                             "--port", "0", "--trust", "--durability", "sync",
                             "--fsync", "replies"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    helpers: list[int] = []
    try:
        line = proc.stdout.readline()
        assert "listening on" in line, proc.stderr.read()
        dsn = f"host=127.0.0.1 port={int(line.rsplit(':', 1)[1])} user=w dbname=main"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
            c.execute("INSERT INTO t SELECT i, 0 FROM generate_series(1, 4) i")
        acked = {w: [] for w in range(4)}
        counters = {w: 0 for w in range(4)}

        def work(w: int) -> None:
            try:
                with psycopg.connect(dsn, autocommit=True) as c:
                    n = 0
                    while True:
                        n += 1
                        c.execute("INSERT INTO t VALUES (%s, %s)", (1000 * (w + 1) + n, w),
                                  prepare=True)
                        acked[w].append(1000 * (w + 1) + n)
                        c.execute("UPDATE t SET v = %s WHERE id = %s", (n, w + 1),
                                  prepare=True)
                        counters[w] = n
            except psycopg.Error:
                pass                     # the server (and then its helper) went away

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(4)]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 30
        while min(counters.values()) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        helpers = _children(proc.pid)
        assert len(helpers) == 1
        os.kill(helpers[0], signal.SIGSTOP)
        time.sleep(0.1)                  # commits reach the stopped helper
        proc.kill()
        proc.wait(10)
        with pytest.raises(rustmemodb.Error) as info:
            rustmemodb.connect(str(path), "sync")
        assert info.value.sqlstate == "55006"
        os.kill(helpers[0], signal.SIGCONT)
        _wait_gone(helpers[0])
        for th in threads:
            th.join(10)
        assert not any(th.is_alive() for th in threads)
    finally:
        for pid in helpers:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _assert_acknowledged_survived(path, counters, acked)


def _assert_acknowledged_survived(path, counters: dict, acked: dict) -> None:
    """After a killed server: every acknowledged insert and update of the four writers
    is in the reopened database, and at most the one statement in flight when the
    server died is beyond what was acknowledged."""
    assert min(counters.values()) >= 30
    again = _reopen(path)
    try:
        ids = {r[0] for r in again.execute("SELECT id FROM t WHERE id > 4").fetchall()}
        values = dict(again.execute("SELECT id, v FROM t WHERE id <= 4").fetchall())
    finally:
        again.close()
    for w in range(4):
        assert set(acked[w]) <= ids
        assert counters[w] <= values[w + 1] <= counters[w] + 1
        mine = sorted(i for i in ids if 1000 * (w + 1) < i < 1000 * (w + 2))
        assert mine == list(range(1000 * (w + 1) + 1, 1000 * (w + 1) + 1 + len(mine)))
        assert len(mine) - len(acked[w]) <= 1


def _reopen(path, timeout: float = 10):
    """The killed server's database, opened as soon as its lock is free: an orphaned
    fsync helper holds it until it has synced what it received (seen once on a loaded
    machine: the lock still held after the helper listed by ``_children`` was gone)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return rustmemodb.connect(str(path), "sync")
        except rustmemodb.OperationalError as exc:
            if exc.sqlstate != "55006" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(p) for p in f.read().split()]
    return out


def _wait_gone(pid: int, timeout: float = 10) -> None:
    """Wait until process ``pid`` exited (reaped or a zombie of a dead parent)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in "ZX":
                    return
        except FileNotFoundError:
            return
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.02)


def test_fsync_helper_exits_when_the_server_closes(durable):
    path, conn = durable
    srv = rustmemodb.serve(conn, auth="trust", fsync_helper="process")
    try:
        channel = srv.durability._channels[id(srv.database)]
        assert channel is not None           # a durable database in sync mode has one
        process = channel.helper.process
        assert process.poll() is None
        with psycopg.connect(_dsn(srv).replace(f"user={USER} password={PASSWORD}", "user=t"),
                             autocommit=True) as c:
            for i in range(5):
                c.execute("UPDATE t SET v = %s WHERE id = %s", (i, 3))
    finally:
        srv.close()
    assert process.returncode == 0           # reaped by close(): no orphan
    assert conn.execute("SELECT v FROM t WHERE id = 3").fetchone() == (4,)
    conn.execute("UPDATE t SET v = 9 WHERE id = 3")     # embedded: the log's own fsync
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT v FROM t WHERE id = 3").fetchone() == (9,)
    finally:
        again.close()


@pytest.mark.parametrize("prepare", [False, True], ids=["unnamed", "prepared"])
def test_helper_killed_with_a_commit_in_flight(durable, monkeypatch, prepare):
    fsync = "replies" if prepare else "process"
    """The fsync helper dies while a point UPDATE waits for it: that UPDATE fails with
    58030 (never acknowledged, never visible), so does every later write, and reads
    are still answered. Prepared, the UPDATE's frame and reply were handed to the
    helper (``session._point_write``): it never sent the reply."""
    path, conn = durable
    with rustmemodb.serve(conn, auth="trust", fsync_helper=fsync) as srv:
        dsn = _dsn(srv).replace(f"user={USER} password={PASSWORD}", "user=t")
        gate = _Gate(srv, fsync, monkeypatch)
        with psycopg.connect(dsn, autocommit=True) as c, \
                psycopg.connect(dsn, autocommit=True) as reader:
            for _ in range(2):                                          # plan cached
                c.execute("UPDATE t SET v = %s WHERE id = %s", (1, 8), prepare=prepare)
            replies = srv.durability._channels[id(srv.database)].helper.replies
            assert (replies > 0) == prepare
            gate.hold()
            failed = []

            def update():
                try:
                    c.execute("UPDATE t SET v = %s WHERE id = %s", (2, 8), prepare=prepare)
                except psycopg.Error as exc:
                    failed.append(exc)
            th = threading.Thread(target=update)
            th.start()
            assert gate.entered(10)
            assert reader.execute("SELECT v FROM t WHERE id = %s", (8,)).fetchone() == (1,)
            gate.fail()
            th.join(10)
            assert [e.sqlstate for e in failed] == ["58030"]
            assert "fsync helper" in str(failed[0])
            assert reader.execute("SELECT v FROM t WHERE id = %s", (8,)).fetchone() == (1,)
            with pytest.raises(psycopg.errors.Error) as info:
                reader.execute("UPDATE t SET v = %s WHERE id = %s", (3, 8))
            assert info.value.sqlstate == "58030"
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (100,)
        monkeypatch.undo()
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT v FROM t WHERE id = 8").fetchone() in ((1,), (2,))
    finally:
        again.close()


def test_point_write_answered_as_it_arrives_waits_for_its_fsync(durable, monkeypatch, helper):
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

    with rustmemodb.serve(conn, auth="trust", fsync_helper=helper) as srv:
        sock = _raw_session(srv)
        sock.sendall(_msg(b"P", b"upd\x00UPDATE t SET v = $1 WHERE id = $2\x00\x00\x00")
                     + _msg(b"P", b"sel\x00SELECT v FROM t WHERE id = $1\x00\x00\x00")
                     + _msg(b"S"))
        _replies(sock, 1)
        for g in (_group(b"upd", b"1", b"5"), _group(b"sel", b"5")):   # plans cached
            sock.sendall(g)
            _replies(sock, 1)
        gate = _Gate(srv, helper, monkeypatch)
        gate.hold()
        answered.clear()
        sock.sendall(_group(b"upd", b"7", b"5"))
        assert gate.entered(10)
        sock.sendall(_group(b"sel", b"5"))
        sock.settimeout(0.3)
        with pytest.raises(socket.timeout):
            sock.recv(65536)                    # nothing acknowledged before the fsync
        assert answered == [(b"B", True)]       # the SELECT was held, not answered
        gate.release()
        got = _replies(sock, 2)
        assert b"".join(k for k, _ in got) == b"2CZ2DCZ"
        assert got[1][1] == b"UPDATE 1\x00" and got[4][1].endswith(b"7")
        gate.fail()
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


def test_pipelined_reads_and_durable_writes_keep_their_order(durable, helper):
    """Pipelined groups with sync durability: replies held for a batch go out before
    a write awaits its fsync (ClientSession._reply), every reply comes in order and a
    read after a write sees it."""

    path, conn = durable

    with rustmemodb.serve(conn, auth="trust", fsync_helper=helper) as srv:
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


def test_client_gone_while_its_point_write_awaits_the_fsync(durable, monkeypatch, caplog,
                                                            helper):
    """A client that sends a point UPDATE (answered in the read callback) and more
    input, then disconnects while the fsync is held: the commit still completes, the
    held input runs or is dropped without errors, and the server goes on serving."""
    path, conn = durable

    caplog.set_level(logging.ERROR, logger="asyncio")
    with rustmemodb.serve(conn, auth="trust", fsync_helper=helper) as srv:
        sock = _raw_session(srv)
        sock.sendall(_msg(b"P", b"upd\x00UPDATE t SET v = $1 WHERE id = $2\x00\x00\x00")
                     + _msg(b"S"))
        _replies(sock, 1)
        sock.sendall(_group(b"upd", b"1", b"9"))      # the plan cached
        _replies(sock, 1)
        gate = _Gate(srv, helper, monkeypatch)
        gate.hold()
        sock.sendall(_group(b"upd", b"3", b"9"))
        assert gate.entered(10)
        sock.sendall(_group(b"upd", b"4", b"9"))      # held behind the first
        time.sleep(0.1)
        sock.close()
        time.sleep(0.2)
        gate.release()
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


def test_the_durable_lsn_mark_covers_every_acknowledged_commit(durable, helper):
    """The durable-LSN mark (wal.py) is written after each sync before the commits it
    covers are acknowledged: by the loop (AIO, the helper process when the loop writes
    the frames), by the helper process itself when it writes them (``replies``), or by
    the thread's own fsync; with io_uring the kernel sends the reply and the loop writes
    the mark when it sees the completion, just after. Read while the server still runs, it claims the last
    acknowledged commit's LSN (recovery then refuses to read a damaged tail before it as
    a torn one), and it is a tail mark right after that commit's frame: the header (a
    page of its own, which every fsync would then write too) is left alone."""
    path, conn = durable
    db = conn._session.db
    with rustmemodb.serve(conn, auth="trust", fsync_helper=helper) as srv:
        dsn = _dsn(srv).replace(f"user={USER} password={PASSWORD}", "user=t")
        with psycopg.connect(dsn, autocommit=True) as c:
            for i in range(12):
                c.execute("UPDATE t SET v = %s WHERE id = %s", (i, i % 4 + 1))
                last = db.log.written_lsn      # nothing else writes meanwhile
                scan = wal_module.scan_segment(db.log.segment, int(db.log.segment.stem))
                deadline = time.monotonic() + 5
                while helper == "uring" and scan.mark != last and time.monotonic() < deadline:
                    # the kernel sent the reply; the loop writes the mark once it sees
                    # the completion (uring_sync.py), right after
                    time.sleep(0.01)
                    scan = wal_module.scan_segment(db.log.segment, int(db.log.segment.stem))
                assert scan.mark_ok and scan.mark == last, (i, scan.mark, last)
                assert scan.records[-1][0] == last
                data = db.log.segment.read_bytes()
                _, _, offset = scan.records[-1]
                tail = offset + wal_module.FRAME.size + len(scan.records[-1][1])
                assert data[tail:tail + wal_module.FRAME.size] == wal_module.tail_mark(last)
                header_mark = wal_module.MARK.unpack_from(data, wal_module.MARK_OFFSET)[0]
                assert header_mark == 0, header_mark
        assert srv.durability.commits >= 10     # most ran on the loop, not the thread
    conn.close()


def test_fsync_helper_writes_the_mark_it_is_given_and_reports_a_failed_write(tmp_path):
    """The helper process writes the mark of the highest LSN of a sync after its
    fdatasync and before answering (here header marks, 16 bytes, written whatever
    frames it was given since); a mark it cannot write is its error (the log then
    breaks, 58030), never an answer."""
    import select
    from rustmemodb.durability.fsync_helper import FsyncHelper
    fd = os.open(tmp_path / "seg", os.O_RDWR | os.O_CREAT)
    helper = FsyncHelper()
    try:
        os.pwrite(fd, bytes(4096), 0)
        helper.request(5, fd, 1, (32, b"A" * 16))
        helper.request(7, fd, 1, (32, b"B" * 16))
        got = 0
        while got < 7:
            assert select.select([helper.fileno()], [], [], 30)[0]
            got = max(got, helper.answers())
        assert os.pread(fd, 16, 32) == b"B" * 16        # the highest LSN's mark, last
        helper.request(9, fd, 1)                         # no mark: nothing written
        while got < 9:
            assert select.select([helper.fileno()], [], [], 30)[0]
            got = max(got, helper.answers())
        assert os.pread(fd, 16, 32) == b"B" * 16
        readonly = os.open(tmp_path / "seg", os.O_RDONLY)   # syncs, cannot be written
        try:
            helper.request(11, readonly, 11, (32, b"C" * 16))
            assert select.select([helper.fileno()], [], [], 30)[0]
            with pytest.raises(OSError, match="mark"):
                helper.answers()
        finally:
            os.close(readonly)
    finally:
        helper.close()
        os.close(fd)


def test_fsync_helper_writes_tail_marks_after_the_frames_it_writes(tmp_path):
    """A helper that writes the frames writes a tail mark right after the last one it
    synced; the next frames go over it, and their own mark after them."""
    import select
    from rustmemodb.durability.fsync_helper import FsyncHelper
    fd = os.open(tmp_path / "seg", os.O_RDWR | os.O_CREAT)
    helper = FsyncHelper(frames=True)
    try:
        os.pwrite(fd, bytes(8192), 0)
        start = wal_module.SEGMENT_HEADER_SIZE
        got, at = 0, start
        for lsn in (1, 2, 3):
            data = wal_module.frame(lsn, bytes([lsn]) * (10 * lsn))
            end = at + len(data)
            helper.request(lsn, fd, 1, (end, wal_module.tail_mark(lsn)), (at, data, 0))
            while got < lsn:
                assert select.select([helper.fileno()], [], [], 30)[0]
                got = max(got, helper.answers())
            assert os.pread(fd, len(data), at) == data           # over the last mark
            assert os.pread(fd, wal_module.FRAME.size, end) == wal_module.tail_mark(lsn)
            at = end
        path = tmp_path / "00000000000000000001.wal"
        os.pwrite(fd, wal_module.segment_header(1, 0, wal_module.TAIL_MARKS), 0)
        os.link(tmp_path / "seg", path)
        scan = wal_module.scan_segment(path, 1)
        assert [r[0] for r in scan.records] == [1, 2, 3] and scan.mark == 3
        assert scan.bad_offset is None and not scan.cut_short
    finally:
        helper.close()
        os.close(fd)


@pytest.mark.parametrize("kind", ["aio", "process"])
def test_fsync_helper_follows_log_rotation(durable, kind):
    """Checkpoints rotate the log to new segments while the server's commits go through
    the fsync helper: it is handed each new segment (even when a descriptor number is
    reused for it) before syncing its frames, and every commit survives reopening."""
    path, conn = durable
    db = conn._session.db
    if kind == "aio":
        try:
            AioFsync().close()
        except OSError:
            pytest.skip("Linux AIO fdatasync is not available here")
    with rustmemodb.serve(conn, auth="trust", fsync_helper=kind) as srv:
        syncer = srv.durability._channels[id(db)].helper
        pid, fds = ((syncer.process.pid, None) if kind == "process"
                    else (os.getpid(), lambda: [syncer._fd]))
        dsn = _dsn(srv).replace(f"user={USER} password={PASSWORD}", "user=t")
        with psycopg.connect(dsn, autocommit=True) as c:
            for round_ in range(4):
                for i in range(3):
                    c.execute("UPDATE t SET v = %s WHERE id = %s", (round_ * 10 + i, i + 1))
                held = {os.path.realpath(f"/proc/{pid}/fd/{fd}")
                        for fd in (fds() if fds else os.listdir(f"/proc/{pid}/fd"))}
                assert str(db.log.segment) in held, (round_, held)
                db.checkpoint(force=True)
                if round_ == 1:
                    # a segment with an embedded commit only (its own fsync, nothing for
                    # the helper): the next one may get the descriptor number last sent
                    conn.execute("UPDATE t SET v = 7 WHERE id = 50")
                    db.checkpoint(force=True)
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT id, v FROM t WHERE id <= 3 ORDER BY id").fetchall() == \
            [(1, 30), (2, 31), (3, 32)]
    finally:
        again.close()


@pytest.mark.parametrize("helper_kind", ["aio", False], ids=["aio", "thread"])
def test_durable_callback_runs_before_the_future_and_never_when_cancelled(durable,
                                                                          helper_kind):
    """``DurabilityWaiter.wait(..., done)``: ``done(None)`` once the commits are durable
    and published, before the future resolves (the channel calls it in the callback that
    learnt of the fsync); never for a cancelled wait, whose commits are still finished."""
    import asyncio

    from rustmemodb.server.durable import DurabilityWaiter

    if helper_kind == "aio":
        try:
            AioFsync().close()
        except OSError:
            pytest.skip("no Linux AIO fdatasync here")
    path, conn = durable
    conn.close()
    db = rustmemodb.Database.open(str(path), durability="sync")
    session = db.connect()
    waiter = DurabilityWaiter(helper_kind)

    def deferred_update(value: int) -> list:
        commits = db.deferring_durability()
        try:
            session.execute("UPDATE t SET v = ? WHERE id = 1", [value])
        finally:
            db.stop_deferring()
        assert commits
        return commits

    async def main():
        calls = []
        commits = deferred_update(1)
        future = waiter.wait(db, commits,
                             lambda error: calls.append((error, future.done(),
                                                         bool(db._pending))))
        assert not calls                 # never within wait
        await future
        assert len(calls) == 1 and calls[0][0] is None
        assert calls[0][2] is False      # published by then
        if helper_kind == "aio":
            assert calls[0][1] is False  # before the future resolved
        cancelled = []
        commits = deferred_update(2)
        future = waiter.wait(db, commits, cancelled.append)
        future.cancel()
        while db._pending:               # finished all the same
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not cancelled

    try:
        asyncio.run(main())
    finally:
        waiter.close()
    assert db.connect().execute("SELECT v FROM t WHERE id = 1").fetchall() == [(2,)]
    db.close()


# ---- syncs in flight at once (fsync_helper.py's syncing threads) ----------------------

class _HeldSyncs:
    """``os.fdatasync`` replaced for the helper's syncing threads run in this process:
    each call is recorded and waits until released one by one, or fails."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[tuple[int, threading.Event, list]] = []
        self.lock = threading.Condition()
        real = os.fdatasync

        def held(fd: int) -> None:
            gate, outcome = threading.Event(), []
            with self.lock:
                self.calls.append((fd, gate, outcome))
                self.lock.notify_all()
            assert gate.wait(30)
            if outcome:
                raise outcome[0]
            real(fd)
        monkeypatch.setattr(os, "fdatasync", held)

    def wait_calls(self, n: int, timeout: float = 10) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.calls) >= n, timeout), \
                f"{len(self.calls)} fdatasyncs started, {n} expected"

    def release(self, i: int, error: OSError | None = None) -> None:
        _, gate, outcome = self.calls[i]
        if error is not None:
            outcome.append(error)
        gate.set()


def _in_process_helper(syncs: int, overlap_after: float = 0.0):
    """An ``FsyncHelper`` whose other end is served by ``_serve`` on a thread of this
    process (so ``os.fdatasync`` can be held), and that thread. ``overlap_after``: how
    long a sync runs before another may start beside it (0: at once)."""
    from rustmemodb.durability import fsync_helper
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    helper = object.__new__(fsync_helper.FsyncHelper)
    helper.sock, helper.requested, helper._segment, helper.process = parent, 0, None, None
    thread = threading.Thread(target=fsync_helper._serve, args=(child, syncs),
                              kwargs={"overlap_after": overlap_after}, daemon=True)
    thread.start()
    return helper, thread, child


@contextlib.contextmanager
def _helper_on_a_segment(tmp_path, monkeypatch, syncs: int, overlap_after: float = 0.0):
    """A segment file whose fdatasyncs are held (``_HeldSyncs``), served by an in-process
    helper (``_in_process_helper``): (held, fd, helper, thread); afterwards every sync is
    released, the helper's socket closed and its thread joined."""
    held = _HeldSyncs(monkeypatch)
    fd = os.open(tmp_path / "seg", os.O_RDWR | os.O_CREAT)
    os.pwrite(fd, bytes(4096), 0)
    helper, thread, child = _in_process_helper(syncs, overlap_after)
    try:
        yield held, fd, helper, thread
    finally:
        for i in range(len(held.calls)):
            held.release(i)
        helper.sock.close()
        thread.join(10)
        child.close()
        os.close(fd)


def _answer(helper, timeout: float = 10) -> int:
    import select
    assert select.select([helper.fileno()], [], [], timeout)[0], "no answer"
    return helper.answers()


def test_fsync_helper_starts_a_second_sync_while_one_runs(tmp_path, monkeypatch):
    """A request received while an fdatasync runs starts another at once (on another
    description of the file); each answer claims only what its own sync covered, and a
    sync that ends after a later one answered writes no (lower) mark."""
    import select
    with _helper_on_a_segment(tmp_path, monkeypatch, 2) as (held, fd, helper, thread):
        helper.request(5, fd, 1, (32, b"A" * 16))
        held.wait_calls(1)
        helper.request(7, fd, 1, (32, b"B" * 16))
        held.wait_calls(2)                     # both in flight
        assert held.calls[0][0] != held.calls[1][0] != fd   # own descriptions
        assert not select.select([helper.fileno()], [], [], 0.2)[0]   # nothing durable yet
        held.release(1)                        # the later sync ends first
        assert _answer(helper) == 7
        assert os.pread(fd, 16, 32) == b"B" * 16
        held.release(0)
        time.sleep(0.2)
        assert helper.answers() == 0           # 5 is covered by 7's answer already
        assert os.pread(fd, 16, 32) == b"B" * 16   # never lowered
        helper.request(9, fd, 1, (32, b"C" * 16))
        held.wait_calls(3)
        held.release(2)
        assert _answer(helper) == 9
        assert os.pread(fd, 16, 32) == b"C" * 16
    assert not thread.is_alive()               # it ends with its socket


def test_fsync_helper_groups_commits_received_while_a_short_sync_runs(tmp_path,
                                                                     monkeypatch):
    """Requests received while a sync runs, for less than ``overlap_after``, wait for it
    and are then covered by one sync together (group commit), not one sync each; once a
    sync has run that long, the next starts beside it."""
    import select
    with _helper_on_a_segment(tmp_path, monkeypatch, 3, overlap_after=1.0) as (
            held, fd, helper, thread):
        helper.request(5, fd, 1, (32, b"A" * 16))
        held.wait_calls(1)
        helper.request(6, fd, 1, (32, b"B" * 16))
        helper.request(7, fd, 1, (32, b"C" * 16))
        time.sleep(0.3)
        assert len(held.calls) == 1            # waiting for the running sync
        assert not select.select([helper.fileno()], [], [], 0)[0]
        held.release(0)
        assert _answer(helper) == 5
        held.wait_calls(2)                     # one sync for both waiting commits
        time.sleep(0.2)
        assert len(held.calls) == 2
        held.release(1)
        assert _answer(helper) == 7
        assert os.pread(fd, 16, 32) == b"C" * 16
        helper.request(9, fd, 1, (32, b"D" * 16))
        held.wait_calls(3)
        helper.request(10, fd, 1, (32, b"E" * 16))
        held.wait_calls(4, timeout=5)          # the first ran past 1 s: overlapped
        held.release(3)
        assert _answer(helper) == 10
        held.release(2)
        time.sleep(0.2)
        assert helper.answers() == 0           # 9 is covered by 10's answer
        assert os.pread(fd, 16, 32) == b"E" * 16
    assert not thread.is_alive()


def test_fsync_helper_failed_sync_answers_nothing_after_it(tmp_path, monkeypatch):
    """Two syncs in flight, the first fails: the helper reports the error and never
    answers the second even though its own fdatasync returned (after a failed
    write-back the kernel may have dropped the pages: nothing can be promised), and
    stops."""
    with _helper_on_a_segment(tmp_path, monkeypatch, 3) as (held, fd, helper, thread):
        helper.request(5, fd, 1, (32, b"A" * 16))
        held.wait_calls(1)
        helper.request(6, fd, 1, (32, b"B" * 16))
        held.wait_calls(2)
        held.release(0, OSError(5, "Input/output error"))
        time.sleep(0.1)
        held.release(1)
        thread.join(10)
        assert not thread.is_alive()           # the helper stopped
        packets = []
        while True:
            try:
                packet = helper.sock.recv(512, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if not packet:                     # its end is shut: nothing more comes
                break
            packets.append(packet)
        assert len(packets) == 1 and packets[0].startswith(b"E"), packets
        assert b"fdatasync failed" in packets[0] and b"Input/output error" in packets[0]
        assert os.pread(fd, 16, 32) == bytes(16)   # no mark claims anything


def test_helper_killed_fails_every_waiting_commit(durable, monkeypatch):
    """Four clients' point UPDATEs wait for the fsync helper, which dies: every one
    fails with 58030, none is acknowledged or becomes visible, and later writes fail
    alike while reads are answered."""
    path, conn = durable
    with rustmemodb.serve(conn, auth="trust", fsync_helper="process") as srv:
        dsn = _dsn(srv).replace(f"user={USER} password={PASSWORD}", "user=t")
        gate = _Gate(srv, "process", monkeypatch)
        clients = [psycopg.connect(dsn, autocommit=True) for _ in range(4)]
        try:
            for i, c in enumerate(clients):
                c.execute("UPDATE t SET v = %s WHERE id = %s", (1, 10 + i))  # plan cached
            gate.hold()
            outcomes: dict[int, object] = {}

            def update(i: int) -> None:
                try:
                    clients[i].execute("UPDATE t SET v = %s WHERE id = %s", (2, 10 + i))
                    outcomes[i] = "acknowledged"
                except psycopg.Error as exc:
                    outcomes[i] = exc.sqlstate
            threads = [threading.Thread(target=update, args=(i,)) for i in range(4)]
            for th in threads:
                th.start()
            channel = gate.channel()
            deadline = time.monotonic() + 30     # (a loaded machine: the threads start late)
            while len(channel.waiting) < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(channel.waiting) == 4       # all four wait for a sync
            gate.fail()
            for th in threads:
                th.join(10)
            assert outcomes == {i: "58030" for i in range(4)}
            reader = clients[0]
            assert reader.execute("SELECT v FROM t WHERE id BETWEEN 10 AND 13").fetchall() \
                == [(1,)] * 4
            with pytest.raises(psycopg.errors.Error) as info:
                reader.execute("UPDATE t SET v = %s WHERE id = %s", (3, 10))
            assert info.value.sqlstate == "58030"
        finally:
            for c in clients:
                c.close()
        monkeypatch.undo()
    conn.close()


def test_fsync_helper_hint_follows_its_answers(tmp_path):
    """The helper process puts each answer's LSN in shared memory after sending it
    (``answered_hint``): the loop reads it after every message it answers and takes the
    answer then, without waiting for its next turn; it never runs ahead of the answers."""
    import select
    from rustmemodb.durability.fsync_helper import FsyncHelper
    fd = os.open(tmp_path / "seg", os.O_RDWR | os.O_CREAT)
    helper = FsyncHelper()
    try:
        if helper._hint is None:
            pytest.skip("no memfd_create here")
        os.pwrite(fd, bytes(4096), 0)
        assert helper.answered_hint() == 0
        for lsn in (3, 8):
            helper.request(lsn, fd, 1, (32, b"A" * 16))
            deadline = time.monotonic() + 30
            while helper.answered_hint() < lsn:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            assert select.select([helper.fileno()], [], [], 0)[0]   # the answer is there
            assert helper.answers() == lsn
    finally:
        helper.close()
        os.close(fd)


@pytest.mark.parametrize("fsync", ["process", "replies"])
def test_commits_acknowledged_through_the_hint_are_durable(durable, fsync):
    """Four clients of point UPDATEs and reads against the helper process: the updates'
    replies are sent by the helper, and the loop takes their durability from shared
    memory (the probe before and after each message a client sent); every
    acknowledged value is there after reopening and the probe is off once nothing
    waits."""
    path, conn = durable
    with rustmemodb.serve(conn, auth="trust", fsync_helper=fsync) as srv:
        dsn = _dsn(srv).replace(f"user={USER} password={PASSWORD}", "user=t")
        channel = srv.durability._channels[id(srv.database)]
        taken = []
        real = channel._done

        def counted(durable, sent=-1):
            taken.append(channel._answering)
            real(durable, sent)
        channel._done = counted
        last = {}

        def work(w: int) -> None:
            with psycopg.connect(dsn, autocommit=True) as c:
                for i in range(1, 121):
                    c.execute("UPDATE t SET v = %s WHERE id = %s", (i, 20 + w))
                    last[w] = i
                    for k in range(3):
                        c.execute("SELECT v FROM t WHERE id = %s", (k + 1,)).fetchone()
        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert last == {w: 120 for w in range(4)}
        assert taken
        if fsync == "replies":                    # (the first runs are not handed over)
            assert channel.helper.replies >= 4 * 100
        else:
            assert channel.helper.replies == 0
        assert srv.durability.probe is None       # nothing waits: no probing
    conn.close()
    again = rustmemodb.connect(str(path), "sync")
    try:
        assert again.execute("SELECT v FROM t WHERE id BETWEEN 20 AND 23").fetchall() == \
            [(120,)] * 4
    finally:
        again.close()
