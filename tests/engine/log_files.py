"""Helpers of the write-ahead log's file-level tests (test_wal_prealloc.py,
test_wal_tail_marks.py): open a database directory expecting a clean end, find its
newest segment, read its rows, make the committer's log writes fail."""
from __future__ import annotations

import errno
import os
import threading
import warnings
from contextlib import contextmanager

import rustmemodb
from rustmemodb.durability.wal import list_segments


def open_clean(path, **options):
    """``Database.open``, failing the test on any warning (a clean end warns of nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return rustmemodb.Database.open(path, **options)


def newest_segment(path):
    """(first LSN, file) of the newest log segment of database directory ``path``."""
    return list_segments(path / "wal")[-1]


def rows(db) -> list:
    return sorted(db.connect().execute("SELECT x FROM t").fetchall())


@contextmanager
def committer_writes_fail(monkeypatch):
    """Within the block, the log writes (``os.pwrite``) of this thread, the committer of
    an async database, fail with ENOSPC; other threads' go through (the async flusher,
    which may wake meanwhile to write its durable-LSN mark, would otherwise poison the
    log too)."""
    real = os.pwrite
    committer = threading.current_thread()

    def failing(fd, data, offset):
        if threading.current_thread() is not committer:
            return real(fd, data, offset)
        raise OSError(errno.ENOSPC, "injected: no space left on device")
    monkeypatch.setattr(os, "pwrite", failing)
    try:
        yield
    finally:
        monkeypatch.setattr(os, "pwrite", real)
