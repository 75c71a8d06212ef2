"""DELETE by primary key (exec/fast_delete.py -> TableVersion.delete_one ->
OrderedIndex.without_one): a deleted key is gone from every index, the ordered indexes
still answer range scans like a full scan through tombstones and merges, and forks,
snapshots, rollbacks, savepoints and a reopened file keep their own versions."""
import random

import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.storage import index as index_mod
from rustmemodb.storage.index import OrderedIndex

N = 2000


@pytest.fixture
def small_merges(monkeypatch):
    """Tombstones merge into the base after a few dozen deletes: many merges per test."""
    monkeypatch.setattr(index_mod, "_MIN_MERGE", 16)


def _load(conn, n: int = N) -> None:
    rnd = random.Random(5)
    conn.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, k INTEGER, v FLOAT, s TEXT)")
    conn.executemany("INSERT INTO kv VALUES (?, ?, ?, ?)",
                     [(i, rnd.randrange(n // 4), i / 2, f"r{i}") for i in range(1, n + 1)])
    conn.execute("CREATE INDEX kv_k ON kv (k)")


def _all(conn) -> list:
    # ``k + 0`` and ``id + 0`` are not indexable: a full scan, the reference
    return sorted(conn.execute("SELECT id, k FROM kv WHERE id + 0 > -1").fetchall())


def _check(conn, deleted: set) -> None:
    """Every index agrees with a full scan, and no deleted id is reachable by any."""
    rows = _all(conn)
    assert {r[0] for r in rows}.isdisjoint(deleted)
    rnd = random.Random(len(deleted))
    for _ in range(20):
        lo = rnd.randrange(N // 4)
        hi = lo + rnd.randrange(40)
        got = sorted(conn.execute("SELECT id, k FROM kv WHERE k BETWEEN ? AND ?",
                                  (lo, hi)).fetchall())
        assert got == [r for r in rows if lo <= r[1] <= hi]
        a = rnd.randrange(N)
        got = sorted(conn.execute("SELECT id, k FROM kv WHERE id BETWEEN ? AND ?",
                                  (a, a + 50)).fetchall())
        assert got == [r for r in rows if a <= r[0] <= a + 50]
    for i in list(deleted)[:50]:
        assert conn.execute("SELECT * FROM kv WHERE id = ?", (i,)).fetchall() == []
    assert conn.execute("SELECT count(*) FROM kv").fetchone()[0] == len(rows)


def test_point_deletes_leave_every_index_consistent(small_merges):
    conn = rustmemodb.connect()
    _load(conn)
    order = list(range(1, N + 1))
    random.Random(1).shuffle(order)
    deleted = set()
    for step, i in enumerate(order[:700]):
        cur = conn.execute("DELETE FROM kv WHERE id = ?", (i,))
        assert cur.rowcount == 1
        deleted.add(i)
        if step % 100 == 0:
            _check(conn, deleted)
    assert conn.execute("DELETE FROM kv WHERE id = ?", (order[0],)).rowcount == 0
    # the deleted keys can come back, and go again
    conn.execute("INSERT INTO kv VALUES (?, ?, ?, ?)", (order[0], 3, 0.0, "back"))
    deleted.discard(order[0])
    _check(conn, deleted)
    conn.execute("DELETE FROM kv WHERE id = ?", (order[0],))
    deleted.add(order[0])
    _check(conn, deleted)


def test_deletes_of_fresh_rows_and_updated_rows(small_merges):
    """Rows in the tail and rows whose key an UPDATE moved (entries in the delta, not the
    base) are removed from the delta, not tombstoned."""
    conn = rustmemodb.connect()
    _load(conn)
    conn.executemany("INSERT INTO kv VALUES (?, ?, ?, ?)",
                     [(i, i % 7, 0.0, "t") for i in range(N + 1, N + 200)])
    for i in range(1, 100):
        conn.execute("UPDATE kv SET k = k + 1 WHERE id = ?", (i,))
    deleted = set()
    for i in list(range(N + 1, N + 200, 2)) + list(range(1, 100, 3)):
        assert conn.execute("DELETE FROM kv WHERE id = ?", (i,)).rowcount == 1
        deleted.add(i)
    _check(conn, deleted)


def test_forks_and_snapshots_keep_their_index_versions(small_merges):
    conn = rustmemodb.connect()
    _load(conn)
    before = _all(conn)
    fork = conn.fork()
    for i in range(1, 400):
        conn.execute("DELETE FROM kv WHERE id = ?", (i,))
    for i in range(300, 600):
        fork.execute("DELETE FROM kv WHERE id = ?", (i,))
    _check(conn, set(range(1, 400)))
    assert _all(fork) == [r for r in before if not 300 <= r[0] < 600]
    lo_hi = sorted(fork.execute("SELECT id FROM kv WHERE id BETWEEN 1 AND 10").fetchall())
    assert lo_hi == [(i,) for i in range(1, 11)]


def test_rollback_and_savepoint_restore_the_indexes(small_merges):
    conn = rustmemodb.connect()
    _load(conn)
    before = _all(conn)
    conn.execute("BEGIN")
    for i in range(1, 100):
        conn.execute("DELETE FROM kv WHERE id = ?", (i,))
    conn.execute("ROLLBACK")
    assert _all(conn) == before
    _check(conn, set())
    conn.execute("BEGIN")
    for i in range(1, 50):
        conn.execute("DELETE FROM kv WHERE id = ?", (i,))
    conn.execute("SAVEPOINT s")
    for i in range(50, 150):
        conn.execute("DELETE FROM kv WHERE id = ?", (i,))
    conn.execute("ROLLBACK TO SAVEPOINT s")
    conn.execute("COMMIT")
    _check(conn, set(range(1, 50)))
    assert _all(conn) == [r for r in before if r[0] >= 50]


def test_point_deletes_survive_reopen(tmp_path, small_merges):
    db = rustmemodb.Database.open(tmp_path / "db")
    conn = db.connect()
    _load(conn, 600)
    for i in range(1, 200, 2):
        conn.execute("DELETE FROM kv WHERE id = ?", (i,))
    expected = _all(conn)
    db.close()
    db = rustmemodb.Database.open(tmp_path / "db")
    conn = db.connect()
    assert _all(conn) == expected
    assert conn.execute("SELECT * FROM kv WHERE id = 1").fetchall() == []
    got = sorted(conn.execute("SELECT id, k FROM kv WHERE k BETWEEN 0 AND 20").fetchall())
    assert got == [r for r in expected if 0 <= r[1] <= 20]
    db.close()


@pytest.mark.parametrize("sql_type", ["INTEGER", "TEXT"])
def test_one_removal_matches_the_general_path(small_merges, sql_type):
    """``with_changes((), [entry])`` (the one-entry path) against the same removals made
    through the general loop (two at once, or with an addition), version by version."""
    rnd = random.Random(3)

    def key(v):
        return v if sql_type == "INTEGER" else f"k{v:04d}"

    n = 400
    model = {r: rnd.randrange(50) for r in range(n)}
    ix = OrderedIndex.build("i", (0,), [sql_type], [pa.array([key(model[r]) for r in range(n)])],
                            list(range(n)))
    for r in range(n, n + 60):                 # entries in the delta too
        model[r] = rnd.randrange(50)
        ix = ix.with_changes([(key(model[r]), r)], [])
    versions = []
    while len(model) > 20:
        r = rnd.choice(list(model))
        one = ix.with_changes((), [(key(model[r]), r)])
        two = ix.with_changes([(key(model[r]), -1)], [(key(model[r]), r)])   # general loop
        del model[r]
        expected = sorted(model)
        assert sorted(one.range(None, None).tolist()) == expected
        assert sorted(two.range(None, None).tolist()) == sorted(expected + [-1])
        assert len(one) == len(model)
        versions.append((one, dict(model)))
        ix = one
    for old, m in versions[::29]:              # old versions still answer as they did
        assert sorted(old.range(None, None).tolist()) == sorted(m)
        lo, hi = 10, 30
        assert sorted(old.range(key(lo), key(hi)).tolist()) == sorted(
            r for r, v in m.items() if lo <= v <= hi)


def test_point_deletes_share_one_tombstone_map_until_the_indexes_diverge():
    conn = rustmemodb.connect()
    # loaded from Arrow in one statement, as bench/oltp.py does: both indexes built whole
    conn.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, k INTEGER, v FLOAT, s TEXT)")
    rnd = random.Random(5)
    conn.register("src", pa.table({"id": list(range(1, N + 1)),
                                   "k": [rnd.randrange(N // 4) for _ in range(N)],
                                   "v": [i / 2 for i in range(N)],
                                   "s": [f"r{i}" for i in range(N)]}))
    conn.execute("INSERT INTO kv SELECT * FROM src")
    conn.execute("CREATE INDEX kv_k ON kv (k)")
    db = conn.database

    def dead():
        ordered = db.root.tables["kv"].ordered
        return ordered["kv_pkey"].dead, ordered["kv_k"].dead

    def rowid(i):
        return db.root.tables["kv"].indexes["kv_pkey"].get(i)

    gone = [rowid(i) for i in range(1, 11)]
    for i in range(1, 11):
        conn.execute("DELETE FROM kv WHERE id = ?", (i,))
    a, b = dead()
    assert a is b and sorted(a.keys()) == sorted(gone)
    moved = rowid(20)
    conn.execute("UPDATE kv SET k = k + 1 WHERE id = ?", (20,))   # kv_k alone changes
    later = rowid(25)
    for i in range(21, 31):
        conn.execute("DELETE FROM kv WHERE id = ?", (i,))
    a, b = dead()
    assert a is not b and later in a and later in b and moved in b and moved not in a
    _check(conn, set(range(1, 11)) | set(range(21, 31)))


@pytest.mark.parametrize("seed", range(5))
def test_merge_filter_matches_isin(seed):
    """index._alive (the flag-array filter a merge runs over its base) against np.isin,
    dense, sparse and negative rowids, empty inputs."""
    import numpy as np
    from rustmemodb.storage.pmap import PMap
    rnd = np.random.default_rng(seed)
    for size, span, shift in ((1000, 1000, 0), (50, 10**9, 0), (300, 600, -100), (0, 10, 0)):
        rowids = rnd.choice(max(span, size), size, replace=False).astype(np.int64) + shift
        dead_ids = [int(x) for x in rnd.choice(max(span, 1), min(40, span))] + [span + 7]
        if len(rowids):
            dead_ids += [int(x) for x in rowids[:5]]
        dead = PMap({r: True for r in dead_ids})
        got = index_mod._alive(rowids, dead)
        assert got.dtype == bool and got.tolist() == (~np.isin(rowids, dead_ids)).tolist()
