"""CREATE TEMP TABLE: private to its session (sql/temp_tables.py). Another session does
not see it, may make one of the same name, and keeps reading the permanent table it
shadows; the plan cache never hands one session's plan to another; catalogs list a
session's own temporary tables only; they go when the session closes, and a crashed
session's when the database is next opened."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "db")


def test_private_to_its_session_and_shadowing(path):
    a, b = rustmemodb.connect(path), rustmemodb.connect(path)
    a.execute("CREATE TABLE t (x INTEGER)")
    a.execute("INSERT INTO t VALUES (1)")
    for conn in (a, b):        # the permanent table's plan is cached by text first
        assert conn.execute("SELECT * FROM t").fetchall() == [(1,)]
    a.execute("CREATE TEMP TABLE t (y TEXT)")
    a.execute("INSERT INTO t VALUES ('mine')")
    b.execute("CREATE TEMPORARY TABLE t (z INTEGER)")
    b.execute("INSERT INTO t VALUES (2)")
    assert a.execute("SELECT * FROM t").fetchall() == [("mine",)]
    assert b.execute("SELECT * FROM t").fetchall() == [(2,)]
    c = rustmemodb.connect(path)
    assert c.execute("SELECT * FROM t").fetchall() == [(1,)]
    a.execute("DROP TABLE t")                      # the temporary one: the permanent is back
    assert a.execute("SELECT * FROM t").fetchall() == [(1,)]
    for conn in (a, b, c):
        conn.close()


def test_statements_of_every_kind_reach_it():
    conn = rustmemodb.connect()
    conn.execute("CREATE TEMP TABLE tt (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO tt VALUES (1, 'a'), (2, 'b')")
    conn.execute("UPDATE tt SET v = 'z' WHERE tt.id = 1")
    conn.execute("DELETE FROM tt WHERE id = 2")
    conn.execute("CREATE INDEX tt_v ON tt (v)")
    conn.execute("ALTER TABLE tt ADD COLUMN w INTEGER")
    assert conn.execute("SELECT tt.id, tt.v, w FROM tt").fetchall() == [(1, "z", None)]
    assert conn.execute("SELECT * FROM pg_temp.tt").fetchall() == [(1, "z", None)]
    assert conn.execute("WITH tt AS (SELECT 7 AS q) SELECT * FROM tt").fetchall() == [(7,)]
    conn.execute("CREATE TEMP TABLE copy AS SELECT id * 10 AS id FROM tt")
    assert conn.execute("SELECT * FROM copy").fetchall() == [(10,)]
    conn.execute("TRUNCATE tt")
    assert conn.execute("SELECT count(*) FROM tt").fetchall() == [(0,)]


def test_errors_name_it_as_written():
    conn = rustmemodb.connect()
    conn.execute("CREATE TEMP TABLE tt (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO tt VALUES (1)")
    with pytest.raises(errors.Error) as info:
        conn.execute("INSERT INTO tt VALUES (1)")
    assert info.value.sqlstate == "23505" and '"tt_pkey"' in str(info.value)
    with pytest.raises(errors.Error) as info:
        conn.execute("CREATE TEMP TABLE tt (x INTEGER)")
    assert info.value.sqlstate == "42P07" and 'relation "tt"' in str(info.value)
    with pytest.raises(errors.Error) as info:
        conn.execute("CREATE TEMP TABLE public.tt2 (x INTEGER)")
    assert info.value.sqlstate == "42P16"


def test_catalogs_list_only_the_sessions_own(path):
    a, b = rustmemodb.connect(path), rustmemodb.connect(path)
    a.execute("CREATE TEMP TABLE mine (id INTEGER PRIMARY KEY)")
    sql = "SELECT relname FROM pg_class WHERE relname LIKE 'mine%' ORDER BY 1"
    assert a.execute(sql).fetchall() == [("mine",), ("mine_pkey",)]
    assert b.execute(sql).fetchall() == []
    tables = "SELECT table_name FROM information_schema.tables WHERE table_name = 'mine'"
    assert a.execute(tables).fetchall() == [("mine",)] and b.execute(tables).fetchall() == []


def test_dropped_when_the_session_closes(path):
    a, b = rustmemodb.connect(path), rustmemodb.connect(path)
    a.execute("CREATE TEMP TABLE gone (x INTEGER)")
    db = a._session.db
    assert any(n.endswith(".gone") for n in db.root.tables)
    a.close()
    assert not any(n.endswith(".gone") for n in db.root.tables)
    b.close()


def test_a_crashed_sessions_tables_are_dropped_at_open(path):
    script = ("import os, rustmemodb\n"
              f"c = rustmemodb.connect({path!r})\n"
              "c.execute('CREATE TABLE keep (x INTEGER)')\n"
              "c.execute('CREATE TEMP TABLE gone (x INTEGER)')\n"
              "c.execute('INSERT INTO gone VALUES (1)')\n"
              "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", script], check=True, env=dict(os.environ))
    conn = rustmemodb.connect(path)
    assert sorted(conn._session.db.root.tables) == ["keep"]
    conn.close()


def test_on_commit_preserve_rows_only():
    conn = rustmemodb.connect()
    conn.execute("CREATE TEMP TABLE oc (x INTEGER) ON COMMIT PRESERVE ROWS")
    conn.execute("INSERT INTO oc VALUES (1)")
    assert conn.execute("SELECT * FROM oc").fetchall() == [(1,)]
    for action in ("DROP", "DELETE ROWS"):
        with pytest.raises(errors.Error) as info:
            conn.execute(f"CREATE TEMP TABLE oc2 (x INTEGER) ON COMMIT {action}")
        assert info.value.sqlstate == "0A000"


def test_branches_neither_diff_nor_merge_temporary_tables():
    from rustmemodb.branch import diff_all, merge
    main = rustmemodb.connect()
    main.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    main.execute("CREATE TEMP TABLE scratch (x INTEGER)")
    fork = main.fork()
    fork.execute("INSERT INTO t VALUES (1)")
    main.execute("DROP TABLE scratch")          # main's scratch goes; the fork's copy stays
    assert list(diff_all(main, fork)) == ["t"]
    merge(fork, main)
    assert main.execute("SELECT * FROM t").fetchall() == [(1,)]
    assert not any(n.endswith(".scratch") for n in main._session.db.root.tables)
