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
Large UPDATEs and DELETEs (``update_many``, and ``delete`` of at least
``BULK_ROWS`` rowids) are set-based: per chunk, one numpy mask or one
``replace_with_mask`` per assigned column (storage/bulk_write.py); an updated row
keeps its rowid and its place.
"""
from __future__ import annotations

import bisect
import itertools
import threading
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import immutables
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import errors
from .index import OrderedIndex, UniqueIndex, storable
from .bulk_write import (BULK_ROWS, key_list, offsets_in, ordered_without, replace_rows,
                         sorted_distinct, split_by_chunk, unique_moved, unique_without)
from .index_build import first_clash, unique_from_arrays
from .schema import TableSchema

CHUNK_ROWS = 65536
TAIL_FREEZE = 4096
# A chunk is rewritten without its dead rows once this share of it is deleted.
COMPACT_DEAD_SHARE = 0.5
# In-place updates pending in ``patches`` before they are folded into the chunks.
PATCH_FOLD = 4096
_EMPTY_MAP = immutables.Map()
# Deletes of at most this many chunk rows are noted in ``patches`` as DELETED (one
# map set) rather than by copying the chunk's 64k-flag deletion mask.
SPARSE_DELETE = 64


class _Deleted:
    """``patches`` value of a chunk row deleted since the last fold."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "DELETED"


DELETED = _Deleted()

_chunk_ids = itertools.count(1)


_ROW_GETTERS: dict = {}


def row_getter(width: int):
    """fn(columns, offset) -> the row tuple; a generated ``(c[0][o], c[1][o], ...)``,
    4-5x faster than a comprehension on Python 3.11 (no frame per row)."""
    fn = _ROW_GETTERS.get(width)
    if fn is None:
        body = ", ".join(f"c[{j}][o]" for j in range(width))
        fn = _ROW_GETTERS[width] = eval(f"lambda c, o: ({body}{',' if width == 1 else ''})")
    return fn


class Chunk:
    """A frozen RecordBatch, its rowids, and a lazily built row-access cache."""

    __slots__ = ("batch", "rowids", "id", "_dense_start", "_pycols", "first_rowid")

    def __init__(self, batch: pa.RecordBatch, rowids: np.ndarray) -> None:
        self.batch = batch
        self.rowids = rowids
        self.id = next(_chunk_ids)   # identity used by branch diff
        n = len(rowids)
        dense = n and int(rowids[-1]) - int(rowids[0]) + 1 == n
        self._dense_start = int(rowids[0]) if dense else None
        self._pycols: list | None = None
        self.first_rowid = int(rowids[0]) if n else 0

    def __len__(self) -> int:
        return len(self.rowids)

    def offset_of(self, rowid: int) -> int | None:
        if self._dense_start is not None:
            off = rowid - self._dense_start
            return off if 0 <= off < len(self.rowids) else None
        off = int(np.searchsorted(self.rowids, rowid))
        return off if off < len(self.rowids) and self.rowids[off] == rowid else None

    def row(self, offset: int) -> tuple:
        cols = self._pycols
        if cols is None:
            cols = self.py_columns()
        return row_getter(len(cols))(cols, offset)

    def patched(self, changes: list[tuple[int, tuple]]) -> "Chunk":
        """A chunk with the rows at these offsets replaced, same rowids (an UPDATE fold).
        Columns no change touches (known from the cached Python columns) are shared,
        Arrow array and Python list alike: an UPDATE usually sets one or two columns."""
        changes = sorted(changes, key=lambda c: c[0])
        old = self._pycols
        width = self.batch.num_columns
        touched = [j for j in range(width)
                   if old is None or any(old[j][o] != row[j] for o, row in changes)]
        if not touched:
            return self
        offs = np.fromiter((o for o, _ in changes), np.int64, len(changes))
        mask = np.zeros(len(self.rowids), bool)
        mask[offs] = True
        amask = pa.array(mask)
        cols = list(self.batch.columns)
        for j in touched:
            col = cols[j]
            new = [row[j] for _, row in changes]
            try:
                cols[j] = pc.replace_with_mask(col, amask, pa.array(new, col.type))
            except pa.ArrowNotImplementedError:   # types without a kernel (e.g. intervals)
                values = list(self.py_columns()[j])
                for (o, _), v in zip(changes, new):
                    values[o] = v
                cols[j] = pa.array(values, col.type)
        out = Chunk(pa.RecordBatch.from_arrays(cols, schema=self.batch.schema), self.rowids)
        if old is not None:   # keep point reads warm: patched copies of the touched columns
            pycols = list(old)
            for j in touched:
                col = list(old[j])
                for o, row in changes:
                    col[o] = row[j]
                pycols[j] = tuple(col)
            out._pycols = pycols
        return out

    def py_columns(self) -> list:
        """Python values per column, built once: 0.6 µs per row fetch against 6.5 µs via
        Scalar.as_py (ENGINE-MEASUREMENTS §3). Tuples, not lists: a tuple holding only
        atoms (ints, floats, str, None) is untracked by the cyclic garbage collector
        after its first collection, so 64k values per column cost full collections
        nothing, where a list would be walked element by element every time."""
        cols = self._pycols
        if cols is None:
            cols = self._pycols = [tuple(c.to_pylist()) for c in self.batch.columns]
        return cols


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


def rows_to_batch(rows: Sequence[tuple], schema: pa.Schema) -> pa.RecordBatch:
    if not rows:
        return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)
    columns = list(zip(*rows))
    arrays = [pa.array(col, type=f.type) for col, f in zip(columns, schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


@dataclass(frozen=True, eq=False)
class TableVersion:
    schema: TableSchema
    chunks: tuple[Chunk, ...] = ()
    dead: tuple = ()                       # per chunk: np.ndarray[bool] or None
    tail: Tail = field(default_factory=Tail)
    tail_len: int = 0
    tail_rowid0: int = 0
    tail_dead: immutables.Map = _EMPTY_MAP    # rowid -> True: deleted tail rows
    indexes: dict = field(default_factory=dict)   # name -> UniqueIndex (never mutated)
    live_rows: int = 0
    ordered: dict = field(default_factory=dict)   # name -> OrderedIndex (never mutated)
    patches: immutables.Map = _EMPTY_MAP           # rowid -> new row, or DELETED

    # ---- construction -------------------------------------------------------------
    @classmethod
    def empty(cls, schema: TableSchema) -> "TableVersion":
        """No rows; every index the schema defines. A unique key (PRIMARY KEY, UNIQUE,
        CREATE UNIQUE INDEX) gets a hash index for probes *and* an ordered index of the
        same name for ranges and ORDER BY ... LIMIT, as a B-tree serves both."""
        indexes, ordered = {}, {}
        defs = [(u.name, u.columns, True) for u in schema.uniques] + \
            [(d.name, d.columns, d.unique) for d in schema.indexes]
        for name, columns, unique in defs:
            if unique:
                indexes[name] = UniqueIndex(name, columns)
            ordered[name] = OrderedIndex.empty(
                name, columns, [schema.columns[c].type for c in columns])
        return cls(schema=schema, indexes=indexes, ordered=ordered)

    @property
    def next_rowid(self) -> int:
        return self.tail_rowid0 + self.tail_len

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema.arrow_schema

    # ---- point access ---------------------------------------------------------------
    def _locate(self, rowid: int) -> tuple[int, int] | None:
        """(chunk index, offset) of a chunk row, (-1, tail offset) of a tail row, or None."""
        if rowid >= self.tail_rowid0:
            off = rowid - self.tail_rowid0
            return (-1, off) if off < self.tail_len else None
        chunks = self.chunks
        if len(chunks) > 8:
            i = bisect.bisect_right(self._chunk_starts(), rowid) - 1
            candidates = (i,) if i >= 0 else ()
        else:
            candidates = range(len(chunks) - 1, -1, -1)
        for i in candidates:
            chunk = chunks[i]
            if chunk.first_rowid <= rowid:
                off = chunk.offset_of(rowid)
                return None if off is None else (i, off)
        return None

    def _chunk_starts(self) -> list:
        """First rowid of each chunk, cached per chunks tuple (versions share it)."""
        cached = self.__dict__.get("_starts")
        if cached is None or cached[0] is not self.chunks:
            cached = (self.chunks, [c.first_rowid for c in self.chunks])
            self.__dict__["_starts"] = cached
        return cached[1]

    def row(self, rowid: int) -> tuple | None:
        """The live row with this rowid, as a tuple in storage form, else None."""
        if self.patches:
            patched = self.patches.get(rowid)
            if patched is not None:
                return None if patched is DELETED else patched
        loc = self._locate(rowid)
        if loc is None:
            return None
        i, off = loc
        if i < 0:
            return None if rowid in self.tail_dead else self.tail.rows[off]
        mask = self.dead[i]
        if mask is not None and mask[off]:
            return None
        return self.chunks[i].row(off)

    def rows_at(self, rowids: Iterable[int]) -> list[tuple[int, tuple | None]]:
        """``[(rowid, live row or None)]`` in the given order: ``row()`` inlined for the
        few-rows case (index range scans), about half its cost per row."""
        patches = self.patches if self.patches else None
        tail0, tail_len = self.tail_rowid0, self.tail_len
        tail_rows, tail_dead = self.tail.rows, self.tail_dead
        chunks, dead = self.chunks, self.dead
        starts = self._chunk_starts()
        find = bisect.bisect_right
        getter = row_getter(len(self.schema.columns))
        out = []
        for r in rowids:
            if patches is not None:
                row = patches.get(r)
                if row is not None:
                    out.append((r, None if row is DELETED else row))
                    continue
            if r >= tail0:
                off = r - tail0
                out.append((r, tail_rows[off] if off < tail_len and r not in tail_dead
                            else None))
                continue
            i = find(starts, r) - 1
            row = None
            if i >= 0:
                chunk = chunks[i]
                first = chunk._dense_start
                if first is not None:
                    off = r - first
                    off = off if off < len(chunk.rowids) else None
                else:
                    off = chunk.offset_of(r)
                if off is not None:
                    mask = dead[i]
                    if mask is None or not mask[off]:
                        cols = chunk._pycols
                        if cols is None:
                            cols = chunk.py_columns()
                        row = getter(cols, off)
            out.append((r, row))
        return out

    def _tail_dead_ids(self) -> np.ndarray:
        return np.fromiter(self.tail_dead.keys(), np.int64, len(self.tail_dead))

    # ---- scans ---------------------------------------------------------------------
    def batches(self, with_rowid: bool = False) -> list[pa.RecordBatch]:
        """Live rows as RecordBatches; zero-copy for chunks without deletions."""
        if self.patches:
            return self.settled().batches(with_rowid)
        out = []
        schema = self.arrow_schema
        for chunk, mask in zip(self.chunks, self.dead):
            batch = _conform(chunk.batch, schema)
            if with_rowid:
                batch = batch.append_column("_rowid", pa.array(chunk.rowids, pa.int64()))
            if mask is not None:
                batch = batch.filter(pa.array(~mask))
            out.append(batch)
        if self.tail_len:
            batch = self.tail.batch(self.tail_len, schema)
            if with_rowid:
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

    # ---- writes -----------------------------------------------------------------------
    def insert_rows(self, rows: list[tuple]) -> tuple["TableVersion", list[int]]:
        """Append rows (already typed and checked for NOT NULL); enforces UNIQUE."""
        first = self.next_rowid
        if len(rows) == 1:   # the OLTP case, without the per-batch bookkeeping
            rowids = [first]
            indexes, ordered = self._indexes_with_one(rows[0], first)
        else:
            rowids = list(range(first, first + len(rows)))
            indexes = self._indexes_with(rows, rowids)
            ordered = self.ordered
            if ordered:
                ordered = {name: ix.with_changes([(ix.key_of(r), i) for r, i in
                                                  zip(rows, rowids)], ())
                           for name, ix in ordered.items()}
        tail = self.tail
        with tail.lock:
            if len(tail.rows) == self.tail_len:
                tail.rows.extend(rows)
            else:  # someone else extended our shared prefix: take a private copy
                tail = Tail(tail.rows[: self.tail_len] + rows)
        new = replace(self, tail=tail, tail_len=self.tail_len + len(rows), indexes=indexes,
                      live_rows=self.live_rows + len(rows), ordered=ordered)
        if new.tail_len >= TAIL_FREEZE:
            new = new.freeze_tail()
        return new, rowids

    def _indexes_with_one(self, row: tuple, rowid: int) -> tuple[dict, dict]:
        """(unique, ordered) indexes with one new row; 23505 on a taken key."""
        indexes = self.indexes
        if indexes:
            indexes = dict(indexes)
            for name, index in self.indexes.items():
                key = index.stored_key(row)
                if key is None:
                    continue
                if index.get(key) is not None:
                    raise self._unique_violation(index, key)
                indexes[name] = index.with_changes({key: rowid}, ())
        ordered = self.ordered
        if ordered:
            ordered = dict(ordered)
            for name, ix in self.ordered.items():
                ordered[name] = ix.with_changes(((ix.key_of(row), rowid),), ())
        return indexes, ordered

    def _indexes_with(self, rows: list[tuple], rowids: list[int]) -> dict:
        if not self.indexes:
            return self.indexes
        out = dict(self.indexes)
        for name, index in self.indexes.items():
            added: dict = {}
            for row, rowid in zip(rows, rowids):
                key = index.stored_key(row)
                if key is None:
                    continue
                if key in added or index.get(key) is not None:
                    raise self._unique_violation(index, key)
                added[key] = rowid
            out[name] = index.with_changes(added, ())
        return out

    def update_rows(self, rowids: Iterable[int], rows: list[tuple],
                    old_rows: list[tuple] | None = None,
                    columns: frozenset | None = None) -> tuple["TableVersion", list[int]]:
        """UPDATE in place: each row keeps its rowid, the new values go to ``patches``,
        and only indexes whose key changed are touched. Enforces UNIQUE over the whole
        statement (``SET id = id + 1`` may move a key onto one this statement frees).
        ``old_rows``: the rows' current values in this version, if the caller has them;
        ``columns``: the only column positions that may change (an UPDATE's SET list),
        so indexes on none of them are not even looked at. Returns (new version,
        rowids updated); unknown or dead rowids are skipped."""
        changes: list[tuple[int, tuple, tuple]] = []   # (rowid, old row, new row)
        if old_rows is not None and len(old_rows) == 1:
            changes.append((rowids[0], old_rows[0], rows[0]))
        else:
            seen = set()
            for rowid, new in zip(rowids, rows):
                if rowid in seen:
                    continue
                old = self.row(rowid)
                if old is None:
                    continue
                seen.add(rowid)
                changes.append((rowid, old, new))
        if not changes:
            return self, []
        indexes = self._indexes_moved(changes, columns) if self.indexes else self.indexes
        ordered = self.ordered
        if ordered:
            ordered = dict(ordered)
            for name, ix in self.ordered.items():
                if columns is not None and columns.isdisjoint(ix.columns):
                    continue
                moves = _key_moves(ix, changes)
                if moves:
                    ordered[name] = ix.with_changes([(after, r) for _, after, r in moves],
                                                    [(before, r) for before, _, r in moves])
        if len(changes) == 1:
            patches = self.patches.set(changes[0][0], changes[0][2])
        else:
            with self.patches.mutate() as m:
                for rowid, _, new in changes:
                    m[rowid] = new
                patches = m.finish()
        new = replace(self, indexes=indexes, ordered=ordered, patches=patches)
        if len(patches) > PATCH_FOLD:
            new = new._fold_some()
        return new, [c[0] for c in changes]

    def _indexes_moved(self, changes: list[tuple[int, tuple, tuple]],
                       columns: frozenset | None = None) -> dict:
        """Unique indexes after rows changed keys in place (rowids unchanged)."""
        out = self.indexes
        for name, index in self.indexes.items():
            if columns is not None and columns.isdisjoint(index.columns):
                continue
            moves = _key_moves(index, changes)
            if not moves:
                continue
            freed = {rowid for _, _, rowid in moves}
            added: dict = {}
            for _, key, rowid in moves:
                if not storable(key):
                    continue
                owner = index.get(key)
                if key in added or (owner is not None and owner not in freed):
                    raise self._unique_violation(index, key)
                added[key] = rowid
            removed = [k for k, _, _ in moves if storable(k) and k not in added]
            if out is self.indexes:
                out = dict(out)
            out[name] = index.with_changes(added, removed)
        return out

    def settled(self) -> "TableVersion":
        """The same rows with ``patches`` folded into the chunks and tail (cached)."""
        if not self.patches:
            return self
        cached = self.__dict__.get("_settled")
        if cached is not None:
            return cached
        by_chunk: dict[int, list] = {}
        killed: dict[int, list] = {}
        in_tail: dict[int, tuple] = {}
        for rowid, row in self.patches.items():
            i, off = self._locate(rowid)
            if i < 0:
                in_tail[off] = row
            elif row is DELETED:
                killed.setdefault(i, []).append(off)
            else:
                by_chunk.setdefault(i, []).append((off, row))
        chunks, dead = list(self.chunks), list(self.dead)
        for i, changes in by_chunk.items():
            chunks[i] = chunks[i].patched(changes)
        for i, offs in killed.items():
            dead[i] = _marked(dead[i], len(chunks[i]), offs)
        tail = self.tail
        if in_tail:
            rows = tail.rows[: self.tail_len]
            for off, row in in_tail.items():
                rows[off] = row
            tail = Tail(rows)
        out = replace(self, chunks=tuple(chunks), dead=tuple(dead), tail=tail,
                      patches=_EMPTY_MAP)
        if killed:
            out = out._compacted(killed.keys())
        self.__dict__["_settled"] = out
        return out

    def _fold_some(self) -> "TableVersion":
        """The same rows with the patches of one chunk (the one holding most of them) or
        of the tail folded in; the other patches stay. Bounded work per call: one chunk."""
        patches = self.patches
        ids = np.fromiter(patches.keys(), np.int64, len(patches))
        bounds = np.array(self._chunk_starts() + [self.tail_rowid0], np.int64)
        segment = np.searchsorted(bounds, ids, side="right") - 1
        counts = np.bincount(segment[segment >= 0], minlength=len(bounds))
        target = int(counts.argmax())
        chosen = ids[segment == target].tolist()
        chunks, dead, tail = self.chunks, self.dead, self.tail
        if target == len(self.chunks):      # the tail: its patches are updates only
            rows = tail.rows[: self.tail_len]
            for rowid in chosen:
                rows[rowid - self.tail_rowid0] = patches[rowid]
            tail = Tail(rows)
        else:
            chunk = chunks[target]
            changes, killed = [], []
            for rowid in chosen:
                off = chunk.offset_of(rowid)
                row = patches[rowid]
                if row is DELETED:
                    killed.append(off)
                else:
                    changes.append((off, row))
            chunks, dead = list(chunks), list(dead)
            if changes:
                chunks[target] = chunk.patched(changes)
            if killed:
                dead[target] = _marked(dead[target], len(chunk), killed)
            chunks, dead = tuple(chunks), tuple(dead)
        with patches.mutate() as m:
            for rowid in chosen:
                del m[rowid]
            patches = m.finish()
        out = replace(self, chunks=chunks, dead=dead, tail=tail, patches=patches)
        if target < len(self.chunks) and dead[target] is not self.dead[target]:
            out = out._compacted((target,))
        return out

    def _unique_violation(self, index: UniqueIndex, key: object) -> errors.Error:
        cols = ", ".join(self.schema.columns[c].name for c in index.columns)
        shown = ", ".join(map(_show, key)) if isinstance(key, tuple) else _show(key)
        return errors.sql_error(
            "23505", f'duplicate key value violates unique constraint "{index.name}"',
            detail=f"Key ({cols})=({shown}) already exists.")

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
                       tail_dead=_EMPTY_MAP)

    def insert_arrow(self, table: pa.Table) -> tuple["TableVersion", np.ndarray]:
        """Bulk append an Arrow table already cast to this table's schema."""
        base = self.freeze_tail()
        n = table.num_rows
        first = base.next_rowid
        rowids = np.arange(first, first + n, dtype=np.int64)
        indexes = base._bulk_indexes(table, rowids)
        ordered = {name: ix.with_entries([table.column(c) for c in ix.columns], rowids)
                   for name, ix in base.ordered.items()}
        chunks, pos = [], 0
        for batch in _rechunk(table):
            m = batch.num_rows
            chunks.append(Chunk(batch, rowids[pos: pos + m]))
            pos += m
        # The frozen tail and the last chunks before this load merge with its first batch.
        merged, dead = coalesce(list(base.chunks) + chunks,
                                list(base.dead) + [None] * len(chunks),
                                len(self.chunks) - 1, base.arrow_schema)
        new = replace(base, chunks=merged, dead=dead,
                      tail_rowid0=first + n, indexes=indexes, live_rows=base.live_rows + n,
                      ordered=ordered)
        return new, rowids

    def _bulk_indexes(self, table: pa.Table, rowids: np.ndarray) -> dict:
        if not self.indexes:
            return self.indexes
        out = dict(self.indexes)
        for name, index in self.indexes.items():
            fresh, dup = unique_from_arrays(name, index.columns,
                                            [table.column(c) for c in index.columns], rowids)
            empty = not index.base and not len(index.delta)
            if dup is None and not empty:
                dup = first_clash(index, fresh)
            if dup is not None:
                raise self._unique_violation(index, dup)
            if empty:
                out[name] = fresh
            elif len(fresh.base) * 8 > len(index.base):
                # many keys: one new base dict (a copy, so ours to extend) beats a big delta
                merged = index.folded()
                merged.base.update(fresh.base)
                out[name] = merged
            else:
                out[name] = index.with_changes(fresh.base, ())
        return out

    def delete(self, rowids: Iterable[int]) -> "TableVersion":
        """Mark rows dead and drop their index keys. Unknown or dead rowids are ignored.
        Many rowids (>= BULK_ROWS) go the set-based way: the same result, and the same
        choice on log replay, which calls this with the same rowids."""
        if isinstance(rowids, (np.ndarray, list, tuple)) and len(rowids) >= BULK_ROWS:
            return self._delete_many(np.asarray(rowids, np.int64))
        return self._delete(rowids)[0]

    def _delete_many(self, rowids: np.ndarray) -> "TableVersion":
        """Set-based DELETE: per chunk one numpy assignment into its deletion mask; index
        keys of the removed rows come from Arrow ``take`` on the key columns only."""
        base = self.settled().freeze_tail()
        ids = sorted_distinct(rowids)
        chunks, dead = base.chunks, list(base.dead)
        firsts = np.fromiter((c.first_rowid for c in chunks), np.int64, len(chunks))
        key_cols = sorted({c for ix in base.indexes.values() for c in ix.columns})
        parts: dict[int, list] = {c: [] for c in key_cols}
        gone, touched = [], []
        for i, lo, hi in split_by_chunk(firsts, ids):
            chunk = chunks[i]
            offs, _ = offsets_in(chunk.rowids, chunk._dense_start, ids[lo:hi])
            mask = dead[i]
            if mask is not None:
                offs = offs[~mask[offs]]
            if not len(offs):
                continue
            dead[i] = _marked(mask, len(chunk), offs)
            gone.append(chunk.rowids[offs])
            touched.append(i)
            if key_cols:
                taken = pa.array(offs)
                for c in key_cols:
                    parts[c].append(chunk.batch.column(c).take(taken))
        if not gone:
            return self
        gone_ids = np.concatenate(gone)
        indexes = base.indexes
        if indexes:
            indexes = {name: unique_without(ix, key_list(
                [pa.concat_arrays(parts[c]) for c in ix.columns])) for name, ix in indexes.items()}
        ordered = base.ordered
        if ordered:
            ordered = {name: ordered_without(ix, gone_ids, base.next_rowid)
                       for name, ix in ordered.items()}
        new = replace(base, dead=tuple(dead), indexes=indexes, ordered=ordered,
                      live_rows=base.live_rows - len(gone_ids))
        return new._compacted(touched)

    def update_many(self, rowids: np.ndarray, data: pa.Table,
                    columns: frozenset | None = None) -> "TableVersion":
        """Set-based UPDATE in place: ``data`` (cast to the table's schema) holds the new
        row of each rowid, in the same order; rowids are distinct live rows. ``columns``:
        the only positions that may change (the SET list; None = all). Each row keeps its
        rowid and chunk position; per chunk and assigned column one ``replace_with_mask``.
        Unique keys are checked over the whole statement (23505)."""
        base = self.settled().freeze_tail()
        ids = np.asarray(rowids, np.int64)
        if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
            order = np.argsort(ids, kind="stable")
            ids = ids[order]
            data = data.take(pa.array(order))
        width = len(self.schema.columns)
        cols = list(range(width)) if columns is None else sorted(columns)
        chunks = list(base.chunks)
        firsts = np.fromiter((c.first_rowid for c in chunks), np.int64, len(chunks))
        moved_unique = {n: ix for n, ix in base.indexes.items()
                        if columns is None or not columns.isdisjoint(ix.columns)}
        moved_ordered = {n: ix for n, ix in base.ordered.items()
                         if columns is None or not columns.isdisjoint(ix.columns)}
        key_cols = sorted({c for ix in moved_unique.values() for c in ix.columns})
        old_parts: dict[int, list] = {c: [] for c in key_cols}
        placed = 0
        for i, lo, hi in split_by_chunk(firsts, ids):
            chunk = chunks[i]
            offs, found = offsets_in(chunk.rowids, chunk._dense_start, ids[lo:hi])
            if len(offs) != hi - lo:
                break
            placed += hi - lo
            arrays = list(chunk.batch.columns)
            if key_cols:
                taken = pa.array(offs)
                for c in key_cols:
                    old_parts[c].append(arrays[c].take(taken))
            for j in cols:
                values = data.column(j).slice(lo, hi - lo).combine_chunks()
                arrays[j] = replace_rows(arrays[j], offs, values)
            chunks[i] = Chunk(pa.RecordBatch.from_arrays(arrays, schema=chunk.batch.schema),
                              chunk.rowids)
        if placed != len(ids):
            raise errors.InternalError("bulk UPDATE of rows that do not exist")
        indexes = base.indexes
        if moved_unique:
            indexes = dict(indexes)
            for name, ix in moved_unique.items():
                old = key_list([pa.concat_arrays(old_parts[c]) for c in ix.columns])
                new_ix, clash = unique_moved(ix, old, [data.column(c) for c in ix.columns],
                                             ids, ids)
                if clash is not None:
                    raise self._unique_violation(ix, clash)
                indexes[name] = new_ix
        ordered = base.ordered
        if moved_ordered:
            ordered = dict(ordered)
            for name, ix in moved_ordered.items():
                ordered[name] = ordered_without(ix, ids, base.next_rowid).with_entries(
                    [data.column(c) for c in ix.columns], ids)
        return replace(base, chunks=tuple(chunks), indexes=indexes, ordered=ordered)

    def _delete(self, rowids: Iterable[int]) -> tuple["TableVersion", list[tuple]]:
        """(new version, rows removed). A few chunk rows (<= SPARSE_DELETE) are marked
        DELETED in ``patches``, folded into the deletion masks with the other patches;
        more get their chunks' masks copied and set at once."""
        rowids = rowids.tolist() if isinstance(rowids, np.ndarray) else list(rowids)
        sparse = len(rowids) <= SPARSE_DELETE
        by_chunk: dict[int, list[int]] = {}
        tail_dead = set()
        removed_rows, removed_ids = [], []
        patches = self.patches
        for rowid in rowids:
            loc = self._locate(rowid)
            if loc is None:
                continue
            i, off = loc
            patched = patches.get(rowid) if patches else None
            if patched is DELETED:
                continue
            if i < 0:
                if rowid in self.tail_dead or rowid in tail_dead:
                    continue
                tail_dead.add(rowid)
                row = self.tail.rows[off]
                if patched is not None:   # the row as it is now (its index keys)
                    row = patched
                    patches = patches.delete(rowid)
            else:
                mask = self.dead[i]
                if mask is not None and mask[off]:
                    continue
                row = self.chunks[i].row(off) if patched is None else patched
                if sparse:
                    patches = patches.set(rowid, DELETED)
                else:
                    by_chunk.setdefault(i, []).append(off)
                    if patched is not None:
                        patches = patches.delete(rowid)
            removed_rows.append(row)
            removed_ids.append(rowid)
        if not removed_rows:
            return self, removed_rows
        dead = list(self.dead) if by_chunk else self.dead
        for i, offs in by_chunk.items():
            dead[i] = _marked(dead[i], len(self.chunks[i]), offs)
        indexes = self.indexes
        if indexes:
            indexes = {name: idx.with_changes({}, _keys(idx, removed_rows))
                       for name, idx in indexes.items()}
        ordered = self.ordered
        if ordered:
            ordered = {name: ix.with_changes((), [(ix.key_of(r), i) for r, i in
                                                  zip(removed_rows, removed_ids)])
                       for name, ix in ordered.items()}
        new = replace(self, dead=tuple(dead),
                      tail_dead=_with_keys(self.tail_dead, tail_dead),
                      indexes=indexes, live_rows=self.live_rows - len(removed_rows),
                      ordered=ordered, patches=patches)
        if sparse:   # compaction comes with the fold (settled)
            if len(patches) > PATCH_FOLD:
                new = new._fold_some()
            return new, removed_rows
        return new._compacted(by_chunk.keys()), removed_rows

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

    def with_schema(self, schema: TableSchema, chunks: tuple[Chunk, ...] | None = None,
                    tail: Tail | None = None) -> "TableVersion":
        """A version under a new schema (ALTER TABLE); data given already conformed."""
        return replace(self, schema=schema,
                       chunks=self.chunks if chunks is None else chunks,
                       tail=self.tail if tail is None else tail)


def replace(version: "TableVersion", **changes) -> "TableVersion":
    """``dataclasses.replace`` for TableVersion without its per-call cost (~20 µs -> ~1 µs):
    versions have no ``__post_init__``, so copying the field dict is equivalent."""
    new = object.__new__(TableVersion)
    d = new.__dict__
    d.update(version.__dict__)
    d.update(changes)
    d.pop("_settled", None)   # a cache of the old version's folded form, not ours
    return new


def _key_moves(index, changes: list[tuple[int, tuple, tuple]]) -> list[tuple]:
    """(old key, new key, rowid) of the changed rows whose key in ``index`` differs."""
    moves = []
    for rowid, old, new in changes:
        before, after = index.key_of(old), index.key_of(new)
        if before is not after and before != after:
            moves.append((before, after, rowid))
    return moves


def _marked(mask: np.ndarray | None, n: int, offsets: list[int]) -> np.ndarray:
    """A copy of a chunk's deletion mask (all live if None) with ``offsets`` set."""
    out = mask.copy() if mask is not None else np.zeros(n, bool)
    out[offsets] = True
    return out


def _with_keys(marks: immutables.Map, keys: set) -> immutables.Map:
    """``marks`` plus ``keys`` (-> True): one persistent-map step, no copy of the rest."""
    if not keys:
        return marks
    if len(keys) == 1:
        return marks.set(next(iter(keys)), True)
    with marks.mutate() as m:
        for k in keys:
            m[k] = True
        return m.finish()


def _keys(index: UniqueIndex, rows: list[tuple]) -> list:
    return [key for key in map(index.stored_key, rows) if key is not None]


def _show(value: object) -> str:
    return "null" if value is None else str(value)


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Chunks keep the schema they were written with; nullability flags may differ."""
    if batch.schema.names == schema.names and batch.schema.types == schema.types:
        return batch if batch.schema.equals(schema) else pa.RecordBatch.from_arrays(
            batch.columns, schema=schema)
    raise errors.InternalError("chunk schema does not match table schema")


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
    batch = pa.concat_batches([_conform(c.batch, schema) for c in run_c])
    rowids = np.concatenate([c.rowids for c in run_c])
    out_c.append(Chunk(batch, rowids))
    if all(m is None for m in run_d):
        out_d.append(None)
    else:
        out_d.append(np.concatenate([m if m is not None else np.zeros(len(c), bool)
                                     for c, m in zip(run_c, run_d)]))


def _rechunk(table: pa.Table) -> list[pa.RecordBatch]:
    """Batches of about CHUNK_ROWS rows: small input batches are merged (scan speed)."""
    batches = table.to_batches(max_chunksize=CHUNK_ROWS)
    if len(batches) > 1 and min(b.num_rows for b in batches[:-1]) < CHUNK_ROWS // 4:
        batches = table.combine_chunks().to_batches(max_chunksize=CHUNK_ROWS)
    return [b for b in batches if b.num_rows]
