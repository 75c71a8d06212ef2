"""Point access by rowid: a row, a few rows, or the positions of many.

Rowids ascend across chunks and the tail holds ``tail_rowid0 + i``, so a rowid is
found by bisecting chunk start rowids; point reads never touch Arrow compute. The
patch map is consulted first (a patched row is the row as it is now).
"""
from __future__ import annotations

import bisect
from typing import Iterable

from ..lazy_import import numpy as np

from .chunk import row_getter
from .evolve import runs
from .patches import DELETED


class LookupMixin:
    """TableVersion methods that find rows by rowid."""

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
        patches = self.patches
        if patches._slots._len:     # (RowMap.__bool__ inlined: every point read asks)
            patched = patches.get(rowid)
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
                        row = chunk.point_row(off) if cols is None else getter(cols, off)
            out.append((r, row))
        return out

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
            for a, b in runs(ci):
                i = int(ci[a])
                if i < 0:
                    continue
                chunk = self.chunks[i]
                part = ids[a:b]            # ids ascend, so each chunk's are one slice
                if chunk._dense_start is not None:   # rowids first..first+n-1: arithmetic
                    offs = part - chunk._dense_start
                    ok = (offs >= 0) & (offs < len(chunk.rowids))
                    offs = np.where(ok, offs, 0)
                else:
                    offs = np.searchsorted(chunk.rowids, part)
                    inside = offs < len(chunk.rowids)
                    ok = inside.copy()
                    ok[inside] = chunk.rowids[offs[inside]] == part[inside]
                mask = self.dead[i]
                if mask is not None:
                    ok[ok] = ~mask[offs[ok]]
                where[a:b, 0] = i
                where[a:b, 1] = np.where(ok, offs, -1)
                valid[a:b] = ok
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
