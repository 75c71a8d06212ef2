"""Windows with no PARTITION BY on the shards (``cluster/rangewindows.py``): the rows
range-partitioned on the first ORDER BY key and each range shifted by what the ranges
before it hold. Results identical to the single engine (ties, NULLs first or last,
DESC, a WHERE, several windows of one order), with no table-sized batch through the
coordinator."""
from __future__ import annotations

import datetime
import math
import re

import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster import rangewindows
from rustmemodb.cluster.wire import table_to_ipc
from .same_rows import same_rows as _same

N = 3000


def _rows(n):
    base = datetime.datetime(2026, 1, 1)
    return [(i, (i * 37) % 101 if i % 17 else None, (i * 7 % 101) * 0.5 if i % 5 else None,
             f"n{i % 7}" if i % 11 else None,
             base + datetime.timedelta(minutes=(i * 13) % 997) if i % 23 else None)
            for i in range(n)]


def _setup(shards=3, backend="local", address=None, n=N):
    c = cluster.connect(backend, shards=shards, address=address)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, name TEXT, "
                  "ts TIMESTAMP)")
        x.executemany("INSERT INTO a VALUES (?, ?, ?, ?, ?)", _rows(n))
    return c, s


RANGE_WINDOWS = [
    "SELECT id, row_number() OVER (ORDER BY g, id) FROM a ORDER BY id",
    "SELECT id, rank() OVER (ORDER BY g) AS r FROM a ORDER BY id",
    "SELECT id, rank() OVER (ORDER BY g DESC) AS r FROM a ORDER BY id",
    "SELECT id, dense_rank() OVER (ORDER BY g DESC) AS r FROM a ORDER BY id",
    "SELECT id, dense_rank() OVER (ORDER BY g NULLS FIRST) AS r FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g, id) AS s, count(v) OVER (ORDER BY g, id) "
    "FROM a ORDER BY id",
    # RANGE frame (the default): peers share the running total
    "SELECT id, sum(v) OVER (ORDER BY g) AS s, count(*) OVER (ORDER BY g) FROM a "
    "WHERE id % 3 = 0 ORDER BY id",
    "SELECT id, min(v) OVER (ORDER BY g DESC NULLS LAST, id) AS mn, "
    "max(v) OVER (ORDER BY g DESC NULLS LAST, id) AS mx FROM a ORDER BY id",
    "SELECT id, count(*) OVER (ORDER BY name NULLS FIRST) AS c, "
    "rank() OVER (ORDER BY name NULLS FIRST) AS r FROM a ORDER BY id",
    "SELECT id, sum(g) OVER (ORDER BY v, id ROWS BETWEEN UNBOUNDED PRECEDING AND "
    "CURRENT ROW) AS s FROM a ORDER BY id",
    "SELECT id, row_number() OVER (ORDER BY ts DESC, id) AS rn, "
    "sum(g) OVER (ORDER BY ts DESC, id) AS s FROM a ORDER BY id",
    # a running avg: the earlier ranges' sums and counts
    "SELECT id, avg(v) OVER (ORDER BY g, id) AS m, avg(g) OVER (ORDER BY g, id) AS n "
    "FROM a ORDER BY id",
    "SELECT id, avg(v) OVER (ORDER BY g DESC) AS m FROM a WHERE id % 4 = 0 ORDER BY id",
    # over a CTE (written as the table it filters)
    "WITH t AS (SELECT id, v FROM a WHERE g < 50) SELECT id, sum(v) OVER (ORDER BY id) "
    "AS s, avg(v) OVER (ORDER BY id) AS m FROM t ORDER BY s DESC NULLS LAST, id LIMIT 5",
    # a window inside an expression, the outer ORDER BY on it
    "SELECT id, v - sum(v) OVER (ORDER BY id) / row_number() OVER (ORDER BY id) AS dev "
    "FROM a ORDER BY dev DESC NULLS LAST, id LIMIT 10",
    "SELECT id, g, rank() OVER (ORDER BY v DESC) AS r FROM a WHERE g > 50 "
    "ORDER BY r DESC, id LIMIT 20",
    # lag / lead: the ranges' boundary rows come as ghosts (k rows, defaults, DESC)
    "SELECT id, lag(v) OVER (ORDER BY id) AS p FROM a ORDER BY id",
    "SELECT id, lead(v, 3, -1.0) OVER (ORDER BY g, id) AS l FROM a ORDER BY id",
    "SELECT id, lag(id, 2) OVER (ORDER BY g DESC, id) AS p, lead(id) OVER "
    "(ORDER BY g DESC, id) AS q, row_number() OVER (ORDER BY g DESC, id) AS rn FROM a "
    "WHERE id % 3 = 0 ORDER BY id",
    "SELECT id, v - lag(v) OVER (ORDER BY v NULLS FIRST, id) AS d FROM a "
    "ORDER BY d DESC NULLS LAST, id LIMIT 7",
    "SELECT id, lag(name, 0) OVER (ORDER BY name, id) AS p, "
    "lead(name, 25) OVER (ORDER BY name, id) AS q FROM a ORDER BY id",
    # percent_rank / cume_dist / ntile: the range's rows before it and the total count
    "SELECT id, percent_rank() OVER (ORDER BY g) AS p FROM a ORDER BY id",
    "SELECT id, cume_dist() OVER (ORDER BY g DESC) AS p FROM a ORDER BY id",
    "SELECT id, percent_rank() OVER (ORDER BY name NULLS FIRST, id) AS p, cume_dist() "
    "OVER (ORDER BY name NULLS FIRST, id) FROM a WHERE id % 3 = 0 ORDER BY id",
    "SELECT id, ntile(4) OVER (ORDER BY id) FROM a ORDER BY id",
    "SELECT id, ntile(7) OVER (ORDER BY g, id) AS t, row_number() OVER (ORDER BY g, id) "
    "FROM a WHERE id % 5 = 1 ORDER BY id",
    "SELECT id, ntile(5000) OVER (ORDER BY v, id) FROM a ORDER BY id",   # more than rows
    "SELECT id, cume_dist() OVER (ORDER BY ts, id) AS c FROM a ORDER BY c DESC, id LIMIT 6",
    # first_value / nth_value: the first (n-th) row's value, found first as a top-k;
    # last_value: its frame ends in the row's range (its peers are there too)
    "SELECT id, first_value(v) OVER (ORDER BY g, id) AS f, last_value(v) OVER "
    "(ORDER BY g, id) AS l FROM a ORDER BY id",
    "SELECT id, first_value(name) OVER (ORDER BY ts DESC, id) AS f, last_value(name) "
    "OVER (ORDER BY ts DESC, id) AS l FROM a ORDER BY id",
    "SELECT id, last_value(g) OVER (ORDER BY g) AS l, last_value(id) OVER (ORDER BY g "
    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM a ORDER BY id",
    "SELECT id, nth_value(id, 5) OVER (ORDER BY g, id) AS x, nth_value(v, 700) OVER "
    "(ORDER BY g, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM a ORDER BY id",
    "SELECT id, first_value(ts) OVER (ORDER BY name, id), percent_rank() OVER "
    "(ORDER BY name, id) FROM a WHERE g > 50 ORDER BY id",
    "SELECT id, nth_value(name, 9000) OVER (ORDER BY id) AS x FROM a ORDER BY id",
    # bounded ROWS frames: the neighbour ranges' boundary rows come as ghosts, as for
    # lag / lead (as many as the frame reaches back and forward)
    "SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) "
    "FROM a ORDER BY id",
    "SELECT id, avg(v) OVER (ORDER BY g, id ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING) "
    "AS m FROM a ORDER BY id",
    "SELECT id, min(v) OVER (ORDER BY g DESC, id ROWS 3 PRECEDING), max(name) OVER "
    "(ORDER BY g DESC, id ROWS BETWEEN CURRENT ROW AND 4 FOLLOWING) FROM a ORDER BY id",
    "SELECT id, count(v) OVER (ORDER BY ts NULLS FIRST, id ROWS BETWEEN 3 PRECEDING AND "
    "1 PRECEDING), first_value(id) OVER (ORDER BY ts NULLS FIRST, id ROWS BETWEEN "
    "2 FOLLOWING AND 7 FOLLOWING) FROM a WHERE id % 3 = 0 ORDER BY id",
    "SELECT id, last_value(v) OVER (ORDER BY v, id ROWS BETWEEN 1 PRECEDING AND "
    "1 FOLLOWING), nth_value(id, 2) OVER (ORDER BY v, id ROWS BETWEEN 2 PRECEDING AND "
    "2 FOLLOWING), row_number() OVER (ORDER BY v, id), sum(g) OVER (ORDER BY v, id) "
    "FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g, id ROWS BETWEEN 400 PRECEDING AND 300 FOLLOWING) "
    "AS s FROM a ORDER BY s DESC NULLS LAST, id LIMIT 5",
    "SELECT id, sum(v) OVER (ORDER BY g ROWS BETWEEN 0 PRECEDING AND 0 FOLLOWING) AS s "
    "FROM a ORDER BY id",
    # dense_rank on several keys: each range's distinct tuples (NULLs one value) counted
    # on the shard holding the range
    "SELECT id, dense_rank() OVER (ORDER BY g, v) AS d FROM a ORDER BY id",
    "SELECT id, dense_rank() OVER (ORDER BY name DESC, g NULLS FIRST) AS d, rank() OVER "
    "(ORDER BY name DESC, g NULLS FIRST) AS r FROM a WHERE id % 3 = 0 "
    "ORDER BY d DESC, id LIMIT 10",
    "SELECT id, dense_rank() OVER (ORDER BY ts, g / 10, name) AS d, sum(v) OVER "
    "(ORDER BY ts, g / 10, name) FROM a ORDER BY id",
    "SELECT id, dense_rank() OVER (ORDER BY v DESC NULLS LAST, g % 3) AS d, "
    "percent_rank() OVER (ORDER BY v DESC NULLS LAST, g % 3) FROM a "
    "ORDER BY d DESC, id LIMIT 10",
    # frames to UNBOUNDED FOLLOWING (or from CURRENT ROW): the totals of the ranges
    # after (before) each range, and the last row's value found first as a top-k
    "SELECT id, sum(v) OVER (ORDER BY g, id ROWS BETWEEN CURRENT ROW AND UNBOUNDED "
    "FOLLOWING) AS s FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) "
    "AS s, count(*) OVER (ORDER BY g RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED "
    "FOLLOWING) AS c FROM a ORDER BY s DESC NULLS LAST, id LIMIT 10",
    "SELECT id, avg(v) OVER (ORDER BY g DESC, id ROWS BETWEEN CURRENT ROW AND UNBOUNDED "
    "FOLLOWING) AS m, min(v) OVER (ORDER BY g DESC, id ROWS BETWEEN CURRENT ROW AND "
    "UNBOUNDED FOLLOWING), max(name) OVER (ORDER BY g DESC, id ROWS BETWEEN UNBOUNDED "
    "PRECEDING AND UNBOUNDED FOLLOWING) FROM a WHERE id % 3 = 0 ORDER BY id",
    "SELECT id, last_value(v) OVER (ORDER BY g, id ROWS BETWEEN UNBOUNDED PRECEDING AND "
    "UNBOUNDED FOLLOWING) AS l, first_value(v) OVER (ORDER BY g, id ROWS BETWEEN CURRENT "
    "ROW AND UNBOUNDED FOLLOWING) AS f, nth_value(id, 4) OVER (ORDER BY g, id ROWS BETWEEN "
    "UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM a ORDER BY id",
    "SELECT id, max(v) OVER (ORDER BY ts NULLS FIRST, id RANGE BETWEEN CURRENT ROW AND "
    "UNBOUNDED FOLLOWING) AS mx, count(v) OVER (ORDER BY ts NULLS FIRST, id ROWS "
    "BETWEEN CURRENT ROW AND CURRENT ROW) FROM a ORDER BY mx, id LIMIT 10",
    # RANGE / GROUPS offset frames: the rows of the ranges around within the frame's
    # reach (a key distance; a number of peer groups) come as ghost rows, a halo
    "SELECT id, sum(v) OVER (ORDER BY id RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) "
    "FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g RANGE BETWEEN 3 PRECEDING AND 2 FOLLOWING) AS s, "
    "count(*) OVER (ORDER BY g RANGE BETWEEN 1 FOLLOWING AND 5 FOLLOWING) AS c FROM a "
    "ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g DESC RANGE BETWEEN 3 PRECEDING AND 2 FOLLOWING) "
    "AS s FROM a WHERE id % 4 <> 1 ORDER BY s DESC NULLS LAST, id LIMIT 10",
    "SELECT id, max(id) OVER (ORDER BY g DESC NULLS LAST RANGE 10 PRECEDING) AS c, "
    "min(v) OVER (ORDER BY g DESC NULLS LAST RANGE BETWEEN 4 PRECEDING AND 1 PRECEDING) "
    "FROM a ORDER BY id",
    "SELECT id, count(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '30 minutes' PRECEDING "
    "AND INTERVAL '1 hour' FOLLOWING) AS c FROM a ORDER BY id",
    "SELECT id, sum(g) OVER (ORDER BY v RANGE BETWEEN 1.5 PRECEDING AND 0.5 FOLLOWING) AS "
    "c, avg(g) OVER (ORDER BY v RANGE BETWEEN 40 PRECEDING AND 40 FOLLOWING) FROM a "
    "ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g GROUPS BETWEEN 2 PRECEDING AND 1 FOLLOWING) AS s, "
    "count(*) OVER (ORDER BY g GROUPS BETWEEN CURRENT ROW AND 3 FOLLOWING) AS c FROM a "
    "ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g DESC, name GROUPS 4 PRECEDING) AS s FROM a "
    "ORDER BY id",
    # ROWS from n back to UNBOUNDED FOLLOWING (from UNBOUNDED PRECEDING to n ahead): the
    # n rows over the ghosts, the rest as a frame to UNBOUNDED FOLLOWING (PRECEDING)
    "SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND UNBOUNDED "
    "FOLLOWING) FROM a ORDER BY id",
    "SELECT id, count(v) OVER (ORDER BY g, id ROWS BETWEEN UNBOUNDED PRECEDING AND "
    "3 FOLLOWING) AS c, min(name) OVER (ORDER BY g, id ROWS BETWEEN 5 PRECEDING AND "
    "UNBOUNDED FOLLOWING) AS m FROM a ORDER BY id",
    "SELECT id, avg(v) OVER (ORDER BY g DESC, id ROWS BETWEEN 4 PRECEDING AND UNBOUNDED "
    "FOLLOWING) AS m, max(v) OVER (ORDER BY g DESC, id ROWS BETWEEN UNBOUNDED PRECEDING "
    "AND 2 FOLLOWING), lag(id, 2) OVER (ORDER BY g DESC, id) FROM a WHERE id % 3 = 0 "
    "ORDER BY m DESC NULLS LAST, id LIMIT 10",
    "SELECT id, sum(g) OVER (ORDER BY ts NULLS FIRST, id ROWS BETWEEN 600 PRECEDING AND "
    "UNBOUNDED FOLLOWING) AS s FROM a ORDER BY id",
    # a row both a lag's and a frame's ghost goes to a range once
    "SELECT id, sum(v) OVER (ORDER BY g DESC, id GROUPS BETWEEN 4 PRECEDING AND 2 "
    "FOLLOWING) AS s, lag(id, 3) OVER (ORDER BY g DESC, id) AS p FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY id RANGE BETWEEN 5 PRECEDING AND 2 FOLLOWING) AS s, "
    "lead(v, 4) OVER (ORDER BY id) AS p, sum(v) OVER (ORDER BY id) AS r FROM a "
    "WHERE g > 10 ORDER BY s DESC NULLS LAST, id LIMIT 10",
    # RANGE / GROUPS from an offset back to UNBOUNDED FOLLOWING (from UNBOUNDED
    # PRECEDING to an offset ahead): the offset part over the halo, EXCLUDE GROUP, the
    # rest (the peers too) as a frame to UNBOUNDED FOLLOWING (from UNBOUNDED PRECEDING)
    "SELECT id, sum(v) OVER (ORDER BY id RANGE BETWEEN UNBOUNDED PRECEDING AND "
    "2 FOLLOWING) FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g RANGE BETWEEN UNBOUNDED PRECEDING AND 3 FOLLOWING) "
    "AS s, min(v) OVER (ORDER BY g RANGE BETWEEN 2 PRECEDING AND UNBOUNDED FOLLOWING) AS m, "
    "avg(v) OVER (ORDER BY g RANGE BETWEEN 2 PRECEDING AND UNBOUNDED FOLLOWING) FROM a "
    "ORDER BY s DESC NULLS LAST, id LIMIT 10",
    "SELECT id, count(*) OVER (ORDER BY g DESC GROUPS BETWEEN UNBOUNDED PRECEDING AND "
    "2 FOLLOWING) AS c, max(name) OVER (ORDER BY g DESC GROUPS BETWEEN 1 PRECEDING AND "
    "UNBOUNDED FOLLOWING) FROM a WHERE id % 3 = 0 ORDER BY id",
    "SELECT id, count(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '30 minutes' PRECEDING "
    "AND UNBOUNDED FOLLOWING) AS c FROM a ORDER BY c DESC, id LIMIT 10",
    # EXCLUDE: what it leaves out (the row, its peers) is in the row's own range
    "SELECT id, sum(v) OVER (ORDER BY g RANGE BETWEEN UNBOUNDED PRECEDING AND 3 FOLLOWING "
    "EXCLUDE CURRENT ROW) AS s, sum(v) OVER (ORDER BY g ROWS BETWEEN UNBOUNDED PRECEDING "
    "AND CURRENT ROW EXCLUDE TIES) FROM a ORDER BY s DESC NULLS LAST, id LIMIT 10",
    "SELECT id, sum(v) OVER (ORDER BY g, id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING "
    "EXCLUDE CURRENT ROW) AS s, count(*) OVER (ORDER BY g, id ROWS BETWEEN 3 PRECEDING AND "
    "UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (ORDER BY g RANGE BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE "
    "GROUP) AS s, first_value(id) OVER (ORDER BY g, id ROWS BETWEEN 1 PRECEDING AND "
    "1 FOLLOWING EXCLUDE CURRENT ROW) AS f, sum(g) OVER (ORDER BY g GROUPS BETWEEN "
    "1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) FROM a ORDER BY id",
    # nth_value from CURRENT ROW: n - 1 ghost rows ahead
    "SELECT id, nth_value(id, 3) OVER (ORDER BY g, id ROWS BETWEEN CURRENT ROW AND "
    "UNBOUNDED FOLLOWING) AS x, nth_value(v, 2) OVER (ORDER BY g, id RANGE BETWEEN "
    "CURRENT ROW AND UNBOUNDED FOLLOWING) AS y FROM a ORDER BY id",
    "SELECT id, nth_value(name, 40) OVER (ORDER BY id DESC ROWS BETWEEN CURRENT ROW AND "
    "UNBOUNDED FOLLOWING) AS x FROM a ORDER BY x NULLS FIRST, id LIMIT 10",
]


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_range_partitioned_windows_match_the_single_engine(shards):
    c, s = _setup(shards)
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        for q in RANGE_WINDOWS:
            coord0 = c.cluster.coordinator_bytes
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == "shuffle", q
            assert plan["windows"].startswith("range-partitioned"), q
            assert plan["shuffled_bytes"] > 0, q
            if "LIMIT" in q:   # (otherwise the answer itself is table-sized)
                assert c.cluster.coordinator_bytes - coord0 < size / 10, q
    finally:
        c.close()


# windows with no PARTITION BY in a derived table: the outer query splits over each
# shard's derived rows (it gathered the whole table)
DERIVED_RANGE_WINDOWS = [
    "SELECT * FROM (SELECT id, row_number() OVER (ORDER BY g, id) AS rn FROM a) x "
    "WHERE rn BETWEEN 100 AND 110 ORDER BY rn",
    "SELECT t, count(*), min(id) FROM (SELECT id, ntile(4) OVER (ORDER BY v, id) AS t "
    "FROM a) x GROUP BY t ORDER BY t",
    "SELECT count(*), sum(d) FROM (SELECT v - lag(v) OVER (ORDER BY id) AS d FROM a) x "
    "WHERE d > 0",
    "SELECT max(s), count(*) FROM (SELECT id, sum(v) OVER (ORDER BY ts NULLS FIRST, id) "
    "AS s, rank() OVER (ORDER BY ts NULLS FIRST, id) FROM a WHERE g > 10) x",
    "SELECT id, m FROM (SELECT id, avg(v) OVER (ORDER BY name, id ROWS BETWEEN 3 PRECEDING "
    "AND 3 FOLLOWING) AS m FROM a) AS q WHERE m > 30 ORDER BY m DESC, id LIMIT 8",
    "SELECT p FROM (SELECT percent_rank() OVER (ORDER BY g DESC) AS p, id FROM a) y "
    "WHERE id % 500 = 0 ORDER BY id",
]


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_range_windows_in_a_derived_table(shards):
    c, s = _setup(shards)
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        for q in DERIVED_RANGE_WINDOWS:
            coord0 = c.cluster.coordinator_bytes
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == "shuffle", q
            assert plan["windows"].startswith("range-partitioned") and \
                plan["windows"].endswith("(in a derived table)"), q
            assert c.cluster.coordinator_bytes - coord0 < size / 10, q
        c.execute("DELETE FROM a")
        s.execute("DELETE FROM a")
        for q in DERIVED_RANGE_WINDOWS:   # no rows
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    finally:
        c.close()


@pytest.mark.parametrize("rows", [
    [],                                                   # no rows
    [(i, None, 1.0, None, None) for i in range(50)],      # every key NULL
    [(i, 7, float(i), "x", None) for i in range(50)],     # one key value: one range
    [(i, i % 2, None, "x", None) for i in range(50)],     # two values, sums of NULLs
    [(3, 1, 2.0, "x", None)],                             # one row: two shards empty
])
def test_degenerate_keys(rows):
    c = cluster.connect("local", shards=3)
    s = rustmemodb.connect()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, "
                      "name TEXT, ts TIMESTAMP)")
            if rows:
                x.executemany("INSERT INTO a VALUES (?, ?, ?, ?, ?)", rows)
        for q in ["SELECT id, row_number() OVER (ORDER BY g, id), rank() OVER (ORDER BY g, id),"
                  " sum(v) OVER (ORDER BY g, id) FROM a ORDER BY id",
                  "SELECT id, dense_rank() OVER (ORDER BY g DESC) FROM a ORDER BY id",
                  "SELECT id, dense_rank() OVER (ORDER BY g, v) FROM a ORDER BY id",
                  "SELECT id, percent_rank() OVER (ORDER BY g DESC), cume_dist() OVER "
                  "(ORDER BY g DESC) FROM a ORDER BY id",
                  "SELECT id, ntile(3) OVER (ORDER BY g, id), last_value(v) OVER "
                  "(ORDER BY g, id) FROM a ORDER BY id",
                  "SELECT id, first_value(v) OVER (ORDER BY g NULLS FIRST, id), "
                  "nth_value(v, 2) OVER (ORDER BY g NULLS FIRST, id) FROM a ORDER BY id",
                  "SELECT id, sum(v) OVER (ORDER BY g, id ROWS BETWEEN 3 PRECEDING AND "
                  "2 FOLLOWING), lag(id) OVER (ORDER BY g, id) FROM a ORDER BY id",
                  "SELECT id, sum(v) OVER (ORDER BY g RANGE BETWEEN 2 PRECEDING AND "
                  "1 FOLLOWING), count(*) OVER (ORDER BY g GROUPS 1 PRECEDING) FROM a "
                  "ORDER BY id",
                  "SELECT id, sum(v) OVER (ORDER BY g, id ROWS BETWEEN CURRENT ROW AND "
                  "UNBOUNDED FOLLOWING), last_value(id) OVER (ORDER BY g, id ROWS BETWEEN "
                  "CURRENT ROW AND UNBOUNDED FOLLOWING) FROM a ORDER BY id"]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["windows"].startswith("range-partitioned"), q
    finally:
        c.close()


def test_lag_and_lead_reach_rows_of_small_ranges_further_back():
    # Ranges with fewer rows than the shift: the rows k back lie several ranges away.
    rows = [(i, [0, 0, 0, 0, 0, 0, 1, 2, 3, None][i % 10] if i < 40 else 5, float(i),
             None, None) for i in range(45)]
    c = cluster.connect("local", shards=4)
    s = rustmemodb.connect()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, "
                      "name TEXT, ts TIMESTAMP)")
            x.executemany("INSERT INTO a VALUES (?, ?, ?, ?, ?)", rows)
        for q in ["SELECT id, lag(id, 7) OVER (ORDER BY g, id), lead(id, 9) OVER "
                  "(ORDER BY g, id) FROM a ORDER BY id",
                  "SELECT id, lag(id, 7) OVER (ORDER BY g DESC, id DESC), lead(id, 30) "
                  "OVER (ORDER BY g DESC, id DESC) FROM a ORDER BY id"]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["windows"].startswith("range-partitioned"), q
    finally:
        c.close()


def test_what_stays_gathered_still_matches():
    # A frame from an offset ahead to UNBOUNDED FOLLOWING (and its mirror), ntile by a
    # column: the columns are gathered (and a prefix of the order, when a LIMIT needs
    # only that, is taken per shard).
    c, s = _setup()
    try:
        for q in ["SELECT id, sum(v) OVER (ORDER BY id RANGE BETWEEN 2 FOLLOWING "
                  "AND UNBOUNDED FOLLOWING) FROM a ORDER BY id",
                  "SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 2 FOLLOWING AND "
                  "UNBOUNDED FOLLOWING) FROM a ORDER BY id",
                  "SELECT id, ntile(g + 1) OVER (ORDER BY id) FROM a WHERE g = 3 ORDER BY id",
                  "SELECT id, row_number() OVER (ORDER BY id) FROM a ORDER BY id LIMIT 5"]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert not (c.last_plan.get("windows") or "").startswith("range"), q
        # ntile / nth_value arguments PostgreSQL refuses: the same errors, from the engine
        for q, state in [("SELECT ntile(0) OVER (ORDER BY id) FROM a", "22014"),
                         ("SELECT nth_value(v, 0) OVER (ORDER BY id) FROM a", "22016")]:
            for x in (c, s):
                with pytest.raises(rustmemodb.Error) as err:
                    x.execute(q).fetchall()
                assert err.value.sqlstate == state, q
    finally:
        c.close()


def test_bounds_ids_and_offsets():
    assert rangewindows.bounds_from([], 3) == []
    assert rangewindows.bounds_from([5, 5, 5], 3) == []
    assert rangewindows.bounds_from(list(range(90)), 3) == [30, 60]
    ids = rangewindows.range_ids(3, 5)
    assert len(set(ids)) == 5
    from rustmemodb.cluster.partition import shard_of_key
    assert [shard_of_key((i,), 3) for i in ids] == [0, 1, 2, 0, 1]
    # ranges r1 (3 rows, keys 2), r2 (2 rows, 1 key), NULL range (4 rows): in order
    stats = {1: (1, 3, 2, 10.0), 2: (2, 2, 1, None), 9: (9, 4, 0, 1.0)}
    got = rangewindows.offsets([9, 1, 2], stats, [(3, "sum")], null_range=9)
    assert got == {9: {"n": 0, "d": 0, 3: None}, 1: {"n": 4, "d": 1, 3: 1.0},
                   2: {"n": 7, "d": 3, 3: 11.0}}


EXPRESSION_WINDOWS = [
    "SELECT id, rank() OVER (PARTITION BY g % 10 ORDER BY v, id) AS r FROM a ORDER BY id",
    "SELECT id, sum(v) OVER (PARTITION BY upper(name)) AS s FROM a ORDER BY id",
    "SELECT id, row_number() OVER (PARTITION BY g / 10, name ORDER BY id) AS rn, "
    "count(*) OVER (PARTITION BY g / 10) AS n FROM a WHERE v > 3 "
    "ORDER BY rn DESC, id LIMIT 10",
    "SELECT id, lag(v) OVER (PARTITION BY id % 7 ORDER BY id) AS p FROM a ORDER BY id",
    "SELECT id, dense_rank() OVER (PARTITION BY date_trunc('hour', ts) ORDER BY g) AS d "
    "FROM a ORDER BY id",
]


def test_windows_partitioned_by_an_expression_move_by_its_value():
    c, s = _setup()
    try:
        for q in EXPRESSION_WINDOWS:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == "shuffle", q
            assert plan["windows"].startswith("repartitioned by") and \
                "__wkey" in plan["exchanges"][0][1], q
    finally:
        c.close()


def test_nan_keys_sort_above_every_number():
    # NaN in the key: never a bound (it sorts above every number, in the last range);
    # a running min / max over NaN combines as SQL compares (a NaN total no literal
    # spells keeps the columns gathered).
    rows = [(i, float("nan") if i % 9 == 0 else None if i % 13 == 0 else float(i % 50))
            for i in range(600)]
    c = cluster.connect("local", shards=3)
    s = rustmemodb.connect()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, v FLOAT)")
            x.executemany("INSERT INTO a VALUES (?, ?)", rows)
        for q, ranged in [
                ("SELECT id, dense_rank() OVER (ORDER BY v DESC) FROM a ORDER BY id", True),
                ("SELECT id, row_number() OVER (ORDER BY v, id), lag(v, 3) OVER "
                 "(ORDER BY v, id), min(v) OVER (ORDER BY v, id) FROM a ORDER BY id", True),
                ("SELECT id, max(v) OVER (ORDER BY v), count(v) OVER (ORDER BY v) FROM a "
                 "ORDER BY id", False)]:
            got, want = c.execute(q).fetchall(), s.execute(q).fetchall()
            assert len(got) == len(want), q
            for r1, r2 in zip(got, want):
                assert all(u == w or isinstance(u, float) and isinstance(w, float) and
                           math.isnan(u) and math.isnan(w) for u, w in zip(r1, r2)), (q, r1, r2)
            assert (c.last_plan.get("windows") or "").startswith("range") == ranged, q
            assert all(b == b for b in c.last_plan.get("range_bounds") or []), q
    finally:
        c.close()


def test_explain_shows_the_range_exchange_and_the_value_read_first():
    # percent_rank / cume_dist / ntile / first_value / nth_value no longer gather: the
    # rows move shard to shard by range, only the answer and one value come back.
    c, s = _setup(3)
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        q = ("SELECT id, nth_value(v, 3) OVER (ORDER BY g, id) AS x, cume_dist() OVER "
             "(ORDER BY g, id) AS c, ntile(10) OVER (ORDER BY g, id) AS t FROM a "
             "ORDER BY c DESC LIMIT 4")
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        text = "\n".join(r[0] for r in c.execute("EXPLAIN ANALYZE " + q).fetchall())
        assert "Exchange: repartition a by hash(__range)" in text, text
        assert "Subquery run first as its own query (its result written in as constants): " \
            "SELECT v FROM a ORDER BY g, id LIMIT 1 OFFSET 2" in text, text
        through = int(re.search(r"(\d+) through the coordinator", text).group(1))
        assert 0 < through < size / 10, (through, size)
    finally:
        c.close()


# several ORDER BYs: the windows of every order but the last run first (over ranges, or
# in stages again), their values columns of each shard's rows, which move again by
# ranges of the last order's key
STAGED_WINDOWS = [
    "SELECT id, rank() OVER (ORDER BY g) AS r1, rank() OVER (ORDER BY v) AS r2 FROM a "
    "ORDER BY id",
    "SELECT id, row_number() OVER (ORDER BY g, id), sum(v) OVER (ORDER BY ts DESC, id), "
    "lag(id) OVER (ORDER BY g, id) FROM a WHERE id % 3 = 0 ORDER BY id",
    "SELECT id, percent_rank() OVER (ORDER BY v NULLS FIRST, id) AS p, ntile(4) OVER "
    "(ORDER BY name, id) AS t, dense_rank() OVER (ORDER BY g DESC) AS d FROM a "
    "ORDER BY p DESC, id LIMIT 10",
    "SELECT a.id, v - avg(v) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) "
    "AS dv, rank() OVER (ORDER BY a.g, a.id) FROM a ORDER BY dv DESC NULLS LAST, 1 LIMIT 5",
    "SELECT id, first_value(name) OVER (ORDER BY ts, id), cume_dist() OVER "
    "(ORDER BY v, id) AS c FROM a ORDER BY c, id LIMIT 8",
]


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_windows_of_several_orders_run_in_stages(shards):
    c, s = _setup(shards)
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        for q in STAGED_WINDOWS:
            coord0 = c.cluster.coordinator_bytes
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == "shuffle", q
            assert "stages, one per ORDER BY" in plan["windows"], (q, plan["windows"])
            if "LIMIT" in q:
                assert c.cluster.coordinator_bytes - coord0 < size / 4, q
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + STAGED_WINDOWS[0]).fetchall())
        assert "Exchange: repartition the rows with the first stages' windows by " \
            "hash(__range)" in text, text
        assert "Exchange: repartition a by hash(__range)" in text, text
        c.execute("DELETE FROM a WHERE id % 2 = 0 OR g IS NULL")
        s.execute("DELETE FROM a WHERE id % 2 = 0 OR g IS NULL")
        for q in STAGED_WINDOWS[:4]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        c.execute("DELETE FROM a")
        s.execute("DELETE FROM a")
        for q in STAGED_WINDOWS[:4]:   # no rows
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    finally:
        c.close()


# windows with no PARTITION BY over a derived table the shards make, ordered on its
# columns, a window's value among them: the derived rows move by ranges of that value
# (split at the quantiles of a random sample of the rows: no table column holds it)
OVER_DERIVED_WINDOWS = [
    "SELECT id, s, rank() OVER (ORDER BY s) FROM (SELECT id, sum(v) OVER (PARTITION BY g) "
    "AS s FROM a) x ORDER BY 3 DESC, id LIMIT 5",
    "SELECT id, rank() OVER (ORDER BY s DESC) AS r FROM (SELECT id, sum(v) OVER "
    "(PARTITION BY g) AS s FROM a) x ORDER BY r, id LIMIT 5",
    "SELECT id, rank() OVER (ORDER BY s DESC, id) AS r FROM (SELECT id, row_number() OVER "
    "(ORDER BY g, id) AS s FROM a) x ORDER BY r, id LIMIT 5",
    "SELECT id, s, sum(s) OVER (ORDER BY s, id) AS t, lag(id) OVER (ORDER BY s, id) AS p "
    "FROM (SELECT id, count(*) OVER (PARTITION BY name) AS s FROM a WHERE g > 5) x "
    "WHERE s > 100 ORDER BY id",
    "SELECT id, dense_rank() OVER (ORDER BY m NULLS FIRST) AS d, percent_rank() OVER "
    "(ORDER BY m NULLS FIRST) FROM (SELECT id, avg(v) OVER (PARTITION BY g % 10) AS m "
    "FROM a) x ORDER BY d DESC, id LIMIT 10",
    "SELECT x.id, sum(x.w) OVER (ORDER BY x.w RANGE BETWEEN 2 PRECEDING AND 1 FOLLOWING) "
    "AS t FROM (SELECT id, v * 2 AS w FROM a WHERE g > 3) x ORDER BY t DESC NULLS LAST, "
    "x.id LIMIT 8",
]


@pytest.mark.parametrize("shards", [2, 3, 4])
def test_windows_over_a_derived_tables_values(shards):
    c, s = _setup(shards)
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        for q in OVER_DERIVED_WINDOWS:
            coord0 = c.cluster.coordinator_bytes
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == "shuffle", q
            assert "over the derived table's rows" in plan["windows"], (q, plan["windows"])
            assert plan["exchanges"][-1][:2] == ("the derived table's rows", "__range"), q
            if "LIMIT" in q:
                assert c.cluster.coordinator_bytes - coord0 < size / 4, q
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + OVER_DERIVED_WINDOWS[0])
                         .fetchall())
        assert "Exchange: repartition the derived table's rows by hash(__range)" in text, text
        for cut in ("DELETE FROM a WHERE id % 3 = 0", "DELETE FROM a"):   # fewer; none
            c.execute(cut)
            s.execute(cut)
            for q in OVER_DERIVED_WINDOWS:
                _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    finally:
        c.close()
