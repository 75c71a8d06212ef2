"""Scans: a table version's live rows as Arrow RecordBatches (or one Table).

Chunks without deletions are passed through zero-copy; deletion masks filter the
rest; the tail is materialised once per prefix (``Tail.batch`` caches it).
Patches are folded first (``settled``), so a scan never sees a stale row.
"""
from __future__ import annotations

from ..lazy_import import arrow as pa, numpy as np

from .chunk import conform, conform_all


class ScanMixin:
    """TableVersion methods that read every live row."""

    def batches(self, with_rowid: bool = False, columns: list[int] | None = None
                ) -> list[pa.RecordBatch]:
        """Live rows as RecordBatches; zero-copy for chunks without deletions.
        ``columns``: only these table columns (no rowid then), selected before the
        deletion masks filter, so a query reading one column copies only that one.
        Every batch has the table's Arrow schema (numerics as keys: chunk.conform)."""
        return self._live_batches(with_rowid, columns, conform)

    def vector_batches(self, with_rowid: bool = False, columns: list[int] | None = None
                       ) -> tuple[list[pa.RecordBatch], pa.Schema]:
        """``batches`` for a query's scan: an unconstrained numeric column whose chunks all
        hold decimal128 of one scale stays decimal128 (numeric_arrays.stored_decimal).
        Returns (batches, their schema; with ``columns``, of those columns only)."""
        out = self._live_batches(with_rowid, columns, None)
        schema = self.arrow_schema
        if with_rowid and columns is None:
            schema = schema.append(pa.field("_rowid", pa.int64()))
        if columns is not None:
            schema = pa.schema([schema.field(i) for i in columns])
        return conform_all(out, schema)

    def _live_batches(self, with_rowid, columns, conform_to) -> list[pa.RecordBatch]:
        if self.patches:
            return self.settled()._live_batches(with_rowid, columns, conform_to)
        out = []
        schema = self.arrow_schema
        for chunk, mask in zip(self.chunks, self.dead):
            batch = chunk.batch if conform_to is None else conform_to(chunk.batch, schema)
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
