"""Which row is which across branches: rowid correspondences and merge records.

A row keeps its rowid for life within one database: UPDATE rewrites it in
place (``TableVersion.update_rows`` / ``update_arrow``), folds, compaction,
checkpoints and WAL replay keep rowids, and ``Database.restore`` never lets a
table hand out a rowid twice. Rowids are *not* unique across branches: after a
fork both sides continue from the same ``next_rowid``, so a row inserted on A
and a different row inserted on B may carry the same number. Identity
is therefore always relative to a merge base (the root both sides are
compared against):

* a rowid below the pair's **watermark** names the same row on both sides (it
  was assigned before they diverged);
* a few rows have **exceptions**: a row a merge copied from one side into the
  other got a fresh rowid there, and the correspondence records
  ``this side's rowid -> the base's rowid`` for it;
* any other rowid names a row of this side only (inserted since the base), and
  never matches a row of the other side, whatever its number.

A ``Correspondence`` holds the watermark and the exceptions of one side for one
table. The side whose own root is the base needs none (``IDENTITY``).

Rows also have an **origin**, an identity valid across every branch whatever the
merge base: the branch that inserted the row and the rowid it got there
(``origins``). A row a merge copied is traced through the merge record to the
source's row, a row inherited at a fork to the parent's. Merges fall back on it
when neither side's correspondence knows a row: after a criss-cross of merges
(main took B's row, A took it from B, main is then merged into A) no single base
knows every row both sides share, but their origins agree.

A completed merge leaves a ``MergeRecord`` *in the target's committed root*
(``Root.merges``, keyed by the source's space id): the source root it merged,
which is the base of the next merge between the two, and the target's
correspondence onto it. Because it lives in the root, undoing the merge
(restoring the earlier root) forgets it, so merging again re-applies the
source's changes; and a fork inherits its parent's records, as it inherits the
rows they describe.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

INF = np.iinfo(np.int64).max
_EMPTY = np.zeros(0, np.int64)
_space_ids = itertools.count(1)


def space_id(db) -> int:
    """A number naming ``db``'s rowid space, never reused (``id()`` may be)."""
    sid = db.__dict__.get("_branch_space")
    if sid is None:
        sid = db.__dict__.setdefault("_branch_space", next(_space_ids))
    return sid


@dataclass(frozen=True, eq=False)
class Correspondence:
    """How one side's rowids of one table name rows of the base."""

    watermark: int
    rowids: np.ndarray = field(default_factory=lambda: _EMPTY)    # ascending: rowids of
    base_ids: np.ndarray = field(default_factory=lambda: _EMPTY)  # this side with another base id

    @classmethod
    def of_pairs(cls, watermark: int, rowids: np.ndarray, base_ids: np.ndarray
                 ) -> "Correspondence":
        """From this side's rowids and the base ids they name (aligned arrays);
        identical pairs below the watermark are implied and dropped."""
        rowids, base_ids = np.asarray(rowids, np.int64), np.asarray(base_ids, np.int64)
        keep = (rowids != base_ids) | (rowids >= watermark)
        if not keep.any():
            return cls(watermark)
        pairs = np.unique(np.stack([rowids[keep], base_ids[keep]], axis=1), axis=0)
        return cls(watermark, pairs[:, 0].copy(), pairs[:, 1].copy())

    def to_base(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base ids, known): rows of this side only are not known to the base."""
        rowids = np.asarray(rowids, np.int64)
        ids = rowids.copy()
        known = rowids < self.watermark
        if len(self.rowids) and len(rowids):
            pos = np.minimum(np.searchsorted(self.rowids, rowids), len(self.rowids) - 1)
            hit = self.rowids[pos] == rowids
            ids[hit] = self.base_ids[pos[hit]]
            known |= hit
        return ids, known

    def from_base(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(this side's rowids, found) for base ids: the inverse of ``to_base``."""
        ids = np.asarray(ids, np.int64)
        rowids = ids.copy()
        found = ids < self.watermark
        if len(self.base_ids) and len(ids):
            order = np.argsort(self.base_ids, kind="stable")
            sorted_ids = self.base_ids[order]
            pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
            hit = sorted_ids[pos] == ids
            rowids[hit] = self.rowids[order[pos[hit]]]
            found |= hit
            # a rowid below the watermark that an exception maps elsewhere is not this id
            moved = np.isin(rowids, self.rowids) & ~hit
            found &= ~moved
        return rowids, found

    @classmethod
    def compose(cls, steps: list, n: int) -> "Correspondence":
        """Rowids ``0..n-1`` mapped through each correspondence in turn (this side onto
        a state of another database, that one onto another, ...): one correspondence
        onto the last base. A rowid lost at any step is this side's own."""
        ids = np.arange(n, dtype=np.int64)
        known = np.ones(n, bool)
        for corr in steps:
            ids, k = corr.to_base(ids)
            known &= k
        same = known & (ids == np.arange(n, dtype=np.int64))
        off = np.flatnonzero(~same)
        watermark = int(off[0]) if len(off) else n
        rest = watermark + np.flatnonzero(known[watermark:])
        return cls(watermark, rest, ids[rest])

    def uncertain(self, rowids: np.ndarray) -> np.ndarray:
        """Rowids that may not name, on this side, the base row with that number: at
        or above the watermark, or involved in an exception either way."""
        out = rowids >= self.watermark
        if len(self.rowids):
            out |= np.isin(rowids, self.rowids) | np.isin(rowids, self.base_ids)
        return out


IDENTITY = Correspondence(INF)


@dataclass(frozen=True, eq=False)
class Lineage:
    """Where a database's rowids come from: its rowid space and, for a fork, the
    parent's lineage and the root it forked from (apart from the Database, so that a
    merge record does not keep a whole dropped branch alive)."""

    space: int
    parent: "Lineage | None"
    base_root: object


def lineage(db) -> Lineage:
    found = db.__dict__.get("_branch_lineage")
    if found is None:
        parent = lineage(db.parent) if db.parent is not None else None
        found = db.__dict__.setdefault(
            "_branch_lineage", Lineage(space_id(db), parent, db.base_root))
    return found


@dataclass(frozen=True, eq=False)
class MergeRecord:
    """Left in the target's root by a merge: see the module docstring."""

    base: object        # the source's Root that was merged
    seq: int            # orders records: the newest one between a pair wins
    tables: dict        # table name -> Correspondence of the target onto ``base``
    source: Lineage | None = None   # the source's lineage, to trace copied rows' origins
    taken: dict = field(default_factory=dict)   # table -> ((lo, hi), ...): rowids the
    #   target took whole from the source (a table only the source changed), which are
    #   the source's rows under the same numbers


ORIGIN_BITS = 40        # an origin is space << ORIGIN_BITS | the rowid it got there
ROWID_MASK = (1 << ORIGIN_BITS) - 1


def origins(lin: Lineage, root, table: str, rowids: np.ndarray) -> np.ndarray:
    """The origin of each of ``rowids`` of ``table`` in ``root`` (a state of the
    database with lineage ``lin``): a row a merge copied is the source's row, a row
    below the fork point the parent's, any other one this database's own. Each step
    goes to an older root, so the trace ends."""
    rowids = np.asarray(rowids, np.int64)
    out = (np.int64(lin.space) << ORIGIN_BITS) | rowids
    todo = np.ones(len(rowids), bool)
    records = sorted((getattr(root, "merges", None) or {}).values(),
                     key=lambda r: r.seq, reverse=True)
    for record in records:
        corr = record.tables.get(table)
        if corr is None or record.source is None:
            continue
        if len(corr.rowids):
            pos = np.minimum(np.searchsorted(corr.rowids, rowids), len(corr.rowids) - 1)
            hit = todo & (corr.rowids[pos] == rowids)
            if hit.any():
                out[hit] = origins(record.source, record.base, table,
                                   corr.base_ids[pos[hit]])
                todo &= ~hit
        for lo, hi in record.taken.get(table, ()):
            hit = todo & (rowids >= lo) & (rowids < hi)
            if hit.any():
                out[hit] = origins(record.source, record.base, table, rowids[hit])
                todo &= ~hit
    if lin.parent is not None and lin.base_root is not None:
        version = lin.base_root.tables.get(table)
        low = todo & (rowids < (version.next_rowid if version is not None else 0))
        if low.any():
            out[low] = origins(lin.parent, lin.base_root, table, rowids[low])
    return out


_merge_seq = itertools.count(1)


def next_seq() -> int:
    return next(_merge_seq)
