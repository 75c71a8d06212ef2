"""Indexes stay correct under writes, rollback, forks, rebase and ALTER; the planner uses them.

Every query is checked against the same query with the index planner switched
off (a plain sequential scan), over data that went through churn.
"""
import random

import pytest

import rustmemodb
from rustmemodb.storage.index import OrderedIndex


def plan(conn, sql, params=None):
    return "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall())


def rows(conn, sql, params=None):
    return sorted(conn.execute(sql, params).fetchall(), key=repr)


def seq_rows(conn, table, pred):
    """The same rows through a full scan: filter in Python over SELECT *."""
    return sorted([r for r in conn.execute(f"SELECT * FROM {table}").fetchall() if pred(r)],
                  key=repr)


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, s TEXT, f FLOAT)")
    rng = random.Random(7)
    c.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                  [(i, rng.randrange(50) if i % 11 else None, f"s{i % 13}", i / 3)
                   for i in range(500)])
    c.execute("CREATE INDEX t_k ON t (k)")
    c.execute("CREATE INDEX t_s_f ON t (s, f)")
    return c


def check_k(conn):
    for k in (0, 7, 49, 50):
        assert rows(conn, "SELECT * FROM t WHERE k = ?", (k,)) == \
            seq_rows(conn, "t", lambda r: r[1] == k)
    assert rows(conn, "SELECT * FROM t WHERE k BETWEEN ? AND ?", (10, 20)) == \
        seq_rows(conn, "t", lambda r: r[1] is not None and 10 <= r[1] <= 20)
    assert rows(conn, "SELECT * FROM t WHERE k > 45") == \
        seq_rows(conn, "t", lambda r: r[1] is not None and r[1] > 45)
    assert rows(conn, "SELECT * FROM t WHERE k IS NULL") == \
        seq_rows(conn, "t", lambda r: r[1] is None)
    assert rows(conn, "SELECT * FROM t WHERE k IN (1, 2, NULL)") == \
        seq_rows(conn, "t", lambda r: r[1] in (1, 2))


def test_plans_use_the_index(conn):
    assert "Index Scan using t_pkey" in plan(conn, "SELECT * FROM t WHERE id = $1", (1,))
    assert "Index Scan using t_k" in plan(conn, "SELECT * FROM t WHERE k = 3")
    assert "Index Scan using t_k" in plan(conn, "SELECT id FROM t WHERE k BETWEEN ? AND ?",
                                          (1, 2))
    assert "Index Scan using t_k" in plan(conn, "SELECT id FROM t WHERE k IN (1, 2)")
    assert "Index Scan using t_s_f" in plan(conn, "SELECT id FROM t WHERE s = 's1' AND f > 3")
    assert "order desc limit 5" in plan(conn, "SELECT id FROM t ORDER BY k DESC LIMIT 5")
    assert "Index Scan using t_pkey" in plan(conn, "UPDATE t SET k = 1 WHERE id = ?", (1,))
    assert "Index Scan using t_pkey" in plan(conn, "DELETE FROM t WHERE id = ?", (1,))
    # a predicate matching most of the table is cheaper as a sequential scan
    assert "Seq Scan" in plan(conn, "SELECT id FROM t WHERE k >= 0")


def test_index_follows_writes(conn):
    check_k(conn)
    conn.execute("UPDATE t SET k = k + 1 WHERE id % 3 = 0")
    conn.execute("DELETE FROM t WHERE id % 7 = 0")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(1000 + i, i % 5, "x", 0.0)
                                                          for i in range(50)])
    for i in range(0, 400, 9):
        conn.execute("UPDATE t SET k = ? WHERE id = ?", (i % 50, i))
        conn.execute("DELETE FROM t WHERE id = ?", (i + 1,))
    check_k(conn)
    assert rows(conn, "SELECT id FROM t WHERE s = 's1' AND f > 30") == sorted(
        [(r[0],) for r in conn.execute("SELECT * FROM t").fetchall()
         if r[2] == "s1" and r[3] > 30], key=repr)


def test_order_by_limit_matches_sort(conn):
    conn.execute("UPDATE t SET k = NULL WHERE id < 5")
    for direction in ("ASC", "DESC"):
        got = conn.execute(f"SELECT k FROM t ORDER BY k {direction} LIMIT 30").fetchall()
        all_k = [r[0] for r in conn.execute("SELECT k FROM t").fetchall()]
        nulls = [None] * all_k.count(None)
        vals = sorted(k for k in all_k if k is not None)
        want = vals + nulls if direction == "ASC" else nulls + vals[::-1]
        assert [r[0] for r in got] == want[:30]
    got = conn.execute("SELECT id, k FROM t WHERE k > 40 ORDER BY k LIMIT 3 OFFSET 2").fetchall()
    want = sorted((r for r in conn.execute("SELECT id, k FROM t").fetchall()
                   if r[1] is not None and r[1] > 40), key=lambda r: r[1])
    assert [r[1] for r in got] == [r[1] for r in want[2:5]]


def test_rollback_and_savepoint_restore_the_index(conn):
    before = rows(conn, "SELECT * FROM t WHERE k = 5")
    conn.execute("BEGIN")
    conn.execute("UPDATE t SET k = 5 WHERE id < 100")
    conn.execute("INSERT INTO t VALUES (9999, 5, 'z', 1)")
    assert len(rows(conn, "SELECT * FROM t WHERE k = 5")) > len(before)
    conn.execute("ROLLBACK")
    assert rows(conn, "SELECT * FROM t WHERE k = 5") == before
    with pytest.raises(rustmemodb.IntegrityError):   # failed statement leaves no trace
        conn.execute("INSERT INTO t VALUES (10000, 5, 'a', 1), (1, 5, 'b', 2)")
    assert rows(conn, "SELECT * FROM t WHERE k = 5") == before


def test_forks_share_and_diverge(conn):
    fork = conn.fork() if hasattr(conn, "fork") else conn.database.fork().connect()
    before = rows(conn, "SELECT * FROM t WHERE k = 3")
    fork.execute("UPDATE t SET k = 3 WHERE id < 50")
    fork.execute("CREATE INDEX t_f ON t (f)")
    assert rows(conn, "SELECT * FROM t WHERE k = 3") == before
    assert rows(fork, "SELECT * FROM t WHERE k = 3") == seq_rows(fork, "t", lambda r: r[1] == 3)
    assert "t_f" not in plan(conn, "SELECT id FROM t WHERE f = 1.0")
    assert "Index Scan using t_f" in plan(fork, "SELECT id FROM t WHERE f = 1.0")


def test_rebase_replays_through_the_index(conn):
    db = conn.database
    a, b = db.connect(), db.connect()
    a.execute("BEGIN")
    a.execute("UPDATE t SET k = 42 WHERE id = 10")
    b.execute("UPDATE t SET k = 42 WHERE id = 20")      # commits first
    a.execute("INSERT INTO t VALUES (777, 42, 'n', 0)")
    a.execute("COMMIT")                                   # rebased: replayed on b's root
    got = {r[0] for r in conn.execute("SELECT id FROM t WHERE k = 42").fetchall()}
    assert {10, 20, 777} <= got
    assert rows(conn, "SELECT * FROM t WHERE k = 42") == seq_rows(conn, "t", lambda r: r[1] == 42)


def test_unique_index_enforced_and_dropped(conn):
    conn.execute("CREATE UNIQUE INDEX t_id_s ON t (s, id)")
    conn.execute("CREATE UNIQUE INDEX t_f_u ON t (f)")
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("INSERT INTO t VALUES (5000, 1, 'q', 0.0)")
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("CREATE UNIQUE INDEX t_k_u ON t (k)")
    conn.execute("DROP INDEX t_f_u")
    conn.execute("INSERT INTO t VALUES (5000, 1, 'q', 0.0)")
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute("DROP INDEX t_pkey")
    assert e.value.sqlstate == "2BP01"


def test_alter_keeps_indexes_right(conn):
    conn.execute("ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 1")
    conn.execute("ALTER TABLE t DROP COLUMN s")              # drops t_s_f, remaps t_k
    assert rows(conn, "SELECT id, k FROM t WHERE k = 7") == sorted(
        [(r[0], r[1]) for r in conn.execute("SELECT * FROM t").fetchall() if r[1] == 7], key=repr)
    assert "Index Scan using t_k" in plan(conn, "SELECT id FROM t WHERE k = 7")
    conn.execute("ALTER TABLE t RENAME COLUMN k TO kk")
    assert "Index Scan using t_k" in plan(conn, "SELECT id FROM t WHERE kk = 7")
    conn.execute("ALTER TABLE t ALTER COLUMN kk TYPE FLOAT")
    assert rows(conn, "SELECT id FROM t WHERE kk = 7.0") == sorted(
        [(r[0],) for r in conn.execute("SELECT * FROM t").fetchall() if r[1] == 7.0], key=repr)


def test_cached_plan_replans_after_create_index(conn):
    sql = "SELECT id FROM t WHERE f = ?"
    conn.execute(sql, (1.0,))
    assert "Seq Scan" in plan(conn, sql, (1.0,))
    conn.execute("CREATE INDEX t_f ON t (f)")
    assert "Index Scan using t_f" in plan(conn, sql, (1.0,))
    assert conn.execute(sql, (1.0,)).fetchall() == [(3,)]


def test_ordered_index_unit_merge_and_tombstones():
    import numpy as np
    import pyarrow as pa
    ix = OrderedIndex.build("i", (0,), ["INTEGER"], [pa.array([5, 1, None, 3])], [0, 1, 2, 3])
    assert ix.range().tolist() == [1, 3, 0] and ix.nulls().tolist() == [2]
    live = {0: 5, 1: 1, 2: None, 3: 3}
    rng = random.Random(1)
    for rowid in range(4, 6000):
        if rng.random() < 0.3 and live:
            victim = rng.choice(sorted(live))
            ix = ix.with_changes([], [(ix.key_of((live.pop(victim),)), victim)])
        else:
            k = rng.choice([None, rng.randrange(100)])
            live[rowid] = k
            ix = ix.with_changes([(ix.key_of((k,)), rowid)], [])
    want = sorted((k, r) for r, k in live.items() if k is not None)
    assert ix.range().tolist() == [r for _, r in want]
    assert sorted(ix.nulls().tolist()) == sorted(r for r, k in live.items() if k is None)
    assert sorted(ix.range(10, 20, True, False).tolist()) == sorted(
        r for k, r in want if 10 <= k < 20)
    assert isinstance(ix.keys, np.ndarray) and ix.keys.dtype == np.int64


@pytest.mark.parametrize("composite", [False, True])
def test_ordered_index_delta_leaves_split_and_empty(monkeypatch, composite):
    """Tiny delta leaves and merge threshold: splits, emptied leaves and merges all happen;
    every read agrees with a plain model of the live entries."""
    import pyarrow as pa
    from rustmemodb.storage import index as index_module
    monkeypatch.setattr(index_module, "_LEAF", 3)
    monkeypatch.setattr(index_module, "_MIN_MERGE", 60)
    rng = random.Random(7)

    def key():
        if composite:
            return (rng.choice([None, *range(12)]), rng.choice([None, 1, 2]))
        return rng.choice([None, *range(30)])

    first = [key() for _ in range(20)]
    cols = [pa.array([k[0] for k in first]), pa.array([k[1] for k in first])] if composite \
        else [pa.array(first)]
    columns = (0, 1) if composite else (0,)
    ix = OrderedIndex.build("i", columns, ["INTEGER"] * len(columns), cols, list(range(20)))
    live = dict(enumerate(first))
    as_row = (lambda k: k) if composite else (lambda k: (k,))
    for rowid in range(20, 1500):
        if rng.random() < 0.4 and live:
            victim = rng.choice(sorted(live))
            ix = ix.with_changes([], [(ix.key_of(as_row(live.pop(victim))), victim)])
        else:
            live[rowid] = key()
            ix = ix.with_changes([(ix.key_of(as_row(live[rowid])), rowid)], [])
        assert ix.lasts == tuple(leaf[-1] for leaf in ix.leaves)
        assert all(leaf for leaf in ix.leaves)
        if rowid % 37:
            continue
        nulls = {r for r, k in live.items() if (k is None if not composite else k[0] is None)}
        if not composite:
            want = sorted((k, r) for r, k in live.items() if k is not None)
            assert ix.range().tolist() == [r for _, r in want]
            assert sorted(ix.nulls().tolist()) == sorted(nulls)
            for lo, hi in [(3, 9), (0, 0), (29, 29), (10, 4)]:
                for lo_inc in (True, False):
                    for hi_inc in (True, False):
                        got = ix.range(lo, hi, lo_inc, hi_inc).tolist()
                        assert got == [r for k, r in want if (lo < k or (lo_inc and lo == k))
                                       and (k < hi or (hi_inc and k == hi))]
            assert len(ix) == len(live)
        else:
            for v in range(12):
                assert sorted(ix.equal((v,)).tolist()) == sorted(
                    r for r, k in live.items() if k[0] == v)


def test_ordered_index_pending_inserts_are_private_to_each_version():
    """Plain inserts queue on a run shared by versions; a version written after another
    one extended the run (a fork, a rolled-back statement) must not see its entries."""
    import pyarrow as pa
    base = OrderedIndex.build("i", (0,), ["INTEGER"], [pa.array([5, 1, 3])], [0, 1, 2])
    parent = base.with_changes([(4, 10)], [])
    left = parent.with_changes([(2, 11)], []).with_changes([(9, 12)], [])
    right = parent.with_changes([(0, 13)], [])          # the run was extended by `left`
    assert left.range().tolist() == [1, 11, 2, 10, 0, 12]
    assert right.range().tolist() == [13, 1, 2, 10, 0]
    assert parent.range().tolist() == [1, 2, 10, 0]
    assert len(left) == 6 and len(right) == 5 and len(parent) == 4
    # Reads settle a version in place; later writes on it and on its parent stay apart.
    after = left.with_changes([(4, 14)], [(9, 12)])
    assert after.range(3, 4).tolist() == [2, 10, 14] and left.equal(9).tolist() == [12]
    assert parent.with_changes([(1, 15)], []).equal(1).tolist() == [1, 15]
