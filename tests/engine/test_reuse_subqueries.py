"""Select items and conditions holding a subquery, reused across statements (issue 11).

sql/bind/reuse.py keeps a piece such as ``(SELECT count(*) FROM t AS x WHERE x.b <
t.b)`` or ``EXISTS (SELECT 1 FROM u ...)`` with the dependencies and reads its binding
added, and hands it out again while each table, view and function it read is the
same object; optimize_subqueries keeps its optimized form per root, and the row path
its closure per parameter count. Each case answers as a fresh connection does.
"""
from __future__ import annotations

import pytest
import rustmemodb
from rustmemodb import errors
from rustmemodb.optimize import optimize_subqueries


def _connect():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER)")
    c.execute("INSERT INTO t VALUES (1, 2, 3), (2, 1, 5), (3, NULL, 4), (4, 4, NULL), "
              "(NULL, 3, 1)")
    c.execute("CREATE TABLE u (k INTEGER, v TEXT)")
    c.execute("INSERT INTO u VALUES (1, 'x'), (2, 'y'), (5, NULL)")
    return c


def _answer(conn, sql, params=None):
    try:
        return conn.execute(sql, params).fetchall() if params is not None \
            else conn.execute(sql).fetchall()
    except errors.Error as exc:
        return (exc.sqlstate, str(exc), exc.position)


def _fresh(sql, setup=(), params=None):
    c = _connect()
    for s in setup:
        c.execute(s)
    return _answer(c, sql, params)


@pytest.fixture()
def conn():
    return _connect()


def _memo(conn):
    return conn._session._expr_memo


COUNT = "(SELECT count(*) FROM t AS x WHERE x.b < t.b)"
EXISTS = "EXISTS (SELECT 1 FROM u WHERE u.k = t.a)"
AVG = "c > (SELECT avg(c) FROM t)"


def test_a_subquery_piece_is_kept_and_reused(conn):
    first = f"SELECT a, {COUNT} FROM t WHERE {EXISTS} ORDER BY 1"
    again = f"SELECT {COUNT}, b FROM t WHERE {EXISTS} OR {AVG} ORDER BY 2, 1"
    assert _answer(conn, first) == _fresh(first)
    assert _memo(conn).catalog
    hits = _memo(conn).hits
    assert _answer(conn, again) == _fresh(again)
    assert _memo(conn).hits > hits


@pytest.mark.parametrize("change, then", [
    ("ALTER TABLE t ADD COLUMN d INTEGER", f"SELECT a, {COUNT}, d FROM t ORDER BY 1"),
    ("ALTER TABLE t RENAME COLUMN b TO bb", f"SELECT a, {COUNT} FROM t ORDER BY 1"),
    ("ALTER TABLE u RENAME COLUMN k TO kk", f"SELECT a FROM t WHERE {EXISTS} ORDER BY 1"),
    ("ALTER TABLE u ALTER COLUMN k TYPE FLOAT", f"SELECT a FROM t WHERE {EXISTS} ORDER BY 1"),
    ("DROP TABLE u", f"SELECT a FROM t WHERE {EXISTS} ORDER BY 1"),
    ("INSERT INTO u VALUES (3, 'z'), (4, 'w')", f"SELECT a FROM t WHERE {EXISTS} ORDER BY 1"),
    ("DELETE FROM t WHERE a = 1", f"SELECT a, {COUNT} FROM t WHERE {AVG} ORDER BY 1"),
    ("CREATE VIEW u2 AS SELECT 1", f"SELECT a, {COUNT} FROM t WHERE {AVG} ORDER BY 1"),
])
def test_catalog_and_data_changes_answer_as_fresh(conn, change, then):
    conn.execute(f"SELECT a, {COUNT} FROM t WHERE {EXISTS} AND {AVG} ORDER BY 1").fetchall()
    conn.execute(change)
    assert _answer(conn, then) == _fresh(then, [change])


def test_a_table_made_again_with_other_types_binds_again(conn):
    sql = "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.v = 'x') ORDER BY 1"
    assert _answer(conn, sql) == _fresh(sql)
    setup = ["DROP TABLE u", "CREATE TABLE u (k TEXT, v INTEGER)", "INSERT INTO u VALUES ('a', 1)"]
    for s in setup:
        conn.execute(s)
    got = _answer(conn, sql)
    assert got == _fresh(sql, setup)
    assert isinstance(got, tuple)     # text = integer is refused


def test_create_function_shadowing_empties_the_memo(conn):
    sql = "SELECT a, (SELECT abs(min(x.b) - 10) FROM t AS x) FROM t ORDER BY 1"
    assert _answer(conn, sql) == _fresh(sql)
    setup = ["CREATE FUNCTION abs(x INTEGER) RETURNS INTEGER LANGUAGE sql AS 'SELECT x + 1000'"]
    conn.execute(setup[0])
    assert _answer(conn, sql) == _fresh(sql, setup)


def test_the_reads_of_a_reused_piece_are_checked_for_each_statement(conn):
    conn.execute("CREATE ROLE reader LOGIN PASSWORD 'pw'")
    conn.execute("GRANT SELECT ON t TO reader")
    sql = f"SELECT a FROM t WHERE {EXISTS} ORDER BY 1"
    assert _answer(conn, sql)              # bound (and kept) as the superuser
    reader = rustmemodb.connect(conn, user="reader", password="pw")
    with pytest.raises(errors.Error) as info:
        reader.execute(sql).fetchall()
    assert info.value.sqlstate == "42501"
    conn.execute("SET ROLE reader")
    with pytest.raises(errors.Error) as info:
        conn.execute(f"SELECT b FROM t WHERE {EXISTS} ORDER BY 1").fetchall()
    assert info.value.sqlstate == "42501"


def test_a_table_grown_past_the_row_path_answers_alike(conn):
    sql = f"SELECT a, {COUNT} FROM t WHERE {AVG} ORDER BY 1"
    assert _answer(conn, sql) == _fresh(sql)
    grow = "INSERT INTO t SELECT g, g % 7, g % 5 FROM generate_series(10, 400) AS g"
    conn.execute(grow)
    assert _answer(conn, sql + " LIMIT 20") == _fresh(sql + " LIMIT 20", [grow])


def test_closures_are_kept_per_parameter_count(conn):
    plain = f"SELECT a, {COUNT} FROM t ORDER BY 1"
    with_param = f"SELECT a, {COUNT} FROM t WHERE a > ? ORDER BY 1"
    assert _answer(conn, plain) == _fresh(plain)
    assert _answer(conn, with_param, (1,)) == _fresh(with_param, params=(1,))
    assert _answer(conn, plain + " LIMIT 3") == _fresh(plain + " LIMIT 3")
    assert _answer(conn, with_param, (2,)) == _fresh(with_param, params=(2,))


def test_optimized_subqueries_are_kept_per_root_and_bounded(conn, monkeypatch):
    monkeypatch.setattr(optimize_subqueries, "_DONE_MAX", 4)
    for i in range(12):
        sql = f"SELECT a, {COUNT}, a + {i} FROM t WHERE {AVG} ORDER BY 1"
        assert _answer(conn, sql) == _fresh(sql)
        conn.execute(f"INSERT INTO u VALUES ({10 + i}, 'n')")     # a new root each time
    assert len(optimize_subqueries._DONE) <= 4


def test_pieces_inside_with_queries_are_not_kept(conn):
    sql = ("WITH w AS (SELECT k FROM u) SELECT a, (SELECT count(*) FROM w WHERE w.k < t.a) "
           "FROM t ORDER BY 1")
    assert _answer(conn, sql) == _fresh(sql)
    assert _answer(conn, sql.replace("ORDER BY 1", "ORDER BY 1 DESC")) == \
        _fresh(sql.replace("ORDER BY 1", "ORDER BY 1 DESC"))


def test_an_or_of_subquery_conditions_reuses_its_sides(conn):
    # an OR a subquery stays in (no semi join): its sides' closures are kept, the
    # subquery side per slot count
    plain = f"SELECT a FROM t WHERE {EXISTS} OR {AVG} ORDER BY 1"
    other = f"SELECT a, b FROM t WHERE {AVG} OR {EXISTS} ORDER BY 1"
    with_param = f"SELECT a FROM t WHERE ({EXISTS} OR {AVG}) AND a > ? ORDER BY 1"
    assert _answer(conn, plain) == _fresh(plain)
    assert _answer(conn, with_param, (1,)) == _fresh(with_param, params=(1,))
    assert _answer(conn, other) == _fresh(other)
    assert _answer(conn, with_param, (3,)) == _fresh(with_param, params=(3,))


def test_the_subquery_census_of_expressions_is_bounded(conn, monkeypatch):
    monkeypatch.setattr(optimize_subqueries, "_HOLDS_MAX", 8)
    for i in range(20):
        sql = f"SELECT a + {i}, {COUNT} FROM t WHERE {AVG} OR b > {i} ORDER BY 1"
        assert _answer(conn, sql) == _fresh(sql)
    assert len(optimize_subqueries._HOLDS) <= 8


def test_scalar_decorrelation_is_decided_per_expression_and_answers_alike(conn):
    """decorrelate_scalar_subqueries remembers, per expression object, that nothing under
    it is a subquery it joins: a reused piece that is not (an inequality correlation) is
    passed over, one that is (an equality) is still joined, alone, in a new AND/OR with
    the other, and after the memo started over."""
    from rustmemodb.optimize import decorrelate_scalar_subqueries as D
    joined = "(SELECT max(k) FROM u WHERE u.k = t.a)"
    counted = "(SELECT count(*) FROM t AS x WHERE x.b < t.b)"
    cases = [f"SELECT a, {counted} FROM t ORDER BY 1",
             f"SELECT a, {joined} FROM t ORDER BY 1",
             f"SELECT a FROM t WHERE {counted} > 1 OR {joined} IS NULL ORDER BY 1",
             f"SELECT a FROM t WHERE {joined} > 1 AND {counted} < 4 ORDER BY 1",
             f"SELECT a, {counted}, {joined} FROM t ORDER BY 1"]
    for _ in range(2):
        for sql in cases:
            assert _answer(conn, sql) == _fresh(sql), sql
        D._NOTHING.clear()
    plan = [r[0] for r in conn.execute(f"EXPLAIN SELECT a, {joined} FROM t").fetchall()]
    assert any("Join" in line for line in plan)
    plan = [r[0] for r in conn.execute(f"EXPLAIN SELECT a, {counted} FROM t").fetchall()]
    assert not any("Join" in line for line in plan)
