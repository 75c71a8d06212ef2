"""Finding the common ancestor of two databases, for diff and three-way merge.

Each fork remembers its parent and the root it started from (``base_root``);
each merge leaves a ``MergeRecord`` in the target's root (``identity.py``).
The merge base of A and B is:

* the newest merge record between them, in either root: its ``base`` is the
  source root that merge took in (as git moves a merge base). The record's
  side maps its rowids onto that root; the other side's root is the base's own
  lineage, so its rowids need no mapping;
* else, if B descends from A, the ``base_root`` of B's ancestor directly under A
  (and symmetrically);
* else, if they share an ancestor P, the older of the two ``base_root``s under P
  (the state both started from).

Without a record, both sides share the base's rowids below each table's
``next_rowid`` in the base (the watermark); rows above it are each side's own.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..storage.root import Root
from .identity import IDENTITY, Correspondence, MergeRecord, space_id


@dataclass
class MergeBase:
    """The common ancestor of two databases and how each side's rowids map onto it."""

    root: Root
    record: MergeRecord | None = None
    mapped: object = None        # the database whose rowids the record maps (or None)
    _cache: dict = field(default_factory=dict)

    def correspondence(self, db, table: str) -> Correspondence:
        """How ``db``'s rowids of ``table`` name the base's rows."""
        key = (id(db), table)
        corr = self._cache.get(key)
        if corr is None:
            corr = self._cache[key] = self._correspondence(db, table)
        return corr

    def _correspondence(self, db, table: str) -> Correspondence:
        if self.record is None:
            version = self.root.tables.get(table)
            return Correspondence(version.next_rowid if version is not None else 0)
        if db is not self.mapped:
            return IDENTITY
        return self.record.tables.get(table) or Correspondence(0)

    def watermark(self, table: str) -> int:
        """Below it, rowids name the same row on both sides."""
        if self.record is None:
            version = self.root.tables.get(table)
            return version.next_rowid if version is not None else 0
        corr = self.record.tables.get(table)
        return corr.watermark if corr is not None else 0


def _chain(db):
    """[db, its parent, ...] up to the top."""
    out = []
    while db is not None:
        out.append(db)
        db = db.parent
    return out


def common_base(a, b) -> MergeBase | None:
    rec_a = getattr(a.root, "merges", {}).get(space_id(b))
    rec_b = getattr(b.root, "merges", {}).get(space_id(a))
    if rec_a is not None or rec_b is not None:
        if rec_b is None or (rec_a is not None and rec_a.seq > rec_b.seq):
            return MergeBase(rec_a.base, rec_a, a)
        return MergeBase(rec_b.base, rec_b, b)
    root = _lineage_base(a, b)
    return MergeBase(root) if root is not None else None


def _lineage_base(a, b) -> Root | None:
    chain_a, chain_b = _chain(a), _chain(b)
    ids_a = {id(d): i for i, d in enumerate(chain_a)}
    for j, d in enumerate(chain_b):
        i = ids_a.get(id(d))
        if i is None:
            continue
        # d is the lowest common ancestor; find each side's child directly under d.
        under_a = chain_a[i - 1] if i > 0 else None
        under_b = chain_b[j - 1] if j > 0 else None
        if under_a is None and under_b is None:
            return a.root               # the same database
        if under_a is None:
            return under_b.base_root    # b descends from a
        if under_b is None:
            return under_a.base_root    # a descends from b
        ra, rb = under_a.base_root, under_b.base_root
        return ra if ra.version <= rb.version else rb
    return None
