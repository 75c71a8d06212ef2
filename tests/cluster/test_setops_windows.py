"""Set operations and window functions on the shards (``cluster/setops.py``, the window
paths of ``split.py`` / ``shuffle.py``): results identical to the single engine, run per
shard or repartitioned shard to shard, never gathered."""
from __future__ import annotations


import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.wire import table_to_ipc
from .same_rows import same_rows as _same


def _setup(shuffle="auto", shards=3, n_a=900, n_b=600):
    c = cluster.connect("local", shards=shards, shuffle=shuffle)
    s = rustmemodb.connect()
    for x in (c, s):
        replicated = " REPLICATED" if x is c else ""
        x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, name TEXT)")
        x.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, g INTEGER, name TEXT)")
        x.execute("CREATE TABLE e (k INTEGER, tag TEXT, w FLOAT)"
                  + (" PARTITION BY HASH (tag)" if x is c else ""))
        x.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, label TEXT)" + replicated)
        x.executemany("INSERT INTO a VALUES (?, ?, ?, ?)",
                      [(i, i % 13, (i * 7 % 101) * 0.5, f"n{i % 7}" if i % 11 else None)
                       for i in range(n_a)])
        x.executemany("INSERT INTO b VALUES (?, ?, ?)",
                      [(i * 2, i % 17, f"n{i % 5}") for i in range(n_b)])
        x.executemany("INSERT INTO e VALUES (?, ?, ?)",
                      [(i % 40, f"t{i % 9}", float(i % 23)) for i in range(500)])
        x.executemany("INSERT INTO d VALUES (?, ?)", [(i, f"l{i}") for i in range(5)])
    return c, s


SET_OPS = [
    # (query, strategy with shuffle="auto")
    ("SELECT id, g FROM a UNION SELECT id, g FROM b ORDER BY 1, 2", "split"),
    ("SELECT id FROM a INTERSECT SELECT id FROM b ORDER BY id LIMIT 5 OFFSET 2", "split"),
    ("SELECT id, name FROM a EXCEPT ALL SELECT id, name FROM b ORDER BY 1", "split"),
    ("SELECT * FROM a UNION ALL SELECT id, g, 0.5, name FROM b ORDER BY id, g LIMIT 10",
     "split"),
    ("SELECT g FROM a UNION ALL SELECT g FROM b ORDER BY 1 DESC LIMIT 7", "split"),
    ("SELECT g FROM a UNION ALL SELECT id FROM d UNION ALL SELECT 99 ORDER BY 1", "split"),
    ("SELECT g, name FROM a INTERSECT ALL SELECT g, name FROM b ORDER BY 1, 2", "shuffle"),
    ("SELECT name FROM a EXCEPT SELECT label FROM d ORDER BY 1", "shuffle"),
    ("SELECT g FROM a UNION SELECT id FROM d UNION SELECT 99 ORDER BY 1", "shuffle"),
    ("SELECT g, g FROM a INTERSECT SELECT g, g FROM b ORDER BY 1", "shuffle"),
    ("(SELECT g FROM a UNION SELECT g FROM b) EXCEPT SELECT id FROM b WHERE id < 5 "
     "ORDER BY 1", "shuffle"),
    ("SELECT name, g FROM a WHERE v > 10 EXCEPT ALL SELECT name, g FROM b ORDER BY 2, 1 "
     "LIMIT 9", "shuffle"),
    ("SELECT tag, k FROM e INTERSECT SELECT name, g FROM a ORDER BY 1, 2", "shuffle"),
    ("SELECT k FROM e UNION SELECT id FROM a WHERE id < 50 ORDER BY k DESC", "shuffle"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_set_operations_match_the_single_engine_without_gathering(shuffle):
    c, s = _setup(shuffle)
    try:
        for q, strategy in SET_OPS:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == strategy, q
            assert plan["kind"] == "set operation", q
    finally:
        c.close()


def test_an_exchanged_set_operation_sends_no_table_through_the_coordinator():
    c, s = _setup()
    try:
        q = "SELECT g, name FROM a EXCEPT SELECT g, name FROM b ORDER BY 1, 2 LIMIT 3"
        c.cluster.largest_batch = 0
        coord0 = c.cluster.coordinator_bytes
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        plan = c.last_plan
        assert plan["strategy"] == "shuffle" and plan["position"] == 0   # g: an integer
        table = len(table_to_ipc(s.execute("SELECT g, name FROM a").arrow()))
        assert plan["shuffled_bytes"] > table / 3
        assert c.cluster.coordinator_bytes - coord0 < table / 10   # 3 rows per shard
        assert plan["partial_rows"] == [3, 3, 3]
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + q).fetchall())
        assert "Exchange: repartition SELECT 1 of the set operation by hash(column 1)" in text
        assert "shard to shard" in text and "Partial on each shard" in text
    finally:
        c.close()


def test_set_operations_outside_the_plan_still_answer():
    c, s = _setup()
    try:
        # SELECTs that aggregate or LIMIT run first (test_less_gathered.py); so does
        # an uncorrelated subquery (a set operation here), written in as constants.
        for q, strategy in [
                ("SELECT count(*) FROM a UNION ALL SELECT count(*) FROM b ORDER BY 1", "split"),
                ("(SELECT id FROM a ORDER BY id LIMIT 3) UNION SELECT id FROM b ORDER BY 1 "
                 "LIMIT 5", "shuffle"),
                ("SELECT count(*) FROM a WHERE g IN (SELECT g FROM b UNION SELECT 99)",
                 "split")]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["strategy"] == strategy, q
    finally:
        c.close()


WINDOWS = [
    # (query, strategy, how the window partitions are whole on each shard)
    ("SELECT id, row_number() OVER (PARTITION BY id ORDER BY v) FROM a ORDER BY 1 LIMIT 20",
     "split", "partitioned by id"),
    ("SELECT tag, k, sum(w) OVER (PARTITION BY tag ORDER BY k, w ROWS BETWEEN 2 PRECEDING "
     "AND CURRENT ROW) FROM e ORDER BY 1, 2, 3", "split", "partitioned by tag"),
    ("SELECT id, g, rank() OVER (PARTITION BY g ORDER BY v DESC) AS r, "
     "sum(v) OVER (PARTITION BY g, name) FROM a WHERE id > 10 ORDER BY r, id LIMIT 12",
     "shuffle", "repartitioned by g"),
    ("SELECT name, g, count(*) OVER w, lag(v) OVER w FROM a "
     "WINDOW w AS (PARTITION BY name ORDER BY id) ORDER BY 1, 2, 3, 4", "shuffle",
     "repartitioned by name"),
    ("SELECT a.id, d.label, first_value(a.v) OVER (PARTITION BY a.g ORDER BY a.id) "
     "FROM a JOIN d ON d.id = a.g ORDER BY 1", "shuffle", "repartitioned by g"),
    ("SELECT DISTINCT g, max(v) OVER (PARTITION BY g) FROM a ORDER BY 1", "shuffle",
     "repartitioned by g"),
    ("SELECT k, tag, dense_rank() OVER (PARTITION BY k ORDER BY w, tag) FROM e "
     "ORDER BY 3 DESC, 1, 2 LIMIT 6", "shuffle", "repartitioned by k"),
    # Top-N per group: the windows in a derived table, the outer query split over it.
    ("SELECT count(*) AS n, sum(v) AS total FROM (SELECT v, rank() OVER "
     "(PARTITION BY g ORDER BY v DESC) AS rnk FROM a) ranked WHERE rnk <= 3", "shuffle",
     "repartitioned by g"),
    ("SELECT * FROM (SELECT id, g, rank() OVER (PARTITION BY g ORDER BY v DESC, id) AS r "
     "FROM a WHERE id > 5) t WHERE r <= 2 ORDER BY g, r", "shuffle", "repartitioned by g"),
    ("SELECT g, max(rn) FROM (SELECT g, row_number() OVER (PARTITION BY id ORDER BY v) "
     "AS rn FROM a) x GROUP BY g ORDER BY 1", "split", "partitioned by id"),
    ("SELECT tag, count(*), avg(d) FROM (SELECT tag, w - lag(w) OVER (PARTITION BY tag "
     "ORDER BY k, w) AS d FROM e) q WHERE d IS NOT NULL GROUP BY tag ORDER BY 1", "split",
     "partitioned by tag"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_window_functions_run_on_the_shards(shuffle):
    c, s = _setup(shuffle)
    try:
        for q, strategy, how in WINDOWS:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert (plan["strategy"], plan.get("windows")) == (strategy, how), q
    finally:
        c.close()


def test_a_repartitioned_window_moves_rows_between_shards_not_to_the_coordinator():
    c, s = _setup()
    try:
        q = "SELECT id, g, v - avg(v) OVER (PARTITION BY g) FROM a ORDER BY 3 DESC, 1 LIMIT 4"
        c.cluster.largest_batch = 0
        coord0 = c.cluster.coordinator_bytes
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        plan = c.last_plan
        assert plan["strategy"] == "shuffle"
        table = len(table_to_ipc(s.execute("SELECT id, g, v FROM a").arrow()))
        assert plan["shuffled_bytes"] > table / 3
        assert c.cluster.coordinator_bytes - coord0 < table / 10
        text = "\n".join(r[0] for r in c.execute("EXPLAIN ANALYZE " + q).fetchall())
        assert "Exchange: repartition a by hash(g)" in text
        assert "Window partitions whole on each shard: repartitioned by g" in text
        assert "through the coordinator" in text
    finally:
        c.close()


def test_windows_that_need_every_row_gather_only_the_columns_they_read():
    c, s = _setup()
    try:
        for q, gathered in [
                ("SELECT id, sum(v) OVER () FROM a ORDER BY 1 LIMIT 3", ["id", "v"]),
                ("SELECT id, row_number() OVER (ORDER BY v, id) FROM a ORDER BY 2 LIMIT 3",
                 ["id", "v"]),
                ("SELECT g, count(*), rank() OVER (ORDER BY count(*)) FROM a GROUP BY g "
                 "ORDER BY 1", None)]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["strategy"] != "gather", q
            assert c.last_plan.get("gathered_columns", (None, None))[1] == gathered, q
    finally:
        c.close()
