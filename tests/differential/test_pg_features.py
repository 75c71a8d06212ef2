"""rustmemodb against PostgreSQL on the SQL brought from PostgreSQL and DuckDB: random
small tables (NULLs and duplicate keys often), fixed queries per feature, results
compared as multisets (or in order where the query orders every row).

The oracle is the session's throwaway PostgreSQL (``pg_dsn``, ``tests/pg_server.py``);
DuckDB spells several of these features differently, so it is not used here.
Scale with ``DIFFERENTIAL_EXAMPLES`` (default 60, here a quarter of it per feature).
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .backends import import_rustmemodb, rows_equal
from .sqlgen import literal

EXAMPLES = max(5, int(os.environ.get("DIFFERENTIAL_EXAMPLES", "60")) // 4)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

KEYS = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
SMALL = st.one_of(st.none(), st.integers(-3, 3))
FLOATS = st.one_of(st.none(), st.sampled_from([-1.5, 0.0, 0.25, 1.0, 2.5, 4.0]))
T_ROWS = st.lists(st.tuples(KEYS, SMALL, SMALL, FLOATS), max_size=12)
U_ROWS = st.lists(st.tuples(SMALL, SMALL), max_size=8)

TABLES = {"t": ("k TEXT", "j INTEGER", "v INTEGER", "f FLOAT"), "u": ("j INTEGER", "w INTEGER")}
PG_TYPES = {"TEXT": 'TEXT COLLATE "C"', "INTEGER": "BIGINT", "FLOAT": "DOUBLE PRECISION"}


def _setup(rows: dict[str, list[tuple]], pg: bool) -> list[str]:
    out = []
    for name, cols in TABLES.items():
        if pg:
            cols = tuple(c.split()[0] + " " + PG_TYPES[c.split()[1]] for c in cols)
        out.append(f"CREATE TABLE {name} ({', '.join(cols)})")
        if rows[name]:
            values = ", ".join("(" + ", ".join(literal(v) for v in r) + ")" for r in rows[name])
            out.append(f"INSERT INTO {name} VALUES {values}")
    return out


def _normalize(value):
    import decimal
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


class Postgres:
    """One connection; every example recreates the tables in a scratch schema."""

    def __init__(self, dsn: str) -> None:
        import psycopg  # noqa: PLC0415
        self.psycopg = psycopg
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute("SET TimeZone = 'UTC'")

    def run(self, setup: list[str], queries: list[str]) -> list:
        self.conn.execute("DROP SCHEMA IF EXISTS features CASCADE")
        self.conn.execute("CREATE SCHEMA features")
        self.conn.execute("SET search_path TO features")
        for sql in setup:
            self.conn.execute(sql)
        out = []
        for q in queries:
            try:
                rows = self.conn.execute(q).fetchall()
                out.append([tuple(_normalize(v) for v in r) for r in rows])
            except self.psycopg.Error as exc:
                out.append(("error", exc.sqlstate))
        return out


def run_ours(setup: list[str], queries: list[str]) -> list:
    rmdb = import_rustmemodb()
    conn = rmdb.connect()
    cur = conn.cursor()
    for sql in setup:
        cur.execute(sql)
    out = []
    for q in queries:
        try:
            cur.execute(q)
            out.append([tuple(r) for r in cur.fetchall()])
        except rmdb.Error as exc:
            out.append(("error", exc.sqlstate))
    conn.close()
    return out


@pytest.fixture(scope="module")
def postgres(pg_dsn):
    pg = Postgres(pg_dsn)
    yield pg
    pg.conn.close()


def compare(postgres, rows: dict, queries: list[str]) -> None:
    theirs = postgres.run(_setup(rows, pg=True), queries)
    ours = run_ours(_setup(rows, pg=False), queries)
    for q, a, b in zip(queries, ours, theirs):
        ordered = "ORDER BY" in q.upper().rsplit(")", 1)[-1]
        same = a == b if isinstance(a, tuple) or isinstance(b, tuple) else \
            rows_equal(a, b, ordered)
        assert same, f"{q}\n-- tables: {rows}\n-- rustmemodb: {a}\n-- PostgreSQL: {b}"


# ---- the features -----------------------------------------------------------------------

JOIN_TREES = [
    "SELECT * FROM (t CROSS JOIN u)",
    "SELECT t.k, t.v, u.w FROM (t JOIN u ON t.j = u.j) LEFT JOIN u AS u2 ON u2.w = t.v",
    "SELECT t.k, u.w, u2.j FROM t LEFT JOIN (u JOIN u AS u2 ON u.w = u2.j) ON t.j = u.j",
    "SELECT * FROM (t JOIN u USING (j)) AS x",
    "SELECT x.k, x.w FROM ((t JOIN u USING (j)) AS x RIGHT JOIN u AS u3 ON x.w = u3.w)",
]

GROUPING_SETS = [
    "SELECT k, j, grouping(k, j), count(*), sum(v) FROM t GROUP BY ROLLUP (k, j)",
    "SELECT k, j, count(v), min(f) FROM t GROUP BY CUBE (k, j)",
    "SELECT k, v, sum(f) FROM t GROUP BY GROUPING SETS ((k), (v), ())",
    "SELECT k, j, grouping(j), max(v) FROM t GROUP BY k, ROLLUP (j) HAVING count(*) > 1",
    "SELECT k, count(DISTINCT j) FROM t GROUP BY ROLLUP (k)",
]

LATERAL = [
    "SELECT t.k, s.w FROM t, LATERAL (SELECT w FROM u WHERE u.j = t.j) s",
    "SELECT t.k, t.v, s.m FROM t LEFT JOIN LATERAL (SELECT max(w) AS m FROM u WHERE u.w >= t.v) s"
    " ON true",
    "SELECT t.k, s.w FROM t LEFT JOIN LATERAL (SELECT w FROM u WHERE u.j = t.j) s ON s.w > t.v",
    "SELECT t.j, g FROM t, generate_series(t.j, t.v) g",
    "SELECT t.j, s.w FROM t CROSS JOIN LATERAL (SELECT w FROM u WHERE u.j <= t.j "
    "ORDER BY w NULLS FIRST, j NULLS FIRST LIMIT 1) s",
]

ARRAYS = [
    "SELECT k, array_agg(v ORDER BY v NULLS FIRST, j NULLS FIRST) FROM t GROUP BY k",
    "SELECT k, array_agg(j ORDER BY f DESC NULLS LAST, v NULLS FIRST, j NULLS FIRST) "
    "FROM t GROUP BY k",
    "SELECT k, v FROM t WHERE v = ANY (ARRAY[j, 1, NULL])",
    "SELECT k, v <> ALL (ARRAY[j, 2]), v < ANY (ARRAY[j, 0]) FROM t",
    "SELECT x.k, x.arr[1], x.arr[2:3], cardinality(x.arr) FROM "
    "(SELECT k, array_agg(v ORDER BY v NULLS LAST, j NULLS LAST) AS arr FROM t GROUP BY k) x",
    "SELECT x.k, e, n FROM (SELECT k, array_agg(j ORDER BY j NULLS LAST, v NULLS LAST) AS arr "
    "FROM t GROUP BY k) x, unnest(x.arr) WITH ORDINALITY AS y (e, n)",
    "SELECT k, unnest(ARRAY[j, v]), generate_series(1, 3) FROM t",
    "SELECT k, ARRAY(SELECT w FROM u WHERE u.j = t.j ORDER BY w NULLS FIRST) FROM t",
    "SELECT a, count(*) FROM (SELECT ARRAY[j, v] AS a FROM t) x GROUP BY a",
]

ORDERED_SET = [
    "SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
    "percentile_cont(0.3) WITHIN GROUP (ORDER BY f DESC) FROM t GROUP BY k",
    "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY j), "
    "percentile_disc(ARRAY[0.2, 0.8]) WITHIN GROUP (ORDER BY f) FROM t",
    "SELECT k, mode() WITHIN GROUP (ORDER BY v), mode() WITHIN GROUP (ORDER BY j DESC) "
    "FROM t GROUP BY k",
]

WINDOW_FRAMES = [
    "SELECT k, j, sum(v) OVER (PARTITION BY k ORDER BY j GROUPS BETWEEN 1 PRECEDING AND "
    "1 FOLLOWING), count(*) OVER (ORDER BY j NULLS FIRST GROUPS 2 PRECEDING) FROM t",
    "SELECT k, j, sum(v) OVER (PARTITION BY k ORDER BY j RANGE BETWEEN UNBOUNDED PRECEDING "
    "AND CURRENT ROW EXCLUDE GROUP), max(f) OVER (ORDER BY j GROUPS BETWEEN 1 PRECEDING AND "
    "1 FOLLOWING EXCLUDE TIES), min(v) OVER (PARTITION BY k ORDER BY j GROUPS BETWEEN "
    "CURRENT ROW AND 2 FOLLOWING EXCLUDE CURRENT ROW) FROM t",
    "SELECT j, avg(f) OVER (ORDER BY j DESC GROUPS BETWEEN 2 PRECEDING AND 1 PRECEDING) FROM t",
]


@SETTINGS
@given(T_ROWS, U_ROWS)
def test_window_frames(postgres, t_rows, u_rows):
    compare(postgres, {"t": t_rows, "u": u_rows}, WINDOW_FRAMES)


@SETTINGS
@given(T_ROWS, U_ROWS)
def test_ordered_set_aggregates(postgres, t_rows, u_rows):
    compare(postgres, {"t": t_rows, "u": u_rows}, ORDERED_SET)


@SETTINGS
@given(T_ROWS, U_ROWS)
def test_arrays(postgres, t_rows, u_rows):
    compare(postgres, {"t": t_rows, "u": u_rows}, ARRAYS)


@SETTINGS
@given(T_ROWS, U_ROWS)
def test_lateral(postgres, t_rows, u_rows):
    compare(postgres, {"t": t_rows, "u": u_rows}, LATERAL)


@SETTINGS
@given(T_ROWS, U_ROWS)
def test_join_trees(postgres, t_rows, u_rows):
    compare(postgres, {"t": t_rows, "u": u_rows}, JOIN_TREES)


@SETTINGS
@given(T_ROWS, U_ROWS)
def test_grouping_sets(postgres, t_rows, u_rows):
    compare(postgres, {"t": t_rows, "u": u_rows}, GROUPING_SETS)
