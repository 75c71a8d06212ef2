"""Connection.lookup: one row by its one-column primary key, without SQL, exactly as
``SELECT * FROM t WHERE pk = ?`` returns it (used by persist's ``get``); False where
it cannot stand in for that SELECT."""
import datetime as dt
import uuid

import pytest

import rustmemodb


def _select(conn, table, key):
    cur = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (key,))
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return dict(zip(names, rows[0])) if rows else None


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id UUID PRIMARY KEY, n INTEGER, j JSON, at TIMESTAMP, "
              "d DATE, s TEXT, iv INTERVAL)")
    yield c
    c.close()


def _insert(conn, i: int) -> uuid.UUID:
    key = uuid.UUID(int=i + 1)
    conn.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, INTERVAL '1 day 2 hours')",
                 (key, i, {"k": [i, "x"]}, dt.datetime(2026, 1, 2, 3, 4, 5, 6000),
                  dt.date(2026, 1, 2), f"s{i}"))
    return key


def test_a_row_reads_as_the_select_returns_it(conn):
    keys = [_insert(conn, i) for i in range(5)]
    for key in keys:
        found = conn.lookup("t", key)
        assert found == _select(conn, "t", key)
        assert isinstance(found["id"], uuid.UUID) and found["j"] == {"k": [found["n"], "x"]}
    assert conn.lookup("t", str(keys[0])) == _select(conn, "t", keys[0])  # str for a UUID


def test_rows_in_compacted_chunks_updated_and_deleted_rows(conn):
    keys = [uuid.UUID(int=i + 1) for i in range(5000)]
    conn.executemany("INSERT INTO t (id, n, j) VALUES (?, ?, ?)",
                     [(k, i, [i]) for i, k in enumerate(keys)])
    assert conn.database.root.tables["t"].chunks       # past the row tail, into a chunk
    conn.execute("UPDATE t SET n = -1 WHERE id = ?", (keys[10],))
    conn.execute("DELETE FROM t WHERE id = ?", (keys[20],))
    for key in (keys[0], keys[10], keys[1500], keys[-1]):
        assert conn.lookup("t", key) == _select(conn, "t", key)
    assert conn.lookup("t", keys[10])["n"] == -1
    assert conn.lookup("t", keys[20]) is None


def test_missing_and_null_keys_are_none(conn):
    _insert(conn, 0)
    assert conn.lookup("t", uuid.UUID(int=999)) is None
    assert conn.lookup("t", None) is None


def test_newest_committed_data_of_other_connections(conn):
    other = conn.database.connect()
    other.autocommit = False
    key = _insert(other, 7)
    assert conn.lookup("t", key) is None              # not committed yet
    other.commit()
    assert conn.lookup("t", key)["n"] == 7
    other.close()


def test_a_new_column_is_in_the_row(conn):
    key = _insert(conn, 1)
    conn.execute("ALTER TABLE t ADD COLUMN extra TEXT")
    conn.execute("UPDATE t SET extra = 'e' WHERE id = ?", (key,))
    assert conn.lookup("t", key) == _select(conn, "t", key)
    assert conn.lookup("t", key)["extra"] == "e"


def test_declines_where_it_cannot_stand_in_for_the_select(conn):
    key = _insert(conn, 1)
    conn.execute("CREATE TABLE nokey (id INTEGER, v TEXT)")
    conn.execute("CREATE TABLE twokey (a INTEGER, b INTEGER, PRIMARY KEY (a, b))")
    assert conn.lookup("nokey", 1) is False
    assert conn.lookup("twokey", 1) is False
    assert conn.lookup("nosuch", 1) is False
    conn.execute("BEGIN")                       # a transaction reads its own snapshot
    assert conn.lookup("t", key) is False
    conn.execute("ROLLBACK")
    conn.autocommit = False                     # the SELECT would open a transaction
    assert conn.lookup("t", key) is False
    conn.autocommit = True
    assert conn.lookup("t", key) is not False


def test_declines_for_a_role(conn):
    key = _insert(conn, 1)
    conn.execute("CREATE ROLE alice LOGIN PASSWORD 'pw'")
    alice = rustmemodb.connect(conn, user="alice", password="pw")
    assert alice.lookup("t", key) is False      # privileges are checked on plans
    with pytest.raises(rustmemodb.errors.Error) as info:
        alice.execute("SELECT * FROM t WHERE id = ?", (key,))
    assert info.value.sqlstate == "42501"
    alice.close()


def test_point_reads_read_rows_straight_from_the_arrow_buffers():
    """A point read converts its row alone, column by column (numbers through a NumPy
    view, strings from the offsets and data buffers, nulls and other types the general
    way), for sliced arrays too, and caches nothing: a cold 1M-row table costs no more
    per read than a warm one, and memory does not grow with the rows ever read."""
    import datetime
    import numpy as np
    import pyarrow as pa
    from rustmemodb.storage.chunk import Chunk
    n = 12_288
    day = datetime.date(2024, 1, 1)
    batch = pa.record_batch({
        "a": pa.array(range(n)),
        "b": pa.array([str(i) + "é" for i in range(n)], pa.large_string()),
        "c": pa.array([None if i % 3 else i * 0.5 for i in range(n)]),
        "d": pa.array([day] * n),
        "e": pa.array([f"s{i}" for i in range(n + 7)], pa.string()).slice(7),
        "f": pa.array([i % 2 == 0 for i in range(n)]),
        "g": pa.array(np.arange(n, dtype=np.int32)),
        "h": pa.array([""] * n),
        "i": pa.array(range(n)),
        "j": pa.array([None if i % 5 == 0 else -i for i in range(n)]),
        "k": pa.array([None if i % 4 == 1 else f"t{i}" for i in range(n)], pa.large_string()),
        "l": pa.array([None if i % 3 == 2 else i % 2 == 1 for i in range(n)]),
        "m": pa.array([None] * n, pa.int64()),
        "n": pa.array([None if i % 7 == 3 else datetime.date(1900 + i % 300, 1 + i % 12, 1 + i % 28)
                       for i in range(n)]),
        "o": pa.array([None if i % 6 == 4 else datetime.datetime(1960 + i % 100, 2, 3, 4, 5, 6, i)
                       for i in range(n)], pa.timestamp("us")),
    }).slice(3, n - 10)
    expected = batch.to_pylist()
    for width in (1, 4, 8, 9, 15):
        part = batch.select(range(width))
        chunk = Chunk(part, np.arange(part.num_rows, dtype=np.int64))
        for o in [*range(40), 4097, part.num_rows - 1]:
            assert chunk.point_row(o) == tuple(expected[o].values())[:width]
            assert chunk.row(o) == chunk.point_row(o)
        assert chunk._pycols is None


def test_an_update_fold_rewrites_only_the_columns_it_changes():
    """A fold of patches into a chunk no point read converted finds the changed columns
    from the chunk itself (one Arrow take per column) and shares the others."""
    import numpy as np
    import pyarrow as pa
    from rustmemodb.storage.chunk import Chunk
    n = 10_000
    batch = pa.record_batch({"id": pa.array(range(n)), "v": pa.array([i * 0.5 for i in range(n)]),
                             "s": pa.array([f"s{i}" for i in range(n)])})
    chunk = Chunk(batch, np.arange(n, dtype=np.int64))
    out = chunk.patched([(7, (7, 99.0, "s7")), (42, (42, 21.0, "s42"))])   # 42: unchanged
    def data(b, j):
        return b.column(j).buffers()[-1].address
    assert data(out.batch, 0) == data(batch, 0) and data(out.batch, 2) == data(batch, 2)
    assert data(out.batch, 1) != data(batch, 1)
    assert out.batch.column(1).to_pylist()[7] == 99.0 and out.row(7) == (7, 99.0, "s7")
    assert chunk.patched([(3, (3, 1.5, "s3"))]) is chunk        # nothing changes
