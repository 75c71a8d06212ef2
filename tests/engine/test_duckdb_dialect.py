"""DuckDB habits in notebooks, answered as DuckDB answers them (DuckDB runs the same
statements on the same rows here: a differential test)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from .duckdb_pair import assert_same, loaded_pair

duckdb = pytest.importorskip("duckdb")

ROWS = [("a", "x", 1), ("a", "y", 2), ("b", "x", 3), ("b", None, None), (None, "z", 5)]


@pytest.fixture(scope="module")
def both():
    return loaded_pair(duckdb, {"CREATE TABLE t (g TEXT, h TEXT, v INTEGER)": ROWS})


@pytest.mark.parametrize("sql", [
    "SELECT g, sum(v) FROM t GROUP BY ALL ORDER BY g NULLS LAST",
    "SELECT g, h, count(*) AS n, sum(v) * 2 FROM t GROUP BY ALL ORDER BY g NULLS LAST, "
    "h NULLS LAST",
    "SELECT upper(g) AS big, max(v) FROM t GROUP BY ALL ORDER BY 1 NULLS LAST",
    "SELECT sum(v), count(*) FROM t GROUP BY ALL",
    "SELECT coalesce(g, '?') || h AS k, avg(v) FROM t GROUP BY ALL ORDER BY 1 NULLS LAST",
])
def test_group_by_all(both, sql):
    assert_same(both, sql)


# arg_max / arg_min and their aliases max_by / min_by. DuckDB skips rows where either
# argument is NULL and, on a tie, keeps the first row it meets (one thread over a small
# table: input order), which is what rustmemodb does too; NaN is the largest float.
_D = __import__("datetime").date
ARG_ROWS = [("p", "a1", 3, 1.5, _D(2024, 1, 2)), ("p", None, 9, None, _D(2024, 3, 1)),
            ("p", "a3", None, 2.5, None), ("q", "b1", 4, None, _D(2023, 5, 5)),
            ("q", "b2", 4, -1.0, _D(2023, 5, 4)), ("r", None, None, None, None),
            ("s", "s1", 1, float("nan"), _D(2020, 1, 1)), ("s", "s2", 2, 7.0, _D(2021, 1, 1)),
            ("t", "t1", -5, 0.0, _D(2019, 9, 9))]


@pytest.fixture(scope="module")
def args_both():
    return loaded_pair(duckdb, {
        "CREATE TABLE a (g TEXT, s TEXT, v INTEGER, f DOUBLE, d DATE)": ARG_ROWS})


@pytest.mark.parametrize("sql", [
    "SELECT arg_max(s, v), arg_min(s, v), max_by(s, v), min_by(s, v) FROM a",
    "SELECT arg_max(v, s), arg_min(d, s), arg_max(s, d), arg_min(f, d), arg_max(g, f) FROM a",
    "SELECT g, arg_max(s, v), arg_min(s, v), max_by(v, f), min_by(s, d), arg_max(s, f), "
    "arg_min(s, f) FROM a GROUP BY g ORDER BY g",
    "SELECT g, arg_max(s, v) FILTER (WHERE v < 9), min_by(d, v) FILTER (WHERE s <> 'b1') "
    "FROM a GROUP BY g ORDER BY g",
    "SELECT arg_max(s, v), count(*) FROM a WHERE false",
    "SELECT g, arg_max(s, v) FROM a GROUP BY g HAVING arg_min(v, s) > 0 ORDER BY g",
    "SELECT arg_max(g, n), arg_min(g, n) FROM (SELECT g, count(*) * 10 + length(g) AS n "
    "FROM a GROUP BY g) AS q",
    "SELECT g, s, arg_max(s, v) OVER (PARTITION BY g) FROM a ORDER BY g, s NULLS LAST",
    "SELECT s, arg_max(g, f) OVER (ORDER BY s ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), "
    "arg_min(d, v) OVER (ORDER BY s ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING), "
    "min_by(s, d) OVER (ORDER BY s ROWS UNBOUNDED PRECEDING) FROM a WHERE s IS NOT NULL "
    "ORDER BY s",
    "SELECT s, max_by(s, v) FILTER (WHERE v < 4) OVER (ORDER BY s ROWS BETWEEN 1 PRECEDING "
    "AND 1 FOLLOWING) FROM a WHERE s IS NOT NULL ORDER BY s",
])
def test_arg_max_arg_min(args_both, sql):
    assert_same(args_both, sql)


def test_arg_max_ties_keep_the_first_row(args_both):
    sql = "SELECT arg_max(s, v), arg_min(s, v) FROM a WHERE g = 'q'"
    assert_same(args_both, sql)
    assert args_both[0].execute(sql).fetchall() == [("b1", "b1")]


def test_arg_max_group_by_many_groups():
    import random
    rng = random.Random(7)
    rows = [(rng.randrange(300), rng.random(), f"r{i}") for i in range(20000)]
    pair = loaded_pair(duckdb, {"CREATE TABLE m (k INTEGER, v DOUBLE, s TEXT)": rows})
    assert_same(pair, "SELECT k, arg_max(s, v), arg_min(s, v), max_by(v, s) FROM m "
                      "GROUP BY k ORDER BY k")


@pytest.mark.parametrize("sql", [
    "SELECT count_if(v > 1), count_if(h = 'x') FROM t",
    "SELECT g, count_if(v >= 2) FROM t GROUP BY g ORDER BY g NULLS LAST",
    "SELECT count_if(v > 100) FROM t WHERE false",
])
def test_count_if(both, sql):
    assert_same(both, sql)


def test_count_if_needs_a_boolean(both):
    with pytest.raises(Exception) as info:
        both[0].execute("SELECT count_if(v) FROM t")
    assert getattr(info.value, "sqlstate", None) == "42804"


@pytest.fixture(scope="module")
def by_name_both():
    return loaded_pair(duckdb, {
        "CREATE TABLE a (x INTEGER, y TEXT)": [(1, "p"), (2, "q")],
        "CREATE TABLE b (y TEXT, z DOUBLE, x INTEGER)": [("q", 1.5, 2), ("r", None, 3)]})


@pytest.mark.parametrize("sql", [
    "SELECT * FROM a UNION BY NAME SELECT * FROM b ORDER BY x, z NULLS FIRST",
    "SELECT * FROM a UNION ALL BY NAME SELECT * FROM b ORDER BY x, z NULLS FIRST",
    "SELECT x FROM a UNION BY NAME SELECT 9 AS x ORDER BY x",
    "SELECT y FROM a UNION ALL BY NAME SELECT z, x FROM b ORDER BY y NULLS LAST, x",
])
def test_union_by_name(by_name_both, sql):
    assert_same(by_name_both, sql)


def test_union_by_name_refuses_a_repeated_name(by_name_both):
    with pytest.raises(Exception) as info:
        by_name_both[0].execute("SELECT x, x FROM a UNION BY NAME SELECT 1 AS x")
    assert getattr(info.value, "sqlstate", None) == "42702"


@pytest.mark.parametrize("sql", [
    "SELECT h[1:1], h[-1], h[2:], h[:1], h[0], h[5] FROM t ORDER BY g NULLS LAST, t.h NULLS LAST",
    "SELECT 'hello'[2:3], 'hello'[-3:], 'héllo'[2:2], 'hello'[4:2], 'hello'[2:-2]",
])
def test_text_slices(both, sql):
    assert_same(both, sql)


# ``**`` is PostgreSQL's ``^`` here: of two numerics (2.0 ** 0.5) it is an exact numeric,
# where DuckDB's is a double (test_numeric_power_stays_numeric)
@pytest.mark.parametrize("sql", [
    "SELECT 2**3, 2 ** 3 * 2, 2.0::DOUBLE ** 0.5, 2 ** -1, '**'",
    "SELECT v ** 2 FROM t ORDER BY g NULLS LAST, h NULLS LAST",
])
def test_double_star_power(both, sql):
    assert_same(both, sql)


def test_numeric_power_stays_numeric(both):
    ours, _ = both
    assert ours.execute("SELECT 2.0 ** 0.5, 2.0 ^ 0.5").fetchall() == \
        [(Decimal("1.4142135623730950"), Decimal("1.4142135623730950"))]
