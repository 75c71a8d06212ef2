"""The server under load: 100 connections held at once, a slow reader beside fast
clients, and the memory a big result costs the server while its reader lags."""
from __future__ import annotations

import socket
import struct
import time

import pytest

psycopg = pytest.importorskip("psycopg")

CLIENTS = 100


@pytest.mark.timeout(600)
def test_hundred_connections_held_with_mixed_work(server, dsn, engine, run_together):
    engine.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner INTEGER, n INTEGER)")
    engine.commit()
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(CLIENTS)]
    assert len(server._sessions) == CLIENTS           # all held open at once

    def work(i: int, conn) -> None:
        kind = i % 4
        if kind == 0:                                      # row at a time, prepared
            for j in range(5):
                conn.execute("INSERT INTO acct VALUES (%s, %s, 0)", (i * 100 + j, i),
                             prepare=True)
        elif kind == 1:                                    # COPY
            with conn.cursor().copy("COPY acct FROM STDIN") as cp:
                for j in range(5):
                    cp.write_row((i * 100 + j, i, 0))
        elif kind == 2:                                    # binary, one transaction
            with conn.transaction():
                conn.cursor(binary=True).executemany(
                    "INSERT INTO acct VALUES (%s, %s, 0)", [(i * 100 + j, i) for j in range(5)])
        else:                                              # a transaction rolled back
            with conn.transaction(force_rollback=True):
                conn.execute("INSERT INTO acct VALUES (%s, %s, 0)", (i * 100, i))
            for j in range(5):
                conn.execute("INSERT INTO acct VALUES (%s, %s, 0)", (i * 100 + j, i))
        with conn.transaction():
            conn.execute("UPDATE acct SET n = n + 1 WHERE owner = %s", (i,))
        got = conn.execute("SELECT count(*), sum(n) FROM acct WHERE owner = %s",
                           (i,)).fetchone()
        assert got == (5, 5), got

    failures = run_together(conns, work)
    assert len(server._sessions) == CLIENTS
    for c in conns:
        c.close()
    assert not failures, failures[:3]
    assert engine.execute("SELECT count(*), sum(n) FROM acct").fetchone() == (CLIENTS * 5,
                                                                            CLIENTS * 5)


def _query(sock: socket.socket, sql: str) -> None:
    body = sql.encode() + b"\x00"
    sock.sendall(b"Q" + struct.pack("!i", len(body) + 4) + body)


def _startup(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    body = struct.pack("!i", 196608) + b"user\x00slow\x00database\x00main\x00\x00"
    sock.sendall(struct.pack("!i", len(body) + 4) + body)
    buf = b""
    while not buf.endswith(b"Z\x00\x00\x00\x05I"):
        buf += sock.recv(4096)
    return sock


@pytest.mark.timeout(300)
@pytest.mark.parametrize("copy", [False, True], ids=["select", "copy-to-stdout"])
def test_slow_reader_blocks_nobody_and_costs_bounded_memory(engine, copy):
    import rustmemodb
    rows, width = 200_000, 200                  # ~42 MB of DataRows
    query = f"SELECT i, repeat('x', {width}) FROM generate_series(1, {rows}) i"
    with rustmemodb.serve(engine, auth="trust") as srv:
        slow = _startup(srv.port)
        _query(slow, f"COPY ({query}) TO STDOUT" if copy else query)
        first = slow.recv(1000)                 # it started answering, then nobody reads
        assert first[:1] == (b"H" if copy else b"T")
        session = next(s for s in srv._sessions.values() if s.user == "slow")
        # wait until the server is blocked on the socket (its buffers stop growing)
        sizes = []
        for _ in range(100):
            sizes.append(len(session.out) + session.writer.transport.get_write_buffer_size())
            if len(sizes) > 5 and sizes[-1] == sizes[-5] and sizes[-1] > 0:
                break
            time.sleep(0.1)
        held = sizes[-1]
        assert held < 4 << 20, f"server holds {held} bytes for a lagging reader"

        # meanwhile others are served
        fast = psycopg.connect(f"host=127.0.0.1 port={srv.port} user=fast dbname=main",
                               autocommit=True)
        for i in range(20):
            assert fast.execute("SELECT %s::int + 1", (i,)).fetchone() == (i + 1,)
        fast.close()

        # and the slow reader still gets every row once it reads
        slow.settimeout(60)
        total, buf = 0, first
        datarows = 0
        while True:
            chunk = slow.recv(1 << 20)
            assert chunk, "server closed the connection"
            buf += chunk
            pos = 0
            while len(buf) - pos >= 5:
                n = struct.unpack("!i", buf[pos + 1:pos + 5])[0]
                if len(buf) - pos < 1 + n:
                    break
                kind = buf[pos:pos + 1]
                datarows += kind == (b"d" if copy else b"D")
                if kind == b"Z":
                    total = datarows
                pos += 1 + n
            buf = buf[pos:]
            if total:
                break
        assert total == rows
        slow.close()


def test_disconnect_mid_copy_rolls_back(engine):
    import rustmemodb
    engine.execute("CREATE TABLE dc (id INTEGER)")
    engine.commit()
    with rustmemodb.serve(engine, auth="trust") as srv:
        sock = _startup(srv.port)
        _query(sock, "COPY dc FROM STDIN")
        assert sock.recv(100)[:1] == b"G"
        data = b"".join(f"{i}\n".encode() for i in range(50_000))
        sock.sendall(b"d" + struct.pack("!i", len(data) + 4) + data)
        sock.close()                             # gone before CopyDone
        for _ in range(100):
            if not srv._sessions:
                break
            time.sleep(0.05)
        assert not srv._sessions
    assert engine.execute("SELECT count(*) FROM dc").fetchone() == (0,)
    assert not engine.in_transaction


@pytest.mark.parametrize("loop", ["asyncio", "auto"])
def test_either_event_loop_serves(engine, monkeypatch, loop):
    """uvloop when installed (the default), asyncio's loop when asked or without it."""
    import rustmemodb
    monkeypatch.setenv("RUSTMEMODB_SERVER_LOOP", loop)
    with rustmemodb.serve(engine, auth="trust") as srv:
        module = type(srv._loop).__module__
        if loop == "asyncio":
            assert module.startswith("asyncio")
        with psycopg.connect(f"host=127.0.0.1 port={srv.port} user=u dbname=main",
                             autocommit=True) as conn:
            conn.execute("CREATE TABLE lp (i INTEGER)")
            with conn.cursor().copy("COPY lp FROM STDIN") as cp:
                cp.write("1\n2\n")
            assert conn.execute("SELECT sum(i) FROM lp").fetchone() == (3,)
