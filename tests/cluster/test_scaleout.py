"""Issue #18, what the plan split took over from the slower paths: JSON and array
constants rendered for the shards, corr/covar/regr_* merged from partial states, joins
equal on computed keys repartitioned by the computed value, and chains of joins on
different keys. Each query: the single engine's result (floats of merged statistics to
1e-12 relative), the plan split named in ``last_plan`` and EXPLAIN, and no table
gathered onto the coordinator (bytes through it are the partials only).
"""
from __future__ import annotations

import datetime as dt
import json
import math

import pytest
import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.render import Unrenderable, literal
from rustmemodb.cluster.wire import table_to_ipc

from .conformance import SQL_DIR, RecordingBackend, read_skips, run_on_cluster

N = 1500
PAIRS = ["corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "regr_r2",
         "regr_count", "regr_avgx", "regr_avgy", "regr_sxx", "regr_syy", "regr_sxy"]


def _setup(shards: int = 3, backend: str = "local", **kw):
    c = cluster.connect(backend, shards=shards, **kw)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, g INTEGER, y FLOAT, x INTEGER, "
                  "k TEXT, j JSONB, a INTEGER[], tags TEXT[])")
        x.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, m INTEGER, k TEXT, w FLOAT)")
        x.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, n INTEGER, label TEXT)")
        x.executemany("INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            (i, i % 7, (i * 7 % 13) * 0.5 if i % 9 else None, (i * 3) % 17 if i % 11 else None,
             f"K{i % 50}" if i % 2 else f"k{i % 50}", '{"k": %d, "s": "v%d"}' % (i % 7, i % 3),
             [i % 4, i % 6], ["x" if i % 2 else "y'z", "w"]) for i in range(N)]
            + [(10_000 + i, 100, 2.0, i, "c", "{}", [], []) for i in range(6)])
        x.executemany("INSERT INTO q VALUES (?, ?, ?, ?)",
                      [(i, i % 400, f"k{i % 60}", (i % 23) * 1.25) for i in range(2 * N)])
        x.executemany("INSERT INTO r VALUES (?, ?, ?)",
                      [(i, i % 97, f"L{i % 5}") for i in range(N)])
    return c, s


@pytest.fixture(scope="module")
def pair():
    c, s = _setup()
    yield c, s
    c.close()
    s.close()


def _same(got, want, q):
    assert len(got) == len(want), (q, got, want)
    for r1, r2 in zip(got, want):
        assert len(r1) == len(r2), q
        for u, v in zip(r1, r2):
            if isinstance(v, float) and isinstance(u, float):
                assert math.isclose(u, v, rel_tol=1e-12, abs_tol=1e-12), (q, r1, r2)
            else:
                assert u == v, (q, r1, r2)


def _explain(c, q: str) -> str:
    return "\n".join(r[0] for r in c.execute("EXPLAIN " + q).fetchall())


def _table_bytes(s, *tables) -> int:
    return sum(len(table_to_ipc(s.execute(f"SELECT * FROM {t}").arrow())) for t in tables)


def _run(c, s, q, strategies=("split",)):
    """``q`` on both; the plan split took it; only partials passed the coordinator."""
    coord0 = c.cluster.coordinator_bytes
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    plan = c.last_plan
    assert plan.get("planner") == "plan", (q, plan.get("not_plan_split"))
    assert plan["strategy"] in strategies, (q, plan["strategy"])
    assert c.cluster.coordinator_bytes - coord0 == sum(plan["partial_bytes"]), q
    return plan


# ---- JSON and array constants ---------------------------------------------------------

CONSTANTS = [
    """SELECT g, count(*) FROM p WHERE j @> '{"k": 3}' GROUP BY g ORDER BY g""",
    """SELECT count(*) FROM p WHERE j = CAST('{"s": "v1", "k": 2}' AS JSONB)""",
    """SELECT id, j || '{"n": [1, null], "t": "it''s"}' FROM p ORDER BY id DESC LIMIT 3""",
    "SELECT g, count(*) FROM p WHERE a @> ARRAY[1] GROUP BY g ORDER BY g",
    "SELECT id, a || ARRAY[7, NULL] FROM p WHERE tags && ARRAY['y''z'] ORDER BY id LIMIT 5",
    "SELECT g, count(*) FROM p WHERE a = '{2,2}' GROUP BY g ORDER BY 1",
    "SELECT count(*) FROM p WHERE a <> ARRAY[]::INTEGER[] AND tags <> ARRAY['x', NULL]",
]


@pytest.mark.parametrize("q", CONSTANTS, ids=[str(i) for i in range(len(CONSTANTS))])
def test_json_and_array_constants_are_rendered_for_the_shards(pair, q):
    c, s = pair
    plan = _run(c, s, q)
    assert "CAST(" in plan["partial"]
    assert sum(plan["partial_bytes"]) < _table_bytes(s, "p") / 20


def test_explain_shows_the_constants_in_the_partial(pair):
    c, _ = pair
    text = _explain(c, CONSTANTS[3])
    assert "Planner: the engine's bound and optimized plan" in text
    assert "CAST(ARRAY[1] AS INTEGER[])" in text


# ---- corr / covar / regr_* as mergeable partial states ---------------------------------

STATISTICS = [
    "SELECT g, " + ", ".join(f"{f}(y, x)" for f in PAIRS) + " FROM p GROUP BY g ORDER BY g",
    "SELECT " + ", ".join(f"{f}(y, x)" for f in PAIRS) + " FROM p",
    "SELECT " + ", ".join(f"{f}(x, y) FILTER (WHERE g < 3)" for f in PAIRS) + " FROM p",
    "SELECT " + ", ".join(f"{f}(y, x)" for f in PAIRS) + " FROM p WHERE false",
    # a horizontal line (group 100: y = 2.0): Syy is exactly 0 after the merge
    "SELECT " + ", ".join(f"{f}(y, x)" for f in PAIRS) + " FROM p WHERE g = 100",
    ("SELECT g, corr(y, x), count(*) FROM p GROUP BY g HAVING regr_count(y, x) > 3 "
     "ORDER BY 2 DESC NULLS LAST"),
    "SELECT k, regr_slope(w, m), covar_samp(m, m) FROM q GROUP BY k ORDER BY 1 LIMIT 7",
]


@pytest.mark.parametrize("q", STATISTICS, ids=[str(i) for i in range(len(STATISTICS))])
def test_pair_statistics_merge_from_partial_states(pair, q):
    c, s = pair
    plan = _run(c, s, q)
    assert plan["kind"] == "aggregate"
    assert "regr_sxx(" in plan["partial"] and "regr_sxx(" not in plan["merge"]


def test_a_horizontal_line_has_no_correlation_after_the_merge(pair):
    c, _ = pair
    row = c.execute("SELECT corr(y, x), regr_syy(y, x), regr_r2(y, x), regr_slope(y, x) "
                    "FROM p WHERE g = 100").fetchone()
    assert row == (None, 0.0, 1.0, 0.0)


def test_explain_shows_the_pair_statistics_merge(pair):
    c, _ = pair
    text = _explain(c, STATISTICS[0])
    assert "Distributed plan: split" in text and "Seq Scan on __partials" in text
    assert "regr_count(" in text and "regr_sxy(" in text


# ---- equi-joins on computed keys: repartitioned by the computed value ------------------

COMPUTED = [
    "SELECT p.g, count(*) FROM p JOIN q ON lower(p.k) = lower(q.k) GROUP BY p.g ORDER BY 1",
    "SELECT count(*), sum(q.w) FROM p JOIN q ON p.x + 1 = q.m",
    # one side placed by its own key (q by id): only p moves, by p.id + 1
    "SELECT count(*), min(q.k) FROM p JOIN q ON p.id + 1 = q.id",
    "SELECT p.id, q.id FROM p JOIN q ON p.x * 2 = q.m WHERE p.id < 40 ORDER BY 1, 2 LIMIT 10",
    "SELECT count(*), count(q.id) FROM p LEFT JOIN q ON upper(p.k) = q.k",
    "SELECT count(*), count(p.id), count(q.id) FROM p FULL JOIN q ON p.x + 1 = q.m",
    "SELECT count(*), count(p.id) FROM p RIGHT JOIN q ON p.x - 1 = q.m % 17",
    ("SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM q WHERE lower(q.k) = lower(p.k) "
     "AND q.w > 20)"),
    "SELECT count(*) FROM p WHERE NOT EXISTS (SELECT 1 FROM q WHERE q.m = p.x + 300)",
    # across types: the INTEGER side's key is the bound cast
    "SELECT p.g, count(*) FROM p JOIN q ON p.g + 0.5 = q.w GROUP BY p.g ORDER BY 1",
]


@pytest.mark.parametrize("q", COMPUTED, ids=[str(i) for i in range(len(COMPUTED))])
def test_joins_on_computed_keys_repartition_by_the_computed_value(pair, q):
    c, s = pair
    plan = _run(c, s, q, strategies=("shuffle",))
    keys = [k for _, k, _ in plan["exchanges"]]
    assert "jk" in keys, plan["exchanges"]
    assert all(" AS \"jk\"" in scan for _, k, scan in plan["exchanges"] if k == "jk")
    tables = _table_bytes(s, "p", "q")
    assert sum(plan["partial_bytes"]) < tables / 10
    assert plan["shuffled_bytes"] < tables


def test_a_computed_key_beside_the_partition_key_moves_one_side(pair):
    c, s = pair
    _run(c, s, COMPUTED[2], strategies=("shuffle",))
    assert [(t, k) for t, k, _ in c.last_plan["exchanges"]] == [("p", "jk")]


def test_explain_shows_the_computed_key_exchange(pair):
    c, _ = pair
    text = _explain(c, COMPUTED[0])
    assert "Distributed plan: shuffle" in text
    assert "Exchange: repartition p by hash(jk) over 3 shards" in text
    assert 'lower("s0"."k") AS "jk"' in text
    assert "Hash Join  (inner on lower(k) = lower(k))" in text


# ---- chains of joins on different keys ---------------------------------------------------

CHAINS = [
    # p.id = q.id keeps p and q in place; r moves by n, the join's rows by q.m (at most
    # q's rows: p.id is unique)
    ("SELECT r.label, count(*), sum(q.w) FROM p JOIN q ON p.id = q.id JOIN r ON r.n = q.m "
     "GROUP BY r.label ORDER BY 1"),
    # q moves by m onto p's key, then that join's rows (at most q's: p.id is unique)
    # by k, and q2 by k too
    ("SELECT p.g, count(*), sum(q2.w) FROM q JOIN p ON p.id = q.m JOIN q q2 ON q2.k = p.k "
     "GROUP BY p.g ORDER BY 1"),
    # the optimizer joins q and p on k first; r is copied
    ("SELECT p.g, count(*), max(r.label) FROM q JOIN r ON r.id = q.m JOIN p ON p.k = q.k "
     "GROUP BY p.g ORDER BY 1"),
    # the first join's rows could be many times its inputs': r is copied instead
    ("SELECT q.k, count(*) FROM p JOIN q ON p.k = q.k JOIN r ON r.id = p.x GROUP BY q.k "
     "ORDER BY 1 LIMIT 5"),
    # outer joins along the chain
    ("SELECT count(*), count(r.id) FROM q JOIN r ON r.id = q.m LEFT JOIN p ON p.x = r.n"),
    ("SELECT count(*), count(p.id), count(q.id) FROM q JOIN r ON r.id = q.m "
     "FULL JOIN p ON p.x = r.n"),
    # three joins, three keys, one computed
    ("SELECT count(*), sum(q.w) FROM q JOIN r ON r.id = q.m JOIN p ON p.id = r.n "
     "JOIN q q2 ON lower(q2.k) = lower(p.k)"),
]


@pytest.mark.parametrize("q", CHAINS, ids=[str(i) for i in range(len(CHAINS))])
def test_chains_of_joins_on_different_keys_stay_on_the_shards(pair, q):
    c, s = pair
    plan = _run(c, s, q, strategies=("shuffle", "broadcast"))
    assert len(plan["exchanges"]) >= 2
    tables = _table_bytes(s, "p", "q", "r")
    assert sum(plan["partial_bytes"]) < tables / 10
    assert plan["shuffled_bytes"] < 2 * tables


def test_a_join_bounded_by_a_unique_key_is_repartitioned_again(pair):
    c, s = pair
    _run(c, s, CHAINS[1], strategies=("shuffle",))
    moved = [(t, k) for t, k, _ in c.last_plan["exchanges"]]
    assert moved == [("q", "m"), ("(q) ⋈ p", "k"), ("q", "k")], moved
    text = _explain(c, CHAINS[1])
    assert "Exchange: repartition (q) ⋈ p by hash(k)" in text


def test_a_join_of_unbounded_rows_is_not_moved_again(pair):
    c, s = pair
    _run(c, s, CHAINS[3], strategies=("shuffle",))
    moved = [(t, k) for t, k, _ in c.last_plan["exchanges"]]
    assert ("r", None) in moved and not any("⋈" in t for t, _ in moved), moved


def check_scaleout(c, s) -> None:
    """A query of each kind above on ``c`` (another backend's cluster): the single
    engine's result, from the plan split, with rows moved between the shards."""
    moved = 0
    for q in [CONSTANTS[0], CONSTANTS[4], STATISTICS[0], STATISTICS[6], COMPUTED[0],
              COMPUTED[1], COMPUTED[5], CHAINS[1], CHAINS[3]]:
        coord0 = c.cluster.coordinator_bytes
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        plan = c.last_plan
        assert plan.get("planner") == "plan", (q, plan.get("not_plan_split"))
        assert c.cluster.coordinator_bytes - coord0 == sum(plan["partial_bytes"]), q
        moved += plan.get("shuffled_bytes", 0)
    assert moved > 0


def test_the_conformance_file_of_these_shapes_gathers_nothing():
    # tests/sql/query/joins_computed_keys.test (its results checked on PostgreSQL, and on
    # 3 shards by test_conformance.py): every query is split from the plan, none gathers.
    seen: list = []

    rel = "query/joins_computed_keys.test"
    report = run_on_cluster(SQL_DIR / rel, RecordingBackend(seen, "local", shards=3),
                            read_skips().get(rel, {}))
    assert not report.failures, report.summary(limit=10)
    assert len(seen) >= 18
    assert not [p["sql"] for p in seen if p.get("planner") != "plan"], \
        [(p["sql"], p.get("not_plan_split")) for p in seen if p.get("planner") != "plan"]
    assert sum(1 for p in seen if p.get("exchanges")) >= 12


# An outer join at the end of a chain copies neither input, and the first join's rows
# (equal on non-unique keys) may be more than its tables': the first join instead copies
# one input and repartitions the other by the outer join's key.
OUTER_CHAINS = [
    ("SELECT count(*), count(r.id), count(p.id) FROM q JOIN p ON p.k = q.k "
     "FULL JOIN r ON r.id = p.x"),
    ("SELECT r.label, count(*), count(p.id) FROM q JOIN p ON p.k = q.k "
     "RIGHT JOIN r ON r.n = p.x GROUP BY r.label ORDER BY 1"),
]


@pytest.mark.parametrize("q", OUTER_CHAINS, ids=[str(i) for i in range(len(OUTER_CHAINS))])
def test_a_chain_ending_in_an_outer_join_is_placed_by_its_key(pair, q):
    c, s = pair
    plan = _run(c, s, q, strategies=("shuffle",))
    moved = [(t, k) for t, k, _ in plan["exchanges"]]
    assert ("q", None) in moved and ("p", "x") in moved, moved
    assert not any("⋈" in t for t, _ in moved), moved       # no join's rows moved
    assert plan["shuffled_bytes"] < _table_bytes(s, "p", "q", "r")


def test_the_full_join_at_the_end_of_the_chain_keeps_r_in_place(pair):
    c, s = pair
    _run(c, s, OUTER_CHAINS[0], strategies=("shuffle",))
    assert c.last_plan["in_place"] == ["r"]
    text = _explain(c, OUTER_CHAINS[0])
    assert "Exchange: broadcast q to every shard" in text
    assert "Exchange: repartition p by hash(x)" in text
    assert "r stays in place" in text


def test_a_five_join_chain_is_placed_from_the_plan(pair):
    c, s = pair
    q = ("SELECT count(*) FROM p JOIN q ON p.k = q.k JOIN r ON r.n = q.m JOIN q q2 "
         "ON q2.m = r.id JOIN p p2 ON p2.x = q2.m JOIN r r2 ON r2.id = p2.g")
    plan = _run(c, s, q, strategies=("shuffle",))
    assert len(plan["exchanges"]) > 4


@pytest.mark.parametrize("value,sql_type", [
    ('{"a": [1, 2.5, null], "b": "it\'s"}', "JSON"), ("null", "JSON"), (None, "JSON"),
    ([1, 2, None], "INTEGER[]"), ([], "INTEGER[]"), (["x", "y'z", None], "TEXT[]"),
    ([1.5, -2.0], "FLOAT[]"), ([dt.date(2024, 2, 29)], "DATE[]"), ([True, None], "BOOLEAN[]"),
    (None, "TEXT[]"), (['{"a": 1}', "[1]"], "JSON[]"), (dt.time(10, 11, 12, 500), "TIME"),
    ('{"b":1,  "a": [2]}', "JSONT"), (['{"z" : 1}', None], "JSONT[]"),
    (b"\x00\xff'", "BYTEA"), (b"", "BYTEA"), ([b"a", None], "BYTEA[]"),
])
def test_json_array_time_bytea_literals_read_back_as_the_same_constant(value, sql_type):
    text = literal(value, sql_type)
    conn = rustmemodb.connect()
    got = conn.execute(f"SELECT {text}").fetchone()[0]
    if sql_type in ("JSON", "JSONT") and value is not None:
        got = conn.execute(f"SELECT CAST({text} AS TEXT)").fetchone()[0]
    if sql_type in ("JSON[]", "JSONT[]"):     # elements come back parsed, as a JSON column's do
        value = [None if v is None else json.loads(v) for v in value]
    assert got == value, (text, got)


def test_literals_that_are_not_the_engines_own_form_are_not_rendered():
    for value, sql_type in [('{"b":1, "a":2}', "JSON"), ({"a": 1}, "JSON"),
                            ([[1], [2]], "INTEGER[][]"), ("{1,2}", "INTEGER[]")]:
        with pytest.raises(Unrenderable):
            literal(value, sql_type)


def test_time_and_bytea_constants_split():
    c, s = cluster.connect("local", shards=3), rustmemodb.connect()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIME, tag BYTEA)")
            x.executemany("INSERT INTO ev VALUES (?, ?, ?)",
                          [(i, dt.time(i % 24, i % 60), bytes([i % 5, 255])) for i in range(300)])
        for q in ["SELECT count(*) FROM ev WHERE at > TIME '12:30:00' AND tag <> '\\x00ff'",
                  "SELECT tag, count(*) FROM ev WHERE at < TIME '06:00:00.5' GROUP BY tag "
                  "ORDER BY 1"]:
            _run(c, s, q)
    finally:
        c.close()
        s.close()
