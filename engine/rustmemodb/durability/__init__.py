"""File-backed databases: write-ahead log, incremental checkpoints, crash recovery.

    >>> import rustmemodb
    >>> conn = rustmemodb.connect("./data", durability="sync")   # doctest: +SKIP

A durable database is an ordinary in-memory ``Database`` whose commits are also
appended to a log on disk, plus checkpoints that let the log be cut short:

    ./data/
      RUSTMEMODB            marker + format version (what makes a directory ours)
      LOCK                  flock'ed while a process has the database open
      manifest-<version>.json  a checkpoint: tables, schemas, chunk files and their
                               CRC32C, LSN; the newest and the one before it are kept
      state-<lsn>-<id>.bin  a checkpoint's small parts: deletion masks, row tails
      chunks/<id>.arrow     one frozen chunk per Arrow IPC file, written once
      wal/<first lsn>.wal   log segments: one framed, CRC32C-checked record per commit

Modules, in the order a byte travels: ``records`` (a commit's op log -> bytes
and back), ``wal`` (framing, segments, fsync and group commit), ``checkpoint``
(chunk files + manifest), ``recover`` (checkpoint + log tail -> root),
``open`` (the ``DurableDatabase`` that ties them together), ``check`` (``check``
and ``repair``). Nothing read from disk is unpickled or evaluated: records and
sidecars are MessagePack with tagged values (``values``), rows are Arrow IPC.
"""
from __future__ import annotations

from .check import Report, check, repair
from .open import Durability, DurableDatabase, open_database

__all__ = ["Durability", "DurableDatabase", "open_database", "check", "repair", "Report"]
