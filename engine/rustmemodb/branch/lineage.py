"""Finding the common ancestor of two databases, for diff and three-way merge.

Each fork remembers its parent and the root it started from (``base_root``);
each merge records, on both sides, the root it merged, which becomes the new
merge base for the next merge between the same pair (as git moves a merge base).
The common ancestor of A and B is therefore:

* the root recorded by their last merge, if any;
* else, if B descends from A, the ``base_root`` of B's ancestor directly under A
  (and symmetrically);
* else, if they share an ancestor P, the older of the two ``base_root``s under P
  (the state both started from).
"""
from __future__ import annotations

from ..storage.root import Root


def _chain(db):
    """[(db, base_root under its parent)] from db up to the top."""
    out = []
    while db is not None:
        out.append(db)
        db = db.parent
    return out


def common_base(a, b) -> Root | None:
    recorded = getattr(a, "merge_bases", {}).get(id(b)) or \
        getattr(b, "merge_bases", {}).get(id(a))
    if recorded is not None:
        return recorded
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
