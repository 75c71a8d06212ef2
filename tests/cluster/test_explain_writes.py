"""EXPLAIN [ANALYZE] of INSERT, UPDATE and DELETE run on the shards (issue #18): where
each goes (one shard by key, every shard with the shard's own plan, INSERT's rows per
shard, INSERT ... SELECT's source plan), the exchanges, the 2PC; ANALYZE runs the
statement (committed in autocommit, part of an open transaction otherwise) and its row
counts are the statement's; plain EXPLAIN changes nothing."""
from __future__ import annotations

import pytest

from rustmemodb import cluster
from rustmemodb.cluster.partition import shard_of_key


@pytest.fixture
def c():
    conn = cluster.connect("local", shards=3)
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)")
    conn.execute("CREATE TABLE o (k INTEGER PRIMARY KEY, w INTEGER)")
    conn.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, name TEXT) REPLICATED")
    conn.execute("INSERT INTO t SELECT g, g % 5 FROM generate_series(1, 60) AS s(g)")
    conn.execute("INSERT INTO o SELECT g, g * 10 FROM generate_series(1, 30) AS s(g)")
    conn.execute("INSERT INTO d VALUES (1, 'a'), (2, 'b')")
    yield conn
    conn.close()


def _text(c, sql):
    return "\n".join(r[0] for r in c.execute(sql).fetchall())


def _state(c):
    return {n: c.execute(f"SELECT * FROM {n} ORDER BY 1").fetchall() for n in ("t", "o", "d")}


def _written(text):
    """{shard: rows written} from the EXPLAIN ANALYZE lines."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("shard ") and "rows written" in line:
            s, rest = line[len("shard "):].split(":", 1)
            out[int(s)] = int(rest.split()[0])
    return out


def _rows(text):
    line = next(ln for ln in text.splitlines() if ln.startswith("Execution:"))
    return int(line.split()[1])


PLAIN = [
    "UPDATE t SET v = v + 1 WHERE v > 1",
    "DELETE FROM t WHERE k = 7",
    "UPDATE t SET v = 0 WHERE k = 8",
    "DELETE FROM t WHERE v = 3",
    "UPDATE t SET v = o.w FROM o WHERE t.k = o.k",
    "DELETE FROM t USING o WHERE t.k = o.k AND o.w > 100",
    "UPDATE t SET k = k + 1000 WHERE v = 4",
    "UPDATE d SET name = 'z' WHERE id = 1",
    "INSERT INTO t VALUES (101, 1), (102, 2), (103, 3), (104, 4)",
    "INSERT INTO o SELECT k + 500, v FROM t WHERE v > 2",
    "INSERT INTO o SELECT sum(k) + 9000, count(*) FROM t",
    "INSERT INTO d VALUES (3, 'c')",
    "WITH x AS (SELECT k FROM t WHERE v = 1) INSERT INTO o SELECT k + 900, 1 FROM x",
    "UPDATE t SET v = -1 WHERE k IN (SELECT k FROM o WHERE w > 250)",
]


@pytest.mark.parametrize("sql", PLAIN)
def test_plain_explain_changes_nothing(c, sql):
    before = _state(c)
    text = _text(c, "EXPLAIN " + sql)
    assert text.startswith("Distributed plan: ") and "Commit:" in text
    assert "Execution:" not in text
    assert _state(c) == before


@pytest.mark.parametrize("sql", PLAIN)
def test_explain_analyze_counts_are_the_statements(c, sql):
    other = cluster.connect("local", shards=3)
    try:
        for stmt in ("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)",
                     "CREATE TABLE o (k INTEGER PRIMARY KEY, w INTEGER)",
                     "CREATE TABLE d (id INTEGER PRIMARY KEY, name TEXT) REPLICATED",
                     "INSERT INTO t SELECT g, g % 5 FROM generate_series(1, 60) AS s(g)",
                     "INSERT INTO o SELECT g, g * 10 FROM generate_series(1, 30) AS s(g)",
                     "INSERT INTO d VALUES (1, 'a'), (2, 'b')"):
            other.execute(stmt)
        expected = other.execute(sql).rowcount
        text = _text(c, "EXPLAIN ANALYZE " + sql)
        assert _rows(text) == expected
        assert _state(c) == _state(other)   # it ran, and committed (autocommit)
        assert "committed (autocommit)" in text and "bytes shipped" in text
        written = _written(text)
        if "REPLICATED" not in text and "Partition key set" not in text:
            assert sum(written.values()) == expected
    finally:
        other.close()


def test_point_write_goes_to_one_shard(c):
    text = _text(c, "EXPLAIN DELETE FROM t WHERE k = 7")
    s = shard_of_key((7,), 3)
    assert "Distributed plan: routed write" in text
    assert f"Routed to shard {s} by the partition key" in text
    assert f"Shard {s}: DELETE FROM t WHERE k = 7" in text
    assert f"Shard {s}'s own plan of its part" in text and "Delete on t" in text
    assert f"Commit: on shard {s} alone (one shard written: no 2PC)" in text
    text = _text(c, "EXPLAIN ANALYZE DELETE FROM t WHERE k = 7")
    assert _written(text) == {s: 1}
    assert c.execute("SELECT count(*) FROM t WHERE k = 7").fetchone() == (0,)


def test_broadcast_write_every_shard_and_2pc(c):
    text = _text(c, "EXPLAIN UPDATE t SET v = o.w FROM o WHERE t.k = o.k")
    assert "Distributed plan: broadcast write" in text
    for s in range(3):
        assert f"Shard {s}: UPDATE t SET v = o.w FROM __bcast_o AS o" in text
    assert "Exchange: broadcast o to every shard, shard to shard" in text
    assert "Shard 0's own plan of its part" in text and "Update on t" in text
    assert "Commit: two-phase commit over shards [0, 1, 2]" in text
    text = _text(c, "EXPLAIN ANALYZE UPDATE t SET v = o.w FROM o WHERE t.k = o.k")
    assert _rows(text) == 30 and sum(_written(text).values()) == 30


def test_insert_routing_rows_per_shard(c):
    keys = [101, 102, 103, 104, 105]
    per = {}
    for k in keys:
        per[shard_of_key((k,), 3)] = per.get(shard_of_key((k,), 3), 0) + 1
    sql = "INSERT INTO t VALUES " + ", ".join(f"({k}, 1)" for k in keys)
    text = _text(c, "EXPLAIN " + sql)
    assert "Distributed plan: routed insert" in text
    assert "Rows routed by hash(k) over 3 shards: " + ", ".join(
        f"shard {s}: {n} rows" for s, n in sorted(per.items())) in text
    text = _text(c, "EXPLAIN ANALYZE " + sql)
    assert _written(text) == per and _rows(text) == 5


def test_insert_select_shows_the_source_plan_and_where_rows_go(c):
    text = _text(c, "EXPLAIN INSERT INTO o SELECT k + 500, v FROM t WHERE v > 2")
    assert "Distributed plan: insert on shards" in text
    assert "Exchange: new rows sent to the shards of hash(k), shard to shard" in text
    assert "  Source SELECT:\n    Distributed plan: split" in text
    text = _text(c, "EXPLAIN INSERT INTO o SELECT sum(k) + 9000, count(*) FROM t")
    assert "Distributed plan: insert through the coordinator" in text
    assert "Partial on each shard" in text
    text = _text(c, "EXPLAIN ANALYZE INSERT INTO o SELECT k + 500, v FROM t WHERE v > 2")
    assert _rows(text) == 24 and sum(_written(text).values()) == 24
    assert "bytes shipped between shards" in text


def test_explain_analyze_inside_a_transaction_rolls_back_with_it(c):
    before = _state(c)
    c.execute("BEGIN")
    text = _text(c, "EXPLAIN ANALYZE DELETE FROM t WHERE v = 3")
    assert "Commit: with the open transaction" in text
    assert "part of the open transaction" in text and _rows(text) == 12
    assert c.execute("SELECT count(*) FROM t WHERE v = 3").fetchone() == (0,)
    c.execute("ROLLBACK")
    assert _state(c) == before


