"""DuckDB's function names (exec/functions/duckdb_names.py) answer as DuckDB does: DuckDB
runs the same statements on the same rows. Run on 3 rows (the engine's row path) and on
5,000 rows (Arrow kernels), with dates on both sides of 1970 and month/leap-year edges."""
from __future__ import annotations

import datetime as dt

import pytest

import rustmemodb

from .duckdb_pair import assert_same, loaded_pair

duckdb = pytest.importorskip("duckdb")

SMALL = [(1, "abc", dt.date(2024, 1, 7), dt.datetime(2024, 1, 1, 23, 30)),
         (2, "xbz", dt.date(2023, 12, 31), dt.datetime(2024, 2, 29, 0, 10, 59, 500000)),
         (3, "b,c", dt.date(2024, 2, 29), dt.datetime(1969, 12, 31, 23, 59, 59, 250000))]


def _big() -> list[tuple]:
    base_d, base_t = dt.date(1968, 1, 1), dt.datetime(1968, 3, 1, 5, 6, 7)
    return [(i, f"s{i % 17},{i % 5}", base_d + dt.timedelta(days=(i * 37) % 30000),
             base_t + dt.timedelta(seconds=i * 98_765, microseconds=(i * 7919) % 1_000_000))
            for i in range(5000)]


@pytest.fixture(scope="module", params=["small", "big"])
def both(request):
    rows = SMALL if request.param == "small" else _big()
    return loaded_pair(duckdb, {"CREATE TABLE t (a INTEGER, b TEXT, d DATE, ts TIMESTAMP)": rows})


@pytest.mark.parametrize("sql", [
    "SELECT year(d), month(d), day(d), quarter(d), dayofweek(d), isodow(d), dayofyear(d), "
    "week(d) FROM t ORDER BY a",
    "SELECT year(ts), hour(ts), minute(ts), second(ts), day(ts), weekofyear(ts) FROM t ORDER BY a",
    "SELECT epoch(ts), epoch(d), epoch_ms(ts) FROM t ORDER BY a",
    "SELECT last_day(d), monthname(d), dayname(d), last_day(ts) FROM t ORDER BY a",
    "SELECT date_diff('day', d, ts), date_diff('month', d, ts), date_diff('year', d, ts), "
    "date_diff('quarter', d, ts) FROM t ORDER BY a",
    "SELECT date_diff('hour', ts, d), date_diff('minute', ts, d), date_diff('second', ts, d), "
    "date_diff('millisecond', ts, d), date_diff('week', d, ts) FROM t ORDER BY a",
    "SELECT datediff('day', d, DATE '2024-12-31'), date_diff('microsecond', ts, ts) FROM t "
    "ORDER BY a",
    "SELECT contains(b, 'b'), prefix(b, 's1'), suffix(b, ',2'), ends_with(b, 'c') FROM t "
    "ORDER BY a",
    "SELECT string_split(b, ','), len(string_split(b, ',')), list_value(a, a + 1) FROM t "
    "ORDER BY a",
    "SELECT strftime(d, '%Y/%m/%d'), strftime(ts, '%H:%M:%S') FROM t ORDER BY a",
    "SELECT year(d), count(*) FROM t GROUP BY ALL ORDER BY ALL",
])
def test_same_answer_as_duckdb(both, sql):
    assert_same(both, sql)


@pytest.mark.parametrize("sql", [
    "SELECT date_diff('day', DATE '2024-01-05', DATE '2024-01-01'), "
    "date_diff('week', DATE '2024-01-15', DATE '2024-01-01'), "
    "date_diff('month', DATE '2024-03-01', DATE '2024-01-31'), "
    "date_diff('hour', TIMESTAMP '2024-01-01 23:30', TIMESTAMP '2024-01-02 00:10')",
    "SELECT list_value(1, 2, 3), list_value('a', NULL), string_split('a,b,,c', ',')",
    "SELECT len([1, 2, 3]), len('abc'), list_contains([1, 2], 2), array_contains([1, 2], 3), "
    "contains([1, 2], 1)",
    "SELECT typeof('a'), typeof(DATE '2024-01-01'), typeof(1.5::DOUBLE), typeof(true)",
    "SELECT today() = current_date",
    "SELECT * FROM range(3)",
    "SELECT * FROM range(1, 10, 2)",
    "SELECT x FROM range(10, 0, -3) AS r(x)",
    "SELECT count(*), sum(range) FROM range(0)",
    "SELECT sum(range) FROM range(5)",
    "SELECT epoch_ms(TIMESTAMP '2024-01-01 00:00:00.0005'), "
    "epoch_ms(TIMESTAMP '1969-12-31 23:59:59.9994'), epoch_ms(TIMESTAMP '1969-12-31 23:59:59.9996')",
])
def test_constants_same_answer_as_duckdb(sql):
    assert_same((rustmemodb.connect(), duckdb.connect()), sql)


def test_typeof_names_the_engine_s_own_types():
    # INTEGER is 64-bit here (DuckDB's BIGINT), so typeof says so
    conn = rustmemodb.connect()
    assert conn.execute("SELECT typeof(1), typeof([1]), typeof(NULL)").fetchall() == [
        ("BIGINT", "BIGINT[]", '"NULL"')]


def test_bad_unit_is_a_clear_error():
    from rustmemodb import errors
    with pytest.raises(errors.Error) as info:
        rustmemodb.connect().execute("SELECT date_diff('fortnight', DATE '2024-01-01', "
                                     "DATE '2024-02-01')")
    assert info.value.sqlstate == "22023"


ARG_ROWS = [("p", "x", 3, 1.5), ("p", "y", 5, 0.5), ("p", None, 9, 2.5), ("q", "z", None, 1.0),
            ("q", "w", 2, None), ("r", "v", None, None), ("s", "u", 7, 7.0)]


@pytest.mark.parametrize("sql", [
    "SELECT g, arg_max(a, b), arg_min(a, b), max_by(a, f), min_by(b, f) FROM t GROUP BY g "
    "ORDER BY g",
    "SELECT arg_max(a, b), arg_min(a, f), arg_max(b, a) FROM t",
    "SELECT arg_max(a, b) FILTER (WHERE g = 'q'), arg_min(f, b) FILTER (WHERE g <> 'p') FROM t",
    "SELECT arg_max(b, a) FROM t WHERE false",
])
def test_arg_max_family_as_duckdb(sql):
    # rows where either argument is NULL are left out, as DuckDB leaves them
    assert_same(loaded_pair(duckdb, {"CREATE TABLE t (g TEXT, a TEXT, b INTEGER, f DOUBLE)":
                                     ARG_ROWS}), sql)


def test_two_argument_aggregates_refuse_what_they_cannot_do():
    from rustmemodb import errors
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (x FLOAT, y FLOAT)")
    for sql, state in [("SELECT x FROM t WHERE corr(y, x) > 0", "42803"),
                       ("SELECT corr('a', x) FROM t", "22P02")]:
        with pytest.raises(errors.Error) as info:
            conn.execute(sql)
        assert info.value.sqlstate == state, sql


@pytest.mark.parametrize("sql", [
    "SELECT list(a ORDER BY a DESC), approx_count_distinct(a % 5) FROM t",
    "SELECT regexp_extract(b, '[0-9]+'), regexp_extract(b, 'zz'), "
    "regexp_extract(b, '([a-z]+)([0-9]*)', 1) FROM t ORDER BY a",
    "SELECT strptime('2024-01-02 03:04:05', '%Y-%m-%d %H:%M:%S'), epoch_ms(1700000000000)",
    "SELECT if(a > 1, 'big', 'small') FROM t ORDER BY a",
    "SELECT try_cast('x' AS INTEGER), try_cast('5' AS INTEGER), try_cast(b AS INTEGER) "
    "FROM t ORDER BY a",
    "SELECT mode(a % 2) FROM t",
    "SELECT time_bucket(INTERVAL '1 week', ts), time_bucket(INTERVAL '1 month', d), "
    "time_bucket(INTERVAL '90 minutes', ts), time_bucket(INTERVAL '3 months', ts) "
    "FROM t ORDER BY a",
    "SELECT time_bucket(INTERVAL '10 minutes', ts, TIMESTAMP '2020-01-01 00:05:00'), "
    "time_bucket(INTERVAL '2 days', d) FROM t ORDER BY a",
])
def test_more_duckdb_spellings(both, sql):
    assert_same(both, sql)


def test_first_last_any_value_follow_input_order(both):
    ours, theirs = both
    sql = "SELECT first(a), last(a), any_value(a) FROM (SELECT a FROM t ORDER BY a) s"
    assert ours.execute(sql).fetchall() == theirs.execute(sql).fetchall()
