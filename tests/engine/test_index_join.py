"""Index nested-loop joins: a small outer side probes the inner table's unique index."""
import random

import pytest

import rustmemodb


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT, g INTEGER)")
    c.executemany("INSERT INTO big VALUES (?, ?, ?)", [(i, f"v{i}", i % 3) for i in range(2000)])
    c.execute("CREATE TABLE small (k INTEGER, tag TEXT)")
    rnd = random.Random(7)
    rows = [(rnd.choice([None, rnd.randrange(-5, 420)]), f"t{i}") for i in range(30)]
    rows += [(12, "dup1"), (12, "dup2")]
    c.executemany("INSERT INTO small VALUES (?, ?)", rows)
    return c, rows


def plan_of(c, sql):
    return "\n".join(r[0] for r in c.execute("EXPLAIN " + sql))


def test_inner_and_left_joins_use_the_index_and_match_a_brute_force(conn):
    c, rows = conn
    big = {i: (f"v{i}", i % 3) for i in range(2000)}
    inner = "SELECT tag, v FROM small JOIN big ON k = id"
    left = "SELECT tag, v FROM small LEFT JOIN big ON k = id"
    filtered = "SELECT tag, v FROM small LEFT JOIN big ON k = id AND g = 1"
    for sql in (inner, left, filtered):
        assert "Index Nested Loop" in plan_of(c, sql)
    want_inner = sorted((t, big[k][0]) for k, t in rows if k in big)
    want_left = sorted((t, big[k][0] if k in big else None) for k, t in rows)
    want_filtered = sorted((t, big[k][0] if k in big and big[k][1] == 1 else None)
                           for k, t in rows)
    assert sorted(c.execute(inner).fetchall()) == want_inner
    assert sorted(c.execute(left).fetchall(), key=str) == sorted(want_left, key=str)
    assert sorted(c.execute(filtered).fetchall(), key=str) == sorted(want_filtered, key=str)


def test_where_on_the_inner_table_and_residual_conditions(conn):
    c, rows = conn
    sql = "SELECT tag, id FROM small JOIN big ON k = id AND tag <> 'dup1' WHERE g = 0"
    assert "Index Nested Loop" in plan_of(c, sql)
    want = sorted((t, k) for k, t in rows if k is not None and 0 <= k < 2000 and k % 3 == 0
                  and t != "dup1")
    assert sorted(c.execute(sql).fetchall()) == want


def test_large_outer_side_keeps_the_hash_join(conn):
    c, _ = conn
    sql = "SELECT count(*) FROM big a JOIN big b ON a.id = b.id"
    assert "Hash Join" in plan_of(c, sql)
    assert c.execute(sql).fetchone() == (2000,)


def test_probe_sees_the_transactions_own_writes(conn):
    c, _ = conn
    c.execute("BEGIN")
    c.execute("UPDATE big SET v = 'changed' WHERE id = 12")
    assert c.execute("SELECT DISTINCT v FROM small JOIN big ON k = id WHERE k = 12").fetchall() \
        == [("changed",)]
    c.execute("ROLLBACK")
    assert c.execute("SELECT DISTINCT v FROM small JOIN big ON k = id WHERE k = 12").fetchall() \
        == [("v12",)]
