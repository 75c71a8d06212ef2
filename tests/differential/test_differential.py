"""Differential tests: random tables and queries must give the same result on
rustmemodb as on DuckDB (which agrees with PostgreSQL on the generated subset, see
``test_sqlgen.py``).  A failure prints the shrunk case as a SQL script plus both
results.  Every generated feature runs: a broken one fails here, it is never
turned into an expected failure.

Scale with ``DIFFERENTIAL_EXAMPLES`` (examples per test, default 60).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from .backends import report, rows_equal, run_duckdb, run_rustmemodb
from .sqlgen import (
    aggregate_cases,
    group_by_cases,
    join_cases,
    ordered_cases,
    select_cases,
    set_op_cases,
    subquery_cases,
)

EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

def check(case) -> None:
    duck = run_duckdb(case)
    assume(duck.error is None)  # the generator keeps to valid SQL; see test_sqlgen.py
    ours = run_rustmemodb(case)
    assert ours.error is None, report(case, "rustmemodb", ours, "DuckDB", duck)
    assert rows_equal(ours.rows, duck.rows, case.ordered), report(
        case, "rustmemodb", ours, "DuckDB", duck
    )


@SETTINGS
@given(select_cases())
def test_select_where(case):
    check(case)


@SETTINGS
@given(ordered_cases())
def test_order_by_limit(case):
    check(case)


@SETTINGS
@given(aggregate_cases())
def test_aggregates(case):
    check(case)


@SETTINGS
@given(st.one_of(select_cases(True), ordered_cases(True), aggregate_cases(True)))
def test_extended_expressions(case):
    """SELECT/ORDER BY/aggregates with abs(), COALESCE and CASE in the expressions."""
    check(case)


@SETTINGS
@given(group_by_cases())
def test_group_by(case):
    check(case)


@SETTINGS
@given(join_cases())
def test_joins(case):
    check(case)


@SETTINGS
@given(set_op_cases())
def test_set_operations(case):
    check(case)


@SETTINGS
@given(subquery_cases())
def test_subqueries(case):
    check(case)
