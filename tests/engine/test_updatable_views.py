"""Writing through automatically updatable views, embedded: whose privileges are checked
(the user's on the view, the view owner's on its base table), durability of WITH CHECK
OPTION, forks, cached plans, and no warning on the host's log.

The SQL behaviour itself is ``tests/sql/dml/updatable_views.test``, replayed on
PostgreSQL 15 too.
"""
from __future__ import annotations

import logging

import pytest

import rustmemodb
from rustmemodb.durability.open import DurableDatabase

from .raised import raised


def _sqlstate(fn, *args):
    error = raised(fn, *args)
    return error.sqlstate, str(error)


@pytest.fixture
def admin():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, secret TEXT DEFAULT 'x')")
    c.execute("INSERT INTO t VALUES (1, 'a', 's1'), (2, 'b', 's2')")
    yield c
    c.close()


def test_the_view_owners_privileges_on_the_base_table_are_checked(admin):
    admin.execute("CREATE ROLE alice LOGIN PASSWORD 'a'")
    admin.execute("CREATE ROLE bob LOGIN PASSWORD 'b'")
    admin.execute("GRANT CREATE ON SCHEMA public TO alice")
    admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON t TO alice")
    alice = rustmemodb.connect(admin, user="alice", password="a")
    bob = rustmemodb.connect(admin, user="bob", password="b")
    alice.execute("CREATE VIEW pub AS SELECT id, v FROM t WHERE id < 100")
    # bob has nothing on the view yet, and nothing on t at any point
    state, text = _sqlstate(bob.execute, "INSERT INTO pub VALUES (3, 'c')")
    assert state == "42501" and "view pub" in text
    alice.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON pub TO bob")
    bob.execute("INSERT INTO pub VALUES (3, 'c')")
    assert bob.execute("UPDATE pub SET v = 'cc' WHERE id = 3 RETURNING v").fetchall() == \
        [("cc",)]
    bob.execute("DELETE FROM pub WHERE id = 2")
    assert _sqlstate(bob.execute, "SELECT * FROM t")[0] == "42501"
    assert admin.execute("SELECT id, v, secret FROM t ORDER BY id").fetchall() == \
        [(1, "a", "s1"), (3, "cc", "x")]
    # the owner loses INSERT on the base table: writing through the view stops
    admin.execute("REVOKE INSERT ON t FROM alice")
    state, text = _sqlstate(bob.execute, "INSERT INTO pub VALUES (4, 'd')")
    assert state == "42501" and "table t" in text
    bob.execute("DELETE FROM pub WHERE id = 3")          # DELETE is still granted
    # a view privilege bob lacks is still refused, whatever the owner holds
    alice.execute("REVOKE DELETE ON pub FROM bob")
    assert _sqlstate(bob.execute, "DELETE FROM pub")[0] == "42501"
    assert admin.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,)]


def _reopen(path):
    return rustmemodb.Database.open(path, durability="sync")


@pytest.mark.parametrize("crash", [False, True])
def test_check_option_defaults_and_rows_written_through_a_view_survive_reopen(tmp_path, crash):
    path = tmp_path / "db"
    db = _reopen(path)
    conn = db.connect()
    conn.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)")
    conn.execute("CREATE VIEW pos AS SELECT id, bal FROM acct WHERE bal > 0 "
                 "WITH LOCAL CHECK OPTION")
    conn.execute("ALTER VIEW pos ALTER COLUMN bal SET DEFAULT 5")
    conn.execute("INSERT INTO pos VALUES (1, 10), (2, 20)")
    conn.execute("UPDATE pos SET bal = bal + 1 WHERE id = 2")
    if crash:
        assert isinstance(db, DurableDatabase)
        db._abandon()                       # kill -9: the log alone has it
    else:
        db.close()                          # a checkpoint has it
    db = _reopen(path)
    conn = db.connect()
    assert db.root.views["pos"].check_option == "local"
    assert db.root.views["pos"].defaults == (("bal", "5"),)
    assert conn.execute("SELECT id, bal FROM acct ORDER BY id").fetchall() == [(1, 10), (2, 21)]
    assert conn.execute("INSERT INTO pos (id) VALUES (4) RETURNING bal").fetchall() == [(5,)]
    state, text = _sqlstate(conn.execute, "INSERT INTO pos VALUES (3, -1)")
    assert state == "44000" and 'view "pos"' in text
    assert conn.execute("SELECT check_option FROM information_schema.views").fetchall() == \
        [("LOCAL",)]
    db.close()


def test_a_fork_writes_through_its_own_view():
    main = rustmemodb.connect()
    main.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    main.execute("CREATE VIEW w AS SELECT id, v AS value FROM t")
    main.execute("INSERT INTO w VALUES (1, 'main')")
    fork = main.fork()
    fork.execute("INSERT INTO w VALUES (2, 'fork')")
    fork.execute("UPDATE w SET value = 'changed' WHERE id = 1")
    assert main.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [(1, "main")]
    assert fork.execute("SELECT id, v FROM t ORDER BY id").fetchall() == \
        [(1, "changed"), (2, "fork")]


def test_cached_plans_follow_literals_parameters_and_the_views_definition():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    conn.execute("CREATE VIEW big AS SELECT id, n FROM t WHERE n > 10")
    for i in range(3):       # one statement shape, different literals: one cached plan
        conn.execute(f"INSERT INTO big VALUES ({i}, {i * 10})")
    conn.execute("INSERT INTO big VALUES (?, ?)", (7, 70))
    assert conn.execute("SELECT id, n FROM t ORDER BY id").fetchall() == \
        [(0, 0), (1, 10), (2, 20), (7, 70)]
    assert sorted(conn.execute("UPDATE big SET n = n + 1 RETURNING id").fetchall()) == \
        [(2,), (7,)]
    conn.execute("CREATE OR REPLACE VIEW big AS SELECT id, n FROM t WHERE n > 50")
    assert conn.execute("UPDATE big SET n = n + 1 RETURNING id").fetchall() == [(7,)]
    assert conn.execute("UPDATE big SET n = n + 10 WHERE id < 5 RETURNING id").fetchall() == []
    assert conn.execute("DELETE FROM big WHERE id = ? RETURNING n", (7,)).fetchall() == [(72,)]


def test_with_check_option_logs_nothing(caplog):
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    with caplog.at_level(logging.DEBUG):
        conn.execute("CREATE VIEW v AS SELECT x FROM t WHERE x > 0 WITH CASCADED CHECK OPTION")
    assert caplog.records == []
    assert conn.database.root.views["v"].check_option == "cascaded"
