"""The split of the engine's own optimized plan (cluster/plansplit.py, render.py).

What shards run is rendered from the coordinator's bound and optimized plan, not from
the user's text: filters where the optimizer pushed them (into a join's inputs, out of a
derived table), only the columns it kept. Each query: the result identical to the single
engine, and the split that made it named in ``last_plan`` and EXPLAIN. Shapes the plan
split does not cover fall back to the SQL-level split, with the reason in EXPLAIN.
"""
from __future__ import annotations

import datetime as dt
import math

import pytest
import rustmemodb
from rustmemodb import cluster, errors
from rustmemodb.cluster.plansplit import NotSplit, bind_and_optimize, split_plan
from rustmemodb.cluster.render import Unrenderable, literal

from .conformance import SQL_DIR, RecordingBackend, read_skips, run_on_cluster
from .same_rows import same_rows as _same

N = 2000


def _setup(planner: str = "plan", shards: int = 3, backend: str = "local", **kw):
    c = cluster.connect(backend, shards=shards, planner=planner, **kw)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE w (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, name TEXT, "
                  "note TEXT, extra TEXT, day DATE)")
        x.execute("CREATE TABLE o (id INTEGER PRIMARY KEY, w_id INTEGER, q INTEGER, amt FLOAT)")
        x.execute("CREATE TABLE dim (g INTEGER PRIMARY KEY, label TEXT)"
                  + (" REPLICATED" if x is c else ""))
        x.executemany("INSERT INTO w VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [(i, i % 13, (i * 7 % 101) * 0.5 if i % 17 else None,
                        f"n{i % 7}" if i % 11 else None, "x" * (i % 5), "e",
                        dt.date(2024, 1, 1) + dt.timedelta(days=i % 40)) for i in range(N)])
        x.executemany("INSERT INTO o VALUES (?, ?, ?, ?)",
                      [(i, i % N, i % 9, (i % 23) * 1.25) for i in range(0, 3 * N, 2)])
        x.executemany("INSERT INTO dim VALUES (?, ?)", [(g, f"label{g}") for g in range(13)])
    return c, s


def _explain(c, q: str) -> str:
    return "\n".join(r[0] for r in c.execute("EXPLAIN " + q).fetchall())


# Queries the plan split takes: (query, kind of split).
PLANNED = [
    ("SELECT g, count(*), sum(v), avg(v), min(name), max(day) FROM w GROUP BY g ORDER BY g",
     "aggregate"),
    (("SELECT g, count(DISTINCT name), stddev(v), var_pop(v), stddev_pop(g) FROM w "
     "WHERE id > 10 GROUP BY g HAVING count(*) > 3 ORDER BY 2 DESC, 1"), "aggregate"),
    ("SELECT count(*), sum(q) FILTER (WHERE q > 4), avg(DISTINCT q) FROM o", "aggregate"),
    (("SELECT id, v FROM w WHERE name LIKE 'n%' ORDER BY v DESC NULLS LAST, id LIMIT 7 "
     "OFFSET 3"), "top-k"),
    ("SELECT DISTINCT name FROM w ORDER BY 1", "scan"),
    ("SELECT DISTINCT g, name FROM w ORDER BY 2 DESC NULLS LAST, 1 LIMIT 4 OFFSET 2", "top-k"),
    (("SELECT w.name, sum(o.amt) FROM w JOIN o ON w.id = o.id WHERE o.q < 5 "
     "GROUP BY w.name ORDER BY 1"), "aggregate"),
    (("SELECT dim.label, count(*) FROM w JOIN dim ON w.g = dim.g WHERE w.v > 10 "
     "GROUP BY dim.label ORDER BY 1"), "aggregate"),
    ("SELECT count(*) FROM w LEFT JOIN o ON w.id = o.id WHERE o.id IS NULL", "aggregate"),
    (("SELECT id + 1, coalesce(name, '?') || '!', CASE WHEN g < 5 THEN 'lo' ELSE 'hi' END "
     "FROM w WHERE g BETWEEN 2 AND 4 AND day >= DATE '2024-01-10' ORDER BY 1 LIMIT 20"),
     "top-k"),
    (("SELECT s.name, s.amt FROM (SELECT w.name, w.g, o.amt FROM w JOIN o ON w.id = o.id) s "
     "WHERE s.g = 3 AND s.amt > 20 ORDER BY 2, 1 LIMIT 15"), "top-k"),
    # grouped by the partition key: whole groups on each shard, nothing to merge
    (("SELECT count(*), max(n), sum(t) FROM (SELECT w.id, count(*) AS n, sum(o.q) AS t "
     "FROM w JOIN o ON w.id = o.id GROUP BY w.id) x"), "aggregate"),
    # windows partitioned by the partition key run on the shards; others over groups
    (("SELECT id, g, row_number() OVER (PARTITION BY id ORDER BY v), "
      "sum(v) OVER (PARTITION BY id ORDER BY g ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) "
      "FROM w WHERE g > 2 ORDER BY 3 DESC, 1 LIMIT 9"), "top-k"),
    ("SELECT g, sum(v), rank() OVER (ORDER BY sum(v) DESC) FROM w GROUP BY g ORDER BY 1",
     "aggregate"),
    # correlated EXISTS / NOT EXISTS on the partition key: semi and anti joins on the shards
    (("SELECT g, count(*) FROM w WHERE EXISTS (SELECT 1 FROM o WHERE o.id = w.id AND o.q > 3) "
     "GROUP BY g ORDER BY g"), "aggregate"),
    (("SELECT id FROM w WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.id = w.id) AND g = 4 "
     "ORDER BY id DESC LIMIT 6"), "top-k"),
]


@pytest.fixture(scope="module")
def pair():
    c, s = _setup()
    yield c, s
    c.close()
    s.close()


@pytest.mark.parametrize("q,kind", PLANNED, ids=[str(i) for i in range(len(PLANNED))])
def test_plan_split_results_match_the_single_engine(pair, q, kind):
    c, s = pair
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    plan = c.last_plan
    assert plan["strategy"] == "split" and plan.get("planner") == "plan", \
        (q, plan.get("not_plan_split"))
    assert plan["kind"] == kind


def test_a_filter_above_a_join_in_a_derived_table_reaches_the_shards(pair):
    # The user wrote the filter outside the derived table, above the join; the optimizer
    # pushed it into the scan of w under the join, and the shards run that plan: the
    # partial filters w before joining and reads none of w's other columns.
    c, _ = pair
    q = ("SELECT s.name, count(*) FROM (SELECT w.name, w.g, o.amt FROM w JOIN o "
         "ON w.id = o.id) s WHERE s.g = 3 GROUP BY s.name ORDER BY 1")
    text = _explain(c, q)
    assert "Planner: the engine's bound and optimized plan" in text
    partial = c._select(q, None, plan_only=True)["partial"]
    assert '("s0"."g" = 3)' in partial            # the pushed-down filter, on w's scan
    assert '"note"' not in partial and '"extra"' not in partial and '"day"' not in partial
    assert '"amt"' not in partial                 # pruned: the query never reads it
    assert partial.index("WHERE") > partial.index("JOIN")   # one flat SELECT, no derived table
    assert "Seq Scan on w filter: (g = 3)" in text          # the partial plan, in EXPLAIN
    assert "Partial plan (from the coordinator's optimized plan)" in text
    assert "w stays in place" in text and "o stays in place" in text


def test_explain_shows_the_merge_plan_over_the_partials(pair):
    c, _ = pair
    text = _explain(c, "SELECT g, avg(v) FROM w GROUP BY g HAVING count(*) > 1 ORDER BY 2")
    assert "Seq Scan on __partials" in text and "HashAggregate" in text
    assert "nullif" in text        # avg merged as sum / count


def test_the_sql_level_split_still_takes_what_the_plan_split_does_not(pair):
    c, s = pair
    # (grouped, its rows would be repartitioned by the group key: test_less_gathered.py)
    q = "SELECT string_agg(name, ',' ORDER BY id) FROM w WHERE g < 3"
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    assert c.last_plan.get("planner") != "plan"
    assert "string_agg" in c.last_plan["not_plan_split"]
    assert "plan split: aggregate string_agg" in _explain(c, q)
    # A join off the partition key equal on an expression: o's rows are repartitioned
    # by the computed key (test_scaleout.py has more), w's by its column g.
    q = "SELECT w.g, count(*) FROM w JOIN o ON w.g = o.q + 1 GROUP BY w.g ORDER BY 1"
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    assert c.last_plan.get("planner") == "plan"
    assert sorted((t, k) for t, k, _ in c.last_plan["exchanges"]) == [("o", "jk"), ("w", "g")]


def test_planner_sql_gives_the_same_results():
    c, s = _setup(planner="sql")
    try:
        for q, _ in PLANNED:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan.get("planner") != "plan", q
    finally:
        c.close()
        s.close()


def test_splits_are_remembered_until_the_schema_changes(pair):
    c, s = pair
    q = "SELECT g, count(*) FROM w GROUP BY g ORDER BY g"
    c.execute(q)
    first = c._plan_splits[q]
    c.execute(q)
    assert c._plan_splits[q] is first
    c.execute("CREATE TABLE scratch_t (id INTEGER PRIMARY KEY)")
    s.execute("CREATE TABLE scratch_t (id INTEGER PRIMARY KEY)")
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    assert c._plan_splits[q] is not first


def test_a_table_turned_replicated_is_planned_again():
    # o is joined to w off its partition key (o.w_id): o is repartitioned by w_id first;
    # once a FOREIGN KEY to it turns o REPLICATED, the same text is planned again and
    # splits with nothing moved.
    c, s = _setup()
    try:
        q = "SELECT w.g, count(*) FROM w JOIN o ON w.id = o.w_id GROUP BY w.g ORDER BY 1"
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        assert c.last_plan.get("planner") == "plan" and c.last_plan["strategy"] == "shuffle"
        assert [(t, k) for t, k, _ in c.last_plan["exchanges"]] == [("o", "w_id")]
        for x in (c, s):
            x.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, oid INTEGER REFERENCES o (id))")
        assert c.catalog["o"].replicated
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        assert c.last_plan.get("planner") == "plan" and c.last_plan["strategy"] == "split"
    finally:
        c.close()
        s.close()


def test_unknown_planner_is_a_clear_error():
    with pytest.raises(errors.Error) as info:
        cluster.connect("local", shards=2, planner="magic")
    assert info.value.sqlstate == "22023"


def test_not_split_reasons():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER, s TEXT)")
    from rustmemodb.cluster.partition import TableInfo
    catalog = {"t": TableInfo("t", ["id", "g", "s"], ["id"], types={"id": "INTEGER"})}
    for q in ["SELECT g, string_agg(s, ',') FROM t GROUP BY g",
              "SELECT a.g FROM t a JOIN t b ON a.g = b.g",            # off the key
              "SELECT id, row_number() OVER (ORDER BY g) FROM t",
              "SELECT g FROM t UNION SELECT id FROM t"]:
        with pytest.raises(NotSplit):
            split_plan(bind_and_optimize(c, q), catalog)


@pytest.mark.parametrize("value,sql_type,text", [
    (-5, "INTEGER", "(-5)"), (1.5, "FLOAT", "1.5"), (1e300, "FLOAT", "CAST('1e+300' AS FLOAT)"),
    (float("nan"), "FLOAT", "CAST('nan' AS FLOAT)"), ("it's", "TEXT", "'it''s'"),
    (None, "DATE", "CAST(NULL AS DATE)"), (dt.date(2024, 2, 29), "DATE", "DATE '2024-02-29'"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 6), "TIMESTAMP", "TIMESTAMP '2024-01-02 03:04:05.000006'"),
    (True, "BOOLEAN", "TRUE"),
    ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "UUID",
     "CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS UUID)"),
])
def test_literals_read_back_as_the_same_constant(value, sql_type, text):
    assert literal(value, sql_type) == text
    got = rustmemodb.connect().execute(f"SELECT {text}").fetchone()[0]
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(got)
    elif sql_type == "UUID":   # (stored as text, read as uuid.UUID)
        assert str(got) == value
    else:
        assert got == value


def test_interval_literals_read_back_as_the_same_constant():
    c = rustmemodb.connect()
    value = c.execute("SELECT INTERVAL '1 mon -2 days 00:00:03.000001'").fetchone()[0]
    text = literal(value, "INTERVAL")
    assert c.execute(f"SELECT {text}").fetchone()[0] == value


def test_literals_outside_the_subset_are_not_rendered():
    with pytest.raises(Unrenderable):
        literal({"a": 1}, "JSON")


# The conformance files whose queries the plan split takes most: every record still
# matches the single engine, and most of their SELECTs over cluster tables are planned.
PLANNED_FILES = ["foundation/predicates.test", "foundation/aggregates.test",
                 "foundation/order_by.test", "query/group_by.test", "query/subqueries.test"]


@pytest.mark.parametrize("rel", PLANNED_FILES)
def test_conformance_files_use_the_plan_split(rel):
    seen: list = []

    path = SQL_DIR / rel
    if not path.exists():
        pytest.skip(f"{rel} not in tests/sql")
    report = run_on_cluster(path, RecordingBackend(seen, "local", shards=3), read_skips().get(rel, {}))
    assert not report.failures, report.summary(limit=10)
    split = [p for p in seen if p.get("strategy") == "split"]
    planned = [p for p in split if p.get("planner") == "plan"]
    assert planned and len(planned) >= len(split) // 2, (len(planned), len(split))


# Joins off the partition key (planexchange.py): the optimized plan's join inputs are
# repartitioned by the join key (or the small one copied to every shard) into inputs of
# each shard, then the rest of the plan splits over them.
OFF_KEY = [
    # grouped by the join key: after the exchange every group is whole on one shard
    "SELECT w.g, count(*), sum(o.amt) FROM w JOIN o ON o.q = w.g GROUP BY w.g ORDER BY 1",
    # grouped by other columns: partial aggregates over the join, merged as usual
    ("SELECT w.name, count(*), avg(o.amt), stddev(w.v) FROM w JOIN o ON o.q = w.g "
     "WHERE o.amt > 5 GROUP BY w.name ORDER BY 1"),
    "SELECT w.id, o.id FROM w JOIN o ON w.g = o.q WHERE w.id < 5 ORDER BY 1, 2 LIMIT 10",
    # one side already placed by the key (w by id): only o moves
    "SELECT w.name, count(*) FROM w JOIN o ON w.id = o.w_id GROUP BY w.name ORDER BY 1",
    # outer joins, semi and anti joins (decorrelated EXISTS)
    "SELECT count(*), count(w.id), count(o.id) FROM w FULL JOIN o ON w.g = o.q",
    "SELECT count(*), count(w.id) FROM w RIGHT JOIN o ON w.g = o.q AND w.v > 20",
    "SELECT count(*), count(o.id) FROM w LEFT JOIN o ON w.g = o.q AND o.amt < 3",
    "SELECT count(*) FROM w WHERE EXISTS (SELECT 1 FROM o WHERE o.q = w.g AND o.amt > 20)",
    ("SELECT count(*) FROM w WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.q = w.g "
     "AND o.amt > 26)"),
    # a chain on one key: the first join's rows are placed by it, w2 by its own key
    ("SELECT o.q, count(*), sum(w2.v) FROM o JOIN w ON w.id = o.w_id JOIN w w2 "
     "ON w2.id = o.w_id GROUP BY o.q ORDER BY 1"),
    # a replicated table beside the exchanged join
    ("SELECT w.day, avg(o.amt) FROM w JOIN o ON w.g = o.q JOIN dim ON dim.g = w.g "
     "WHERE dim.label <> 'label3' GROUP BY w.day ORDER BY 1 LIMIT 5"),
]


@pytest.mark.parametrize("q", OFF_KEY, ids=[str(i) for i in range(len(OFF_KEY))])
def test_joins_off_the_key_are_exchanged_from_the_plan(pair, q):
    c, s = pair
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    plan = c.last_plan
    assert plan.get("planner") == "plan", (q, plan.get("not_plan_split"))
    assert plan["strategy"] in ("shuffle", "broadcast") and plan["exchanges"], q
    assert all(scan.startswith("SELECT ") and "__partials" not in scan
               for _, _, scan in plan["exchanges"])


def test_a_chain_of_joins_on_one_key_moves_one_table(pair):
    c, s = pair
    q = OFF_KEY[9]
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    assert [(t, k) for t, k, _ in c.last_plan["exchanges"]] == [("o", "w_id")]
    assert c.last_plan["in_place"] == ["w"]        # w and w2, placed by id, stay


def test_a_chain_of_joins_on_other_keys_broadcasts_rather_than_moving_the_join(pair):
    # The first join's rows (o.q = w.g: about 460,000 rows here, estimated by the product
    # of its inputs, no key being unique) are never moved again by the second key: w2
    # (2,000 rows) is copied to every shard instead.
    c, s = pair
    q = ("SELECT o.q, count(*), sum(w2.v) FROM o JOIN w ON w.g = o.q JOIN w w2 "
         "ON w2.id = o.w_id GROUP BY o.q ORDER BY 1")
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    assert c.last_plan.get("planner") == "plan", c.last_plan.get("not_plan_split")
    assert [(t, k) for t, k, _ in c.last_plan["exchanges"]] == \
        [("o", "q"), ("w", "g"), ("w", None)]


def test_explain_shows_the_exchange_in_the_plan_split(pair):
    c, _ = pair
    q = OFF_KEY[0]
    text = _explain(c, q)
    assert "Distributed plan: shuffle" in text
    assert "Planner: the engine's bound and optimized plan" in text
    assert "Exchange: repartition w by hash(g) over 3 shards, shard to shard" in text
    assert "Exchange: repartition o by hash(q) over 3 shards" in text
    assert 'FROM "__pshuf0"' in text                # the partial reads the exchanged input
    analyzed = "\n".join(r[0] for r in c.execute("EXPLAIN ANALYZE " + q).fetchall())
    assert "bytes shipped between shards" in analyzed


def test_an_exchange_ships_less_than_gathering_the_tables(pair):
    from rustmemodb.cluster.wire import table_to_ipc
    c, s = pair
    q = OFF_KEY[1]
    before, coord0 = c.cluster.bytes_shipped, c.cluster.coordinator_bytes
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    plan = c.last_plan
    shipped = c.cluster.bytes_shipped - before
    tables = sum(len(table_to_ipc(s.execute(f"SELECT * FROM {t}").arrow())) for t in ("w", "o"))
    # Only the partial groups pass through the coordinator; the moved rows go shard to
    # shard, only the columns the plan keeps and only other shards' shares.
    assert c.cluster.coordinator_bytes - coord0 == sum(plan["partial_bytes"])
    assert sum(plan["partial_bytes"]) < tables / 20
    assert 0 < plan["shuffled_bytes"] < tables / 2
    assert shipped < tables / 2


def test_the_small_side_is_broadcast_until_it_grows(pair):
    # The broadcast-vs-shuffle choice is connect.py's formula, made again when the row
    # counts it was made by change.
    c, s = pair
    for x in (c, s):
        x.execute("CREATE TABLE tiny (id INTEGER PRIMARY KEY, k INTEGER)")
        x.executemany("INSERT INTO tiny VALUES (?, ?)", [(i, i % 13) for i in range(8)])
    q = "SELECT w.name, count(*) FROM w JOIN tiny ON tiny.k = w.g GROUP BY 1 ORDER BY 1"
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    assert c.last_plan["strategy"] == "broadcast" and c.last_plan["broadcast"] == ["tiny"]
    assert "Exchange: broadcast tiny to every shard" in _explain(c, q)
    for x in (c, s):
        x.executemany("INSERT INTO tiny VALUES (?, ?)", [(i, i % 13) for i in range(8, 3000)])
    _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    assert c.last_plan["strategy"] == "shuffle" and c.last_plan.get("planner") == "plan"


def test_always_shuffle_repartitions_the_small_side_too():
    c, s = _setup()
    c.cluster.always_shuffle = True
    try:
        for x in (c, s):
            x.execute("CREATE TABLE tiny (id INTEGER PRIMARY KEY, k INTEGER)")
            x.executemany("INSERT INTO tiny VALUES (?, ?)", [(i, i % 13) for i in range(8)])
        q = "SELECT w.name, count(*) FROM w JOIN tiny ON tiny.k = w.g GROUP BY 1 ORDER BY 1"
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        assert c.last_plan["strategy"] == "shuffle" and c.last_plan.get("planner") == "plan"
    finally:
        c.close()
        s.close()


def check_off_key(c, s) -> None:
    """Every OFF_KEY query on ``c`` (another backend's cluster) equals the single engine,
    exchanged from the plan, with rows moved between the shards."""
    moved = 0
    for q in OFF_KEY:
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        assert c.last_plan.get("planner") == "plan", (q, c.last_plan.get("not_plan_split"))
        assert c.last_plan["exchanges"], q
        moved += c.last_plan["shuffled_bytes"]
    # (Some queries move nothing: o.q = id % 9 hashes to the shard of id % 3, o's own.)
    assert moved > 0
