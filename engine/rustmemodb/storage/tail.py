"""The shared row tail: recent single-row inserts kept as Python tuples.

The tail is the one shared *mutable* object, made safe by an append-only rule: a
version owns the prefix ``rows[:tail_len]``, which nobody ever changes; a version
may append in place only when it is the longest owner (``len(rows) == tail_len``),
otherwise it copies its prefix first. Single-row INSERT is then an O(1) list
append rather than a 20 us one-row RecordBatch (ENGINE-MEASUREMENTS section 3). The
tail freezes into a chunk every ``TAIL_FREEZE`` rows (``freeze_tail``).
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from .chunk import CHUNK_ROWS, Chunk, rows_to_batch
from .compact import coalesce
from .evolve import EMPTY_MAP, replace

if TYPE_CHECKING:
    from .table import TableVersion


TAIL_FREEZE = 4096


class Tail:
    """Append-only list of row tuples shared by versions that own a prefix of it."""

    __slots__ = ("rows", "lock", "_batch_cache")

    def __init__(self, rows: list | None = None) -> None:
        self.rows: list[tuple] = rows if rows is not None else []
        self.lock = threading.Lock()
        self._batch_cache: tuple[int, pa.RecordBatch] | None = None

    def batch(self, length: int, schema: pa.Schema) -> pa.RecordBatch:
        """The first ``length`` rows as a RecordBatch; cached, since a prefix never changes."""
        cached = self._batch_cache
        if cached is not None and cached[0] == length and cached[1].schema.equals(schema):
            return cached[1]
        batch = rows_to_batch(self.rows[:length], schema)
        self._batch_cache = (length, batch)
        return batch


class TailMixin:
    """TableVersion methods that freeze or renumber the tail."""

    def _tail_dead_ids(self) -> np.ndarray:
        return np.fromiter(self.tail_dead.keys(), np.int64, len(self.tail_dead))

    def freeze_tail(self) -> "TableVersion":
        """Turn the tail into a frozen chunk (keeping its deletions as a mask)."""
        if not self.tail_len:
            return self
        if self.patches:    # fold only the tail's patches: chunk patches stay patches
            tail_ids = [r for r in self.patches.keys() if r >= self.tail_rowid0]
            if tail_ids:
                rows = self.tail.rows[: self.tail_len]
                with self.patches.mutate() as m:
                    for rowid in tail_ids:
                        rows[rowid - self.tail_rowid0] = m[rowid]
                        del m[rowid]
                    patches = m.finish()
                return replace(self, tail=Tail(rows), patches=patches).freeze_tail()
        batch = self.tail.batch(self.tail_len, self.arrow_schema)
        rowids = np.arange(self.tail_rowid0, self.tail_rowid0 + self.tail_len, dtype=np.int64)
        mask = None
        if self.tail_dead:
            mask = np.isin(rowids, self._tail_dead_ids())
        chunks, dead = list(self.chunks), list(self.dead)
        for pos in range(0, self.tail_len, CHUNK_ROWS):   # a big tail: ~64k-row pieces
            end = pos + CHUNK_ROWS
            chunks.append(Chunk(batch.slice(pos, CHUNK_ROWS), rowids[pos:end]))
            dead.append(mask[pos:end] if mask is not None else None)
        chunks, dead = coalesce(chunks, dead, len(self.chunks) - 1, self.arrow_schema)
        return replace(self, chunks=chunks, dead=dead,
                       tail=Tail(), tail_len=0, tail_rowid0=self.next_rowid,
                       tail_dead=EMPTY_MAP)

    def continuing_from(self, next_rowid: int) -> "TableVersion":
        """The same rows, with new rows numbered from ``next_rowid`` on (if higher): an
        older version made current again must not hand out rowids it handed out since,
        as rowids are row identities (branch diff and merge)."""
        if next_rowid <= self.next_rowid:
            return self
        frozen = self.freeze_tail()
        return replace(frozen, tail_rowid0=next_rowid)
