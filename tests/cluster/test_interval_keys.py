"""Repartitioning on INTERVAL keys (cluster/shuffle.py ``HASHABLE``): joins, grouping and
set operations keyed by them run on the shards after an exchange, with results equal to
the single engine's, including intervals that are equal in SQL with different parts
('1 mon' = '30 days' = '720 hours'), and little reaches the coordinator. NUMERIC keys
(exact, stored as byte keys: numeric.py) are not repartitioned on yet: their joins,
groups and set operations are gathered, with results equal to the single engine's,
equal numbers of different scales (2.5, 2.50) matching."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.partition import split_rows
from rustmemodb.cluster.wire import table_to_ipc

import pyarrow as pa

SETUP = [
    "CREATE TABLE a (id INTEGER PRIMARY KEY, span INTERVAL, amt NUMERIC, v INTEGER)",
    "CREATE TABLE b (id INTEGER PRIMARY KEY, span INTERVAL, amt NUMERIC, w INTEGER)",
    "INSERT INTO a SELECT n, n % 40 * INTERVAL '1 day', n % 30 * 1.5, n "
    "FROM generate_series(1, 4000) n",
    "INSERT INTO b SELECT n, n % 50 * INTERVAL '12 hours', n % 20 * 0.75, n "
    "FROM generate_series(1, 3000) n",
    "INSERT INTO a VALUES (5000, '1 mon', 2.5, 1), (5001, '30 days', 2.50, 2), "
    "(5002, NULL, NULL, 3)",
    "INSERT INTO b VALUES (5000, '720 hours', 2.5, 1), (5001, '1 mon', 7, 2), "
    "(5002, '29 days 24 hours', NULL, 3), (5003, NULL, 1.5, 4)",
]

QUERIES = [
    "SELECT count(*), sum(a.v + b.w) FROM a JOIN b ON a.span = b.span",
    "SELECT a.span, count(*), sum(b.w) FROM a JOIN b ON a.span = b.span "
    "GROUP BY a.span ORDER BY 1",
    "SELECT count(*) FROM (SELECT span FROM a INTERSECT SELECT span FROM b) x",
    "SELECT count(*) FROM (SELECT span FROM b EXCEPT SELECT span FROM a) x",
    "SELECT span, count(DISTINCT v) FROM a GROUP BY span ORDER BY 1",
]
NUMERIC_QUERIES = [
    "SELECT count(*), sum(a.v) FROM a JOIN b ON a.amt = b.amt",
    "SELECT a.amt, count(*) FROM a JOIN b ON a.amt = b.amt GROUP BY a.amt ORDER BY 1",
    "SELECT count(*) FROM (SELECT amt FROM a UNION SELECT amt FROM b) x",
]


@pytest.fixture(scope="module")
def pair():
    c = cluster.connect("local", shards=3, shuffle="always")
    single = rustmemodb.connect()
    for sql in SETUP:
        c.execute(sql)
        single.execute(sql)
    yield c, single
    c.close()


def _bytes(c, name):
    return len(table_to_ipc(c.execute(f"SELECT * FROM {name}").arrow()))


@pytest.mark.parametrize("sql", QUERIES)
def test_interval_and_numeric_keys_repartition_and_match(pair, sql):
    c, single = pair
    whole = _bytes(c, "a")
    before = c.cluster.coordinator_bytes
    got = c.execute(sql).fetchall()
    moved = c.cluster.coordinator_bytes - before
    assert got == single.execute(sql).fetchall(), sql
    assert c.last_plan["strategy"] != "gather", (sql, c.last_plan)
    assert moved < whole / 4, (sql, moved, whole)


@pytest.mark.parametrize("sql", NUMERIC_QUERIES)
def test_numeric_keys_match_the_single_engine(pair, sql):
    c, single = pair
    assert c.execute(sql).fetchall() == single.execute(sql).fetchall(), sql


def test_join_on_an_interval_key_is_an_exchange_not_a_broadcast(pair):
    c, single = pair
    sql = QUERIES[0]
    c.execute(sql)
    plan = c.last_plan
    assert plan["strategy"] == "shuffle", plan
    assert {t for t, _, _ in plan["exchanges"]} == {"a", "b"}, plan


def test_equal_intervals_with_different_parts_land_on_one_shard():
    spans = pa.array([pa.scalar((1, 0, 0), pa.month_day_nano_interval()).as_py(),
                      pa.scalar((0, 30, 0), pa.month_day_nano_interval()).as_py(),
                      pa.scalar((0, 29, 86_400 * 10**9), pa.month_day_nano_interval()).as_py(),
                      pa.scalar((0, 0, 720 * 3600 * 10**9),
                                pa.month_day_nano_interval()).as_py()],
                     pa.month_day_nano_interval())
    for shards in (2, 3, 5):
        parts = split_rows(pa.table({"span": spans}), [0], shards)
        assert len(parts) == 1 and next(iter(parts.values())).num_rows == 4
