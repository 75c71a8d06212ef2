"""DuckDB's PIVOT and UNPIVOT -- the statements (values read from the data, or listed
with IN) and the ``FROM t PIVOT (...)`` / ``UNPIVOT (...)`` clauses -- answered as DuckDB
answers them: same column names, same rows (compared unordered where the statement
does not order them, as DuckDB does not)."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors

from .duckdb_pair import loaded_pair

duckdb = pytest.importorskip("duckdb")

ROWS = [("NL", "Ams", 2000, 1005), ("NL", "Ams", 2010, 1065), ("NL", "Ams", 2020, 1158),
        ("US", "Sea", 2000, 564), ("US", "Sea", 2010, 608), ("US", "Sea", 2020, 738),
        ("US", "NYC", 2000, 8015), ("US", "NYC", 2010, 8175), ("US", "NYC", 2020, 8772),
        ("US", "NYC", 2020, None)]


@pytest.fixture(scope="module")
def both():
    return loaded_pair(duckdb, {
        "CREATE TABLE s (country TEXT, city TEXT, year INTEGER, pop INTEGER)": ROWS})


def _answer(conn, sql):
    cur = conn.execute(sql)
    return [d[0] for d in cur.description], sorted(cur.fetchall(), key=repr)


@pytest.mark.parametrize("sql", [
    "PIVOT s ON year USING sum(pop)",
    "PIVOT s ON year USING sum(pop) GROUP BY country",
    "PIVOT s ON year IN (2000, 2010) USING sum(pop) GROUP BY country",
    "PIVOT s ON country, year USING sum(pop)",
    "PIVOT s ON year USING sum(pop) AS total, max(pop) GROUP BY country",
    "PIVOT s ON year",
    "PIVOT s ON city USING avg(pop) GROUP BY year ORDER BY year LIMIT 2",
    "PIVOT (SELECT 1 AS a, NULL AS b) ON b USING count(*)",
    'UNPIVOT (PIVOT s ON year USING sum(pop)) ON "2000", "2010" INTO NAME yr VALUE p',
    "UNPIVOT (SELECT 1 AS a, NULL::int AS b, 3 AS c) ON COLUMNS(* EXCLUDE (a)) "
    "INTO NAME k VALUE v",
    "UNPIVOT s ON pop",
    "SELECT * FROM s PIVOT (sum(pop) FOR year IN (2000, 2010) GROUP BY country)",
    "SELECT p.* FROM s PIVOT (sum(pop) AS t, max(pop) FOR year IN (2000, 2010)) AS p",
    "SELECT * FROM (SELECT country, year, pop FROM s) PIVOT (count(*) FOR year IN (2000, 2020))",
    "SELECT * FROM (SELECT country, year, pop FROM s) AS x UNPIVOT (val FOR k IN (year, pop)) "
    "AS u",
])
def test_same_answer_as_duckdb(both, sql):
    ours, theirs = both
    assert _answer(ours, sql) == _answer(theirs, sql)


def test_ordered_pivot_keeps_its_order(both):
    ours, theirs = both
    sql = "PIVOT s ON year USING sum(pop) GROUP BY country ORDER BY country DESC"
    assert ours.execute(sql).fetchall() == theirs.execute(sql).fetchall()


def test_pivot_sees_new_values_each_time():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE m (k TEXT, v INTEGER)")
    conn.execute("INSERT INTO m VALUES ('a', 1)")
    assert [d[0] for d in conn.execute("PIVOT m ON k USING sum(v)").description] == ["a"]
    conn.execute("INSERT INTO m VALUES ('b', 2)")
    assert conn.execute("PIVOT m ON k USING sum(v)").fetchall() == [(1, 2)]


@pytest.mark.parametrize("sql, sqlstate", [
    ("PIVOT s ON nosuch USING sum(pop)", "42703"),
    ("PIVOT nosuch ON year", "42P01"),
    ("UNPIVOT s ON nosuch", "42703"),
    ("PIVOT s ON year USING sum(country)", "42883"),
    ("SELECT * FROM s PIVOT (sum(pop) FOR year IN ())", "0A000"),
])
def test_clear_errors(both, sql, sqlstate):
    ours, _ = both
    with pytest.raises(errors.Error) as info:
        ours.execute(sql)
    assert info.value.sqlstate == sqlstate
