"""Roles and privileges, embedded: the parser, verifiers, login, the privilege check,
durability (reopen and SIGKILL) and the roles catalogs.

The SQL behaviour itself (GRANT/REVOKE/SET ROLE outcomes) is in
``tests/sql/auth/privileges.test``, replayed on PostgreSQL 15 too; the wire side
is ``tests/server/test_roles_wire.py``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys

import pytest

import rustmemodb
from rustmemodb.auth import verifier
from rustmemodb.sql import parse_roles

from .raised import sqlstate as _sqlstate


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    c.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    yield c
    c.close()


# ---- the hand parser -----------------------------------------------------------------------

def test_parser_reads_role_statements():
    s = parse_roles.parse("CREATE USER \"Mixed\" WITH SUPERUSER CONNECTION LIMIT 3 "
                          "ENCRYPTED PASSWORD 'it''s' VALID UNTIL 'infinity' IN ROLE a, b")
    assert (s.action, s.names, s.kind) == ("create", ["Mixed"], "CREATE ROLE")
    assert s.options == {"superuser": True, "connlimit": 3, "password": "it's",
                         "valid_until": "infinity", "in_role": ["a", "b"]}
    g = parse_roles.parse("grant select, insert on all tables in schema public to a, public "
                          "with grant option")
    assert (g.grant, g.privileges, g.target, g.objects, g.grantees, g.grant_option) == \
        (True, ["SELECT", "INSERT"], "all_tables", ["public"], ["a", ""], True)
    r = parse_roles.parse("REVOKE GRANT OPTION FOR ALL PRIVILEGES ON TABLE public.t FROM x CASCADE")
    assert (r.grant, r.privileges, r.objects, r.grant_option, r.cascade) == \
        (False, ["ALL"], ["t"], True, True)
    m = parse_roles.parse("GRANT readers TO alice WITH ADMIN OPTION")
    assert (m.roles, m.members, m.admin_option) == (["readers"], ["alice"], True)
    assert parse_roles.parse("SET ROLE NONE").role is None
    assert parse_roles.parse("set session role alice").role == "alice"
    assert parse_roles.parse("SELECT 1") is None
    assert parse_roles.parse("CREATE TABLE role (x int)") is None


@pytest.mark.parametrize("sql, position", [
    ("CREATE ROLE", 12),
    ("CREATE ROLE x WITH FOO", 20),
    ("GRANT SELECT ON t TO", 21),
    ("DROP ROLE a,", 13),
    ("ALTER ROLE x PASSWORD", 22),
    ("GRANT SELECT ON t TO a WITH ADMIN OPTION", 29),
])
def test_parser_syntax_errors_have_positions(conn, sql, position):
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        conn.execute(sql)
    assert info.value.sqlstate == "42601"
    assert info.value.position == position


# ---- verifiers ------------------------------------------------------------------------------

def test_password_is_stored_as_a_postgresql_scram_verifier(conn):
    conn.execute("CREATE ROLE alice LOGIN PASSWORD 'wonder'")
    stored = conn.database.root.auth.role("alice").password
    assert "wonder" not in stored
    head, keys = stored.split("$", 1)[1].split("$")
    iterations, salt = head.split(":")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    assert stored.startswith("SCRAM-SHA-256$4096:") and len(base64.b64decode(salt)) == 16
    # recompute as RFC 5802 / PostgreSQL's scram_build_secret do
    salted = hashlib.pbkdf2_hmac("sha256", b"wonder", base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    assert hashlib.sha256(client_key).digest() == stored_key
    assert hmac.new(salted, b"Server Key", "sha256").digest() == server_key


def test_prehashed_and_md5_passwords(conn):
    given = verifier.scram_verifier("pw")
    conn.execute(f"CREATE ROLE a LOGIN PASSWORD '{given}'")
    assert conn.database.root.auth.role("a").password == given
    conn.execute("SET password_encryption = 'md5'")
    conn.execute("CREATE ROLE b LOGIN PASSWORD 'pw'")
    assert conn.database.root.auth.role("b").password == \
        "md5" + hashlib.md5(b"pwb").hexdigest()
    for user in ("a", "b"):      # both forms check a cleartext password
        rustmemodb.connect(conn, user=user, password="pw").close()
    conn.execute("ALTER ROLE b PASSWORD NULL")
    assert conn.database.root.auth.role("b").password is None
    with pytest.raises(rustmemodb.Error) as info:     # no password: nobody logs in as b
        rustmemodb.connect(conn, user="b", password="pw")
    assert info.value.sqlstate == "28P01"


def test_pg_roles_never_shows_a_password_pg_authid_only_to_superusers(conn):
    conn.execute("CREATE ROLE boss SUPERUSER LOGIN PASSWORD 'x'")
    conn.execute("CREATE ROLE alice LOGIN PASSWORD 'y'")
    rows = dict(conn.execute("SELECT rolname, rolpassword FROM pg_roles").fetchall())
    assert rows == {"boss": "********", "alice": "********"}
    assert conn.execute("SELECT usename, passwd FROM pg_user ORDER BY 1").fetchall() == \
        [("alice", "********"), ("boss", "********")]
    boss = rustmemodb.connect(conn, user="boss", password="x")
    seen = dict(boss.execute("SELECT rolname, rolpassword FROM pg_authid").fetchall())
    assert seen["alice"].startswith("SCRAM-SHA-256$4096:")
    alice = rustmemodb.connect(conn, user="alice", password="y")
    assert alice.execute("SELECT rolpassword FROM pg_authid").fetchall() == [(None,), (None,)]


# ---- login ----------------------------------------------------------------------------------

def test_embedded_login(conn):
    conn.execute("CREATE ROLE alice LOGIN PASSWORD 'pw'")
    conn.execute("CREATE ROLE locked PASSWORD 'pw'")
    conn.execute("GRANT SELECT ON t TO alice")
    alice = rustmemodb.connect(conn.database, user="alice", password="pw")
    assert alice.execute("SELECT current_user, session_user").fetchall() == [("alice", "alice")]
    assert alice.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    assert _sqlstate(alice.execute, "INSERT INTO t VALUES (3, 'c')") == "42501"
    with pytest.raises(rustmemodb.Error) as wrong:
        rustmemodb.connect(conn, user="alice", password="nope")
    with pytest.raises(rustmemodb.Error) as unknown:
        rustmemodb.connect(conn, user="ghost", password="nope")
    assert wrong.value.sqlstate == unknown.value.sqlstate == "28P01"
    # the same message whether or not the user exists (but for the name given)
    assert str(wrong.value).replace("alice", "X") == str(unknown.value).replace("ghost", "X")
    with pytest.raises(rustmemodb.Error) as nologin:
        rustmemodb.connect(conn, user="locked", password="pw")
    assert nologin.value.sqlstate == "28000"
    with pytest.raises(rustmemodb.Error) as nologin_bad:   # a wrong password tells nothing
        rustmemodb.connect(conn, user="locked", password="bad")
    assert nologin_bad.value.sqlstate == "28P01"


def test_a_superuser_revokes_what_the_embedded_session_granted(conn):
    """A table made and shared by the embedded session (no role) is the embedded user's;
    a superuser's GRANT and REVOKE act as its owner, as PostgreSQL's do, so a grant the
    embedded session made is revoked by an administrator logged in later."""
    conn.execute("CREATE ROLE admin SUPERUSER LOGIN PASSWORD 'pw'")
    conn.execute("CREATE ROLE alice LOGIN PASSWORD 'pw'")
    conn.execute("GRANT SELECT ON t TO alice")
    admin = rustmemodb.connect(conn.database, user="admin", password="pw")
    admin.execute("REVOKE SELECT ON t FROM alice")
    alice = rustmemodb.connect(conn.database, user="alice", password="pw")
    assert _sqlstate(alice.execute, "SELECT * FROM t") == "42501"
    admin.execute("GRANT UPDATE ON t TO alice")              # recorded as the owner's
    conn.execute("REVOKE UPDATE ON t FROM alice")
    assert admin.execute("SELECT has_table_privilege('alice', 't', 'UPDATE')").fetchall() \
        == [(False,)]


def test_database_without_roles_keeps_the_implicit_superuser():
    c = rustmemodb.connect(user="whoever", password="anything")
    c.execute("CREATE TABLE x (a INTEGER)")
    c.execute("INSERT INTO x VALUES (1)")
    assert c.execute("SELECT current_user, a FROM x").fetchall() == [("whoever", 1)]
    assert c.execute("SELECT rolname, rolsuper FROM pg_roles").fetchall() == [("whoever", True)]


# ---- the privilege check --------------------------------------------------------------------

def test_every_kind_of_statement_is_checked(conn):
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE ROLE u LOGIN PASSWORD 'p'")
    conn.execute("GRANT CREATE ON SCHEMA public TO u")
    u = rustmemodb.connect(conn, user="u", password="p")
    denied = [
        "SELECT * FROM t", "SELECT (SELECT max(id) FROM t)",
        "WITH c AS (SELECT * FROM t) SELECT 1", "SELECT 1 WHERE EXISTS (SELECT 1 FROM t)",
        "INSERT INTO t VALUES (5, 'x')", "UPDATE t SET v = 'x'", "DELETE FROM t",
        "TRUNCATE t", "ALTER TABLE t ADD COLUMN w TEXT", "DROP TABLE t",
        "CREATE INDEX ix ON t (v)", "CREATE TABLE child (p INTEGER REFERENCES parent (id))",
        "CREATE TABLE copy AS SELECT * FROM t",
    ]
    for sql in denied:
        assert _sqlstate(u.execute, sql) == "42501", sql
    # executemany takes the row-wise fast path: checked too
    with pytest.raises(rustmemodb.Error) as info:
        u.executemany("INSERT INTO t VALUES (?, ?)", [(10 + i, "x") for i in range(5000)])
    assert info.value.sqlstate == "42501"
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(2,)]   # nothing changed
    conn.execute("GRANT REFERENCES ON parent TO u")
    u.execute("CREATE TABLE child (p INTEGER REFERENCES parent (id))")   # owner: u
    u.execute("CREATE INDEX ix ON child (p)")
    u.execute("ALTER TABLE child ADD COLUMN w TEXT")
    assert conn.execute("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'child'"
                        ).fetchall() == [("u",)]


def test_cached_plans_follow_grant_and_revoke(conn):
    conn.execute("CREATE ROLE u LOGIN PASSWORD 'p'")
    u = rustmemodb.connect(conn, user="u", password="p")
    q = "SELECT v FROM t WHERE id = ?"
    assert _sqlstate(u.execute, q, [1]) == "42501"
    conn.execute("GRANT SELECT ON t TO u")
    for _ in range(3):                         # cached now
        assert u.execute(q, [1]).fetchall() == [("a",)]
    assert conn.execute(q, [2]).fetchall() == [("b",)]   # same cached plan, other session
    conn.execute("REVOKE SELECT ON t FROM u")
    assert _sqlstate(u.execute, q, [1]) == "42501"


def test_grant_inside_a_transaction_rolls_back(conn):
    conn.execute("CREATE ROLE u")
    conn.execute("BEGIN")
    conn.execute("GRANT SELECT ON t TO u")
    conn.execute("CREATE ROLE v")
    conn.execute("ROLLBACK")
    cat = conn.database.root.auth
    assert cat.role("v") is None and cat.grants("table", "t") == ()


def test_last_superuser_cannot_be_dropped_or_demoted(conn):
    conn.execute("CREATE ROLE boss SUPERUSER LOGIN PASSWORD 'x'")
    boss = rustmemodb.connect(conn, user="boss", password="x")
    assert _sqlstate(conn.execute, "DROP ROLE boss") == "55006"
    assert _sqlstate(conn.execute, "ALTER ROLE boss NOSUPERUSER") == "55006"
    assert _sqlstate(boss.execute, "DROP ROLE boss") == "55006"   # the session user, too
    conn.execute("CREATE ROLE boss2 SUPERUSER")
    conn.execute("ALTER ROLE boss NOSUPERUSER")
    assert _sqlstate(conn.execute, "DROP ROLE boss2") == "55006"


def test_role_management_permissions(conn):
    conn.execute("CREATE ROLE admin SUPERUSER LOGIN PASSWORD 'a'")
    conn.execute("CREATE ROLE mgr CREATEROLE LOGIN PASSWORD 'm'")
    conn.execute("CREATE ROLE plain LOGIN PASSWORD 'p'")
    plain = rustmemodb.connect(conn, user="plain", password="p")
    mgr = rustmemodb.connect(conn, user="mgr", password="m")
    assert _sqlstate(plain.execute, "CREATE ROLE x") == "42501"
    assert _sqlstate(mgr.execute, "CREATE ROLE x SUPERUSER") == "42501"
    mgr.execute("CREATE ROLE x LOGIN PASSWORD 'x'")
    assert _sqlstate(mgr.execute, "ALTER ROLE admin PASSWORD 'stolen'") == "42501"
    plain.execute("ALTER ROLE plain PASSWORD 'new'")          # one's own password
    rustmemodb.connect(conn, user="plain", password="new").close()
    assert _sqlstate(plain.execute, "ALTER ROLE plain CREATEROLE") == "42501"
    assert _sqlstate(plain.execute, "SET ROLE x") == "42501"
    conn.execute("GRANT x TO plain")
    plain.execute("SET ROLE x")
    assert plain.execute("SELECT current_user, session_user").fetchall() == [("x", "plain")]
    assert _sqlstate(conn.execute, "GRANT plain TO x") == "0LP01"   # circular
    conn.execute("ALTER ROLE x RENAME TO y")
    assert conn.execute("SELECT pg_has_role('plain', 'y', 'MEMBER')").fetchall() == [(True,)]


# ---- durability -----------------------------------------------------------------------------

def _setup(path):
    c = rustmemodb.connect(path)
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    c.execute("CREATE ROLE admin SUPERUSER LOGIN PASSWORD 'root'")
    c.execute("CREATE ROLE alice LOGIN PASSWORD 'pw'")
    c.execute("CREATE ROLE grp")
    c.execute("GRANT grp TO alice")
    c.execute("GRANT SELECT ON t TO grp WITH GRANT OPTION")
    return c


def _verify(path):
    alice = rustmemodb.connect(path, user="alice", password="pw")
    try:
        assert alice.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
        assert _sqlstate(alice.execute, "INSERT INTO t VALUES (1)") == "42501"
        assert alice.execute("SELECT has_table_privilege('t', 'SELECT WITH GRANT OPTION')"
                             ).fetchall() == [(True,)]
    finally:
        alice.close()
    with pytest.raises(rustmemodb.Error) as info:
        rustmemodb.connect(path, user="alice", password="wrong")
    assert info.value.sqlstate == "28P01"


def test_roles_survive_reopen_from_checkpoint_and_from_the_log(tmp_path):
    c = _setup(tmp_path / "ckpt")
    c.execute("CHECKPOINT")
    c.close()
    _verify(tmp_path / "ckpt")
    db = rustmemodb.Database.open(tmp_path / "log", checkpoint_on_close=False)
    c = db.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    c.execute("CREATE ROLE alice LOGIN PASSWORD 'pw'")
    c.execute("CREATE ROLE grp")
    c.execute("GRANT grp TO alice")
    c.execute("GRANT SELECT ON t TO grp WITH GRANT OPTION")
    c.close()
    db.close()
    _verify(tmp_path / "log")
    assert rustmemodb.check(tmp_path / "log").ok


CHILD = r'''
import sys, rustmemodb
c = rustmemodb.connect(sys.argv[1])
c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
c.execute("CREATE ROLE alice LOGIN PASSWORD 'pw'")
c.execute("CREATE ROLE grp")
c.execute("GRANT grp TO alice")
c.execute("GRANT SELECT ON t TO grp WITH GRANT OPTION")
print("committed", flush=True)
sys.stdin.read()
'''


def test_roles_survive_sigkill(tmp_path):
    path = tmp_path / "db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "committed"
    finally:
        child.kill()
        child.wait()
    _verify(path)


def test_fork_inherits_roles_and_diverges(conn):
    conn.execute("CREATE ROLE u LOGIN PASSWORD 'p'")
    fdb = conn.database.fork()
    conn.execute("GRANT SELECT ON t TO u")
    assert rustmemodb.connect(conn, user="u", password="p").execute(
        "SELECT count(*) FROM t").fetchall() == [(2,)]
    f = rustmemodb.connect(fdb, user="u", password="p")
    assert _sqlstate(f.execute, "SELECT count(*) FROM t") == "42501"


def test_server_files_and_checkpoint_are_for_superusers(conn, tmp_path):
    (tmp_path / "secret.csv").write_text("a\n1\n")
    conn.execute("CREATE ROLE u LOGIN PASSWORD 'p'")
    conn.execute("GRANT ALL ON t TO u")
    u = rustmemodb.connect(conn, user="u", password="p")
    path = str(tmp_path / "secret.csv")
    for sql in (f"SELECT * FROM read_csv('{path}')",
                f"SELECT (SELECT count(*) FROM read_csv('{path}'))",
                f"COPY t FROM '{path}' (FORMAT csv, HEADER)",
                f"COPY t TO '{tmp_path / 'out.csv'}' (FORMAT csv)", "CHECKPOINT"):
        assert _sqlstate(u.execute, sql) == "42501", sql
    assert not (tmp_path / "out.csv").exists()
    assert conn.execute(f"SELECT a FROM read_csv('{path}')").fetchall() == [(1,)]


def test_concurrent_role_and_grant_statements_all_commit(conn):
    """One roles catalog: concurrent changes conflict at commit and autocommit statements
    re-run on the newest catalog, so none is lost."""
    import threading
    conn.execute("CREATE ROLE owner_role LOGIN PASSWORD 'p'")
    conn.execute("GRANT CREATE ON SCHEMA public TO owner_role")
    errors_seen = []

    def work(i):
        try:
            c = rustmemodb.connect(conn.database)
            c.execute(f"CREATE ROLE r{i}")
            c.execute(f"GRANT SELECT ON t TO r{i}")
            o = rustmemodb.connect(conn.database, user="owner_role", password="p")
            o.execute(f"CREATE TABLE owned{i} (x INTEGER)")
        except Exception as exc:   # noqa: BLE001 - reported below
            errors_seen.append(exc)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors_seen == []
    cat = conn.database.root.auth
    assert all(cat.role(f"r{i}") is not None for i in range(8))
    assert {g.grantee for g in cat.grants("table", "t")} == {f"r{i}" for i in range(8)}
    assert all(cat.owner("table", f"owned{i}") == "owner_role" for i in range(8))


@pytest.mark.parametrize("bad", [
    [], {"roles": [["x"]]}, {"roles": [["x", "1", False, False, True, False, False, False,
                                        False, -1, None, None]]},
    {"acl": [["table", "t", [["a", "FLY", False, "b"]]]]}, {"members": [["a", "b", 1, "c"]]},
    {"owners": [["table", 5, "a"]]}, {"next_oid": "1"},
    {"defaults": [["a", "", "x", []]]}, {"defaults": [["a", "", "r", [["b", "FLY", False,
                                                                       "a"]]]]},
    {"defaults": [["a", 3, "r", []]]}, {"defaults": [["a", "", "r"]]},
    {"settings": [["a", [["work_mem"]]]]}, {"settings": [["a", [["work_mem", 5]]]]},
    {"settings": [[None, []]]},
])
def test_a_malformed_roles_catalog_is_refused(bad):
    from rustmemodb.storage.roles import decode
    with pytest.raises(ValueError):
        decode(bad)


def test_roles_catalog_round_trips():
    from rustmemodb.storage.roles import decode, encode
    from rustmemodb.durability import values
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER)")
    c.execute("CREATE ROLE a SUPERUSER LOGIN PASSWORD 'x' CONNECTION LIMIT 4")
    c.execute("CREATE ROLE b IN ROLE a")
    c.execute("GRANT SELECT, UPDATE ON t TO b WITH GRANT OPTION")
    c.execute("ALTER DEFAULT PRIVILEGES FOR ROLE a GRANT SELECT ON TABLES TO b")
    c.execute("ALTER DEFAULT PRIVILEGES FOR ROLE a IN SCHEMA public GRANT INSERT ON TABLES "
              "TO b WITH GRANT OPTION")
    c.execute("ALTER ROLE b SET work_mem = '8MB'")
    c.execute("ALTER ROLE ALL SET search_path = x, public")
    cat = c.database.root.auth
    assert len(cat.defaults) == 2 and len(cat.settings) == 2
    back = decode(values.unpack(values.pack(encode(cat))))
    assert encode(back) == encode(cat)
    assert back.role("a") == cat.role("a") and back.members == cat.members


def _reopened(path, *statements):
    """The database at ``path`` after ``statements`` ran and it was closed without a
    checkpoint (so they come back from the log)."""
    db = rustmemodb.Database.open(path, checkpoint_on_close=False)
    c = db.connect()
    for sql in statements:
        c.execute(sql)
    c.close()
    db.close()
    return rustmemodb.Database.open(path)


def test_default_privileges_survive_reopen_from_the_log_and_apply_after_it(tmp_path):
    db = _reopened(tmp_path / "db", "CREATE ROLE owner_r LOGIN PASSWORD 'o'",
                   "CREATE ROLE reader LOGIN PASSWORD 'r'",
                   "GRANT CREATE ON SCHEMA public TO owner_r",
                   "ALTER DEFAULT PRIVILEGES FOR ROLE owner_r GRANT SELECT ON TABLES TO reader")
    try:
        owner = db.connect(user="owner_r", password="o")
        owner.execute("CREATE TABLE made_later (id INTEGER)")
        owner.execute("INSERT INTO made_later VALUES (1)")
        reader = db.connect(user="reader", password="r")
        assert reader.execute("SELECT id FROM made_later").fetchall() == [(1,)]
        assert _sqlstate(reader.execute, "INSERT INTO made_later VALUES (2)") == "42501"
    finally:
        db.close()


def test_default_privileges_of_the_embedded_superuser_apply_to_what_it_creates(conn):
    """A notebook without a login role: its defaults are the implicit superuser's, and
    the tables it creates next are readable by the role they name."""
    conn.execute("CREATE ROLE bi LOGIN PASSWORD 'pw'")
    conn.execute("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bi")
    conn.execute("CREATE TABLE later (id INTEGER)")
    conn.execute("INSERT INTO later VALUES (7)")
    bi = conn.database.connect(user="bi", password="pw")
    assert bi.execute("SELECT id FROM later").fetchall() == [(7,)]
    assert _sqlstate(bi.execute, "SELECT * FROM t") == "42501"     # made before: untouched
    assert _sqlstate(bi.execute, "ALTER DEFAULT PRIVILEGES FOR ROLE rustmemodb GRANT "
                                 "SELECT ON TABLES TO bi") == "42704"


def test_role_settings_are_a_sessions_starting_values(conn):
    """ALTER ROLE ... SET applies when a session logs in as the role (ALL's first, the
    role's over them); SET changes them for the session and RESET returns to them."""
    conn.execute("CREATE ROLE app LOGIN PASSWORD 'pw'")
    conn.execute("ALTER ROLE ALL SET lock_timeout = '5s'")
    conn.execute("ALTER ROLE ALL SET work_mem = '2MB'")
    conn.execute("ALTER ROLE app SET work_mem = '64MB'")
    conn.execute("ALTER ROLE app SET statement_timeout = '30s'")
    conn.execute("ALTER ROLE app SET search_path = x, public")
    app = conn.database.connect(user="app", password="pw")
    show = lambda name: app.execute(f"SHOW {name}").fetchone()[0]   # noqa: E731
    assert (show("work_mem"), show("lock_timeout"), show("statement_timeout"),
            show("search_path")) == ("64MB", "5s", "30s", "x, public")
    assert app._session.cancel_event.timeout_ms == 30_000   # in force, not only shown
    app.execute("SET work_mem = '9MB'")
    app.execute("RESET work_mem")
    assert show("work_mem") == "64MB"
    app.execute("SET statement_timeout = 0")
    app.execute("RESET ALL")
    assert (show("work_mem"), show("statement_timeout")) == ("64MB", "30s")
    # the implicit superuser and sessions opened before are untouched
    assert conn.execute("SHOW work_mem").fetchone()[0] == "4MB"


def test_a_superusers_settings_are_for_superusers(conn):
    conn.execute("CREATE ROLE boss SUPERUSER LOGIN PASSWORD 'b'")
    conn.execute("CREATE ROLE admin2 SUPERUSER")
    conn.execute("CREATE ROLE mgr CREATEROLE LOGIN PASSWORD 'm'")
    mgr = conn.database.connect(user="mgr", password="m")
    assert _sqlstate(mgr.execute, "ALTER ROLE boss SET work_mem = '1MB'") == "42501"
    assert _sqlstate(mgr.execute, "ALTER ROLE ALL SET work_mem = '1MB'") == "42501"
    assert _sqlstate(mgr.execute, "ALTER ROLE boss IN DATABASE main SET work_mem = '1MB'") \
        == "0A000"
    boss = conn.database.connect(user="boss", password="b")
    boss.execute("ALTER ROLE admin2 SET work_mem = '1MB'")
    assert _sqlstate(boss.execute, "ALTER ROLE admin2 SET role = 'mgr'") == "0A000"


def test_role_settings_survive_reopen(tmp_path):
    db = _reopened(tmp_path / "db", "CREATE ROLE app LOGIN PASSWORD 'pw'",
                   "ALTER ROLE app SET work_mem = '64MB'")
    try:
        app = db.connect(user="app", password="pw")
        assert app.execute("SHOW work_mem").fetchone()[0] == "64MB"
        assert app.execute("SELECT rolconfig FROM pg_roles WHERE rolname = 'app'"
                           ).fetchone()[0] == ["work_mem=64MB"]
    finally:
        db.close()


def test_session_authorization_is_for_sessions_that_logged_in_as_superusers(conn):
    conn.execute("CREATE ROLE boss SUPERUSER LOGIN PASSWORD 'b'")
    conn.execute("CREATE ROLE worker LOGIN PASSWORD 'w'")
    worker = conn.database.connect(user="worker", password="w")
    assert _sqlstate(worker.execute, "SET SESSION AUTHORIZATION boss") == "42501"
    worker.execute("SET SESSION AUTHORIZATION DEFAULT")          # back to itself: allowed
    boss = conn.database.connect(user="boss", password="b")
    boss.execute("SET SESSION AUTHORIZATION worker")
    assert _sqlstate(boss.execute, "SELECT * FROM t") == "42501"   # worker's rights now
    boss.execute("SET SESSION AUTHORIZATION boss")                # the login's right stays
    assert boss.execute("SELECT count(*) FROM t").fetchone() == (2,)
    boss.execute("SET SESSION AUTHORIZATION worker")
    boss.execute("DISCARD ALL")                 # a pool's reset query restores the login
    assert boss.execute("SELECT session_user, current_user").fetchone() == ("boss", "boss")


def test_require_table_privilege_for_paths_without_a_statement(conn):
    from rustmemodb.auth.check import require_table_privilege
    conn.execute("CREATE ROLE u LOGIN PASSWORD 'p'")
    conn.execute("GRANT SELECT ON t TO u")
    u = rustmemodb.connect(conn, user="u", password="p")
    require_table_privilege(u._session, "t", "SELECT")
    assert _sqlstate(require_table_privilege, u._session, "t", "INSERT") == "42501"
    require_table_privilege(conn._session, "t", "INSERT")     # the implicit superuser


def test_catalog_rows_depend_on_who_asks_even_for_the_same_text(conn):
    conn.execute("CREATE ROLE boss SUPERUSER LOGIN PASSWORD 'x'")
    conn.execute("CREATE ROLE u LOGIN PASSWORD 'p'")
    q = "SELECT rolpassword FROM pg_authid WHERE rolname = 'boss'"
    for _ in range(3):     # the implicit superuser sees the verifier; the text is cached
        assert conn.execute(q).fetchall()[0][0].startswith("SCRAM-SHA-256$")
    u = rustmemodb.connect(conn, user="u", password="p")
    assert u.execute(q).fetchall() == [(None,)]
    conn.execute("GRANT SELECT ON t TO u")
    q2 = "SELECT grantee FROM information_schema.table_privileges WHERE table_name = 't'"
    assert conn.execute(q2).fetchall() == [("u",)]
    conn.execute("CREATE ROLE other")
    conn.execute("GRANT SELECT ON t TO other")
    assert sorted(conn.execute(q2).fetchall()) == [("other",), ("u",)]
    assert u.execute(q2).fetchall() == [("u",)]        # a role sees its own grants


def test_the_role_parser_only_ever_raises_sql_errors():
    """Random token soup after each statement head: a statement or a DB-API error
    (42601 and friends), never an internal exception."""
    import random
    words = ["GRANT", "REVOKE", "CREATE", "ROLE", "USER", "ALTER", "DROP", "ON", "TO", "FROM",
             "ALL", "TABLES", "IN", "SCHEMA", "public", "x", "'pw'", '"q"', "WITH", "OPTION",
             "ADMIN", "FOR", "PASSWORD", "NULL", ",", ";", "(", ")", "-", "1", "LOGIN", "SET",
             "OWNED", "BY", "OWNER", "TABLE", "GROUP", "ADD", "CASCADE", '"', "'", "IF",
             "EXISTS", "RENAME", "CONNECTION", "LIMIT", "VALID", "UNTIL", "SELECT", "."]
    heads = ["GRANT", "REVOKE", "CREATE ROLE", "ALTER ROLE", "DROP ROLE", "SET ROLE",
             "RESET ROLE", "REASSIGN OWNED", "DROP OWNED", "ALTER TABLE t OWNER TO",
             "ALTER GROUP g"]
    rng = random.Random(14)
    for _ in range(3000):
        sql = rng.choice(heads) + " " + " ".join(rng.choice(words)
                                                 for _ in range(rng.randint(0, 8)))
        try:
            parse_roles.parse(sql)
        except rustmemodb.Error:
            pass
