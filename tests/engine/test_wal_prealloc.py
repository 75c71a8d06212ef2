"""Preallocated log segments: zero-filled extents ahead of the records (durability/wal.py).

The log's end is then no longer the file's end but the first frame header of zeros
followed by nothing but zeros. These tests pin down that a crash leaves exactly that and
it reads as the clean end (no warning, nothing cut), that a torn frame before the zeros
is still a torn tail, that damage before the zeros is still XX001, that segments grow by
whole extents, and that sealed or closed segments keep no zeros.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import rustmemodb
from rustmemodb import errors
from rustmemodb.durability.wal import (
    EXTENT_MAX,
    EXTENT_MIN,
    FRAME,
    SEGMENT_HEADER_SIZE,
    frame,
    grown_size,
    list_segments,
    scan_segment,
)

from .log_files import committer_writes_fail, newest_segment, open_clean, rows





@pytest.fixture
def path(tmp_path):
    return tmp_path / "db"


def test_grown_size_is_whole_extents_doubling_up_to_the_cap():
    assert grown_size(EXTENT_MIN + 1, EXTENT_MIN) == 2 * EXTENT_MIN
    assert grown_size(2 * EXTENT_MIN + 5, 2 * EXTENT_MIN) == 4 * EXTENT_MIN
    assert grown_size(EXTENT_MAX * 3 + 1, EXTENT_MAX * 3) == EXTENT_MAX * 4
    assert grown_size(10 * EXTENT_MIN, EXTENT_MIN) == 10 * EXTENT_MIN    # one big write


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_crash_leaves_a_zero_tail_read_as_the_clean_end(path, durability):
    db = open_clean(path, durability=durability)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    for i in range(20):
        conn.execute("INSERT INTO t VALUES (?)", [i])
    db.log.sync()
    db._abandon()
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    assert seg.stat().st_size == EXTENT_MIN and scan.zero_tail > 0
    assert scan.bad_offset is None and scan.end + scan.zero_tail == EXTENT_MIN
    assert rustmemodb.check(path).status == "ok"
    db = open_clean(path, durability=durability)
    assert rows(db) == [(i,) for i in range(20)]
    assert db.recovery["torn_bytes"] == 0 and not db.recovery["warnings"]
    db.close()


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_segments_grow_by_extents_and_survive_a_crash(path, durability):
    db = open_clean(path, durability=durability, checkpoint_bytes=1 << 30)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER, pad TEXT)")
    sizes = set()
    for i in range(300):                       # ~1 KiB records: past 64, 128 and 256 KiB
        conn.execute("INSERT INTO t VALUES (?, ?)", [i, "p" * 1000])
        sizes.add(newest_segment(path)[1].stat().st_size)
    assert {EXTENT_MIN, 2 * EXTENT_MIN, 4 * EXTENT_MIN} <= sizes
    assert all(s % EXTENT_MIN == 0 for s in sizes)
    db.log.sync()
    db._abandon()
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    assert scan.zero_tail > 0 and len(scan.records) >= 300
    db = open_clean(path)
    assert db.connect().execute("SELECT count(*), max(x) FROM t").fetchall() == [(300, 299)]
    db.close()


def test_reopen_append_reopen_cycles(path):
    """Each reopen after a crash seals the crashed segment where its records end (its
    zeros cut off) and appends to a fresh preallocated one; nothing is lost or misread."""
    db = open_clean(path)
    db.connect().execute("CREATE TABLE t (x INTEGER)")
    expected = []
    for cycle in range(5):
        conn = db.connect()
        for i in range(cycle * 10, cycle * 10 + 10):
            conn.execute("INSERT INTO t VALUES (?)", [i])
            expected.append((i,))
        if cycle % 2:
            db._abandon()                      # a crash: the open segment keeps its zeros
        else:
            db.close()                         # a clean close cuts them (but a tail mark's)
            first, seg = newest_segment(path)
            scan = scan_segment(seg, first)
            assert seg.stat().st_size == scan.end + scan.zero_tail
            assert scan.zero_tail <= FRAME.size and not scan.cut_short
        db = open_clean(path)
        assert rows(db) == expected
        segs = list_segments(path / "wal")
        for first, seg in segs[:-1]:           # every older one: sealed, no zero tail
            scan = scan_segment(seg, first)
            assert scan.sealed and scan.zero_tail == 0 and scan.end == seg.stat().st_size
    db.close()


def test_a_torn_frame_followed_by_zeros_is_a_torn_tail(path):
    db = open_clean(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    db._abandon()
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    size = seg.stat().st_size
    unfinished = frame(scan.last_lsn + 1, os.urandom(80))[:-20]
    with open(seg, "r+b") as f:                # written into the zeros, cut short
        f.seek(scan.end)
        f.write(unfinished)
    assert seg.stat().st_size == size
    assert rustmemodb.check(path).status == "torn-tail"
    with pytest.warns(RuntimeWarning, match="torn tail"):
        db = rustmemodb.Database.open(path)
    assert rows(db) == [(1,)]
    db.connect().execute("INSERT INTO t VALUES (2)")
    db._abandon()
    db = open_clean(path)
    assert rows(db) == [(1,), (2,)]
    db.close()


@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_bit_flip_before_the_zero_tail_is_damage(path, where):
    db = open_clean(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    for i in range(5):
        conn.execute("INSERT INTO t VALUES (?)", [i])
    db._abandon()
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    assert scan.zero_tail > 0
    _, _, offset = scan.records[2]             # a frame in the middle, valid ones after it
    at = offset + (13 if where == "header" else FRAME.size + 2)
    data = bytearray(seg.read_bytes())
    data[at] ^= 0x10
    seg.write_bytes(bytes(data))
    assert rustmemodb.check(path).status == "damaged"
    with pytest.raises(errors.InternalError) as info:
        rustmemodb.Database.open(path)
    assert info.value.sqlstate == "XX001" and "byte offset" in info.value.message
    assert seg.read_bytes() == bytes(data)     # opening changed nothing


def test_zeros_after_a_seal_are_not_data_after_it(path):
    """A crash between writing a seal and cutting the zeros after it (rotate): still a
    whole, sealed segment."""
    db = open_clean(path)
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    db.log.rotate()
    conn.execute("INSERT INTO t VALUES (2)")
    db._abandon()
    first, older = list_segments(path / "wal")[0]
    with open(older, "ab") as f:               # the zeros the cut-back would have removed
        f.write(bytes(EXTENT_MIN))
    scan = scan_segment(older, first)
    assert scan.sealed and scan.bad_offset is None and scan.zero_tail == EXTENT_MIN
    db = open_clean(path)
    assert rows(db) == [(1,), (2,)]
    db.close()


CHILD = r'''
import sys
import rustmemodb
db = rustmemodb.Database.open(sys.argv[1], durability="sync", checkpoint_bytes=1 << 30)
conn = db.connect()
conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER PRIMARY KEY, pad TEXT)")
start = conn.execute("SELECT coalesce(max(x), -1) + 1 FROM t").fetchall()[0][0]
print("ready", flush=True)
i = start
while True:
    conn.execute("INSERT INTO t VALUES (?, ?)", [i, "z" * (i % 500)])
    print(i, flush=True)           # acknowledged: durable
    i += 1
'''


def test_sigkill_mid_workload_loses_no_acknowledged_commit(path):
    """A real process killed while committing into preallocated (and growing) segments:
    every commit it reported is there after reopening, and the zeros are not misread."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(os.path.dirname(rustmemodb.__file__)), os.environ.get("PYTHONPATH", "")])}
    acked: list[int] = []
    for target in (150, 400, 250):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        for got, line in enumerate(child.stdout, 1):
            acked.append(int(line))
            if got >= target:
                break
        child.send_signal(signal.SIGKILL)
        child.wait()
        first, seg = newest_segment(path)
        scan = scan_segment(seg, first)
        assert scan.zero_tail > 0 or scan.bad_offset is not None   # a preallocated segment
        db = rustmemodb.Database.open(path)
        present = {r[0] for r in db.connect().execute("SELECT x FROM t").fetchall()}
        assert set(acked) <= present
        assert present == set(range(len(present)))          # no holes: a prefix
        db.close()
    assert len(acked) == 800
    assert SEGMENT_HEADER_SIZE < EXTENT_MIN


def test_a_failed_async_write_cuts_the_zeros_and_the_next_append_grows_again(path, monkeypatch):
    """A failed write (async mode) truncates the segment where the frame began, zeros
    included; the next append preallocates again from there and nothing is misread."""
    db = open_clean(path, durability="async")
    conn = db.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    with committer_writes_fail(monkeypatch), \
            pytest.raises(errors.OperationalError) as info:
        conn.execute("INSERT INTO t VALUES (2)")
    assert info.value.sqlstate == "58030"
    first, seg = newest_segment(path)
    scan = scan_segment(seg, first)
    assert seg.stat().st_size == scan.end + FRAME.size == scan.end + scan.zero_tail  # zeros cut
    conn.execute("INSERT INTO t VALUES (3)")
    assert seg.stat().st_size == EXTENT_MIN                         # preallocated again
    db.log.sync()
    db._abandon()
    db = open_clean(path)
    assert rows(db) == [(1,), (3,)]
    db.close()
