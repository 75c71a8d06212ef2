"""Finding the common ancestor of two databases, for diff and three-way merge.

Each fork remembers its parent and the root it started from (``base_root``);
each merge leaves a ``MergeRecord`` in the target's root (``identity.py``).
The merge base of A and B is:

* the newest merge record between them, in either root: its ``base`` is the
  source root that merge took in (as git moves a merge base). The record's
  side maps its rowids onto that root; the other side's root is the base's own
  lineage, so its rowids need no mapping. A record of a merge from X also
  serves a fork Y of X (Y holds X's rows under X's rowids, below its fork
  point): the base is then the merged root, or the root Y forked from if
  that is older;
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
    # for the other side, when it is a fork of the record's source: the roots it forked
    # from along the way; rowids at or above their next_rowid are its own
    limits: tuple = ()
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
            return Correspondence(_next_rowid(self.root, table))
        if db is self.mapped:
            return self.record.tables.get(table) or Correspondence(0)
        if self.limits:
            return Correspondence(min(_next_rowid(r, table) for r in self.limits))
        return IDENTITY


def _next_rowid(root: Root, table: str) -> int:
    version = root.tables.get(table)
    return version.next_rowid if version is not None else 0


def _chain(db):
    """[db, its parent, ...] up to the top."""
    out = []
    while db is not None:
        out.append(db)
        db = db.parent
    return out


def common_base(a, b) -> MergeBase | None:
    best = None
    for holder, other in ((a, b), (b, a)):
        found = _record(holder, other)
        if found is not None and (best is None or found[0].seq > best[0].seq):
            best = found + (holder,)
    if best is not None:
        record, forks, holder = best
        base = record.base
        if forks and forks[-1].version < base.version:
            base = forks[-1]   # forked before that merge: from an older state of the source
        return MergeBase(base, record, holder, tuple(forks))
    root = _lineage_base(a, b)
    return MergeBase(root) if root is not None else None


def _record(holder, other) -> tuple[MergeRecord, list] | None:
    """The record in ``holder``'s root of a merge from ``other`` or from an ancestor of
    ``other`` (which holds that ancestor's rows under the same rowids), with the roots
    ``other``'s chain forked from, nearest first, up to that ancestor."""
    merges = getattr(holder.root, "merges", None)
    if not merges:
        return None
    forks = []
    db = other
    while db is not None:
        record = merges.get(space_id(db))
        if record is not None:
            return record, forks
        if db.base_root is None:
            return None
        forks.append(db.base_root)
        db = db.parent
    return None


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
