"""Recovery: the newest checkpoint, then the log records after its LSN.

    manifest.json ──► load_checkpoint (mmap chunk files) ──► root @ LSN L
    wal/*.wal     ──► records L+1, L+2, … up to the first torn frame ──► replay

Only the *end* of the log may be damaged: a crash cuts the last write short or
leaves garbage after it, and nothing that was acknowledged lives there (a
commit returns after its frame is written whole). So the first bad frame ends
the log, the segment is truncated there, and later segments must hold nothing
valid. A bad frame followed by valid records, a gap in LSNs, or a record that
does not replay is damage in the middle: that is reported (XX001), never
skipped, since skipping would silently drop committed transactions.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import errors
from ..storage.root import Root
from .checkpoint import Files, load_checkpoint, read_manifest
from .problems import data_corrupted
from .records import apply_record
from .wal import list_segments, read_segment


@dataclass
class Recovered:
    root: Root
    manifest: dict | None
    checkpoint_lsn: int       # LSN the checkpoint covers
    last_lsn: int             # last LSN replayed (== checkpoint_lsn if none)
    replayed: int             # records replayed
    torn_bytes: int           # bytes of torn tail cut off


def recover(directory: Path, files: Files) -> Recovered:
    manifest = read_manifest(directory)
    root = load_checkpoint(directory, manifest, files) if manifest else Root()
    ckpt = manifest["lsn"] if manifest else 0
    last, replayed, torn_bytes = ckpt, 0, 0
    segments = list_segments(directory / "wal")
    ended = None          # the segment where the log ended early, if any
    cuts = []
    for first, path in segments:
        scan = read_segment(path)
        records = [(lsn, p) for lsn, p in scan.records if lsn > last]
        if ended is not None:
            if records:
                raise data_corrupted(
                    f"the write-ahead log is damaged in the middle ({ended.name})",
                    detail=f"valid records follow in {path.name}")
            continue
        if records and records[0][0] != last + 1:
            raise data_corrupted(f"the write-ahead log has a gap before LSN {records[0][0]}",
                                 detail=f"expected LSN {last + 1} in {path.name}")
        for lsn, payload in records:
            root = _replay(root, lsn, payload, path)
            last, replayed = lsn, replayed + 1
        if scan.torn:
            ended = path
            torn_bytes += scan.size - scan.valid_bytes
            cuts.append((path, scan.valid_bytes))
    for path, valid_bytes in cuts:     # only once the whole log is known to be sound
        _cut(path, valid_bytes)
    return Recovered(root, manifest, ckpt, last, replayed, torn_bytes)


def _replay(root: Root, lsn: int, payload, path: Path) -> Root:
    try:
        return apply_record(root, payload)
    except errors.Error:
        raise
    except Exception as exc:  # a record that checksums fine but does not apply
        raise data_corrupted(f"log record {lsn} in {path.name} cannot be replayed: "
                             f"{type(exc).__name__}: {exc}") from exc


def _cut(path: Path, valid_bytes: int) -> None:
    """Remove a torn tail so that new records are never written after garbage."""
    if valid_bytes == 0:
        path.unlink()
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, valid_bytes)
        os.fsync(fd)
    finally:
        os.close(fd)
