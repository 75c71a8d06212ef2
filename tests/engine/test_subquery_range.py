"""Scalar aggregate subqueries correlated by one inequality (exec/subquery_range.py):
answered from sorted prefixes for all outer rows at once. Every answer must equal the
per-key path's (one run of the subquery per outer value), NULLs on either side included."""
import math
import random

import pytest

import rustmemodb
from rustmemodb.exec import subquery, subquery_range

AGGS = ["count(*)", "count(x.c)", "sum(x.c)", "avg(x.c)", "min(x.c)", "max(x.c)",
        "sum(x.f)", "min(x.f)", "max(x.b * 2)"]
CONDS = ["x.b < t.b", "x.b <= t.b", "x.b > t.b", "x.b >= t.b", "t.b < x.b", "t.b >= x.b",
         "x.f < t.b", "x.b + 1 > t.f", "x.b < t.b AND x.c > 20", "x.c <> 3 AND t.b <= x.b"]


@pytest.fixture(scope="module")
def conn():
    rnd = random.Random(4)
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER, c INTEGER, f FLOAT)")
    rows = [(i, rnd.choice([None] + list(range(-5, 60))), rnd.choice([None, *range(0, 100)]),
             rnd.choice([None, rnd.uniform(-50, 50)])) for i in range(600)]
    c.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    return c


def _close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.parametrize("agg", AGGS)
@pytest.mark.parametrize("cond", CONDS)
def test_range_subquery_matches_the_per_key_path(conn, agg, cond, monkeypatch):
    q = f"SELECT a, (SELECT {agg} FROM t AS x WHERE {cond}) FROM t ORDER BY a"
    calls = []
    real = subquery_range.range_subquery
    def spy(*a):
        out = real(*a)
        calls.append(out is not None)
        return out
    monkeypatch.setattr(subquery, "range_subquery", spy)
    fast = conn.execute(q).fetchall()
    assert calls == [True]                          # the vectorised path answered
    monkeypatch.setattr(subquery, "range_subquery", lambda *a: None)
    slow = conn.execute(q).fetchall()
    assert len(fast) == len(slow) == 600
    for (a1, v1), (a2, v2) in zip(fast, slow):
        assert a1 == a2 and (v1 == v2 or _close(v1, v2)), (a1, v1, v2)


def test_range_subquery_in_where_and_unsupported_shapes_fall_back(conn):
    got = conn.execute("SELECT count(*) FROM t WHERE c > (SELECT avg(c) FROM t AS x "
                       "WHERE x.b < t.b)").fetchone()[0]
    rows = conn.execute("SELECT b, c FROM t").fetchall()
    want = 0
    for b, c in rows:
        vals = [c2 for b2, c2 in rows if b is not None and b2 is not None and b2 < b
                and c2 is not None]
        if c is not None and vals and c > sum(vals) / len(vals):
            want += 1
    assert got == want
    # two correlated conjuncts, DISTINCT, grouped: the per-key path answers (same results)
    for q in ["SELECT a, (SELECT count(*) FROM t AS x WHERE x.b < t.b AND x.c < t.c) FROM t",
              "SELECT a, (SELECT count(DISTINCT x.c) FROM t AS x WHERE x.b < t.b) FROM t",
              "SELECT a, (SELECT sum(x.c) + 1 FROM t AS x WHERE x.b < t.b) FROM t"]:
        assert len(conn.execute(q).fetchall()) == 600
