"""Set operations (NULLs equal, ALL multiplicities), VALUES, WITH and WITH RECURSIVE."""
import pytest

import rustmemodb


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE a (x INTEGER)")
    c.execute("CREATE TABLE b (x INTEGER)")
    c.execute("CREATE TABLE e (x INTEGER)")
    c.execute("INSERT INTO a VALUES (1), (1), (1), (2), (NULL), (NULL)")
    c.execute("INSERT INTO b VALUES (1), (1), (NULL), (3)")
    return c


def col(conn, sql):
    return [r[0] for r in conn.execute(sql).fetchall()]


def test_multiplicities(conn):
    assert col(conn, "SELECT x FROM a INTERSECT ALL SELECT x FROM b ORDER BY 1") == [1, 1, None]
    assert col(conn, "SELECT x FROM a EXCEPT ALL SELECT x FROM b ORDER BY 1") == [1, 2, None]
    assert col(conn, "SELECT x FROM a EXCEPT SELECT x FROM b ORDER BY 1") == [2]
    assert col(conn, "SELECT x FROM a UNION SELECT x FROM b ORDER BY 1") == [1, 2, 3, None]


def test_empty_sides(conn):
    assert col(conn, "SELECT x FROM e INTERSECT SELECT x FROM a") == []
    assert col(conn, "SELECT x FROM a EXCEPT SELECT x FROM e ORDER BY 1") == [1, 2, None]
    assert col(conn, "SELECT x FROM e UNION ALL SELECT x FROM e") == []


def test_type_errors(conn):
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT 1 UNION SELECT 'a'::TEXT")
    assert info.value.sqlstate == "42804"
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT 1, 2 INTERSECT SELECT 1")
    assert info.value.sqlstate == "42601"


def test_cte_computed_once_and_shadowing(conn):
    assert col(conn, "WITH a AS (SELECT 7 AS x) SELECT x FROM a") == [7]
    got = conn.execute("WITH s AS (SELECT count(*) AS n FROM a) "
                       "SELECT s1.n, s2.n FROM s s1, s s2").fetchall()
    assert got == [(6, 6)]


def test_recursive_union_all_and_union_cycle():
    c = rustmemodb.connect()
    assert col(c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                  "WHERE i < 100) SELECT count(*) FROM n") == [100]
    c.execute("CREATE TABLE g (s INTEGER, d INTEGER)")
    c.execute("INSERT INTO g VALUES (1, 2), (2, 1), (2, 2)")
    assert col(c, "WITH RECURSIVE r(v) AS (SELECT 1 UNION SELECT g.d FROM g JOIN r ON g.s = r.v) "
                  "SELECT v FROM r ORDER BY v") == [1, 2]


def test_recursive_type_mismatch_is_an_error():
    c = rustmemodb.connect()
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 0.5 FROM n "
                  "WHERE i < 3) SELECT * FROM n")
    assert info.value.sqlstate == "42804"


def test_recursive_subquery_sees_each_working_table():
    c = rustmemodb.connect()
    got = col(c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                 "WHERE i < (SELECT 3)) SELECT i FROM n ORDER BY i")
    assert got == [1, 2, 3]


def test_views_read_everywhere_and_only_updatable_ones_are_written():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER, v INTEGER)")
    c.execute("INSERT INTO t VALUES (1, 10), (2, 20)")
    c.execute("CREATE VIEW vv AS SELECT id, v FROM t WHERE v > 10")
    assert col(c, "SELECT id FROM t WHERE id IN (SELECT id FROM vv)") == [2]
    assert col(c, "WITH x AS (SELECT * FROM vv) SELECT count(*) FROM x") == [1]
    assert c.execute("SELECT * FROM vv a JOIN vv b USING (id)").fetchall() == [(2, 20, 20)]
    c.execute("CREATE VIEW sums AS SELECT id, sum(v) AS s FROM t GROUP BY id")
    for sql in ("INSERT INTO sums VALUES (3, 30)", "DELETE FROM sums", "UPDATE sums SET s = 1"):
        with pytest.raises(rustmemodb.Error) as info:      # PostgreSQL 15's code for these
            c.execute(sql)
        assert info.value.sqlstate == "55000"
    # a simple view is automatically updatable (tests/sql/dml/updatable_views.test)
    c.execute("INSERT INTO vv VALUES (3, 30)")
    c.execute("UPDATE vv SET v = v + 1")
    c.execute("DELETE FROM vv WHERE id = 2")
    assert c.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [(1, 10), (3, 31)]
