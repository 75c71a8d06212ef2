"""Bulk construction of unique indexes from Arrow columns, at C speed.

Used wherever many keys arrive at once: bulk INSERT from Arrow
(``TableVersion.insert_arrow``) and index rebuilds on load (durability/tables.py).
``UniqueIndex.build`` checks key by key in Python; here NULL keys are dropped in
Arrow, the dict is made by one ``dict(zip(keys, rowids))`` and duplicates are
detected by its size (~10x faster at 1M rows); only when there is a duplicate do
we walk the keys to name it. Clashes with an existing index are found by a C
set intersection of the two dicts' key views, then confirmed against the delta.
"""
from __future__ import annotations

from ..lazy_import import compute as pc, numpy as np

from .index import TOMBSTONE, UniqueIndex, unique_index
from .. import infinity


def unique_from_arrays(name: str, columns: tuple, arrays: list, rowids: np.ndarray,
                       decimal_parts: tuple = (), nulls_equal: bool = False
                       ) -> tuple[UniqueIndex, object | None]:
    """(index over these key columns, first duplicate key or None); ``decimal_parts``:
    the NUMERIC key positions, held as Decimals (storage/index.py); ``nulls_equal``:
    UNIQUE NULLS NOT DISTINCT, whose keys with NULLs are kept."""
    valid = None
    for a in arrays if not nulls_equal else ():
        if a.null_count:
            v = pc.is_valid(a)
            valid = v if valid is None else pc.and_(valid, v)
    if valid is not None:
        arrays = [pc.filter(a, valid) for a in arrays]
        rowids = rowids[np.asarray(valid)]
    cols = [infinity.pylist(a) for a in arrays]
    keys = cols[0] if len(cols) == 1 else list(zip(*cols))
    ids = rowids.tolist()
    template = unique_index(name, columns, nulls_equal, decimal_parts=decimal_parts)
    if decimal_parts or nulls_equal:
        keys = template.held(keys)
    base = dict(zip(keys, ids))
    if len(base) != len(keys):
        index, dup = UniqueIndex.build(name, columns, keys, ids)
        return template._like(index.base), dup
    return template._like(base), None


def unique_from_table(template: UniqueIndex, table, rowids: np.ndarray
                      ) -> tuple[UniqueIndex, object | None]:
    """(``template``'s kind of index over the rows of ``table`` (this table's columns),
    first duplicate key or None): keyed indexes compute their keys from the rows."""
    if not template.keyed:
        return unique_from_arrays(template.name, template.columns,
                                  [table.column(c) for c in template.columns], rowids,
                                  template.decimal_parts, template.nulls_equal)
    return template.rebuilt(template.keyer.keys(table), rowids.tolist())


def first_clash(existing: UniqueIndex, fresh: UniqueIndex) -> object | None:
    """A key of ``fresh`` that ``existing`` already holds, or None."""
    for key in existing.base.keys() & fresh.base.keys():
        if existing.get(key) is not None:
            return key
    for key, rowid in existing.delta.items():
        if rowid != TOMBSTONE and key in fresh.base and not existing.is_gone(rowid):
            return key
    return None
