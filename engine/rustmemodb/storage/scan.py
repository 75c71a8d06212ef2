"""Scans: a table version's live rows as Arrow RecordBatches (or one Table).

Chunks without deletions are passed through zero-copy; deletion masks filter the
rest; the tail is materialised once per prefix (``Tail.batch`` caches it).
Patches are folded first (``settled``), so a scan never sees a stale row.
"""
from __future__ import annotations

from ..lazy_import import arrow as pa, numpy as np

from .chunk import conform


class ScanMixin:
    """TableVersion methods that read every live row."""

    def batches(self, with_rowid: bool = False, columns: list[int] | None = None
                ) -> list[pa.RecordBatch]:
        """Live rows as RecordBatches; zero-copy for chunks without deletions.
        ``columns``: only these table columns (no rowid then), selected before the
        deletion masks filter, so a query reading one column copies only that one."""
        if self.patches:
            return self.settled().batches(with_rowid, columns)
        out = []
        schema = self.arrow_schema
        for chunk, mask in zip(self.chunks, self.dead):
            batch = conform(chunk.batch, schema)
            if columns is not None:
                batch = batch.select(columns)
            elif with_rowid:
                batch = batch.append_column("_rowid", pa.array(chunk.rowids, pa.int64()))
            if mask is not None:
                batch = batch.filter(pa.array(~mask))
            out.append(batch)
        if self.tail_len:
            batch = self.tail.batch(self.tail_len, schema)
            if columns is not None:
                batch = batch.select(columns)
            elif with_rowid:
                ids = np.arange(self.tail_rowid0, self.tail_rowid0 + self.tail_len, dtype=np.int64)
                batch = batch.append_column("_rowid", pa.array(ids))
            if self.tail_dead:
                ids = np.arange(self.tail_rowid0, self.tail_rowid0 + self.tail_len, dtype=np.int64)
                keep = ~np.isin(ids, self._tail_dead_ids())
                batch = batch.filter(pa.array(keep))
            out.append(batch)
        return out

    def to_arrow(self, with_rowid: bool = False) -> pa.Table:
        schema = self.arrow_schema
        if with_rowid:
            schema = schema.append(pa.field("_rowid", pa.int64()))
        return pa.Table.from_batches(self.batches(with_rowid), schema=schema)
