"""Result column names against PostgreSQL: a select-list call is named after the
function as written (``lpad``, not sqlglot's ``pad``; ``mod(a, b)`` is ``mod`` where
``a % b`` is ``?column?``), as a DataFrame's columns and a CTAS table's columns show.

Each entry is run as ``SELECT <entry> FROM t`` on rustmemodb and on the session's
throwaway PostgreSQL 15 (``pg_dsn``); the cursor descriptions' names must agree.
"""
from __future__ import annotations

import pytest

import rustmemodb

SETUP = ["CREATE TABLE t (a integer, b text, c double precision, d date, arr integer[])",
         "INSERT INTO t VALUES (1, 'x', 1.5, '2024-01-02', ARRAY[1, 2])"]

ENTRIES = [
    "lpad(b, 5, 'x')", "rpad(b, 5)", "btrim(b)", "ltrim(b)", "rtrim(b)", "trim(b)",
    "trim(leading 'x' from b)", "strpos(b, 'x')", "position('x' in b)",
    "char_length(b)", "character_length(b)", "length(b)", "to_hex(a)", "to_char(d, 'YYYY')",
    "mod(a, 2)", "a % 2", "div(a, 2)", "power(c, 2)", "pow(c, 2)", "c ^ 2",
    "array_cat(arr, arr)", "array_length(arr, 1)", "array_position(arr, 1)", "unnest(arr)",
    "regexp_like(b, 'x')", "b ~ 'x'", "json_agg(b)", "jsonb_agg(b)", "jsonb_object_agg(b, a)",
    "string_agg(b, ',')", "array_agg(a)", "bool_and(a > 0)", "count(*) FILTER (WHERE a > 0)",
    "sum(a) OVER ()", "row_number() OVER ()", "coalesce(a, 0)", "nullif(a, 1)",
    "greatest(a, 2)", "substring(b from 1 for 1)", "substr(b, 1)", "left(b, 1)", "right(b, 1)",
    "replace(b, 'x', 'y')", "date_trunc('month', d)", "extract(year from d)",
    "now()", "current_date", "a::text", "CAST(a AS text)", "(arr)[1]", "arr[1]",
    "upper(b) || 'z'", "pg_catalog.upper(b)", "md5(b)", "round(c)", "abs(a)",
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY c)", "interval '90 minutes'",
    "date '2024-01-01'", "d + interval '1 day'", "'1'::int", "'1'::bigint", "'1'::smallint", "'1'::real", "'1'::float8",
    "'1'::numeric", "'1'::numeric(5, 2)", "'x'::varchar(3)", "'x'::char(2)", "'{}'::json",
    "'{}'::jsonb", "'2024-01-01'::timestamptz", "'t'::boolean", "1", "'x'", "NULL",
    # a cast takes its type's name unless what it casts has a name of its own (a column,
    # a call): an inner cast, CASE, ARRAY[...] or an operator do not
    "c::float8::text", "0.1::float8::text", "(-3.5)::int", "CAST(-3.5 AS integer)",
    "(a + 1)::text", "CASE WHEN a > 0 THEN 1 END::text", "ARRAY[a]::text[]",
    "'{1,2}'::int[]", "upper(b)::varchar", "(a)::text", "b::varchar(3)::text",
    "b ^@ 'x'", "starts_with(b, 'x')", "CASE WHEN a > 0 THEN 1 ELSE a END",
    "CASE WHEN a > 0 THEN b END", "CASE WHEN a > 0 THEN 1 ELSE 2::int END",
    "CASE WHEN a > 0 THEN 1 ELSE c::int END", "interval '1 day'::text", "(CASE WHEN a > 0 THEN b END)", "date_part('year', d)", "'2024-01-01 00:00+00'::timestamptz AT TIME ZONE 'UTC'",
]


@pytest.fixture(scope="module")
def pg(pg_dsn):
    psycopg = pytest.importorskip("psycopg")
    conn = psycopg.connect(pg_dsn, autocommit=True)
    conn.execute("DROP SCHEMA IF EXISTS output_names CASCADE")
    conn.execute("CREATE SCHEMA output_names")
    conn.execute("SET search_path TO output_names")
    for sql in SETUP:
        conn.execute(sql)
    yield conn
    conn.execute("DROP SCHEMA output_names CASCADE")
    conn.close()


@pytest.fixture(scope="module")
def ours():
    conn = rustmemodb.connect()
    for sql in SETUP:
        conn.execute(sql)
    return conn


@pytest.mark.parametrize("entry", ENTRIES)
def test_select_list_names_agree_with_postgresql(pg, ours, entry):
    sql = f"SELECT {entry} FROM t"
    theirs = [d.name for d in pg.execute(sql).description]
    mine = [d[0] for d in ours.execute(sql).description]
    assert mine == theirs, f"{sql}: rustmemodb {mine}, PostgreSQL {theirs}"


def test_a_created_table_takes_the_written_names(ours):
    """CREATE TABLE AS names its columns as the select list does."""
    ours.execute("CREATE TABLE named AS SELECT lpad(b, 3) , mod(a, 2), json_agg(b) FROM t "
                 "GROUP BY b, a")
    names = [r[0] for r in ours.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'named' "
        "ORDER BY ordinal_position").fetchall()]
    assert names == ["lpad", "mod", "json_agg"]
