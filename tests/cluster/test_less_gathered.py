"""What the coordinator used to gather and no longer does: set operations over
aggregates / LIMIT and inside derived tables, windows over aggregates and windows with
no common PARTITION BY, a table turned REPLICATED, the source of an aggregating
INSERT … SELECT. Each: results identical to the single engine (auto and
shuffle="always") and no table-sized batch through the coordinator."""
from __future__ import annotations

import math

import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.wire import ipc_to_table, table_to_ipc

N = 3000


def _setup(shuffle="auto", shards=3, backend="local", address=None):
    c = cluster.connect(backend, shards=shards, shuffle=shuffle, address=address)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, name TEXT)")
        x.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, g INTEGER, name TEXT)")
        x.executemany("INSERT INTO a VALUES (?, ?, ?, ?)",
                      [(i, i % 13, (i * 7 % 101) * 0.5, f"n{i % 7}" if i % 11 else None)
                       for i in range(N)])
        x.executemany("INSERT INTO b VALUES (?, ?, ?)",
                      [(i * 2, i % 17, f"n{i % 5}") for i in range(N // 2)])
    return c, s


def _table_bytes(c, name):
    return len(table_to_ipc(c.execute(f"SELECT * FROM {name}").arrow()))


def _same(got, want, q):
    assert len(got) == len(want), q
    for r1, r2 in zip(got, want):
        for u, v in zip(r1, r2):
            if isinstance(v, float) and isinstance(u, float):
                assert math.isclose(u, v, rel_tol=1e-9), q
            else:
                assert u == v, q


def _check(c, s, queries, table_bytes):
    for q, strategy in queries:
        coord0 = c.cluster.coordinator_bytes
        largest0 = c.cluster.largest_batch
        c.cluster.largest_batch = 0
        got = c.execute(q).fetchall()
        moved = c.cluster.coordinator_bytes - coord0
        largest = c.cluster.largest_batch
        c.cluster.largest_batch = max(largest0, largest)
        _same(got, s.execute(q).fetchall(), q)
        assert c.last_plan["strategy"] != "gather", q
        if strategy is not None:
            assert c.last_plan["strategy"] == strategy, (q, c.last_plan["strategy"])
        assert largest < table_bytes / 4, (q, largest, table_bytes)
        assert moved < table_bytes / 2, (q, moved, table_bytes)


def _check_b_made_replicated(c, s):
    """A foreign key to ``b`` makes it REPLICATED on the cluster (its rows copied to
    every shard); its rows read back as the single engine's. For the Dask and Ray tests."""
    for x in (c, s):
        x.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, "
                  "b_id INTEGER REFERENCES b (id))")
    assert c.catalog["b"].replicated
    q = "SELECT count(*), sum(id), min(name) FROM b"
    assert c.execute(q).fetchall() == s.execute(q).fetchall()


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_making_a_table_replicated_copies_rows_shard_to_shard(shuffle):
    c, s = _setup(shuffle)
    try:
        size = _table_bytes(c, "a")
        coord0 = c.cluster.coordinator_bytes
        shipped0 = c.cluster.bytes_shipped
        for x in (c, s):
            x.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, "
                      "a_id INTEGER REFERENCES a (id))")
        assert c.catalog["a"].replicated
        assert c.cluster.coordinator_bytes - coord0 < size / 20
        assert c.cluster.bytes_shipped - shipped0 >= size   # copies went shard to shard
        for shard in range(3):   # every shard holds every row
            reply = c.cluster.backend.call(shard, "execute", c.sid,
                                           "SELECT count(*) FROM a", None, None)
            assert ipc_to_table(reply[3]).column(0)[0].as_py() == N
        q = "SELECT count(*), sum(id), min(name), max(v) FROM a"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        assert c.last_plan["strategy"] == "replicated"
        for x in (c, s):
            x.execute("INSERT INTO child VALUES (1, 5)")
        with pytest.raises(rustmemodb.IntegrityError):
            c.execute("INSERT INTO child VALUES (2, 100000)")
    finally:
        c.close()


SET_OPS = [
    # set operations whose SELECTs aggregate, use LIMIT or DISTINCT
    ("SELECT g, count(*) FROM a GROUP BY g UNION SELECT g, count(*) FROM b GROUP BY g "
     "ORDER BY 1, 2", "shuffle"),
    ("SELECT g, sum(v) FROM a GROUP BY g UNION ALL SELECT id, 0.5 FROM b WHERE id < 40 "
     "ORDER BY 2 DESC, 1 LIMIT 12", None),
    ("(SELECT id FROM a ORDER BY v DESC, id LIMIT 20) INTERSECT SELECT id FROM b "
     "ORDER BY 1", "shuffle"),
    ("SELECT id FROM a EXCEPT (SELECT id FROM b ORDER BY id LIMIT 1400) ORDER BY 1 LIMIT 30",
     "shuffle"),
    ("SELECT DISTINCT g FROM a UNION ALL SELECT g FROM b ORDER BY 1", "shuffle"),
    ("SELECT DISTINCT name FROM a INTERSECT ALL SELECT name FROM b ORDER BY 1", "shuffle"),
    ("SELECT name, max(id) FROM a GROUP BY name HAVING count(*) > 10 "
     "EXCEPT SELECT name, max(id) FROM b GROUP BY name ORDER BY 1", "shuffle"),
    # set operations inside derived tables
    ("SELECT count(*) FROM (SELECT g FROM a UNION SELECT id FROM b) s", None),
    ("SELECT s.g, count(*) FROM (SELECT g FROM a UNION ALL SELECT id FROM b) s "
     "GROUP BY s.g ORDER BY 2 DESC, 1 LIMIT 5", "split"),
    ("SELECT * FROM (SELECT g, id FROM a INTERSECT SELECT g, id FROM b) s ORDER BY id "
     "LIMIT 40", "split"),
    ("SELECT count(*), max(x) FROM (SELECT name AS x, g FROM a "
     "INTERSECT ALL SELECT name, g FROM b) t", None),
    ("SELECT max(c), count(*) FROM (SELECT g, count(*) AS c FROM a GROUP BY g "
     "UNION ALL SELECT id, 1 FROM b) s", "split"),
    ("SELECT sum(x) FROM (SELECT id AS x FROM a EXCEPT SELECT id FROM b) t WHERE x > 10",
     "split"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_set_operations_over_aggregates_and_in_derived_tables(shuffle):
    c, s = _setup(shuffle)
    try:
        _check(c, s, SET_OPS, _table_bytes(c, "a"))
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + SET_OPS[0][0]).fetchall())
        assert "run first as its own split query" in text
        assert "repartition SELECT" not in text or "shard to shard" in text
    finally:
        c.close()


WINDOWS = [
    # windows over aggregates: the grouping splits, the windows run over the groups
    ("SELECT g, rank() OVER (ORDER BY sum(v)) FROM a GROUP BY g ORDER BY 1", "split"),
    ("SELECT g, sum(v) AS s, sum(sum(v)) OVER (ORDER BY g) AS run, count(*) FROM a "
     "WHERE id > 3 GROUP BY 1 HAVING count(*) > 2 ORDER BY s DESC LIMIT 5", "split"),
    ("SELECT name, count(*) FILTER (WHERE v > 10), "
     "dense_rank() OVER (ORDER BY count(*) DESC, name NULLS FIRST) FROM a GROUP BY name "
     "ORDER BY 3", "split"),
    ("SELECT a.g % 3 AS m, row_number() OVER (ORDER BY max(b.g), a.g % 3) FROM a "
     "JOIN b ON a.id = b.g GROUP BY a.g % 3 ORDER BY 2", None),
    ("SELECT sum(v), count(*), rank() OVER () FROM a", "split"),
    ("SELECT g AS x, sum(v) AS g, rank() OVER (ORDER BY g DESC) FROM a GROUP BY 1 "
     "ORDER BY g", "split"),
    # windows sharing no PARTITION BY column: only the columns read are gathered
    ("SELECT id, rank() OVER (ORDER BY v DESC, id) FROM a ORDER BY 2 LIMIT 10", "split"),
    ("SELECT id, rank() OVER (PARTITION BY g ORDER BY v, id), "
     "sum(v) OVER (PARTITION BY id % 3) FROM a WHERE id % 4 = 1 ORDER BY 1", "split"),
    # no PARTITION BY, the last rows by its order: range-partitioned (rangewindows.py)
    ("SELECT x.id, lag(x.v) OVER (ORDER BY x.id) FROM a AS x ORDER BY 1 DESC LIMIT 7",
     "shuffle"),
    # windows over a join: the join first (only the columns read), the windows after
    ("SELECT a.id, rank() OVER (ORDER BY b.g, a.id) FROM a JOIN b ON a.id = b.id "
     "ORDER BY 2 LIMIT 5", None),
    ("SELECT a.id, b.name, sum(v) OVER (PARTITION BY b.name ORDER BY a.id) AS s FROM a "
     "JOIN b ON a.g = b.g WHERE a.id < 40 AND b.id < 100 ORDER BY 1, 2, 3", None),
    ("SELECT *, row_number() OVER (ORDER BY a.id DESC, b.id) FROM a JOIN b "
     "ON a.id = b.id WHERE b.g < 3 ORDER BY 1 LIMIT 4", None),   # (the join's rows come)
    ("SELECT a.v AS id, ntile(3) OVER (ORDER BY a.id) FROM a JOIN b ON a.id = b.id "
     "ORDER BY id, 2 LIMIT 6", None),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_windows_over_aggregates_and_without_a_common_partition(shuffle):
    c, s = _setup(shuffle)
    try:
        _check(c, s, WINDOWS, _table_bytes(c, "a"))
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + WINDOWS[0][0]).fetchall())
        # The grouping split, the windows over the merged groups on the coordinator:
        # by the SQL-level strategies, or in the merge plan of the engine's plan split.
        assert "Grouping first" in text and "Windows on coordinator" in text or \
            "Planner: the engine's bound and optimized plan" in text and \
            "->  Window" in text.split("Merge on coordinator")[0]
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + WINDOWS[7][0]).fetchall())
        assert "only a(id, g, v) of the rows the WHERE keeps is gathered" in text
    finally:
        c.close()


# windows whose PARTITION BYs share no column, each a column: computed in stages, the
# rows repartitioned shard to shard by each stage's column (no row to the coordinator)
STAGED_WINDOWS = [
    ("SELECT id, sum(v) OVER (PARTITION BY g) AS sg, count(*) OVER (PARTITION BY name) "
     "AS cn FROM a ORDER BY id LIMIT 20", "shuffle"),
    ("SELECT id, v - avg(v) OVER (PARTITION BY g), rank() OVER (PARTITION BY name "
     "ORDER BY v, id), max(v) OVER (PARTITION BY g, name) FROM a WHERE v > 10 "
     "ORDER BY id DESC LIMIT 15", "shuffle"),
    ("SELECT count(*), sum(x), count(DISTINCT x) FROM (SELECT sum(v) OVER (PARTITION BY g) "
     "+ count(*) OVER (PARTITION BY name) AS x FROM a) q", "shuffle"),
    ("SELECT X.id, sum(X.v) OVER (PARTITION BY X.g ORDER BY X.id) s1, "
     "lag(X.v) OVER (PARTITION BY X.name ORDER BY X.id) s2, "
     "first_value(X.id) OVER (PARTITION BY X.id ORDER BY X.v) s3 FROM a AS X "
     "ORDER BY s1 DESC, X.id LIMIT 10", "shuffle"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_windows_without_a_common_partition_run_in_stages(shuffle):
    c, s = _setup(shuffle)
    try:
        _check(c, s, STAGED_WINDOWS, _table_bytes(c, "a"))
        c.execute(STAGED_WINDOWS[3][0])
        assert c.last_plan["windows"] == "staged: repartitioned by id, then repartitioned " \
                                         "by g, then repartitioned by name", c.last_plan
        # a window with no PARTITION BY needs every row in one place: still gathered
        q = "SELECT count(*), sum(x) FROM (SELECT sum(v) OVER (PARTITION BY g) + " \
            "count(*) OVER () AS x FROM a) q"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
    finally:
        c.close()


GROUPING_SETS = [
    ("SELECT g, name, count(*), sum(v), avg(v) FROM a GROUP BY ROLLUP (g, name) "
     "ORDER BY g, name", "split"),
    ("SELECT g, name, GROUPING(g, name), max(v), count(DISTINCT name) FROM a "
     "GROUP BY CUBE (g, name) ORDER BY 3, 1, 2", "split"),
    ("SELECT name, count(*) FROM a GROUP BY GROUPING SETS ((name), ()) "
     "ORDER BY 1 NULLS FIRST", "split"),
    ("SELECT id % 5 AS k, stddev(v), variance(v) FROM a GROUP BY ROLLUP (id % 5) "
     "ORDER BY 1", "split"),
    ("SELECT g, sum(v), count(*) FROM a WHERE id < 0 GROUP BY ROLLUP (g)", "split"),
    ("SELECT g, count(*) FROM a GROUP BY ROLLUP (g) HAVING count(*) > 200 ORDER BY 1",
     "split"),
    ("SELECT a.g, b.name, count(*) FROM a JOIN b ON a.id = b.id "
     "GROUP BY GROUPING SETS ((a.g), (b.name)) ORDER BY 1, 2", None),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_grouping_sets_merge_every_set_from_the_finest_partials(shuffle):
    """ROLLUP / CUBE / GROUPING SETS: the shards group by every key, the coordinator
    computes each set (GROUPING() too) from those partials, as one engine would."""
    c, s = _setup(shuffle)
    try:
        _check(c, s, GROUPING_SETS, _table_bytes(c, "a"))
        text = "\n".join(r[0] for r in c.execute(
            "EXPLAIN " + GROUPING_SETS[0][0]).fetchall())
        merge, shard = text.split("Partial on each shard")
        assert "MixedAggregate  (grouping sets (k0, k1), (k0), ()" in merge, text
        assert "GROUP BY \"s0\".\"g\", \"s0\".\"name\"" in shard, text
    finally:
        c.close()


DISTINCT_ON = [
    ("SELECT DISTINCT ON (g) g, id, v FROM a ORDER BY g, v DESC, id", "split"),
    ("SELECT DISTINCT ON (g) g, id, v FROM a ORDER BY g, v DESC, id LIMIT 4", "split"),
    ("SELECT DISTINCT ON (name) name, id FROM a WHERE v > 10 "
     "ORDER BY name NULLS FIRST, id DESC", "split"),
    ("SELECT * FROM (SELECT DISTINCT ON (g) g, id, v FROM a ORDER BY g, v, id) d "
     "ORDER BY v, id", "split"),
    ("SELECT DISTINCT ON (g % 3, name) g % 3 AS k, name, id FROM a "
     "ORDER BY g % 3, name, id", "split"),
    ("SELECT DISTINCT ON (a.g) a.g, b.name, a.id FROM a JOIN b ON a.id = b.id "
     "ORDER BY a.g, a.id DESC", "split"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_distinct_on_keeps_each_shards_first_rows_then_the_first_of_those(shuffle):
    """DISTINCT ON … ORDER BY: every shard keeps its first row per key in that order
    (and no more than a LIMIT over it), the coordinator the first of those."""
    c, s = _setup(shuffle)
    try:
        _check(c, s, DISTINCT_ON, _table_bytes(c, "a"))
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + DISTINCT_ON[1][0]).fetchall())
        shard = text.split("Partial on each shard")[1]
        assert "SELECT DISTINCT ON (" in shard and "LIMIT 4" in shard, text
    finally:
        c.close()


ARG_EXTREMES = [   # values without ties: a tie goes to the first row, whose shard varies
    ("SELECT g, arg_max(id, v * 1000 + id), arg_min(name, id) FROM a GROUP BY g "
     "ORDER BY g", "split"),
    ("SELECT arg_max(name, id), min_by(id, v * 1000 + id), max_by(v, id) FROM a", "split"),
    ("SELECT g % 3, arg_max(id, id) FILTER (WHERE name IS NULL) FROM a GROUP BY 1 "
     "ORDER BY 1", "split"),
    ("SELECT arg_max(id, v) FROM a WHERE id < 0", "split"),
    ("SELECT g, arg_min(id, name || id) FROM a GROUP BY g ORDER BY g", "split"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_arg_max_and_arg_min_merge_each_shards_winner(shuffle):
    """arg_max / arg_min (max_by / min_by): each shard's winner and the value it won by
    (rows with a NULL argument skipped, FILTER kept), then the winner of those."""
    c, s = _setup(shuffle)
    try:
        _check(c, s, ARG_EXTREMES, _table_bytes(c, "a"))
    finally:
        c.close()


WHOLE_GROUP_AGGREGATES = [
    ("SELECT g, string_agg(name, ',' ORDER BY id) FROM a GROUP BY g ORDER BY g", "shuffle"),
    ("SELECT g, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), count(*) FROM a "
     "GROUP BY g ORDER BY g", "shuffle"),
    ("SELECT name, array_agg(id ORDER BY id DESC) FILTER (WHERE id % 100 = 0) FROM a "
     "GROUP BY name ORDER BY name NULLS FIRST", "shuffle"),
    ("SELECT g, mode() WITHIN GROUP (ORDER BY id % 7), sum(v) FROM a WHERE v > 5 "
     "GROUP BY g HAVING count(*) > 10 ORDER BY 2, g", "shuffle"),
    ("SELECT g, json_agg(id ORDER BY id) FROM a WHERE id < 60 GROUP BY g ORDER BY g",
     "shuffle"),
    ("SELECT g, percentile_disc(ARRAY[0.25, 0.5]) WITHIN GROUP (ORDER BY id DESC) "
     "FROM a GROUP BY g ORDER BY g", "shuffle"),
    ("SELECT g, quantile_cont(v, 0.9), median(v) FROM a GROUP BY g ORDER BY g", "shuffle"),
    ("SELECT g, array_agg(DISTINCT name ORDER BY name NULLS FIRST) FROM a GROUP BY g "
     "ORDER BY g", "shuffle"),
    ("SELECT g, string_agg(DISTINCT name, NULL ORDER BY name) FROM a GROUP BY g "
     "ORDER BY g", "shuffle"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_aggregates_with_no_partial_form_repartition_by_a_group_key(shuffle):
    """Ordered string_agg / array_agg / json_agg, percentiles, mode(), medians: no
    partial combines them, so the rows move shard to shard by a group column and each
    shard computes its whole groups; only the results reach the coordinator."""
    c, s = _setup(shuffle)
    try:
        _check(c, s, WHOLE_GROUP_AGGREGATES, _table_bytes(c, "a"))
        assert c.last_plan.get("shuffled_bytes", 0) > 0
        q = "SELECT string_agg(name, ',' ORDER BY id) FROM a WHERE id < 50"   # one group
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        assert c.last_plan["strategy"] == "gather"
    finally:
        c.close()


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_an_aggregating_insert_select_runs_its_source_first(shuffle):
    c, s = _setup(shuffle)
    try:
        size = _table_bytes(c, "a")
        for x in (c, s):
            x.execute("CREATE TABLE totals (g INTEGER PRIMARY KEY, n BIGINT, "
                      "total FLOAT, label TEXT DEFAULT 'none', CHECK (n > 0))")
        statements = [
            "INSERT INTO totals (g, n, total) SELECT g, count(*), sum(v) FROM a GROUP BY g",
            "INSERT INTO totals SELECT b.g + 100, count(*), avg(a.v), max(b.name) FROM a "
            "JOIN b ON a.id = b.id GROUP BY b.g",
            "INSERT INTO totals (g, n) SELECT g + 200, count(*) FROM a "
            "GROUP BY g UNION SELECT id + 300, 1 FROM b WHERE id < 10",
            "INSERT INTO a (id, g, v) SELECT max(id) + 10000 + g, g, min(v) FROM a GROUP BY g",
        ]
        for q in statements:
            coord0 = c.cluster.coordinator_bytes
            assert c.execute(q).rowcount == s.execute(q).rowcount, q
            assert c.cluster.coordinator_bytes - coord0 < size / 4, q
            assert c.last_plan["strategy"] == "source first", q
        for q in ["SELECT * FROM totals ORDER BY g", "SELECT * FROM a ORDER BY id"]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        with pytest.raises(rustmemodb.IntegrityError):   # a key already there
            c.execute("INSERT INTO totals (g, n) SELECT g, count(*) FROM a GROUP BY g")
        with pytest.raises(rustmemodb.IntegrityError):   # the CHECK, as the engine says
            c.execute("INSERT INTO totals (g, n) SELECT g + 500, count(*) - 1000 FROM a "
                      "GROUP BY g")
        q = "SELECT count(*), sum(n) FROM totals"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
    finally:
        c.close()


SUBQUERIES = [
    ("SELECT count(*) FROM a WHERE g IN (SELECT g FROM b UNION SELECT 99)", "split"),
    ("SELECT count(*), sum(v) FROM a WHERE g NOT IN (SELECT g FROM b WHERE id < 20 "
     "INTERSECT SELECT g FROM a WHERE id < 50)", "split"),
    ("SELECT id, v FROM a WHERE v > (SELECT avg(v) FROM a) ORDER BY v DESC, id LIMIT 7",
     "split"),
    ("SELECT g, count(*), (SELECT max(id) FROM b) FROM a GROUP BY g ORDER BY g", "split"),
    ("SELECT count(*) FROM a WHERE EXISTS (SELECT 1 FROM b WHERE g = 99) OR id < 5", "split"),
    ("SELECT count(*) FROM a WHERE g IN (SELECT g FROM b WHERE g > 1000)", "split"),
    ("SELECT count(*) FROM a WHERE name = (SELECT max(name) FROM b WHERE id < 0)", "split"),
    ("SELECT count(*) FROM a WHERE id IN (SELECT id FROM b ORDER BY id DESC LIMIT 30)",
     "split"),
    # derived tables with their own LIMIT: run first (top-k on the shards)
    ("SELECT avg(v), count(*) FROM (SELECT v FROM a ORDER BY v DESC, id LIMIT 10) t",
     "split"),
    ("SELECT count(*), max(x) FROM (SELECT g FROM a UNION SELECT id FROM b ORDER BY 1 "
     "LIMIT 9) t(x)", "shuffle"),
    ("SELECT t.id, u.id FROM (SELECT id FROM a ORDER BY id LIMIT 4) t "
     "CROSS JOIN (SELECT id FROM b ORDER BY id DESC LIMIT 3) u ORDER BY 1, 2", "split"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_uncorrelated_subqueries_run_first(shuffle):
    c, s = _setup(shuffle)
    try:
        _check(c, s, SUBQUERIES, _table_bytes(c, "a"))
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + SUBQUERIES[2][0]).fetchall())
        assert "Subquery run first as its own query" in text
        q = "SELECT count(*) FROM a WHERE v = (SELECT v FROM a WHERE id < 5)"
        with pytest.raises(rustmemodb.Error) as err:
            c.execute(q)
        assert err.value.sqlstate == "21000"
        # Correlated: stays in the statement (gathered), same answer.
        q = "SELECT count(*) FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.id = a.id + 1)"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
    finally:
        c.close()


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_subqueries_tied_to_the_partition_key_run_on_each_shard(shuffle):
    # orders / lineitem placed by the order key: a subquery correlated on it sees only
    # rows of the outer row's shard (TPC-H Q4's EXISTS), so the statement splits.
    c = cluster.connect("local", shards=3, shuffle=shuffle)
    s = rustmemodb.connect()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE o (ok INTEGER PRIMARY KEY, pri TEXT, d INTEGER)")
            x.execute("CREATE TABLE l (lk INTEGER, ln INTEGER, c INTEGER, r INTEGER, "
                      "PRIMARY KEY (lk, ln))" + (" PARTITION BY HASH (lk)" if x is c else ""))
            x.execute("CREATE TABLE dim (id INTEGER PRIMARY KEY, name TEXT)"
                      + (" REPLICATED" if x is c else ""))
            x.executemany("INSERT INTO o VALUES (?, ?, ?)",
                          [(i, f"p{i % 5}", i % 30) for i in range(N)])
            x.executemany("INSERT INTO l VALUES (?, ?, ?, ?)",
                          [(i % 3500, i // 3500, i % 11, i % 13) for i in range(4 * N)])
            x.executemany("INSERT INTO dim VALUES (?, ?)", [(i, f"d{i}") for i in range(30)])
        queries = [
            ("SELECT pri, count(*) FROM o WHERE d < 20 AND EXISTS (SELECT 1 FROM l "
             "WHERE lk = ok AND c < r) GROUP BY pri ORDER BY pri", "split"),
            ("SELECT count(*) FROM o WHERE NOT EXISTS (SELECT 1 FROM l WHERE l.lk = o.ok)",
             "split"),
            ("SELECT ok FROM o x WHERE (SELECT count(*) FROM l WHERE l.lk = x.ok AND c > 5) "
             "> 2 ORDER BY 1 LIMIT 5", "split"),
            ("SELECT count(*) FROM o WHERE EXISTS (SELECT 1 FROM o o2 WHERE o2.ok = o.ok "
             "AND o2.d > o.d - 1)", "split"),
            ("SELECT count(*) FROM o WHERE d IN (SELECT id FROM dim WHERE name < 'd2')",
             "split"),
        ]
        _check(c, s, queries, _table_bytes(c, "l"))
        # Correlated off the key (l.ln = o.ok): l is repartitioned by ln first
        # (test_correlated.py has more of those).
        q = "SELECT count(*) FROM o WHERE EXISTS (SELECT 1 FROM l WHERE l.ln = o.ok)"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        assert c.last_plan["strategy"] == "shuffle"
        assert c.last_plan["exchanges"][0][:2] == ("l", "ln")
    finally:
        c.close()


WINDOW_JOINS = [
    # windows over a join sharing a PARTITION BY column: the join's rows repartitioned
    # by it shard to shard, the windows on the shards
    "SELECT a.id, b.id, rank() OVER (PARTITION BY a.name ORDER BY a.v DESC, a.id, b.id) "
    "AS r FROM a JOIN b ON a.g = b.g WHERE a.id < 400 ORDER BY r, 1, 2 LIMIT 20",
    "SELECT a.id, sum(a.v) OVER (PARTITION BY b.name, a.g ORDER BY a.id) FROM a JOIN b "
    "ON a.id = b.id ORDER BY 1",
    "SELECT a.id, b.name, lag(a.v) OVER (PARTITION BY b.name ORDER BY a.id, b.id), count(*) "
    "OVER (PARTITION BY b.name, a.g) FROM a JOIN b ON a.g = b.g WHERE a.id < 300 "
    "ORDER BY 3 DESC NULLS LAST, 1, 2 LIMIT 30",
    # a comma join on the partition keys (co-located: nothing moves for the join)
    "SELECT a.id, row_number() OVER (PARTITION BY b.g ORDER BY a.id) FROM a, b "
    "WHERE a.id = b.id AND a.v > 20 ORDER BY a.id",
]


def test_ranking_windows_under_a_limit_gather_a_top_n_per_shard():
    # No PARTITION BY: a row's ROW_NUMBER / RANK / DENSE_RANK / LAG depends only on the
    # rows before it, so for the first n rows each shard sends its first n (LEAD, or
    # the last rows, are range-partitioned instead: rangewindows.py).
    c, s = _setup()
    try:
        size = _table_bytes(c, "a")
        for q in ["SELECT id, rank() OVER (ORDER BY v DESC, id) FROM a ORDER BY 2 LIMIT 10",
                  "SELECT id, v, lag(v, 2) OVER (ORDER BY v, id) AS p, row_number() OVER "
                  "(ORDER BY v, id) FROM a WHERE id % 3 = 0 ORDER BY v, id LIMIT 15 OFFSET 5",
                  "SELECT name, dense_rank() OVER (ORDER BY name NULLS FIRST, id) AS d FROM a "
                  "ORDER BY d LIMIT 7"]:
            coord0 = c.cluster.coordinator_bytes
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["prefix"] is not None, q
            assert c.cluster.coordinator_bytes - coord0 < size / 20, q
        q = ("SELECT a.id, b.id, row_number() OVER (ORDER BY a.v DESC, a.id, b.id) AS n "
             "FROM a JOIN b ON a.g = b.g ORDER BY n LIMIT 8")   # over a join (no key class)
        coord0 = c.cluster.coordinator_bytes
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        assert c.last_plan["prefix"] == 8
        assert c.cluster.coordinator_bytes - coord0 < size / 20, q
        # LEAD, or the last rows by the order: no prefix; range-partitioned
        # (rangewindows.py)
        for q in ["SELECT id, lead(v) OVER (ORDER BY v, id) FROM a ORDER BY v, id LIMIT 5",
                  "SELECT id, rank() OVER (ORDER BY v DESC, id) FROM a ORDER BY 2 DESC LIMIT 3"]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["windows"].startswith("range-partitioned"), q
        text = "\n".join(r[0] for r in c.execute(
            "EXPLAIN SELECT id, rank() OVER (ORDER BY v DESC, id) FROM a ORDER BY 2 LIMIT 10"
        ).fetchall())
        assert "each shard sends its top 10" in text
    finally:
        c.close()


def test_joins_placed_by_a_where_equality_split():
    # Co-located through a comma join's WHERE (test_correlated.py: an ON of unqualified
    # key names): the join splits (was gathered: only qualified ON keys were recognised).
    c, s = _setup()
    try:
        for q in ["SELECT count(*), sum(a.v) FROM a, b WHERE a.id = b.id",
                  "SELECT b.g, count(*) FROM a, b WHERE b.id = a.id AND a.g < 5 GROUP BY 1 "
                  "ORDER BY 1"]:
            assert c.execute(q).fetchall() == s.execute(q).fetchall(), q
            assert c.last_plan["strategy"] == "split", q
            assert c.last_plan["in_place"] == ["a", "b"], q
    finally:
        c.close()


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_windows_over_a_join_run_on_the_shards(shuffle):
    c, s = _setup(shuffle)
    try:
        _check(c, s, [(q, "shuffle") for q in WINDOW_JOINS], _table_bytes(c, "a"))
        for q in WINDOW_JOINS:
            c.execute(q)
            assert "after the join" in c.last_plan["windows"], q
            assert c.last_plan["exchanges"][-1][0] == "the join's rows", q
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + WINDOW_JOINS[0]).fetchall())
        assert "Exchange: repartition the join's rows by hash(__c" in text
        assert "Window partitions whole on each shard: repartitioned by a.name" in text
    finally:
        c.close()
