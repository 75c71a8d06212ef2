"""DuckDB's SELECT conveniences -- ``* EXCLUDE``, ``* REPLACE``, ``QUALIFY``, ``ORDER BY
ALL``, ``//``, ``COLUMNS(...)``, ``INSERT ... BY NAME``, ``SEMI/ANTI JOIN``, lateral column
aliases -- answered as DuckDB answers them: DuckDB runs the same statements on the same rows
(a differential test; the data has no NULLs in sort keys, where the two default NULL
orders differ: PostgreSQL's is kept)."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors

from .duckdb_pair import assert_same, loaded_pair

duckdb = pytest.importorskip("duckdb")

ROWS = [(1, "x", 1.5), (2, "y", 2.5), (3, "x", 4.0), (4, "y", 0.5), (5, "z", 3.0)]


@pytest.fixture(scope="module")
def both():
    return loaded_pair(duckdb, {"CREATE TABLE t (a INTEGER, b TEXT, x DOUBLE)": ROWS,
                                "CREATE TABLE u (a INTEGER, w TEXT)": [(1, "one"), (3, "three")]})


@pytest.mark.parametrize("sql", [
    "SELECT * EXCLUDE (b) FROM t ORDER BY a",
    "SELECT * EXCLUDE b FROM t ORDER BY a",
    "SELECT t.* EXCLUDE (b, x), u.w FROM t JOIN u USING (a) ORDER BY a",
    "SELECT * REPLACE (a * 10 AS a) FROM t ORDER BY a",
    "SELECT * REPLACE (upper(b) AS b, x * 2 AS x) FROM t ORDER BY a",
    "SELECT * EXCLUDE (x) FROM t WHERE a > 2 ORDER BY a DESC",
    "SELECT b, a FROM t QUALIFY row_number() OVER (PARTITION BY b ORDER BY a) = 1 ORDER BY a",
    "SELECT a, b, row_number() OVER (PARTITION BY b ORDER BY a DESC) AS rn FROM t "
    "QUALIFY rn = 1 ORDER BY a",
    "SELECT b, sum(x) AS s FROM t GROUP BY b QUALIFY rank() OVER (ORDER BY sum(x) DESC) = 1",
    "SELECT a FROM t QUALIFY sum(x) OVER (ORDER BY a) > 5 ORDER BY a LIMIT 2",
    "SELECT a, b FROM t ORDER BY ALL",
    "SELECT b, a FROM t ORDER BY ALL DESC",
    "SELECT b, count(*) FROM t GROUP BY ALL ORDER BY ALL",
    "SELECT DISTINCT b FROM t ORDER BY ALL",
    "SELECT a // 2, -a // 2, x // 2, a + 9 // 2 * 2, '//' || b FROM t ORDER BY a",
    "SELECT COLUMNS('^[ax]') FROM t ORDER BY a",
    "SELECT min(COLUMNS(*)), max(COLUMNS('x')) FROM t",
    "SELECT COLUMNS('a|x') * 2 FROM t ORDER BY 1",
    "SELECT COLUMNS(* EXCLUDE (b)) FROM t ORDER BY a",
    "SELECT COLUMNS(* REPLACE (a * 10 AS a)) FROM t ORDER BY a",
    "SELECT max(COLUMNS('^[ab]')) AS m FROM t",
    "SELECT COLUMNS(['x', 'a']) FROM t ORDER BY a",
    "SELECT t.a, COLUMNS('w') FROM t JOIN u USING (a) ORDER BY t.a",
    "SELECT * FROM t SEMI JOIN u USING (a) ORDER BY a",
    "SELECT * FROM t ANTI JOIN u ON t.a = u.a AND u.w <> 'x' ORDER BY a",
    "SELECT b, count(*) FROM t ANTI JOIN u USING (a) GROUP BY b ORDER BY b",
    "SELECT max(x) AS m, m * 2 AS n FROM t",
    "SELECT a * 2 AS d, d + 1 AS e FROM t ORDER BY a",
    "SELECT a AS b, b FROM t ORDER BY 1",
])
def test_same_answer_as_duckdb(both, sql):
    assert_same(both, sql)


def test_star_modifiers_keep_column_names(both):
    ours, _ = both
    cur = ours.execute("SELECT * EXCLUDE (x) REPLACE (a + 1 AS a) FROM t ORDER BY a LIMIT 1")
    assert [d[0] for d in cur.description] == ["a", "b"]
    assert cur.fetchall() == [(2, "x")]


@pytest.mark.parametrize("sql, sqlstate", [
    ("SELECT * EXCLUDE (nope) FROM t", "42703"),
    ("SELECT * REPLACE (1 AS nope) FROM t", "42703"),
    ("SELECT a FROM t QUALIFY a > 2", "42P20"),          # DuckDB refuses it too
    ("SELECT a FROM t QUALIFY row_number() OVER ()", "42804"),
])
def test_clear_errors(both, sql, sqlstate):
    ours, _ = both
    with pytest.raises(errors.Error) as info:
        ours.execute(sql)
    assert info.value.sqlstate == sqlstate


def test_quoted_all_is_a_column():
    conn = rustmemodb.connect()
    conn.execute('CREATE TABLE q ("all" INTEGER, b INTEGER)')
    conn.execute("INSERT INTO q VALUES (2, 1), (1, 2)")
    assert conn.execute('SELECT "all", b FROM q ORDER BY "all"').fetchall() == [(1, 2), (2, 1)]
    assert conn.execute('SELECT b, "all" FROM q ORDER BY ALL').fetchall() == [(1, 2), (2, 1)]


def test_insert_by_name_matches_columns_by_name(both):
    for conn in both:
        conn.execute("CREATE TABLE by_name (id INTEGER, name TEXT, extra TEXT DEFAULT 'd')")
        conn.execute("INSERT INTO by_name BY NAME SELECT 'x' AS name, 7 AS id")
        conn.execute("INSERT INTO by_name BY NAME SELECT b AS name, a AS id, 'e' AS extra "
                     "FROM t WHERE a < 3")
    assert_same(both, "SELECT * FROM by_name ORDER BY id")


@pytest.mark.parametrize("sql, sqlstate", [
    ("INSERT INTO t BY NAME SELECT 1 AS nope", "42703"),
    ("INSERT INTO t BY NAME SELECT 1 AS a, 2 AS a", "42701"),
    ("INSERT INTO t BY NAME VALUES (1)", "42601"),
    ("INSERT INTO t (a) BY NAME SELECT 1 AS a", "42601"),
    ("SELECT COLUMNS('zz') FROM t", "42703"),
    ("SELECT COLUMNS('(') FROM t", "2201B"),
])
def test_insert_by_name_errors(both, sql, sqlstate):
    with pytest.raises(errors.Error) as info:
        both[0].execute(sql)
    assert info.value.sqlstate == sqlstate
