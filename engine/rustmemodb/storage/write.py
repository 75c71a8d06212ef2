"""Writes that add or change rows: single-row and bulk INSERT, in-place UPDATE.

Single rows append to the shared tail (O(1)); bulk loads become chunks merged with
their neighbours. A small UPDATE keeps each row's rowid and puts the new row in
``patches`` (one persistent-map set); a large one (``update_arrow``) rewrites each
touched chunk once, replacing only the assigned columns. A row keeps its rowid for
life: its identity for concurrent-write checks and for branch diff and merge.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..lazy_import import arrow as pa, numpy as np

from .. import numeric_arrays
from .chunk import Chunk, conform, rechunk
from .compact import coalesce
from .evolve import replace, runs
from .index_upkeep import table_rows
from .patches import PATCH_FOLD
from .tail import TAIL_BLOCK, TAIL_FREEZE, Tail

if TYPE_CHECKING:
    from .table import TableVersion


class WriteMixin:
    """TableVersion methods that insert and update rows."""

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
                tail = tail.copy_prefix(self.tail_len, rows)
        length = self.tail_len + len(rows)
        new = replace(self, tail=tail, tail_len=length, indexes=indexes,
                      live_rows=self.live_rows + len(rows), ordered=ordered)
        if length >= TAIL_FREEZE:
            new = new.freeze_tail()
        elif length // TAIL_BLOCK != self.tail_len // TAIL_BLOCK:
            tail.convert(length, new.arrow_schema)    # a block complete: to Arrow now
        return new, rowids

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

    def update_one(self, rowid: int, old: tuple, new: tuple,
                   keyed: bool = True) -> TableVersion:
        """``update_rows`` of one live row whose current value ``old`` the caller just
        read from this version (a point UPDATE): one patch set and one version, without
        the lists and the dict copies a batch needs. ``keyed``: False when the caller
        knows no index key can change (its SET list touches no indexed column), so the
        indexes are shared as they are; else those whose key changed are updated
        (``23505`` on a taken key)."""
        if keyed:
            indexes, ordered = self._indexes_after([(rowid, old, new)], None)
            out = replace(self, indexes=indexes, ordered=ordered,
                          patches=self.patches.set(rowid, new))
        else:
            out = replace(self, patches=self.patches.set(rowid, new))
        if len(out.patches) > PATCH_FOLD:
            out = out._fold_some()
        return out

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
        for a, b in runs(in_chunk):
            i = int(in_chunk[a])
            part = data.slice(a, b - a)
            if i < 0:
                rows = tail.rows[: base.tail_len]
                for off, row in zip(where[a:b, 1].tolist(), table_rows(part)):
                    rows[off] = row
                tail = Tail(rows)
            else:
                chunks[i] = chunks[i].replaced(where[a:b, 1], part, touched)
        new = replace(base, chunks=tuple(chunks), tail=tail, indexes=indexes, ordered=ordered)
        return new, ids, data

    def _numeric_form(self, table: pa.Table) -> pa.Table:
        """Unconstrained numeric columns given as decimal128 (numeric_arrays.store_cast)
        stay so, at precision 18 or 38 (numeric_arrays.stored_decimal), unless an index
        covers them: index keys are taken from keys (conform), so such a column's chunks
        hold keys too."""
        schema = self.arrow_schema
        odd = [j for j, (c, f) in enumerate(zip(table.columns, schema)) if c.type != f.type
               and numeric_arrays.stored_as(c.type, f.type)]
        if not odd:
            return table
        keyed = self._keyed_columns()
        for j in odd:
            col = table.column(j)
            col = numeric_arrays.to_keys(col) if j in keyed else \
                numeric_arrays.store_cast(col, schema.field(j).type)
            table = table.set_column(j, table.schema.field(j).with_type(col.type), col)
        return table

    def _keyed_columns(self) -> set:
        """Columns some index takes keys from (all, if an index has expression keys)."""
        if any(getattr(ix, "keyed", False) for ix in self.indexes.values()) or \
                any(d.keyed for d in self.schema.indexes):
            return set(range(len(self.schema.columns)))
        return {j for ix in self.indexes.values() for j in ix.columns} | \
            {j for ix in self.ordered.values() for j in ix.columns}

    def numerics_as_keys(self) -> "TableVersion":
        """The version with every chunk's decimal128-held unconstrained numeric columns
        as keys: before an index is built over the table (its keys, and the keys later
        rows bring, must be of one form: ``_numeric_form``)."""
        schema = self.arrow_schema
        if all(c.batch.schema.types == schema.types for c in self.chunks):
            return self
        chunks = tuple(c if c.batch.schema.types == schema.types else
                       Chunk(conform(c.batch, schema), c.rowids) for c in self.chunks)
        return replace(self, chunks=chunks)

    def insert_arrow(self, table: pa.Table) -> tuple["TableVersion", np.ndarray]:
        """Bulk append an Arrow table already cast to this table's schema (an
        unconstrained numeric column may come as decimal128: ``_numeric_form``)."""
        table = self._numeric_form(table)
        base = self.freeze_tail()
        n = table.num_rows
        first = base.next_rowid
        rowids = np.arange(first, first + n, dtype=np.int64)
        indexes = base._bulk_indexes(table, rowids)
        ordered = {name: ix.with_entries([table.column(c) for c in ix.columns], rowids)
                   for name, ix in base.ordered.items()}
        chunks, pos = [], 0
        for batch in rechunk(table):
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
