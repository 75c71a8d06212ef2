"""Wire-level tests with raw sockets: startup, extended-query rules, hostile input,
cancel, and a client that vanishes mid-transaction."""
from __future__ import annotations

import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

import rustmemodb

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def trust(engine):
    with rustmemodb.serve(engine, auth="trust") as srv:
        yield srv


def msg(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(payload) + 4) + payload


def cstr(s: str) -> bytes:
    return s.encode() + b"\x00"


class Raw:
    """A minimal frontend: enough to send any bytes and read backend messages."""

    def __init__(self, port: int, startup: bool = True, **params) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        if startup:
            self.startup(**params)

    def startup(self, **params) -> list:
        params = {"user": "tester", "database": "main", **params}
        body = struct.pack("!i", 196608) + b"".join(cstr(k) + cstr(v) for k, v in params.items())
        self.sock.sendall(struct.pack("!i", len(body) + 5) + body + b"\x00")
        return self.until(b"Z")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> tuple[bytes, bytes] | None:
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack("!i", self.buf[1:5])[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        n = struct.unpack("!i", self.buf[1:5])[0]
        kind, body, self.buf = self.buf[:1], self.buf[5:1 + n], self.buf[1 + n:]
        return kind, body

    def until(self, stop: bytes) -> list:
        out = []
        while True:
            m = self.read()
            if m is None:
                return out
            out.append(m)
            if m[0] == stop:
                return out

    def close(self) -> None:
        self.sock.close()


def fields(body: bytes) -> dict:
    out = {}
    for part in body.split(b"\x00"):
        if part:
            out[part[:1].decode()] = part[1:].decode()
    return out


def kinds(msgs) -> bytes:
    return b"".join(k for k, _ in msgs)


def healthy(port: int) -> bool:
    c = Raw(port)
    c.send(msg(b"Q", cstr("SELECT 41 + 1")))
    got = c.until(b"Z")
    c.close()
    return kinds(got) == b"TDCZ" and got[1][1].endswith(b"42")


def test_ssl_and_gssenc_requests_answered_n(trust):
    for code in (80877103, 80877104):
        c = Raw(trust.port, startup=False)
        c.send(struct.pack("!ii", 8, code))
        assert c.sock.recv(1) == b"N"
        got = c.startup()
        assert got[0] == (b"R", struct.pack("!i", 0))
        status = dict(b[:-1].split(b"\x00") for k, b in got if k == b"S")
        assert status[b"server_version"].startswith(b"15.")
        assert status[b"DateStyle"] == b"ISO, MDY"
        assert status[b"standard_conforming_strings"] == b"on"
        assert kinds(got)[-2:] == b"KZ" and got[-1][1] == b"I"
        c.close()


def test_unknown_database_and_protocol_version(trust):
    c = Raw(trust.port, startup=False)
    got = c.startup(database="nosuch")
    assert got[-1][0] == b"E" and fields(got[-1][1])["C"] == "3D000"
    assert fields(got[-1][1])["S"] == "FATAL"
    c = Raw(trust.port, startup=False)
    c.send(struct.pack("!ii", 8, 2 << 16))
    got = c.until(b"Z")
    assert fields(got[-1][1])["C"] == "0A000"


def test_extended_query_messages(trust):
    c = Raw(trust.port)
    c.send(msg(b"Q", cstr("CREATE TABLE t (id INTEGER, v TEXT)")))
    c.until(b"Z")
    # Parse with no parameter OIDs; Describe before any Bind; the INSERT must not run.
    c.send(msg(b"P", cstr("ins") + cstr("INSERT INTO t VALUES ($1, $2) RETURNING id")
               + struct.pack("!h", 0))
           + msg(b"D", b"S" + cstr("ins")) + msg(b"S"))
    got = c.until(b"Z")
    assert kinds(got) == b"1tTZ"
    assert struct.unpack("!hII", got[1][1]) == (2, 20, 25)
    c.send(msg(b"Q", cstr("SELECT count(*) FROM t")))
    assert c.until(b"Z")[1][1].endswith(b"0")
    # Bind text params (OID 0 → the inferred INTEGER), binary result; Execute; Sync.
    for i in range(5):
        c.send(msg(b"B", cstr("") + cstr("ins") + struct.pack("!h", 0) + struct.pack("!h", 2)
                   + struct.pack("!i", 1) + str(i).encode() + struct.pack("!i", 1) + b"x"
                   + struct.pack("!hh", 1, 1))
               + msg(b"E", cstr("") + struct.pack("!i", 0)))
    c.send(msg(b"S"))
    got = c.until(b"Z")
    assert kinds(got) == b"2DC" * 5 + b"Z"
    assert got[1][1] == struct.pack("!hii", 1, 4, 0)          # binary int4 (id INTEGER)
    assert got[2][1] == b"INSERT 0 1\x00"
    # Row limit → PortalSuspended, then the rest.
    c.send(msg(b"P", cstr("") + cstr("SELECT id FROM t ORDER BY id") + struct.pack("!h", 0))
           + msg(b"B", cstr("p1") + cstr("") + struct.pack("!hhh", 0, 0, 0))
           + msg(b"E", cstr("p1") + struct.pack("!i", 2))
           + msg(b"E", cstr("p1") + struct.pack("!i", 2))
           + msg(b"E", cstr("p1") + struct.pack("!i", 0)) + msg(b"S"))
    got = c.until(b"Z")
    assert kinds(got) == b"12DDsDDsDCZ"
    assert got[-2][1] == b"SELECT 1\x00"
    # Close a statement, then Bind to it: error, skip to Sync.
    c.send(msg(b"C", b"S" + cstr("ins")) + msg(b"S"))
    assert kinds(c.until(b"Z")) == b"3Z"
    c.send(msg(b"B", cstr("") + cstr("ins") + struct.pack("!hhh", 0, 0, 0))
           + msg(b"E", cstr("") + struct.pack("!i", 0))
           + msg(b"P", cstr("") + cstr("SELECT 1") + struct.pack("!h", 0)) + msg(b"S"))
    got = c.until(b"Z")
    assert kinds(got) == b"EZ" and fields(got[0][1])["C"] == "26000"
    # Empty statement, and Flush without Sync.
    c.send(msg(b"P", cstr("") + cstr("") + struct.pack("!h", 0))
           + msg(b"B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0))
           + msg(b"E", cstr("") + struct.pack("!i", 0)) + msg(b"H"))
    assert [c.read()[0] for _ in range(3)] == [b"1", b"2", b"I"]
    c.send(msg(b"X"))
    assert c.read() is None


def test_error_inside_transaction_gives_status_e(trust):
    c = Raw(trust.port)
    c.send(msg(b"Q", cstr("BEGIN")))
    assert c.until(b"Z")[-1][1] == b"T"
    c.send(msg(b"Q", cstr("SELECT 1 / 0")))
    got = c.until(b"Z")
    assert fields(got[0][1])["C"] == "22012" and got[-1][1] == b"E"
    c.send(msg(b"Q", cstr("ROLLBACK")))
    assert c.until(b"Z")[-1][1] == b"I"


@pytest.mark.parametrize("garbage", [
    msg(b"Q", b"no terminator"),                              # truncated cstring
    b"\x01" + struct.pack("!i", 8) + b"abcd",                 # unknown message type
    b"Q" + struct.pack("!i", 0x7FFFFFF0),                     # huge length
    b"Q" + struct.pack("!i", 2),                              # length below 4
    msg(b"B", cstr("") + cstr("") + struct.pack("!h", 1)),    # truncated Bind
    msg(b"D", b"Z" + cstr("x")),                              # bad Describe subtype
])
def test_malformed_message_closes_only_that_connection(trust, garbage):
    other = Raw(trust.port)
    c = Raw(trust.port)
    c.send(garbage)
    got = c.until(b"Z")
    assert got and got[-1][0] == b"E" and fields(got[-1][1])["C"] == "08P01"
    assert c.read() is None                                  # closed by the server
    other.send(msg(b"Q", cstr("SELECT 1")))
    assert kinds(other.until(b"Z")) == b"TDCZ"
    assert healthy(trust.port)


def test_random_bytes_fuzz(trust):
    rng = random.Random(1234)
    for _ in range(40):
        c = Raw(trust.port, startup=rng.random() < 0.7)
        c.send(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
        c.sock.shutdown(socket.SHUT_WR)
        c.until(b"\xff")              # read whatever comes until the server closes
        c.close()
    assert healthy(trust.port)


# Bounded, so a cancel that never arrives fails by timeout instead of eating memory.
SLOW = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000) "
        "SELECT count(*) FROM r")


@pytest.mark.timeout(120)
def test_cancel_request_interrupts_running_statement(server, dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        # cancel_safe: libpq 17's non-blocking cancel. The legacy conn.cancel() (PQcancel)
        # keeps the GIL while it waits, so it cannot reach a server in its own process.
        timer = threading.Timer(0.5, conn.cancel_safe)
        timer.start()
        with pytest.raises(psycopg.errors.QueryCanceled) as info:
            conn.execute(SLOW)
        timer.join()
        assert info.value.sqlstate == "57014"
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.timeout(120)
def test_raw_cancel_request(trust):
    c = Raw(trust.port)
    session = next(iter(trust._sessions.values()))

    def cancel():
        k = socket.create_connection(("127.0.0.1", trust.port))
        k.sendall(struct.pack("!iiii", 16, 80877102, session.pid, session.secret))
        k.recv(1)
        k.close()
    timer = threading.Timer(0.5, cancel)
    timer.start()
    c.send(msg(b"Q", cstr(SLOW)))
    got = c.until(b"Z")
    timer.join()
    assert fields(got[0][1])["C"] == "57014" and got[-1][1] == b"I"


def test_cancel_with_wrong_secret_is_ignored(trust):
    c = Raw(trust.port)
    c.send(msg(b"Q", cstr("SELECT 1")))
    c.until(b"Z")
    pid = next(iter(trust._sessions))
    bogus = socket.create_connection(("127.0.0.1", trust.port))
    bogus.sendall(struct.pack("!iiii", 16, 80877102, pid, 12345))
    assert bogus.recv(10) == b""
    bogus.close()
    c.send(msg(b"Q", cstr("SELECT 2")))
    assert kinds(c.until(b"Z")) == b"TDCZ"


def test_client_vanishing_mid_transaction_rolls_back(trust, engine):
    engine.execute("CREATE TABLE v (id INTEGER PRIMARY KEY)")
    c = Raw(trust.port)
    c.send(msg(b"Q", cstr("BEGIN; INSERT INTO v VALUES (1)")))
    assert c.until(b"Z")[-1][1] == b"T"
    c.sock.close()                                # no Terminate, no ROLLBACK
    deadline = time.monotonic() + 30
    while trust._sessions and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not trust._sessions
    assert engine.execute("SELECT count(*) FROM v").fetchone() == (0,)
    engine.execute("INSERT INTO v VALUES (1)")    # no lingering conflict
    assert engine.execute("SELECT count(*) FROM v").fetchone() == (1,)


def test_auth_configuration_rules(engine):
    with pytest.raises(ValueError, match="loopback"):
        rustmemodb.serve(engine, host="0.0.0.0", auth="trust")
    with pytest.raises(ValueError, match="users"):
        rustmemodb.serve(engine)


def test_close_disconnects_clients(engine):
    srv = rustmemodb.serve(engine, auth="trust")
    c = Raw(srv.port)
    c.send(msg(b"Q", cstr("BEGIN")))
    c.until(b"Z")
    srv.close()
    assert c.read() is None
    assert not engine.in_transaction
    srv.close()                                   # idempotent


def test_console_main(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-m", "rustmemodb.server", "--port", "0",
                             "--user", "admin", "--password", "pw", "--db", str(tmp_path / "db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in line, proc.stderr.read() if not line else line
        port = int(line.rsplit(":", 1)[1])
        with psycopg.connect(host="127.0.0.1", port=port, user="admin", password="pw",
                             dbname="main", autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (x INTEGER)")
            conn.execute("INSERT INTO kept VALUES (7)")
            assert conn.execute("SELECT x FROM kept").fetchone() == (7,)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert rustmemodb.connect(str(tmp_path / "db")).execute("SELECT x FROM kept").fetchone() == (7,)


def _bind(stmt: str, params: list, fmt: int = 0, result: tuple = (), portal: str = "") -> bytes:
    body = cstr(portal) + cstr(stmt) + struct.pack("!hh", 1, fmt) + struct.pack("!h", len(params))
    for p in params:
        body += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    return msg(b"B", body + struct.pack(f"!h{len(result)}h", len(result), *result))


_POINT_GROUPS = [
    # (Bind, Describe the portal?, Execute row limit)
    (_bind("sel", [b"1"]), True, 0),
    (_bind("sel", [b"999"]), True, 0),                    # no row
    (_bind("sel", [b"2"], result=(1,)), True, 0),         # binary result
    (_bind("sel", [b"3"]), False, 0),                     # no Describe (psycopg)
    (_bind("upd", [b"x", b"1"]), True, 0),
    (_bind("upd", [b"y", b"999"]), False, 0),             # UPDATE 0
    (_bind("ins", [b"50", b"new"]), True, 0),
    (_bind("ins", [b"1", b"dup"]), True, 0),              # 23505
    (_bind("sel", [b"abc"]), True, 0),                    # 22P02 from the Bind
    (_bind("sel", [b"1", b"2"]), True, 0),                # parameter count: 08P01
    (_bind("nosuch", [b"1"]), True, 0),                   # 26000
    (_bind("sel", [b"1"], portal="named"), True, 0),      # a named portal
    (_bind("sel", [b"4"]), True, 1),                      # a row limit
    (_bind("sel", [b"5"], result=(1, 1)), True, 0),       # too many result formats
    (_bind("del", [b"50"]), True, 0),
    (_bind("sel", [b"50"]), True, 0),
]


def _point_session(port: int, split: bool) -> list:
    c = Raw(port)
    c.send(msg(b"Q", cstr("CREATE TABLE pt (id INTEGER PRIMARY KEY, v TEXT); "
                          "INSERT INTO pt SELECT i, 'v' || i FROM generate_series(1, 10) i")))
    c.until(b"Z")
    for name, sql in (("sel", "SELECT id, v FROM pt WHERE id = $1"),
                      ("upd", "UPDATE pt SET v = $1 WHERE id = $2"),
                      ("ins", "INSERT INTO pt VALUES ($1, $2)"),
                      ("del", "DELETE FROM pt WHERE id = $1")):
        c.send(msg(b"P", cstr(name) + cstr(sql) + struct.pack("!h", 0)) + msg(b"S"))
        assert kinds(c.until(b"Z")) == b"1Z"
    replies = []
    for bind, describe, limit in _POINT_GROUPS * 2:
        portal = bind[5:bind.index(b"\x00", 5) + 1]
        parts = [bind] + ([msg(b"D", b"P" + portal)] if describe else []) \
            + [msg(b"E", portal + struct.pack("!i", limit)), msg(b"S")]
        if split:                       # one message at a time: the ordinary handlers
            for part in parts:
                c.send(part)
                time.sleep(0.01)
        else:
            c.send(b"".join(parts))
        replies.append(c.until(b"Z"))
    c.close()
    return replies


def test_point_groups_answer_as_the_ordinary_handlers(monkeypatch):
    """Bind/Describe/Execute/Sync of a prepared point statement received at once run
    as one step (session._point_group, or _read_now when it arrives alone; a SELECT's
    answered as it arrives, by _answer_now): the replies are byte for byte those of the same messages received
    one by one, errors included."""
    from rustmemodb.server.session import ClientSession
    ran = []
    real = ClientSession._point_group

    def counted(self, *args, **kwargs):
        group = real(self, *args, **kwargs)
        if group is not None:
            ran.append(group[-1])
        return group

    monkeypatch.setattr(ClientSession, "_point_group", counted)
    real_now = ClientSession._read_now      # the one-step way (fastread.py) counts too

    def counted_now(self, data, start, end, *args):
        took = real_now(self, data, start, end, *args)
        if took:
            name = bytes(data[start + 1:data.index(b"\x00", start + 1)]).decode()
            ran.append(self.statements[name].sql.split()[0].upper())
        return took

    monkeypatch.setattr(ClientSession, "_read_now", counted_now)
    from rustmemodb.server import session as session_module
    encoded = []
    real_rows = session_module._point_rows

    def point_rows(*args):
        reply = real_rows(*args)
        encoded.append(reply is not None)
        return reply

    monkeypatch.setattr(session_module, "_point_rows", point_rows)
    results = []
    for split in (False, True):
        engine = rustmemodb.connect()
        try:
            with rustmemodb.serve(engine, auth="trust") as srv:
                results.append(_point_session(srv.port, split))
        finally:
            engine.close()
        if not split:
            assert set(ran) == {"SELECT", "UPDATE", "INSERT", "DELETE"}
            fast = len(ran)
    assert len(ran) == fast          # none when the messages come one by one
    assert any(encoded) or "SELECT" in ran   # rows encoded by the statement's own encoders
    assert results[0] == results[1]
    errors_seen = {fields(body)["C"] for reply in results[0] for k, body in reply if k == b"E"}
    assert {"23505", "22P02", "08P01", "26000"} <= errors_seen


@pytest.fixture
def answered(monkeypatch) -> list:
    """Whether each call of the read callback's ``_answer_now`` took its data."""
    from rustmemodb.server.session import ClientSession
    taken: list = []
    real = ClientSession._answer_now

    def counted(self, data):
        took = real(self, data)
        taken.append(took)
        return took

    monkeypatch.setattr(ClientSession, "_answer_now", counted)
    return taken


def test_point_select_answered_as_it_arrives(answered):
    """A prepared point SELECT's Bind/Describe/Execute/Sync arriving alone while the
    session waits is answered by the protocol's read callback (_answer_now); two groups
    in one packet, a group behind an unanswered Parse, or an UPDATE go through the
    message loop. The replies are the same either way."""

    def group(key: bytes, describe: bool = True) -> bytes:
        return (_bind("sel", [key]) + (msg(b"D", b"P\x00") if describe else b"")
                + msg(b"E", b"\x00" + struct.pack("!i", 0)) + msg(b"S"))

    engine = rustmemodb.connect()
    try:
        with rustmemodb.serve(engine, auth="trust") as srv:
            c = Raw(srv.port)
            c.send(msg(b"Q", cstr("CREATE TABLE pt (id INTEGER PRIMARY KEY, v TEXT); "
                                  "INSERT INTO pt VALUES (1, 'one'), (2, 'two')")))
            c.until(b"Z")
            c.send(msg(b"P", cstr("sel") + cstr("SELECT id, v FROM pt WHERE id = $1")
                       + struct.pack("!h", 0)) + msg(b"S"))
            c.until(b"Z")
            c.send(group(b"1"))                       # the first run caches the plan
            first = c.until(b"Z")
            answered.clear()
            c.send(group(b"1"))
            one = c.until(b"Z")
            assert answered == [True] and kinds(one) == b"2TDCZ" and one == first
            assert one[2][1].endswith(b"one")
            c.send(group(b"2", describe=False))
            assert kinds(c.until(b"Z")) == b"2DCZ" and answered[-1] is True
            c.send(group(b"abc"))                     # a parameter that does not parse
            bad = c.until(b"Z")
            assert kinds(bad) == b"EZ" and fields(bad[0][1])["C"] == "22P02"
            answered.clear()
            c.send(group(b"1") + group(b"2"))         # pipelined: the message loop's way
            assert kinds(c.until(b"Z") + c.until(b"Z")) == b"2TDCZ2TDCZ"
            assert True not in answered
            answered.clear()
            c.send(msg(b"P", cstr("upd") + cstr("UPDATE pt SET v = $1 WHERE id = $2")
                       + struct.pack("!h", 0)))       # no Sync: replies in order
            c.send(group(b"1"))
            assert kinds(c.until(b"Z")) == b"12TDCZ"
            c.send(_bind("upd", [b"uno", b"1"]) + msg(b"E", b"\x00" + struct.pack("!i", 0))
                   + msg(b"S"))
            assert kinds(c.until(b"Z")) == b"2CZ" and answered[-1] is False
            c.send(group(b"1"))
            reply = c.until(b"Z")
            assert reply[2][1].endswith(b"uno") and answered[-1] is True
            c.close()
    finally:
        engine.close()


_POINT_QUERIES = [
    "SELECT id, v FROM pt WHERE id = 1",
    "SELECT id, v FROM pt WHERE id = 2;",
    "SELECT id, v FROM pt WHERE id = 99",                 # no row
    "  SELECT v FROM pt WHERE id = 1  ",
    "SELECT id, v FROM pt WHERE id = 1; SELECT id, v FROM pt WHERE id = 2",
    "SELECT id, v FROM pt WHERE id = 'x'",                # 42804 with a position
    "SELECT nosuch FROM pt WHERE id = 1",                 # 42703
    "SELEC 1",                                            # 42601
    "",
    "BEGIN", "SELECT id, v FROM pt WHERE id = 1", "SELECT 1/0", "SELECT id, v FROM pt WHERE id = 1",
    "ROLLBACK",
]


def _query_session(port: int) -> list:
    c = Raw(port)
    c.send(msg(b"Q", cstr("CREATE TABLE pt (id INTEGER PRIMARY KEY, v TEXT); "
                          "INSERT INTO pt VALUES (1, 'one'), (2, 'two')")))
    c.until(b"Z")
    replies = []
    for sql in _POINT_QUERIES * 2:
        c.send(msg(b"Q", cstr(sql)))
        replies.append(c.until(b"Z"))
    c.close()
    return replies


def test_point_queries_answered_as_they_arrive(answered, monkeypatch):
    """A Query of one point SELECT is answered by the protocol's read callback
    (_answer_now -> _query_now); the replies are byte for byte those of the general
    way (on_query with _query_now declining), errors, positions and a failed
    transaction included."""
    from rustmemodb.server.session import ClientSession
    results = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(ClientSession, "_query_now", lambda self, sql: False)
        engine = rustmemodb.connect()
        try:
            with rustmemodb.serve(engine, auth="trust") as srv:
                results.append(_query_session(srv.port))
        finally:
            engine.close()
        if fast:
            assert answered.count(True) >= 5
    assert results[0] == results[1]
    codes = {fields(body)["C"] for reply in results[0] for k, body in reply if k == b"E"}
    assert {"42804", "42703", "42601", "22012", "25P02"} <= codes


def test_pipelined_syncs_reply_in_one_write(monkeypatch):
    """Groups already received when a reply ends (a pipelining client: Bind/Execute/
    Sync after Bind/Execute/Sync in one packet) are answered together: one socket
    write for the batch (ClientSession._reply), replies in order and the same as one
    group at a time."""
    from rustmemodb.server.session import ClientSession
    writes = []
    real = ClientSession._write

    def counted(self):
        if self.out:
            writes.append(bytes(self.out).count(b"Z\x00\x00\x00\x05"))
        return real(self)

    monkeypatch.setattr(ClientSession, "_write", counted)

    def group(stmt: str, *params: bytes) -> bytes:
        return _bind(stmt, list(params)) + msg(b"E", b"\x00" + struct.pack("!i", 0)) + msg(b"S")

    engine = rustmemodb.connect()
    try:
        with rustmemodb.serve(engine, auth="trust") as srv:
            c = Raw(srv.port)
            c.send(msg(b"Q", cstr("CREATE TABLE pt (id INTEGER PRIMARY KEY, v TEXT); "
                                  "INSERT INTO pt VALUES (1, 'one'), (2, 'two')")))
            c.until(b"Z")
            c.send(msg(b"P", cstr("sel") + cstr("SELECT v FROM pt WHERE id = $1")
                       + struct.pack("!h", 0))
                   + msg(b"P", cstr("upd") + cstr("UPDATE pt SET v = $1 WHERE id = $2")
                         + struct.pack("!h", 0)) + msg(b"S"))
            c.until(b"Z")
            batch = [group("sel", b"1"), group("upd", b"uno", b"1"), group("sel", b"1"),
                     group("sel", b"x"), group("sel", b"2"),
                     msg(b"Q", cstr("SELECT v FROM pt WHERE id = 2"))]
            one_by_one = []
            for g in batch:
                c.send(g)
                one_by_one.append(c.until(b"Z"))
            c.send(group("upd", b"one", b"1"))
            c.until(b"Z")
            writes.clear()
            c.send(b"".join(batch))
            together = [c.until(b"Z") for _ in batch]
            assert together == one_by_one
            assert kinds(together[3]) == b"EZ"               # 22P02, and the rest go on
            assert writes == [len(batch)]
            c.close()
    finally:
        engine.close()
