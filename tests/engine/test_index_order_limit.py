"""ORDER BY an indexed column LIMIT n reads only the rows it returns, and the right ones.

The planner answers ``ORDER BY k LIMIT n`` from the ordered index on ``k``; the
scan looks rows up in growing slices of the key-ordered rowids rather than all
of them. These cases make the first slices come up short (deleted rows, a
filter that fails for most rows, rows changed in the open transaction, an
OFFSET) and compare with the same query where the index cannot be used.
"""

from __future__ import annotations

import rustmemodb


def _pair(n: int = 5000):
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")
    conn.execute(f"INSERT INTO t SELECT g, (g * 7919) % 4999, 'v' || g FROM generate_series(1, {n}) AS g")
    conn.execute("CREATE INDEX t_k ON t (k)")
    return conn


def test_plain_order_limit_uses_the_index_and_agrees():
    conn = _pair()
    rows = conn.execute("SELECT id, k FROM t ORDER BY k LIMIT 20").fetchall()
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT id, k FROM t ORDER BY k LIMIT 20"))
    assert "Index Scan using t_k" in plan
    expected = sorted(conn.execute("SELECT id, k FROM t").fetchall(), key=lambda r: r[1])[:20]
    assert [r[1] for r in rows] == [r[1] for r in expected]


def test_deleted_low_keys_make_the_first_slices_short():
    conn = _pair()
    conn.execute("DELETE FROM t WHERE k < 3000")
    rows = conn.execute("SELECT k FROM t ORDER BY k LIMIT 20").fetchall()
    assert [r[0] for r in rows] == list(range(3000, 3020))
    rows = conn.execute("SELECT k FROM t ORDER BY k DESC LIMIT 5").fetchall()
    assert [r[0] for r in rows] == [4998, 4997, 4996, 4995, 4994]


def test_a_rare_filter_and_an_offset():
    conn = _pair()
    # 1 row in 97 passes: the first slices hold fewer than LIMIT matches
    rows = conn.execute("SELECT k FROM t WHERE id % 97 = 0 ORDER BY k LIMIT 10 OFFSET 3").fetchall()
    every = sorted(r[0] for r in conn.execute("SELECT k FROM t WHERE id % 97 = 0").fetchall())
    assert [r[0] for r in rows] == every[3:13]


def test_rows_changed_in_the_open_transaction():
    conn = _pair()
    conn.autocommit = False
    conn.execute("UPDATE t SET k = k + 10000 WHERE k < 2000")
    conn.execute("DELETE FROM t WHERE k BETWEEN 2000 AND 2500")
    rows = conn.execute("SELECT k FROM t ORDER BY k LIMIT 3").fetchall()
    assert [r[0] for r in rows] == [2501, 2502, 2503]
    rows = conn.execute("SELECT k FROM t ORDER BY k DESC LIMIT 2").fetchall()
    assert [r[0] for r in rows] == [11999, 11998]
    conn.rollback()
    assert [r[0] for r in conn.execute("SELECT k FROM t ORDER BY k LIMIT 2").fetchall()] == [0, 1]
