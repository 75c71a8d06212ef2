"""The write-ahead log: framed, checksummed records in append-only segment files.

A segment is ``wal/<first lsn, 20 digits>.wal``; LSNs go up by one per record,
across segments. Layout (little endian, CRC32C everywhere)::

    segment header (48 bytes)
    ┌──────────┬────────────┬──────────┬───────────┬────────────┬─────────────────────┐
    │ magic 8s │ format u32 │ flags u32│ first u64 │ crc u32 +4 │ mark: lsn u64,      │
    │          │            │          │           │ (bytes 0-24)│ crc u32 (lsn+first) │
    └──────────┴────────────┴──────────┴───────────┴────────────┴─────────────────────┘
    frame (24 bytes + payload), one per committed transaction
    ┌────────────┬─────────┬───────┬─────────┬─────────────────────────────┬─────────┐
    │ length u64 │ kind u8 │ 0 x3  │ lsn u64 │ crc u32 (bytes 0-20 + data) │ payload │
    └────────────┴─────────┴───────┴─────────┴─────────────────────────────┴─────────┘

``kind`` 1 is a commit record; kind 2 *seals* a segment (no payload, ``lsn`` =
its last LSN): written when the log moves on to the next segment, so a sealed
segment with no successor means a segment was lost. The *mark* is the last LSN known
to be fsync'ed, written right after each fsync (so it never claims what a power loss
could take back; it reaches the disk with the next fsync, and survives a process crash
at once). A segment whose valid records end before its mark was truncated or damaged,
not torn by a crash: a bit flip in the last acknowledged commit is XX001, not a torn
tail cut silently. A checkpoint at LSN L rotates to a fresh segment starting at L+1.

The mark is a *tail mark* where it can be: kind 3, no payload, ``lsn`` = the record
it vouches for, written right after that record, in the zero tail; the next frame is
written over it (a frame is never shorter than a mark), so a mark is always the last
thing before the zeros, and a record followed by a valid frame needs none. Recovery
takes the highest of it and the header's mark field (still written at rotation and
close, and where a tail mark would pass the preallocated zeros). A header mark also
caught a segment *truncated* (a copy cut short) at the end of its last records; a tail
mark is cut off with them. So a segment written with tail marks says so in its header
(``flags`` bit ``TAIL_MARKS``) and keeps a promise recovery checks: until it is sealed
or closed, at least a frame header's worth of preallocated zeros (or a tail mark) follows
its last frame at every moment (the zeros are written *before* a frame that needs them,
never after), so a crash never leaves it ending inside or right after a record; one
that does, without a header mark covering its records, was truncated (XX001). Why not always the
header: the header is another page than the records, so every fsync wrote two pages
far apart instead of one; measured on this VM (a 120-byte frame appended and
fdatasync'ed, back to back): 148-180 µs per commit without the header write against
374-392 µs with it. Logs written before tail marks read the same (their marks are all
in the header); an older reader takes a tail mark for a torn tail and cuts just it.

Segments are *preallocated*: created with, and grown by, extents of zeros written and
fsync'ed ahead of the records (64 KiB, then the file's size, at most 1 MiB at a time).
Overwriting bytes a file already has needs no new block and no size change, so the
commit's flush is an ``fdatasync`` of data pages only (measured on this VM: ~125 µs
instead of ~180 µs for an fsync of an append). The log therefore ends at the first frame
header of zeros followed by nothing but zeros (the *zero tail*; no frame is all zeros:
its kind is 1 or 2); zeros followed by anything else are a bad frame like any other. A
segment is cut back to its last frame when it is sealed or the log is closed, so only
the open segment of a crashed process keeps a zero tail. (A power loss in the middle of
an unsynced multi-page write can leave a page of zeros before a page that did reach the
disk: that reads as damage in the middle, XX001, never as a clean end that drops data.)

Reading (``scan_segment``) never modifies anything. It stops at the first frame
that is short, fails its checksum, has an unknown kind or breaks the LSN
sequence, and then looks for a *valid* frame after it: if one exists, the bad
frame is damage in the middle of the log (XX001, see ``recover.py``); if not,
it may be the torn tail a crash leaves.

Durability (``Log.mode``):

* ``sync``  — ``append`` frames the record (under the database's commit lock) and
  the committer then waits in ``wait_durable`` *outside* the lock: one thread
  becomes the leader, writes every frame appended so far (one ``pwrite``) and
  fsyncs them, so threads committing together share one write and one fsync
  (group commit). A commit returns only when durable; until then its frame may be
  in memory only, which a crash loses with the unacknowledged commit.
  With an fsync helper process attached by the wire server's loop (``attach_helper``,
  ``fsync_helper.py``), ``append`` queues the frame for the helper instead, sent with
  the next ``request_sync`` (with the client's reply, for the helper to send once
  durable); whatever else touches the file first drains the helper (``_drain_locked``).
* ``async`` — ``append`` writes the frame (it is in the OS page cache: a crash of
  the process loses nothing, a power loss up to ~``interval`` of commits);
  a background thread fsyncs every ``interval`` seconds (10 ms).

A write or fsync failure poisons the log: every later commit fails with 58030,
as PostgreSQL PANICs, because after a failed fsync the kernel may have dropped
the dirty pages and nothing can be promised any more.
"""
from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

import google_crc32c

from .problems import io_error

MAGIC = b"RMDBWAL\x00"
FORMAT = 2
HEADER = struct.Struct("<8sIIQ")          # magic, format, reserved, first lsn
HEADER_CRC = struct.Struct("<I4x")
MARK = struct.Struct("<QI4x")             # durable lsn, crc
MARK_OFFSET = HEADER.size + HEADER_CRC.size
SEGMENT_HEADER_SIZE = MARK_OFFSET + MARK.size
FRAME = struct.Struct("<QB3xQI")          # length, kind, lsn, crc
COMMIT, SEAL, TAIL = 1, 2, 3      # frame kinds: a record, a seal, a tail mark
TAIL_MARKS = 1                            # header flag (module docstring)
_CRC_SPAN = FRAME.size - 4                # the header bytes the crc covers
_FRAME_HEAD = struct.Struct("<QB3xQ")     # FRAME's first _CRC_SPAN bytes (length, kind, lsn)
_CRC = struct.Struct("<I")
_LSN2 = struct.Struct("<QQ")
_crc_value, _crc_extend = google_crc32c.value, google_crc32c.extend
_LSN = struct.Struct("<Q")
_LSN_AT = 12                              # offset of the lsn inside a frame
_MAX_CANDIDATES = 200_000
_ZERO_HEADER = bytes(FRAME.size)
EXTENT_MIN = 64 << 10                     # a new segment's preallocated size
EXTENT_MAX = 1 << 20                      # the most a segment grows by at once
MAX_HELPER_FRAMES = 32 << 10              # frame bytes handed to the helper at once


def frame(lsn: int, payload: bytes, kind: int = COMMIT) -> bytes:
    head = _FRAME_HEAD.pack(len(payload), kind, lsn)
    return b"".join((head, _CRC.pack(_crc_extend(_crc_value(head), payload)), payload))


def tail_mark(lsn: int) -> bytes:
    """The mark frame vouching that every record up to ``lsn`` is durable (module
    docstring): written right after ``lsn``'s frame, over the zero tail."""
    return frame(lsn, b"", TAIL)


def segment_header(first_lsn: int, mark: int = 0, flags: int = 0) -> bytes:
    head = HEADER.pack(MAGIC, FORMAT, flags, first_lsn)
    return head + HEADER_CRC.pack(google_crc32c.value(head)) + mark_bytes(first_lsn, mark)


def mark_bytes(first_lsn: int, mark: int) -> bytes:
    return MARK.pack(mark, _crc_value(_LSN2.pack(first_lsn, mark)))


def segment_name(first_lsn: int) -> str:
    return f"{first_lsn:020d}.wal"


def list_segments(wal_dir: Path) -> list[tuple[int, Path]]:
    out = []
    try:
        entries = list(wal_dir.glob("*.wal"))
    except OSError:
        return []
    for p in entries:
        if len(p.stem) == 20 and p.stem.isdigit():
            out.append((int(p.stem), p))
    return sorted(out)


@dataclass
class Scan:
    """What reading one segment found (nothing is modified)."""
    path: Path
    first_lsn: int                 # from the file name
    size: int
    header_error: str | None = None
    mark: int = 0                  # last LSN recorded durable (0: none / unreadable)
    mark_ok: bool = True
    records: list = field(default_factory=list)   # (lsn, payload memoryview, offset)
    end: int = 0                   # offset just past the last whole frame (incl. a seal)
    zero_tail: int = 0             # preallocated zeros after ``end`` (the log's clean end)
    sealed: bool = False
    tail_marks: bool = False       # written with tail marks (the header's flag)
    # a TAIL_MARKS segment whose file ends neither with a frame header's worth of zeros
    # nor with its tail mark: not how a crash leaves an open one (module docstring)
    cut_short: bool = False
    bad_offset: int | None = None  # first frame that is not whole and valid
    bad_reason: str = ""
    valid_after: int | None = None  # offset of a valid frame after bad_offset, if any

    @property
    def last_lsn(self) -> int:
        return self.records[-1][0] if self.records else self.first_lsn - 1


def scan_segment(path: Path, first_lsn: int) -> Scan:
    data = path.read_bytes()
    size = len(data)
    scan = Scan(path, first_lsn, size)
    if size < SEGMENT_HEADER_SIZE:
        scan.header_error = f"the segment header is cut short ({size} of " \
                            f"{SEGMENT_HEADER_SIZE} bytes)"
        scan.bad_offset = 0
        return scan
    magic, fmt, flags, first = HEADER.unpack_from(data, 0)
    (hcrc,) = HEADER_CRC.unpack_from(data, HEADER.size)
    if google_crc32c.value(data[:HEADER.size]) != hcrc or magic != MAGIC:
        scan.header_error = "the segment header fails its checksum"
    elif fmt != FORMAT:
        scan.header_error = f"unsupported log format {fmt} (expected {FORMAT})"
    elif first != first_lsn:
        scan.header_error = f"the segment header names first LSN {first}, the file name " \
                            f"{first_lsn}"
    if scan.header_error:
        scan.bad_offset = 0
        return scan
    scan.tail_marks = bool(flags & TAIL_MARKS)
    mark, mcrc = MARK.unpack_from(data, MARK_OFFSET)
    if google_crc32c.value(_LSN.pack(first) + _LSN.pack(mark)) == mcrc:
        scan.mark = mark
    else:
        scan.mark_ok = False
    view = memoryview(data)
    pos, lsn = SEGMENT_HEADER_SIZE, first
    kind = 0
    while pos < size:
        if data.startswith(_ZERO_HEADER[:size - pos], pos) and _zeros_from(data, pos):
            scan.zero_tail = size - pos          # the preallocated rest: the clean end
            break
        problem = _check_frame(data, pos, lsn)
        if problem:
            scan.bad_offset, scan.bad_reason = pos, problem
            scan.valid_after = _find_valid_frame(data, pos + 1, lsn)
            break
        length, kind, rec_lsn, _ = FRAME.unpack_from(data, pos)
        end = pos + FRAME.size + length
        if kind == TAIL:
            scan.mark = max(scan.mark, rec_lsn)
            pos = end
            continue
        if kind == SEAL:
            scan.sealed = True
            scan.end = end
            if end < size and _zeros_from(data, end):   # a crash before the cut-back
                scan.zero_tail = size - end
            elif end < size:
                scan.bad_offset, scan.bad_reason = end, "data after the segment's seal"
                scan.valid_after = end
            return scan
        scan.records.append((rec_lsn, view[pos + FRAME.size:end], pos))
        lsn += 1
        pos = end
    scan.end = pos if scan.bad_offset is None else scan.bad_offset
    if scan.tail_marks:
        ends_with_mark = kind == TAIL and pos == size and scan.bad_offset is None
        scan.cut_short = not ends_with_mark and not data.endswith(_ZERO_HEADER)
    return scan


def _zeros_from(data: bytes, pos: int) -> bool:
    """Whether every byte from ``pos`` on is zero (one C-speed count, no copy)."""
    return data.count(0, pos) == len(data) - pos


def _check_frame(data: bytes, pos: int, lsn: int) -> str:
    """Why the frame at ``pos`` (expected to carry ``lsn``) is not valid, or ''."""
    size = len(data)
    if pos + FRAME.size > size:
        return "a frame header is cut short"
    length, kind, rec_lsn, crc = FRAME.unpack_from(data, pos)
    end = pos + FRAME.size + length
    if end > size:
        return "a frame's payload is cut short"
    if google_crc32c.extend(google_crc32c.value(data[pos:pos + _CRC_SPAN]),
                            data[pos + FRAME.size:end]) != crc:
        return "a frame fails its checksum"
    if kind == SEAL:
        return "" if rec_lsn == lsn - 1 and length == 0 else "a malformed segment seal"
    if kind == TAIL:
        return "" if rec_lsn == lsn - 1 and length == 0 else "a malformed durable-LSN mark"
    if kind != COMMIT:
        return f"unknown frame kind {kind}"
    if rec_lsn != lsn:
        return f"a frame carries LSN {rec_lsn} where {lsn} was expected"
    return ""


def _find_valid_frame(data: bytes, start: int, lsn: int) -> int | None:
    """Offset of a whole, checksum-valid frame at or after ``start`` whose LSN could
    follow ``lsn`` (the one expected where reading stopped), or None.

    A frame is found by its kind byte, zero padding and LSN (12 known bytes); the
    candidates are then checked in full. Used only once damage was found, so the
    cost (a few ``bytes.find`` over the rest of the segment) is paid only then."""
    checked = 0
    wanted = [(COMMIT, lsn), (COMMIT, lsn + 1), (SEAL, lsn - 1), (SEAL, lsn)]
    wanted += [(COMMIT, n) for n in range(lsn + 2, lsn + 64)]
    wanted += [(SEAL, n) for n in range(lsn + 1, lsn + 64)]
    # a tail mark after the damage (the mark of the damaged record itself, typically)
    wanted += [(TAIL, n) for n in range(lsn - 1, lsn + 64)]
    for kind, n in wanted:
        pattern = bytes([kind, 0, 0, 0]) + _LSN.pack(n)
        at = data.find(pattern, start + 8)
        while at != -1:
            checked += 1
            if checked > _MAX_CANDIDATES:     # cannot tell: assume the worst
                return start
            if not _check_frame(data, at - 8, n if kind == COMMIT else n + 1):
                return at - 8
            at = data.find(pattern, at + 1)
    return None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes, at: int) -> None:
    """``pwrite`` until all of ``data`` is written (a short write is legal)."""
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n


def grown_size(needed: int, allocated: int) -> int:
    """The preallocated size a segment of ``allocated`` bytes grows to for a write
    ending at ``needed``: a multiple of a step as large as the file (doubling, so a busy
    log grows rarely) but at most EXTENT_MAX (one growth costs a bounded write)."""
    step = min(max(allocated, EXTENT_MIN), EXTENT_MAX)
    return -(-needed // step) * step


def create_segment(wal_dir: Path, first_lsn: int, preallocate: int = 0) -> int:
    """A new, empty, durable segment, zero-filled to ``preallocate`` bytes; returns its
    open (write) descriptor. A preallocated one keeps its zero tail and takes tail marks
    (``TAIL_MARKS``).

    The header is written to a temporary file that is renamed into place once
    durable, so a crash never leaves a segment with a torn header (nor half-replaces
    an existing empty one of the same name)."""
    path = wal_dir / segment_name(first_lsn)
    tmp = wal_dir / (segment_name(first_lsn) + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        header = segment_header(first_lsn, 0, TAIL_MARKS if preallocate > SEGMENT_HEADER_SIZE
                                + FRAME.size else 0)
        write_all(fd, header + bytes(max(0, preallocate - len(header))), 0)
        os.fsync(fd)
        os.replace(tmp, path)
        fsync_dir(wal_dir)
    except BaseException:
        os.close(fd)
        raise
    return fd


class Log:
    """The writer side: one open segment, appends, fsync policy, rotation."""

    def __init__(self, wal_dir: Path, next_lsn: int, mode: str, *,
                 interval: float = 0.010, preallocate: bool = True) -> None:
        self.dir = wal_dir
        self.preallocate = preallocate
        self.mode = mode
        self.interval = interval
        self.next_lsn = next_lsn          # LSN the next append gets
        self.written_lsn = next_lsn - 1   # last LSN appended (sync mode: maybe in memory)
        self.durable_lsn = next_lsn - 1   # last LSN known fsync'ed
        self.bytes_since_checkpoint = 0
        self.stats = {"records": 0, "bytes": 0, "fsyncs": 0}
        # ``_cond``'s lock, taken directly where nothing waits or notifies (a Condition's
        # ``with`` is a Python call more, on every commit's path)
        self._mutex = threading.RLock()
        self._cond = threading.Condition(self._mutex)
        self._syncing = False
        # sync mode: frames appended and not yet written (the next fsync writes them
        # first), and the file offset of the first
        self._unwritten: list[bytes] = []
        self._unwritten_at = 0
        self._broken: BaseException | None = None
        self._closed = False
        # An fsync helper process (fsync_helper.py) attached by an event loop that
        # waits for its answers instead of a thread's fsync; while one is (or was)
        # attached, appends write their frame at once (``_direct``).
        self._helper = None
        self._direct = False
        # A helper that also writes the frames (``writes_frames``): appends queue theirs
        # here (contiguous, from ``_outbox_at``; ``_outbox_end``: the preallocated end
        # they need), sent with the next request (``request_sync``) or before anything
        # else touches the log (``_drain_locked``).
        self._frames_to = None
        self._outbox: list[bytes] = []
        self._outbox_at = 0
        self._outbox_size = 0
        self._outbox_end = 0
        self._fd = -1
        self._allocated = 0               # the open segment's size (its zeros included)
        self._segment: Path | None = None
        self._first = next_lsn
        self._mark = 0                    # the highest LSN a mark (tail or header) claims
        # the end of the last frame in the file (a tail mark goes there) and its LSN
        self._file_end = 0
        self._file_lsn = 0
        self._open_segment(next_lsn)
        self._flusher = None
        if mode == "async":
            self._flusher = threading.Thread(target=self._flush_loop, name="rustmemodb-wal",
                                             daemon=True)
            self._flusher.start()

    @property
    def broken(self) -> BaseException | None:
        return self._broken

    # ---- appends (caller holds the database commit lock) ----------------------------------
    def append(self, payload: bytes) -> int:
        if self._broken is not None or self._closed:
            self._check()
        lsn = self.next_lsn
        data = frame(lsn, payload)
        size = len(data)
        start = self._size
        end = start + size
        if self._frames_to is not None:
            if size <= MAX_HELPER_FRAMES:
                return self._to_helper(lsn, data, start, end)
            with self._cond:                 # written here: the helper's writes first
                self._drain_locked()
        sync = self.mode == "sync" and not self._direct
        with self._mutex:
            if sync:
                # Written by the fsync that makes it durable (``_sync_locked``), with every
                # frame appended meanwhile: the committer never waits on the file (nor, in
                # a threaded server, on the lock a concurrent fsync's thread releases). A
                # crash before that loses only commits nobody was told about.
                if not self._unwritten:
                    self._unwritten_at = start
                self._unwritten.append(data)
            else:
                # (Every commit's frame, on the committing thread, often an event loop's:
                # the usual write is one pwrite of the frame, the zeros only when the
                # segment grows. Under the lock: a tail mark is written at the end of the
                # file under it too, and must not land on this frame.)
                fd = self._fd
                try:
                    if end + FRAME.size > self._allocated and self.preallocate:
                        self._grow(end)
                    n = os.pwrite(fd, data, start)
                    if n != size:            # a short write is legal: the rest
                        write_all(fd, data[n:], start + n)
                except OSError as exc:
                    self._undo(fd, start, exc)
                self._file_end, self._file_lsn = end, lsn
            self.written_lsn = lsn
        return self._appended(lsn, end, size)

    def _appended(self, lsn: int, end: int, size: int) -> int:
        """The frame of ``lsn`` (``size`` bytes, ending at ``end``) is logged: counted,
        and the next append goes after it."""
        self._size = end
        self.next_lsn = lsn + 1
        stats = self.stats
        stats["records"] += 1
        stats["bytes"] += size
        self.bytes_since_checkpoint += size
        return lsn

    def _to_helper(self, lsn: int, data: bytes, start: int, end: int) -> int:
        """``append`` while the helper writes the frames: ``data`` queued for it (sent
        with the next request, ``request_sync``), the segment's preallocated end grown
        if the frame passes it (the helper writes the zeros)."""
        size = end - start
        with self._mutex:
            if self._outbox and self._outbox_size + size > MAX_HELPER_FRAMES:
                self._flush_locked()
            if not self._outbox:
                self._outbox_at = start
            self._outbox.append(data)
            self._outbox_size += size
            if end + FRAME.size > self._allocated and self.preallocate:
                # (the helper writes these zeros before the frames: module docstring)
                self._allocated = self._outbox_end = grown_size(end + FRAME.size,
                                                                self._allocated)
            if not self._frames_to.writes_mark:
                # (the log writes the mark after a sync: ``_mark_locked`` needs the end)
                self._file_end, self._file_lsn = end, lsn
            self.written_lsn = lsn
        return self._appended(lsn, end, size)

    def _flush_locked(self, reply=None) -> int:
        """(Under ``_mutex``.) Send the queued frames to the helper as one request for
        their last LSN, with ``reply`` (connection, socket descriptor, bytes) for it to
        send once they are durable; the reply's sequence number (0: none)."""
        outbox = self._outbox
        if not outbox:
            return 0
        data = outbox[0] if len(outbox) == 1 else b"".join(outbox)
        frames = (self._outbox_at, data, self._outbox_end)
        self._outbox, self._outbox_size, self._outbox_end = [], 0, 0
        return self._request_locked(self.written_lsn, frames, reply)

    def _request_locked(self, target: int, frames=None, reply=None) -> int:
        helper = self._helper
        mark = None
        if helper.writes_mark and target >= self._first:
            # the tail mark right after ``target``'s frame when that is the last one (the
            # helper writes it only if no frame was handed to it since), else the header's
            end = self._size
            if target == self.written_lsn and end + FRAME.size <= self._allocated:
                mark = (end, tail_mark(target))
            else:
                mark = (MARK_OFFSET, mark_bytes(self._first, target))
        try:
            if frames is None and reply is None:
                helper.request(target, self._fd, self._first, mark)
                return 0
            return helper.request(target, self._fd, self._first, mark, frames, reply,
                                  reply is None)
        except OSError as exc:
            self._poison_locked(exc)

    def _drain_locked(self) -> None:
        """(Under ``_cond``.) Before this thread touches the log itself (a frame too big
        to hand over, a commit waited for outside the event loop, a rotation, closing):
        every frame handed to the helper written and synced (``FsyncHelper.barrier``),
        so the file has no hole before what is written here and every LSN logged so far
        is durable. The lock is released while the helper works (the loop may append)."""
        helper = self._frames_to
        if helper is None:
            return
        self._check()
        if self._outbox:
            self._flush_locked()
        elif self.written_lsn > max(helper.requested, self.durable_lsn):
            self._request_locked(self.written_lsn)     # a frame written here (too big)
        self._cond.release()
        error = None
        try:
            durable = helper.barrier()
        except OSError as exc:
            error = exc
        finally:
            self._cond.acquire()
        if error is not None:
            self._poison_locked(error)
        self._helper_durable_locked(durable)

    def _helper_durable_locked(self, lsn: int, mark: bool = True) -> None:
        if lsn > self.durable_lsn:
            self.durable_lsn = lsn
            self.stats["fsyncs"] += 1
            if not mark:
                pass                     # (``write_mark`` follows)
            elif self._helper is not None and not self._helper.writes_mark:
                try:                     # (io_uring: the syncer writes no marks)
                    self._mark_locked(lsn)
                except OSError as exc:
                    self._poison_locked(exc)
            elif lsn >= self._first and lsn > self._mark:
                self._mark = lsn         # (written by the helper)
            self._cond.notify_all()

    def _grow(self, end: int) -> None:
        """Before frames ending at ``end`` are written: grow the preallocated zeros so
        that a frame header's worth still follows them (where a tail mark goes), writing
        the zeros first, so that no crash leaves the segment ending inside or right
        after a frame (module docstring). Only the one writer calls it: an append under
        the log's lock, or the fsync round (sync)."""
        need = end + FRAME.size
        if need <= self._allocated or not self.preallocate:
            return
        new = grown_size(need, self._allocated)
        write_all(self._fd, bytes(new - self._allocated), self._allocated)
        self._allocated = new

    def _undo(self, fd: int, start: int, exc: OSError):
        # Leave no partial frame that later records would hide behind: the segment is
        # cut where the frame began and keeps a frame header's worth of zeros there (a
        # segment with tail marks never ends right after a record: module docstring);
        # the rest of its zeros go too, grown again by the next append.
        keep = start + FRAME.size if self.preallocate else start
        self._allocated = keep
        try:
            os.ftruncate(fd, start)
            if keep > start:
                os.ftruncate(fd, keep)
        except OSError:
            self._broken = exc
        raise io_error(f"could not write to the write-ahead log: {exc}",
                       hint="Check free disk space and permissions of the database "
                            "directory.") from exc

    # ---- durability ------------------------------------------------------------------------
    def wait_durable(self, lsn: int) -> None:
        """Return once ``lsn`` is fsync'ed (sync mode: group commit with other waiters)."""
        with self._cond:
            while self.durable_lsn < lsn:
                self._check()
                if self._frames_to is not None:
                    self._drain_locked()
                    continue
                if self._syncing:
                    self._cond.wait()
                    continue
                self._sync_locked()

    # ---- an fsync helper process (sync mode, an event loop waiting) -----------------------
    def attach_helper(self, helper) -> bool:
        """Let ``helper`` (an ``FsyncHelper``) make commits durable for an event loop that
        calls ``request_sync`` and, when the helper's socket is readable,
        ``helper_answered``. False if another helper is attached. The caller holds the
        database's commit lock (no append runs): everything logged so far is made
        durable first, then appends write their frames at once, for the helper to sync."""
        with self._cond:
            if self._helper is not None:
                return False
            self._sync_all_locked()
            self._helper = helper
            self._direct = True
            if getattr(helper, "writes_frames", False):
                self._frames_to = helper
            return True

    def detach_helper(self, helper) -> None:
        """Stop using ``helper``; appends keep writing at once (``_sync_locked`` then
        only fsyncs), so a commit logged meanwhile is never left unwritten."""
        with self._cond:
            if self._helper is helper:
                if self._frames_to is helper:
                    try:             # its frames written before this thread writes more
                        if self._broken is None and not self._closed:
                            self._drain_locked()
                    except Exception:  # noqa: BLE001 - the log is broken: commits say so
                        pass
                    self._frames_to = None
                    self._outbox, self._outbox_size, self._outbox_end = [], 0, 0
                self._helper = None

    def request_sync(self, lsn: int = 0, reply=None) -> int:
        """Ask the attached helper to sync every frame written so far, or raise 58030 if
        the log is broken or the helper is gone (which breaks the log: nothing can be
        promised). A helper that writes the mark after its sync (the helper process:
        one pwrite per sync off the loop) is handed the bytes claiming the target; one
        that writes the frames (``writes_frames``) gets those queued.

        ``reply`` (connection id, socket descriptor, bytes; a ``writes_frames`` helper
        only): sent by the helper to the client once ``lsn`` (a commit logged so far) is
        durable; returns its sequence number (``FsyncHelper.progress``), else 0."""
        with self._mutex:
            self._check()
            helper, target = self._helper, self.written_lsn
            if helper is None:
                raise io_error("the fsync helper of the write-ahead log was detached")
            if self._outbox:
                return self._flush_locked(reply)
            if reply is not None:    # its frame went with an earlier request
                return self._request_locked(max(lsn, 1), None, reply)
            if target > helper.requested and target > self.durable_lsn:
                self._request_locked(target)
            return 0

    def helper_answered(self, mark: bool = True) -> int:
        """Read the helper's answers (its socket is readable): the log's durable LSN
        after them. A failed fdatasync or a dead helper breaks the log (58030 raised
        here and by every later commit), as a failed fsync does. ``mark`` False: as
        in ``helper_progress``."""
        with self._mutex:
            helper = self._helper
            if helper is None:
                return self.durable_lsn
            try:
                lsn = helper.answers()
                if self._frames_to is not None:
                    lsn = max(lsn, helper.answered_hint())
                if lsn > self.durable_lsn:
                    self.durable_lsn = lsn
                    self.stats["fsyncs"] += 1
                    # As after our own fsync: the mark claims ``lsn`` only now (it reaches
                    # the disk with the next sync); a frame of a segment rotated since is
                    # durable and marked by the rotation already. A helper that writes
                    # the mark (``writes_mark``) wrote it before answering.
                    if not helper.writes_mark:
                        if mark:
                            self._mark_locked(lsn)
                    elif lsn >= self._first and lsn > self._mark:
                        self._mark = lsn
                    self._cond.notify_all()
            except OSError as exc:
                self._poison_locked(exc)
            return self.durable_lsn

    def helper_progress(self, lsn: int, mark: bool = True) -> int:
        """The helper published (shared memory) that ``lsn`` is durable: the log's
        durable LSN after taking it. ``mark`` False: a helper that writes no marks has
        the caller write it a moment later (``write_mark``), off the path of the
        message about to be handled."""
        if lsn > self.durable_lsn:
            with self._mutex:
                self._helper_durable_locked(lsn, mark)
        return self.durable_lsn

    def write_mark(self) -> None:
        """The mark of the durable LSN, if none claims it yet (``helper_progress``)."""
        with self._mutex:
            if self._broken is None and not self._closed and self.durable_lsn > self._mark:
                try:
                    self._mark_locked(self.durable_lsn)
                except OSError as exc:
                    self._poison_locked(exc)

    def _poison_locked(self, exc: OSError):
        self._broken = exc
        self._cond.notify_all()
        raise io_error(f"could not write or fsync the write-ahead log: {exc}",
                       hint="The database is read-only until it is reopened.") from exc

    def sync(self) -> None:
        """fsync everything written so far."""
        with self._cond:
            self._sync_all_locked()

    def _sync_all_locked(self) -> None:
        """Under ``_cond``: wait out a group sync in flight, then fsync what it left."""
        while self._syncing:
            self._cond.wait()
        self._check()
        if self._frames_to is not None:
            self._drain_locked()
            return
        if self.durable_lsn < self.written_lsn:
            self._sync_locked()

    def _sync_locked(self) -> None:
        # Called holding _cond; releases it for the fsync itself so that other
        # committers can append (and queue up for the next fsync) meanwhile.
        self._syncing = True
        target, fd = self.written_lsn, self._fd
        unwritten, at = self._unwritten, self._unwritten_at
        self._unwritten = []
        self._cond.release()
        error = None
        try:
            if unwritten:
                data = b"".join(unwritten)
                self._grow(at + len(data))
                write_all(fd, data, at)
            self._fsync(fd)
        except OSError as exc:
            error = exc
        finally:
            self._cond.acquire()
            self._syncing = False
            if error is None:
                if unwritten and fd == self._fd:
                    self._file_end, self._file_lsn = at + len(data), target
                try:
                    # Only now may the mark claim ``target``: written after the fsync, it
                    # reaches the disk with the next one (or is in the page cache for a
                    # process crash), never before the records it vouches for.
                    self._mark_locked(target)
                except OSError as exc:
                    error = exc
            if error is None:
                self.durable_lsn = max(self.durable_lsn, target)
                self.stats["fsyncs"] += 1
            else:
                self._broken = error
            self._cond.notify_all()
        if error is not None:
            raise io_error(f"could not write or fsync the write-ahead log: {error}",
                           hint="The database is read-only until it is reopened.") from error

    def _mark_locked(self, lsn: int) -> None:
        """(Under ``_mutex``, after the fsync that made ``lsn`` durable.) Record it: a
        tail mark right after its frame when that is the last frame in the file (else a
        later frame already follows it there: nothing to write), the header's mark when a
        tail mark would pass the preallocated zeros."""
        if lsn <= self._mark or lsn < self._first:
            return
        if self._file_lsn == lsn and self._file_end + FRAME.size <= self._allocated:
            os.pwrite(self._fd, tail_mark(lsn), self._file_end)
        elif self._file_lsn <= lsn:
            os.pwrite(self._fd, mark_bytes(self._first, lsn), MARK_OFFSET)
        self._mark = lsn

    @staticmethod
    def _fsync(fd: int) -> None:
        """fdatasync where there is one: the frames overwrite preallocated zeros, so only
        data pages need flushing (a grown file's new size is flushed by it too, being
        needed to read the data back). Looked up at call time: tests monkeypatch it."""
        getattr(os, "fdatasync", os.fsync)(fd)

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait(self.interval)
                if self._closed:
                    return
                if self._syncing or self.durable_lsn >= self.written_lsn or self._broken:
                    continue
                try:
                    self._sync_locked()
                except Exception:       # poisoned: commits will report it
                    pass

    def _check(self) -> None:
        if self._broken is not None:
            raise io_error("the write-ahead log failed earlier; the database is read-only "
                           "until it is reopened", detail=str(self._broken),
                           hint="Close and reopen the database after fixing the disk problem.")
        if self._closed:
            raise io_error("the database is closed")

    # ---- segments ------------------------------------------------------------------------
    def rotate(self) -> int:
        """Start a new segment at ``next_lsn`` (caller holds the commit lock); returns the
        last LSN of the closed segment, which is durable and sealed on return."""
        with self._cond:
            self._sync_all_locked()
            old_fd, old_first, old_size = self._fd, self._first, self._size
            last = self.next_lsn - 1
            if self.next_lsn == self._first:     # nothing in this segment yet: keep it
                self.bytes_since_checkpoint = 0
                return last
            try:
                self._open_segment(self.next_lsn)
                # Sealed only once its successor exists: a crash in between leaves an
                # unsealed segment followed by an empty one, which reads as whole.
                os.pwrite(old_fd, frame(last, b"", SEAL), old_size)
                if self._allocated > old_size + FRAME.size:     # its zeros: not needed
                    os.ftruncate(old_fd, old_size + FRAME.size)
                os.pwrite(old_fd, mark_bytes(old_first, last), MARK_OFFSET)
                self._fsync(old_fd)
            except OSError as exc:
                self._broken = exc
                raise io_error(f"could not start a new log segment: {exc}") from exc
            finally:
                if old_fd != self._fd:
                    os.close(old_fd)
            self.bytes_since_checkpoint = 0
            return last

    def _open_segment(self, first_lsn: int) -> None:
        size = EXTENT_MIN if self.preallocate else SEGMENT_HEADER_SIZE
        fd = create_segment(self.dir, first_lsn, size)
        self._fd, self._segment, self._size = fd, self.dir / segment_name(first_lsn), \
            SEGMENT_HEADER_SIZE
        self._first, self._mark, self._allocated = first_lsn, 0, size
        self._file_end, self._file_lsn = SEGMENT_HEADER_SIZE, first_lsn - 1

    @property
    def segment(self) -> Path | None:
        return self._segment

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self._broken is None:
                self.sync()
                if self.durable_lsn >= self._first:     # every record is durable
                    os.pwrite(self._fd, mark_bytes(self._first, self.durable_lsn), MARK_OFFSET)
                # A closed log keeps only the zeros (or tail mark) a frame header takes
                # after its records: a segment ending without them was truncated.
                keep = self._size + FRAME.size if self.preallocate else self._size
                if self._allocated > keep:
                    os.ftruncate(self._fd, keep)
                    self._allocated = keep
                self._fsync(self._fd)
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            if self._flusher is not None:
                self._flusher.join()
            os.close(self._fd)


def seal_segment(path: Path, first_lsn: int, last_lsn: int, end: int) -> None:
    """Seal a segment left unsealed by a crash (its successor is about to exist): its
    zero tail cut off, the seal frame at ``end`` (past its last record), then, once that
    is durable, the mark saying every record is."""
    fd = os.open(path, os.O_WRONLY)
    try:
        if os.fstat(fd).st_size > end:
            os.ftruncate(fd, end)
        os.pwrite(fd, frame(last_lsn, b"", SEAL), end)
        os.fsync(fd)
        os.pwrite(fd, mark_bytes(first_lsn, last_lsn), MARK_OFFSET)
        os.fsync(fd)
    finally:
        os.close(fd)


def cut_segment(path: Path, offset: int) -> None:
    """Truncate a segment at ``offset`` (remove it if nothing of it is kept)."""
    if offset <= 0:
        path.unlink()
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
