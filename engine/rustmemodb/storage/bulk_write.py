"""Set-based DELETE at Arrow speed: many rows removed by one statement.

A DELETE that touches thousands of rows must not walk them in Python (issue 11:
25% of a 5M-row table took 5 s that way). Here the rowids arrive as one sorted
int64 array and are split per chunk with ``searchsorted``; each chunk's deletion
mask is set with one numpy assignment. Index upkeep is bulk too: an ordered index
drops entries by a rowid mask over its numpy base, applied on the base's first read
(``OrderedIndex.without_rowids``); a unique index either queues
the removed keys in its delta (few) or copies its dict once and pops them (many).
``TableVersion.delete`` (storage/table.py) builds the new version from these
pieces; nothing here knows the version type. (Set-based UPDATE is
``TableVersion.update_arrow``.)
"""
from __future__ import annotations

from collections import deque
from itertools import repeat

from ..lazy_import import arrow as pa, numpy as np

from .index import UniqueIndex
from .. import infinity

# Deletes of at least this many rowids take the bulk path.
BULK_ROWS = 2048


def sorted_distinct(ids: np.ndarray) -> np.ndarray:
    """``ids`` sorted without repeats; free when they already ascend (a scan's rowids).
    (``np.unique`` hashes since numpy 2, ~15x slower than this on 1M int64.)"""
    if len(ids) < 2 or (ids[1:] > ids[:-1]).all():
        return ids
    ids = np.sort(ids)
    return ids[np.concatenate(([True], ids[1:] != ids[:-1]))]


def split_by_chunk(firsts: np.ndarray, ids: np.ndarray) -> list[tuple[int, int, int]]:
    """``(chunk index, lo, hi)``: ``ids[lo:hi]`` fall in that chunk. ``firsts``: first
    rowid of each chunk (ascending); ``ids``: sorted rowids, all below the tail."""
    if not len(ids) or not len(firsts):
        return []
    which = np.searchsorted(firsts, ids, side="right") - 1
    cuts = np.flatnonzero(np.diff(which)) + 1
    los = np.concatenate(([0], cuts))
    his = np.concatenate((cuts, [len(ids)]))
    return [(int(which[lo]), int(lo), int(hi)) for lo, hi in zip(los.tolist(), his.tolist())
            if which[lo] >= 0]


def offsets_in(chunk_rowids: np.ndarray, dense_start: int | None, ids: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """(offsets of the ``ids`` present in the chunk, mask over ``ids`` of those present)."""
    n = len(chunk_rowids)
    if dense_start is not None:
        offs = ids - dense_start
        found = (offs >= 0) & (offs < n)
    else:
        offs = np.searchsorted(chunk_rowids, ids)
        found = chunk_rowids[np.minimum(offs, n - 1)] == ids
    return (offs if found.all() else offs[found]), found


def key_list(arrays: list[pa.Array]) -> list:
    """Index keys from key-column arrays: values for one column, tuples for several."""
    cols = [_values(a) for a in arrays]
    return cols[0] if len(cols) == 1 else list(zip(*cols))


def _values(array: pa.Array) -> list:
    """``infinity.pylist(array)``; integer columns without NULLs go through numpy, whose
    ``tolist`` makes the same Python ints about three times faster."""
    if pa.types.is_integer(array.type) and not array.null_count:
        return array.to_numpy().tolist()
    return infinity.pylist(array)


def unique_without(index: UniqueIndex, keys: list) -> UniqueIndex:
    """``index`` without ``keys`` (NULL keys were never stored, so they are no-ops)."""
    if len(keys) <= len(index.base) // 8:
        return index.with_changes({}, keys)
    out = index.folded()            # a private dict copy: ours to change
    _pop_all(out.base, index.held(keys))
    return out


def _pop_all(base: dict, keys: list) -> None:
    """Remove ``keys`` from ``base`` (absent ones ignored) with the loop in C."""
    deque(map(base.pop, keys, repeat(None, len(keys))), maxlen=0)
