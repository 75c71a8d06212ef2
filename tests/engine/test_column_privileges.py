"""Column privileges, embedded: the parser, the column-use analysis the check relies on,
the roles catalog's column ACLs (encoding, drops, renames, forks, reopen), logins with
``connect(user=...)``, and the cost of the check for roles that do not need it.

The SQL outcomes are ``tests/sql/auth/column_privileges.test`` (replayed on PostgreSQL
15 too); psql's ``\\dp`` column is compared with PostgreSQL in
``tests/server/test_catalog_differential.py``.
"""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb.sql import parse_roles
from rustmemodb.sql.bind.column_uses import Unknown, column_uses
from rustmemodb.sql.parse import parse_one
from rustmemodb.storage import roles

from .raised import sqlstate as _sqlstate


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER, b TEXT, c INTEGER)")
    c.execute("INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 20)")
    c.execute("CREATE TABLE u (a INTEGER, d TEXT)")
    c.execute("CREATE ROLE r LOGIN PASSWORD 'pw'")
    yield c
    c.close()


# ---- the parser ----------------------------------------------------------------------------

def test_parser_reads_column_lists_beside_table_privileges():
    g = parse_roles.parse('GRANT SELECT (a, "B"), UPDATE, INSERT (c) ON TABLE t, u TO r '
                          "WITH GRANT OPTION")
    assert (g.privileges, g.columns, g.objects, g.grant_option) == \
        (["UPDATE"], [("SELECT", ["a", "B"]), ("INSERT", ["c"])], ["t", "u"], True)
    a = parse_roles.parse("REVOKE GRANT OPTION FOR ALL PRIVILEGES (a) ON t FROM PUBLIC "
                          "RESTRICT")
    assert (a.grant, a.privileges, a.columns, a.grantees, a.grant_option, a.cascade) == \
        (False, [], [("ALL", ["a"])], [""], True, False)
    assert parse_roles.parse("GRANT ALL (a, b) ON t TO r").columns == [("ALL", ["a", "b"])]
    # without a column list nothing changes
    assert parse_roles.parse("GRANT SELECT ON t TO r").columns == []


@pytest.mark.parametrize("sql", ["GRANT SELECT () ON t TO r", "GRANT SELECT (a ON t TO r",
                                 "GRANT SELECT (a,) ON t TO r"])
def test_parser_refuses_broken_column_lists(conn, sql):
    assert _sqlstate(conn.execute, sql) == "42601"


def test_default_privileges_refuse_columns(conn):
    assert _sqlstate(conn.execute, "ALTER DEFAULT PRIVILEGES GRANT SELECT (a) ON TABLES "
                                   "TO r") == "0LP01"


# ---- what a statement uses -----------------------------------------------------------------

_COLUMNS = {"t": ["a", "b", "c"], "u": ["a", "d"]}


def _uses(sql):
    uses = column_uses(parse_one(sql), _COLUMNS.get)
    return {k: sorted(v) for k, v in uses.out.items()}, uses.targets


@pytest.mark.parametrize("sql, expected", [
    ("SELECT a FROM t WHERE c > 1 ORDER BY b", {("t", "SELECT"): ["a", "b", "c"]}),
    ("SELECT count(*) FROM t", {("t", "SELECT"): []}),
    ("SELECT * FROM t", {("t", "SELECT"): ["a", "b", "c"]}),
    ("SELECT t FROM t", {("t", "SELECT"): ["a", "b", "c"]}),
    ("SELECT x.* FROM t x, u", {("t", "SELECT"): ["a", "b", "c"], ("u", "SELECT"): []}),
    ("SELECT d FROM t JOIN u USING (a)", {("t", "SELECT"): ["a"], ("u", "SELECT"): ["a", "d"]}),
    ("SELECT s.a FROM (SELECT a, b FROM t) s", {("t", "SELECT"): ["a", "b"]}),
    ("SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.d = t.b)",
     {("t", "SELECT"): ["a", "b"], ("u", "SELECT"): ["d"]}),
    ("WITH w AS (SELECT c FROM t) SELECT c FROM w", {("t", "SELECT"): ["c"]}),
    ("SELECT y FROM t AS x (y, z)", {("t", "SELECT"): ["a"]}),
    ("SELECT a FROM t UNION SELECT a FROM u", {("t", "SELECT"): ["a"], ("u", "SELECT"): ["a"]}),
    ("SELECT 1 FROM t NATURAL JOIN u", {("t", "SELECT"): ["a"], ("u", "SELECT"): ["a"]}),
    ("SELECT a AS c FROM t ORDER BY c", {("t", "SELECT"): ["a"]}),
    ("SELECT a FROM t ORDER BY c", {("t", "SELECT"): ["a", "c"]}),
    # clauses this module has no rule for are walked all the same
    ("SELECT a FROM t, ROWS FROM (generate_series(1, (SELECT max(c) FROM t))) g",
     {("t", "SELECT"): ["a", "c"]}),
    ("SELECT a FROM t UNION SELECT a FROM u ORDER BY (SELECT max(d) FROM u)",
     {("t", "SELECT"): ["a"], ("u", "SELECT"): ["a", "d"]}),
])
def test_selected_columns(sql, expected):
    assert _uses(sql)[0] == expected


def test_written_columns():
    assert _uses("INSERT INTO t VALUES (1, 'x')")[0] == {("t", "INSERT"): ["a", "b"]}
    assert _uses("INSERT INTO t DEFAULT VALUES")[0] == {("t", "INSERT"): []}
    # without a column list: the leading columns the source gives values, * expanded
    assert _uses("INSERT INTO t SELECT * FROM u")[0] == \
        {("t", "INSERT"): ["a", "b"], ("u", "SELECT"): ["a", "d"]}
    assert _uses("INSERT INTO t SELECT u.* FROM u")[0] == \
        {("t", "INSERT"): ["a", "b"], ("u", "SELECT"): ["a", "d"]}
    assert _uses("INSERT INTO t (SELECT a FROM u UNION ALL SELECT a FROM u)")[0] == \
        {("t", "INSERT"): ["a"], ("u", "SELECT"): ["a"]}
    assert _uses("WITH q AS (SELECT a, d FROM u) INSERT INTO t SELECT * FROM q")[0] == \
        {("t", "INSERT"): ["a", "b"], ("u", "SELECT"): ["a", "d"]}
    assert _uses("INSERT INTO t SELECT * FROM generate_series(1, 2)")[0] == \
        {("t", "INSERT"): ["a"]}
    assert _uses("INSERT INTO t (c) SELECT a FROM u RETURNING b")[0] == \
        {("t", "INSERT"): ["c"], ("u", "SELECT"): ["a"], ("t", "SELECT"): ["b"]}
    assert _uses("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET b = "
                 "excluded.b WHERE t.c > 0")[0] == \
        {("t", "INSERT"): ["a"], ("t", "SELECT"): ["a", "c"], ("t", "UPDATE"): ["b"]}
    out, targets = _uses("UPDATE t SET b = 'z', c = a + 1 WHERE a = 1")
    assert out == {("t", "UPDATE"): ["b", "c"], ("t", "SELECT"): ["a"]} and targets == {"t"}
    # an UPDATE reading no column needs no SELECT at all
    assert _uses("UPDATE t SET b = 'z'")[0] == {("t", "UPDATE"): ["b"]}
    assert _uses("UPDATE t SET b = 'z' FROM u RETURNING *")[0] == \
        {("t", "UPDATE"): ["b"], ("t", "SELECT"): ["a", "b", "c"], ("u", "SELECT"): ["a", "d"]}
    assert _uses("INSERT INTO t (a) VALUES (1) RETURNING *")[0] == \
        {("t", "INSERT"): ["a"], ("t", "SELECT"): ["a", "b", "c"]}
    assert _uses("DELETE FROM t USING u WHERE t.a = u.a")[0] == \
        {("t", "SELECT"): ["a"], ("u", "SELECT"): ["a"]}


def test_merge_columns():
    out, targets = _uses("MERGE INTO t AS x USING u ON x.a = u.a WHEN MATCHED AND x.c > 0 "
                         "THEN UPDATE SET b = u.d WHEN NOT MATCHED THEN INSERT (a, b) "
                         "VALUES (a, d) WHEN MATCHED THEN DELETE")
    assert out == {("t", "SELECT"): ["a", "c"], ("t", "UPDATE"): ["b"],
                   ("t", "INSERT"): ["a", "b"], ("u", "SELECT"): ["a", "d"]}
    assert targets == {"t"}


def test_on_conflict_on_constraint_reads_its_columns():
    tree = parse_one("INSERT INTO t VALUES (1) ON CONFLICT ON CONSTRAINT k DO NOTHING")
    uses = column_uses(tree, _COLUMNS.get, lambda t, n: {("t", "k"): ["a", "c"]}.get((t, n)))
    assert {k: sorted(v) for k, v in uses.out.items()} == \
        {("t", "INSERT"): ["a"], ("t", "SELECT"): ["a", "c"]}


def test_shapes_not_followed_are_unknown():
    with pytest.raises(Unknown):      # no constraint lookup given
        column_uses(parse_one("INSERT INTO t VALUES (1) ON CONFLICT ON CONSTRAINT k "
                              "DO NOTHING"), _COLUMNS.get)
    with pytest.raises(Unknown):      # the parent's primary key: no constraint lookup
        column_uses(parse_one("CREATE TABLE z (a int REFERENCES t)"), _COLUMNS.get)
    with pytest.raises(Unknown):      # ... or no primary key
        column_uses(parse_one("CREATE TABLE z (a int REFERENCES t)"), _COLUMNS.get,
                    lambda t, n: None)


def test_foreign_keys_reference_the_columns_they_name():
    assert _uses("CREATE TABLE z (x int REFERENCES t (b), y int, "
                 "FOREIGN KEY (y) REFERENCES u (a))")[0] == \
        {("t", "REFERENCES"): ["b"], ("u", "REFERENCES"): ["a"]}
    assert _uses("ALTER TABLE u ADD FOREIGN KEY (a) REFERENCES t (c)")[0] == \
        {("t", "REFERENCES"): ["c"]}
    # naming no parent columns: the parent's primary key's
    keys = {("t", None): ["a", "c"], ("u", None): ["a"]}
    uses = column_uses(parse_one("CREATE TABLE z (x int REFERENCES t, y int, z int, "
                                 "FOREIGN KEY (y, z) REFERENCES t, "
                                 "CONSTRAINT f FOREIGN KEY (x) REFERENCES u)"),
                       _COLUMNS.get, lambda t, n: keys.get((t, n)))
    assert {k: sorted(v) for k, v in uses.out.items()} == \
        {("t", "REFERENCES"): ["a", "c"], ("u", "REFERENCES"): ["a"]}


# ---- the roles catalog ---------------------------------------------------------------------

def test_column_acls_encode_and_follow_the_objects(conn):
    conn.execute("GRANT SELECT (a, b), UPDATE (c) ON t TO r WITH GRANT OPTION")
    cat = conn.database.root.auth
    assert roles.column_acl_text(cat, "t", "a") == ["r=r*/rustmemodb"]
    assert roles.decode(roles.encode(cat)).columns == cat.columns
    with pytest.raises(ValueError):
        roles.decode({**roles.encode(cat), "columns": [["t", "a", [["r", "DELETE", False,
                                                                    "x"]]]]})
    conn.execute("ALTER TABLE t RENAME COLUMN b TO bb")
    conn.execute("ALTER TABLE t RENAME TO t2")
    assert set(conn.database.root.auth.columns) == {("t2", "a"), ("t2", "bb"), ("t2", "c")}
    conn.execute("ALTER TABLE t2 DROP COLUMN a")
    assert set(conn.database.root.auth.columns) == {("t2", "bb"), ("t2", "c")}
    conn.execute("DROP TABLE t2")
    assert conn.database.root.auth.columns == {}


def test_drop_role_names_column_grants_and_drop_owned_clears_them(conn):
    conn.execute("CREATE VIEW v AS SELECT a, d FROM u")
    conn.execute("GRANT SELECT (d) ON v TO r")
    conn.execute("GRANT SELECT (b, a) ON t TO r")
    conn.execute("GRANT INSERT (d) ON u TO r")
    conn.execute("GRANT UPDATE ON u TO r")
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("DROP ROLE r")
    assert info.value.sqlstate == "2BP01"
    # PostgreSQL 15's lines: each relation, then its columns in their order
    assert info.value.detail == ("privileges for column a of table t\n"
                                 "privileges for column b of table t\n"
                                 "privileges for table u\n"
                                 "privileges for column d of table u\n"
                                 "privileges for column d of view v")
    conn.execute("DROP OWNED BY r")
    conn.execute("DROP ROLE r")
    assert conn.database.root.auth.columns == {}


def test_reassign_owned_and_owner_to_move_the_grantor(conn):
    conn.execute("CREATE ROLE o")
    conn.execute("CREATE ROLE n")
    conn.execute("ALTER TABLE t OWNER TO o")
    conn.execute("GRANT SELECT (a) ON t TO r")
    assert roles.column_acl_text(conn.database.root.auth, "t", "a") == ["r=r/o"]
    conn.execute("REASSIGN OWNED BY o TO n")
    assert roles.column_acl_text(conn.database.root.auth, "t", "a") == ["r=r/n"]
    conn.execute("ALTER TABLE t OWNER TO o")
    assert roles.column_acl_text(conn.database.root.auth, "t", "a") == ["r=r/o"]


def test_login_checks_columns_and_grants_take_effect_at_once(conn):
    u = rustmemodb.connect(conn, user="r", password="pw")
    assert _sqlstate(u.execute, "SELECT a FROM t") == "42501"
    conn.execute("GRANT SELECT (a) ON t TO r")
    assert u.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,), (2,)]
    assert u.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    assert _sqlstate(u.execute, "SELECT a FROM t WHERE b = 'x'") == "42501"
    conn.execute("REVOKE SELECT (a) ON t FROM r")
    assert _sqlstate(u.execute, "SELECT a FROM t ORDER BY a") == "42501"


def test_fork_keeps_column_grants_and_diverges(conn):
    conn.execute("GRANT SELECT (a) ON t TO r")
    fdb = conn.database.fork()
    conn.execute("REVOKE SELECT (a) ON t FROM r")
    f = rustmemodb.connect(fdb, user="r", password="pw")
    assert f.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,), (2,)]
    assert _sqlstate(rustmemodb.connect(conn, user="r", password="pw").execute,
                     "SELECT a FROM t") == "42501"


def test_column_grants_survive_reopen(tmp_path):
    for checkpoint in (True, False):
        path = tmp_path / f"db{checkpoint}"
        db = rustmemodb.Database.open(path, checkpoint_on_close=checkpoint)
        c = db.connect()
        c.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        c.execute("CREATE ROLE r LOGIN PASSWORD 'pw'")
        c.execute("GRANT SELECT (a), INSERT (a, b) ON t TO r")
        c.close()
        db.close()
        db = rustmemodb.Database.open(path)
        assert roles.column_acl_text(db.root.auth, "t", "b") == ["r=a/rustmemodb"]
        u = rustmemodb.connect(db, user="r", password="pw")
        u.execute("INSERT INTO t VALUES (1, 'x')")
        assert u.execute("SELECT a FROM t").fetchall() == [(1,)]
        db.close()


# ---- what it costs those who do not need it --------------------------------------------------

def test_column_analysis_runs_only_for_roles_that_need_it(conn, monkeypatch):
    """Superusers and roles holding the table privilege never reach the column path
    (point statements cost what they did); a role relying on column grants pays one
    analysis per statement, not one per execution."""
    from rustmemodb.sql.bind import column_uses as module
    calls = []
    real = module.column_uses
    monkeypatch.setattr(module, "column_uses",
                        lambda tree, *lookups: calls.append(tree) or real(tree, *lookups))
    conn.execute("CREATE ROLE s LOGIN PASSWORD 'pw'")
    conn.execute("GRANT SELECT ON t TO r")
    conn.execute("GRANT SELECT (a), UPDATE (c) ON t TO PUBLIC")
    u = rustmemodb.connect(conn, user="r", password="pw")
    for _ in range(3):
        assert u.execute("SELECT b FROM t WHERE a = 1").fetchall() == [("x",)]
        conn.execute("SELECT b FROM t WHERE a = 1").fetchall()
    assert calls == []
    s = rustmemodb.connect(conn, user="s", password="pw")
    for _ in range(3):
        assert s.execute("SELECT a FROM t WHERE a = 2").fetchall() == [(2,)]
    assert len(calls) == 1


def test_has_column_privilege_by_oids_and_attnum(conn):
    """The signatures whose values differ between servers (oids): the SQL file tests
    the names."""
    conn.execute("GRANT SELECT (b) ON t TO r")
    role = conn.execute("SELECT oid FROM pg_roles WHERE rolname = 'r'").fetchall()[0][0]
    table = conn.execute("SELECT 't'::regclass::oid").fetchall()[0][0]
    q = lambda sql: conn.execute(sql).fetchall()[0][0]   # noqa: E731
    assert q(f"SELECT has_column_privilege({role}, {table}, 2::int2, 'SELECT')") is True
    assert q(f"SELECT has_column_privilege({role}, 't', 'a', 'SELECT')") is False
    assert q(f"SELECT has_any_column_privilege({role}, {table}, 'SELECT')") is True
    assert q("SELECT has_column_privilege('r', 999999, 'b', 'SELECT')") is None
    assert q(f"SELECT has_column_privilege('r', {table}, 9::int2, 'SELECT')") is None
    # an unknown role's oid holds what PUBLIC holds, as in PostgreSQL
    assert q(f"SELECT has_column_privilege(999999, {table}, 'b', 'SELECT')") is False
    conn.execute("GRANT SELECT (b) ON t TO PUBLIC")
    assert q(f"SELECT has_column_privilege(999999, {table}, 'b', 'SELECT')") is True


def test_grant_warnings_are_notices_and_what_may_be_done_is(conn):
    """A grantor holding some of the grant options asked for: PostgreSQL's WARNINGs
    (compared with PostgreSQL 15 over the wire in tests/server/test_roles_differential.py)
    and the part it may grant is granted."""
    conn.execute("CREATE ROLE g")
    conn.execute("GRANT SELECT ON t TO r WITH GRANT OPTION")
    conn.execute("GRANT INSERT ON t TO r")
    conn.execute("GRANT UPDATE (a) ON t TO r WITH GRANT OPTION")
    conn.execute("SET ROLE r")
    conn.notices.clear()

    def said(sql):
        conn.execute(sql)
        out = [(n.severity, n.sqlstate, n.message) for n in conn.notices]
        conn.notices.clear()
        return out
    assert said("GRANT SELECT, INSERT ON t TO g") == \
        [("WARNING", "01007", 'not all privileges were granted for "t"')]
    assert said("GRANT ALL ON t TO g") == []
    assert said("GRANT UPDATE (c, a) ON t TO g") == \
        [("WARNING", "01007", 'no privileges were granted for column "c" of relation "t"')]
    assert said("REVOKE UPDATE (a), INSERT (b) ON t FROM g") == \
        [("WARNING", "01006", 'no privileges could be revoked for column "b" of relation "t"')]
    revoked = said("REVOKE INSERT ON t FROM g")
    assert revoked[0] == ("WARNING", "01006", 'no privileges could be revoked for "t"')
    assert [m.split('"')[1] for _s, _c, m in revoked[1:]] == \
        ["tableoid", "cmax", "xmax", "cmin", "xmin", "ctid", "a", "b", "c"]
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT has_table_privilege('g', 't', 'SELECT'), "
                        "has_table_privilege('g', 't', 'INSERT'), "
                        "has_column_privilege('g', 't', 'c', 'UPDATE')").fetchall() == \
        [(True, False, False)]
