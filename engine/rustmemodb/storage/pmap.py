"""Persistent maps the cyclic garbage collector never has to look at.

Table versions keep their recent changes in small persistent maps: an index's delta
(key -> rowid), an ordered index's tombstones, the tail's deleted rowids, and the patch
map of rows updated in place. A write makes a new map sharing all but one path with the
old one, so forks and snapshots stay O(1).

A C HAMT (``immutables.Map``) did that, but its nodes are GC-tracked containers: each
write left two or three new nodes behind that lived long enough to reach the oldest
generation, and every ~25k of them the interpreter ran a full collection of the whole
process (35-70 ms with pandas, pyarrow and sqlglot loaded; issue 10's pause bench).
Here a map is built only from objects CPython does not track: dicts whose keys and
values are atoms (ints, strings, floats, None) are never tracked, and the levels above
them are numpy object arrays, which are not GC containers at all (a tuple of dicts
would be: CPython never untracks a tuple holding a dict). Nothing in a map can form a
cycle (leaves hold atoms only), so nothing is lost by the collector not seeing it; a
write adds nothing the collector will ever traverse again.

``PMap`` is a flat dict while small (copied whole on write: <= ``FLAT_MAX`` entries) and
a two-level trie of 64 x 64 dicts beyond (a write copies one leaf dict and two 64-slot
arrays, ~2 us). ``RowMap`` holds values that are containers (row tuples) through an
append-only value store shared by the versions of a table: the map itself keeps only
slot numbers, so it stays untracked, and the one store list is a single object.

The API is the part of ``immutables.Map`` the storage layer uses: ``get``, ``[]``,
``in``, ``len``, iteration, ``keys/values/items``, ``set``/``delete`` returning a new
map, and ``mutate()`` for batches (``m[k] = v``, ``del m[k]``, ``finish()``).
"""
from __future__ import annotations

import threading
from itertools import chain
from typing import Any, Iterable, Iterator

import numpy as np

FLAT_MAX = 128          # entries kept as one flat dict before switching to the trie
_BITS = 6
_FAN = 1 << _BITS       # 64 slots per level
_LOW = _FAN - 1
_LEAF: dict = {}        # the shared empty leaf: never written to (copies are)


def _level(fill) -> np.ndarray:
    out = np.empty(_FAN, object)
    for i in range(_FAN):
        out[i] = fill
    return out


_MID = _level(_LEAF)    # shared empty levels: never written to (copies are)
_ROOT = _level(_MID)
_MISSING = object()


def _leaves(root: np.ndarray) -> list:
    return [leaf for mid in root if mid is not _MID for leaf in mid if leaf]


def _trie_items(root: np.ndarray) -> Iterator[tuple]:
    # C-level iteration over the leaf dicts (folds read thousands of entries at once)
    return chain.from_iterable(map(dict.items, _leaves(root)))


def _trie_from(items: Iterable[tuple]) -> np.ndarray:
    leaves: dict[tuple[int, int], dict] = {}
    for k, v in items:
        h = hash(k)
        slot = (h & _LOW, (h >> _BITS) & _LOW)
        leaf = leaves.get(slot)
        if leaf is None:
            leaf = leaves[slot] = {}
        leaf[k] = v
    root = _ROOT.copy()
    for (i, j), leaf in leaves.items():
        mid = root[i]
        if mid is _MID:
            mid = root[i] = _MID.copy()
        mid[j] = leaf
    return root


class PMap:
    """Persistent map of atoms to atoms; see the module docstring."""

    __slots__ = ("_root", "_len")

    def __init__(self, items: Any = None) -> None:
        flat = dict(items) if items else {}
        self._len = len(flat)
        self._root = flat if len(flat) <= FLAT_MAX else _trie_from(flat.items())

    @classmethod
    def _make(cls, root, n: int) -> "PMap":
        out = object.__new__(cls)
        out._root = root
        out._len = n
        return out

    # -- reads ------------------------------------------------------------------------
    def get(self, key, default=None):
        root = self._root
        if type(root) is dict:
            return root.get(key, default)
        h = hash(key)
        return root[h & _LOW][(h >> _BITS) & _LOW].get(key, default)

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def items(self) -> Iterator[tuple]:
        root = self._root
        return iter(root.items()) if type(root) is dict else _trie_items(root)

    def keys(self) -> Iterator:
        root = self._root
        return iter(root) if type(root) is dict else chain.from_iterable(_leaves(root))

    __iter__ = keys

    def values(self) -> Iterator:
        root = self._root
        return iter(root.values()) if type(root) is dict else \
            chain.from_iterable(map(dict.values, _leaves(root)))

    def __repr__(self) -> str:
        return f"PMap({dict(self.items())!r})"

    # -- writes (each returns a new map) ----------------------------------------------------
    def set(self, key, value) -> "PMap":
        root = self._root
        if type(root) is dict:
            new = root.copy()
            new[key] = value
            if len(new) > FLAT_MAX:
                return PMap._make(_trie_from(new.items()), len(new))
            return PMap._make(new, len(new))
        h = hash(key)
        i, j = h & _LOW, (h >> _BITS) & _LOW
        mid = root[i].copy()
        leaf = mid[j].copy()
        n = self._len + (key not in leaf)
        leaf[key] = value
        mid[j] = leaf
        root = root.copy()
        root[i] = mid
        return PMap._make(root, n)

    def delete(self, key) -> "PMap":
        root = self._root
        if type(root) is dict:
            if key not in root:
                raise KeyError(key)
            new = root.copy()
            del new[key]
            return PMap._make(new, len(new))
        h = hash(key)
        i, j = h & _LOW, (h >> _BITS) & _LOW
        mid = root[i]
        leaf = mid[j]
        if key not in leaf:
            raise KeyError(key)
        if self._len - 1 <= FLAT_MAX // 2:
            flat = dict(_trie_items(root))
            del flat[key]
            return PMap._make(flat, len(flat))
        leaf = leaf.copy()
        del leaf[key]
        mid = mid.copy()
        mid[j] = leaf or _LEAF
        root = root.copy()
        root[i] = mid if any(mid) else _MID
        return PMap._make(root, self._len - 1)

    def mutate(self) -> "Mutation":
        return Mutation(self)


class Mutation:
    """A batch of changes to a PMap, applied to private copies of the dicts it touches
    and published by ``finish()`` as a new map (the original is never changed): a batch
    of k changes to a large map copies at most k leaves, not the map."""

    __slots__ = ("_root", "_flat", "_leaves", "_n")

    def __init__(self, base: PMap) -> None:
        root = base._root
        self._root = root
        self._flat = root.copy() if type(root) is dict else None
        self._leaves: dict = {}          # (i, j) -> private copy of a trie leaf
        self._n = base._len

    def __enter__(self) -> "Mutation":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def _leaf(self, key, write: bool) -> dict:
        flat = self._flat
        if flat is not None:
            return flat
        h = hash(key)
        slot = (h & _LOW, (h >> _BITS) & _LOW)
        leaf = self._leaves.get(slot)
        if leaf is None:
            leaf = self._root[slot[0]][slot[1]]
            if write:
                leaf = self._leaves[slot] = leaf.copy()
        return leaf

    def __setitem__(self, key, value) -> None:
        leaf = self._leaf(key, True)
        if key not in leaf:
            self._n += 1
        leaf[key] = value

    def set(self, key, value) -> None:
        self[key] = value

    def __delitem__(self, key) -> None:
        leaf = self._leaf(key, True)
        del leaf[key]
        self._n -= 1

    def __getitem__(self, key):
        return self._leaf(key, False)[key]

    def get(self, key, default=None):
        return self._leaf(key, False).get(key, default)

    def __contains__(self, key) -> bool:
        return key in self._leaf(key, False)

    def __len__(self) -> int:
        return self._n

    def pop(self, key, *default):
        leaf = self._leaf(key, True)
        if key in leaf:
            self._n -= 1
            return leaf.pop(key)
        if default:
            return default[0]
        raise KeyError(key)

    def update(self, items: Any) -> None:
        for k, v in dict(items).items():
            self[k] = v

    def finish(self) -> PMap:
        if self._flat is not None:
            return PMap(self._flat)
        if self._n <= FLAT_MAX // 2:
            return PMap(self._items())
        root = self._root.copy()
        copied: set[int] = set()
        for (i, j), leaf in self._leaves.items():
            if i not in copied:
                root[i] = root[i].copy()
                copied.add(i)
            root[i][j] = leaf if leaf else _LEAF
        for i in copied:
            if not any(root[i]):
                root[i] = _MID
        return PMap._make(root, self._n)

    def _items(self) -> Iterator[tuple]:
        leaves = self._leaves
        for i, mid in enumerate(self._root):
            if mid is _MID and not any(s[0] == i for s in leaves):
                continue
            for j, leaf in enumerate(mid):
                yield from leaves.get((i, j), leaf).items()


EMPTY = PMap()


class _Store:
    """Append-only list of values shared by the RowMaps of one table's versions: a map
    owns the slots it names, nobody rewrites a slot, so sharing is safe; appends take a
    lock because concurrent transactions may write versions of one table at once."""

    __slots__ = ("values", "lock")

    def __init__(self, values: list | None = None) -> None:
        self.values: list = values if values is not None else []
        self.lock = threading.Lock()

    def add(self, value) -> int:
        with self.lock:
            values = self.values
            values.append(value)
            return len(values) - 1


class RowMap:
    """Persistent map whose values may be containers (row tuples): the values live in a
    shared append-only store and the map (a PMap) holds their slot numbers. When the
    store holds many more dead values than live ones, the next write starts a fresh
    store with only the live values (bounded work: maps here hold a few thousand)."""

    __slots__ = ("_slots", "_store")

    def __init__(self, items: Any = None) -> None:
        pairs = dict(items) if items else {}
        # a fresh store is private until published: no lock per value
        self._store = _Store(list(pairs.values()))
        self._slots = PMap(zip(pairs, range(len(pairs))))

    @classmethod
    def _make(cls, slots: PMap, store: _Store) -> "RowMap":
        out = object.__new__(cls)
        out._slots = slots
        out._store = store
        return out

    def get(self, key, default=None):
        slot = self._slots.get(key)
        return default if slot is None else self._store.values[slot]

    def __getitem__(self, key):
        return self._store.values[self._slots[key]]

    def __contains__(self, key) -> bool:
        return key in self._slots

    def __len__(self) -> int:
        return len(self._slots)

    def __bool__(self) -> bool:
        return len(self._slots) > 0

    def keys(self) -> Iterator:
        return self._slots.keys()

    __iter__ = keys

    def items(self) -> Iterator[tuple]:
        # keys() and values() of one PMap walk its leaves in the same order
        return zip(self._slots.keys(), self.values())

    def values(self) -> Iterator:
        return map(self._store.values.__getitem__, self._slots.values())

    def __repr__(self) -> str:
        return f"RowMap({dict(self.items())!r})"

    def _compacted(self) -> "RowMap":
        # a fresh store once most of the shared one is dead: ~2 ms for the few thousand
        # live values, once every ~8x that many writes
        if len(self._store.values) <= 8 * len(self._slots) + 4096:
            return self
        return RowMap(self.items())

    def set(self, key, value) -> "RowMap":
        return RowMap._make(self._slots.set(key, self._store.add(value)),
                            self._store)._compacted()

    def delete(self, key) -> "RowMap":
        return RowMap._make(self._slots.delete(key), self._store)

    def mutate(self) -> "RowMutation":
        return RowMutation(self)


class RowMutation(Mutation):
    """A batch of changes to a RowMap (see Mutation): slots underneath, values above."""

    __slots__ = ("_store",)

    def __init__(self, base: RowMap) -> None:
        super().__init__(base._slots)
        self._store = base._store

    def __setitem__(self, key, value) -> None:
        Mutation.__setitem__(self, key, self._store.add(value))

    def set(self, key, value) -> None:
        self[key] = value

    def __getitem__(self, key):
        return self._store.values[Mutation.__getitem__(self, key)]

    def get(self, key, default=None):
        slot = Mutation.get(self, key)
        return default if slot is None else self._store.values[slot]

    def pop(self, key, *default):
        if key in self:
            return self._store.values[Mutation.pop(self, key)]
        if default:
            return default[0]
        raise KeyError(key)

    def finish(self) -> RowMap:
        return RowMap._make(Mutation.finish(self), self._store)._compacted()


EMPTY_ROWS = RowMap()
