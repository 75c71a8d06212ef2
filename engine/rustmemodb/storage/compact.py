"""Compaction: chunks that are mostly deleted are rewritten without their dead rows,
and runs of small adjacent chunks are merged (``coalesce``) up to ``CHUNK_ROWS``.

A table filled by single-row inserts, small loads or churn would otherwise scan
one tiny chunk at a time (500 one-row chunks scan 40x slower than the same rows in
one). Writes call ``_compacted`` on the chunks they touched; freezing the tail and
bulk loads call ``coalesce`` on the chunks they appended.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..lazy_import import arrow as pa, numpy as np

from .chunk import CHUNK_ROWS, Chunk, conform_all
from .evolve import replace

if TYPE_CHECKING:
    from .table import TableVersion


# A chunk is rewritten without its dead rows once this share of it is deleted.
COMPACT_DEAD_SHARE = 0.5


class CompactMixin:
    """TableVersion methods that drop dead rows from chunks."""

    def without_dead(self) -> "TableVersion":
        """Every chunk rewritten without its dead rows (a rewrite of the whole table, such
        as ALTER COLUMN TYPE, must convert and check the live rows only, as PostgreSQL's
        rewrite does). Call on a settled version with a frozen tail."""
        due = [i for i, mask in enumerate(self.dead) if mask is not None and mask.any()]
        return self._drop_dead(due) if due else self

    def _compacted(self, touched: Iterable[int]) -> "TableVersion":
        """Rewrite touched chunks that are mostly dead (keeps scans fast after churn)."""
        due = []
        for i in touched:
            mask = self.dead[i]
            # a strided sample first (a point delete must not count 64k flags each time);
            # a prime stride, so that deleting every 2nd/4th/8th... row is not missed
            if mask is None or \
                    np.count_nonzero(mask[::61]) * 61 < COMPACT_DEAD_SHARE * 0.9 * len(mask) or \
                    np.count_nonzero(mask) < COMPACT_DEAD_SHARE * len(mask):
                continue
            due.append(i)
        if not due:
            return self
        return self._drop_dead(due)

    def _drop_dead(self, due: list) -> "TableVersion":
        chunks, dead = list(self.chunks), list(self.dead)
        changed = False
        for i in sorted(due, reverse=True):
            mask = dead[i]
            keep = ~mask
            changed = True
            if not keep.any():
                del chunks[i], dead[i]
                continue
            chunks[i] = Chunk(chunks[i].batch.filter(pa.array(keep)), chunks[i].rowids[keep])
            dead[i] = None
        if not changed:
            return self
        chunks, dead = coalesce(chunks, dead, max(0, min(due) - 1), self.arrow_schema)
        return replace(self, chunks=chunks, dead=dead)


def coalesce(chunks: list, dead: list, start: int,
             schema: pa.Schema) -> tuple[tuple, tuple]:
    """``chunks`` and their deletion masks with adjacent chunks from ``start`` on merged
    while together they hold at most ``CHUNK_ROWS`` rows: a table filled by single-row
    inserts, small loads or compaction keeps ~64k-row chunks (a scan pays per chunk,
    and 500 one-row chunks scan 40x slower than the same rows in one).

    Rowids stay the rows' own (chunks ascend, so the merged rowids do too); masks are
    concatenated, so a deleted row stays deleted; indexes map keys to rowids, never to
    chunk positions, so they need no change. Merged chunks are new chunks: a branch
    diff compares them row by row, by rowid."""
    start = max(0, start)
    if len(chunks) - start < 2:
        return tuple(chunks), tuple(dead)
    out_c, out_d = list(chunks[:start]), list(dead[:start])
    run_c, run_d, run_n = [], [], 0
    for chunk, mask in zip(chunks[start:], dead[start:]):
        n = len(chunk)
        if run_c and run_n + n > CHUNK_ROWS:
            _flush(run_c, run_d, out_c, out_d, schema)
            run_c, run_d, run_n = [], [], 0
        run_c.append(chunk)
        run_d.append(mask)
        run_n += n
    _flush(run_c, run_d, out_c, out_d, schema)
    return tuple(out_c), tuple(out_d)


def _flush(run_c: list, run_d: list, out_c: list, out_d: list, schema: pa.Schema) -> None:
    if len(run_c) == 1:
        out_c.append(run_c[0])
        out_d.append(run_d[0])
        return
    # unconstrained numerics held as decimal128 stay so where the run shares one scale
    batch = pa.concat_batches(conform_all([c.batch for c in run_c], schema)[0])
    rowids = np.concatenate([c.rowids for c in run_c])
    out_c.append(Chunk(batch, rowids))
    if all(m is None for m in run_d):
        out_d.append(None)
    else:
        out_d.append(np.concatenate([m if m is not None else np.zeros(len(c), bool)
                                     for c, m in zip(run_c, run_d)]))
