"""DELETE: rows marked dead and their index keys dropped.

A few chunk rows (<= ``SPARSE_DELETE``) are noted ``DELETED`` in ``patches`` (one
map set) instead of copying a chunk's 64k-flag deletion mask; more get their
chunks' masks copied and set at once; many (>= ``BULK_ROWS``) go the set-based
way of storage/bulk_write.py. Chunks left mostly dead are compacted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..lazy_import import arrow as pa, numpy as np

from .. import numeric_arrays

from .bulk_write import (BULK_ROWS, key_list, offsets_in, sorted_distinct,
                         split_by_chunk, unique_without)
from .evolve import marked, replace, runs, with_keys
from .index_upkeep import index_keys
from .patches import DELETED, PATCH_FOLD

if TYPE_CHECKING:
    from .table import TableVersion


# Deletes of at most this many chunk rows are noted in ``patches`` as DELETED (one
# map set) rather than by copying the chunk's 64k-flag deletion mask.
SPARSE_DELETE = 64


class DeleteMixin:
    """TableVersion methods that delete rows."""

    def delete(self, rowids: Iterable[int]) -> "TableVersion":
        """Mark rows dead and drop their index keys. Unknown or dead rowids are ignored.
        Many rowids (>= BULK_ROWS) go the set-based way: the same result, and the same
        choice on log replay, which calls this with the same rowids."""
        if isinstance(rowids, (np.ndarray, list, tuple)) and len(rowids) >= BULK_ROWS:
            return self._delete_many(np.asarray(rowids, np.int64))
        return self._delete(rowids)[0]

    def delete_one(self, rowid: int, row: tuple) -> TableVersion:
        """``delete([rowid])`` of one live row whose current value ``row`` the caller
        just read from this version (a point DELETE): the same new version as the
        general path's sparse case, without its per-batch lists, sets and loops."""
        patches = self.patches
        tail_dead = self.tail_dead
        # The row is live (the caller just read it), so it is a tail row exactly when its
        # rowid is past the chunks: no _locate bisect, which only said chunk or tail.
        if rowid >= self.tail_rowid0:
            tail_dead = tail_dead.set(rowid, True)
            if patches and rowid in patches:   # updated tail row: its patch goes
                patches = patches.delete(rowid)
        else:
            patches = patches.set(rowid, DELETED)
        indexes = self.indexes
        if indexes:
            indexes = {}
            for name, idx in self.indexes.items():
                key = idx.stored_key(row)
                indexes[name] = idx if key is None else idx.with_changes({}, [key])
        ordered = self.ordered
        if ordered:
            shared: dict = {}    # one new tombstone map for indexes that share one
            ordered = {name: ix.without_one(ix.key_of(row), rowid, shared)
                       for name, ix in ordered.items()}
        new = replace(self, tail_dead=tail_dead, indexes=indexes,
                      live_rows=self.live_rows - 1, ordered=ordered, patches=patches)
        if len(patches) > PATCH_FOLD:
            new = new._fold_some()
        return new

    def _delete_many(self, rowids: np.ndarray) -> "TableVersion":
        """Set-based DELETE: per chunk one numpy assignment into its deletion mask; index
        keys of the removed rows come from Arrow ``take`` on the key columns only."""
        base = self.settled().freeze_tail()
        ids = sorted_distinct(rowids)
        chunks, dead = base.chunks, list(base.dead)
        firsts = np.fromiter((c.first_rowid for c in chunks), np.int64, len(chunks))
        # Unique indexes drop many keys by flagging the rowids (UniqueIndex.gone), with no
        # key read or dict copy; few keys go into the delta as tombstones.
        few = len(ids) <= min((len(ix.base) for ix in base.indexes.values()), default=0) // 8
        key_cols = sorted({c for ix in base.indexes.values() if not ix.keyed
                           for c in ix.columns}) if few else []
        parts: dict[int, list] = {c: [] for c in key_cols}
        schema_types = base.arrow_schema.types
        gone, touched = [], []
        for i, lo, hi in split_by_chunk(firsts, ids):
            chunk = chunks[i]
            offs, _ = offsets_in(chunk.rowids, chunk._dense_start, ids[lo:hi])
            mask = dead[i]
            if mask is not None:
                offs = offs[~mask[offs]]
            if not len(offs):
                continue
            dead[i] = marked(mask, len(chunk), offs)
            gone.append(chunk.rowids[offs])
            touched.append(i)
            if key_cols:
                taken = pa.array(offs)
                for c in key_cols:
                    # (index keys are keys: a numeric chunk held as decimal128 too)
                    parts[c].append(numeric_arrays.as_keys(chunk.batch.column(c).take(taken))
                                    if numeric_arrays.is_decimal(chunk.batch.column(c).type)
                                    and not numeric_arrays.is_decimal(schema_types[c])
                                    else chunk.batch.column(c).take(taken))
        if not gone:
            return self
        gone_ids = np.concatenate(gone)
        indexes = base.indexes
        if indexes and few:
            # (a keyed index's keys are computed from whole rows: its rowids are flagged)
            indexes = {name: ix.without_rowids(gone_ids) if ix.keyed else
                       unique_without(ix, key_list([pa.concat_arrays(parts[c])
                                                    for c in ix.columns]))
                       for name, ix in indexes.items()}
        elif indexes:
            indexes = {name: ix.without_rowids(gone_ids) for name, ix in indexes.items()}
        ordered = base.ordered
        if ordered:
            ordered = {name: ix.without_rowids(gone_ids, base.next_rowid)
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
            dead[i] = marked(dead[i], len(self.chunks[i]), offs)
        indexes = self.indexes
        if indexes:
            indexes = {name: idx.with_changes({}, index_keys(idx, removed_rows))
                       for name, idx in indexes.items()}
        ordered = self.ordered
        if ordered:
            ordered = {name: ix.with_changes((), [(ix.key_of(r), i) for r, i in
                                                  zip(removed_rows, removed_ids)])
                       for name, ix in ordered.items()}
        new = replace(self, dead=tuple(dead),
                      tail_dead=with_keys(self.tail_dead, tail_dead),
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
        for a, b in runs(in_chunk):   # ids ascend, so each chunk's are one run
            i = int(in_chunk[a])
            if i >= 0:
                touched.append(i)
                dead[i] = marked(dead[i], len(base.chunks[i]), where[a:b, 1])
        tail_ids = ids[in_chunk < 0].tolist()
        new = replace(base, dead=tuple(dead),
                      tail_dead=with_keys(base.tail_dead, set(tail_ids)),
                      live_rows=base.live_rows - len(ids))
        return new._compacted(touched)
