"""Sequence and function privileges, embedded: the parser, the roles catalog's ACLs of
sequences and functions (encoding, reopen from checkpoint and from the log, forks),
the check through views and cached plans, and DROP ... IF EXISTS that must not reach
another session's temporary table.

The SQL outcomes are ``tests/sql/auth/sequence_function_privileges.test`` (replayed on
PostgreSQL 15 too); psql's ``\\dp`` and ``\\ddp`` are compared with PostgreSQL in
``tests/server/test_roles_differential.py``.
"""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb.sql import parse_roles
from rustmemodb.storage import roles

from .raised import sqlstate as _sqlstate


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE ROLE owner LOGIN PASSWORD 'o'")
    c.execute("CREATE ROLE app LOGIN PASSWORD 'a'")
    c.execute("GRANT CREATE ON SCHEMA public TO owner, app")
    o = rustmemodb.connect(c, user="owner", password="o")
    o.execute("CREATE TABLE t (id SERIAL, v TEXT)")
    o.execute("CREATE SEQUENCE s")
    o.execute("CREATE FUNCTION f(x TEXT) RETURNS TEXT LANGUAGE sql AS 'SELECT upper(x)'")
    o.execute("GRANT INSERT, SELECT ON t TO app")
    yield c
    c.close()


def _as(conn, who):
    return rustmemodb.connect(conn, user=who, password=who[0])


# ---- the parser ----------------------------------------------------------------------------

def test_parser_reads_sequence_and_routine_targets():
    g = parse_roles.parse("GRANT USAGE, SELECT ON SEQUENCE s, public.q TO app")
    assert (g.target, g.objects, g.privileges) == ("sequence", ["s", "q"], ["USAGE", "SELECT"])
    g = parse_roles.parse("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, x TO app")
    assert (g.target, g.objects) == ("all_sequences", ["public", "x"])
    r = parse_roles.parse("REVOKE ALL ON FUNCTION f(IN x int, numeric(10, 2)), g, h() "
                          "FROM PUBLIC CASCADE")
    assert (r.target, r.objects, r.grantees, r.cascade) == \
        ("function", [("f", ["IN x int", "numeric(10, 2)"]), ("g", None), ("h", [])],
         [""], True)
    assert parse_roles.parse("GRANT EXECUTE ON ROUTINE f() TO app").target == "routine"
    assert parse_roles.parse("GRANT EXECUTE ON ALL ROUTINES IN SCHEMA public TO app"
                             ).target == "all_functions"
    d = parse_roles.parse("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON ROUTINES TO app")
    assert d.change.target == "functions"
    o = parse_roles.parse("ALTER FUNCTION public.f(x integer) OWNER TO app")
    assert (o.kind, o.name, o.args, o.role, o.routine) == \
        ("ALTER FUNCTION", "f", ["x integer"], "app", "function")
    # any other ALTER FUNCTION is sqlglot's
    assert parse_roles.parse("ALTER FUNCTION f(int) RENAME TO g") is None


@pytest.mark.parametrize("sql", ["GRANT EXECUTE ON FUNCTION f(int TO app",
                                 "GRANT EXECUTE ON FUNCTION f(,) TO app",
                                 "GRANT USAGE ON ALL SEQUENCE IN SCHEMA public TO app"])
def test_parser_refuses_broken_targets(sql):
    with pytest.raises(rustmemodb.Error) as info:
        parse_roles.parse(sql)
    assert info.value.sqlstate == "42601"


def test_types_keep_a_clear_refusal(conn):
    assert _sqlstate(conn.execute, "ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO app") \
        == "0A000"
    assert _sqlstate(conn.execute, "GRANT USAGE ON TYPE int TO app") == "0A000"


# ---- the roles catalog ---------------------------------------------------------------------

def test_owners_and_acl_text(conn):
    cat = conn.database.root.auth
    assert cat.owner("table", "s") == cat.owner("table", "t_id_seq") == "owner"
    assert cat.owner("function", "f") == "owner"
    conn.execute("GRANT SELECT ON SEQUENCE s TO app WITH GRANT OPTION")
    conn.execute("REVOKE EXECUTE ON FUNCTION f(text) FROM PUBLIC")
    cat = conn.database.root.auth
    assert roles.acl_text(cat, "table", "s") == ["owner=rwU/owner", "app=r*/owner"]
    assert roles.acl_text(cat, "function", "f") == ["owner=X/owner"]
    # the catalog's encoding carries the new letters
    assert roles.acl_text(roles.decode(roles.encode(cat)), "function", "f") == ["owner=X/owner"]


def test_dropped_and_renamed_sequences_take_their_grants(conn):
    conn.execute("GRANT USAGE ON SEQUENCE s, t_id_seq TO app")
    conn.execute("ALTER SEQUENCE s RENAME TO s2")
    assert roles.acl_text(conn.database.root.auth, "table", "s2") == \
        ["owner=rwU/owner", "app=U/owner"]
    conn.execute("DROP TABLE t")
    conn.execute("DROP FUNCTION f")
    cat = conn.database.root.auth
    assert ("table", "t_id_seq") not in cat.acl and ("table", "t_id_seq") not in cat.owners
    assert ("function", "f") not in cat.owners
    # a new object of the same name starts afresh
    conn.execute("CREATE SEQUENCE t_id_seq")
    assert roles.acl_text(conn.database.root.auth, "table", "t_id_seq") is None


# ---- the check -----------------------------------------------------------------------------

def test_serial_default_needs_usage_identity_does_not(conn):
    o = _as(conn, "owner")
    o.execute("CREATE TABLE i (id INTEGER GENERATED BY DEFAULT AS IDENTITY, v TEXT)")
    o.execute("GRANT INSERT ON i TO app")
    app = _as(conn, "app")
    assert _sqlstate(app.execute, "INSERT INTO t (v) VALUES ('a')") == "42501"
    app.execute("INSERT INTO i (v) VALUES ('a')")
    app.execute("INSERT INTO t (id, v) VALUES (7, 'given')")      # no default: no sequence
    o.execute("GRANT USAGE ON SEQUENCE t_id_seq TO app")
    app.execute("INSERT INTO t (v) VALUES ('b')")
    assert app.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,), (7,)]


def test_cached_plans_follow_grant_and_revoke(conn):
    app = _as(conn, "app")
    o = _as(conn, "owner")
    assert app.execute("SELECT f('a')").fetchall() == [("A",)]
    o.execute("REVOKE EXECUTE ON FUNCTION f FROM PUBLIC")
    assert _sqlstate(app.execute, "SELECT f('a')") == "42501"
    for _ in range(2):
        assert _sqlstate(app.execute, "SELECT nextval('s')") == "42501"
    o.execute("GRANT UPDATE ON SEQUENCE s TO app")
    assert app.execute("SELECT nextval('s')").fetchall() == [(1,)]
    o.execute("REVOKE UPDATE ON SEQUENCE s FROM app")
    assert _sqlstate(app.execute, "SELECT nextval('s')") == "42501"


def test_a_view_runs_sequences_and_functions_with_the_callers_rights(conn):
    """As PostgreSQL: a relation read through a view is checked for the view's owner,
    but the functions it calls (nextval too) for whoever runs it; defining the view
    checks nothing of them."""
    o = _as(conn, "owner")
    o.execute("REVOKE EXECUTE ON FUNCTION f FROM PUBLIC")
    app = _as(conn, "app")
    app.execute("CREATE VIEW va AS SELECT f('x') AS up, nextval('s') AS n")
    o.execute("CREATE VIEW v AS SELECT f('x') AS up")
    o.execute("CREATE VIEW w AS SELECT nextval('s') AS n")
    o.execute("GRANT SELECT ON v, w TO app")
    assert o.execute("SELECT up FROM v").fetchall() == [("X",)]
    assert _sqlstate(app.execute, "SELECT up FROM v") == "42501"
    assert _sqlstate(app.execute, "SELECT n FROM w") == "42501"
    o.execute("GRANT USAGE ON SEQUENCE s TO app")
    assert app.execute("SELECT n FROM w").fetchall() == [(1,)]


def test_drop_if_exists_resolves_the_name_first(conn):
    app = _as(conn, "app")
    app.execute("DROP TABLE IF EXISTS nosuch")
    assert [n.message for n in app.notices][-1] == 'table "nosuch" does not exist, skipping'
    assert _sqlstate(app.execute, "DROP TABLE nosuch") == "42P01"
    assert _sqlstate(app.execute, "DROP TABLE IF EXISTS t") == "42501"
    assert _sqlstate(app.execute, "DROP SEQUENCE IF EXISTS s") == "42501"
    conn.execute("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x")    # kept with the tables
    assert _sqlstate(app.execute, "DROP MATERIALIZED VIEW mv") == "42501"
    assert "materialized view mv" in str(pytest.raises(
        rustmemodb.Error, app.execute, "DROP MATERIALIZED VIEW IF EXISTS mv").value)
    app.execute("DROP MATERIALIZED VIEW IF EXISTS nosuch")
    # another session's temporary table of the same name is never reached
    o = _as(conn, "owner")
    o.execute("CREATE TEMP TABLE tmp (a INTEGER)")
    app.execute("DROP TABLE IF EXISTS tmp")
    assert o.execute("SELECT count(*) FROM tmp").fetchall() == [(0,)]
    app.execute("CREATE TEMP TABLE tmp (b TEXT)")
    app.execute("DROP TABLE IF EXISTS tmp")            # its own
    assert o.execute("SELECT count(*) FROM tmp").fetchall() == [(0,)]
    assert _sqlstate(app.execute, "SELECT * FROM tmp") == "42P01"


# ---- durability and forks ------------------------------------------------------------------

def test_grants_survive_reopen_from_checkpoint_and_from_the_log(tmp_path):
    for checkpoint in (True, False):
        path = tmp_path / f"db{checkpoint}"
        db = rustmemodb.Database.open(path, checkpoint_on_close=checkpoint)
        c = db.connect()
        c.execute("CREATE ROLE owner LOGIN PASSWORD 'o'")
        c.execute("CREATE ROLE app LOGIN PASSWORD 'a'")
        c.execute("GRANT CREATE ON SCHEMA public TO owner")
        c.execute("ALTER DEFAULT PRIVILEGES FOR ROLE owner GRANT USAGE ON SEQUENCES TO app")
        o = rustmemodb.connect(db, user="owner", password="o")
        o.execute("CREATE TABLE t (id SERIAL, v TEXT)")
        o.execute("CREATE FUNCTION f() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1'")
        o.execute("REVOKE ALL ON FUNCTION f() FROM PUBLIC")
        o.execute("GRANT INSERT ON t TO app")
        o.close()
        c.close()
        db.close()
        db = rustmemodb.Database.open(path)
        cat = db.root.auth
        assert roles.acl_text(cat, "table", "t_id_seq") == ["owner=rwU/owner", "app=U/owner"]
        assert roles.acl_text(cat, "function", "f") == ["owner=X/owner"]
        assert ("owner", "", "S") in cat.defaults
        app = rustmemodb.connect(db, user="app", password="a")
        app.execute("INSERT INTO t (v) VALUES ('x')")
        assert _sqlstate(app.execute, "SELECT f()") == "42501"
        app.close()
        db.close()


def test_fork_keeps_sequence_and_function_grants_and_diverges(conn):
    o = _as(conn, "owner")
    o.execute("GRANT USAGE ON SEQUENCE s TO app")
    o.execute("REVOKE EXECUTE ON FUNCTION f FROM PUBLIC")
    fdb = conn.database.fork()
    o.execute("REVOKE USAGE ON SEQUENCE s FROM app")
    o.execute("GRANT EXECUTE ON FUNCTION f TO app")
    f = rustmemodb.connect(fdb, user="app", password="a")
    assert f.execute("SELECT nextval('s')").fetchall() == [(1,)]
    assert _sqlstate(f.execute, "SELECT f('a')") == "42501"
    app = _as(conn, "app")
    assert _sqlstate(app.execute, "SELECT nextval('s')") == "42501"
    assert app.execute("SELECT f('a')").fetchall() == [("A",)]


def test_revoke_from_public_of_what_the_implicit_superuser_made():
    """pg_dump's ``REVOKE ALL ON FUNCTION f() FROM PUBLIC`` on a function made before any
    role existed (no owner grant then keeps the ACL from being empty): PUBLIC loses
    EXECUTE, and a later GRANT does not give it back."""
    c = rustmemodb.connect()
    c.execute("CREATE FUNCTION f() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1'")
    c.execute("CREATE TABLE t (id SERIAL, v TEXT)")
    c.execute("CREATE ROLE app LOGIN PASSWORD 'a'")
    c.execute("CREATE ROLE other LOGIN PASSWORD 'o'")
    c.execute("REVOKE ALL ON FUNCTION f() FROM PUBLIC")
    c.execute("GRANT INSERT ON t TO app")
    app = rustmemodb.connect(c, user="app", password="a")
    assert _sqlstate(app.execute, "SELECT f()") == "42501"
    assert _sqlstate(app.execute, "INSERT INTO t (v) VALUES ('x')") == "42501"
    c.execute("GRANT EXECUTE ON FUNCTION f() TO app")
    c.execute("GRANT USAGE ON SEQUENCE t_id_seq TO app")
    assert app.execute("SELECT f()").fetchall() == [(1,)]
    app.execute("INSERT INTO t (v) VALUES ('x')")
    other = rustmemodb.connect(c, user="other", password="o")
    assert _sqlstate(other.execute, "SELECT f()") == "42501"
    c.execute("REVOKE EXECUTE ON FUNCTION f() FROM app")
    assert _sqlstate(app.execute, "SELECT f()") == "42501"


def test_drop_schema_cascade_takes_the_sequences_grants():
    c = rustmemodb.connect()
    c.execute("CREATE ROLE app")
    c.execute("CREATE SCHEMA sx")
    c.execute("CREATE SEQUENCE sx.q")
    c.execute("CREATE TABLE sx.t (id SERIAL)")
    c.execute("GRANT USAGE ON SEQUENCE sx.q, sx.t_id_seq TO app")
    assert _sqlstate(c.execute, "DROP ROLE app") == "2BP01"
    c.execute("DROP SCHEMA sx CASCADE")
    assert not c.database.root.auth.acl
    c.execute("DROP ROLE app")
