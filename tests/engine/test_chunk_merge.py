"""Small chunks are merged (storage/table.py ``coalesce``): a table filled by
single-row inserts, many small loads, or compaction keeps ~64k-row chunks, with
rowids, deletions and indexes unchanged. Counts of chunks, never timings."""
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.branch.diff import diff
from rustmemodb.storage.table import CHUNK_ROWS, TAIL_FREEZE


def table(c, name="t"):
    return c.database.root.tables[name]


def fresh():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    return c


def test_single_row_inserts_between_bulk_loads_do_not_make_small_chunks():
    c = fresh()
    n, expect_sum, next_id = 0, 0, 0
    for i in range(20):
        c.execute("INSERT INTO t VALUES (?, ?)", (next_id, 1))   # a one-row tail, frozen
        ids = pa.array(range(next_id + 1, next_id + 1 + TAIL_FREEZE), pa.int64())
        c.register("bulk", pa.table({"id": ids, "v": pa.array([2] * TAIL_FREEZE, pa.int64())}))
        c.execute("INSERT INTO t SELECT * FROM bulk")            # by the bulk path
        next_id += TAIL_FREEZE + 1
        n += TAIL_FREEZE + 1
        expect_sum += 1 + 2 * TAIL_FREEZE
    v = table(c)
    # 20 loads + 20 one-row tails: two chunks (no more than 64k rows each), not 40
    assert len(v.chunks) == 2 and sum(map(len, v.chunks)) == n
    assert all(len(ch) <= CHUNK_ROWS for ch in v.chunks)
    assert c.execute("SELECT count(*), sum(v) FROM t").fetchone() == (n, expect_sum)
    assert c.execute("SELECT v FROM t WHERE id = ?", (5 * (TAIL_FREEZE + 1),)).fetchone() == (1,)
    assert [v.row(r) for r in (0, 1, n - 1)] == [(0, 1), (1, 2), (n - 1, 2)]


def test_tail_freezes_fill_chunks_up_to_the_chunk_size():
    c = fresh()
    n = 3 * CHUNK_ROWS // 2 + 10
    c.executemany("INSERT INTO t VALUES (?, ?)", [(i, i) for i in range(n)])
    v = table(c).freeze_tail()
    assert [len(ch) for ch in v.chunks] == [CHUNK_ROWS, n - CHUNK_ROWS]
    assert all(int(ch.rowids[-1]) - int(ch.rowids[0]) + 1 == len(ch) for ch in v.chunks)
    assert c.execute("SELECT count(*) FROM t WHERE v >= 60000").fetchone() == (n - 60000,)


def test_a_big_tail_freezes_into_chunk_sized_pieces():
    v = table(fresh())
    v, _ = v.insert_rows([(i, i) for i in range(2 * CHUNK_ROWS + 5)])
    v = v.freeze_tail()
    assert [len(ch) for ch in v.chunks] == [CHUNK_ROWS, CHUNK_ROWS, 5]


def test_deletions_and_indexes_survive_a_merge():
    c = fresh()
    for i in range(TAIL_FREEZE):
        c.execute("INSERT INTO t VALUES (?, ?)", (i, i))
    c.execute("DELETE FROM t WHERE id < 100")             # in the first frozen chunk
    before = table(c)
    for i in range(TAIL_FREEZE, 2 * TAIL_FREEZE):
        c.execute("INSERT INTO t VALUES (?, ?)", (i, i))   # freezes and merges
    v = table(c)
    assert len(v.chunks) == 1 and len(v.chunks[0]) == 2 * TAIL_FREEZE
    assert c.execute("SELECT count(*), min(id) FROM t").fetchone() == (2 * TAIL_FREEZE - 100, 100)
    assert c.execute("SELECT v FROM t WHERE id = 50").fetchone() is None
    assert c.execute("SELECT v FROM t WHERE id = 5000").fetchone() == (5000,)
    assert before.row(200) == v.row(200) == (200, 200)
    c.execute("INSERT INTO t VALUES (50, 1)")             # the deleted key is free
    assert c.execute("SELECT v FROM t WHERE id = 50").fetchone() == (1,)


def test_compaction_merges_what_it_shrinks():
    c = fresh()
    c.register("src", pa.table({"id": pa.array(range(4 * 20000), pa.int64()),
                                "v": pa.array(range(4 * 20000), pa.int64())}))
    for part in range(4):   # four loads of 20k rows: three fit in one chunk, not four
        c.execute(f"INSERT INTO t SELECT * FROM src WHERE id >= {part * 20000} "
                  f"AND id < {(part + 1) * 20000}")
    assert [len(ch) for ch in table(c).chunks] == [60000, 20000]
    c.execute("DELETE FROM t WHERE id % 4 <> 0")           # most rows dead: compacted
    v = table(c)
    assert len(v.chunks) == 1 and v.live_rows == 20000
    assert c.execute("SELECT sum(v) FROM t").fetchone() == (sum(range(0, 80000, 4)),)


def test_a_fork_diffs_by_rowid_across_merged_chunks():
    c = fresh()
    c.executemany("INSERT INTO t VALUES (?, ?)", [(i, i) for i in range(TAIL_FREEZE + 10)])
    f = c.fork()
    for i in range(TAIL_FREEZE + 10, 2 * TAIL_FREEZE):
        f.execute("INSERT INTO t VALUES (?, ?)", (i, i))
    f.execute("UPDATE t SET v = -1 WHERE id = 3")
    d = diff(c, f, "t")
    assert d.counts == {"added": TAIL_FREEZE - 10, "removed": 0, "changed": 1}


def test_executemany_appends_all_rows_or_none():
    c = fresh()
    rows = [(i, i) for i in range(3 * TAIL_FREEZE)]
    assert c.executemany("INSERT INTO t VALUES (?, ?)", rows).rowcount == len(rows)
    v = table(c)
    assert len(v.chunks) == 1 and v.tail_len == 0 and v.live_rows == len(rows)
    bad = [(100_000 + i, i) for i in range(TAIL_FREEZE)] + [(5, 5)]      # 5 is taken
    with pytest.raises(rustmemodb.IntegrityError) as dup:
        c.executemany("INSERT INTO t VALUES (?, ?)", bad)
    assert dup.value.sqlstate == "23505"
    assert c.execute("SELECT count(*) FROM t").fetchone() == (len(rows),)
    with_text = [(200_000 + i, "7" if i == 10 else i) for i in range(TAIL_FREEZE)]
    with pytest.raises(rustmemodb.Error) as text:
        c.executemany("INSERT INTO t VALUES (?, ?)", with_text)   # '7' is no INTEGER
    assert text.value.sqlstate == "42804"
    floats = [(300_000 + i, None if i % 2 else i) for i in range(TAIL_FREEZE)]
    c.executemany("INSERT INTO t VALUES (:a, :b)", [{"a": a, "b": b} for a, b in floats])
    assert c.execute("SELECT count(*), count(v) FROM t WHERE id >= 300000").fetchone() == \
        (TAIL_FREEZE, TAIL_FREEZE // 2)


def test_executemany_of_a_value_out_of_range_is_22003():
    c = fresh()
    rows = [(i, i) for i in range(TAIL_FREEZE)] + [(TAIL_FREEZE, 2**70)]
    with pytest.raises(rustmemodb.DataError) as big:
        c.executemany("INSERT INTO t VALUES (?, ?)", rows)
    assert big.value.sqlstate == "22003"
    assert c.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_freezes_merge_equal_sizes_and_keep_bigger_chunks_as_they_are():
    """A freeze merges its rows with the chunks before it only while those are no bigger
    than the rows merging (a binary counter's carries): the big chunk before is shared,
    not copied again, and chunks end at CHUNK_ROWS rows, none under TAIL_FREEZE."""
    v = table(fresh())
    sizes, rowid = [], 0
    for _ in range(CHUNK_ROWS // TAIL_FREEZE + 3):
        before = v.chunks
        for _ in range(TAIL_FREEZE):
            v, _ = v.insert_rows([(rowid, rowid)])
            rowid += 1
        assert v.tail_len == 0
        sizes.append([len(ch) for ch in v.chunks])
        # every chunk the freeze did not merge is the same object as before
        kept = len(v.chunks) - 1
        assert all(a is b for a, b in zip(before[:kept], v.chunks[:kept]))
    assert sizes[:4] == [[TAIL_FREEZE], [2 * TAIL_FREEZE], [2 * TAIL_FREEZE, TAIL_FREEZE],
                         [4 * TAIL_FREEZE]]
    assert sizes[CHUNK_ROWS // TAIL_FREEZE - 1] == [CHUNK_ROWS]
    assert sizes[-1] == [CHUNK_ROWS, 2 * TAIL_FREEZE, TAIL_FREEZE]
    assert all(TAIL_FREEZE <= n <= CHUNK_ROWS for s in sizes for n in s)
    assert [v.row(r) for r in (0, CHUNK_ROWS, rowid - 1)] == [
        (0, 0), (CHUNK_ROWS, CHUNK_ROWS), (rowid - 1, rowid - 1)]


def test_a_tail_converted_in_blocks_freezes_to_the_same_rows():
    """The tail's blocks (converted to Arrow as they fill, storage/tail.py) give the same
    chunk as converting all rows at the freeze, also for a version that copied a shared
    prefix (two transactions appending to one committed tail)."""
    from rustmemodb.storage.tail import TAIL_BLOCK
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, ts TIMESTAMP, j JSON)")
    c.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                  [(i, f"s{i}" if i % 7 else None, None, '{"a": 1}')
                   for i in range(TAIL_BLOCK * 3 + 5)])
    v = table(c)
    assert len(v.tail.blocks) == 3 and v.tail_len == 3 * TAIL_BLOCK + 5
    rows = [(n, f"x{n}", None, None) for n in range(10_000, 10_000 + TAIL_BLOCK)]
    a, _ = v.insert_rows(rows)                    # extends the shared tail in place
    b, _ = v.insert_rows(rows[:3])                # copies the prefix, keeps its blocks
    assert a.tail is v.tail and b.tail is not v.tail and len(b.tail.blocks) == 3
    for version in (v, a, b):
        got = version.tail.batch(version.tail_len, version.arrow_schema)
        assert got.to_pylist() == pa.RecordBatch.from_pylist(
            [dict(zip(got.schema.names, r)) for r in version.tail.rows[:version.tail_len]],
            schema=version.arrow_schema).to_pylist()
        frozen = version.freeze_tail()
        assert [frozen.row(r) for r in range(version.next_rowid)] == \
            [version.row(r) for r in range(version.next_rowid)]
