"""Memory (issue 10): the engine never freezes the host's heap, dropped connections and
forks are freed by reference counting alone, large per-chunk values are invisible to
the cyclic collector, and patch folds are bounded to one chunk per statement."""
import gc
import weakref

import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.storage import table as table_mod
from rustmemodb.storage import write as write_mod


@pytest.fixture
def collector_off():
    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


def _loaded(n: int = 70_000):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    c.register("src", pa.table({"id": pa.array(range(n), pa.int64()),
                                "v": pa.array([f"v{i}" for i in range(n)], pa.large_string())}))
    c.execute("INSERT INTO t SELECT * FROM src")
    c.unregister("src")
    return c


def test_nothing_freezes_the_heap(tmp_path):
    assert gc.get_freeze_count() == 0
    c = _loaded()
    c.execute("CREATE INDEX t_v ON t (v)")
    assert c.execute("SELECT v FROM t WHERE id = 5").fetchone() == ("v5",)
    c.close()
    d = rustmemodb.connect(str(tmp_path / "db"))
    d.execute("CREATE TABLE x (id INTEGER PRIMARY KEY)")
    d.execute("INSERT INTO x VALUES (1)")
    d.close()
    d = rustmemodb.connect(str(tmp_path / "db"))      # recovery
    assert d.execute("SELECT count(*) FROM x").fetchone() == (1,)
    d.close()
    assert gc.get_freeze_count() == 0


def test_four_thousand_dropped_forks_are_freed_without_the_collector(collector_off):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    c.execute("INSERT INTO t VALUES (1, 'a')")
    refs = []
    for i in range(4000):
        f = c.fork()
        f.execute("UPDATE t SET v = $1 WHERE id = 1", (f"b{i}",))
        assert f.execute("SELECT v FROM t WHERE id = 1").fetchone() == (f"b{i}",)
        if i % 2:
            f.execute("BEGIN")                       # dropped with a transaction open
            f.execute("INSERT INTO t VALUES (2, 'c')")
        refs.append((weakref.ref(f), weakref.ref(f.database), weakref.ref(f._session)))
        del f
    alive = [r for trio in refs for r in trio if r() is not None]
    assert alive == []
    assert c.execute("SELECT v FROM t WHERE id = 1").fetchone() == ("a",)


def test_dropped_connections_are_freed_without_the_collector(collector_off):
    c = rustmemodb.connect()
    db = c.database
    refs = []
    for _ in range(1000):
        other = db.connect()
        other.execute("SELECT 1")
        refs.append(weakref.ref(other))
        del other
    assert all(r() is None for r in refs)


def test_point_reads_keep_nothing_alive():
    """Point reads convert the row they read and nothing else (no block of rows, not
    the 64k-row chunk: one statement's pause and memory that grows with every row
    ever read); an UPDATE fold of an unconverted chunk stays unconverted."""
    c = _loaded()
    version = c.database.root.tables["t"]
    for i in range(1, 2000, 7):
        assert c.execute("SELECT v FROM t WHERE id = ?", (i,)).fetchone() == (f"v{i}",)
    chunk = version.chunks[0]
    assert chunk._pycols is None
    gc.collect()
    before = len(gc.get_objects())
    for i in range(1, 2000, 3):
        c.execute("SELECT v FROM t WHERE id = ?", (i,)).fetchone()
    gc.collect()
    assert len(gc.get_objects()) - before < 100
    c.execute("UPDATE t SET v = 'new' WHERE id = 42")
    folded = c.database.root.tables["t"].settled().chunks[0]
    assert c.execute("SELECT v FROM t WHERE id = 42").fetchone() == ("new",)
    assert folded._pycols is None


def test_a_statement_folds_at_most_one_chunk_of_patches(monkeypatch):
    monkeypatch.setattr(write_mod, "PATCH_FOLD", 64)   # the UPDATE path reads it there
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    n = 4 * table_mod.CHUNK_ROWS
    c.register("src", pa.table({"id": pa.array(range(n), pa.int64()),
                                "v": pa.array([0] * n, pa.int64())}))
    c.execute("INSERT INTO t SELECT * FROM src")
    before = c.database.root.tables["t"].chunks
    # spread updates over all four chunks, past the fold threshold
    ids = [chunk * table_mod.CHUNK_ROWS + i for i in range(20) for chunk in range(4)]
    for rowid in ids:
        c.execute("UPDATE t SET v = v + 1 WHERE id = $1", (rowid,))
    version = c.database.root.tables["t"]
    rewritten = [a is not b for a, b in zip(before, version.chunks)]
    assert 1 <= sum(rewritten) < 4                 # folded chunk by chunk, not all at once
    assert 0 < len(version.patches) <= write_mod.PATCH_FOLD
    assert c.execute("SELECT sum(v), count(*) FROM t").fetchone() == (len(ids), n)
    for rowid in ids[::7]:
        assert c.execute("SELECT v FROM t WHERE id = $1", (rowid,)).fetchone() == (1,)


def test_index_range_scans_convert_only_the_rows_they_read():
    """A range on an ordered index reads its few rows from the chunk's buffers (one
    Arrow take for many): no chunk is converted whole to Python for ten rows."""
    c = _loaded()
    c.execute("CREATE INDEX t_v ON t (v)")
    assert c.execute("SELECT id FROM t WHERE v BETWEEN 'v100' AND 'v1009' ORDER BY id"
                     ).fetchall() == [(i,) for i in range(70_000) if "v100" <= f"v{i}" <= "v1009"]
    assert len(c.execute("SELECT id FROM t WHERE v BETWEEN 'v1' AND 'v19999'").fetchall()) > 64
    version = c.database.root.tables["t"]
    assert all(chunk._pycols is None for chunk in version.chunks)
