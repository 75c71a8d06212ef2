"""Building a new table version from an old one, sharing what did not change.

Every write in storage/ returns a new ``TableVersion``; these are the small
copy-on-write steps they all use: ``replace`` (a version with some fields
changed), persistent-map and deletion-mask updates, and run splitting for ascending
rowids. Nothing here knows how chunks, tails or indexes are laid out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_import import numpy as np

from .pmap import EMPTY, EMPTY_ROWS, PMap

if TYPE_CHECKING:
    from .table import TableVersion


EMPTY_MAP = EMPTY          # tail deletions, tombstones: rowid -> True
EMPTY_PATCHES = EMPTY_ROWS  # rowid -> new row (a container): storage/pmap.py RowMap


def replace(version: TableVersion, **changes) -> TableVersion:
    """``dataclasses.replace`` for TableVersion without its per-call cost (~20 µs -> ~1 µs):
    versions have no ``__post_init__``, so copying the field dict is equivalent."""
    new = object.__new__(version.__class__)
    d = new.__dict__
    d.update(version.__dict__)
    d.update(changes)
    d.pop("_settled", None)   # a cache of the old version's folded form, not ours
    return new


def runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[(start, end)] of the runs of equal values in an array."""
    if not len(values):
        return []
    cut = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], cut)).tolist()
    return list(zip(starts, starts[1:] + [len(values)]))


def marked(mask: np.ndarray | None, n: int, offsets: list[int]) -> np.ndarray:
    """A copy of a chunk's deletion mask (all live if None) with ``offsets`` set."""
    out = mask.copy() if mask is not None else np.zeros(n, bool)
    out[offsets] = True
    return out


def with_keys(marks: PMap, keys: set) -> PMap:
    """``marks`` plus ``keys`` (-> True): one persistent-map step, no copy of the rest."""
    if not keys:
        return marks
    if len(keys) == 1:
        return marks.set(next(iter(keys)), True)
    with marks.mutate() as m:
        for k in keys:
            m[k] = True
        return m.finish()
