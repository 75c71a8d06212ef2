"""Engine-free checks of the generator: its SQL runs on DuckDB and agrees with
PostgreSQL (the session's throwaway server, the ``pg_dsn`` fixture)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .backends import report, rows_equal, run_duckdb, run_postgres
from .sqlgen import (
    aggregate_cases,
    group_by_cases,
    join_cases,
    literal,
    ordered_cases,
    select_cases,
    set_op_cases,
    subquery_cases,
)

ALL_CASES = st.one_of(
    select_cases(True), ordered_cases(True), aggregate_cases(True), group_by_cases(True),
    join_cases(True), set_op_cases(True), subquery_cases(True),
)


def test_literal():
    assert literal(-3) == "(-3)"
    assert literal(2.5) == "2.5"
    assert literal("it's") == "'it''s'"
    assert literal(None) == "NULL"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ALL_CASES)
def test_generated_sql_runs_on_duckdb(case):
    out = run_duckdb(case)
    assert out.error is None, f"{out}\n{case.describe()}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ALL_CASES)
def test_duckdb_agrees_with_postgres(pg_dsn, case):
    duck = run_duckdb(case)
    pg = run_postgres(case, pg_dsn)
    assert duck.error is None and pg.error is None, report(case, "DuckDB", duck, "PostgreSQL", pg)
    assert rows_equal(duck.rows, pg.rows, case.ordered), report(
        case, "DuckDB", duck, "PostgreSQL", pg
    )
