"""COMMENT ON (issue 14's pg_description): comments live with the objects they describe.

They are set and cleared like PostgreSQL's (NULL or '' removes one), errors name the
object, only an owner may comment, and a comment is durable (log and checkpoint),
forked with the database and dropped with its object. What psql shows of them is
compared with PostgreSQL 15 in tests/server/test_notices_catalog.py.
"""
import pytest

import rustmemodb
from rustmemodb.durability.open import DurableDatabase


def comments(conn) -> list:
    """The comments on user objects (oids from 16384, as PostgreSQL numbers them; below are
    the system's own, such as schema public's)."""
    return conn.execute("SELECT objsubid, description FROM pg_description WHERE objoid >= 16384 "
                        "ORDER BY objoid, objsubid").fetchall()


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    c.execute("CREATE INDEX t_name ON t (name)")
    c.execute("CREATE VIEW v AS SELECT id FROM t")
    return c


def test_set_replace_and_clear(conn):
    conn.execute("COMMENT ON TABLE t IS 'people'")
    conn.execute("COMMENT ON TABLE t IS 'persons'")
    conn.execute("COMMENT ON COLUMN t.name IS 'called'")
    assert comments(conn) == [(0, "persons"), (2, "called")]
    conn.execute("COMMENT ON TABLE public.t IS NULL")
    conn.execute("COMMENT ON COLUMN public.t.name IS ''")
    assert comments(conn) == []


def test_every_kind_reads_back_through_the_pg_functions(conn):
    for sql in ("COMMENT ON TABLE t IS 'a'", "COMMENT ON VIEW v IS 'b'",
                "COMMENT ON INDEX t_name IS 'c'", "COMMENT ON INDEX t_pkey IS 'd'",
                "COMMENT ON COLUMN t.id IS 'e'"):
        conn.execute(sql)
    row = conn.execute(
        "SELECT obj_description('t'::regclass, 'pg_class'), obj_description('v'::regclass), "
        "obj_description('t_name'::regclass), obj_description('t_pkey'::regclass), "
        "col_description('t'::regclass, 1), col_description('t'::regclass, 2), "
        "obj_description('t'::regclass, 'pg_namespace')").fetchone()
    assert row == ("a", "b", "c", "d", "e", None, None)


@pytest.mark.parametrize("sql, state", [
    ("COMMENT ON TABLE v IS 'x'", "42809"),          # a view is not a table
    ("COMMENT ON VIEW t IS 'x'", "42809"),
    ("COMMENT ON TABLE nope IS 'x'", "42P01"),
    ("COMMENT ON INDEX nope IS 'x'", "42P01"),
    ("COMMENT ON COLUMN t.nope IS 'x'", "42703"),
    ("COMMENT ON COLUMN name IS 'x'", "42601"),      # a column needs its relation
    ("COMMENT ON TABLE t IS 5", "42601"),
    ("COMMENT ON COLUMN other.t.id IS 'x'", "3F000"),
    ("COMMENT ON FUNCTION f IS 'x'", "0A000"),
])
def test_bad_comments_are_clear_errors_and_change_nothing(conn, sql, state):
    conn.execute("COMMENT ON TABLE t IS 'kept'")
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == state
    assert comments(conn) == [(0, "kept")]


def test_comments_follow_their_objects(conn):
    conn.execute("COMMENT ON COLUMN t.name IS 'called'")
    conn.execute("COMMENT ON VIEW v IS 'ids'")
    conn.execute("ALTER TABLE t ADD COLUMN age INTEGER")       # other ALTERs keep them
    conn.execute("ALTER TABLE t RENAME COLUMN name TO label")
    conn.execute("CREATE OR REPLACE VIEW v AS SELECT id, 1 AS one FROM t")   # as PostgreSQL
    assert sorted(comments(conn)) == [(0, "ids"), (2, "called")]
    conn.execute("ALTER TABLE t DROP COLUMN label")
    conn.execute("DROP VIEW v")
    assert comments(conn) == []


def test_forks_carry_comments_and_change_them_alone(conn):
    conn.execute("COMMENT ON TABLE t IS 'main'")
    fork = conn.fork()
    fork.execute("COMMENT ON TABLE t IS 'fork'")
    assert comments(conn) == [(0, "main")]
    assert comments(fork) == [(0, "fork")]


def test_only_an_owner_may_comment(conn):
    conn.execute("CREATE ROLE boss SUPERUSER LOGIN PASSWORD 'x'")
    conn.execute("CREATE ROLE reader LOGIN PASSWORD 'y'")
    conn.execute("GRANT SELECT ON t TO reader")
    reader = rustmemodb.connect(conn, user="reader", password="y")
    with pytest.raises(rustmemodb.Error) as info:
        reader.execute("COMMENT ON TABLE t IS 'mine'")
    assert info.value.sqlstate == "42501"
    assert comments(conn) == []


@pytest.mark.parametrize("checkpoint", [False, True])
def test_comments_are_durable(tmp_path, checkpoint):
    db = rustmemodb.Database.open(tmp_path / "db")
    c = db.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    c.execute("CREATE INDEX t_name ON t (name)")
    c.execute("CREATE VIEW v AS SELECT id FROM t")
    for sql in ("COMMENT ON TABLE t IS 'a'", "COMMENT ON COLUMN t.name IS 'b'",
                "COMMENT ON INDEX t_name IS 'c'", "COMMENT ON VIEW v IS 'd'"):
        c.execute(sql)
    if checkpoint:
        c.execute("CHECKPOINT")
    before = comments(c)
    assert isinstance(db, DurableDatabase)
    db._abandon()                 # as kill -9: no flush, no checkpoint
    again = rustmemodb.Database.open(tmp_path / "db")
    assert comments(again.connect()) == before
    assert len(before) == 4
    again.close()
