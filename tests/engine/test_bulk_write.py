"""Set-based UPDATE (TableVersion.update_arrow) and DELETE (storage/bulk_write.py): many
rows per statement, with the same results, index contents, rowids and log replay as
row-by-row."""
import numpy as np
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.storage.bulk_write import BULK_ROWS, sorted_distinct

N = 20_000   # several 64k-row chunks are not needed: a tail + chunks of any size will do


def loaded(rows: int = N, conn=None):
    c = conn or rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER UNIQUE, v FLOAT, s TEXT)")
    c.execute("CREATE INDEX t_v ON t (v)")
    c.register("src", pa.table({
        "id": pa.array(np.arange(rows), pa.int64()),
        "k": pa.array(np.arange(rows) * 2, pa.int64()),
        "v": pa.array(np.arange(rows) * 1.0),
        "s": [None if i % 7 == 0 else f"s{i}" for i in range(rows)]}))
    c.execute("INSERT INTO t SELECT * FROM src")
    c.execute("INSERT INTO t VALUES (-1, -1, NULL, 'tail row')")   # a row in the tail
    return c


def table(c):
    return c.database.root.tables["t"]


def rowid_of(c, ident):
    return table(c).indexes["t_pkey"].get(ident)


def test_large_update_keeps_rowids_and_moves_index_keys():
    c = loaded()
    before = {i: rowid_of(c, i) for i in (0, 4, 8, 5, -1)}
    c.execute("UPDATE t SET v = v + 0.5, s = s || '!' WHERE id % 4 = 0 OR id = -1")
    assert {i: rowid_of(c, i) for i in before} == before           # same rows, same rowids
    assert c.execute("SELECT v, s FROM t WHERE id = 8").fetchall() == [(8.5, "s8!")]
    assert c.execute("SELECT v, s FROM t WHERE id = 0").fetchall() == [(0.5, None)]
    assert c.execute("SELECT v, s FROM t WHERE id = -1").fetchall() == [(None, "tail row!")]
    assert c.execute("SELECT id FROM t WHERE v = 8.5").fetchall() == [(8,)]   # ordered index
    assert c.execute("SELECT id FROM t WHERE v = 8").fetchall() == []
    assert c.execute("SELECT id FROM t WHERE v = 9").fetchall() == [(9,)]
    assert c.execute("SELECT count(*), sum(v) FROM t").fetchone() == \
        (N + 1, sum(range(N)) + 0.5 * (N // 4))


def test_large_update_of_unique_keys_is_checked_per_statement():
    c = loaded()
    c.execute("UPDATE t SET id = id + 1 WHERE id >= 0")               # keys shift onto freed ones
    assert c.execute("SELECT k FROM t WHERE id = 1").fetchone() == (0,)
    assert c.execute("SELECT count(*) FROM t WHERE id = 0").fetchone() == (0,)
    with pytest.raises(rustmemodb.IntegrityError) as e:
        c.execute(f"UPDATE t SET k = k + 2 WHERE id <= {BULK_ROWS * 2}")   # onto a kept key
    assert e.value.sqlstate == "23505"
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("UPDATE t SET k = 7 WHERE id > 10")                 # duplicates among new
    # a failed statement changes nothing
    assert c.execute("SELECT k FROM t WHERE id = 11").fetchone() == (20,)
    c.execute("UPDATE t SET k = NULL WHERE id > 10")                  # NULLs never collide
    assert c.execute("SELECT count(*) FROM t WHERE k IS NULL").fetchone() == (N - 10,)
    c.execute("INSERT INTO t VALUES (100000, 40, 1, 'x')")            # 40 was freed
    assert c.execute("SELECT id FROM t WHERE k = 40").fetchall() == [(100000,)]


def test_large_update_not_null_and_overflow_fail_cleanly():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    c.execute(f"INSERT INTO t SELECT i, i FROM generate_series(1, {N}) AS s(i)")
    with pytest.raises(rustmemodb.IntegrityError) as e:
        c.execute("UPDATE t SET v = NULL WHERE id % 2 = 0")
    assert e.value.sqlstate == "23502"
    with pytest.raises(rustmemodb.DataError) as e:
        c.execute("UPDATE t SET v = v * 9223372036854775807 WHERE id % 2 = 0")
    assert e.value.sqlstate == "22003"
    assert c.execute("SELECT sum(v) FROM t").fetchone() == (N * (N + 1) // 2,)


def test_large_delete_drops_rows_and_keys():
    c = loaded()
    c.execute("DELETE FROM t WHERE id % 4 = 1 OR id = -1")
    assert c.execute("SELECT count(*) FROM t").fetchone() == (N - N // 4,)
    assert c.execute("SELECT * FROM t WHERE id = 5").fetchall() == []
    assert c.execute("SELECT id FROM t WHERE k = 10").fetchall() == []
    assert c.execute("SELECT id FROM t WHERE v = 5").fetchall() == []
    assert c.execute("SELECT id FROM t WHERE v BETWEEN 4 AND 6 ORDER BY v").fetchall() == \
        [(4,), (6,)]
    c.execute("INSERT INTO t VALUES (5, 10, 5, 'back')")             # keys are free again
    assert c.execute("SELECT s FROM t WHERE k = 10").fetchall() == [("back",)]
    c.execute("DELETE FROM t WHERE id % 4 = 1")                       # dead rows are skipped
    assert c.execute("SELECT count(*) FROM t").fetchone() == (N - N // 4,)


def test_forks_and_snapshots_keep_their_rows():
    c = loaded()
    fork = c.fork()
    fork.execute("UPDATE t SET v = -v WHERE id % 2 = 0")
    fork.execute("DELETE FROM t WHERE id % 2 = 1")
    assert fork.execute("SELECT count(*), max(v) FROM t").fetchone() == (N // 2 + 1, 0.0)
    assert c.execute("SELECT count(*), max(v) FROM t").fetchone() == (N + 1, N - 1.0)
    assert c.execute("SELECT id FROM t WHERE v = 2").fetchall() == [(2,)]


def test_concurrent_bulk_updates_rebase():
    c = loaded()
    a, b = c.database.connect(), c.database.connect()
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("UPDATE t SET v = 1000000 WHERE id % 2 = 0")
    b.execute("UPDATE t SET s = 'b' WHERE id % 2 = 1")
    b.execute("INSERT INTO t VALUES (-2, -2, 0, 'b')")
    b.execute("DELETE FROM t WHERE id % 10 = 3")
    a.execute("COMMIT")
    b.execute("COMMIT")                                              # replayed on a's commit
    assert c.execute("SELECT count(*) FROM t WHERE v = 1000000").fetchone() == (N // 2,)
    assert c.execute("SELECT count(*) FROM t WHERE s = 'b'").fetchone() == (N // 2 - N // 10 + 1,)
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("UPDATE t SET v = 1 WHERE id % 2 = 0")
    b.execute("UPDATE t SET v = 2 WHERE id % 4 = 0")                  # same rows: conflict
    a.execute("COMMIT")
    with pytest.raises(rustmemodb.Error) as e:
        b.execute("COMMIT")
    assert e.value.sqlstate == "40001"


def test_bulk_writes_replay_from_the_log(tmp_path):
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path, durability="sync")
    conn = loaded(conn=db.connect())
    conn.execute("UPDATE t SET v = v * 2, k = k + 1 WHERE id % 3 = 0")
    conn.execute("DELETE FROM t WHERE id % 5 = 0")
    expected = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
    ids = {i: rowid_of(conn, i) for i in (3, 6, 7, -1)}
    db._abandon()                                                    # kill -9: the log replays
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    assert conn.execute("SELECT * FROM t ORDER BY id").fetchall() == expected
    assert {i: rowid_of(conn, i) for i in ids} == ids
    assert conn.execute("SELECT id FROM t WHERE k = 7").fetchall() == [(3,)]
    conn.execute("CHECKPOINT")
    db.close()
    db = rustmemodb.Database.open(path, durability="sync")
    assert db.connect().execute("SELECT * FROM t ORDER BY id").fetchall() == expected
    db.close()


def test_diff_of_a_bulk_update_reports_changed_rows():
    from rustmemodb.branch.diff import diff

    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER, b TEXT)")                   # no primary key
    c.execute(f"INSERT INTO t SELECT i, 'x' FROM generate_series(1, {N}) AS s(i)")
    fork = c.fork()
    fork.execute("UPDATE t SET b = 'y' WHERE a % 4 = 0")
    d = diff(c.database, fork.database, "t")
    assert d.counts == {"added": 0, "removed": 0, "changed": N // 4}


def test_sorted_distinct():
    assert sorted_distinct(np.array([5, 1, 5, 3])).tolist() == [1, 3, 5]
    assert sorted_distinct(np.array([1, 2, 3])).tolist() == [1, 2, 3]


def test_large_delete_flags_rowids_instead_of_copying_the_key_dict():
    """A delete of more than an eighth of the keys flags rowids (UniqueIndex.gone): the
    keys read as absent, come back on re-insert, clash when live, survive folds, and the
    fork the delete did not happen in still sees them."""
    c = loaded()
    base_before = table(c).indexes["t_pkey"].base
    fork = c.fork()
    c.execute("DELETE FROM t WHERE id % 2 = 0")                        # half the keys
    pk = table(c).indexes["t_pkey"]
    assert pk.base is base_before and pk.gone is not None            # no copy of the dict
    assert pk.get(4) is None and pk.get(5) is not None
    assert c.execute("SELECT count(*) FROM t WHERE k = 8").fetchone() == (0,)
    assert sorted(k for k, _ in pk.items())[:3] == [-1, 1, 3]
    c.execute("INSERT INTO t VALUES (4, 8, 4.0, 'again')")            # freed keys are free
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("INSERT INTO t VALUES (5, 1000001, 0, 'x')")        # live keys still clash
    c.execute("UPDATE t SET id = 6 WHERE id = 4")                     # onto a freed key
    assert c.execute("SELECT s FROM t WHERE id = 6").fetchall() == [("again",)]
    assert c.execute("SELECT count(*) FROM t WHERE id = 4").fetchone() == (0,)
    folded = table(c).indexes["t_pkey"].folded()
    assert folded.gone is None and 4 not in folded.base and 2 not in folded.base
    assert folded.get(6) is not None and folded.get(7) is not None
    assert len(folded.base) == N // 2 + 2                              # odd ids, -1 and 6
    # bulk-loading keys that only gone rows held is no clash; a live one is
    evens = np.arange(12, 4012, 2)                                    # ids deleted above
    c.register("more", pa.table({"id": pa.array(evens + 100_000, pa.int64()),
                                 "k": pa.array(evens * 2, pa.int64())}))
    c.execute("INSERT INTO t (id, k) SELECT id, k FROM more")
    assert c.execute("SELECT count(*) FROM t WHERE k % 4 = 0 AND k >= 24 AND k < 8024"
                     ).fetchone() == (len(evens),)
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("INSERT INTO t (id, k) SELECT id + 1, k + 2 FROM more")
    assert fork.execute("SELECT count(*) FROM t WHERE id = 4 OR k = 8").fetchone() == (1,)
    assert fork.execute("SELECT count(*) FROM t").fetchone() == (N + 1,)


def test_large_delete_filters_ordered_indexes_on_first_read():
    """A bulk DELETE leaves each ordered index's surviving base to be copied on first
    read (two DELETEs in a row share one filter); sizes and statistics for planning come
    without it, and every read after it sees exactly the live rows."""
    c = loaded()
    before = table(c).ordered["t_v"]
    c.execute("DELETE FROM t WHERE id % 4 = 1")
    ix = table(c).ordered["t_v"]
    assert ix._keys is None and ix._filtered.pending                # nothing copied yet
    c.execute("DELETE FROM t WHERE id % 4 = 2")
    ix = table(c).ordered["t_v"]
    assert ix._filtered.pending and ix._filtered.source.base_size == before.base_size
    live = [i for i in range(N) if i % 4 in (0, 3)]
    assert ix.base_size == len(live) and ix._filtered.pending       # counted, not copied
    n, lo, hi = ix.stats()
    assert n == len(live) and ix._filtered.pending
    plan = c.execute("EXPLAIN SELECT * FROM t WHERE v BETWEEN 100 AND 120").fetchall()
    assert plan
    got = c.execute("SELECT id FROM t WHERE v BETWEEN 100 AND 120 ORDER BY v").fetchall()
    assert [r[0] for r in got] == [i for i in range(100, 121) if i % 4 in (0, 3)]
    assert not ix._filtered.pending and ix._filtered.source is None  # old base released
    assert c.execute("SELECT id FROM t ORDER BY id LIMIT 3").fetchall() == [(-1,), (0,), (3,)]
    assert c.execute("SELECT max(k) FROM t").fetchall() == [(2 * max(live),)]
    c.execute("INSERT INTO t VALUES (1, 2, 1.0, 'back')")            # a deleted key again
    assert c.execute("SELECT id FROM t WHERE v = 1.0").fetchall() == [(1,)]
    assert c.execute("SELECT count(*) FROM t WHERE v >= 0").fetchall() == [(len(live) + 1,)]
