"""The write-ahead log: framed, checksummed records in append-only segment files.

Frame layout (little endian), one per committed transaction::

    ┌──────────────┬──────────────┬────────────┬──────────────────────┐
    │ length  u64  │ lsn     u64  │ crc32  u32 │ payload (length B)   │
    └──────────────┴──────────────┴────────────┴──────────────────────┘
    crc32 covers the lsn and the payload.

A segment (``wal/<first lsn, 20 digits>.wal``) starts with an 8-byte magic and
its first LSN; LSNs go up by one per record, across segments. A checkpoint at
LSN L rotates to a fresh segment starting at L+1, and deletes the older ones
once its manifest is durable.

Reading stops at the first frame that is short, fails its checksum or breaks the
LSN sequence: that is the *torn tail* a crash leaves (a write cut short, or
garbage after it). Everything before it was written whole. The writer truncates
such a tail away before appending, so new records never hide behind garbage.

Durability (``Log.mode``):

* ``sync``  — ``append`` writes the frame (under the database's commit lock) and
  the committer then waits in ``wait_durable`` *outside* the lock: one thread
  becomes the leader and fsyncs everything written so far, so threads committing
  together share one fsync (group commit). A commit returns only when durable.
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
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .problems import io_error

MAGIC = b"RMDBWAL1"
SEGMENT_HEADER = struct.Struct("<8sQ")
FRAME = struct.Struct("<QQI")
_LSN = struct.Struct("<Q")


def frame(lsn: int, payload: bytes) -> bytes:
    lsn_bytes = _LSN.pack(lsn)
    crc = zlib.crc32(payload, zlib.crc32(lsn_bytes))
    return FRAME.pack(len(payload), lsn, crc) + payload


def segment_name(first_lsn: int) -> str:
    return f"{first_lsn:020d}.wal"


def list_segments(wal_dir: Path) -> list[tuple[int, Path]]:
    out = []
    for p in wal_dir.glob("*.wal"):
        try:
            out.append((int(p.stem), p))
        except ValueError:
            continue
    return sorted(out)


@dataclass
class Scan:
    """What reading one segment found."""
    records: list            # (lsn, payload memoryview)
    valid_bytes: int         # offset just past the last whole frame
    torn: bool               # stopped before the end of the file
    size: int


def read_segment(path: Path, expect_lsn: int | None = None) -> Scan:
    """Whole frames from the start of a segment, stopping at the first bad one."""
    data = memoryview(path.read_bytes())
    size = len(data)
    if size < SEGMENT_HEADER.size:
        return Scan([], 0, size > 0, size)
    magic, first = SEGMENT_HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        return Scan([], 0, True, size)
    pos, lsn = SEGMENT_HEADER.size, first if expect_lsn is None else expect_lsn
    if expect_lsn is not None and first != expect_lsn:
        return Scan([], SEGMENT_HEADER.size, size > SEGMENT_HEADER.size, size)
    records = []
    while pos + FRAME.size <= size:
        length, rec_lsn, crc = FRAME.unpack_from(data, pos)
        end = pos + FRAME.size + length
        if rec_lsn != lsn or end > size:
            break
        payload = data[pos + FRAME.size: end]
        if zlib.crc32(payload, zlib.crc32(_LSN.pack(rec_lsn))) != crc:
            break
        records.append((rec_lsn, payload))
        lsn += 1
        pos = end
    return Scan(records, pos, pos < size, size)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Log:
    """The writer side: one open segment, appends, fsync policy, rotation."""

    def __init__(self, wal_dir: Path, next_lsn: int, mode: str, *,
                 resume: Path | None = None, interval: float = 0.010) -> None:
        self.dir = wal_dir
        self.mode = mode
        self.interval = interval
        self.next_lsn = next_lsn          # LSN the next append gets
        self.written_lsn = next_lsn - 1   # last LSN written to the OS
        self.durable_lsn = next_lsn - 1   # last LSN known fsync'ed
        self.bytes_since_checkpoint = 0
        self.stats = {"records": 0, "bytes": 0, "fsyncs": 0}
        self._cond = threading.Condition()
        self._syncing = False
        self._broken: BaseException | None = None
        self._closed = False
        self._fd = -1
        self._segment: Path | None = None
        if resume is not None:
            self._fd = os.open(resume, os.O_WRONLY | os.O_APPEND)
            self._size = os.fstat(self._fd).st_size
            self._segment = resume
        else:
            self._open_segment(next_lsn)
        self._flusher = None
        if mode == "async":
            self._flusher = threading.Thread(target=self._flush_loop, name="rustmemodb-wal",
                                             daemon=True)
            self._flusher.start()

    # ---- appends (caller holds the database commit lock) ----------------------------------
    def append(self, payload: bytes) -> int:
        self._check()
        lsn = self.next_lsn
        data = frame(lsn, payload)
        fd, start = self._fd, self._size
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
        except OSError as exc:
            self._undo(fd, start, exc)
        self._size = start + len(data)
        self.next_lsn = lsn + 1
        self.stats["records"] += 1
        self.stats["bytes"] += len(data)
        self.bytes_since_checkpoint += len(data)
        with self._cond:
            self.written_lsn = lsn
        return lsn

    def _undo(self, fd: int, start: int, exc: OSError):
        try:      # leave no partial frame that later records would hide behind
            os.ftruncate(fd, start)
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
                if self._syncing:
                    self._cond.wait()
                    continue
                self._sync_locked()

    def sync(self) -> None:
        """fsync everything written so far."""
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if self.durable_lsn < self.written_lsn:
                self._sync_locked()

    def _sync_locked(self) -> None:
        # Called holding _cond; releases it for the fsync itself so that other
        # committers can append (and queue up for the next fsync) meanwhile.
        self._syncing = True
        target, fd = self.written_lsn, self._fd
        self._cond.release()
        error = None
        try:
            os.fsync(fd)
        except OSError as exc:
            error = exc
        finally:
            self._cond.acquire()
            self._syncing = False
            if error is None:
                self.durable_lsn = max(self.durable_lsn, target)
                self.stats["fsyncs"] += 1
            else:
                self._broken = error
            self._cond.notify_all()
        if error is not None:
            raise io_error(f"could not fsync the write-ahead log: {error}") from error

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
            raise io_error("the write-ahead log failed earlier; no more commits are accepted",
                           detail=str(self._broken),
                           hint="Close and reopen the database after fixing the disk problem.")
        if self._closed:
            raise io_error("the database is closed")

    # ---- segments ------------------------------------------------------------------------
    def rotate(self) -> int:
        """Start a new segment at ``next_lsn`` (caller holds the commit lock); returns the
        last LSN of the closed segment, which is durable on return."""
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if self.durable_lsn < self.written_lsn:
                self._sync_locked()
            old_fd = self._fd
            self._open_segment(self.next_lsn)
            os.close(old_fd)
            self.bytes_since_checkpoint = 0
            return self.next_lsn - 1

    def _open_segment(self, first_lsn: int) -> None:
        path = self.dir / segment_name(first_lsn)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        os.write(fd, SEGMENT_HEADER.pack(MAGIC, first_lsn))
        os.fsync(fd)
        fsync_dir(self.dir)
        self._fd, self._segment, self._size = fd, path, SEGMENT_HEADER.size

    @property
    def segment(self) -> Path | None:
        return self._segment

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self._broken is None:
                self.sync()
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            if self._flusher is not None:
                self._flusher.join()
            os.close(self._fd)


def iter_records(wal_dir: Path, after_lsn: int) -> Iterator[tuple[int, memoryview]]:
    """Records with LSN > ``after_lsn`` (see ``recover.py`` for the tail handling)."""
    for _, path in list_segments(wal_dir):
        for lsn, payload in read_segment(path).records:
            if lsn > after_lsn:
                yield lsn, payload
