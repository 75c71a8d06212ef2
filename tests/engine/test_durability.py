"""File-backed databases: every committed change survives close, crash and reopen.

Each test changes a database through SQL (or the transaction API where SQL does
not reach yet), "crashes" it (drops every handle without flushing or
checkpointing, which is what SIGKILL leaves on disk; the real kill is in
test_crash.py) or closes it, reopens the directory and compares the whole
committed state: rows *with their rowids*, schemas, index contents, views and
sequences.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import rustmemodb
import rustmemodb.durability.checkpoint
from rustmemodb import errors
from rustmemodb.durability import tables as T
from rustmemodb.durability.wal import list_segments

from rustmemodb.durability.open import DurableDatabase

MODES = ["sync", "async", "none"]


def state(db) -> dict:
    root = db.root
    out = {"views": {n: (v.sql, tuple(v.columns)) for n, v in root.views.items()},
           "sequences": dict(root.sequences), "tables": {}}
    for name, version in root.tables.items():
        rows = version.to_arrow(with_rowid=True).to_pylist()
        out["tables"][name] = {
            "schema": version.schema,
            "rows": sorted(rows, key=lambda r: r["_rowid"]),
            "next_rowid": version.next_rowid,
            "live_rows": version.live_rows,
            "indexes": {n: sorted(ix.items(), key=repr) for n, ix in version.indexes.items()},
            "ordered": sorted(getattr(version, "ordered", {})),
        }
    return out


def crash(db) -> None:
    """Simulate kill -9 of the process holding ``db`` (no flush, no checkpoint)."""
    assert isinstance(db, DurableDatabase)
    db._abandon()


def reopen(path, **options):
    return rustmemodb.Database.open(path, **options)



@pytest.fixture
def path(tmp_path):
    return tmp_path / "db"


def sql(db, *statements):
    conn = db.connect()
    out = None
    for s in statements:
        out = conn.execute(s)
    return out


def populate(db):
    sql(db,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, px FLOAT, ts TIMESTAMP, "
        "ok BOOLEAN, d DATE)",
        "INSERT INTO t VALUES (1, 'a', 1.5, '2024-01-02 03:04:05', true, '2024-01-02'), "
        "(2, 'b', NULL, NULL, false, NULL), (3, 'c', -0.0, NULL, NULL, '1999-12-31')",
        "UPDATE t SET px = 9.25 WHERE id = 2",
        "DELETE FROM t WHERE id = 3",
        "CREATE TABLE k (a INTEGER, b TEXT, PRIMARY KEY (a, b))",
        "INSERT INTO k VALUES (1, 'x'), (1, 'y'), (2, 'x')",
        "CREATE VIEW v AS SELECT name, px FROM t WHERE px > 1",
        "CREATE TABLE gone (x INTEGER)",
        "DROP TABLE gone")


# ---- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["sync", "async"])
def test_crash_after_commits_keeps_everything(path, mode):
    db = reopen(path, durability=mode)
    populate(db)
    before = state(db)
    crash(db)
    db = reopen(path, durability=mode)
    assert state(db) == before
    assert db.recovery["replayed"] == 9
    assert sql(db, "SELECT name, px FROM v").fetchall() == [("a", 1.5), ("b", 9.25)]
    db.close()


@pytest.mark.parametrize("mode", MODES)
def test_close_then_reopen(path, mode):
    db = reopen(path, durability=mode)
    populate(db)
    before = state(db)
    db.close()
    db = reopen(path, durability=mode)
    assert state(db) == before
    assert db.recovery["replayed"] == 0        # close wrote a checkpoint
    db.close()


def test_none_mode_loses_what_no_checkpoint_holds(path):
    db = reopen(path, durability="none")
    sql(db, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)", "CHECKPOINT",
        "INSERT INTO t VALUES (2)")
    assert not list_segments(path / "wal")
    crash(db)
    db = reopen(path, durability="none")
    assert sql(db, "SELECT x FROM t").fetchall() == [(1,)]
    db.close()


def test_connect_path_and_last_connection_closes(path):
    conn = rustmemodb.connect(str(path))
    conn.execute("CREATE TABLE t (x INTEGER)")
    other = rustmemodb.connect(str(path))          # same database, second session
    assert other.database is conn.database
    other.execute("INSERT INTO t VALUES (1)")
    conn.close()
    assert not other.database.closed
    other.close()
    assert other.database.closed
    conn = rustmemodb.connect(str(path), durability="async")
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    conn.close()


def test_checkpoint_then_log_tail(path):
    db = reopen(path)
    populate(db)
    sql(db, "CHECKPOINT")
    sql(db, "INSERT INTO t VALUES (10, 'z', 2.0, NULL, true, NULL)", "DELETE FROM t WHERE id = 1")
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    assert db.recovery["replayed"] == 2
    assert db.recovery["checkpoint_lsn"] == 9
    db.close()


def test_bulk_arrow_inserts_chunks_deletes_and_compaction(path):
    db = reopen(path)
    conn = db.connect()
    n = 150_000
    data = pa.table({"id": np.arange(n), "g": np.arange(n) % 7,
                     "s": pa.array([f"s{i}" for i in range(n)], pa.large_string())})
    conn.register("src", data)
    conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, g INTEGER, s TEXT)")
    conn.execute("INSERT INTO big SELECT * FROM src")
    conn.execute("CHECKPOINT")
    conn.execute("DELETE FROM big WHERE g = 3")
    conn.execute("DELETE FROM big WHERE id >= 140000")     # most of the last chunk: compacted
    conn.execute("INSERT INTO big SELECT id + 1000000, g, s FROM src WHERE id < 5000")
    conn.executemany("INSERT INTO big VALUES (?, ?, ?)", [(2_000_000 + i, 1, "t") for i in range(50)])
    conn.execute("UPDATE big SET s = 'upd' WHERE id = 5")
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    conn = db.connect()
    assert conn.execute("SELECT s FROM big WHERE id = 5").fetchall() == [("upd",)]
    with pytest.raises(errors.IntegrityError):
        conn.execute("INSERT INTO big VALUES (1000001, 0, 'dup')")
    db.close()


def test_checkpoints_are_incremental(path):
    db = reopen(path)
    conn = db.connect()
    conn.register("src", pa.table({"x": np.arange(200_000)}))
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t SELECT * FROM src")
    conn.execute("CHECKPOINT")
    first = {p.name: p.stat().st_mtime_ns for p in (path / "chunks").iterdir()}
    assert len(first) == 4
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("DELETE FROM t WHERE x = 7")
    conn.execute("CHECKPOINT")
    second = {p.name: p.stat().st_mtime_ns for p in (path / "chunks").iterdir()}
    assert second == first                   # no chunk rewritten; dead mask + tail in state
    db.close()


def test_concurrent_commits_rebase_and_replay_with_their_rowids(path):
    db = reopen(path)
    a, b = db.connect(), db.connect()
    a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    a.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
    a.execute("BEGIN")
    b.execute("BEGIN")
    b.execute("INSERT INTO t VALUES (10, 'b10'), (11, 'b11'), (12, 'b12')")
    b.execute("DELETE FROM t WHERE id = 11")                 # its own new row
    b.execute("UPDATE t SET v = 'b-upd' WHERE id = 12")
    a.execute("INSERT INTO t VALUES (20, 'a20')")
    a.execute("DELETE FROM t WHERE id = 1")
    a.execute("COMMIT")
    b.execute("DELETE FROM t WHERE id = 2")
    b.execute("COMMIT")                                      # rebased onto a's commit
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    assert sorted(sql(db, "SELECT id, v FROM t").fetchall()) == [
        (10, "b10"), (12, "b-upd"), (20, "a20")]
    db.close()


def test_group_commit_shares_fsyncs(path):
    db = reopen(path, durability="sync")
    sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, w INTEGER)")
    threads, per = 8, 40

    def work(w):
        conn = db.connect()
        for i in range(per):
            conn.execute("INSERT INTO t VALUES (?, ?)", [w * 1000 + i, w])
    ts = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stats = db.stats()
    assert stats["records"] == threads * per + 1
    assert stats["fsyncs"] < stats["records"]     # committers shared fsyncs
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    assert db.row_count("t") == threads * per
    db.close()


def test_automatic_checkpoint_trims_the_log(path):
    db = reopen(path, checkpoint_bytes=20_000)
    conn = db.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT)")
    for i in range(400):
        conn.execute("INSERT INTO t VALUES (?, ?)", [i, "x" * 100])
    thread = db._ckpt_thread
    assert thread is not None
    thread.join()
    assert list(path.glob("manifest-*.json"))
    assert db.stats()["bytes_since_checkpoint"] < 50_000
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    assert db.recovery["replayed"] < 400
    db.close()


def test_transactions_are_atomic_in_the_log(path):
    db = reopen(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (id INTEGER)")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("INSERT INTO t VALUES (2)")
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t VALUES (3)")     # never committed
    crash(db)
    db = reopen(path)
    assert sorted(sql(db, "SELECT id FROM t").fetchall()) == [(1,), (2,)]
    db.close()


def test_restore_is_logged(path):
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    old = db.root
    sql(db, "INSERT INTO t VALUES (2)", "CREATE TABLE u (y TEXT)")
    db.restore(old)
    sql(db, "INSERT INTO t VALUES (3)")
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    assert sorted(sql(db, "SELECT x FROM t").fetchall()) == [(1,), (3,)]
    db.close()


def test_fork_of_a_durable_database_is_in_memory(path):
    db = reopen(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    branch = conn.fork()
    branch.execute("INSERT INTO t VALUES (2)")
    branch.execute("CHECKPOINT")                 # a no-op on the in-memory fork
    assert type(branch.database) is rustmemodb.Database
    db.close()
    db = reopen(path)
    assert sql(db, "SELECT x FROM t").fetchall() == [(1,)]
    db.close()


def test_ctas_truncate_and_sequences(path):
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER, y TEXT)", "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
        "CREATE TABLE c AS SELECT x * 10 AS x10, y FROM t", "TRUNCATE t",
        "INSERT INTO t VALUES (3, 'c')")
    txn = db.begin()
    txn.set_sequence("t_x_seq", 41)
    db.commit(txn)
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    assert db.root.sequences == {"t_x_seq": 41}
    db.close()


def test_alter_as_a_whole_table_version(path):
    """ALTER TABLE builds a new version sharing (or rewriting) the chunks: the log
    carries it whole, referring to chunks replay already has."""
    from rustmemodb.storage.schema import Column
    db = reopen(path)
    conn = db.connect()
    conn.register("src", pa.table({"x": np.arange(70_000)}))
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t SELECT * FROM src")
    conn.execute("INSERT INTO t VALUES (-1)")
    conn.execute("DELETE FROM t WHERE x = 5")
    version = db.root.tables["t"]
    renamed = version.schema.with_(columns=(Column("y", "INTEGER", True),))
    txn = db.begin()
    txn.replace_table("t", version.with_schema(renamed, chunks=tuple(
        type(c)(c.batch.rename_columns(["y"]), c.rowids) for c in version.chunks)))
    txn.insert_rows("t", [(100_000,)])
    db.commit(txn)
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    assert sql(db, "SELECT count(*) FROM t WHERE y >= 0").fetchall() == [(70_000,)]
    db.close()


@pytest.mark.parametrize("statements", [
    ["CREATE INDEX t_v ON t (v)"],
    ["CREATE UNIQUE INDEX t_v ON t (v)"],
    ["ALTER TABLE t ADD COLUMN w INTEGER", "UPDATE t SET w = id * 2"],
    ["ALTER TABLE t DROP COLUMN v"],
    ["ALTER TABLE t RENAME COLUMN v TO vv"],
    ["ALTER TABLE t RENAME TO t2"],
    ["CREATE TABLE s (id SERIAL PRIMARY KEY, v TEXT)", "INSERT INTO s (v) VALUES ('a'), ('b')"],
])
def test_ddl_recovery(path, statements):
    db = reopen(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(100)])
    for s in statements:
        conn.execute(s)
    conn.execute("INSERT INTO t SELECT * FROM t WHERE false") if "t" in db.root.tables else None
    before = state(db)
    crash(db)
    db = reopen(path)
    assert state(db) == before
    db.close()
    db = reopen(path)
    assert state(db) == before               # and from the checkpoint close wrote
    db.close()


# ---- torn tails and damage ----------------------------------------------------------------

def _segment(path):
    segs = list_segments(path / "wal")
    return segs[-1][1]


def _log_end(data: bytes) -> int:
    """Offset just past the last frame of a segment's bytes (where its zero tail starts)."""
    from rustmemodb.durability.wal import FRAME, SEGMENT_HEADER_SIZE
    starts = _frame_starts(data)
    return starts[-1] + FRAME.size + FRAME.unpack_from(data, starts[-1])[0] if starts \
        else SEGMENT_HEADER_SIZE


def _write_at_end(seg, blob: bytes) -> None:
    """Write ``blob`` where the log's next frame would go, over the preallocated zeros
    (the file keeps its size, as a write into a preallocated segment does)."""
    data = seg.read_bytes()
    end = _log_end(data)
    seg.write_bytes(data[:end] + blob + data[end + len(blob):])


@pytest.mark.parametrize("cut", ["mid-header", "mid-payload", "garbage"])
def test_torn_tail_is_ignored_and_cut(path, cut):
    """What a crash in the middle of writing the next record leaves is cut, with a
    warning, and new records are written where it was."""
    from rustmemodb.durability.wal import frame
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)")
    crash(db)
    seg = _segment(path)
    data = seg.read_bytes()
    unfinished = frame(4, os.urandom(60))
    assert len(data) > _log_end(data)                # a zero tail (preallocated) follows
    if cut == "mid-header":
        _write_at_end(seg, unfinished[:7])
    elif cut == "mid-payload":
        _write_at_end(seg, unfinished[:-3])
    else:
        _write_at_end(seg, os.urandom(100))
    assert rustmemodb.check(path).status == "torn-tail"
    with pytest.warns(RuntimeWarning, match="torn tail"):
        db = reopen(path)
    rows = sorted(sql(db, "SELECT x FROM t").fetchall())
    assert rows == [(1,), (2,)]
    assert db.recovery["torn_bytes"] > 0
    sql(db, "INSERT INTO t VALUES (3)")            # written after the cut, not after garbage
    crash(db)
    db = reopen(path)
    assert sorted(sql(db, "SELECT x FROM t").fetchall()) == rows + [(3,)]
    db.close()


@pytest.mark.parametrize("cut", ["boundary", "mid-record"])
def test_losing_a_durable_record_is_an_error_and_repair_cuts_it(path, cut):
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)")
    crash(db)
    seg = _segment(path)
    data = seg.read_bytes()
    last = _frame_starts(data)[-1]
    seg.write_bytes(data[: last + (0 if cut == "boundary" else 30)])
    damaged = seg.read_bytes()
    with pytest.raises(errors.InternalError) as info:
        reopen(path)
    assert info.value.sqlstate == "XX001"
    assert seg.name in info.value.message and "byte offset" in info.value.message
    assert seg.read_bytes() == damaged              # opening changed nothing
    report = rustmemodb.repair(path)
    assert report.ok and report.actions and report.backup
    backup = list(Path(report.backup).rglob(seg.name))
    assert backup and backup[0].read_bytes() == damaged
    db = reopen(path)
    assert sql(db, "SELECT x FROM t").fetchall() == [(1,)]
    db.close()


def _frame_starts(data: bytes) -> list[int]:
    """Offsets of the records of a segment's bytes, up to its zero tail (preallocated);
    not its tail mark (written after the last record, where the next one goes)."""
    from rustmemodb.durability.wal import FRAME, SEGMENT_HEADER_SIZE, TAIL
    pos, out = SEGMENT_HEADER_SIZE, []
    while pos + FRAME.size <= len(data) and data[pos:pos + FRAME.size] != bytes(FRAME.size):
        length, kind = FRAME.unpack_from(data, pos)[:2]
        if kind != TAIL:
            out.append(pos)
        pos += FRAME.size + length
    return out


def test_damage_in_the_middle_of_the_log_is_an_error(path):
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)")
    db.log.rotate()                                  # records continue in a second segment
    sql(db, "INSERT INTO t VALUES (3)")
    crash(db)
    first = list_segments(path / "wal")[0][1]
    data = bytearray(first.read_bytes())
    data[-2] ^= 0xFF                                 # flip a byte of the last record
    first.write_bytes(bytes(data))
    with pytest.raises(errors.InternalError) as info:
        reopen(path)
    assert info.value.sqlstate == "XX001"


def test_not_a_database_directory(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("hello")
    with pytest.raises(errors.OperationalError) as info:
        rustmemodb.connect(str(tmp_path / "stuff"))
    assert info.value.sqlstate == "58030"
    assert "not a rustmemodb database directory" in info.value.message
    assert info.value.hint
    (tmp_path / "file").write_text("x")
    with pytest.raises(errors.OperationalError) as info:
        rustmemodb.connect(str(tmp_path / "file"))
    assert info.value.sqlstate == "58030"
    with pytest.raises(errors.OperationalError):
        rustmemodb.Database.open(tmp_path / "missing", create=False)
    with pytest.raises(errors.DataError):
        rustmemodb.connect(str(tmp_path / "new"), durability="sometimes")


def _damage_checkpoint(path, damage, manifest):
    body = json.loads(manifest.read_text())["manifest"]
    chunk = path / "chunks" / body["tables"]["t"]["chunks"][0]["file"]
    if damage == "manifest":
        manifest.write_text('{"manifest": {"format": 2, "lsn": ')
    elif damage == "manifest-types":
        text = manifest.read_text().replace('"live_rows": 20000', '"live_rows": "many"')
        manifest.write_text(text)
    elif damage == "state":
        state_file = path / body["state"]["file"]
        state_file.write_bytes(state_file.read_bytes()[:-1] + b"!")
    elif damage == "chunk-missing":
        chunk.unlink()
    elif damage == "chunk-flip":
        data = bytearray(chunk.read_bytes())
        data[len(data) // 2] ^= 0x10
        chunk.write_bytes(bytes(data))
    else:
        chunk.write_bytes(chunk.read_bytes()[:100])


DAMAGE = ["manifest", "manifest-types", "state", "chunk-missing", "chunk-flip",
          "chunk-truncated"]


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_checkpoint_falls_back_to_the_previous_one(path, damage):
    db = reopen(path)
    conn = db.connect()
    conn.register("src", pa.table({"x": np.arange(20_000)}))
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t SELECT * FROM src")
    db.close()
    newest = rustmemodb.durability.checkpoint.list_manifests(path)[0][1]
    _damage_checkpoint(path, damage, newest)
    report = rustmemodb.check(path)
    assert report.ok and report.status == "fallback", report
    with pytest.warns(RuntimeWarning, match="previous checkpoint"):
        db = reopen(path)
    assert db.row_count("t") == 20_000          # the older checkpoint plus the log
    assert newest.exists() or damage == "manifest-missing"   # evidence kept
    db.close()
    db = reopen(path)                            # and close wrote a sound checkpoint
    assert db.row_count("t") == 20_000
    db.close()


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_checkpoint_without_a_fallback_is_a_clear_error(path, damage):
    db = reopen(path)
    conn = db.connect()
    conn.register("src", pa.table({"x": np.arange(20_000)}))
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t SELECT * FROM src")
    conn.execute("CHECKPOINT")
    conn.execute("CREATE TABLE u (y INTEGER)")
    db.close()          # both kept checkpoints now hold the chunk; the log before is gone
    manifests = [p for _, p in rustmemodb.durability.checkpoint.list_manifests(path)]
    assert len(manifests) == 2
    if damage.startswith("manifest") or damage == "state":
        for m in manifests:
            _damage_checkpoint(path, damage, m)
    else:
        _damage_checkpoint(path, damage, manifests[0])
    before = sorted(p.name for p in path.rglob("*"))
    with pytest.raises(errors.InternalError) as info:
        reopen(path)
    assert info.value.sqlstate == "XX001"
    assert info.value.hint
    assert sorted(p.name for p in path.rglob("*")) == before   # nothing touched
    # and the directory is released: a later open fails the same way, not with "in use"
    with pytest.raises(errors.InternalError):
        reopen(path)
    assert rustmemodb.check(path).status == "damaged"


def test_a_second_process_cannot_open_it(path):
    db = reopen(path)
    code = ("import sys, rustmemodb\n"
            "try:\n    rustmemodb.connect(sys.argv[1])\n"
            "except rustmemodb.Error as e:\n    print(e.sqlstate)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": _engine_path()}, timeout=120)
    assert out.stdout.strip() == "55006", out.stderr
    db.close()


def test_closed_database_refuses_commits(path):
    db = reopen(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    db.close()
    with pytest.raises(errors.Error) as info:
        conn.execute("INSERT INTO t VALUES (1)")
    assert info.value.sqlstate == "08003"


def test_every_table_version_field_is_persisted():
    """Fails when TableVersion grows a field durability/tables.py does not write."""
    assert T.unknown_fields() == set()


def _engine_path() -> str:
    import rustmemodb as m
    return os.path.dirname(os.path.dirname(m.__file__))


# ---- fsync: nothing is visible before it is durable; a failed fsync is read-only ----------

def test_a_commit_is_visible_only_once_durable(path, monkeypatch):
    from rustmemodb.durability.wal import Log
    db = reopen(path)
    a, b = db.connect(), db.connect()
    a.execute("CREATE TABLE t (x INTEGER)")
    entered, release = threading.Event(), threading.Event()
    real = Log._fsync

    def slow_fsync(fd):
        entered.set()
        assert release.wait(30)
        real(fd)
    monkeypatch.setattr(Log, "_fsync", staticmethod(slow_fsync))
    writer = threading.Thread(target=a.execute, args=("INSERT INTO t VALUES (1)",))
    writer.start()
    assert entered.wait(30)
    assert b.execute("SELECT count(*) FROM t").fetchall() == [(0,)]   # logged, not durable
    release.set()
    writer.join(30)
    assert b.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
    monkeypatch.setattr(Log, "_fsync", staticmethod(real))
    db.close()


def test_fsync_failure_turns_the_database_read_only(path, monkeypatch):
    import errno
    db = reopen(path)
    a, b = db.connect(), db.connect()
    a.execute("CREATE TABLE t (x INTEGER)")
    a.execute("INSERT INTO t VALUES (1)")
    real = os.fsync

    def failing(fd):
        raise OSError(errno.EIO, "injected I/O error")
    real_data = os.fdatasync
    monkeypatch.setattr(os, "fsync", failing)
    monkeypatch.setattr(os, "fdatasync", failing)     # what the log's flush uses
    with pytest.raises(errors.OperationalError) as info:
        a.execute("INSERT INTO t VALUES (2)")
    assert info.value.sqlstate == "58030"
    monkeypatch.setattr(os, "fsync", real)
    monkeypatch.setattr(os, "fdatasync", real_data)         # the disk is fine again: still refused
    assert b.execute("SELECT x FROM t").fetchall() == [(1,)]     # never published
    assert a.execute("SELECT x FROM t").fetchall() == [(1,)]
    for statement in ("INSERT INTO t VALUES (3)", "CREATE TABLE u (y INTEGER)",
                      "DELETE FROM t"):
        with pytest.raises(errors.OperationalError) as info:
            b.execute(statement)
        assert info.value.sqlstate == "58030"
    with pytest.raises(errors.OperationalError):
        a.execute("CHECKPOINT")
    db.close()
    db = reopen(path)          # reopened: writable again, the acknowledged row is there
    rows = sorted(sql(db, "SELECT x FROM t").fetchall())
    assert rows[0] == (1,) and (3,) not in rows      # row 2's outcome was reported unknown
    sql(db, "INSERT INTO t VALUES (4)")
    db.close()


def test_log_write_failure_turns_the_database_read_only(path, monkeypatch):
    """Sync durability writes a commit's frame with the fsync that makes it durable:
    a failed write there is the commit's 58030, publishes nothing and refuses later
    commits, as a failed fsync does; the acknowledged rows survive a reopen."""
    import errno
    db = reopen(path)
    a, b = db.connect(), db.connect()
    a.execute("CREATE TABLE t (x INTEGER)")
    a.execute("INSERT INTO t VALUES (1)")
    real = os.pwrite

    def failing(fd, data, offset):
        raise OSError(errno.ENOSPC, "injected: no space left on device")
    monkeypatch.setattr(os, "pwrite", failing)
    with pytest.raises(errors.OperationalError) as info:
        a.execute("INSERT INTO t VALUES (2)")
    assert info.value.sqlstate == "58030"
    monkeypatch.setattr(os, "pwrite", real)
    assert b.execute("SELECT x FROM t").fetchall() == [(1,)]     # never published
    with pytest.raises(errors.OperationalError) as info:
        b.execute("INSERT INTO t VALUES (3)")
    assert info.value.sqlstate == "58030"
    db.close()
    db = reopen(path)
    assert sql(db, "SELECT x FROM t").fetchall() == [(1,)]
    sql(db, "INSERT INTO t VALUES (4)")
    db.close()


# ---- a database directory is only data ------------------------------------------------------

class _Boom:
    """Unpickling this runs a command that creates a file."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def _append_record(path, payload: bytes) -> None:
    """Append a frame with a *valid* checksum and the next LSN to the newest segment."""
    from rustmemodb.durability.wal import frame
    seg = _segment(path)
    data = seg.read_bytes()
    starts = _frame_starts(data)
    from rustmemodb.durability.wal import FRAME
    lsn = FRAME.unpack_from(data, starts[-1])[2] + 1 if starts else int(seg.stem)
    _write_at_end(seg, frame(lsn, payload))


@pytest.mark.parametrize("payload", ["pickle", "msgpack-ext", "wrong-types", "garbage"])
def test_a_crafted_log_record_cannot_run_code(path, tmp_path, payload):
    import pickle
    from rustmemodb.durability import values
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    crash(db)
    sentinel = tmp_path / "pwned"
    if payload == "pickle":
        data = pickle.dumps(_Boom(sentinel))
    elif payload == "msgpack-ext":
        import msgpack
        data = msgpack.packb(("C", 9, 9, [("i", "t", [(msgpack.ExtType(42, b"x"),)], 5)],
                              {}, ()))
    elif payload == "wrong-types":
        data = values.pack(("C", 9, 1, [("i", "t", [("not an int",)], 2)], {}, ()))
    else:
        data = os.urandom(64)
    _append_record(path, data)
    with pytest.raises(errors.InternalError) as info:
        reopen(path)
    assert info.value.sqlstate == "XX001"
    assert "cannot be replayed" in info.value.message
    assert not sentinel.exists()


def test_a_crafted_manifest_cannot_name_a_class(path):
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    db.close()
    from rustmemodb.durability.checkpoint import _body_crc, list_manifests
    for _, manifest in list_manifests(path):
        doc = json.loads(manifest.read_text())
        body = doc["manifest"]
        if "t" in body["tables"]:
            body["tables"]["t"]["schema"]["__class__"] = "os:system"
            doc["crc32c"] = _body_crc(body)         # a valid checksum: only the shape is wrong
            manifest.write_text(json.dumps(doc))
        else:
            manifest.unlink()
    with pytest.raises(errors.InternalError) as info:
        reopen(path)
    assert info.value.sqlstate == "XX001"
    assert "os:system" in info.value.message


@pytest.mark.parametrize("damage", ["flip-middle", "delete-newest", "delete-log",
                                    "truncate-older"])
def test_repair_cuts_log_damage_and_keeps_a_backup(path, damage):
    db = reopen(path)
    sql(db, "CREATE TABLE t (x INTEGER)")
    for i in range(5):
        sql(db, f"INSERT INTO t VALUES ({i})")
    sql(db, "CHECKPOINT")
    for i in range(5, 10):
        sql(db, f"INSERT INTO t VALUES ({i})")
    db.log.rotate()
    for i in range(10, 15):
        sql(db, f"INSERT INTO t VALUES ({i})")
    crash(db)
    segs = [p for _, p in list_segments(path / "wal")]
    assert len(segs) >= 2
    if damage == "flip-middle":
        data = bytearray(segs[-1].read_bytes())
        data[_frame_starts(bytes(data))[1] + 30] ^= 4
        segs[-1].write_bytes(bytes(data))
    elif damage == "delete-newest":
        segs[-1].unlink()
    elif damage == "delete-log":
        import shutil
        shutil.rmtree(path / "wal")
    else:
        older = segs[-2]           # drop its last record (the frame before the seal)
        older.write_bytes(older.read_bytes()[:_frame_starts(older.read_bytes())[-2]])
    assert rustmemodb.check(path).status == "damaged"
    with pytest.raises(errors.InternalError):
        reopen(path)
    report = rustmemodb.repair(path)
    assert report.ok and report.status == "ok", report
    if damage != "delete-log":         # nothing left to keep when the log is gone
        assert report.backup and any(Path(report.backup).rglob("*.wal"))
    db = reopen(path)
    got = [r[0] for r in sql(db, "SELECT x FROM t ORDER BY x").fetchall()]
    assert got == list(range(len(got))) and len(got) >= 5    # a prefix, the checkpoint kept
    sql(db, "INSERT INTO t VALUES (100)")
    db.close()
    db = reopen(path)
    assert db.row_count("t") == len(got) + 1
    db.close()


def test_set_based_update_is_a_compact_record_replayed_in_place(path):
    """A set-based UPDATE keeps rowids (branch identity) and is logged as its changed
    rows, not as a rewrite of the whole table; replay gives the same rows and rowids."""
    db = reopen(path, durability="sync")
    sql(db, "CREATE TABLE big (a INTEGER PRIMARY KEY, b TEXT, c FLOAT)",
        "INSERT INTO big SELECT g, 'x', g * 0.5 FROM generate_series(1, 50000) g")
    wal = path / "wal"
    size = sum(p.stat().st_size for p in wal.iterdir())
    sql(db, "UPDATE big SET b = 'y' WHERE a % 100 = 0",
        "UPDATE big SET c = c + 1, a = a + 1000000 WHERE a % 250 = 0",
        "UPDATE big SET c = -c WHERE a % 5 = 1",
        "DELETE FROM big WHERE a % 7 = 0")
    grown = sum(p.stat().st_size for p in wal.iterdir()) - size
    assert grown < size, (grown, size)   # ~11k changed rows, not 3 copies of 50k rows
    before = state(db)
    counts = "SELECT count(*), count(*) FILTER (WHERE b = 'y'), max(a) FROM big"
    answer = sql(db, counts).fetchall()
    assert answer[0][2] > 1_000_000
    crash(db)
    db = reopen(path, durability="sync")
    assert state(db) == before
    assert sql(db, counts).fetchall() == answer
    db.close()


def test_a_single_point_change_is_logged_as_the_general_loop_logs_it():
    """encode_commit writes one UPDATE or DELETE without its general loop (every
    autocommit point write): the record must be byte for byte the loop's, here made by
    the loop with a lock (logged as nothing) beside the change."""
    from rustmemodb.durability.records import encode_commit
    from rustmemodb.txn.transaction import DeleteOp, LockOp, UpdateOp
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    c.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    root = c.database.root
    for op in (UpdateOp("t", [0], [(1, "x")]), DeleteOp("t", [1]),
               UpdateOp("t", list(range(12)), [(i, "y") for i in range(12)])):
        alone = encode_commit([op], root, root)
        assert alone == encode_commit([LockOp("t", [0]), op], root, root)


def test_a_value_that_fails_to_pack_leaves_nothing_behind_for_the_next():
    """values.pack reuses one msgpack Packer per thread: a record that fails (a value
    with no durable form) or is retried (an int beyond 64 bits) must leave no bytes of
    its own in the next record."""
    import datetime
    from rustmemodb.durability import values
    with pytest.raises(TypeError):
        values.pack(("C", 1, [1, 2, object()]))
    assert values.unpack(values.pack(("C", 2, 3))) == ("C", 2, 3)
    big = [7, "x" * 40, 1 << 70, datetime.date(2024, 2, 29)]
    assert values.unpack(values.pack(big)) == tuple(big)
    assert values.unpack(values.pack((4, 5))) == (4, 5)
    # each thread packs with its own Packer
    got = []
    worker = threading.Thread(target=lambda: got.append(values.unpack(values.pack(("t", 9)))))
    worker.start()
    worker.join()
    assert got == [("t", 9)]
