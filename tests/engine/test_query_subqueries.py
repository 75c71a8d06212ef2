"""Subqueries: scalar, IN/NOT IN with NULLs, EXISTS, ANY/ALL, correlated (decorrelated or per key)."""
import pytest

import rustmemodb


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER, g INTEGER, v INTEGER)")
    c.execute("CREATE TABLE u (k INTEGER)")
    c.execute("CREATE TABLE e (k INTEGER)")
    c.execute("INSERT INTO t VALUES (1, 1, 10), (2, 1, 20), (3, 2, NULL), (NULL, 3, 5)")
    c.execute("INSERT INTO u VALUES (1), (3), (NULL)")
    return c


def col(conn, sql):
    return [r[0] for r in conn.execute(sql).fetchall()]


def test_in_and_not_in_null_rules(conn):
    assert col(conn, "SELECT id IN (SELECT k FROM u) FROM t ORDER BY g") == [True, None, True, None]
    assert col(conn, "SELECT id NOT IN (SELECT k FROM e) FROM t ORDER BY g") == [True] * 4
    assert col(conn, "SELECT count(*) FROM t WHERE id NOT IN (SELECT k FROM u)") == [0]


def test_any_all_empty_and_nulls(conn):
    assert col(conn, "SELECT 1 > ALL (SELECT k FROM e)") == [True]
    assert col(conn, "SELECT 1 > ANY (SELECT k FROM e)") == [False]
    assert col(conn, "SELECT 5 > ALL (SELECT k FROM u)") == [None]
    assert col(conn, "SELECT 2 > ANY (SELECT k FROM u)") == [True]
    assert col(conn, "SELECT 0 > ANY (SELECT k FROM u)") == [None]


def test_scalar_errors_and_empty(conn):
    assert col(conn, "SELECT (SELECT k FROM e)") == [None]
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT (SELECT k FROM u)")
    assert info.value.sqlstate == "21000"


def test_exists_decorrelated_into_semi_and_anti_join(conn):
    plan = "\n".join(col(conn, "EXPLAIN SELECT id FROM t WHERE EXISTS "
                               "(SELECT 1 FROM u WHERE u.k = t.id)"))
    assert "semi" in plan
    assert sorted(col(conn, "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.id)")) \
        == [1, 3]
    assert sorted(col(conn, "SELECT g FROM t WHERE NOT EXISTS "
                            "(SELECT 1 FROM u WHERE u.k = t.id)")) == [1, 3]


def test_correlated_scalar_per_key(conn):
    got = conn.execute("SELECT id, (SELECT max(v) FROM t t2 WHERE t2.g = t.g) FROM t "
                       "ORDER BY g, id").fetchall()
    assert got == [(1, 20), (2, 20), (3, None), (None, 5)]


def test_correlated_in_aggregate_query_uses_group_column(conn):
    got = conn.execute("SELECT g, (SELECT count(*) FROM u WHERE u.k = t.g) FROM t "
                       "GROUP BY g ORDER BY g").fetchall()
    assert got == [(1, 1), (2, 0), (3, 1)]
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT g, (SELECT count(*) FROM u WHERE u.k = t.v) FROM t GROUP BY g")
    assert info.value.sqlstate == "42803"


def test_nested_correlation_reaches_grandparent(conn):
    got = conn.execute(
        "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.g AND "
        "EXISTS (SELECT 1 FROM e WHERE e.k IS NULL OR t.v > 0) ) ORDER BY id").fetchall()
    assert got == []   # e is empty
    conn.execute("INSERT INTO e VALUES (7)")
    got = conn.execute(
        "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.g AND "
        "EXISTS (SELECT 1 FROM e WHERE e.k > t.v - 10)) ORDER BY id").fetchall()
    assert got == [(1,), (None,)]


def test_subquery_in_delete(conn):
    conn.execute("DELETE FROM t WHERE id IN (SELECT k FROM u)")
    assert sorted(col(conn, "SELECT g FROM t")) == [1, 3]


def test_correlated_columns_not_first_in_table():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE o (id INTEGER, tag TEXT)")
    c.execute("CREATE TABLE l (a TEXT, b INTEGER, oid INTEGER)")
    c.execute("INSERT INTO o VALUES (1, 'x'), (2, 'y'), (3, 'z')")
    c.execute("INSERT INTO l VALUES ('p', 5, 1), ('q', 1, 2), ('r', 7, 3), ('s', 9, 3)")
    assert c.execute("SELECT id FROM o WHERE EXISTS (SELECT 1 FROM l WHERE l.oid = o.id "
                     "AND l.b > 2) ORDER BY id").fetchall() == [(1,), (3,)]
    assert c.execute("SELECT id, (SELECT max(b) FROM l WHERE l.oid = o.id), "
                     "(SELECT count(*) FROM l WHERE l.oid = o.id AND l.b > 4) FROM o "
                     "ORDER BY id").fetchall() == [(1, 5, 1), (2, 1, 0), (3, 9, 2)]


def test_scalar_aggregate_subquery_is_decorrelated(conn):
    plan = "\n".join(col(conn, "EXPLAIN SELECT id, (SELECT count(*) FROM u WHERE u.k = t.g) "
                               "FROM t"))
    assert "left" in plan and "subquery" not in plan
    got = conn.execute("SELECT g, (SELECT count(*) + 1 FROM u WHERE u.k = t.g), "
                       "(SELECT max(k) FROM u WHERE u.k = t.g) FROM t ORDER BY g").fetchall()
    assert got == [(1, 2, 1), (1, 2, 1), (2, 1, None), (3, 2, 3)]


def test_subqueries_over_a_derived_table_become_joins():
    """A derived table's renaming projection (``AS s(x, y)``) hides no correlation: EXISTS,
    IN and a row IN (bound as EXISTS) are hash semi joins, with the per-row answers."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE r (a INTEGER, b INTEGER)")
    c.execute("CREATE TABLE q (a INTEGER, b INTEGER, c INTEGER)")
    c.execute("INSERT INTO r VALUES (1, 1), (1, 2), (2, 1), (NULL, 1)")
    c.execute("INSERT INTO q VALUES (1, 2, 0), (2, 1, 0), (5, 5, 0)")
    for sql, want in [
        ("SELECT a, b FROM r WHERE EXISTS (SELECT 1 FROM (SELECT a, b FROM q) s(x, y) "
         "WHERE x = r.a AND y = r.b) ORDER BY a", [(1, 2), (2, 1)]),
        ("SELECT a, b FROM r WHERE a IN (SELECT x FROM (SELECT c, a FROM q) s(z, x)) "
         "ORDER BY a, b", [(1, 1), (1, 2), (2, 1)]),
        ("SELECT a, b FROM r WHERE (a, b) IN (SELECT a, b FROM q) ORDER BY a", [(1, 2), (2, 1)]),
    ]:
        plan = "\n".join(col(c, "EXPLAIN " + sql))
        assert "semi on" in plan and "subquery" not in plan, plan
        assert c.execute(sql).fetchall() == want
