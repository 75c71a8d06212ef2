"""A prepared point SELECT answered in one step (server/fastread.py, ClientSession._read_now):
byte for byte the ordinary replies, and never a stale plan, a skipped privilege check or
a read outside the session's transaction."""
from __future__ import annotations

import struct

import pytest
import rustmemodb
from rustmemodb.server.session import ClientSession
from test_protocol import Raw, _bind, cstr, fields, kinds, msg

pytest.importorskip("psycopg")


@pytest.fixture
def fast_reads(monkeypatch) -> list:
    """Whether each call of ``ClientSession._read_now`` answered."""
    taken: list = []
    real = ClientSession._read_now

    def counted(self, *args):
        took = real(self, *args)
        taken.append(took)
        return took

    monkeypatch.setattr(ClientSession, "_read_now", counted)
    return taken


def _group(stmt: str, params: list, describe: bool = True, fmt: int = 0,
           result: tuple = ()) -> bytes:
    return (_bind(stmt, params, fmt, result) + (msg(b"D", b"P\x00") if describe else b"")
            + msg(b"E", b"\x00" + struct.pack("!i", 0)) + msg(b"S"))


def _parse(c: Raw, name: str, sql: str, oids: tuple = ()) -> list:
    c.send(msg(b"P", cstr(name) + cstr(sql) + struct.pack(f"!h{len(oids)}i", len(oids), *oids))
           + msg(b"S"))
    return c.until(b"Z")


def _query(c: Raw, sql: str) -> list:
    c.send(msg(b"Q", cstr(sql)))
    return c.until(b"Z")


_SETUP = ("CREATE TABLE ft (id INTEGER PRIMARY KEY, v TEXT, f FLOAT, b BOOLEAN, "
          "ts TIMESTAMP, u UUID, j JSON); "
          "INSERT INTO ft VALUES (1, 'one', 1.5, true, '2024-01-02 03:04:05', "
          "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"k\": [1, 2]}'), "
          "(2, NULL, NULL, NULL, NULL, NULL, NULL), (3, 'drei', -0.25, false, "
          "'1999-12-31 23:59:59.5', NULL, 'null')")

_GROUPS = [
    # (statement, params, describe, parameter format, result formats)
    ("all", [b"1"], True, 0, ()),
    ("all", [b"1"], True, 0, ()),
    ("all", [b"2"], True, 0, ()),                      # NULLs
    ("all", [b"3"], False, 0, ()),                     # no Describe
    ("all", [b"99"], True, 0, ()),                     # no row
    ("all", [b"1"], True, 0, (1,)),                    # binary results
    ("all", [b"3"], True, 0, (0, 1, 0, 1, 0, 1, 0)),   # mixed formats
    ("all", [struct.pack("!q", 1)], True, 1, ()),      # a binary parameter
    ("all", [None], True, 0, ()),                      # NULL key: no row
    ("all", [b" 2 "], True, 0, ()),                    # spaces around the number
    ("all", [b"abc"], True, 0, ()),                    # 22P02
    ("all", [b"99999999999999999999"], True, 0, ()),   # out of range
    ("all", [b"1", b"2"], True, 0, ()),                # parameter count: 08P01
    ("all", [b"\xff"], True, 0, ()),                   # not UTF-8
    ("all", [struct.pack("!i", 1)], True, 1, ()),      # binary int8 of 4 bytes
    ("pick", [b"3"], True, 0, ()),                     # one column picked
    ("pick", [b"1"], True, 0, (1,)),
    ("pick2", [b"1"], True, 0, ()),                    # two, out of order
    ("typed", [b"1"], True, 0, ()),                    # the client gave the oid
    ("bytext", [b"one"], True, 0, ()),                 # a TEXT key (unique index)
    ("bytext", [b"nope"], True, 0, ()),
]


def _session(port: int) -> list:
    c = Raw(port)
    _query(c, _SETUP)
    _query(c, "CREATE UNIQUE INDEX ft_v ON ft (v)")
    for name, sql, oids in (("all", "SELECT * FROM ft WHERE id = $1", ()),
                            ("pick", "SELECT v FROM ft WHERE id = $1", ()),
                            ("pick2", "SELECT f, id FROM ft WHERE id = $1", ()),
                            ("typed", "SELECT id, v FROM ft WHERE id = $1", (23,)),
                            ("bytext", "SELECT id FROM ft WHERE v = $1", ())):
        assert kinds(_parse(c, name, sql, oids)) == b"1Z"
    replies = []
    for _ in range(2):
        for name, params, describe, fmt, result in _GROUPS:
            c.send(_group(name, params, describe, fmt, result))
            replies.append(c.until(b"Z"))
        # the same, several groups in one packet: the message loop's way
        c.send(b"".join(_group(name, params, describe, fmt, result)
                        for name, params, describe, fmt, result in _GROUPS[:6]))
        replies.extend(c.until(b"Z") for _ in range(6))
    c.close()
    return replies


def test_fast_reads_answer_as_the_ordinary_way(fast_reads, monkeypatch):
    """The same groups, with the one-step answer and without it (``_read_now``
    declining): the same bytes, errors included; most were answered in one step."""
    results = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(ClientSession, "_read_now", lambda self, *args: False)
        engine = rustmemodb.connect()
        try:
            with rustmemodb.serve(engine, auth="trust") as srv:
                results.append(_session(srv.port))
        finally:
            engine.close()
        if fast:
            assert fast_reads.count(True) >= 2 * 12
    assert results[0] == results[1]
    codes = {fields(body)["C"] for reply in results[0] for k, body in reply if k == b"E"}
    assert {"22P02", "08P01"} <= codes


def _run(c: Raw, stmt: str, key: bytes) -> list:
    c.send(_group(stmt, [key]))
    return c.until(b"Z")


def _cell(reply: list) -> bytes | None:
    rows = [body for k, body in reply if k == b"D"]
    assert len(rows) == 1, reply
    n = struct.unpack("!i", rows[0][2:6])[0]
    return None if n < 0 else rows[0][6:6 + n]


def _code(reply: list) -> str | None:
    errors = [fields(body)["C"] for k, body in reply if k == b"E"]
    return errors[0] if errors else None


def test_fast_read_follows_ddl(engine, fast_reads):
    """A statement answered in one step sees DDL at once: a changed column type, a
    dropped and recreated table, a dropped column (the ordinary error), a dropped table
    (42P01); nothing read from a plan made before."""
    with rustmemodb.serve(engine, auth="trust") as srv:
        c = Raw(srv.port)
        _query(c, "CREATE TABLE d (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO d VALUES (1, 'a')")
        _parse(c, "s", "SELECT v FROM d WHERE id = $1")
        assert _cell(_run(c, "s", b"1")) == b"a"
        fast_reads.clear()
        assert _cell(_run(c, "s", b"1")) == b"a" and fast_reads == [True]
        _query(c, "DROP TABLE d; CREATE TABLE d (id INTEGER PRIMARY KEY, v TEXT); "
                  "INSERT INTO d VALUES (1, 'b')")
        assert _cell(_run(c, "s", b"1")) == b"b"
        assert _cell(_run(c, "s", b"1")) == b"b" and fast_reads[-1] is True
        _query(c, "UPDATE d SET v = 'c' WHERE id = 1")          # a write: no DDL
        assert _cell(_run(c, "s", b"1")) == b"c" and fast_reads[-1] is True
        _query(c, "ALTER TABLE d ADD COLUMN w INTEGER")
        assert _cell(_run(c, "s", b"1")) == b"c"
        _query(c, "ALTER TABLE d DROP COLUMN v")
        reply = _run(c, "s", b"1")
        assert _code(reply) is not None and fast_reads[-1] is False
        _query(c, "DROP TABLE d")
        assert _code(_run(c, "s", b"1")) == "42P01"
        c.close()


def test_fast_read_inside_a_transaction_reads_the_transaction(engine, fast_reads):
    """Inside BEGIN the statement reads the transaction's own writes (the ordinary
    way); after ROLLBACK the committed row again, in one step."""
    with rustmemodb.serve(engine, auth="trust") as srv:
        c = Raw(srv.port)
        _query(c, "CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO x VALUES (1, 'a')")
        _parse(c, "s", "SELECT v FROM x WHERE id = $1")
        _run(c, "s", b"1")
        assert _cell(_run(c, "s", b"1")) == b"a" and fast_reads[-1] is True
        _query(c, "BEGIN; UPDATE x SET v = 'mine' WHERE id = 1")
        reply = _run(c, "s", b"1")
        assert _cell(reply) == b"mine" and reply[-1][1] == b"T"
        _query(c, "ROLLBACK")
        assert _cell(_run(c, "s", b"1")) == b"a" and fast_reads[-1] is True
        c.close()


def test_fast_read_sees_a_temporary_table(engine, fast_reads):
    """A temporary table of the session hides the table of the same name: the statement
    prepared before reads it then (the shared plan is not used), and the table again
    once it is dropped."""
    with rustmemodb.serve(engine, auth="trust") as srv:
        c = Raw(srv.port)
        _query(c, "CREATE TABLE tt (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO tt VALUES (1, 'shared')")
        _parse(c, "s", "SELECT v FROM tt WHERE id = $1")
        _run(c, "s", b"1")
        assert _cell(_run(c, "s", b"1")) == b"shared" and fast_reads[-1] is True
        _query(c, "CREATE TEMP TABLE tt (id INTEGER PRIMARY KEY, v TEXT); "
                  "INSERT INTO tt VALUES (1, 'temp')")
        assert _cell(_run(c, "s", b"1")) == b"temp"
        _query(c, "DROP TABLE tt")
        assert _cell(_run(c, "s", b"1")) == b"shared"
        c.close()


def test_fast_read_checks_privileges(tmp_path, fast_reads):
    """With roles, a role's reads are checked every time: a REVOKE (by another session)
    and a SET ROLE to a role without the privilege make the next execution 42501;
    search_path changes nothing."""
    engine = rustmemodb.connect()
    try:
        engine.execute("CREATE ROLE admin SUPERUSER LOGIN PASSWORD 'pw'")
        engine.execute("CREATE ROLE alice LOGIN PASSWORD 'pw'")
        engine.execute("CREATE ROLE nobody")
        engine.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT)")
        engine.execute("INSERT INTO p VALUES (1, 'secret')")
        engine.execute("GRANT SELECT ON p TO alice")
        engine.execute("GRANT nobody TO alice")
        with rustmemodb.serve(engine, auth="password") as srv:
            import psycopg
            admin = psycopg.connect(host="127.0.0.1", port=srv.port, user="admin",
                                    password="pw", dbname="main", autocommit=True)
            alice = psycopg.connect(host="127.0.0.1", port=srv.port, user="alice",
                                    password="pw", dbname="main", autocommit=True,
                                    prepare_threshold=0)
            sql = "SELECT v FROM p WHERE id = %s"
            for _ in range(3):
                assert alice.execute(sql, (1,)).fetchone() == ("secret",)
            # a role holding the privilege is answered by the fast path too (its check
            # remembered per roles catalog), and so is a superuser
            assert any(fast_reads)
            fast_reads.clear()
            for _ in range(3):
                assert admin.execute(sql, (1,), prepare=True).fetchone() == ("secret",)
            assert any(fast_reads)
            alice.execute("SET search_path = public")
            assert alice.execute(sql, (1,)).fetchone() == ("secret",)
            alice.execute("SET ROLE nobody")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                alice.execute(sql, (1,))
            alice.execute("RESET ROLE")
            assert alice.execute(sql, (1,)).fetchone() == ("secret",)
            admin.execute("REVOKE SELECT ON p FROM alice")     # a superuser, as the owner
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                alice.execute(sql, (1,))
            alice.close()
            admin.close()
    finally:
        engine.close()


_SIMPLE = [
    "SELECT * FROM ft WHERE id = 1", "SELECT * FROM ft WHERE id = 2",
    "SELECT * FROM ft WHERE id = 3;", "SELECT * FROM ft WHERE id = 99",
    "  SELECT v FROM ft WHERE id = 3  ", "SELECT v FROM ft WHERE id = 2",
    "SELECT f, id FROM ft WHERE id = 1", "SELECT f, id FROM ft WHERE id = 3",
    "SELECT id FROM ft WHERE v = 'one'", "SELECT id FROM ft WHERE v = 'drei'",
    "SELECT * FROM ft WHERE id = 1.5",                      # another shape
    "SELECT * FROM ft WHERE id = 99999999999999999999",     # a numeric: no rows
    "SELECT * FROM ft WHERE id = 99999999999999999999::bigint",    # out of range
    "SELECT * FROM ft WHERE id = '1'",                      # 42804
    "SELECT * FROM ft WHERE id = 1; SELECT 2",
    "ALTER TABLE ft ADD COLUMN z INTEGER",
    "SELECT * FROM ft WHERE id = 1", "SELECT * FROM ft WHERE id = 3",
    "BEGIN", "UPDATE ft SET v = 'mine' WHERE id = 1", "SELECT v FROM ft WHERE id = 1",
    "ROLLBACK", "SELECT v FROM ft WHERE id = 1",
    "CREATE TEMP TABLE ft (id INTEGER PRIMARY KEY, v TEXT)",
    "INSERT INTO ft VALUES (1, 'temp')", "SELECT v FROM ft WHERE id = 1",
    "DROP TABLE ft", "SELECT v FROM ft WHERE id = 1", "SELECT v FROM ft WHERE id = 3",
    "ALTER TABLE ft DROP COLUMN v", "SELECT v FROM ft WHERE id = 1",
    "DROP TABLE ft", "SELECT * FROM ft WHERE id = 1",
]


def test_simple_reads_answer_as_the_general_way(monkeypatch):
    """Queries of one key probe, answered in one step (``_simple_read``) and the
    general way: the same bytes, through DDL, a transaction, a temporary table of the
    same name and a dropped table; most answered in one step."""
    results, taken = [], []
    real = ClientSession._simple_read
    for fast in (True, False):
        if fast:
            def counted(self, text):
                took = real(self, text)
                taken.append(took)
                return took
            monkeypatch.setattr(ClientSession, "_simple_read", counted)
        else:
            monkeypatch.setattr(ClientSession, "_simple_read", lambda self, text: False)
        engine = rustmemodb.connect()
        try:
            with rustmemodb.serve(engine, auth="trust") as srv:
                c = Raw(srv.port)
                _query(c, _SETUP)
                _query(c, "CREATE UNIQUE INDEX ft_v ON ft (v)")
                results.append([_query(c, sql) for sql in _SIMPLE[:10] * 3 + _SIMPLE])
                c.close()
        finally:
            engine.close()
    assert taken.count(True) >= 12
    assert results[0] == results[1]
    codes = {fields(body)["C"] for reply in results[0] for k, body in reply if k == b"E"}
    assert {"42804", "22003", "42P01"} <= codes


_WRITES = [
    ("ins", [b"10", b"ten"]), ("ins", [b"11", None]), ("ins", [b"10", b"again"]),   # 23505
    ("ins", [b"x", b"bad"]),                                                    # 22P02
    ("upd", [b"TEN", b"10"]), ("upd", [b"none", b"999"]),                      # UPDATE 0
    ("upd", [None, b"10"]),                                                     # 23502
    ("del", [b"11"]), ("del", [b"11"]),
    ("sel", [b"10"]),
]


def _write_session(port: int) -> list:
    c = Raw(port)
    _query(c, "CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT 'd')")
    for name, sql in (("ins", "INSERT INTO w (id, v) VALUES ($1, coalesce($2, 'nil'))"),
                      ("upd", "UPDATE w SET v = $1 WHERE id = $2"),
                      ("del", "DELETE FROM w WHERE id = $1"),
                      ("sel", "SELECT id, v FROM w WHERE id = $1")):
        assert kinds(_parse(c, name, sql)) == b"1Z"
    replies = []
    for _ in range(3):
        for name, params in _WRITES:
            c.send(_group(name, params, describe=name != "del"))
            replies.append(c.until(b"Z"))
        _query(c, "DELETE FROM w")
    c.close()
    return replies


def test_point_writes_decoded_in_one_step(tmp_path, fast_reads, monkeypatch):
    """A point write's Bind decoded by its statement's BindShape (``_read_now`` with
    ``writes``) replies as the ordinary way, errors included, on a database with sync
    durability; what was acknowledged is there after reopening."""
    results = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(ClientSession, "_read_now", lambda self, *args: False)
        path = str(tmp_path / ("fast" if fast else "slow"))
        engine = rustmemodb.connect(path, "sync")
        try:
            with rustmemodb.serve(engine, auth="trust") as srv:
                results.append(_write_session(srv.port))
                c = Raw(srv.port)
                _parse(c, "ins", "INSERT INTO w VALUES ($1, $2)")
                for i in range(20):
                    c.send(_group("ins", [str(100 + i).encode(), b"kept"]))
                    assert kinds(c.until(b"Z")) == b"2nCZ"
                c.close()
        finally:
            engine.close()
        reopened = rustmemodb.connect(path, "sync")
        try:
            assert reopened.execute("SELECT count(*) FROM w WHERE v = 'kept'").fetchone() == (20,)
        finally:
            reopened.close()
        if fast:
            assert fast_reads.count(True) >= 20
    assert results[0] == results[1]
    codes = {fields(body)["C"] for reply in results[0] for k, body in reply if k == b"E"}
    assert {"23505", "22P02", "23502"} <= codes
