"""Branch diff and three-way merge between a database and its forks."""
import rustmemodb
from rustmemodb.branch import diff, diff_all, merge


def setup():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n INTEGER)")
    c.execute("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)")
    return c


def test_diff_counts_and_changed_columns():
    c = setup()
    f = c.fork()
    f.execute("UPDATE t SET v = 'B' WHERE id = 2")
    f.execute("DELETE FROM t WHERE id = 3")
    f.execute("INSERT INTO t VALUES (4, 'd', 4)")
    d = diff(c, f, "t")
    assert d.counts == {"added": 1, "removed": 1, "changed": 1}
    assert d.changed_columns == [["v"]]
    assert d.changed_before.to_pylist() == [{"id": 2, "v": "b", "n": 2}]
    assert d.changed_after.to_pylist() == [{"id": 2, "v": "B", "n": 2}]
    arrow = d.to_arrow()
    assert sorted(arrow.column("_change").to_pylist()) == ["added", "changed", "removed"]
    assert diff_all(c, c.fork()) == {}


def test_update_back_to_same_value_is_no_change():
    c = setup()
    f = c.fork()
    f.execute("UPDATE t SET v = 'x' WHERE id = 1")
    f.execute("UPDATE t SET v = 'a' WHERE id = 1")
    assert diff(c, f, "t").empty


def test_diff_without_primary_key_uses_row_identity():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE nk (x INTEGER)")
    c.execute("INSERT INTO nk VALUES (1), (2)")
    f = c.fork()
    f.execute("INSERT INTO nk VALUES (9)")
    c.execute("INSERT INTO nk VALUES (8)")      # same new rowid on both sides: not a change
    d = diff(c, f, "nk")
    assert d.counts == {"added": 1, "removed": 1, "changed": 0}


def test_merge_applies_non_conflicting_changes():
    c = setup()
    f = c.fork()
    f.execute("UPDATE t SET v = 'B' WHERE id = 2")
    f.execute("INSERT INTO t VALUES (4, 'd', 4)")
    c.execute("UPDATE t SET n = 10 WHERE id = 1")
    result = merge(f, c)
    assert result.applied and result.conflicts.num_rows == 0
    assert c.execute("SELECT id, v, n FROM t ORDER BY id").fetchall() == \
        [(1, "a", 10), (2, "B", 2), (3, "c", 3), (4, "d", 4)]


def test_merge_conflict_applies_nothing_until_resolved():
    c = setup()
    f = c.fork()
    f.execute("UPDATE t SET v = 'F' WHERE id = 1")
    f.execute("INSERT INTO t VALUES (5, 'e', 5)")
    c.execute("UPDATE t SET v = 'C' WHERE id = 1")
    result = merge(f, c)
    assert not result.applied
    assert result.conflicts.to_pylist() == [
        {"table": "t", "key": "id=1", "column": "v", "base": "a", "ours": "C", "theirs": "F",
         "kind": "row"}]
    assert c.execute("SELECT count(*) FROM t").fetchone() == (3,)   # nothing applied
    assert merge(f, c, strategy="ours").applied
    assert c.execute("SELECT v FROM t WHERE id = 1").fetchone() == ("C",)
    assert c.execute("SELECT v FROM t WHERE id = 5").fetchone() == ("e",)


def test_merge_theirs_and_merge_base_moves():
    c = setup()
    f = c.fork()
    f.execute("UPDATE t SET v = 'F' WHERE id = 1")
    c.execute("UPDATE t SET v = 'C' WHERE id = 1")
    assert merge(f, c, strategy="theirs").applied
    assert c.execute("SELECT v FROM t WHERE id = 1").fetchone() == ("F",)
    f.execute("UPDATE t SET n = 7 WHERE id = 3")
    second = merge(f, c)            # base is now the first merge: no stale conflict on id=1
    assert second.applied
    assert c.execute("SELECT n FROM t WHERE id = 3").fetchone() == (7,)


def test_merge_carries_sequences_forward():
    """Rows merged from a fork bring the SERIAL numbers the fork drew; the target's next
    INSERT continues after them (it drew 2 again: 23505), and a SERIAL table created on
    the fork arrives with its sequence."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id serial PRIMARY KEY, v text)")
    c.execute("INSERT INTO t (v) VALUES ('a')")
    f = c.fork()
    f.execute("INSERT INTO t (v) VALUES ('b'), ('c')")
    f.execute("CREATE TABLE n (id serial PRIMARY KEY, v text)")
    f.execute("INSERT INTO n (v) VALUES ('x')")
    assert merge(f, c).applied
    c.execute("INSERT INTO t (v) VALUES ('d')")
    assert c.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [
        (1, "a"), (2, "b"), (3, "c"), (4, "d")]
    c.execute("INSERT INTO n (v) VALUES ('y')")
    assert c.execute("SELECT id FROM n ORDER BY id").fetchall() == [(1,), (2,)]


def test_views_and_sql_functions_merge_three_way():
    """A view or SQL function the source created, replaced or dropped comes across; one
    both sides changed differently is a conflict no strategy resolves."""
    main = rustmemodb.connect()
    main.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    main.execute("INSERT INTO t VALUES (1)")
    main.execute("CREATE VIEW old_v AS SELECT id FROM t")
    fork = main.fork()
    fork.execute("CREATE VIEW v AS SELECT id * 10 AS x FROM t")
    fork.execute("CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql RETURN a + 1")
    fork.execute("DROP VIEW old_v")
    assert merge(fork, main).applied
    assert main.execute("SELECT x, f(x) FROM v").fetchall() == [(10, 11)]
    assert "old_v" not in main._session.db.root.views
    other = main.fork()
    other.execute("CREATE OR REPLACE FUNCTION f(a integer) RETURNS integer LANGUAGE sql "
                  "RETURN a + 2")
    main.execute("CREATE OR REPLACE FUNCTION f(a integer) RETURNS integer LANGUAGE sql "
                 "RETURN a + 3")
    result = merge(other, main, strategy="theirs")
    assert not result.applied
    assert [(c["table"], c["column"]) for c in result.conflicts.to_pylist()] == [("f", "function")]
    assert main.execute("SELECT f(0)").fetchall() == [(3,)]
