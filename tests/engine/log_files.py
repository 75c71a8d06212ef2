"""Helpers of the write-ahead log's file-level tests (test_wal_prealloc.py,
test_wal_tail_marks.py): open a database directory expecting a clean end, find its
newest segment, read its rows."""
from __future__ import annotations

import warnings

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
