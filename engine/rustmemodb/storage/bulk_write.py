"""Set-based writes at Arrow speed: many rows deleted or updated by one statement.

A DELETE or UPDATE that touches thousands of rows must not walk them in Python
(issue 11: 25% of a 5M-row table took 5-11 s that way). Here the rowids arrive as
one sorted int64 array and are split per chunk with ``searchsorted``; each chunk's
deletion mask is set with one numpy assignment and its assigned columns are
rewritten with ``replace_with_mask``, so a row keeps its chunk position and its
rowid. Index upkeep is bulk too: an ordered index drops entries by a rowid mask
over its numpy base and takes new ones with one sort-merge; a unique index either
queues the moved keys in its delta (few) or copies its dict once and pops/adds
them (many). ``TableVersion.delete`` and ``TableVersion.update_many``
(storage/table.py) build new versions from these pieces; nothing here knows the
version type.
"""
from __future__ import annotations

from collections import deque
from itertools import repeat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .index import OrderedIndex, UniqueIndex
from .index_build import unique_from_arrays

# Statements touching at least this many rows take the bulk path.
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


def replace_rows(column: pa.Array, offsets: np.ndarray, values: pa.Array) -> pa.Array:
    """``column`` with the rows at ascending ``offsets`` replaced by ``values`` (in order)."""
    if len(offsets) == len(column):
        return values
    t = column.type
    if not column.null_count and not values.null_count and (
            pa.types.is_integer(t) or pa.types.is_floating(t)):
        out = column.to_numpy().copy()      # numbers without NULLs: ~8x the kernel's speed
        out[offsets] = values.to_numpy()
        return pa.array(out, t)
    mask = np.zeros(len(column), bool)
    mask[offsets] = True
    try:
        return pc.replace_with_mask(column, pa.array(mask), values)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):   # types without the kernel
        idx = np.arange(len(column), dtype=np.int64)
        idx[offsets] = len(column) + np.arange(len(offsets), dtype=np.int64)
        return pa.concat_arrays([column, values]).take(pa.array(idx))


def key_list(arrays: list[pa.Array]) -> list:
    """Index keys from key-column arrays: values for one column, tuples for several."""
    cols = [a.to_pylist() for a in arrays]
    return cols[0] if len(cols) == 1 else list(zip(*cols))


def unique_without(index: UniqueIndex, keys: list) -> UniqueIndex:
    """``index`` without ``keys`` (NULL keys were never stored, so they are no-ops)."""
    if len(keys) <= len(index.base) // 8:
        return index.with_changes({}, keys)
    out = index.folded()            # a private dict copy: ours to change
    _pop_all(out.base, keys)
    return out


def _pop_all(base: dict, keys: list) -> None:
    """Remove ``keys`` from ``base`` (absent ones ignored) with the loop in C."""
    deque(map(base.pop, keys, repeat(None, len(keys))), maxlen=0)


def unique_moved(index: UniqueIndex, old_keys: list, new_arrays: list, rowids: np.ndarray,
                 updated: np.ndarray) -> tuple[UniqueIndex, object | None]:
    """``index`` after the rows ``rowids`` changed key from ``old_keys`` to the keys in
    ``new_arrays``: (new index, a clashing key or None). All old keys are freed before
    the new ones are checked, as PostgreSQL checks a whole statement (``SET id = id + 1``).
    ``updated``: the same rowids, sorted (for the few-keys ownership test)."""
    fresh, dup = unique_from_arrays(index.name, index.columns, new_arrays, rowids)
    if dup is not None:
        return index, dup
    if len(old_keys) > len(index.base) // 8:
        out = index.folded()
        base = out.base
        _pop_all(base, old_keys)
        for key in base.keys() & fresh.base.keys():
            return index, key
        base.update(fresh.base)
        return out, None
    for key in fresh.base:
        owner = index.get(key)
        if owner is not None:
            pos = np.searchsorted(updated, owner)
            if pos >= len(updated) or updated[pos] != owner:
                return index, key
    return index.with_changes(fresh.base, old_keys), None


def ordered_without(index: OrderedIndex, gone: np.ndarray, limit: int) -> OrderedIndex:
    """``index`` without the entries of rowids ``gone`` (all below ``limit``)."""
    if index.size or len(index.dead):
        index = index.merged()
    flag = np.zeros(limit, bool)
    flag[gone] = True
    keep = ~flag[index.rowids]
    keep_nulls = ~flag[index.null_rowids]
    return OrderedIndex(index.name, index.columns, index.dtype, index.keys[keep],
                        index.rowids[keep], index.null_rowids[keep_nulls])
