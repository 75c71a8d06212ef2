"""UPDATE in place: rows keep their rowids, patches fold into chunks, indexes follow keys."""
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.storage.table import PATCH_FOLD


def loaded(rows: int = 1000):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, name TEXT UNIQUE, "
              "span INTERVAL)")
    c.register("src", pa.table({"id": pa.array(range(rows), pa.int64()),
                                "k": pa.array([i % 10 for i in range(rows)], pa.int64()),
                                "name": [f"n{i}" for i in range(rows)]}))
    c.execute("INSERT INTO t SELECT id, k, name, NULL::interval FROM src")
    c.execute("CREATE INDEX t_k ON t (k)")
    return c


def version(c):
    return c.database.root.tables["t"]


def test_update_keeps_the_rowid_and_touches_only_changed_indexes():
    c = loaded()
    before = version(c)
    rowid = before.indexes["t_pkey"].get(5)
    c.execute("UPDATE t SET span = INTERVAL '1 day' WHERE id = ?", [5])
    after = version(c)
    assert after.indexes["t_pkey"].get(5) == rowid           # same row, same rowid
    assert after.indexes["t_pkey"] is before.indexes["t_pkey"]
    assert after.ordered["t_k"] is before.ordered["t_k"]       # key column unchanged
    assert after.chunks is before.chunks                        # nothing copied
    assert len(after.patches) == 1
    assert before.row(rowid)[3] is None                        # the old version is intact
    assert c.execute("SELECT span FROM t WHERE id = 5").fetchone()[0] is not None
    # a scan sees the patched row once, with its new value
    assert c.execute("SELECT count(*), count(span) FROM t").fetchone() == (1000, 1)


def test_changed_keys_move_in_unique_and_ordered_indexes():
    c = loaded()
    c.execute("UPDATE t SET k = 42, name = 'moved' WHERE id = 7")
    c.execute("UPDATE t SET k = 43 WHERE id = 7")              # a delta entry moves again
    assert c.execute("SELECT id FROM t WHERE k = 43").fetchall() == [(7,)]
    assert c.execute("SELECT id FROM t WHERE k = 42").fetchall() == []
    assert (7,) not in c.execute("SELECT id FROM t WHERE k = 7").fetchall()
    assert c.execute("SELECT id FROM t WHERE k BETWEEN 40 AND 50").fetchall() == [(7,)]
    assert c.execute("SELECT id FROM t WHERE name = 'moved'").fetchall() == [(7,)]
    assert c.execute("SELECT id FROM t WHERE name = 'n7'").fetchall() == []
    c.execute("INSERT INTO t VALUES (5000, 1, 'n7', NULL)")     # the old key is free again
    with pytest.raises(rustmemodb.IntegrityError) as e:
        c.execute("UPDATE t SET name = 'n8' WHERE id = 9")
    assert e.value.sqlstate == "23505"
    assert c.execute("SELECT name FROM t WHERE id = 9").fetchone() == ("n9",)


def test_unique_keys_may_shift_within_one_statement():
    c = loaded(10)
    v = version(c)
    ids = [v.indexes["t_pkey"].get(i) for i in range(3)]
    rows = [(i + 1, 0, f"n{i}", None) for i in range(3)]
    with pytest.raises(rustmemodb.IntegrityError):             # 3 is still taken by id 3
        v.update_rows(ids, rows)
    rows[2] = (100, 0, "n2", None)
    new, done = v.update_rows(ids, rows)
    assert done == ids
    assert [new.indexes["t_pkey"].get(k) for k in (1, 2, 100)] == ids
    assert new.indexes["t_pkey"].get(0) is None


def test_delete_after_update_drops_the_new_keys():
    c = loaded()
    c.execute("UPDATE t SET name = 'fresh', k = 77 WHERE id = 3")
    c.execute("DELETE FROM t WHERE id = 3")
    assert not version(c).patches
    assert c.execute("SELECT count(*) FROM t WHERE k = 77").fetchone() == (0,)
    c.execute("INSERT INTO t VALUES (3, 77, 'fresh', NULL)")
    assert c.execute("SELECT id FROM t WHERE name = 'fresh'").fetchall() == [(3,)]


def test_patches_fold_into_chunks_past_the_threshold():
    c = loaded(PATCH_FOLD + 100)
    for i in range(PATCH_FOLD + 1):
        c.execute("UPDATE t SET k = k + 100 WHERE id = ?", [i])
    v = version(c)
    assert not v.patches                                        # folded for good
    assert v.live_rows == PATCH_FOLD + 100
    got = dict(c.execute("SELECT id, k FROM t").fetchall())
    assert all(got[i] == i % 10 + 100 for i in range(PATCH_FOLD + 1))
    assert got[PATCH_FOLD + 50] == (PATCH_FOLD + 50) % 10
    assert c.execute("SELECT count(*) FROM t WHERE k >= 100").fetchone() == (PATCH_FOLD + 1,)


def test_interval_and_tail_rows_settle():
    c = loaded(10)
    c.execute("INSERT INTO t VALUES (100, 1, 'tail', NULL)")   # lives in the row tail
    c.execute("UPDATE t SET span = INTERVAL '2 hours' WHERE id = 100")
    c.execute("UPDATE t SET span = INTERVAL '3 days' WHERE id = 1")   # in a chunk
    v = version(c)
    settled = v.settled()
    assert not settled.patches and settled is v.settled()       # cached
    rows = {r["id"]: r["span"] for r in v.to_arrow().to_pylist()}
    assert rows[100] is not None and rows[1] is not None and rows[2] is None
    assert v.freeze_tail().row(v.indexes["t_pkey"].get(100))[3] is not None


def test_snapshots_and_forks_keep_their_values():
    c = loaded(100)
    fork = c.database.fork()
    reader = c.database.connect()
    reader.execute("BEGIN")
    assert reader.execute("SELECT k FROM t WHERE id = 1").fetchone() == (1,)
    c.execute("UPDATE t SET k = 99 WHERE id = 1")
    assert reader.execute("SELECT k FROM t WHERE id = 1").fetchone() == (1,)
    assert fork.connect().execute("SELECT k FROM t WHERE id = 1").fetchone() == (1,)
    assert c.execute("SELECT k FROM t WHERE id = 1").fetchone() == (99,)
    from rustmemodb.branch.diff import diff
    d = diff(fork, c.database, "t")
    assert d.counts == {"added": 0, "removed": 0, "changed": 1}
    assert d.changed_columns == [["k"]]


def test_concurrent_updates_of_different_rows_rebase():
    c = loaded(100)
    a, b = c.database.connect(), c.database.connect()
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("UPDATE t SET k = 500 WHERE id = 1")
    b.execute("UPDATE t SET k = 600 WHERE id = 2")
    a.execute("COMMIT")
    b.execute("COMMIT")                                          # replayed on a's commit
    assert c.execute("SELECT id FROM t WHERE k >= 500 ORDER BY id").fetchall() == [(1,), (2,)]


def test_durable_updates_replay_and_checkpoint(tmp_path):
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT)")
    conn.execute("INSERT INTO t SELECT i, 0.0 FROM generate_series(1, 100) AS s(i)")
    for i in range(1, 51):
        conn.execute("UPDATE t SET v = v + ? WHERE id = ?", [i, i])
    db._abandon()                                                # kill -9: the log replays
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    assert conn.execute("SELECT sum(v) FROM t").fetchone() == (sum(range(1, 51)),)
    conn.execute("UPDATE t SET v = -1 WHERE id = 100")
    conn.execute("CHECKPOINT")
    db.close()
    db = rustmemodb.Database.open(path, durability="sync")
    assert db.connect().execute("SELECT v FROM t WHERE id = 100").fetchone() == (-1.0,)
    db.close()


def test_rebased_update_of_own_new_row_follows_its_rowid(tmp_path):
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path, durability="sync")
    a, b = db.connect(), db.connect()
    a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    a.execute("BEGIN")
    a.execute("INSERT INTO t VALUES (1, 10)")
    a.execute("UPDATE t SET v = 11 WHERE id = 1")        # a row with a private rowid
    b.execute("INSERT INTO t VALUES (2, 20)")            # commits first: a is rebased
    a.execute("COMMIT")
    expected = [(1, 11), (2, 20)]
    assert a.execute("SELECT * FROM t ORDER BY id").fetchall() == expected
    db._abandon()
    db = rustmemodb.Database.open(path, durability="sync")
    assert db.connect().execute("SELECT * FROM t ORDER BY id").fetchall() == expected
    db.close()


def test_point_deletes_are_sparse_until_the_fold():
    c = loaded(5000)
    assert version(c).chunks and version(c).indexes["t_pkey"].get(8) < version(c).tail_rowid0
    before = version(c)
    c.execute("UPDATE t SET k = 55 WHERE id = 8")
    c.execute("DELETE FROM t WHERE id = ?", [7])
    c.execute("DELETE FROM t WHERE id = ?", [8])                # a patched row
    v = version(c)
    assert v.dead == before.dead                               # no 64k-flag mask copied
    assert c.execute("SELECT count(*) FROM t").fetchone() == (4998,)
    assert c.execute("SELECT count(*) FROM t WHERE id IN (7, 8)").fetchone() == (0,)
    assert c.execute("SELECT count(*) FROM t WHERE k = 55").fetchone() == (0,)
    assert c.execute("UPDATE t SET k = 1 WHERE id = 7").rowcount == 0
    assert c.execute("SELECT count(*) FROM t WHERE k BETWEEN 0 AND 9").fetchone() == (4998,)
    settled = v.settled()
    assert not settled.patches and settled.live_rows == 4998
    assert sum(int(m.sum()) for m in settled.dead if m is not None) == 2
    c.execute("INSERT INTO t VALUES (7, 0, 'again', NULL)")    # keys freed
    assert c.execute("SELECT name FROM t WHERE id = 7").fetchone() == ("again",)


def test_many_point_deletes_fold_and_compact():
    c = loaded(PATCH_FOLD * 2)
    for i in range(0, int(PATCH_FOLD * 1.5)):
        c.execute("DELETE FROM t WHERE id = ?", [i])
    v = version(c)
    assert len(v.patches) <= PATCH_FOLD
    assert c.execute("SELECT count(*), min(id) FROM t").fetchone() == \
        (PATCH_FOLD * 2 - int(PATCH_FOLD * 1.5), int(PATCH_FOLD * 1.5))
