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
from rustmemodb.lazy_import import compute as pc

from .. import errors
from .index import OrderedIndex, UniqueIndex, storable
from .bulk_write import (BULK_ROWS, key_list, offsets_in, ordered_without, sorted_distinct,
                         split_by_chunk, unique_without)
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

    def replaced(self, offsets: np.ndarray, rows: pa.Table, columns) -> "Chunk":
        """A chunk with the rows at ascending ``offsets`` replaced by ``rows`` (same
        rowids: a bulk UPDATE in place); only ``columns`` are rewritten, others shared."""
        mask = np.zeros(len(self.rowids), bool)
        mask[offsets] = True
        amask = pa.array(mask)
        cols = list(self.batch.columns)
        for j in columns:
            new = rows.column(j).combine_chunks()
            try:
                cols[j] = pc.replace_with_mask(cols[j], amask, new)
            except pa.ArrowNotImplementedError:   # types without a kernel (e.g. intervals)
                values = cols[j].to_pylist()
                for o, v in zip(offsets.tolist(), new.to_pylist()):
                    values[o] = v
                cols[j] = pa.array(values, cols[j].type)
        return Chunk(pa.RecordBatch.from_arrays(cols, schema=self.batch.schema), self.rowids)

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
        indexes, ordered = self._indexes_after(changes, columns)
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

    def _indexes_after(self, changes: list[tuple[int, tuple, tuple]],
                       columns: frozenset | None) -> tuple[dict, dict]:
        """(unique, ordered) indexes after rows changed values in place."""
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
        return indexes, ordered

    def update_arrow(self, rowids, data: pa.Table, old: pa.Table | None = None,
                     columns: frozenset | None = None
                     ) -> tuple["TableVersion", np.ndarray, pa.Table]:
        """Bulk UPDATE in place: every row keeps its rowid (its identity for branch diff
        and merge), each touched chunk is rewritten once with one vectorised
        ``replace_with_mask`` per assigned column, untouched chunks and columns are
        shared. ``data``: the new rows (this table's Arrow schema), aligned with
        ``rowids``; ``old``: the same rows' current values if the caller has them (only
        rows whose index keys change are then looked at in Python); ``columns``: the
        positions that may change. Dead or unknown rowids are skipped. Returns (new
        version, rowids updated in ascending order, their new rows in that order)."""
        base = self.settled()
        ids = np.asarray(rowids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        if not np.all(order[:-1] < order[1:]):
            ids = ids[order]
            data = data.take(pa.array(order))
            old = old.take(pa.array(order)) if old is not None else None
        where, valid = base._positions_of(ids)
        if not valid.all():
            keep = pa.array(valid)
            ids, where = ids[valid], where[valid]
            data = data.filter(keep)
            old = old.filter(keep) if old is not None else None
        if not len(ids):
            return self, ids, data
        indexes, ordered = base.indexes, base.ordered
        changes = base._key_changes(ids, data, old, columns)
        if changes:
            indexes, ordered = base._indexes_after(changes, columns)
        touched = range(len(base.schema.columns)) if columns is None else sorted(columns)
        chunks = list(base.chunks)
        in_chunk = where[:, 0]
        tail = base.tail
        for a, b in _runs(in_chunk):
            i = int(in_chunk[a])
            part = data.slice(a, b - a)
            if i < 0:
                rows = tail.rows[: base.tail_len]
                for off, row in zip(where[a:b, 1].tolist(), _table_rows(part)):
                    rows[off] = row
                tail = Tail(rows)
            else:
                chunks[i] = chunks[i].replaced(where[a:b, 1], part, touched)
        new = replace(base, chunks=tuple(chunks), tail=tail, indexes=indexes, ordered=ordered)
        return new, ids, data

    def _positions_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For ascending rowids: [(chunk index or -1 for the tail, offset)] and a mask of
        the ids that name live rows. Patches must be settled."""
        where = np.full((len(ids), 2), -1, dtype=np.int64)
        valid = np.zeros(len(ids), bool)
        tail0 = self.tail_rowid0
        n_chunk = int(np.searchsorted(ids, tail0))
        if n_chunk and self.chunks:
            starts = np.asarray(self._chunk_starts(), np.int64)
            ci = np.searchsorted(starts, ids[:n_chunk], side="right") - 1
            for a, b in _runs(ci):
                i = int(ci[a])
                if i < 0:
                    continue
                sel = np.arange(a, b)
                chunk = self.chunks[i]
                offs = np.searchsorted(chunk.rowids, ids[sel])
                inside = offs < len(chunk.rowids)
                ok = inside.copy()
                ok[inside] = chunk.rowids[offs[inside]] == ids[sel][inside]
                mask = self.dead[i]
                if mask is not None:
                    ok[ok] = ~mask[offs[ok]]
                where[sel, 0] = i
                where[sel, 1] = np.where(ok, offs, -1)
                valid[sel] = ok
        tail_ids = ids[n_chunk:]
        if len(tail_ids):
            offs = tail_ids - tail0
            ok = offs < self.tail_len
            if self.tail_dead:
                ok &= ~np.isin(tail_ids, self._tail_dead_ids())
            where[n_chunk:, 0] = -1
            where[n_chunk:, 1] = offs
            valid[n_chunk:] = ok
        return where, valid

    def _key_changes(self, ids: np.ndarray, data: pa.Table, old: pa.Table | None,
                     columns: frozenset | None) -> list[tuple[int, tuple, tuple]]:
        """(rowid, old row, new row) of the updated rows whose key in some index may
        change: only those need Python work for index upkeep."""
        keyed = set()
        for ix in list(self.indexes.values()) + list(self.ordered.values()):
            keyed.update(ix.columns)
        if columns is not None:
            keyed &= set(columns)
        if not keyed:
            return []
        width = len(self.schema.columns)
        if old is not None:
            differs = None
            for j in sorted(keyed):
                d = _differs(old.column(j), data.column(j))
                differs = d if differs is None else pc.or_(differs, d)
            pick = np.flatnonzero(np.asarray(differs.combine_chunks() if
                                             isinstance(differs, pa.ChunkedArray) else differs))
            if not len(pick):
                return []
            sel = pa.array(pick)
            olds = _table_rows(old.select(range(width)).take(sel))
            news = _table_rows(data.take(sel))
            return [(int(ids[k]), o, n) for k, o, n in zip(pick.tolist(), olds, news)]
        news = _table_rows(data)
        olds = self.rows_at(ids.tolist())
        return [(r, o, n) for (r, o), n in zip(olds, news)
                if o is not None and any(o[j] != n[j] for j in keyed)]

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

    def continuing_from(self, next_rowid: int) -> "TableVersion":
        """The same rows, with new rows numbered from ``next_rowid`` on (if higher): an
        older version made current again must not hand out rowids it handed out since,
        as rowids are row identities (branch diff and merge)."""
        if next_rowid <= self.next_rowid:
            return self
        frozen = self.freeze_tail()
        return replace(frozen, tail_rowid0=next_rowid)

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

    def _delete(self, rowids: Iterable[int]) -> tuple["TableVersion", list[tuple]]:
        """(new version, rows removed; None when not read). A few chunk rows (<=
        SPARSE_DELETE) are marked DELETED in ``patches``, folded into the deletion masks
        with the other patches; more get their chunks' masks copied and set at once."""
        if not isinstance(rowids, (list, np.ndarray)):
            rowids = list(rowids)
        if not self.indexes and not self.ordered and len(rowids) > SPARSE_DELETE:
            return self._delete_bulk(np.asarray(rowids, np.int64)), None
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

    def _delete_bulk(self, rowids: np.ndarray) -> "TableVersion":
        """Many rows of a table without indexes (no keys to drop, so no row values to
        read): the deletion masks are set chunk by chunk, vectorised."""
        base = self.settled()
        ids = np.sort(rowids)
        if len(ids) > 1:   # (np.unique hashes: several times slower than sort + compare)
            ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
        where, valid = base._positions_of(ids)
        ids, where = ids[valid], where[valid]
        if not len(ids):
            return self
        dead = list(base.dead)
        in_chunk = where[:, 0]
        touched = []
        for a, b in _runs(in_chunk):   # ids ascend, so each chunk's are one run
            i = int(in_chunk[a])
            if i >= 0:
                touched.append(i)
                dead[i] = _marked(dead[i], len(base.chunks[i]), where[a:b, 1])
        tail_ids = ids[in_chunk < 0].tolist()
        new = replace(base, dead=tuple(dead),
                      tail_dead=_with_keys(base.tail_dead, set(tail_ids)),
                      live_rows=base.live_rows - len(ids))
        return new._compacted(touched)

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


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[(start, end)] of the runs of equal values in an array."""
    if not len(values):
        return []
    cut = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], cut)).tolist()
    return list(zip(starts, starts[1:] + [len(values)]))


def _table_rows(table: pa.Table) -> list[tuple]:
    return list(zip(*[c.to_pylist() for c in table.columns])) if table.num_columns else []


def _differs(x, y):
    """Per row: are x and y different values (NULL-aware: NULL vs NULL is the same)?"""
    try:
        eq = pc.equal(x, y)
    except pa.ArrowNotImplementedError:
        eq = pa.array([u == v for u, v in zip(x.to_pylist(), y.to_pylist())], pa.bool_())
    nx, ny = pc.is_null(x), pc.is_null(y)
    return pc.if_else(pc.and_(nx, ny), False,
                      pc.if_else(pc.or_(nx, ny), True, pc.invert(pc.fill_null(eq, False))))


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
