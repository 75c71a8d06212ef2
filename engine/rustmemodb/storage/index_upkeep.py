"""Index upkeep for writes: the unique and ordered indexes of a new version.

Inserts add keys (``23505`` on a taken one), in-place UPDATEs move only the keys
that changed (over the whole statement, so ``SET id = id + 1`` may move a key onto
one the same statement frees), bulk loads build or extend indexes from Arrow
columns. Deletes use ``index_keys`` and storage/bulk_write.py.
"""
from __future__ import annotations

from ..lazy_import import arrow as pa, compute as pc, numpy as np

from .. import errors, netaddr, ranges, timetz, types
from ..netaddr import NETWORK_TYPES
from ..types import py_values
from .index import NULL_KEY, UniqueIndex, storable
from .index_build import first_clash, unique_from_table
from .. import infinity


class IndexUpkeepMixin:
    """TableVersion methods that compute indexes after a write."""

    def _indexes_with_one(self, row: tuple, rowid: int) -> tuple[dict, dict]:
        """(unique, ordered) indexes with one new row; 23505 on a taken key."""
        indexes = self.indexes
        if indexes:
            indexes = dict(indexes)
            for name, index in self.indexes.items():
                key = index.stored_key(row)
                if key is None:
                    continue
                if index.get(key) is not None:
                    raise self._unique_violation(index, key)
                indexes[name] = index.with_changes({key: rowid}, ())
        ordered = self.ordered
        if ordered:
            ordered = dict(ordered)
            for name, ix in self.ordered.items():
                ordered[name] = ix.with_changes(((ix.key_of(row), rowid),), ())
        return indexes, ordered

    def _indexes_with(self, rows: list[tuple], rowids: list[int]) -> dict:
        if not self.indexes:
            return self.indexes
        out = dict(self.indexes)
        for name, index in self.indexes.items():
            added: dict = {}
            for row, rowid in zip(rows, rowids):
                key = index.stored_key(row)
                if key is None:
                    continue
                if key in added or index.get(key) is not None:
                    raise self._unique_violation(index, key)
                added[key] = rowid
            out[name] = index.with_changes(added, ())
        return out

    def _indexes_after(self, changes: list[tuple[int, tuple, tuple]],
                       columns: frozenset | None) -> tuple[dict, dict]:
        """(unique, ordered) indexes after rows changed values in place."""
        indexes = self._indexes_moved(changes, columns) if self.indexes else self.indexes
        ordered = self.ordered
        if ordered:
            ordered = dict(ordered)
            for name, ix in self.ordered.items():
                if columns is not None and columns.isdisjoint(ix.columns):
                    continue
                moves = key_moves(ix, changes)
                if moves:
                    ordered[name] = ix.with_changes([(after, r) for _, after, r in moves],
                                                    [(before, r) for before, _, r in moves])
        return indexes, ordered

    def _key_changes(self, ids: np.ndarray, data: pa.Table, old: pa.Table | None,
                     columns: frozenset | None) -> list[tuple[int, tuple, tuple]]:
        """(rowid, old row, new row) of the updated rows whose key in some index may
        change: only those need Python work for index upkeep."""
        keyed = set()
        for ix in list(self.indexes.values()) + list(self.ordered.values()):
            keyed.update(ix.columns)
        if columns is not None:
            keyed &= set(columns)
        if not keyed:
            return []
        width = len(self.schema.columns)
        if old is not None:
            differs = None
            for j in sorted(keyed):
                d = values_differ(old.column(j), data.column(j))
                differs = d if differs is None else pc.or_(differs, d)
            pick = np.flatnonzero(np.asarray(differs.combine_chunks() if
                                             isinstance(differs, pa.ChunkedArray) else differs))
            if not len(pick):
                return []
            sel = pa.array(pick)
            olds = table_rows(old.select(range(width)).take(sel))
            news = table_rows(data.take(sel))
            return [(int(ids[k]), o, n) for k, o, n in zip(pick.tolist(), olds, news)]
        news = table_rows(data)
        olds = self.rows_at(ids.tolist())
        return [(r, o, n) for (r, o), n in zip(olds, news)
                if o is not None and any(o[j] != n[j] for j in keyed)]

    def _indexes_moved(self, changes: list[tuple[int, tuple, tuple]],
                       columns: frozenset | None = None) -> dict:
        """Unique indexes after rows changed keys in place (rowids unchanged)."""
        out = self.indexes
        for name, index in self.indexes.items():
            if columns is not None and columns.isdisjoint(index.columns):
                continue
            moves = key_moves(index, changes)
            if not moves:
                continue
            freed = {rowid for _, _, rowid in moves}
            added: dict = {}
            for _, key, rowid in moves:
                if not storable(key):
                    continue
                owner = index.get(key)
                if key in added or (owner is not None and owner not in freed):
                    raise self._unique_violation(index, key)
                added[key] = rowid
            removed = [k for k, _, _ in moves if storable(k) and k not in added]
            if out is self.indexes:
                out = dict(out)
            out[name] = index.with_changes(added, removed)
        return out

    def _bulk_indexes(self, table: pa.Table, rowids: np.ndarray) -> dict:
        if not self.indexes:
            return self.indexes
        out = dict(self.indexes)
        for name, index in self.indexes.items():
            fresh, dup = unique_from_table(index, table, rowids)
            empty = not index.base and not len(index.delta)
            if dup is None and not empty:
                dup = first_clash(index, fresh)
            if dup is not None:
                raise self._unique_violation(index, dup)
            if empty:
                out[name] = fresh
            elif len(fresh.base) * 8 > len(index.base):
                # many keys: one new base dict (a copy, so ours to extend) beats a big delta
                merged = index.folded()
                merged.base.update(fresh.base)
                out[name] = merged
            else:
                out[name] = index.with_changes(fresh.base, ())
        return out

    def _unique_violation(self, index: UniqueIndex, key: object) -> errors.Error:
        cols = index.keyer.text if index.keyed else \
            ", ".join(self.schema.columns[c].name for c in index.columns)
        if index.keyed:
            shown = ", ".join(map(_show, key)) if isinstance(key, tuple) else _show(key)
        else:
            shown = shown_key(key, [self.schema.columns[c].type for c in index.columns])
        return errors.sql_error(
            "23505", f'duplicate key value violates unique constraint "{index.name}"',
            detail=f"Key ({cols})=({shown}) already exists.")


def table_rows(table: pa.Table) -> list[tuple]:
    return list(zip(*[py_values(c) for c in table.columns])) if table.num_columns else []


def values_differ(x, y):
    """Per row: are x and y different values (NULL-aware: NULL vs NULL is the same)?"""
    try:
        eq = pc.equal(x, y)
    except pa.ArrowNotImplementedError:
        eq = pa.array([u == v for u, v in zip(infinity.pylist(x), infinity.pylist(y))], pa.bool_())
    nx, ny = pc.is_null(x), pc.is_null(y)
    return pc.if_else(pc.and_(nx, ny), False,
                      pc.if_else(pc.or_(nx, ny), True, pc.invert(pc.fill_null(eq, False))))


def key_moves(index, changes: list[tuple[int, tuple, tuple]]) -> list[tuple]:
    """(old key, new key, rowid) of the changed rows whose key in ``index`` differs."""
    moves = []
    for rowid, old, new in changes:
        before, after = index.key_of(old), index.key_of(new)
        if before is not after and before != after:
            moves.append((before, after, rowid))
    return moves


def index_keys(index: UniqueIndex, rows: list[tuple]) -> list:
    return [key for key in map(index.stored_key, rows) if key is not None]


def _show(value: object) -> str:
    return "null" if value is None or value is NULL_KEY else str(value)


def shown_key(key: object, sql_types: list) -> str:
    """A key's values as a 23505's DETAIL shows them: in their type's output form where
    ``str`` of the stored value is not it (a network address or a range is stored as
    ordered bytes)."""
    values = key if isinstance(key, tuple) else (key,)
    return ", ".join(_shown_value(v, t) for v, t in zip(values, sql_types))


def _shown_value(value: object, sql_type: str) -> str:
    if value is None or value is NULL_KEY:
        return "null"
    if sql_type in NETWORK_TYPES:
        return netaddr.output(sql_type, value)
    if sql_type in ranges.KINDS:
        kind = ranges.KINDS[sql_type]
        return ranges.format_range(kind, ranges.decode(kind, value))
    if sql_type == types.TIMETZ:
        return timetz.format(value)
    return str(value)
