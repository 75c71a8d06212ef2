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

``PMap`` is a flat dict while small (copied whole on write: <= ``FLAT_MAX`` entries),
then 64 leaf dicts by hash (<= ``ONE_MAX``), then a 64 x 64 trie of them: a write copies
one leaf dict and one or two 64-slot arrays (~1-2 us). ``RowMap`` holds values that are containers (row tuples) through an
append-only value store shared by the versions of a table: the map itself keeps only
slot numbers, so it stays untracked, and the one store list is a single object.

The API is the part of ``immutables.Map`` the storage layer uses: ``get``, ``[]``,
``in``, ``len``, iteration, ``keys/values/items``, ``set``/``delete`` returning a new
map, and ``mutate()`` for batches (``m[k] = v``, ``del m[k]``, ``finish()``).
"""
from __future__ import annotations

from itertools import chain, compress, count
from typing import Any, Iterable, Iterator

import threading

from ..lazy_import import numpy as np

FLAT_MAX = 128          # entries kept as one flat dict (depth 0)
ONE_MAX = 8192          # entries kept in one level of 64 leaf dicts (depth 1)
_BITS = 6
_FAN = 1 << _BITS       # 64 slots per level
_LOW = _FAN - 1
_LEAF: dict = {}        # the shared empty leaf: never written to (copies are)
_MISSING = object()


def _level(fill) -> np.ndarray:
    out = np.empty(_FAN, object)
    for i in range(_FAN):
        out[i] = fill
    return out


# shared empty levels, never written to (copies are): 64 empty leaves is both a
# depth-1 root and a depth-2 middle level. Made (once, under a lock: identity marks an
# empty level) when the first map grows past FLAT_MAX, so small maps never import numpy.
_MID = _TWO = None
_LEVELS_LOCK = threading.Lock()


def _make_levels() -> None:
    global _MID, _TWO
    with _LEVELS_LOCK:
        if _MID is None:
            mid = _level(_LEAF)
            _TWO = _level(mid)
            _MID = mid


def _depth_for(n: int) -> int:
    return 0 if n <= FLAT_MAX else 1 if n <= ONE_MAX else 2


def _leaves(root, depth: int) -> list:
    if depth == 0:
        return [root]
    if depth == 1:
        return [leaf for leaf in root if leaf]
    return [leaf for mid in root if mid is not _MID for leaf in mid if leaf]


def _build(pairs: dict, depth: int):
    """The root of a map of ``pairs`` (a dict the caller gives up) at ``depth``."""
    if depth == 0:
        return pairs
    if _MID is None:
        _make_levels()
    parts: dict = {}
    for k, v in pairs.items():
        h = hash(k)
        addr = h & _LOW if depth == 1 else (h & _LOW) | (((h >> _BITS) & _LOW) << _BITS)
        leaf = parts.get(addr)
        if leaf is None:
            leaf = parts[addr] = {}
        leaf[k] = v
    if depth == 1:
        root = _MID.copy()
        for i, leaf in parts.items():
            root[i] = leaf
        return root
    root = _TWO.copy()
    for addr, leaf in parts.items():
        i, j = addr & _LOW, addr >> _BITS
        mid = root[i]
        if mid is _MID:
            mid = root[i] = _MID.copy()
        mid[j] = leaf
    return root


def _shrunk(n: int, depth: int) -> bool:
    """Whether a map of ``n`` entries at ``depth`` should be rebuilt one level lower
    (at half the growth threshold, so a map near a bound does not flip-flop)."""
    return (depth == 2 and n <= ONE_MAX // 2) or (depth == 1 and n <= FLAT_MAX // 2)


class PMap:
    """Persistent map of atoms to atoms; see the module docstring. Depth 0 is one flat
    dict, depth 1 a numpy array of 64 leaf dicts (by hash), depth 2 a 64 x 64 trie of
    them: a write copies one leaf and at most two 64-slot arrays, and small maps stay
    few, dense leaves (iterating 4,096 one-entry leaves scattered in a large heap was
    slower than the whole fold it served)."""

    __slots__ = ("_root", "_len", "_depth")

    def __init__(self, items: Any = None) -> None:
        pairs = dict(items) if items else {}
        self._len = n = len(pairs)
        self._depth = d = _depth_for(n)
        self._root = _build(pairs, d)

    @staticmethod
    def _make(root, n: int, depth: int) -> "PMap":
        out = object.__new__(PMap)
        out._root = root
        out._len = n
        out._depth = depth
        return out

    # -- reads ------------------------------------------------------------------------
    def get(self, key, default=None):
        d = self._depth
        if d == 0:
            return self._root.get(key, default)
        h = hash(key)
        if d == 1:
            return self._root[h & _LOW].get(key, default)
        return self._root[h & _LOW][(h >> _BITS) & _LOW].get(key, default)

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

    # C-level iteration over the leaf dicts (folds read thousands of entries at once);
    # keys(), values() and items() of one map walk the leaves in the same order
    def items(self) -> Iterator[tuple]:
        if self._depth == 0:
            return iter(self._root.items())
        return chain.from_iterable(map(dict.items, _leaves(self._root, self._depth)))

    def keys(self) -> Iterator:
        if self._depth == 0:
            return iter(self._root)
        return chain.from_iterable(_leaves(self._root, self._depth))

    __iter__ = keys

    def values(self) -> Iterator:
        if self._depth == 0:
            return iter(self._root.values())
        return chain.from_iterable(map(dict.values, _leaves(self._root, self._depth)))

    def __repr__(self) -> str:
        return f"PMap({dict(self.items())!r})"

    # -- writes (each returns a new map) ----------------------------------------------------
    def set(self, key, value) -> "PMap":
        d = self._depth
        root = self._root
        if d == 0:
            new = root.copy()
            new[key] = value
            n = len(new)
            if n > FLAT_MAX:
                return PMap._make(_build(new, 1), n, 1)
            return PMap._make(new, n, 0)
        h = hash(key)
        i = h & _LOW
        root = root.copy()
        if d == 1:
            leaf = root[i].copy()
            n = self._len + (key not in leaf)
            leaf[key] = value
            root[i] = leaf
            if n > ONE_MAX:
                return PMap._make(_build(dict(chain.from_iterable(
                    map(dict.items, _leaves(root, 1)))), 2), n, 2)
            return PMap._make(root, n, 1)
        j = (h >> _BITS) & _LOW
        mid = root[i].copy()
        leaf = mid[j].copy()
        n = self._len + (key not in leaf)
        leaf[key] = value
        mid[j] = leaf
        root[i] = mid
        return PMap._make(root, n, 2)

    def delete(self, key) -> "PMap":
        if key not in self:
            raise KeyError(key)
        return self.without((key,))

    def without(self, keys: Iterable) -> "PMap":
        """This map less ``keys`` (each present): one copy per touched leaf, for folds
        that drop hundreds of entries at once."""
        d = self._depth
        if d == 0:
            new = self._root.copy()
            for k in keys:
                del new[k]
            return PMap._make(new, len(new), 0)
        by_leaf: dict = {}
        for k in keys:
            h = hash(k)
            addr = h & _LOW if d == 1 else (h & _LOW) | (((h >> _BITS) & _LOW) << _BITS)
            group = by_leaf.get(addr)
            if group is None:
                by_leaf[addr] = [k]
            else:
                group.append(k)
        n = self._len
        root = self._root.copy()
        if d == 1:
            for i, group in by_leaf.items():
                leaf = root[i].copy()
                for k in group:
                    del leaf[k]
                n -= len(group)
                root[i] = leaf or _LEAF
        else:
            mids: dict = {}
            for addr, group in by_leaf.items():
                i, j = addr & _LOW, addr >> _BITS
                mid = mids.get(i)
                if mid is None:
                    mid = mids[i] = root[i].copy()
                leaf = mid[j].copy()
                for k in group:
                    del leaf[k]
                n -= len(group)
                mid[j] = leaf or _LEAF
            for i, mid in mids.items():
                root[i] = mid if any(mid) else _MID
        if _shrunk(n, d):
            return PMap(chain.from_iterable(map(dict.items, _leaves(root, d))))
        return PMap._make(root, n, d)

    def mutate(self) -> "Mutation":
        return Mutation(self)


class Mutation:
    """A batch of changes to a PMap, applied to private copies of the leaves it touches
    and published by ``finish()`` as a new map (the original is never changed): a batch
    of k changes to a large map copies at most k leaves, not the map."""

    __slots__ = ("_base", "_flat", "_leaves", "_n")

    def __init__(self, base: PMap) -> None:
        self._base = base
        self._flat = base._root.copy() if base._depth == 0 else None
        self._leaves: dict = {}          # leaf address -> private copy of that leaf
        self._n = base._len

    def __enter__(self) -> "Mutation":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def _leaf(self, key, write: bool) -> dict:
        flat = self._flat
        if flat is not None:
            return flat
        base = self._base
        h = hash(key)
        if base._depth == 1:
            addr = h & _LOW
        else:
            addr = (h & _LOW) | (((h >> _BITS) & _LOW) << _BITS)
        leaf = self._leaves.get(addr)
        if leaf is None:
            leaf = base._root[addr] if base._depth == 1 else \
                base._root[addr & _LOW][addr >> _BITS]
            if write:
                leaf = self._leaves[addr] = leaf.copy()
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
        base, n = self._base, self._n
        d = base._depth
        if d == 1:
            root = base._root.copy()
            for i, leaf in self._leaves.items():
                root[i] = leaf if leaf else _LEAF
        else:
            root = base._root.copy()
            copied: set[int] = set()
            for addr, leaf in self._leaves.items():
                i, j = addr & _LOW, addr >> _BITS
                if i not in copied:
                    root[i] = root[i].copy()
                    copied.add(i)
                root[i][j] = leaf if leaf else _LEAF
            for i in copied:
                if not any(root[i]):
                    root[i] = _MID
        if _shrunk(n, d) or _depth_for(n) > d:
            return PMap(chain.from_iterable(map(dict.items, _leaves(root, d))))
        return PMap._make(root, n, d)


EMPTY = PMap()


class _Store:
    """Append-only values shared by the RowMaps of one table's versions: a map owns the
    slots it names and nobody rewrites a slot, so sharing is safe. Slots come from a
    counter (``next`` is atomic), so concurrent transactions writing versions of one
    table at once need no lock; the values are a dict by slot (one tracked object)."""

    __slots__ = ("values", "slots")

    def __init__(self, values: list | None = None) -> None:
        values = values or []
        self.values: dict = dict(zip(range(len(values)), values))
        self.slots = count(len(values))

    def add(self, value) -> int:
        slot = next(self.slots)
        self.values[slot] = value
        return slot


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

    # the PMap's fields read directly: a point read asks ``if patches`` every time
    def __len__(self) -> int:
        return self._slots._len

    def __bool__(self) -> bool:
        return self._slots._len > 0

    def keys(self) -> Iterator:
        return self._slots.keys()

    __iter__ = keys

    def items(self) -> Iterator[tuple]:
        # keys() and values() of one PMap walk its leaves in the same order
        return zip(self._slots.keys(), self.values())

    def values(self) -> Iterator:
        return map(self._store.values.__getitem__, self._slots.values())

    def values_where(self, flags: list) -> list:
        """The values of the entries whose flag is true, ``flags`` being parallel to
        ``keys()``: a fold's rows read in C-level loops, not by one lookup per key."""
        return list(map(self._store.values.__getitem__, compress(self._slots.values(), flags)))

    def __repr__(self) -> str:
        return f"RowMap({dict(self.items())!r})"

    def _compacted(self) -> "RowMap":
        # a fresh store once most of the shared one is dead: ~2 ms for the few thousand
        # live values, once every ~8x that many writes
        if len(self._store.values) <= 8 * len(self._slots) + 4096:
            return self
        return RowMap(self.items())

    def set(self, key, value) -> "RowMap":
        slots = self._slots
        if not slots._len:     # a fresh store: never append to one shared by every
            return RowMap({key: value})   # empty map (EMPTY_ROWS would only grow)
        # _Store.add, _make and _compacted inlined: every point UPDATE comes here
        store = self._store
        values = store.values
        slot = next(store.slots)
        values[slot] = value
        out = object.__new__(RowMap)
        out._slots = slots.set(key, slot)
        out._store = store
        if len(values) > 8 * len(slots) + 4096:
            return out._compacted()
        return out

    def delete(self, key) -> "RowMap":
        return RowMap._make(self._slots.delete(key), self._store)

    def without(self, keys: Iterable) -> "RowMap":
        return RowMap._make(self._slots.without(keys), self._store)

    def mutate(self) -> "RowMutation":
        return RowMutation(self)


class RowMutation(Mutation):
    """A batch of changes to a RowMap (see Mutation): slots underneath, values above."""

    __slots__ = ("_store",)

    def __init__(self, base: RowMap) -> None:
        super().__init__(base._slots)
        # a batch into an empty map gets a store of its own (see RowMap.set)
        self._store = base._store if base._slots else _Store()

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
