"""Tail marks (``durability/wal.py``): the durable-LSN mark written right after the last
record instead of into the segment header, so a commit's fsync writes one place, not
two pages far apart; and the zero-tail promise that lets recovery still tell a segment
truncated at its records from one a crash left."""
from __future__ import annotations


import pytest
import rustmemodb
from rustmemodb import errors
from rustmemodb.durability.wal import (
    FORMAT,
    FRAME,
    HEADER,
    HEADER_CRC,
    MARK,
    MARK_OFFSET,
    SEGMENT_HEADER_SIZE,
    TAIL_MARKS,
    frame,
    mark_bytes,
    scan_segment,
    tail_mark,
)

from .log_files import committer_writes_fail, newest_segment, open_clean, rows





def _header_mark(data: bytes) -> int:
    return MARK.unpack_from(data, MARK_OFFSET)[0]


def _record_end(scan) -> int:
    lsn, payload, offset = scan.records[-1]
    return offset + FRAME.size + len(payload)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "db"


@pytest.fixture
def crashed(path):
    """A sync database with three commits, its process 'killed' (nothing closed)."""
    db = open_clean(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("INSERT INTO t VALUES (2)")
    last = db.log.durable_lsn
    db._abandon()
    return path, last


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_each_fsync_leaves_a_tail_mark_and_the_header_alone(path, durability):
    db = open_clean(path, durability=durability)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    for i in range(5):
        conn.execute("INSERT INTO t VALUES (?)", [i])
        db.log.sync()
        first, seg = newest_segment(path)
        data = seg.read_bytes()
        scan = scan_segment(seg, first)
        assert scan.tail_marks and scan.mark == scan.records[-1][0] == db.log.durable_lsn
        end = _record_end(scan)
        assert data[end:end + FRAME.size] == tail_mark(db.log.durable_lsn)
        assert data[end + FRAME.size:].count(0) == len(data) - end - FRAME.size   # zeros
        assert _header_mark(data) == 0               # the header page is not rewritten
    db._abandon()
    db = open_clean(path)
    assert rows(db) == [(i,) for i in range(5)]
    db.close()


def test_the_next_record_is_written_over_the_tail_mark(path):
    db = open_clean(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    first, seg = newest_segment(path)
    records = len(scan_segment(seg, first).records)
    mark_at = _record_end(scan_segment(seg, first))
    assert seg.read_bytes()[mark_at:mark_at + FRAME.size] == tail_mark(db.log.durable_lsn)
    conn.execute("INSERT INTO t VALUES (2)")
    scan = scan_segment(seg, first)
    assert scan.records[-1][2] == mark_at            # where the mark was
    assert scan.mark == scan.records[-1][0] and len(scan.records) == records + 1
    data = seg.read_bytes()
    assert data[_record_end(scan):_record_end(scan) + FRAME.size] == tail_mark(scan.mark)
    db.close()


def test_a_bit_flip_in_the_last_acknowledged_record_is_damage(crashed):
    path, last = crashed
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    assert scan.records[-1][0] == last and scan.mark == last
    _, payload, offset = scan.records[-1]
    data = bytearray(seg.read_bytes())
    data[offset + FRAME.size + len(payload) // 2] ^= 0x08
    seg.write_bytes(bytes(data))
    assert rustmemodb.check(path).status == "damaged"
    with pytest.raises(errors.InternalError) as info:
        rustmemodb.Database.open(path)
    assert info.value.sqlstate == "XX001"
    assert seg.read_bytes() == bytes(data)           # opening changed nothing


@pytest.mark.parametrize("where", ["after the last record", "inside the last record",
                                   "after the header"])
def test_a_segment_truncated_at_its_records_is_damage(crashed, where):
    """No crash leaves an open segment ending without zeros after its last frame (they
    are written before it): one that does was cut short, and its lost commits are
    reported (XX001), never dropped as a torn tail."""
    path, last = crashed
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    data = seg.read_bytes()
    cut = {"after the last record": _record_end(scan),
           "inside the last record": scan.records[-1][2] + FRAME.size + 1,
           "after the header": SEGMENT_HEADER_SIZE}[where]
    seg.write_bytes(data[:cut])
    assert scan_segment(seg, first).cut_short
    assert rustmemodb.check(path).status == "damaged"
    with pytest.raises(errors.InternalError) as info:
        rustmemodb.Database.open(path)
    assert info.value.sqlstate == "XX001" and "truncated" in info.value.message
    report = rustmemodb.repair(path)
    assert report.ok and report.backup
    db = open_clean(path)                 # repaired: what was kept reads as a clean end
    db.close()


def test_a_tail_mark_cut_in_half_is_a_torn_tail_that_loses_nothing(crashed):
    path, last = crashed
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    end = _record_end(scan)
    data = bytearray(seg.read_bytes())
    data[end + 5] ^= 0x40                            # the mark's own bytes, damaged
    seg.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="torn tail"):
        db = rustmemodb.Database.open(path)
    assert rows(db) == [(1,), (2,)]
    db.close()


@pytest.mark.parametrize("checkpoint", [False, True])
def test_a_closed_log_keeps_a_frame_header_of_zeros_and_its_header_mark(path, checkpoint):
    db = open_clean(path, checkpoint_on_close=checkpoint)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    last = db.log.durable_lsn
    db.close()
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    assert not scan.cut_short and scan.bad_offset is None
    assert seg.stat().st_size == scan.end + scan.zero_tail
    assert scan.zero_tail <= FRAME.size
    assert bool(scan.records) != checkpoint      # a checkpoint leaves the newest empty
    if scan.records:
        assert _header_mark(seg.read_bytes()) == last
    db = open_clean(path)
    assert rows(db) == [(1,)]
    db.close()


def test_a_segment_without_the_flag_reads_as_before(tmp_path):
    """A segment written before tail marks (header flags 0): records ending at the end of
    the file, a header mark covering them, no zero tail: read whole, no damage."""
    from rustmemodb.durability.wal import segment_header
    seg = tmp_path / "00000000000000000001.wal"
    records = [frame(1, b"a" * 10), frame(2, b"b" * 20)]
    seg.write_bytes(segment_header(1, 2) + b"".join(records))
    scan = scan_segment(seg, 1)
    assert not scan.tail_marks and not scan.cut_short
    assert [r[0] for r in scan.records] == [1, 2] and scan.mark == 2
    head = HEADER.unpack_from(seg.read_bytes(), 0)
    assert head[1] == FORMAT and head[2] == 0
    flagged = tmp_path / "flagged" / "00000000000000000001.wal"
    flagged.parent.mkdir()
    flagged.write_bytes(segment_header(1, 0, TAIL_MARKS) + b"".join(records))
    assert scan_segment(flagged, 1).cut_short        # the same bytes, flagged: cut short
    assert HEADER_CRC.size + HEADER.size == MARK_OFFSET
    assert mark_bytes(1, 2) == seg.read_bytes()[MARK_OFFSET:SEGMENT_HEADER_SIZE]


def test_a_failed_write_leaves_zeros_where_the_frame_began(path, monkeypatch):
    """A failed append (async: the committer writes) cuts the partial frame and keeps a
    frame header's worth of zeros there; a crash then reads a clean end, not a
    truncation."""
    db = open_clean(path, durability="async")
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    with committer_writes_fail(monkeypatch), pytest.raises(errors.OperationalError):
        conn.execute("INSERT INTO t VALUES (2)")
    db.log.sync()
    db._abandon()
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    assert not scan.cut_short and scan.bad_offset is None
    db = open_clean(path)
    assert rows(db) == [(1,)]
    db.close()
