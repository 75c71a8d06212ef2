"""Users and privileges with real clients: psql, psycopg and asyncpg log in as limited
roles of the served database; denial is 42501, a wrong password 28P01 (the same for
an unknown user), a role without LOGIN 28000; GRANT and REVOKE take effect for the
open connections; roles survive a restart of ``rustmemodb server --db PATH``."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys

import pytest

import rustmemodb

psycopg = pytest.importorskip("psycopg")
PSQL = shutil.which("psql") or "/usr/bin/psql"


@pytest.fixture
def served():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT, balance FLOAT)")
    conn.execute("INSERT INTO acct VALUES (1, 'ada', 10.0), (2, 'bob', 20.0)")
    conn.execute("CREATE ROLE clerk LOGIN PASSWORD 'clerk-pw'")
    conn.execute("CREATE ROLE ghostly NOLOGIN PASSWORD 'pw'")
    with rustmemodb.serve(conn, users={"admin": "admin-pw"}) as srv:
        yield conn, srv
    conn.close()


def _connect(srv, user, password):
    return psycopg.connect(host="127.0.0.1", port=srv.port, user=user, password=password,
                           dbname="main", autocommit=True, connect_timeout=10)


def _sqlstate(fn, *args):
    with pytest.raises(psycopg.Error) as info:
        fn(*args)
    return info.value.sqlstate


def test_psycopg_limited_user_grant_and_revoke(served):
    conn, srv = served
    admin = _connect(srv, "admin", "admin-pw")
    clerk = _connect(srv, "clerk", "clerk-pw")
    assert clerk.execute("SELECT current_user, session_user").fetchall() == [("clerk", "clerk")]
    assert clerk.info.parameter_status("is_superuser") == "off"
    assert admin.info.parameter_status("is_superuser") == "on"
    assert _sqlstate(clerk.execute, "SELECT * FROM acct") == "42501"
    admin.execute("GRANT SELECT ON acct TO clerk")
    assert clerk.execute("SELECT owner FROM acct ORDER BY id").fetchall() == [("ada",), ("bob",)]
    # prepared (extended protocol) statements are checked too
    assert clerk.execute("SELECT balance FROM acct WHERE id = %s", [2],
                         prepare=True).fetchall() == [(20.0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
        clerk.execute("INSERT INTO acct VALUES (%s, %s, %s)", [3, "cy", 1.0])
    assert str(info.value).startswith("permission denied for table acct")
    admin.execute("GRANT INSERT ON acct TO clerk")
    clerk.execute("INSERT INTO acct VALUES (%s, %s, %s)", [3, "cy", 1.0])
    admin.execute("REVOKE SELECT, INSERT ON acct FROM clerk")
    assert _sqlstate(clerk.execute, "SELECT balance FROM acct WHERE id = %s", [2]) == "42501"
    assert conn.execute("SELECT count(*) FROM acct").fetchall() == [(3,)]
    # a denied statement inside a transaction fails it as any error does
    with clerk.transaction():
        pass
    clerk.autocommit = False
    assert _sqlstate(clerk.execute, "SELECT 1 FROM acct") == "42501"
    assert _sqlstate(clerk.execute, "SELECT 1") == "25P02"
    clerk.rollback()
    for c in (admin, clerk):
        c.close()


def test_wrong_password_unknown_user_and_nologin(served):
    _, srv = served
    with pytest.raises(psycopg.OperationalError) as wrong:
        _connect(srv, "clerk", "nope")
    with pytest.raises(psycopg.OperationalError) as ghost:
        _connect(srv, "nobody", "nope")
    # libpq reports connection failures without a SQLSTATE: the message tells (asyncpg's
    # test below checks the codes)
    assert 'password authentication failed for user "clerk"' in str(wrong.value)
    assert 'password authentication failed for user "nobody"' in str(ghost.value)
    with pytest.raises(psycopg.OperationalError) as nologin:
        _connect(srv, "ghostly", "pw")
    assert 'role "ghostly" is not permitted to log in' in str(nologin.value)

    async def codes():
        import asyncpg
        out = []
        for user, password in (("clerk", "nope"), ("nobody", "nope"), ("ghostly", "pw")):
            try:
                await asyncpg.connect(host="127.0.0.1", port=srv.port, user=user,
                                      password=password, database="main")
            except asyncpg.PostgresError as exc:
                out.append(exc.sqlstate)
        return out
    pytest.importorskip("asyncpg")
    assert asyncio.run(codes()) == ["28P01", "28P01", "28000"]


def test_roles_created_over_the_wire_log_in_over_the_wire(served):
    _, srv = served
    with _connect(srv, "admin", "admin-pw") as admin:
        admin.execute("CREATE USER teller PASSWORD 'tell'")
        admin.execute("GRANT SELECT ON acct TO teller")
    with _connect(srv, "teller", "tell") as teller:
        assert teller.execute("SELECT count(*) FROM acct").fetchall() == [(2,)]
        teller.execute("ALTER ROLE teller PASSWORD 'new'")     # one's own password
    with pytest.raises(psycopg.OperationalError):
        _connect(srv, "teller", "tell")
    _connect(srv, "teller", "new").close()


def test_asyncpg_limited_user(served):
    asyncpg = pytest.importorskip("asyncpg")
    conn, srv = served
    conn.execute("GRANT SELECT ON acct TO clerk")

    async def main():
        c = await asyncpg.connect(host="127.0.0.1", port=srv.port, user="clerk",
                                  password="clerk-pw", database="main")
        try:
            assert await c.fetchval("SELECT balance FROM acct WHERE id = $1", 1) == 10.0
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                await c.execute("UPDATE acct SET balance = 0")
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                await c.fetch("DELETE FROM acct WHERE id = $1 RETURNING id", 1)
        finally:
            await c.close()
        with pytest.raises(asyncpg.exceptions.InvalidPasswordError):
            await asyncpg.connect(host="127.0.0.1", port=srv.port, user="clerk",
                                  password="bad", database="main")
    asyncio.run(main())
    assert conn.execute("SELECT sum(balance) FROM acct").fetchall() == [(30.0,)]


@pytest.mark.skipif(not os.path.exists(PSQL), reason="psql not installed")
def test_psql_limited_user(served):
    _, srv = served
    env = dict(os.environ, PGPASSWORD="clerk-pw", PGCONNECT_TIMEOUT="10")
    base = [PSQL, "-X", "-h", "127.0.0.1", "-p", str(srv.port), "-U", "clerk", "-d", "main",
            "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"]
    out = subprocess.run(base + ["-c", "DELETE FROM acct"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode != 0
    assert "ERROR:  42501: permission denied for table acct" in out.stderr
    out = subprocess.run(base + ["-At", "-c", "SELECT has_table_privilege('acct', 'SELECT')"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout == "f\n", out.stderr


@pytest.mark.parametrize("method", ["md5", "password"])
def test_md5_and_password_methods_use_the_roles(method):
    """md5 configured: a SCRAM-stored role is asked for SCRAM instead (PostgreSQL does
    the same); the server's own user is stored as an md5 hash and uses md5."""
    conn = rustmemodb.connect()
    conn.execute("CREATE ROLE scrammed LOGIN PASSWORD 'pw'")
    with rustmemodb.serve(conn, users={"old": "pw"}, auth=method) as srv:
        for user in ("old", "scrammed"):
            _connect(srv, user, "pw").close()
            with pytest.raises(psycopg.OperationalError) as info:
                _connect(srv, user, "bad")
            assert f'password authentication failed for user "{user}"' in str(info.value)
    stored = conn.database.root.auth.role("old").password
    assert stored.startswith("md5" if method == "md5" else "SCRAM-SHA-256$")


def _start_cli(path, *extra):
    env = dict(os.environ, RUSTMEMODB_PASSWORD="root-pw")
    proc = subprocess.Popen([sys.executable, "-m", "rustmemodb.server", "--db", str(path),
                             "--port", "0", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    assert "listening on" in line, proc.stderr.read()
    return proc, int(line.rsplit(":", 1)[1])


def test_roles_survive_a_server_restart(tmp_path):
    path = tmp_path / "db"
    proc, port = _start_cli(path, "--user", "root")
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="root", password="root-pw",
                             dbname="main", autocommit=True) as root:
            root.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            root.execute("INSERT INTO notes VALUES (1, 'kept')")
            root.execute("CREATE ROLE reader LOGIN PASSWORD 'read'")
            root.execute("GRANT SELECT ON notes TO reader")
    finally:
        proc.kill()      # no clean shutdown: what survives is in the log
        proc.wait()
    proc, port = _start_cli(path)          # no --user: the durable roles are the users
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="reader", password="read",
                             dbname="main", autocommit=True) as reader:
            assert reader.execute("SELECT body FROM notes").fetchall() == [("kept",)]
            assert _sqlstate(reader.execute, "INSERT INTO notes VALUES (2, 'x')") == "42501"
        with psycopg.connect(host="127.0.0.1", port=port, user="root", password="root-pw",
                             dbname="main", autocommit=True) as root:
            assert root.execute("SELECT rolname FROM pg_roles ORDER BY 1").fetchall() == \
                [("reader",), ("root",)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_connection_limit_and_valid_until(served):
    conn, srv = served
    conn.execute("CREATE ROLE limited LOGIN PASSWORD 'l' CONNECTION LIMIT 1")
    conn.execute("CREATE ROLE lapsed LOGIN PASSWORD 'l' VALID UNTIL '2001-01-01'")
    first = _connect(srv, "limited", "l")
    with pytest.raises(psycopg.OperationalError) as info:
        _connect(srv, "limited", "l")
    assert 'too many connections for role "limited"' in str(info.value)
    first.close()
    import time
    deadline = time.monotonic() + 30        # the server notices the Terminate on its loop
    while any(x.user == "limited" for x in list(srv._sessions.values())) \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    _connect(srv, "limited", "l").close()
    with pytest.raises(psycopg.OperationalError) as info:
        _connect(srv, "lapsed", "l")
    assert 'password authentication failed for user "lapsed"' in str(info.value)
    conn.execute("ALTER ROLE lapsed VALID UNTIL 'infinity'")
    _connect(srv, "lapsed", "l").close()


def test_password_encrypted_by_libpq_like_psql_password(served):
    """psql's \\password: libpq asks SHOW password_encryption, builds the SCRAM verifier
    client-side and sends ALTER ROLE ... PASSWORD '<verifier>', stored as given."""
    conn, srv = served
    # In a child process: libpq's PQencryptPasswordConn runs its query holding the GIL,
    # which would starve this process's server thread.
    script = ("import sys, psycopg\n"
              "c = psycopg.connect(host='127.0.0.1', port=int(sys.argv[1]), user='clerk', "
              "password='clerk-pw', dbname='main', autocommit=True)\n"
              "v = c.pgconn.encrypt_password(b'fresh', b'clerk').decode()\n"
              "c.execute(f\"ALTER ROLE clerk PASSWORD '{v}'\")\n"
              "print(v)\n")
    out = subprocess.run([sys.executable, "-c", script, str(srv.port)], capture_output=True,
                         text=True, timeout=60)
    verifier = out.stdout.strip()
    assert verifier.startswith("SCRAM-SHA-256$4096:"), out.stderr
    assert conn.database.root.auth.role("clerk").password == verifier
    _connect(srv, "clerk", "fresh").close()
    with _connect(srv, "admin", "admin-pw") as admin:
        admin.execute("CREATE GROUP tellers")
        admin.execute("ALTER GROUP tellers ADD USER clerk")
        assert admin.execute("SELECT pg_has_role('clerk', 'tellers', 'MEMBER')").fetchall() \
            == [(True,)]
        admin.execute("ALTER GROUP tellers DROP USER clerk")
        assert admin.execute("SELECT pg_has_role('clerk', 'tellers', 'MEMBER')").fetchall() \
            == [(False,)]


def test_column_privileges_over_the_wire(served):
    """The same check as embedded: prepared statements and COPY (an INSERT ... SELECT and
    a SELECT underneath) need the columns' privileges, not the table's."""
    conn, srv = served
    admin = _connect(srv, "admin", "admin-pw")
    clerk = _connect(srv, "clerk", "clerk-pw")
    admin.execute("GRANT SELECT (id, owner), INSERT (id, owner), UPDATE (balance) ON acct "
                  "TO clerk")
    assert clerk.execute("SELECT owner FROM acct WHERE id = %s", [1],
                         prepare=True).fetchall() == [("ada",)]
    assert _sqlstate(clerk.execute, "SELECT balance FROM acct WHERE id = %s", [1]) == "42501"
    clerk.execute("UPDATE acct SET balance = %s WHERE id = %s", [11.0, 1])
    assert _sqlstate(clerk.execute, "UPDATE acct SET owner = 'x' WHERE id = 1") == "42501"
    with clerk.cursor() as cur:
        with cur.copy("COPY acct (id, owner) FROM STDIN") as copy:
            copy.write_row((7, "gil"))
        with cur.copy("COPY acct (id, owner) TO STDOUT") as copy:
            out = b"".join(bytes(block) for block in copy)
    assert b"7\tgil" in out
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with clerk.cursor() as cur:
            with cur.copy("COPY acct FROM STDIN") as copy:
                copy.write_row((8, "hal", 1.0))
    assert conn.execute("SELECT id, owner, balance FROM acct WHERE id IN (1, 7) "
                        "ORDER BY id").fetchall() == [(1, "ada", 11.0), (7, "gil", None)]
    for c in (admin, clerk):
        c.close()
