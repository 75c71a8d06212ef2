"""Schemas (storage/namespaces.py, sql/schemas.py): durable through the WAL and
checkpoints, carried by forks, diffs and merges, resolved per session by search_path,
and old files (written before schemas) still read."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb.branch.diff import diff_all
from rustmemodb.branch.merge import merge
from rustmemodb.storage import roles


def _schemas(conn) -> list:
    return conn.execute("SELECT nspname, oid FROM pg_namespace WHERE nspname NOT IN "
                        "('pg_catalog', 'information_schema', 'public') ORDER BY 1").fetchall()


def _fill(c) -> None:
    c.execute("CREATE SCHEMA s")
    c.execute("CREATE TABLE s.t (id SERIAL PRIMARY KEY, v TEXT)")
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, sid INTEGER REFERENCES s.t (id))")
    c.execute("INSERT INTO s.t (v) VALUES ('a'), ('b')")
    c.execute("INSERT INTO t VALUES (1, 2)")
    c.execute("CREATE INDEX t_v ON s.t (v)")
    c.execute("CREATE VIEW s.v AS SELECT v FROM s.t WHERE id > 1")
    c.execute("CREATE SCHEMA empty")


@pytest.mark.parametrize("checkpoint", [False, True])
def test_schemas_survive_a_crash(tmp_path, checkpoint):
    db = rustmemodb.Database.open(tmp_path / "db")
    c = db.connect()
    _fill(c)
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("INSERT INTO s.t (v) VALUES ('c')")     # after the checkpoint: replayed
    c.execute("DROP SCHEMA empty")
    before = _schemas(c)
    db._abandon()                                     # as kill -9: no flush, no checkpoint
    again = rustmemodb.Database.open(tmp_path / "db")
    c = again.connect()
    assert _schemas(c) == before and [n for n, _ in before] == ["s"]
    assert c.execute("SELECT id, v FROM s.t ORDER BY id").fetchall() == \
        [(1, "a"), (2, "b"), (3, "c")]
    assert c.execute("SELECT * FROM s.v ORDER BY v").fetchall() == [("b",), ("c",)]
    assert c.execute("SELECT nextval('s.t_id_seq')").fetchall() == [(4,)]
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("INSERT INTO t VALUES (2, 99)")
    assert info.value.sqlstate == "23503"
    c.execute("CREATE SCHEMA later")                  # a new oid, never a reused one
    assert _schemas(c)[0][1] > max(oid for _, oid in before)
    again.close()


def test_drop_schema_cascade_is_durable(tmp_path):
    db = rustmemodb.Database.open(tmp_path / "db")
    c = db.connect()
    _fill(c)
    c.execute("DROP SCHEMA s CASCADE")
    db._abandon()
    again = rustmemodb.Database.open(tmp_path / "db")
    c = again.connect()
    assert [n for n, _ in _schemas(c)] == ["empty"]
    assert sorted(again.root.tables) == ["t"]
    c.execute("INSERT INTO t VALUES (2, 99)")        # its foreign key went with s.t
    again.close()


def test_old_catalogs_without_schemas_still_read():
    """A roles catalog written before schemas existed has no "schemas" entry."""
    old = {"roles": [], "members": [], "owners": [], "acl": [], "next_oid": 16390}
    cat = roles.decode(old)
    assert cat.schemas == {} and cat.next_oid == 16390
    assert "schemas" not in roles.encode(cat)        # and an unchanged one writes as before
    with_schema = cat.with_schema("s", None)
    assert roles.decode(roles.encode(with_schema)).schemas == {"s": 16390}
    with pytest.raises(ValueError):
        roles.decode({**old, "schemas": [["s", "x"]]})


def test_fork_diff_and_merge_carry_schemas():
    main = rustmemodb.connect()
    _fill(main)
    branch = main.fork()
    branch.execute("UPDATE s.t SET v = 'B' WHERE id = 2")
    branch.execute("CREATE SCHEMA n")
    branch.execute("CREATE TABLE n.x (a INTEGER)")
    branch.execute("INSERT INTO n.x VALUES (5)")
    assert "n" not in [n for n, _ in _schemas(main)]  # forks are independent
    assert sorted(diff_all(main, branch)) == ["n.x", "s.t"]
    assert merge(branch, main).applied
    assert main.execute("SELECT v FROM s.t ORDER BY id").fetchall() == [("a",), ("B",)]
    assert main.execute("SELECT a FROM n.x").fetchall() == [(5,)]
    assert "n" in [n for n, _ in _schemas(main)]
    # a schema the branch dropped is dropped by the merge, with its tables
    again = main.fork()
    again.execute("DROP SCHEMA n CASCADE")
    assert merge(again, main).applied
    assert "n" not in [n for n, _ in _schemas(main)]
    assert "n.x" not in main._session.db.root.tables


def test_search_path_is_per_session_and_plans_do_not_leak():
    a = rustmemodb.connect()
    b = rustmemodb.connect(a)                        # a second session on one database
    a.execute("CREATE SCHEMA s")
    a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    a.execute("CREATE TABLE s.t (id INTEGER PRIMARY KEY, v TEXT)")
    a.execute("INSERT INTO t VALUES (1, 'public')")
    a.execute("INSERT INTO s.t VALUES (1, 's')")
    a.execute("SET search_path TO s, public")
    for _ in range(3):                                # cached plans stay per session
        assert a.execute("SELECT v FROM t WHERE id = 1").fetchall() == [("s",)]
        assert b.execute("SELECT v FROM t WHERE id = 1").fetchall() == [("public",)]
    a.execute("INSERT INTO t VALUES (2, 'via path')")
    assert b.execute("SELECT count(*) FROM s.t").fetchall() == [(2,)]
    a.execute("SET search_path TO DEFAULT")
    assert a.execute("SELECT v FROM t WHERE id = 1").fetchall() == [("public",)]


def test_user_schema_comes_first_on_the_default_path():
    """``"$user", public``: a schema named after the session's user is searched first."""
    c = rustmemodb.connect()
    user = c.execute("SELECT current_user").fetchone()[0]
    c.execute(f'CREATE SCHEMA "{user}"')
    c.execute("CREATE TABLE mine (x INTEGER)")
    assert c.execute("SELECT current_schema()").fetchall() == [(user,)]
    assert f"{user}.mine" in c._session.db.root.tables


def test_bad_schema_statements_change_nothing():
    c = rustmemodb.connect()
    c.execute("CREATE SCHEMA s")
    before = c._session.db.root
    for sql, state in [("CREATE SCHEMA s", "42P06"), ("CREATE SCHEMA pg_x", "42939"),
                       ("DROP SCHEMA nope", "3F000"), ("DROP SCHEMA public", "0A000"),
                       ("CREATE SCHEMA x CREATE TABLE y (a INTEGER)", "0A000"),
                       ("CREATE TABLE nope.t (a INTEGER)", "3F000"),
                       ("DROP SCHEMA s, nope", "3F000"),
                       ("ALTER SCHEMA s RENAME TO r", "0A000"),
                       ("GRANT USAGE ON SCHEMA nope TO PUBLIC", "3F000"),
                       ("ALTER TABLE t SET SCHEMA s", "0A000"),
                       ("CREATE SCHEMA AUTHORIZATION nobody", "42704"),
                       ("CREATE SCHEMA information_schema", "42P06"),
                       ("DROP SCHEMA pg_catalog", "2BP01"), ("CREATE SCHEMA \"a.b\"", "0A000")]:
        with pytest.raises(rustmemodb.Error) as info:
            c.execute(sql)
        assert info.value.sqlstate == state, sql
    assert c._session.db.root is before


def test_completion_offers_schemas_and_their_relations():
    from rustmemodb.sql.complete import DatabaseCatalog, complete_sql
    c = rustmemodb.connect()
    c.execute("CREATE SCHEMA staging")
    c.execute("CREATE TABLE staging.events (id INTEGER)")
    c.execute("CREATE TABLE staging.users (id INTEGER)")
    catalog = DatabaseCatalog(c._session.db)
    text = "SELECT * FROM staging."
    found = complete_sql(text, len(text), catalog)
    assert [i.text for i in found.items] == ["events", "users"]
    text = "SELECT * FROM sta"
    assert "staging" in [i.text for i in complete_sql(text, len(text), catalog).items]


def test_public_off_the_path_is_not_searched():
    """As PostgreSQL: with public off the search path its tables are not found unqualified
    (qualified, and pg_catalog's, they are); creating needs an existing schema on it."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (x INTEGER)")
    c.execute("SET search_path = nowhere")
    for sql, state in [("SELECT * FROM t", "42P01"), ("INSERT INTO t VALUES (1)", "42P01"),
                       ("CREATE TABLE u (x INTEGER)", "3F000")]:
        with pytest.raises(rustmemodb.Error) as info:
            c.execute(sql)
        assert info.value.sqlstate == state, sql
    assert c.execute("SELECT count(*) FROM public.t").fetchall() == [(0,)]
    assert c.execute("SELECT count(*) FROM pg_class WHERE relname = 't'").fetchall() == [(1,)]
    assert c.execute("SELECT current_schema()").fetchall() == [(None,)]


def test_a_dbt_style_model_build_and_swap():
    """The statements dbt-postgres sends to build a table and a view model in a schema."""
    c = rustmemodb.connect()
    for sql in ['create schema if not exists "analytics"',
                'create table "analytics"."m__dbt_tmp" as (select 1 as x)',
                'drop table if exists "analytics"."m__dbt_backup" cascade',
                'alter table "analytics"."m__dbt_tmp" rename to "m"',
                'create view "analytics"."v__dbt_tmp" as (select x from "analytics"."m")',
                'alter view "analytics"."v__dbt_tmp" rename to "v"']:
        c.execute(sql)
    assert c.execute("select tablename from pg_tables where schemaname ilike 'analytics' "
                     "union all select viewname from pg_views where schemaname ilike "
                     "'analytics'").fetchall() == [("m",), ("v",)]
    assert c.execute("select * from analytics.v").fetchall() == [(1,)]
    assert c.execute("select count(*) from pg_namespace where nspname = 'analytics'"
                     ).fetchall() == [(1,)]
