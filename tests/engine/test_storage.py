"""Table versions: point deletes, compaction after churn, sharing between versions."""
import pyarrow as pa

import rustmemodb
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
