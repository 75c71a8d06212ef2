"""Immutable table versions: frozen Arrow chunks, deletion vectors and a row tail.

A ``TableVersion`` is never mutated once built; every write returns a new one
that shares everything it did not touch. That is what makes ``fork()`` and MVCC
snapshots free: they are references to versions.

    TableVersion
    ├── chunks      tuple[Chunk]         frozen RecordBatches of ≤64k rows + rowids
    ├── dead        tuple[mask | None]   per-chunk deletion vector, only where needed
    ├── tail        Tail (shared list)   recent single-row inserts as Python tuples
    │   tail_len                         this version sees tail.rows[:tail_len]
    │   tail_dead                        rowids deleted from the tail (persistent map)
    ├── patches     rowid -> row|DELETED rows UPDATEd in place / point-DELETEd since the
                                         last fold
    ├── indexes     name -> UniqueIndex  persistent key -> rowid maps (PK, UNIQUE)
    └── ordered     name -> OrderedIndex sorted indexes: every CREATE INDEX, and one
                                         per unique key too (ranges, ORDER BY)

Rowids are assigned in increasing order and never reused, so each chunk's
rowids ascend, chunks ascend, and the tail holds ``tail_rowid0 + i``. A rowid is
found by bisecting chunk start rowids (point reads never touch Arrow compute).

The tail is the one shared *mutable* object, made safe by an append-only rule:
a version owns the prefix ``rows[:tail_len]``, which nobody ever changes; a
version may append in place only when it is the longest owner (``len(rows) ==
tail_len``), otherwise it copies its prefix first. Single-row INSERT is then an
O(1) list append rather than a 20 µs one-row RecordBatch (ENGINE-MEASUREMENTS
§3). The tail freezes into a chunk every ``TAIL_FREEZE`` rows.

A small UPDATE keeps each row's rowid: the new row goes into ``patches`` (a
persistent map, one ~1 µs set), and only the indexes whose key columns changed
are touched. Point reads look in ``patches`` first; everything that reads chunks
wholesale (scans, the tail freeze, checkpoints, diff, ALTER) works on
``settled()``, the same rows with the patches folded into new chunk batches by
``replace_with_mask`` (cached per version). A point DELETE of chunk rows marks
them ``DELETED`` in the same map instead of copying a 64k-flag deletion mask.
Once there are more than ``PATCH_FOLD`` patches, the chunk (or the tail) holding
most of them is folded for good (``_fold_some``): one chunk per fold, so no single
write pays for rewriting the whole table (issue 10: no statement pauses more than
20 ms on a 1M-row table), while the total folding work stays what it was.
Large UPDATEs from the vectorised executor keep rowids too (``update_arrow``):
each touched chunk is rewritten once, with its rowids, and only the assigned
columns are replaced. A row therefore keeps its rowid for life, which is its
identity for concurrent-write checks and for branch diff and merge.
A DELETE of at least ``BULK_ROWS`` rowids is set-based too (storage/bulk_write.py):
per chunk one numpy assignment into its deletion mask, index keys dropped in bulk.

The version is assembled here from one module per job; each contributes a mixin
of ``TableVersion`` methods or the helpers they share:

    chunk.py         the chunk format, row getters, rows_to_batch
    tail.py          the shared tail and freezing it into chunks
    patches.py       the patch map (DELETED) and folding it (settled, _fold_some)
    lookup.py        point access by rowid
    scan.py          whole-table reads as Arrow batches
    write.py         INSERT and in-place UPDATE
    delete.py        DELETE (sparse, per chunk, set-based via bulk_write.py)
    index_upkeep.py  unique and ordered indexes after a write
    compact.py       rewriting mostly-dead chunks, merging small ones
    evolve.py        ``replace`` and the copy-on-write helpers all of them use
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..lazy_import import arrow as pa

from .chunk import CHUNK_ROWS, Chunk, row_getter, rows_to_batch
from .compact import COMPACT_DEAD_SHARE, CompactMixin, coalesce
from .delete import SPARSE_DELETE, DeleteMixin
from .evolve import EMPTY_MAP, EMPTY_PATCHES, replace
from .index import KeyedUniqueIndex, OrderedIndex, numeric_parts, unique_index
from .index_upkeep import IndexUpkeepMixin
from .lookup import LookupMixin
from .patches import DELETED, PATCH_FOLD, PatchMixin
from .pmap import PMap, RowMap
from .scan import ScanMixin
from .schema import TableSchema
from .tail import TAIL_FREEZE, Tail, TailMixin
from .write import WriteMixin

__all__ = ["CHUNK_ROWS", "COMPACT_DEAD_SHARE", "DELETED", "PATCH_FOLD", "SPARSE_DELETE",
           "TAIL_FREEZE", "Chunk", "TableVersion", "Tail", "coalesce", "replace",
           "row_getter", "rows_to_batch"]


@dataclass(frozen=True, eq=False)
class TableVersion(LookupMixin, ScanMixin, WriteMixin, DeleteMixin, IndexUpkeepMixin,
                   PatchMixin, TailMixin, CompactMixin):
    schema: TableSchema
    chunks: tuple[Chunk, ...] = ()
    dead: tuple = ()                       # per chunk: np.ndarray[bool] or None
    tail: Tail = field(default_factory=Tail)
    tail_len: int = 0
    tail_rowid0: int = 0
    tail_dead: PMap = EMPTY_MAP    # rowid -> True: deleted tail rows
    indexes: dict = field(default_factory=dict)   # name -> UniqueIndex (never mutated)
    live_rows: int = 0
    ordered: dict = field(default_factory=dict)   # name -> OrderedIndex (never mutated)
    patches: RowMap = EMPTY_PATCHES           # rowid -> new row, or DELETED

    # ---- construction -------------------------------------------------------------
    @classmethod
    def empty(cls, schema: TableSchema) -> "TableVersion":
        """No rows; every index the schema defines. A unique key (PRIMARY KEY, UNIQUE,
        CREATE UNIQUE INDEX) gets a hash index for probes *and* an ordered index of the
        same name for ranges and ORDER BY ... LIMIT, as a B-tree serves both."""
        indexes, ordered = {}, {}
        defs = [(u.name, u.columns, True, u.nulls_not_distinct) for u in schema.uniques] + \
            [(d.name, d.columns, d.unique, d.nulls_not_distinct) for d in schema.indexes
             if not d.keyed]
        for d in schema.indexes:
            if d.keyed and d.unique:     # a hash index only (see IndexDef)
                indexes[d.name] = KeyedUniqueIndex(d.name, d.columns, schema.keyer(d))
        for name, columns, unique, nulls_equal in defs:
            if unique:
                indexes[name] = unique_index(name, columns, nulls_equal,
                                             decimal_parts=numeric_parts(schema, columns))
            ordered[name] = OrderedIndex.empty(
                name, columns, [schema.columns[c].type for c in columns])
        return cls(schema=schema, indexes=indexes, ordered=ordered)

    @property
    def next_rowid(self) -> int:
        return self.tail_rowid0 + self.tail_len

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema.arrow_schema

    def with_schema(self, schema: TableSchema, chunks: tuple[Chunk, ...] | None = None,
                    tail: Tail | None = None) -> "TableVersion":
        """A version under a new schema (ALTER TABLE); data given already conformed."""
        return replace(self, schema=schema,
                       chunks=self.chunks if chunks is None else chunks,
                       tail=self.tail if tail is None else tail)
