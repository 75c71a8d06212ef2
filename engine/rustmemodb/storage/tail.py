"""The shared row tail: recent single-row inserts kept as Python tuples.

The tail is the one shared *mutable* object, made safe by an append-only rule: a
version owns the prefix ``rows[:tail_len]``, which nobody ever changes; a version
may append in place only when it is the longest owner (``len(rows) == tail_len``),
otherwise it copies its prefix first. Single-row INSERT is then an O(1) list
append rather than a 20 us one-row RecordBatch (ENGINE-MEASUREMENTS section 3). The
tail freezes into a chunk every ``TAIL_FREEZE`` rows (``freeze_tail``).

Converting 4,096 Python rows to Arrow in that one freeze took 2-5 ms (a persist
collection freezes its table and its audit table on the same write: a REST create's
pause), so the conversion is spread out: the write that completes a block of
``TAIL_BLOCK`` rows converts that block (``Tail.convert``), and a freeze or a scan of
the tail concatenates the converted blocks and converts only the rest. A block
covers rows of one ``Tail`` object, whose rows never change (a change makes a new
``Tail``), so a converted block is valid for every version owning those rows.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..lazy_import import arrow as pa, numpy as np

from .. import numeric_arrays
from .chunk import CHUNK_ROWS, Chunk, rows_to_batch
from .compact import coalesce
from .evolve import EMPTY_MAP, replace

if TYPE_CHECKING:
    from .table import TableVersion


TAIL_FREEZE = 4096
TAIL_BLOCK = 512        # rows converted to Arrow at once, ahead of the freeze (~0.3 ms)


def _merge_from(chunks: list, first_new: int) -> int:
    """Where the chunks a freeze appended (from ``first_new`` on) start merging with the
    chunks before them: with the previous chunk while it is no bigger than what merges
    already (or that is a small remainder, under ``TAIL_FREEZE // 4`` rows), up to
    ``CHUNK_ROWS``. Merging every freeze into the last chunk copied that chunk each
    time (up to 64k rows, 1-20 ms on a busy machine, on the write that froze); merging
    equal sizes, as a binary counter adds, copies each row about log2(16) times and
    still ends in ~64k-row chunks of at least ``TAIL_FREEZE`` rows."""
    if first_new >= len(chunks):
        return first_new
    acc = len(chunks[first_new])
    i = first_new - 1
    while i >= 0:
        n = len(chunks[i])
        if acc + n > CHUNK_ROWS or (n > acc and acc >= TAIL_FREEZE // 4):
            break
        acc += n
        i -= 1
    return i + 1


class Tail:
    """Append-only list of row tuples shared by versions that own a prefix of it."""

    __slots__ = ("rows", "lock", "_batch_cache", "blocks", "block_schema")

    def __init__(self, rows: list | None = None, blocks: list | None = None,
                 block_schema: pa.Schema | None = None) -> None:
        self.rows: list[tuple] = rows if rows is not None else []
        self.lock = threading.Lock()
        self._batch_cache: tuple[int, pa.RecordBatch] | None = None
        # rows[i * TAIL_BLOCK:(i + 1) * TAIL_BLOCK] as a RecordBatch of block_schema
        self.blocks: list[pa.RecordBatch] = blocks if blocks is not None else []
        self.block_schema = block_schema

    def copy_prefix(self, length: int, more: list) -> "Tail":
        """A private tail: our first ``length`` rows, then ``more``; it keeps the
        converted blocks that lie inside those rows."""
        keep = self.blocks[: length // TAIL_BLOCK]
        return Tail(self.rows[:length] + more, keep, self.block_schema if keep else None)

    def convert(self, length: int, schema: pa.Schema) -> None:
        """Convert the whole blocks of the first ``length`` rows not converted yet (the
        write that completes a block calls this)."""
        while (i := len(self.blocks)) < length // TAIL_BLOCK:
            if self.block_schema is not None and self.block_schema is not schema \
                    and not self.block_schema.equals(schema):
                return            # the table's columns changed: batch() converts rows
            block = rows_to_batch(self.rows[i * TAIL_BLOCK:(i + 1) * TAIL_BLOCK], schema)
            with self.lock:
                if len(self.blocks) == i:   # else another writer converted it meanwhile
                    if self.block_schema is None:   # first: readers never see blocks
                        self.block_schema = schema  # without their schema
                    self.blocks.append(block)

    def batch(self, length: int, schema: pa.Schema) -> pa.RecordBatch:
        """The first ``length`` rows as a RecordBatch; cached, since a prefix never changes."""
        cached = self._batch_cache
        if cached is not None and cached[0] == length and cached[1].schema.equals(schema):
            return cached[1]
        whole = min(len(self.blocks), length // TAIL_BLOCK)
        known = self.block_schema
        if whole and known is not None and (known is schema or known.equals(schema)):
            done = whole * TAIL_BLOCK
            parts = self.blocks[:whole]
            if length > done:
                parts.append(rows_to_batch(self.rows[done:length], schema))
            batch = parts[0] if len(parts) == 1 else pa.concat_batches(parts)
        else:
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
        batch = self._vector_numerics(self.tail.batch(self.tail_len, self.arrow_schema))
        rowids = np.arange(self.tail_rowid0, self.tail_rowid0 + self.tail_len, dtype=np.int64)
        mask = None
        if self.tail_dead:
            mask = np.isin(rowids, self._tail_dead_ids())
        chunks, dead = list(self.chunks), list(self.dead)
        for pos in range(0, self.tail_len, CHUNK_ROWS):   # a big tail: ~64k-row pieces
            end = pos + CHUNK_ROWS
            chunks.append(Chunk(batch.slice(pos, CHUNK_ROWS), rowids[pos:end]))
            dead.append(mask[pos:end] if mask is not None else None)
        chunks, dead = coalesce(chunks, dead, _merge_from(chunks, len(self.chunks)),
                                self.arrow_schema)
        return replace(self, chunks=chunks, dead=dead,
                       tail=Tail(), tail_len=0, tail_rowid0=self.next_rowid,
                       tail_dead=EMPTY_MAP)

    def _vector_numerics(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The frozen tail with each unconstrained numeric column whose rows all show one
        display scale as decimal128 (numeric_arrays.stored_decimal): rows inserted one by
        one scan as fast as a bulk load when the application writes one scale (prices as
        Decimal('12.34')). Indexed columns stay keys (TableVersion._numeric_form)."""
        keyed = self._keyed_columns()
        cols = None
        for j, f in enumerate(batch.schema):
            if not pa.types.is_binary(f.type) or j in keyed:
                continue
            col = batch.column(j)
            if col.null_count == len(col):
                continue
            vector = numeric_arrays.from_keys(col)
            if vector is not None:
                cols = cols or list(batch.columns)
                cols[j] = numeric_arrays.stored_decimal(vector)
        if cols is None:
            return batch
        return pa.RecordBatch.from_arrays(cols, schema=pa.schema(
            [f.with_type(c.type) for f, c in zip(batch.schema, cols)], batch.schema.metadata))

    def continuing_from(self, next_rowid: int) -> "TableVersion":
        """The same rows, with new rows numbered from ``next_rowid`` on (if higher): an
        older version made current again must not hand out rowids it handed out since,
        as rowids are row identities (branch diff and merge)."""
        if next_rowid <= self.next_rowid:
            return self
        frozen = self.freeze_tail()
        return replace(frozen, tail_rowid0=next_rowid)
