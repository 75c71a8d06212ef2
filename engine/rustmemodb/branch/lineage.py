"""Finding the common ancestor of two databases, for diff and three-way merge.

Each fork remembers its parent and the root it started from (``base_root``);
each merge leaves a ``MergeRecord`` in the target's root (``identity.py``): the
source root it merged and how the target's rowids map onto it. Both are *links*
from a state of one database to a state of another, with a rowid mapping:

* a database's own root: its rowids, unmapped;
* a fork link, from any root of a fork to the root it forked from: rowids below
  that root's ``next_rowid`` are the parent's rows;
* a record link, from a root holding a merge record to the source root it
  merged, through the record's correspondence.

A merge base is a state both sides reach by such links, possibly through other
databases (A merged from C, which had merged from B: A reaches B's root through
two records; a fork reaches its parent's parent). From each side the reachable
states are collected (``_views``, a few links deep); for every database both
reach, the base is the older of the two roots (by version: a later root of one
database holds the rows of an earlier one under the same rowids), and each side
maps its rowids onto it by composing the links' correspondences, cut at the
base's ``next_rowid`` (rows the database gained after the base are each side's
own). Of the candidates, the base is the most recent state both sides share (as
git moves a merge base): the root that has taken in the newest merge (merge
records only accumulate along a history, so a later state knows every merge an
earlier one knew), then the newest root (versions order one database's roots),
then the one with the fewest links.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..storage.root import Root
from .identity import IDENTITY, Correspondence, space_id

MAX_LINKS = 6     # links followed from each side (merges of merges of forks ...)


@dataclass
class MergeBase:
    """The common ancestor of two databases and how each side's rowids map onto it."""

    root: Root
    links: dict = field(default_factory=dict)   # id(db) -> links from db's root to root
    _cache: dict = field(default_factory=dict)

    def correspondence(self, db, table: str) -> Correspondence:
        """How ``db``'s rowids of ``table`` name the base's rows."""
        key = (id(db), table)
        corr = self._cache.get(key)
        if corr is None:
            corr = self._cache[key] = self._correspondence(db, table)
        return corr

    def _correspondence(self, db, table: str) -> Correspondence:
        links = self.links.get(id(db), ())
        limit = _next_rowid(self.root, table)
        corrs = [_link_correspondence(link, table) for link in links]
        if not corrs:
            if db.root is self.root:
                return IDENTITY
            return Correspondence(limit)
        corrs.append(Correspondence(limit))
        if len(corrs) == 2 and corrs[0].watermark <= limit and not (
                len(corrs[0].base_ids) and corrs[0].base_ids.max() >= limit):
            return corrs[0]                  # one record, nothing past the base to cut
        version = db.root.tables.get(table)
        return Correspondence.compose(corrs, version.next_rowid if version is not None else 0)


def _link_correspondence(link, table: str) -> Correspondence:
    kind, what = link
    if kind == "fork":
        return Correspondence(_next_rowid(what, table))
    return what.tables.get(table) or Correspondence(0)


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


def _views(db, known: dict) -> dict:
    """Every database state reachable from ``db``'s root: space id -> [(root, links)],
    breadth first (fewest links first)."""
    out: dict = {}
    todo = [(space_id(db), db.root, db, ())]
    seen = set()
    while todo:
        nxt = []
        for sid, root, owner, links in todo:
            if (sid, id(root)) in seen:
                continue
            seen.add((sid, id(root)))
            out.setdefault(sid, []).append((root, links))
            if len(links) >= MAX_LINKS:
                continue
            for key, record in (getattr(root, "merges", None) or {}).items():
                nxt.append((key, record.base, known.get(key), links + (("record", record),)))
            if owner is not None and owner.parent is not None and owner.base_root is not None:
                parent = owner.parent
                nxt.append((space_id(parent), owner.base_root, parent,
                            links + (("fork", owner.base_root),)))
        todo = nxt
    return out


def _newest_merge(root: Root) -> int:
    """The newest merge a root has taken in (records accumulate along any history:
    a merge target's root gains one, a fork inherits its parent's)."""
    merges = getattr(root, "merges", None)
    return max((record.seq for record in merges.values()), default=0) if merges else 0


def common_base(a, b) -> MergeBase | None:
    known = {space_id(d): d for d in _chain(a) + _chain(b)}
    if a is b:
        return MergeBase(a.root)
    va, vb = _views(a, known), _views(b, known)
    best = None
    for sid in va.keys() & vb.keys():
        for ra, la in va[sid]:
            for rb, lb in vb[sid]:
                # the older state; at an equal version the one that took in fewer
                # merges (a merge that changed no row records itself in a new root
                # of the same version, which the other side may never have seen)
                base = ra if (ra.version, _newest_merge(ra)) <= \
                    (rb.version, _newest_merge(rb)) else rb
                score = (_newest_merge(base), base.version, -len(la) - len(lb))
                if best is None or score > best[0]:
                    best = (score, base, la, lb)
    if best is None:
        return None
    _, base, la, lb = best
    return MergeBase(base, {id(a): la, id(b): lb})
