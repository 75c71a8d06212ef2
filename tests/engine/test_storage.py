"""Table versions: point deletes, compaction after churn, sharing between versions."""
import pyarrow as pa

import rustmemodb
from rustmemodb.storage.chunk import row_getter
from rustmemodb.storage.table import CHUNK_ROWS


def loaded(rows: int):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    c.register("src", pa.table({"id": pa.array(range(rows), pa.int64()),
                                "v": pa.array(range(rows), pa.int64())}))
    c.execute("INSERT INTO t SELECT * FROM src")
    return c, c.database.root.tables["t"]


def test_point_deletes_eventually_compact_a_mostly_dead_chunk():
    _, version = loaded(CHUNK_ROWS)
    v = version
    for rowid in range(0, int(CHUNK_ROWS * 0.7)):
        v = v.delete([rowid])
    assert v.live_rows == CHUNK_ROWS - int(CHUNK_ROWS * 0.7)
    # compacted (once half was dead): the chunk was rewritten without its dead rows
    assert len(v.chunks) == 1 and len(v.chunks[0]) <= CHUNK_ROWS * 0.5
    assert v.row(CHUNK_ROWS - 1) == (CHUNK_ROWS - 1, CHUNK_ROWS - 1)
    assert v.row(0) is None
    assert version.row(0) == (0, 0)            # the old version is untouched


def test_point_delete_keeps_index_and_rows_consistent():
    c, _ = loaded(1000)
    for i in range(0, 1000, 3):
        c.execute("DELETE FROM t WHERE id = ?", [i])
    assert c.execute("SELECT count(*) FROM t").fetchone() == (1000 - 334,)
    assert c.execute("SELECT v FROM t WHERE id = 3").fetchone() is None
    assert c.execute("SELECT v FROM t WHERE id = 4").fetchone() == (4,)
    c.execute("INSERT INTO t VALUES (3, 33)")              # the key is free again
    assert c.execute("SELECT v FROM t WHERE id = 3").fetchone() == (33,)


def test_update_rows_repoints_kept_keys_and_refuses_taken_ones():
    c, _ = loaded(100)
    c.execute("UPDATE t SET v = v + 1000 WHERE id = 5")          # key kept: re-pointed
    assert c.execute("SELECT v FROM t WHERE id = 5").fetchone() == (1005,)
    c.execute("UPDATE t SET id = 500 WHERE id = 6")              # key moved: old one freed
    assert c.execute("SELECT v FROM t WHERE id = 500").fetchone() == (6,)
    assert c.execute("SELECT v FROM t WHERE id = 6").fetchone() is None
    c.execute("INSERT INTO t VALUES (6, 66)")
    try:
        c.execute("UPDATE t SET id = 7 WHERE id = 8")            # 7 is taken by another row
        raise AssertionError("expected a unique violation")
    except rustmemodb.IntegrityError as e:
        assert e.sqlstate == "23505"
    assert c.execute("SELECT v FROM t WHERE id = 8").fetchone() == (8,)
    assert c.execute("SELECT count(*) FROM t").fetchone() == (101,)


def test_row_getter_reads_every_width():
    """The row getter is built per width (one closure, two joined, or map): each shape
    returns the same row as reading the columns one by one."""
    for width in range(0, 41):
        cols = [tuple(range(j * 100, j * 100 + 10)) for j in range(width)]
        for offset in (0, 7):
            assert row_getter(width)(cols, offset) == tuple(c[offset] for c in cols)
