"""Persistent hash indexes for PRIMARY KEY and UNIQUE: key -> rowid.

An index version is a frozen ``dict`` base plus a small persistent delta
(``immutables.Map``, a C HAMT) of recent changes, where ``TOMBSTONE`` marks a
key removed since the base was built. Publishing a version never mutates it, so
forks and snapshots share both parts; a write copies only the path it touches
in the delta (~1 µs). When the delta grows past an eighth of the base it is
folded into a new base dict, which keeps lookups at two probes and the delta
small (ENGINE-MEASUREMENTS.md §5: dict probes 0.05 µs, untracked by the GC).

Keys are the column value for one-column keys and a tuple otherwise. Keys with
a NULL in them are never stored: NULLs never collide under SQL UNIQUE.
"""
from __future__ import annotations

from typing import Iterable

import immutables

TOMBSTONE = -1
_EMPTY_MAP = immutables.Map()
_MIN_FOLD = 4096


class UniqueIndex:
    __slots__ = ("name", "columns", "base", "delta")

    def __init__(self, name: str, columns: tuple[int, ...], base: dict | None = None,
                 delta: immutables.Map = _EMPTY_MAP) -> None:
        self.name = name
        self.columns = columns
        self.base = base if base is not None else {}
        self.delta = delta

    # -- reads -------------------------------------------------------------------
    def get(self, key: object) -> int | None:
        rowid = self.delta.get(key)
        if rowid is None:
            return self.base.get(key)
        return None if rowid == TOMBSTONE else rowid

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def key_of(self, row: tuple) -> object:
        cols = self.columns
        if len(cols) == 1:
            return row[cols[0]]
        return tuple(row[c] for c in cols)

    def items(self) -> Iterable[tuple[object, int]]:
        for key, rowid in self.base.items():
            if key not in self.delta:
                yield key, rowid
        for key, rowid in self.delta.items():
            if rowid != TOMBSTONE:
                yield key, rowid

    # -- writes (return new versions) ----------------------------------------------
    def with_changes(self, added: dict, removed: Iterable[object]) -> "UniqueIndex":
        with self.delta.mutate() as m:
            for key in removed:
                m[key] = TOMBSTONE
            for key, rowid in added.items():
                m[key] = rowid
            delta = m.finish()
        new = UniqueIndex(self.name, self.columns, self.base, delta)
        if len(delta) > max(_MIN_FOLD, len(self.base) // 8):
            return new.folded()
        return new

    def folded(self) -> "UniqueIndex":
        base = dict(self.base)
        for key, rowid in self.delta.items():
            if rowid == TOMBSTONE:
                base.pop(key, None)
            else:
                base[key] = rowid
        return UniqueIndex(self.name, self.columns, base)

    @classmethod
    def build(cls, name: str, columns: tuple[int, ...], keys: list, rowids: list
              ) -> tuple["UniqueIndex", object | None]:
        """Build from parallel key/rowid lists; returns (index, first duplicate key or None)."""
        base: dict = {}
        dup = None
        for key, rowid in zip(keys, rowids):
            if key is None or (type(key) is tuple and None in key):
                continue
            if key in base and dup is None:
                dup = key
            base[key] = rowid
        return cls(name, columns, base), dup
