"""Windows over a join on the shards (``SelectPlanning._join_rows_placed``): the join
runs on the shards, its rows (the columns read) are repartitioned shard to shard by a
column or an expression in every window's PARTITION BY, and the windows run there,
also when the windows sit in a derived table under an outer query (top-N per group
over a join). Results identical to the single engine on 2, 3 and 4 shards (NULL keys,
ties, empty tables, a shard with no rows), and no table gathered at the coordinator."""
from __future__ import annotations

import re

import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.wire import table_to_ipc
from .same_rows import same_rows as _same

N = 1200


def _setup(shards, a_rows, b_rows):
    c = cluster.connect("local", shards=shards)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT)")
        x.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, w FLOAT, k TEXT)")
        if a_rows:
            x.executemany("INSERT INTO a VALUES (?, ?, ?)", a_rows)
        if b_rows:
            x.executemany("INSERT INTO b VALUES (?, ?, ?, ?)", b_rows)
    return c, s


def _a(n=N // 3):
    return [(i, i % 10 if i % 7 else None, (i * 13 % 29) * 0.5 if i % 11 else None)
            for i in range(n)]


def _b(n=N, of=N // 3):
    return [(i, i % of if i % 13 else None, (i * 7 % 31) * 0.25,
             f"k{i % 4}" if i % 9 else None) for i in range(n)]


# (query, what the windows' rows are placed by)
JOIN_WINDOWS = [
    # a PARTITION BY expression common to every window: the rows go by its value
    ("SELECT a.id, b.id, rank() OVER (PARTITION BY b.a_id % 7 ORDER BY a.v, b.id) FROM a "
     "JOIN b ON a.id = b.a_id ORDER BY 2", '"b"."a_id" % 7'),
    ("SELECT a.id, b.id, rank() OVER (PARTITION BY upper(b.k) ORDER BY a.v DESC, b.id), "
     "count(*) OVER (PARTITION BY upper(b.k), a.g) FROM a JOIN b ON a.id = b.a_id "
     "ORDER BY 2", 'UPPER("b"."k")'),
    ("SELECT b.id, sum(a.v) OVER (PARTITION BY a.g + 1 ORDER BY b.w) FROM a LEFT JOIN b "
     "ON a.id = b.a_id ORDER BY 1 NULLS FIRST, 2", '"a"."g" + 1'),
    # windows in a derived table over a join: the outer query splits over its rows
    ("SELECT x.id, x.s FROM (SELECT a.id, sum(b.w) OVER (PARTITION BY a.g) AS s FROM a "
     "JOIN b ON a.id = b.a_id) x ORDER BY 1, 2 LIMIT 30", "a.g"),
    ("SELECT * FROM (SELECT a.id, b.id AS bid, b.k, rank() OVER (PARTITION BY b.k "
     "ORDER BY b.w DESC, b.id) AS r FROM a JOIN b ON a.id = b.a_id) x WHERE r <= 3 "
     "ORDER BY k, r, bid", "b.k"),
    ("SELECT k, count(*), max(r) FROM (SELECT b.k, row_number() OVER (PARTITION BY a.g "
     "ORDER BY b.id) AS r FROM a LEFT JOIN b ON a.id = b.a_id) x GROUP BY k ORDER BY 1",
     "a.g"),
    ("SELECT * FROM (SELECT a.*, b.w, lag(b.w) OVER (PARTITION BY a.id % 5 ORDER BY b.id) "
     "AS p FROM a JOIN b ON a.id = b.a_id) x WHERE p > 3 ORDER BY id, w, p", '"a"."id" % 5'),
    # ties in the window order (rank / dense_rank: peers), in a derived table
    ("SELECT g, r, count(*) FROM (SELECT a.g, dense_rank() OVER (PARTITION BY a.g "
     "ORDER BY b.w) AS r FROM a JOIN b ON a.id = b.a_id) t GROUP BY g, r ORDER BY 1, 2",
     "a.g"),
]


def _check(c, s, placed=True):
    size = len(table_to_ipc(c.execute("SELECT * FROM b").arrow()))
    for q, key in JOIN_WINDOWS:
        coord0 = c.cluster.coordinator_bytes
        got = c.execute(q).fetchall()
        moved = c.cluster.coordinator_bytes - coord0
        _same(got, s.execute(q).fetchall(), q)
        plan = c.last_plan
        assert plan["strategy"] == "shuffle", q
        assert plan["windows"].startswith(f"repartitioned by {key} after the join"), \
            (q, plan.get("windows"))
        assert plan["exchanges"][-1][0] == "the join's rows", q
        if placed and ("LIMIT" in q or "GROUP BY" in q):   # a small answer: kilobytes
            assert moved < size / 3, (q, moved, size)


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_windows_over_joins_match_the_single_engine(shards):
    c, s = _setup(shards, _a(), _b())
    try:
        _check(c, s)
    finally:
        c.close()


@pytest.mark.parametrize("a_rows,b_rows", [
    ([], []),                                   # empty tables
    (_a(), []),                                 # one side empty
    ([(5, None, None)], [(1, 5, 1.0, None), (2, 5, 1.0, None)]),   # NULL keys, one shard
])
def test_degenerate_inputs(a_rows, b_rows):
    c, s = _setup(3, a_rows, b_rows)
    try:
        _check(c, s, placed=False)
    finally:
        c.close()


def test_explain_shows_the_exchange_of_the_joins_rows():
    c, s = _setup(3, _a(), _b())
    try:
        for q, key in (JOIN_WINDOWS[0], JOIN_WINDOWS[4]):
            text = "\n".join(r[0] for r in c.execute("EXPLAIN " + q).fetchall())
            assert "Exchange: repartition the join's rows by hash(" in text, text
            assert f"repartitioned by {key} after the join" in text, text
        size = len(table_to_ipc(c.execute("SELECT * FROM b").arrow()))
        text = "\n".join(r[0] for r in c.execute("EXPLAIN ANALYZE " +
                                                  JOIN_WINDOWS[4][0]).fetchall())
        assert "bytes shipped between shards" in text, text
        through = int(re.search(r"(\d+) through the coordinator", text).group(1))
        assert 0 < through < size / 4, (through, size)   # top 3 per k, not the join
    finally:
        c.close()


# windows over a join whose PARTITION BYs share no column: the join's rows move in
# stages, one per column, each stage's windows computed as columns on the way
STAGED_JOIN_WINDOWS = [
    ("SELECT a.id, b.id, rank() OVER (PARTITION BY b.k ORDER BY a.v, b.id), sum(w) OVER "
     "(PARTITION BY a.g) FROM a JOIN b ON a.id = b.a_id ORDER BY 2", ["a.g", "b.k"]),
    ("SELECT a.id, b.id, rank() OVER (PARTITION BY a.g ORDER BY b.w, b.id) AS r1, "
     "count(*) OVER (PARTITION BY b.k) AS c FROM a JOIN b ON a.id = b.a_id "
     "ORDER BY r1 DESC, 1, 2 LIMIT 5", ["a.g", "b.k"]),
    ("SELECT a.id, b.id, sum(b.w) OVER (PARTITION BY a.g) AS s, lag(b.id) OVER (PARTITION "
     "BY b.k ORDER BY b.id) AS p, max(a.v) OVER (PARTITION BY b.a_id % 5, b.k) FROM a "
     "LEFT JOIN b ON a.id = b.a_id WHERE b.w > 1 OR b.w IS NULL ORDER BY 1, 2 NULLS FIRST",
     ["b.k", "a.g"]),
    ("SELECT b.id, row_number() OVER (PARTITION BY a.g ORDER BY b.id) AS rn, count(*) "
     "OVER (PARTITION BY b.k) AS c, avg(b.w) OVER (PARTITION BY b.a_id) FROM b JOIN a ON "
     "a.id = b.a_id ORDER BY rn DESC, 1 LIMIT 10", None),
]


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_windows_with_no_common_partition_over_a_join_run_in_stages(shards):
    c, s = _setup(shards, _a(), _b())
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM b").arrow()))
        for q, keys in STAGED_JOIN_WINDOWS:
            coord0 = c.cluster.coordinator_bytes
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == "shuffle", q
            assert plan["windows"].startswith("staged: ") and \
                plan["windows"].endswith(" after the join"), (q, plan["windows"])
            if keys is not None:
                assert plan["windows"] == "staged: " + ", then ".join(
                    f"repartitioned by {k}" for k in keys) + " after the join", q
            if "LIMIT" in q:
                assert c.cluster.coordinator_bytes - coord0 < size / 10, q
        text = "\n".join(r[0] for r in c.execute(
            "EXPLAIN " + STAGED_JOIN_WINDOWS[1][0]).fetchall())
        assert text.count("Exchange: repartition the join's rows by hash(") == 2, text
        for cut in ("DELETE FROM b WHERE id % 2 = 0", "DELETE FROM b"):
            c.execute(cut)
            s.execute(cut)
            for q, _ in STAGED_JOIN_WINDOWS:
                _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    finally:
        c.close()


def test_windows_over_a_join_that_stay_gathered_still_match():
    # two orders with no PARTITION BY; a window partitioned by an expression only
    c, s = _setup(3, _a(), _b())
    try:
        for q in ["SELECT a.id, b.id, rank() OVER (ORDER BY a.v, b.id), rank() OVER "
                  "(ORDER BY b.w, b.id) FROM a JOIN b ON a.id = b.a_id ORDER BY 2",
                  "SELECT a.id, b.id, rank() OVER (PARTITION BY a.g % 3 ORDER BY b.id), "
                  "count(*) OVER (PARTITION BY b.k) FROM a JOIN b ON a.id = b.a_id "
                  "ORDER BY 2"]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["gathered_columns"][0] == "the join", q
    finally:
        c.close()


# windows with no PARTITION BY over a join: the join's rows range-partitioned by the
# first ORDER BY key after the join (rangewindows.py over the join's rows)
RANGE_JOIN_WINDOWS = [
    ("SELECT a.id, b.id, row_number() OVER (ORDER BY b.id) FROM a JOIN b ON a.id = b.a_id "
     "ORDER BY 2", "b.id"),
    ("SELECT a.id, b.id, rank() OVER (ORDER BY a.v DESC), sum(b.w) OVER (ORDER BY a.v "
     "DESC) FROM a JOIN b ON a.id = b.a_id WHERE b.w > 2 ORDER BY 2", "a.v"),
    ("SELECT a.id, b.id, percent_rank() OVER (ORDER BY b.k NULLS FIRST, b.id, a.id), "
     "ntile(5) OVER (ORDER BY b.k NULLS FIRST, b.id, a.id), first_value(a.g) OVER "
     "(ORDER BY b.k NULLS FIRST, b.id, a.id) FROM a LEFT JOIN b ON a.id = b.a_id "
     "ORDER BY 1, 2", "b.k"),
    ("SELECT a.id, b.id, dense_rank() OVER (ORDER BY a.g) AS d, cume_dist() OVER "
     "(ORDER BY a.g) FROM a JOIN b ON a.id = b.a_id ORDER BY d DESC, 1, 2 LIMIT 10", "a.g"),
    ("SELECT b.id, avg(a.v) OVER (ORDER BY b.w, b.id) AS m, last_value(a.id) OVER "
     "(ORDER BY b.w, b.id) FROM b JOIN a ON a.id = b.a_id ORDER BY m DESC NULLS LAST, 1 "
     "LIMIT 7", "b.w"),
    # lag / lead and bounded frames: the ghost rows from the join's rows read again
    ("SELECT a.id, b.id, lead(b.w, 2) OVER (ORDER BY b.id) FROM a JOIN b ON a.id = b.a_id "
     "ORDER BY 2", "b.id"),
    ("SELECT a.id, b.id, sum(b.w) OVER (ORDER BY a.v, b.id ROWS BETWEEN 3 PRECEDING AND "
     "2 FOLLOWING), lag(a.id) OVER (ORDER BY a.v, b.id) FROM a JOIN b ON a.id = b.a_id "
     "WHERE b.w > 1 ORDER BY 2", "a.v"),
    ("SELECT a.id, b.id, lag(b.w, 1) OVER (ORDER BY b.k DESC, b.id, a.id) AS p FROM a "
     "LEFT JOIN b ON a.id = b.a_id ORDER BY p DESC NULLS LAST, 1, 2 LIMIT 6", "b.k"),
    # RANGE / GROUPS offset frames (a halo of ghost rows) and frames to UNBOUNDED
    # FOLLOWING (the totals of the ranges after)
    ("SELECT a.id, b.id, sum(b.w) OVER (ORDER BY b.id RANGE BETWEEN 20 PRECEDING AND "
     "5 FOLLOWING), count(*) OVER (ORDER BY b.id ROWS BETWEEN CURRENT ROW AND UNBOUNDED "
     "FOLLOWING) FROM a JOIN b ON a.id = b.a_id ORDER BY 2", "b.id"),
    ("SELECT a.id, b.id, sum(a.v) OVER (ORDER BY a.g GROUPS BETWEEN 1 PRECEDING AND "
     "1 FOLLOWING) AS s FROM a JOIN b ON a.id = b.a_id ORDER BY s DESC NULLS LAST, 1, 2 "
     "LIMIT 8", "a.g"),
]


def _check_ranged(c, s, small=True):
    size = len(table_to_ipc(c.execute("SELECT * FROM b").arrow()))
    for q, key in RANGE_JOIN_WINDOWS:
        coord0 = c.cluster.coordinator_bytes
        got = c.execute(q).fetchall()
        moved = c.cluster.coordinator_bytes - coord0
        _same(got, s.execute(q).fetchall(), q)
        plan = c.last_plan
        assert plan["strategy"] == "shuffle", q
        assert plan["windows"].startswith(f"range-partitioned by {key} after the join"), \
            (q, plan.get("windows"))
        assert plan["exchanges"][-1][:2] == ("the join's rows", "__range"), q
        if small and "LIMIT" in q:
            assert moved < size / 5, (q, moved, size)


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_range_windows_over_joins_match_the_single_engine(shards):
    c, s = _setup(shards, _a(), _b())
    try:
        _check_ranged(c, s)
        text = "\n".join(r[0] for r in c.execute(
            "EXPLAIN " + RANGE_JOIN_WINDOWS[3][0]).fetchall())
        assert "Exchange: repartition the join's rows by hash(__range)" in text, text
    finally:
        c.close()


@pytest.mark.parametrize("a_rows,b_rows", [
    ([], []),
    (_a(), []),
    ([(5, None, None)], [(1, 5, 1.0, None), (2, 5, 1.0, None)]),
])
def test_range_windows_over_degenerate_joins(a_rows, b_rows):
    c, s = _setup(3, a_rows, b_rows)
    try:
        _check_ranged(c, s, small=False)
    finally:
        c.close()
