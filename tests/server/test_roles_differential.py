"""Roles and privileges over the wire, differentially: one script of logins, GRANT/REVOKE,
role statements and catalog queries runs on rustmemodb's server and on the throwaway
PostgreSQL 15 (``pg_dsn``); every step's outcome (rows, or the SQLSTATE of the error)
must be the same, and so must psql's ``\\du``, ``\\dp`` and ``\\ddp`` output.

The same client (psycopg 3) talks to both; each role logs in on its own connection.
The PostgreSQL cluster authenticates with ``trust`` (pg_server.py), so wrong
passwords are tested against rustmemodb only (tests/server/test_roles_wire.py).
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import rustmemodb

psycopg = pytest.importorskip("psycopg")
PSQL = shutil.which("psql") or "/usr/bin/psql"
DB = "dr_roles"
ROLES = ("dr_reader", "dr_writer", "dr_nologin", "dr_group", "dr_admin")
PASSWORDS = {"admin": "adm", "reader": "r", "writer": "w"}

SCRIPT = [
    ("admin", "CREATE TABLE dr_t (id INTEGER PRIMARY KEY, v TEXT)"),
    ("admin", "INSERT INTO dr_t VALUES (1, 'a'), (2, 'b')"),
    ("admin", "CREATE TABLE dr_p (id INTEGER PRIMARY KEY)"),
    ("admin", "CREATE ROLE dr_reader LOGIN PASSWORD 'r'"),
    ("admin", "CREATE USER dr_writer PASSWORD 'w'"),
    ("admin", "CREATE ROLE dr_nologin PASSWORD 'n'"),
    ("admin", "CREATE ROLE dr_group"),
    ("reader", "SELECT * FROM dr_t ORDER BY id"),
    ("admin", "GRANT SELECT ON dr_t TO dr_reader"),
    ("reader", "SELECT * FROM dr_t ORDER BY id"),
    ("reader", "SELECT current_user, session_user, current_role"),
    ("reader", "INSERT INTO dr_t VALUES (3, 'c')"),
    ("reader", "SELECT count(*) FROM dr_t WHERE id IN (SELECT id FROM dr_p)"),
    ("admin", "GRANT INSERT, UPDATE ON dr_t TO dr_group"),
    ("admin", "GRANT dr_group TO dr_writer"),
    ("writer", "INSERT INTO dr_t VALUES (3, 'c')"),
    ("writer", "UPDATE dr_t SET v = 'z' WHERE id = 3"),
    ("writer", "UPDATE dr_t SET v = 'z'"),
    ("writer", "DELETE FROM dr_t"),
    ("writer", "INSERT INTO dr_t VALUES (4, 'd') RETURNING id"),
    ("admin", "SELECT id, v FROM dr_t ORDER BY id"),
    ("admin", "REVOKE SELECT ON dr_t FROM dr_reader"),
    ("reader", "SELECT count(*) FROM dr_t"),
    ("admin", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO dr_reader WITH GRANT OPTION"),
    ("reader", "GRANT SELECT ON dr_p TO dr_writer"),
    ("reader", "GRANT DELETE ON dr_p TO dr_writer"),
    ("writer", "SELECT count(*) FROM dr_p"),
    ("admin", "REVOKE SELECT ON dr_p FROM dr_reader"),
    ("admin", "REVOKE SELECT ON dr_p FROM dr_reader CASCADE"),
    ("writer", "SELECT count(*) FROM dr_p"),
    ("reader", "SET ROLE dr_writer"),
    ("writer", "SET ROLE dr_group"),
    ("writer", "SELECT current_user, session_user"),
    ("writer", "RESET ROLE"),
    ("writer", "SELECT current_user"),
    ("reader", "CREATE TABLE dr_mine (id INTEGER)"),
    ("reader", "DROP TABLE dr_p"),
    ("reader", "CREATE ROLE dr_other"),
    # what each kind of statement needs (PostgreSQL's rules, statement by statement)
    ("admin", "CREATE TABLE dr_u (id INTEGER PRIMARY KEY, v TEXT)"),
    ("admin", "GRANT INSERT, UPDATE, DELETE ON dr_u TO dr_writer"),
    ("writer", "INSERT INTO dr_u VALUES (1, 'x') ON CONFLICT DO NOTHING"),
    ("writer", "INSERT INTO dr_u VALUES (1, 'x') ON CONFLICT (id) DO NOTHING"),
    ("writer", "INSERT INTO dr_u VALUES (1, 'x') ON CONFLICT ON CONSTRAINT dr_u_pkey "
               "DO NOTHING"),
    ("writer", "INSERT INTO dr_u VALUES (1, 'y') ON CONFLICT (id) DO UPDATE SET v = 'y'"),
    ("writer", "INSERT INTO dr_u VALUES (1, 'y') ON CONFLICT (id) DO UPDATE "
               "SET v = EXCLUDED.v"),
    ("writer", "INSERT INTO dr_u SELECT id, v FROM dr_p, dr_t"),
    ("writer", "UPDATE dr_u SET v = v || 'x'"),
    ("writer", "UPDATE dr_u SET v = (SELECT max(v) FROM dr_t)"),
    ("writer", "DELETE FROM dr_u"),
    ("writer", "INSERT INTO dr_u VALUES (2, 'z')"),
    ("writer", "DELETE FROM dr_u WHERE id = 2"),
    ("writer", "DELETE FROM dr_u RETURNING id"),
    ("writer", "SELECT 1 FROM dr_u JOIN dr_t ON dr_u.id = dr_t.id"),
    ("writer", "CREATE INDEX dr_u_v ON dr_u (v)"),
    ("writer", "TRUNCATE dr_u"),
    ("admin", "GRANT CREATE ON SCHEMA public TO dr_writer"),
    # what dr_writer creates from now on starts readable by dr_reader
    ("admin", "ALTER DEFAULT PRIVILEGES FOR ROLE dr_writer GRANT SELECT ON TABLES TO dr_reader"),
    ("reader", "ALTER DEFAULT PRIVILEGES FOR ROLE dr_writer GRANT SELECT ON TABLES TO dr_reader"),
    ("writer", "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO dr_group"),
    ("admin", "SELECT pg_get_userbyid(defaclrole), defaclnamespace = 0, defaclobjtype, "
              "defaclacl FROM pg_default_acl ORDER BY 1, 2, 3"),
    ("writer", "CREATE TABLE dr_w AS SELECT * FROM dr_u"),
    ("writer", "CREATE VIEW dr_wv AS SELECT id FROM dr_u"),
    ("admin", "GRANT SELECT ON dr_wv TO dr_reader"),
    ("reader", "SELECT count(*) FROM dr_wv"),
    ("admin", "GRANT SELECT ON dr_u TO dr_writer"),
    ("reader", "SELECT count(*) FROM dr_wv"),
    ("reader", "SELECT count(*) FROM dr_u"),
    ("writer", "CREATE TABLE dr_w AS SELECT * FROM dr_u"),
    ("writer", "CREATE TABLE dr_child (p INTEGER REFERENCES dr_t (id))"),
    ("writer", "DROP TABLE dr_w"),
    ("writer", "DROP VIEW dr_wv"),
    ("admin", "REVOKE CREATE ON SCHEMA public FROM dr_writer"),
    ("admin", "SELECT has_table_privilege('dr_writer', 'dr_t', 'INSERT'), "
              "has_table_privilege('dr_reader', 'dr_t', 'SELECT WITH GRANT OPTION'), "
              "has_table_privilege('dr_group', 'dr_t', 'DELETE'), "
              "has_table_privilege('dr_t', 'DELETE')"),
    ("writer", "SELECT has_table_privilege('dr_t', 'UPDATE'), has_table_privilege('dr_p', 'SELECT')"),
    ("admin", "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
              "rolconnlimit, rolpassword FROM pg_roles WHERE rolname LIKE 'dr%' ORDER BY 1"),
    ("admin", "SELECT usename, usesuper, passwd FROM pg_user WHERE usename LIKE 'dr%' ORDER BY 1"),
    ("admin", "SELECT r.rolname, m.rolname, a.admin_option FROM pg_auth_members a "
              "JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
              "WHERE r.rolname LIKE 'dr%' ORDER BY 1, 2"),
    ("admin", "SELECT relname, array_to_string(relacl, ',') FROM pg_class "
              "WHERE relname LIKE 'dr%' AND relkind = 'r' ORDER BY 1"),
    ("admin", "SELECT grantor, grantee, table_name, privilege_type, is_grantable "
              "FROM information_schema.table_privileges WHERE table_name LIKE 'dr%' "
              "ORDER BY table_name, grantee, privilege_type"),
    ("admin", "SELECT substr(rolpassword, 1, 19) FROM pg_authid WHERE rolname = 'dr_reader'"),
    ("admin", "DROP ROLE dr_reader"),
    ("admin", "DROP ROLE dr_admin"),
    ("admin", "CREATE ROLE dr_reader"),
    ("admin", "DROP ROLE dr_ghost"),
    ("admin", "GRANT SELECT ON dr_nothere TO dr_reader"),
    ("admin", "GRANT USAGE ON dr_t TO dr_reader"),
    ("admin", "GRANT SELECT ON dr_t TO dr_ghost"),
    ("admin", "GRANT SELECT ON dr_t TO PUBLIC WITH GRANT OPTION"),
    ("admin", "CREATE ROLE pg_mine"),
    ("admin", "CREATE ROLE dr_bad WITH NOPE"),
    ("admin", "ALTER ROLE dr_ghost LOGIN"),
    ("admin", "ALTER ROLE dr_nologin CONNECTION LIMIT 5 CREATEDB"),
    ("admin", "SELECT rolconnlimit, rolcreatedb FROM pg_roles WHERE rolname = 'dr_nologin'"),
    ("admin", "GRANT dr_writer TO dr_group"),
    # role management rights
    ("reader", "ALTER ROLE dr_reader PASSWORD 'r'"),
    ("reader", "ALTER ROLE dr_writer PASSWORD 'x'"),
    ("reader", "ALTER ROLE dr_reader CREATEDB"),
    ("reader", "DROP ROLE dr_group"),
    ("reader", "GRANT dr_group TO dr_reader"),
    ("admin", "ALTER ROLE dr_writer CREATEROLE"),
    ("writer", "CREATE ROLE dr_other NOLOGIN"),
    ("writer", "CREATE ROLE dr_boss SUPERUSER"),
    ("writer", "ALTER ROLE dr_admin NOSUPERUSER"),
    ("writer", "ALTER ROLE dr_other RENAME TO dr_other2"),
    ("writer", "ALTER ROLE dr_other2 RENAME TO dr_other"),
    ("writer", "DROP ROLE dr_other"),
    ("admin", "ALTER ROLE dr_writer RENAME TO dr_w2"),
    ("admin", "ALTER ROLE dr_admin RENAME TO dr_a2"),
    ("admin", "SET ROLE dr_reader"),
    ("admin", "SELECT current_user, session_user"),
    ("admin", "DROP ROLE dr_reader"),
    ("admin", "RESET ROLE"),
    ("admin", "SELECT rolname, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname LIKE 'dr%' "
              "ORDER BY 1"),
]


def _run(connect, script):
    conns = {}
    out = []
    try:
        for who, sql in script:
            if who not in conns:
                conns[who] = connect(who)
            try:
                cur = conns[who].execute(sql)
                rows = cur.fetchall() if cur.description is not None else None
                out.append((who, sql, "ok", rows))
            except psycopg.Error as exc:
                out.append((who, sql, "error", exc.sqlstate))
    finally:
        for c in conns.values():
            c.close()
    return out


def _nologin(connect):
    try:
        connect("nologin").close()
    except psycopg.OperationalError as exc:
        return exc.sqlstate or ("28000" if "not permitted to log in" in str(exc) else str(exc))
    return "logged in"


def _psql(args, env, *commands):
    out = subprocess.run([PSQL, "-X", *args, "-c", *commands], capture_output=True, text=True,
                         env=env, timeout=60)
    return out.stdout, out.stderr


def _assert_same(pg: list, mine: list) -> None:
    """The same outcome of every step on PostgreSQL (``pg``) and here (``mine``), as
    ``_run``/``_run_verbose`` give them; the steps that differ listed when not."""
    diffs = [(p[0], p[1], p[2:], m[2:]) for p, m in zip(pg, mine) if p != m]
    assert not diffs, "\n".join(f"{who}: {sql}\n  postgres: {a}\n  rustmemodb: {b}"
                                for who, sql, a, b in diffs)


def _assert_same_psql(postgres, ours, command: str, expected: str) -> None:
    """psql's ``command`` prints the same on both servers, without errors, and what it
    prints here holds ``expected`` (so an empty listing cannot pass)."""
    pg_out, pg_err = _psql(postgres[1], postgres[2], command)
    my_out, my_err = _psql(ours[1], ours[2], command)
    assert not pg_err and not my_err, (pg_err, my_err)
    assert expected in my_out
    assert my_out == pg_out, f"{command}\n--- postgres\n{pg_out}\n--- rustmemodb\n{my_out}"


@pytest.fixture
def postgres(pg_dsn):
    """PostgreSQL: a fresh database and the script's roles (cluster-wide) dropped after."""
    info = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    admin = psycopg.connect(pg_dsn, autocommit=True)

    def cleanup():
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")
        for role in ROLES + ("dr_other", "dr_other2", "dr_w2", "dr_a2", "dr_boss"):
            admin.execute(f"DROP ROLE IF EXISTS {role}")
    cleanup()
    admin.execute("CREATE ROLE dr_admin SUPERUSER LOGIN PASSWORD 'adm'")
    admin.execute(f"CREATE DATABASE {DB} OWNER dr_admin")

    def connect(who):
        return psycopg.connect(host=info["host"], port=info.get("port", 5432),
                               user=f"dr_{who}", dbname=DB, autocommit=True)
    yield connect, ["-h", info["host"], "-p", str(info.get("port", 5432)), "-U", "dr_admin",
                    "-d", DB], dict(os.environ)
    cleanup()
    admin.close()


@pytest.fixture
def ours():
    conn = rustmemodb.connect()
    with rustmemodb.serve(conn, users={"dr_admin": "adm"}) as srv:
        def connect(who):
            return psycopg.connect(host="127.0.0.1", port=srv.port, user=f"dr_{who}",
                                   password=PASSWORDS.get(who, "n"), dbname="main",
                                   autocommit=True)
        yield connect, ["-h", "127.0.0.1", "-p", str(srv.port), "-U", "dr_admin", "-d", "main"], \
            dict(os.environ, PGPASSWORD="adm")
    conn.close()


def test_same_outcomes_as_postgresql(postgres, ours):
    pg = _run(postgres[0], SCRIPT)
    mine = _run(ours[0], SCRIPT)
    _assert_same(pg, mine)
    # the script did exercise both outcomes
    assert {o[2] for o in mine} == {"ok", "error"}
    assert _nologin(postgres[0]) == _nologin(ours[0]) == "28000"


@pytest.mark.skipif(not os.path.exists(PSQL), reason="psql not installed")
def test_psql_du_and_dp_match_postgresql(postgres, ours):
    setup = [("admin", s) for s in (
        "CREATE TABLE dr_t (id INTEGER PRIMARY KEY)", "CREATE TABLE dr_u (id INTEGER)",
        "CREATE VIEW dr_v AS SELECT id FROM dr_t",
        "CREATE ROLE dr_reader LOGIN PASSWORD 'r'", "CREATE ROLE dr_group",
        "CREATE ROLE dr_nologin NOLOGIN CREATEDB CONNECTION LIMIT 3",
        "CREATE USER dr_writer CREATEROLE", "GRANT dr_group TO dr_reader",
        "GRANT SELECT, INSERT ON dr_t TO dr_reader WITH GRANT OPTION",
        "GRANT SELECT ON dr_t TO PUBLIC", "GRANT ALL ON dr_v TO dr_group",
        "ALTER DEFAULT PRIVILEGES FOR ROLE dr_writer GRANT SELECT ON TABLES TO dr_reader",
        "ALTER DEFAULT PRIVILEGES FOR ROLE dr_writer IN SCHEMA public GRANT INSERT, UPDATE "
        "ON TABLES TO dr_group WITH GRANT OPTION",
        "ALTER DEFAULT PRIVILEGES FOR ROLE dr_reader GRANT USAGE ON SCHEMAS TO dr_group")]
    assert all(o[2] == "ok" for o in _run(postgres[0], setup))
    assert all(o[2] == "ok" for o in _run(ours[0], setup))
    for command in (r"\du dr_*", r"\dp dr_*", r"\ddp"):
        _assert_same_psql(postgres, ours, command, "dr_")


ROLE_SETTINGS = [
    ("admin", "CREATE ROLE dr_reader LOGIN PASSWORD 'r'"),
    ("admin", "ALTER ROLE dr_reader SET work_mem = '64MB'"),
    ("admin", "ALTER ROLE dr_reader SET statement_timeout = 30000"),
    ("admin", "ALTER ROLE dr_reader SET search_path = x, \"Y\", public"),
    ("admin", "ALTER ROLE dr_reader SET datestyle = 'ISO, DMY'"),
    ("reader", "SHOW work_mem"),
    ("reader", "SHOW statement_timeout"),
    ("reader", "SHOW search_path"),
    ("reader", "SHOW datestyle"),
    ("reader", "SELECT '2024-03-01'::date::text"),
    ("reader", "SET work_mem = '9MB'"),
    ("reader", "RESET work_mem"),
    ("reader", "SHOW work_mem"),
    ("reader", "SET statement_timeout = 0"),
    ("reader", "RESET ALL"),
    ("reader", "SHOW statement_timeout"),
    ("reader", "ALTER ROLE dr_reader SET work_mem = '1MB'"),
    ("reader", "ALTER ROLE dr_writer SET work_mem = '1MB'"),
    ("admin", "SELECT rolname, rolconfig FROM pg_roles WHERE rolname LIKE 'dr%' ORDER BY 1"),
    # SET SESSION AUTHORIZATION: a superuser's session becomes the role (its settings
    # are a login's, not applied here), a plain role's may not
    ("admin", "CREATE TABLE dr_sa (id INTEGER)"),
    ("admin", "SET SESSION AUTHORIZATION dr_reader"),
    ("admin", "SELECT session_user, current_user"),
    ("admin", "SELECT count(*) FROM dr_sa"),
    ("admin", "SET SESSION AUTHORIZATION dr_nobody"),
    ("admin", "RESET SESSION AUTHORIZATION"),
    ("admin", "SELECT session_user, current_user"),
    ("reader", "SET SESSION AUTHORIZATION dr_admin"),
    ("reader", "SET SESSION AUTHORIZATION DEFAULT"),
]


def test_role_settings_apply_at_login_as_on_postgresql(postgres, ours):
    """ALTER ROLE ... SET: a session logging in as the role starts with those values,
    RESET returns to them; the same outcomes and psql \\drds as PostgreSQL 15."""
    pg = _run(postgres[0], ROLE_SETTINGS)
    mine = _run(ours[0], ROLE_SETTINGS)
    _assert_same(pg, mine)
    assert ("reader", "SHOW work_mem", "ok", [("64MB",)]) in mine
    if os.path.exists(PSQL):
        _assert_same_psql(postgres, ours, r"\drds dr_*", "work_mem=1MB")


COLUMN_SCRIPT = [
    ("admin", "CREATE TABLE dr_c (a INTEGER, b TEXT, c INTEGER)"),
    ("admin", "INSERT INTO dr_c VALUES (1, 'x', 10)"),
    ("admin", "CREATE ROLE dr_reader LOGIN PASSWORD 'r'"),
    ("admin", "CREATE ROLE dr_group"),
    ("admin", "GRANT SELECT (a, b), UPDATE (c) ON dr_c TO dr_reader"),
    ("admin", "GRANT SELECT (a) ON dr_c TO dr_group WITH GRANT OPTION"),
    ("admin", "GRANT INSERT ON dr_c TO dr_group WITH GRANT OPTION"),
    ("admin", "GRANT dr_group TO dr_reader"),
    # granted with an inherited grant option: recorded as made by the role holding it
    ("reader", "GRANT INSERT ON dr_c TO PUBLIC"),
    ("admin", "SELECT array_to_string(relacl, ',') FROM pg_class WHERE relname = 'dr_c'"),
    ("reader", "SELECT a, b FROM dr_c"),
    ("reader", "SELECT count(*) FROM dr_c"),
    ("reader", "SELECT c FROM dr_c"),
    ("reader", "UPDATE dr_c SET c = c + 1 WHERE a = 1 RETURNING b"),
    ("reader", "UPDATE dr_c SET b = 'y'"),
    ("reader", "GRANT SELECT (a) ON dr_c TO PUBLIC"),
    ("reader", "GRANT SELECT (c) ON dr_c TO PUBLIC"),
    ("admin", "GRANT DELETE (a) ON dr_c TO dr_reader"),
    ("admin", "GRANT SELECT (zz) ON dr_c TO dr_reader"),
    ("admin", "SELECT has_column_privilege('dr_reader', 'dr_c', 'zz', 'SELECT')"),
    ("admin", "SELECT has_column_privilege('dr_reader', 'dr_c', 'a', 'DELETE')"),
    ("admin", "SELECT has_column_privilege('dr_reader', 'dr_c', 'c', 'SELECT'), "
              "has_column_privilege('dr_reader', 'dr_c', 'a', 'SELECT WITH GRANT OPTION'), "
              "has_any_column_privilege('dr_group', 'dr_c', 'UPDATE')"),
    ("admin", "REVOKE SELECT (a) ON dr_c FROM dr_group"),
    ("admin", "DROP ROLE dr_reader"),
    ("admin", "DROP ROLE dr_group"),
    ("admin", "SELECT attname, array_to_string(attacl, ',') FROM pg_attribute "
              "WHERE attrelid = 'dr_c'::regclass AND attnum > 0 ORDER BY attnum"),
    ("admin", "SELECT grantee, column_name, privilege_type, is_grantable "
              "FROM information_schema.column_privileges WHERE table_name = 'dr_c' "
              "AND grantee LIKE 'dr%' AND grantee <> 'dr_admin' ORDER BY 1, 2, 3"),
]


def _run_verbose(connect, script):
    """Each step's rows, or its error's SQLSTATE, message and DETAIL."""
    conns, out = {}, []
    try:
        for who, sql in script:
            if who not in conns:
                conns[who] = connect(who)
            try:
                cur = conns[who].execute(sql)
                out.append((who, sql, cur.fetchall() if cur.description is not None else None))
            except psycopg.Error as exc:
                out.append((who, sql, exc.sqlstate, exc.diag.message_primary,
                            exc.diag.message_detail))
    finally:
        for c in conns.values():
            c.close()
    return out


def test_column_privileges_match_postgresql(postgres, ours):
    """Column privileges over the wire: outcomes, error texts (``permission denied for
    table dr_c``, ``... for column "c" of relation "dr_c"``) and DROP ROLE's detail."""
    pg = _run_verbose(postgres[0], COLUMN_SCRIPT)
    mine = _run_verbose(ours[0], COLUMN_SCRIPT)
    _assert_same(pg, mine)
    assert any(len(o) == 5 and o[4] for o in mine)      # a DETAIL was compared


WARNING_SCRIPT = [
    ("admin", "CREATE TABLE dr_w (a INTEGER, b INTEGER)"),
    ("admin", "CREATE VIEW dr_wv AS SELECT a, b FROM dr_w"),
    ("admin", "CREATE ROLE dr_reader LOGIN PASSWORD 'r'"),
    ("admin", "CREATE ROLE dr_group"),
    ("admin", "GRANT SELECT ON dr_w TO dr_reader WITH GRANT OPTION"),
    ("admin", "GRANT INSERT ON dr_w TO dr_reader"),
    ("admin", "GRANT SELECT ON dr_wv TO dr_reader"),
    ("admin", "GRANT UPDATE (a) ON dr_w TO dr_reader WITH GRANT OPTION"),
    ("admin", "GRANT UPDATE (b) ON dr_w TO dr_reader"),
    ("reader", "GRANT SELECT, INSERT ON dr_w TO dr_group"),
    ("reader", "GRANT INSERT ON dr_w TO dr_group"),
    ("reader", "GRANT ALL ON dr_w TO dr_group"),
    ("reader", "GRANT UPDATE (b, a) ON dr_w TO dr_group"),
    ("reader", "GRANT SELECT (b), UPDATE (b) ON dr_w TO dr_group"),
    ("reader", "GRANT ALL (b) ON dr_w TO dr_group"),
    ("reader", "GRANT SELECT (a), INSERT ON dr_w TO dr_group"),
    ("reader", "GRANT SELECT (a) ON dr_wv TO dr_group"),
    ("reader", "REVOKE SELECT, INSERT ON dr_w FROM dr_group"),
    ("reader", "REVOKE UPDATE ON dr_w FROM dr_group"),
    ("reader", "REVOKE TRUNCATE ON dr_w FROM dr_group"),
    ("reader", "REVOKE SELECT ON dr_wv FROM dr_group"),
    ("reader", "REVOKE ALL ON dr_w FROM dr_group"),
    ("reader", "REVOKE UPDATE (a, b) ON dr_w FROM dr_group"),
    ("reader", "REVOKE SELECT (b), UPDATE (b) ON dr_w FROM dr_group"),
    ("reader", "REVOKE GRANT OPTION FOR INSERT ON dr_w FROM dr_group"),
    ("admin", "SELECT attname, array_to_string(attacl, ',') FROM pg_attribute "
              "WHERE attrelid = 'dr_w'::regclass AND attnum > 0 ORDER BY attnum"),
    ("admin", "SELECT array_to_string(relacl, ',') FROM pg_class WHERE relname = 'dr_w'"),
]


def _run_notices(connect, script):
    """Each step's outcome (rows or SQLSTATE) and the notices it sent, in order."""
    conns, out = {}, []
    try:
        for who, sql in script:
            if who not in conns:
                conns[who] = connect(who)
                conns[who].add_notice_handler(lambda d, who=who: heard.append(
                    (d.severity, d.sqlstate, d.message_primary)))
            heard = []
            try:
                cur = conns[who].execute(sql)
                got = cur.fetchall() if cur.description is not None else None
            except psycopg.Error as exc:
                got = exc.sqlstate
            out.append((who, sql, got, heard))
    finally:
        for c in conns.values():
            c.close()
    return out


def test_grant_warnings_match_postgresql(postgres, ours):
    """A grantor holding some of the grant options asked for: what it may do is done,
    and PostgreSQL's WARNINGs (01007 granted, 01006 revoked; per relation, per column,
    REVOKE's implied column revokes with a table's system columns) arrive as
    NoticeResponses, the same as from PostgreSQL 15."""
    pg = _run_notices(postgres[0], WARNING_SCRIPT)
    mine = _run_notices(ours[0], WARNING_SCRIPT)
    _assert_same(pg, mine)
    assert sum(len(o[3]) for o in mine) > 20       # warnings were compared


SEQUENCE_SCRIPT = [
    ("admin", "CREATE ROLE dr_reader LOGIN PASSWORD 'r'"),
    ("admin", "CREATE ROLE dr_group"),
    ("admin", "CREATE TABLE dr_s (id SERIAL PRIMARY KEY, v TEXT)"),
    ("admin", "CREATE TABLE dr_i (id INTEGER GENERATED ALWAYS AS IDENTITY, v TEXT)"),
    ("admin", "CREATE SEQUENCE dr_q"),
    ("admin", "CREATE FUNCTION dr_f(x TEXT) RETURNS TEXT LANGUAGE sql AS 'SELECT upper(x)'"),
    ("admin", "GRANT INSERT, SELECT ON dr_s, dr_i TO dr_reader"),
    # what migration scripts and pg_dump send
    ("reader", "INSERT INTO dr_s (v) VALUES ('a')"),
    ("reader", "INSERT INTO dr_i (v) VALUES ('a')"),
    ("reader", "SELECT nextval('dr_q')"),
    ("reader", "SELECT lastval()"),
    ("admin", "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO dr_reader"),
    ("reader", "INSERT INTO dr_s (v) VALUES ('a') RETURNING id"),
    ("reader", "SELECT currval('dr_s_id_seq'), lastval()"),
    ("reader", "SELECT setval('dr_q', 5)"),
    ("admin", "GRANT UPDATE ON SEQUENCE dr_q TO dr_group"),
    ("admin", "GRANT dr_group TO dr_reader"),
    ("reader", "SELECT setval('dr_q', 5)"),
    ("admin", "REVOKE ALL ON FUNCTION dr_f(text) FROM PUBLIC"),
    ("reader", "SELECT dr_f('x')"),
    ("admin", "GRANT EXECUTE ON FUNCTION dr_f(text) TO dr_reader"),
    ("reader", "SELECT dr_f('x')"),
    ("admin", "GRANT INSERT ON SEQUENCE dr_q TO dr_reader"),
    ("admin", "GRANT USAGE ON SEQUENCE dr_s TO dr_reader"),
    ("admin", "GRANT EXECUTE ON FUNCTION dr_f(integer) TO dr_reader"),
    ("admin", "GRANT EXECUTE ON PROCEDURE dr_f(text) TO dr_reader"),
    ("admin", "SELECT relname, array_to_string(relacl, ',') FROM pg_class "
              "WHERE relname LIKE 'dr%' AND relkind = 'S' ORDER BY 1"),
    ("admin", "SELECT array_to_string(proacl, ',') FROM pg_proc WHERE proname = 'dr_f'"),
    ("admin", "SELECT has_sequence_privilege('dr_reader', 'dr_q', 'UPDATE'), "
              "has_sequence_privilege('dr_group', 'dr_q', 'USAGE'), "
              "has_function_privilege('dr_group', 'dr_f(text)', 'EXECUTE')"),
    ("reader", "DROP TABLE IF EXISTS dr_nosuch"),
    ("reader", "DROP SEQUENCE IF EXISTS dr_nosuch"),
    ("reader", "DROP SEQUENCE IF EXISTS dr_q"),
    ("admin", "DROP ROLE dr_group"),
]


def test_sequence_and_function_privileges_match_postgresql(postgres, ours):
    """GRANT/REVOKE on sequences and functions over the wire: outcomes, error texts
    (``permission denied for sequence dr_q``, ``... for function dr_f``) and details."""
    pg = _run_verbose(postgres[0], SEQUENCE_SCRIPT)
    mine = _run_verbose(ours[0], SEQUENCE_SCRIPT)
    _assert_same(pg, mine)
    assert sum(len(o) == 5 for o in mine) > 8       # errors were compared


@pytest.mark.skipif(not os.path.exists(PSQL), reason="psql not installed")
def test_psql_dp_and_ddp_of_sequences_and_functions_match_postgresql(postgres, ours):
    setup = [("admin", s) for s in (
        "CREATE ROLE dr_reader LOGIN PASSWORD 'r'", "CREATE ROLE dr_group",
        "CREATE TABLE dr_t (id SERIAL PRIMARY KEY, v TEXT)", "CREATE SEQUENCE dr_q",
        "GRANT USAGE, SELECT ON SEQUENCE dr_q TO dr_reader WITH GRANT OPTION",
        "GRANT USAGE ON SEQUENCE dr_t_id_seq TO dr_group",
        "GRANT ALL ON TABLE dr_q TO dr_group",
        "ALTER DEFAULT PRIVILEGES FOR ROLE dr_reader GRANT USAGE ON SEQUENCES TO dr_group",
        "ALTER DEFAULT PRIVILEGES FOR ROLE dr_reader IN SCHEMA public GRANT SELECT, UPDATE "
        "ON SEQUENCES TO dr_group",
        "ALTER DEFAULT PRIVILEGES FOR ROLE dr_reader REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
        "ALTER DEFAULT PRIVILEGES FOR ROLE dr_group GRANT EXECUTE ON ROUTINES TO dr_reader")]
    assert all(o[2] == "ok" for o in _run(postgres[0], setup))
    assert all(o[2] == "ok" for o in _run(ours[0], setup))
    for command in (r"\dp dr_*", r"\ddp"):
        _assert_same_psql(postgres, ours, command, "sequence")


SEQUENCE_WARNINGS = [
    ("admin", "CREATE ROLE dr_reader LOGIN PASSWORD 'r'"),
    ("admin", "CREATE ROLE dr_group"),
    ("admin", "CREATE SEQUENCE dr_q"),
    ("admin", "CREATE FUNCTION dr_f() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1'"),
    ("admin", "GRANT INSERT, UPDATE ON TABLE dr_q TO dr_reader"),
    ("admin", "GRANT DELETE ON dr_q TO dr_reader"),
    ("admin", "GRANT SELECT ON SEQUENCE dr_q TO dr_reader WITH GRANT OPTION"),
    ("reader", "GRANT SELECT, USAGE ON SEQUENCE dr_q TO dr_group"),
    ("reader", "GRANT ALL ON SEQUENCE dr_q TO dr_group"),
    ("reader", "REVOKE UPDATE ON SEQUENCE dr_q FROM dr_group"),
    ("reader", "GRANT EXECUTE ON FUNCTION dr_f() TO dr_group"),
    ("admin", "DROP TABLE IF EXISTS dr_nosuch"),
    ("reader", "DROP TABLE IF EXISTS dr_nosuch"),
    ("reader", "DROP VIEW IF EXISTS dr_nosuch"),
    ("reader", "DROP INDEX IF EXISTS dr_nosuch"),
    ("admin", "SELECT array_to_string(relacl, ',') FROM pg_class WHERE relname = 'dr_q'"),
    # a GRANT that granted nothing still writes the ACL out
    ("admin", "SELECT array_to_string(proacl, ',') FROM pg_proc WHERE proname = 'dr_f'"),
]


def test_sequence_grant_warnings_match_postgresql(postgres, ours):
    """GRANT ... ON TABLE of a sequence warns (0LP01) about what a sequence has not, a
    grantor with some grant options gets 01007/01006, a DROP ... IF EXISTS of nothing
    by a non-owner is a NOTICE: the same NoticeResponses as from PostgreSQL 15."""
    pg = _run_notices(postgres[0], SEQUENCE_WARNINGS)
    mine = _run_notices(ours[0], SEQUENCE_WARNINGS)
    _assert_same(pg, mine)
    assert sum(len(o[3]) for o in mine) >= 6
