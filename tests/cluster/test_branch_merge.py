"""Branch merge over shards (cluster/branches.py): every shard merges its part of the
branch or none does, and the result is the single engine's merge of the same history."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.branch.merge import merge as single_merge

SETUP = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n INTEGER)",
    "CREATE TABLE dim (k INTEGER PRIMARY KEY, name TEXT UNIQUE) REPLICATED",
    "INSERT INTO t SELECT i, 'v' || i, i % 7 FROM generate_series(1, 300) i",
    "INSERT INTO dim VALUES (1, 'a'), (2, 'b'), (3, 'c')",
]
ON_FORK = [
    "UPDATE t SET v = 'fork' WHERE id % 10 = 0",
    "DELETE FROM t WHERE id > 290",
    "INSERT INTO t SELECT i, 'new', 0 FROM generate_series(1000, 1040) i",
    "UPDATE dim SET name = 'bee' WHERE k = 2",
    "CREATE TABLE extra (id INTEGER PRIMARY KEY, x INTEGER)",
    "INSERT INTO extra SELECT i, i * i FROM generate_series(1, 50) i",
]
ON_MAIN = ["UPDATE t SET n = -1 WHERE id % 3 = 0 AND id % 10 <> 0 AND id <= 290",
           "INSERT INTO dim VALUES (4, 'd')"]
READS = ["SELECT id, v, n FROM t ORDER BY id", "SELECT * FROM dim ORDER BY k",
         "SELECT * FROM extra ORDER BY id", "SELECT count(*), sum(x) FROM extra"]


def _single_sql(sql: str) -> str:
    return sql.replace(" REPLICATED", "")


def same_history(c) -> tuple:
    """Cluster connection ``c`` and a new single engine given the same history: main, a
    fork, both changed. Returns (c, its fork, the engine, its fork)."""
    one = rustmemodb.connect()
    for sql in SETUP:
        c.execute(sql)
        one.execute(_single_sql(sql))
    c_fork, one_fork = c.fork(), one.fork()
    for sql in ON_FORK:
        c_fork.execute(sql)
        one_fork.execute(sql)
    for sql in ON_MAIN:
        c.execute(sql)
        one.execute(sql)
    return c, c_fork, one, one_fork


@pytest.fixture
def pair():
    """``same_history`` on a 3-shard local cluster."""
    c = cluster.connect("local", shards=3)
    yield same_history(c)
    c.close()


def test_merge_applies_on_every_shard_like_the_single_engine(pair):
    c, c_fork, one, one_fork = pair
    result = c.merge(c_fork)
    expected = single_merge(one_fork, one)
    assert result.applied and expected.applied
    assert result.counts == expected.counts
    for sql in READS:
        assert c.execute(sql).fetchall() == one.execute(sql).fetchall(), sql
    # the new table is placed as the fork placed it: by its key, on every shard
    assert c.catalog["extra"].key == ["id"]
    assert sum(c.cluster.backend.call(s, "row_counts", "main")[1]["extra"]
               for s in range(3)) == 50
    # the fork is untouched; a second merge finds nothing new
    assert c_fork.execute("SELECT count(*) FROM t WHERE n = -1").fetchone() == (0,)
    again = c.merge(c_fork)
    assert again.applied and all(not any(v.values()) for v in again.counts.values())


def test_a_conflict_on_one_shard_applies_nothing_anywhere(pair):
    c, c_fork, one, one_fork = pair
    for conn in (c, one):
        conn.execute("UPDATE t SET v = 'main' WHERE id = 20")     # the fork set 'fork'
    before = {sql: c.execute(sql).fetchall() for sql in READS[:2]}
    result = c.merge(c_fork)
    expected = single_merge(one_fork, one)
    assert not result.applied and not expected.applied
    assert result.conflicts.to_pylist() == expected.conflicts.to_pylist()
    for sql, rows in before.items():
        assert c.execute(sql).fetchall() == rows
    assert "extra" not in c.catalog
    with pytest.raises(rustmemodb.Error):
        c.execute("SELECT * FROM extra")
    # a strategy resolves it, on every shard
    assert c.merge(c_fork, "theirs").applied
    single_merge(one_fork, one, "theirs")
    for sql in READS:
        assert c.execute(sql).fetchall() == one.execute(sql).fetchall(), sql


def test_a_replicated_table_conflict_is_listed_once_and_counts_once(pair):
    c, c_fork, one, one_fork = pair
    for conn in (c, one):
        conn.execute("UPDATE dim SET name = 'B' WHERE k = 2")     # the fork set 'bee'
    result = c.merge(c_fork)
    expected = single_merge(one_fork, one)
    assert result.conflicts.to_pylist() == expected.conflicts.to_pylist()
    assert len(result.conflicts) == 1
    ours = c.merge(c_fork, "ours")
    assert ours.counts["dim"] == single_merge(one_fork, one, "ours").counts["dim"]
    assert c.execute("SELECT name FROM dim WHERE k = 2").fetchone() == ("B",)


def test_a_merge_that_breaks_a_constraint_writes_nothing(pair):
    c, c_fork, _one, _one_fork = pair
    c_fork.execute("INSERT INTO dim VALUES (9, 'z')")
    c.execute("INSERT INTO dim VALUES (8, 'z')")          # UNIQUE (name) after the merge
    before = c.execute("SELECT id, v FROM t ORDER BY id").fetchall()
    result = c.merge(c_fork, "theirs")
    assert not result.applied
    assert c.execute("SELECT id, v FROM t ORDER BY id").fetchall() == before
    assert c.execute("SELECT count(*) FROM dim").fetchone() == (5,)


def test_bad_requests_are_clear_errors(pair):
    c, c_fork, _one, _one_fork = pair
    with pytest.raises(rustmemodb.Error) as info:
        c.merge(c_fork, "newest")
    assert info.value.sqlstate == "22023"
    with pytest.raises(rustmemodb.Error) as info:
        c.merge(c)
    assert info.value.sqlstate == "22023"
    other = cluster.connect("local", shards=3)
    try:
        with pytest.raises(rustmemodb.Error) as info:
            c.merge(other)
        assert info.value.sqlstate == "22023"
    finally:
        other.close()
    c.execute("BEGIN")
    with pytest.raises(rustmemodb.Error) as info:
        c.merge(c_fork)
    assert info.value.sqlstate == "25001"
    c.execute("ROLLBACK")
    assert c.merge(c_fork).applied


def test_diff_of_a_replicated_table_lists_each_row_once(pair):
    c, c_fork, one, one_fork = pair
    from rustmemodb.branch.diff import diff as single_diff
    d, expected = c.diff_table(c_fork, "dim"), single_diff(one, one_fork, "dim")
    assert d.counts == expected.counts == {"added": 0, "removed": 1, "changed": 1}
    assert c.diff(c_fork, "dim").num_rows == 2
    assert c.diff_table(c_fork, "t").counts == single_diff(one, one_fork, "t").counts
