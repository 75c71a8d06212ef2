"""Persistent hash indexes for PRIMARY KEY and UNIQUE: key -> rowid.

An index version is a frozen ``dict`` base plus a small persistent delta
(``PMap``, storage/pmap.py: nothing in it is GC-tracked) of recent changes, where
``TOMBSTONE`` marks a
key removed since the base was built. Publishing a version never mutates it, so
forks and snapshots share both parts; a write copies only the path it touches
in the delta (~2 µs). When the delta grows past an eighth of the base it is
folded into a new base dict, which keeps lookups at two probes and the delta
small (ENGINE-MEASUREMENTS.md §5: dict probes 0.05 µs, untracked by the GC); a
large base is rebuilt by a fold job (index_merge.py) into 64 dicts split by key
hash (``Shards``, read like a dict), one shard per write, so that no single
statement pays for copying a million keys.

Keys are the column value for one-column keys and a tuple otherwise. Keys with
a NULL in them are never stored: NULLs never collide under SQL UNIQUE. Under UNIQUE
NULLS NOT DISTINCT they do: ``NullsEqualUniqueIndex`` holds a NULL part as ``NULL_KEY``
(the ordered indexes' NULL, equal only to itself), so those keys are stored and clash like any other (a
probe with a NULL in it still finds nothing: ``a = NULL`` is never true). The ordinary
index pays nothing for it: the mapping lives in the subclass's ``key_of`` and ``held``.

A NUMERIC part of a key is held as a ``Decimal`` (``numeric_parts``): a row holds an
unconstrained numeric as bytes that keep the display scale (numeric.py), so 2.5 and
2.50 would be two keys where PostgreSQL sees one number (23505). Decimals compare and
hash by value and keep the scale for the 23505 message; every NaN is the one
``numeric.NAN`` (NaN equals itself in PostgreSQL; a dict matches it by identity). Keys
reach the index through ``key_of``, ``held`` (bulk keys) or ``get`` (probes), which
convert them; a key already converted is left as it is.

A set-based DELETE of many rows does not copy the base to drop their keys (a 5M-key
dict copy alone is ~0.2 s): it flags the rows' rowids in ``gone``, a numpy bool array
indexed by rowid, and an entry pointing at a flagged rowid reads as absent. Rowids are
never reused (UPDATE and merge write new rows under new rowids), so a flag never
turns stale and versions may carry it on; the next fold drops those entries.
"""
from __future__ import annotations

import bisect
import threading
from itertools import chain
from math import isqrt
from operator import itemgetter
from typing import Iterable

from ..lazy_import import numpy as np
from . import index_merge as _jobs
from .pmap import EMPTY, PMap
from .. import infinity, numeric

TOMBSTONE = -1
_EMPTY_MAP = EMPTY
_MIN_FOLD = 4096


def with_null_keys(key: object) -> object:
    """``key`` with each NULL part held as ``NULL_KEY`` (NULLS NOT DISTINCT)."""
    if key is None:
        return NULL_KEY
    if type(key) is tuple and None in key:
        return tuple(NULL_KEY if v is None else v for v in key)
    return key


def storable(key: object) -> bool:
    """False for a key with a NULL (or NULL part): unique indexes never store those."""
    return key is not None and not (type(key) is tuple and None in key)


def numeric_parts(schema, columns: tuple[int, ...]) -> tuple[int, ...]:
    """The positions within a key over ``columns`` of ``schema`` that are NUMERIC."""
    return tuple(i for i, c in enumerate(columns) if schema.columns[c].type == numeric.NUMERIC)


def _numeric_key(value: object) -> object:
    """A NUMERIC key part as the index holds it (see the module docstring)."""
    return value if value is None or value is NULL_KEY else numeric.key_value(value)


class UniqueIndex:
    __slots__ = ("name", "columns", "base", "delta", "_job", "gone", "decimal_parts")
    keyed = False    # True: the key is computed from the row (KeyedUniqueIndex)
    nulls_equal = False   # True: UNIQUE NULLS NOT DISTINCT (NullsEqualUniqueIndex)

    def __init__(self, name: str, columns: tuple[int, ...], base: dict | None = None,
                 delta: PMap = _EMPTY_MAP, gone=None,
                 decimal_parts: tuple[int, ...] = ()) -> None:
        self.name = name
        self.columns = columns
        self.base = base if base is not None else {}
        self.delta = delta
        self._job = None    # a fold of a large base under way (index_merge.py), or None
        self.gone = gone    # numpy bool by rowid: entries at flagged rowids are absent
        self.decimal_parts = decimal_parts   # key positions held as Decimals (numeric_parts)

    # -- keys --------------------------------------------------------------------
    def held_key(self, key: object) -> object:
        """``key`` (a value, or a tuple of several) as this index holds it."""
        parts = self.decimal_parts
        if not parts:
            return key
        if type(key) is not tuple:
            return _numeric_key(key)
        key = list(key)
        for i in parts:
            key[i] = _numeric_key(key[i])
        return tuple(key)

    def held(self, keys: list) -> list:
        """``held_key`` of each of ``keys`` (a list made from rows or Arrow columns)."""
        return list(map(self.held_key, keys)) if self.decimal_parts else keys

    # -- reads -------------------------------------------------------------------
    def get(self, key: object) -> int | None:
        if self.decimal_parts:
            key = self.held_key(key)
        rowid = self.delta.get(key)
        if rowid is None:
            rowid = self.base.get(key)
        elif rowid == TOMBSTONE:
            return None
        gone = self.gone
        if gone is not None and rowid is not None and rowid < len(gone) and gone[rowid]:
            return None
        return rowid

    def is_gone(self, rowid: int) -> bool:
        """True when ``rowid`` was removed by a set-based delete (see the module doc)."""
        gone = self.gone
        return gone is not None and rowid < len(gone) and bool(gone[rowid])

    def without_rowids(self, rowids) -> "UniqueIndex":
        """This index without the entries of ``rowids`` (a numpy int64 array), by
        flagging them in ``gone`` instead of copying the base."""
        import numpy as np
        size = int(rowids.max()) + 1 if len(rowids) else 0
        old = self.gone
        gone = np.zeros(max(size, len(old) if old is not None else 0), bool)
        if old is not None:
            gone[:len(old)] = old
        gone[rowids] = True
        new = self._like(self.base, self.delta, gone)
        new._job = self._job
        return new

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def key_of(self, row: tuple) -> object:
        cols = self.columns
        if len(cols) == 1:
            key = row[cols[0]]
        else:
            key = tuple(row[c] for c in cols)
        return self.held_key(key) if self.decimal_parts else key

    def stored_key(self, row: tuple) -> object:
        """The row's key as the index holds it, or None when a part is NULL (such keys
        are never stored: NULLs never collide under SQL UNIQUE)."""
        key = self.key_of(row)
        return key if storable(key) else None

    def items(self) -> Iterable[tuple[object, int]]:
        is_gone = self.is_gone
        for key, rowid in self.base.items():
            if key not in self.delta and not is_gone(rowid):
                yield key, rowid
        for key, rowid in self.delta.items():
            if rowid != TOMBSTONE and not is_gone(rowid):
                yield key, rowid

    # -- writes (return new versions) ----------------------------------------------
    def with_changes(self, added: dict, removed: Iterable[object]) -> "UniqueIndex":
        if self.decimal_parts:
            added = {self.held_key(k): v for k, v in added.items()}
            removed = self.held(list(removed))
        if self._job is not None:
            return self._with_job(added, list(removed))
        if not added and isinstance(removed, list) and len(removed) == 1:
            # The point-delete case: one persistent-map set, no mutation context (~5x cheaper).
            return self._with_delta(self.delta.set(removed[0], TOMBSTONE))
        if not removed and len(added) == 1:
            (key, rowid), = added.items()
            return self._with_delta(self.delta.set(key, rowid))
        return self._with_delta(_applied(self.delta, added, removed))

    def _with_delta(self, delta: PMap) -> "UniqueIndex":
        new = self._like(self.base, delta, self.gone)
        n = len(delta)
        if n <= _MIN_FOLD:
            return new
        size = len(self.base)
        if size < _jobs.INCREMENTAL:
            return new.folded() if n > size // 8 else new
        if n > size // 32:
            # A big base is copied into the new dict a slice per write (index_merge.py),
            # not in one statement (tens of ms at 1M keys); being spread out, the fold
            # can come sooner, which keeps the delta (a HAMT the collector walks) small.
            new._job = _jobs.HashFoldJob.start(new)
        return new

    def _with_job(self, added: dict, removed: list) -> "UniqueIndex":
        """A write while a fold job runs: the delta as always, the job told what changed
        since it started, and one step further."""
        job = self._job
        new = self._like(self.base, _applied(self.delta, added, removed), self.gone)
        new._job = job.recorded(_applied(job.since, added, removed))
        return new._job.advanced(new)

    def folded(self) -> "UniqueIndex":
        """Delta folded into a new plain dict base, in one go (bulk statements, small
        indexes; a large index's point writes fold incrementally, index_merge.py)."""
        base = dict(self.base) if type(self.base) is dict else self.base.to_dict()
        delta = self.delta
        if TOMBSTONE in delta.values():
            for key, rowid in delta.items():
                if rowid == TOMBSTONE:
                    base.pop(key, None)
                else:
                    base[key] = rowid
        else:       # inserts only (the common case): one C-level update, no Python loop
            base.update(delta.items())
        if self.gone is not None:
            drop_gone(base, self.gone)
        return self._like(base)

    def _like(self, base: dict, delta: PMap = _EMPTY_MAP, gone=None) -> "UniqueIndex":
        """A new version of this index (same name, key and class) over these entries."""
        return UniqueIndex(self.name, self.columns, base, delta, gone, self.decimal_parts)

    def rebuilt(self, keys: list, rowids: list) -> tuple["UniqueIndex", object | None]:
        """This index over just these keys: (index, first duplicate key or None)."""
        index, dup = UniqueIndex.build(self.name, self.columns, self.held(keys), rowids)
        return self._like(index.base), dup

    @classmethod
    def build(cls, name: str, columns: tuple[int, ...], keys: list, rowids: list,
              decimal_parts: tuple[int, ...] = ()) -> tuple["UniqueIndex", object | None]:
        """Build from parallel key/rowid lists; returns (index, first duplicate key or None).
        ``decimal_parts``: the key positions held as Decimals (the keys are converted here)."""
        if decimal_parts or cls.nulls_equal:
            keys = cls("", columns, decimal_parts=decimal_parts).held(keys)
        base: dict = {}
        dup = None
        for key, rowid in zip(keys, rowids):
            if not storable(key):
                continue
            if key in base and dup is None:
                dup = key
            base[key] = rowid
        return cls(name, columns, base, decimal_parts=decimal_parts), dup


class NullsEqualUniqueIndex(UniqueIndex):
    """UNIQUE NULLS NOT DISTINCT over plain columns: a NULL part is held as ``NULL_KEY``
    (see the module docstring); everything else is UniqueIndex's."""
    __slots__ = ()
    nulls_equal = True

    def key_of(self, row: tuple) -> object:
        return with_null_keys(UniqueIndex.key_of(self, row))

    def held(self, keys: list) -> list:
        return list(map(with_null_keys, UniqueIndex.held(self, keys)))

    def _like(self, base: dict, delta: PMap = _EMPTY_MAP, gone=None) -> "UniqueIndex":
        return NullsEqualUniqueIndex(self.name, self.columns, base, delta, gone,
                                     self.decimal_parts)


def unique_index(name: str, columns: tuple[int, ...], nulls_equal: bool = False,
                 **kwargs) -> UniqueIndex:
    """An empty (or given) hash index of the class a definition asks for."""
    return (NullsEqualUniqueIndex if nulls_equal else UniqueIndex)(name, columns, **kwargs)


class KeyedUniqueIndex(UniqueIndex):
    """A unique index whose key is computed from the row (an index on expressions, or a
    partial one): ``keyer(row)`` is the key, or None for a row the index leaves out (a
    partial index's predicate is not true for it), and ``keyer.keys(table)`` the keys of
    an Arrow table's rows. ``columns`` lists the columns the key and predicate read."""
    __slots__ = ("keyer",)
    keyed = True

    def __init__(self, name: str, columns: tuple[int, ...], keyer, base: dict | None = None,
                 delta: PMap = _EMPTY_MAP, gone=None) -> None:
        # the keyer gives NUMERIC parts as numbers already; a probe is converted by get
        super().__init__(name, columns, base, delta, gone,
                         getattr(keyer, "decimal_parts", ()))
        self.keyer = keyer

    def key_of(self, row: tuple) -> object:
        return self.keyer(row)

    def _like(self, base: dict, delta: PMap = _EMPTY_MAP, gone=None) -> "UniqueIndex":
        return KeyedUniqueIndex(self.name, self.columns, self.keyer, base, delta, gone)

    def with_keyer(self, columns: tuple[int, ...], keyer) -> "KeyedUniqueIndex":
        """The same entries under a changed schema (DROP COLUMN moved the positions)."""
        new = KeyedUniqueIndex(self.name, columns, keyer, self.base, self.delta, self.gone)
        new._job = self._job
        return new


def drop_gone(base: dict, gone) -> None:
    """Remove from ``base`` (ours to change) the entries whose rowid ``gone`` flags; the
    rowids are read into numpy and the keys popped with the loop in C."""
    import numpy as np
    from collections import deque
    from itertools import compress, repeat
    if not base:
        return
    rowids = np.fromiter(base.values(), np.int64, len(base))
    inside = rowids < len(gone)
    flagged = np.zeros(len(rowids), bool)
    flagged[inside] = gone[rowids[inside]]
    n = int(flagged.sum())
    if n:
        keys = list(compress(base.keys(), flagged.tolist()))
        deque(map(base.pop, keys, repeat(None, n)), maxlen=0)


def _applied(delta: PMap, added: dict, removed: Iterable[object]) -> PMap:
    """``delta`` with ``removed`` keys tombstoned, then ``added`` keys set."""
    if type(removed) is list and len(removed) + len(added) == 1:   # a point write: one set
        if removed:
            return delta.set(removed[0], TOMBSTONE)
        (key, rowid), = added.items()
        return delta.set(key, rowid)
    with delta.mutate() as m:
        for key in removed:
            m[key] = TOMBSTONE
        for key, rowid in added.items():
            m[key] = rowid
        return m.finish()


# ---- ordered secondary indexes ------------------------------------------------------------

class _NullKey:
    """NULL inside an index key: sorts after every value (PostgreSQL's NULLS LAST)."""
    __slots__ = ()

    def __lt__(self, other):
        return other is TOP_KEY

    def __gt__(self, other):
        return other is not self and other is not TOP_KEY

    def __le__(self, other):
        return other is self or other is TOP_KEY

    def __ge__(self, other):
        return other is not TOP_KEY

    def __eq__(self, other):
        return other is self

    def __hash__(self):
        return 0x5EED

    def __repr__(self):
        return "NULL"

    def __reduce__(self):
        return "NULL_KEY"      # one object, also after a pickle (a cluster's shards)


NULL_KEY = _NullKey()


class _TopKey:
    """Sorts after everything, NULL_KEY included: the open end of a prefix range."""
    __slots__ = ()

    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return other is not self

    def __le__(self, other):
        return other is self

    def __ge__(self, other):
        return True


TOP_KEY = _TopKey()
# The delta is merged into the base past max(_MIN_MERGE, _merge_at(base size)) entries,
# or past max(_MIN_MERGE, base size / _DEAD_SHARE) tombstones. A merge rewrites the whole
# base (2-4 ms per 100k entries), so the threshold grows with the base to keep its cost
# per write constant; tombstones stay bounded because reads filter the base through them.
_MIN_MERGE = 1024
_MERGE_SHARE = 16
# Tombstones may reach base size / _DEAD_SHARE before a merge: a fixed bound made every
# 1,024 key changes rewrite the whole base (16 ms and more at 1M entries: issue 10's
# stalls), while a range read over more than 128 base entries filters through them all.
# The same share bounds a large base's delta: a merge job starts by sorting the delta and
# the tombstones in one statement (8k entries at 1M: a few ms).
_DEAD_SHARE = 128


def _merge_at(base: int, dtype=None) -> int:
    """Delta size past which a base of ``base`` entries merges it. A large base merges
    incrementally (index_merge.py), and the job's first step sorts the whole delta in
    one statement: a smaller share keeps that step short (at 1M entries: ~1-2 ms instead
    of ~8), for one pass over the base every 8k changes instead of every 64k."""
    return base // _MERGE_SHARE if base < _jobs.incremental_from(dtype) else \
        base // _DEAD_SHARE


# Most entries in one delta leaf, for deltas up to _LEAF² entries; beyond, √(delta size),
# which keeps both the leaf and the tuple of leaves that a write copies short. 48 keeps
# a leaf under pymalloc's 512-byte small-object limit.
_LEAF = 48
_key = itemgetter(0)
_new_ordered = object.__new__


def _dtype_for(sql_type: str):
    # numpy's names, not its types: an index is made without importing numpy
    if sql_type == "INTEGER":
        return "int64"
    if sql_type == "FLOAT":
        return "float64"
    return object


class OrderedIndex:
    """An LSM-style ordered index: sorted numpy base + small sorted persistent delta.

    ENGINE-MEASUREMENTS §5 option B. The immutable base is two parallel numpy
    arrays, ``keys`` (sorted) and ``rowids``; a range is two ``searchsorted``
    calls and a slice, and the base is invisible to the garbage collector. The
    delta holds the ``(key, rowid)`` pairs written since the base was built, in
    sorted order, as a two-level persistent B+tree: ``leaves`` is a tuple of
    sorted tuples of at most max(``_LEAF``, √size) pairs (their concatenation is
    the sorted delta) and ``lasts`` the last pair of each leaf, which a bisect
    uses to pick the leaf. A write copies one leaf and the tuple of leaves (a few
    dozen pointers each) instead of the whole delta, so its cost hardly grows with
    the delta; versions share every leaf they did not touch. Plain inserts (no
    removal in the same call) are not even placed: they are appended to a
    pending run, a list shared by versions under the same append-only rule as
    the table's tail (a version owns the prefix ``items[:n]`` and appends in
    place only when it is the longest owner, else copies its prefix), and sorted
    into the leaves by the first read of that version (one by one when few,
    else by one sort and re-chunking), the result cached in the version — it is
    the same value, so sharing stays safe; the delta state is one tuple
    attribute, replaced whole, so a concurrent reader sees either the old or the
    settled state. (A list, not a chain of cons cells: the garbage collector
    would traverse such a chain on every collection.) ``dead`` holds rowids of base
    entries deleted since. Past a threshold that grows with the base (see
    ``_MERGE_SHARE``), delta and tombstones are merged into a new base with
    ``searchsorted`` and one placement pass (O(n), the base is not re-sorted).

    Keys: single-column indexes store the value (numpy int64/float64 for
    INTEGER/FLOAT columns, object otherwise); NULL values live in
    ``null_rowids`` (base) or as ``NULL_KEY`` entries in the delta. Composite
    indexes store tuples with ``NULL_KEY`` for NULL parts, in an object array,
    so a prefix of the columns can be searched. A simple approach which doesn't
    give NaN PostgreSQL's "above everything" order; float ranges over NaN rows
    follow numpy's order (NaN last), and the scan re-checks the predicate.
    """

    __slots__ = ("name", "columns", "dtype", "_keys", "_rowids", "_null_rowids", "dead",
                 "_ndv", "_d", "_job", "_filtered")

    def __init__(self, name, columns, dtype, keys, rowids, null_rowids, leaves=(),
                 dead=_EMPTY_MAP, lasts=None, size=None):
        self.name = name
        self.columns = columns
        self.dtype = dtype
        self._keys = keys
        self._rowids = rowids
        self._null_rowids = null_rowids
        if lasts is None:
            lasts = tuple(leaf[-1] for leaf in leaves)
        if size is None:
            size = sum(map(len, leaves))
        # The delta: (leaves, lasts, placed entries, pending run or None, pending count).
        # leaves: (sorted ((key, rowid), ...), ...), none empty; this version's pending
        # pairs are run.items[:count], in arrival order.
        self._d = (leaves, lasts, size, None, 0)
        self.dead = dead
        self._ndv = None
        self._job = None     # an incremental merge under way (index_merge.py), or None
        self._filtered = None   # a base still to be filtered (``without_rowids``), or None

    def _derive(self, d: tuple, dead) -> "OrderedIndex":
        """Same base (and its cached distinct count), another delta; set slot by slot,
        cheaper than __init__'s defaults."""
        new = _new_ordered(OrderedIndex)
        new.name, new.columns, new.dtype = self.name, self.columns, self.dtype
        new._keys, new._rowids, new._null_rowids = self._keys, self._rowids, self._null_rowids
        new.dead, new._ndv, new._d, new._job = dead, self._ndv, d, self._job
        new._filtered = self._filtered
        return new

    # The base arrays. A new index's are None until first read, so creating a table and
    # writing a few rows (into the delta) never imports numpy: start-up (issue 11). So
    # are those of a base a bulk DELETE filtered (``without_rowids``) until first read.
    @property
    def keys(self):
        keys = self._keys
        if keys is None:
            self._fill_base()
            keys = self._keys
        return keys

    @property
    def rowids(self):
        rowids = self._rowids
        if rowids is None:
            self._fill_base()
            rowids = self._rowids
        return rowids

    @property
    def null_rowids(self):
        nulls = self._null_rowids
        if nulls is None:
            self._fill_base()
            nulls = self._null_rowids
        return nulls

    @property
    def base_size(self) -> int:
        """Keys in the base (without making an empty base or filtering one)."""
        if self._keys is None:
            return self._filtered.sizes()[0] if self._filtered is not None else 0
        return len(self._keys)

    @property
    def base_nulls(self) -> int:
        """NULL entries in the base (without making an empty base or filtering one)."""
        if self._null_rowids is None:
            return self._filtered.sizes()[1] if self._filtered is not None else 0
        return len(self._null_rowids)

    def _fill_base(self) -> None:
        if self._filtered is not None:
            # the three are set together; a reader racing this one computes the same
            self._keys, self._rowids, self._null_rowids = self._filtered.result()
            return
        self._keys = np.empty(0, self.dtype)
        self._rowids = np.empty(0, np.int64)
        self._null_rowids = np.empty(0, np.int64)

    def without_rowids(self, gone, limit: int) -> "OrderedIndex":
        """This index without the entries of rowids ``gone`` (all below ``limit``): the
        set-based DELETE's upkeep. Copying the surviving base (a gather of every key and
        rowid, most of a large DELETE's time) waits for the first read of the base, as
        a B-tree leaves its dead entries to VACUUM; sizes and statistics for planning
        come without it. Two DELETEs before that read share one filter."""
        earlier = self._filtered
        source, before = (earlier.source, earlier.live) if earlier is not None else \
            (None, None)
        live = np.ones(limit, bool)
        if not self.size and not len(self.dead) and self._keys is None and \
                source is not None and before is not None:
            live[:len(before)] = before         # still unread: filter the same base
        else:
            source = self.merged() if self.size or len(self.dead) or earlier is not None \
                else self
        live[gone] = False
        out = OrderedIndex(self.name, self.columns, self.dtype, None, None, None)
        out._filtered = _FilteredBase(source, live)
        return out

    def _settled(self) -> tuple:
        """The delta state with every pending insert placed (computed once per version)."""
        d = self._d
        if d[3] is None:
            return d
        d = _settle(d)
        self._d = d
        return d

    @property
    def leaves(self) -> tuple:
        return self._settled()[0]

    @property
    def lasts(self) -> tuple:
        return self._settled()[1]

    @property
    def size(self) -> int:
        """Entries in the delta, pending ones included."""
        d = self._d
        return d[2] + d[4]

    @property
    def delta(self) -> tuple:
        """The delta's (key, rowid) pairs in order, as one tuple (O(delta); for inspection)."""
        return tuple(chain.from_iterable(self._settled()[0]))

    # -- construction -----------------------------------------------------------------
    @classmethod
    def empty(cls, name: str, columns: tuple[int, ...], sql_types: list[str]) -> "OrderedIndex":
        dtype = _dtype_for(sql_types[0]) if len(columns) == 1 else object
        return cls(name, columns, dtype, None, None, None)

    @classmethod
    def build(cls, name: str, columns: tuple[int, ...], sql_types: list[str], arrays: list,
              rowids) -> "OrderedIndex":
        """From Arrow/py columns (one per index column) and parallel rowids."""
        out = cls.empty(name, columns, sql_types)
        return out.with_entries(arrays, rowids)

    def with_entries(self, arrays: list, rowids) -> "OrderedIndex":
        import numpy as np
        import pyarrow as pa
        rowids = np.asarray(rowids, dtype=np.int64)
        if len(self.columns) == 1:
            col = arrays[0]
            if isinstance(col, (pa.Array, pa.ChunkedArray)):
                valid = np.asarray(col.is_valid()) if col.null_count else None
                if self.dtype is object:
                    values = np.empty(len(col), object)
                    values[:] = infinity.pylist(col)
                else:
                    values = np.asarray(col.fill_null(0) if col.null_count else col,
                                        dtype=self.dtype)
            else:
                pylist = list(col)
                valid = np.fromiter((v is not None for v in pylist), bool, len(pylist))
                valid = None if valid.all() else valid
                values = np.empty(len(pylist), object) if self.dtype is object else None
                if values is None:
                    values = np.asarray([0 if v is None else v for v in pylist], self.dtype)
                else:
                    values[:] = pylist
            nulls = rowids if valid is None else rowids[~valid]
            if valid is None:
                nulls = nulls[:0]
            else:
                values, rowids = values[valid], rowids[valid]
        else:
            cols = [infinity.pylist(a) if isinstance(a, (pa.Array, pa.ChunkedArray)) else list(a)
                    for a in arrays]
            values = np.empty(len(rowids), object)
            values[:] = [tuple(NULL_KEY if v is None else v for v in key) for key in zip(*cols)]
            nulls = rowids[:0]
        order = np.argsort(values, kind="stable")
        values, rowids = values[order], rowids[order]
        keys, ids = _merge_sorted(self._live_base(), (values, rowids))
        null_rowids = np.sort(np.concatenate([self._live_nulls(), nulls]))
        new = OrderedIndex(self.name, self.columns, self.dtype, keys, ids, null_rowids)
        new._d = self._d
        return new

    def _live_base(self):
        if not len(self.dead):
            return self.keys, self.rowids
        keep = _alive(self.rowids, self.dead)
        return self.keys[keep], self.rowids[keep]

    def _live_nulls(self):
        if not len(self.dead) or not len(self.null_rowids):
            return self.null_rowids
        return self.null_rowids[_alive(self.null_rowids, self.dead)]

    # -- keys ---------------------------------------------------------------------------
    def key_of(self, row: tuple):
        cols = self.columns
        if len(cols) == 1:
            v = row[cols[0]]
            return NULL_KEY if v is None else v
        return tuple(NULL_KEY if row[c] is None else row[c] for c in cols)

    def __len__(self) -> int:
        d = self._d
        return len(self.keys) + len(self.null_rowids) + d[2] + d[4] - len(self.dead)

    # -- writes (return new versions) ---------------------------------------------------
    def with_changes(self, added: list, removed: list) -> "OrderedIndex":
        """``added``/``removed``: lists of (key, rowid) pairs. A removed base entry becomes a
        tombstone; in the delta only the leaves that change are copied, and plain inserts
        are only queued (see the class docstring)."""
        if not removed:
            leaves, lasts, size, run, n = self._d
            if run is None:
                run = _Run([])
            with run.lock:
                if len(run.items) == n:
                    run.items.extend(added)
                else:   # another version appended past our prefix: take a private copy
                    run = _Run(run.items[:n] + list(added))
            n += len(added)
            new = self._derive((leaves, lasts, size, run, n), self.dead)
            if new._job is not None:
                return new._advanced(new._job.recorded(added, (), ()))
            if size + n > _MIN_MERGE and size + n > _merge_at(len(self.keys), self.dtype):
                return new._merge_started()
            return new
        job = self._job
        if job is None and not added and len(removed) == 1:
            return self.without_one(*removed[0])
        leaves, lasts, size, _, _ = self._settled()
        dead = self.dead
        from_delta, tombstoned = ([], []) if job is not None else (None, None)
        for entry in removed:
            found = _unplace(leaves, lasts, entry)
            if found is not None:
                leaves, lasts = found
                size -= 1
                if job is not None:
                    from_delta.append(entry)
                continue
            dead = dead.set(entry[1], True)
            if job is not None:
                tombstoned.append(entry[1])
        for entry in added:
            leaves, lasts = _place(leaves, lasts, size, entry)
            size += 1
        new = self._derive((leaves, lasts, size, None, 0), dead)
        if job is not None:
            return new._advanced(job.recorded(added, from_delta, tombstoned))
        if (len(dead) > _MIN_MERGE and len(dead) > len(self.keys) // _DEAD_SHARE) or (
                size > _MIN_MERGE and size > _merge_at(len(self.keys), self.dtype)):
            return new._merge_started()
        return new

    def without_one(self, key, rowid: int, shared: dict | None = None) -> "OrderedIndex":
        """``with_changes((), [(key, rowid)])``: a point DELETE removes one pair from each
        ordered index, and this skips the general loop's lists and per-entry bookkeeping
        (the same new version, merge rule included). A running merge job records the
        change, so that case goes the general way.

        ``shared``: for the ordered indexes of one table losing the same ``rowid``, a
        dict the caller passes to each (``id(old tombstones) -> new tombstones``). Point
        deletes keep the indexes' tombstone maps one object (they start as the shared
        empty map after a build or merge), so the second index reuses the first's new
        map instead of making an equal one (a persistent-map write each)."""
        if self._job is not None:
            return self.with_changes((), [(key, rowid)])
        entry = (key, rowid)
        leaves, lasts, size, _, _ = self._settled()
        dead = self.dead
        found = _unplace(leaves, lasts, entry)
        if found is not None:
            leaves, lasts = found
            size -= 1
        else:
            dead = _tombstoned(dead, rowid, shared)
        new = self._derive((leaves, lasts, size, None, 0), dead)
        n_dead = len(dead)
        if n_dead > _MIN_MERGE or size > _MIN_MERGE:
            base = len(self.keys)
            if (n_dead > _MIN_MERGE and n_dead > base // _DEAD_SHARE) or (
                    size > _MIN_MERGE and size > _merge_at(base, self.dtype)):
                return new._merge_started()
        return new

    def _merge_started(self) -> "OrderedIndex":
        """Fold delta and tombstones into the base: at once for a small base, else as an
        incremental job that each following write advances (index_merge.py)."""
        if len(self.keys) < _jobs.incremental_from(self.dtype):
            return self.merged()
        self._job = _jobs.MergeJob.start(self)   # self is the new version: not shared yet
        return self

    def _advanced(self, job) -> "OrderedIndex":
        """This new version with the running merge job recorded and one step further."""
        job = job.step(self)
        if job.done(self):
            return job.finish(self)
        self._job = job
        return self

    def merged(self) -> "OrderedIndex":
        """Fold delta and tombstones into a new base."""
        import numpy as np
        values, ids, nulls = self.delta_arrays()
        keys, rowids = _merge_sorted(self._live_base(), (values, ids))
        null_rowids = np.sort(np.concatenate([self._live_nulls(), nulls]))
        return OrderedIndex(self.name, self.columns, self.dtype, keys, rowids, null_rowids)

    def delta_arrays(self) -> tuple:
        """The delta as sorted (keys, rowids) arrays, plus the rowids of its NULL entries."""
        import numpy as np
        leaves, _, _, pending, n = self._d
        pairs = list(chain.from_iterable(leaves))
        if pending is not None:          # unsorted: sorted below, with the pairs
            pairs.extend(pending.items[:n])
            if self.dtype is object:
                pairs.sort()
        values = None
        if pairs and self.dtype is not object:
            # C loops; a NULL_KEY makes the conversion fail. Not zip(*pairs): it holds an
            # iterator per pair, which a young collection mid-way would promote (issue 10)
            ks, rs = list(map(itemgetter(0), pairs)), list(map(itemgetter(1), pairs))
            try:
                values, ids, nulls = np.array(ks, self.dtype), np.array(rs, np.int64), []
            except (TypeError, ValueError, OverflowError):
                values = None
        if values is None:
            nulls = [r for k, r in pairs if k is NULL_KEY]
            entries = [(k, r) for k, r in pairs if k is not NULL_KEY] if nulls else pairs
            values = np.empty(len(entries), object) if self.dtype is object else \
                np.fromiter((k for k, _ in entries), self.dtype, len(entries))
            if self.dtype is object:
                values[:] = [k for k, _ in entries]
            ids = np.fromiter((r for _, r in entries), np.int64, len(entries))
        if pending is not None and self.dtype is not object:
            order = np.lexsort((ids, values))   # by key, then rowid: the leaves' order
            values, ids = values[order], ids[order]
        return values, ids, np.array(nulls, np.int64)

    def with_columns(self, columns: tuple[int, ...]) -> "OrderedIndex":
        new = self._derive(self._d, self.dead)
        new.columns = columns
        return new

    # -- reads ------------------------------------------------------------------------
    def range(self, low=None, high=None, low_inc: bool = True, high_inc: bool = True):
        """Rowids with low <(=) key <(=) high, in key order; None bounds are open (NULLs excluded)."""
        import numpy as np
        keys = self.keys
        if len(keys):
            lo = 0 if low is None else _search(keys, low, "left" if low_inc else "right")
            hi = len(keys) if high is None else _search(keys, high,
                                                        "right" if high_inc else "left")
            base_keys, base_ids = keys[lo:hi], self.rowids[lo:hi]
        else:
            base_keys, base_ids = keys, self.rowids
        leaves, lasts = self._settled()[:2]
        if leaves:
            lo = (0, 0) if low is None else _bound(leaves, lasts, low, not low_inc)
            hi = _bound(leaves, lasts, NULL_KEY if high is None else high,
                        high is not None and high_inc)
            part = _between(leaves, lo, hi)
        else:
            part = ()
        if len(self.dead):
            dead = self.dead
            if len(base_ids) > 64:
                keep = ~np.isin(base_ids, np.fromiter(dead.keys(), np.int64, len(dead)))
                base_keys, base_ids = base_keys[keep], base_ids[keep]
            else:
                keep = [i for i, r in enumerate(base_ids.tolist()) if r not in dead]
                base_keys, base_ids = base_keys[keep], base_ids[keep]
        if not part:
            return base_ids
        if not len(base_ids):
            return np.fromiter((r for _, r in part), np.int64, len(part))
        n = len(base_ids) + len(part)
        if n <= 64 and self.dtype == "int64":
            # A short range (a point lookup, a small BETWEEN): a stable sort of the pairs
            # in Python costs a few µs, numpy's insert-based merge ~20. Integer keys only:
            # they order totally, so this gives exactly the merge's order (base first on
            # ties).
            pairs = sorted(chain(zip(base_keys.tolist(), base_ids.tolist()), part), key=_key)
            return np.fromiter((r for _, r in pairs), np.int64, n)
        pk = np.empty(len(part), object) if self.dtype is object else \
            np.fromiter((k for k, _ in part), self.dtype, len(part))
        if self.dtype is object:
            pk[:] = [k for k, _ in part]
        pids = np.fromiter((r for _, r in part), np.int64, len(part))
        return _merge_sorted((base_keys, base_ids), (pk, pids))[1]

    def equal(self, key):
        """Rowids whose key equals ``key`` (a value, or a tuple prefix for composites)."""
        if key is None:
            return self.nulls()
        if len(self.columns) > 1:
            key = tuple(key) if isinstance(key, tuple) else (key,)
            if len(key) < len(self.columns):
                return self.range(key, key + (TOP_KEY,), True, False)
        return self.range(key, key, True, True)

    def nulls(self):
        """Rowids whose (single-column) key is NULL."""
        import numpy as np
        ids = self._live_nulls()
        # NULL_KEY sorts after every value: the NULL entries are the delta's tail.
        leaves, lasts = self._settled()[:2]
        extra = [r for k, r in _between(leaves, _bound(leaves, lasts, NULL_KEY, False),
                                        (len(leaves), 0)) if k is NULL_KEY]
        if extra:
            ids = np.sort(np.concatenate([ids, np.array(extra, np.int64)]))
        return ids

    def _unfiltered(self) -> "OrderedIndex | None":
        """The base before a bulk DELETE still to be filtered from it, else None."""
        f = self._filtered
        if self._keys is None and f is not None:
            if f.pending:
                return f.source
            self._fill_base()
        return None

    def distinct_keys(self) -> int:
        """Distinct first-column values in the base (cached: the base never changes)."""
        source = self._unfiltered()
        if self._ndv is None and source is not None:
            return source.distinct_keys()      # an estimate: at most that many
        if self._ndv is None:
            keys = self._keys
            if keys is None or not len(keys):
                self._ndv = 0
            elif len(self.columns) == 1 and keys.dtype != object:
                self._ndv = int(np.count_nonzero(keys[1:] != keys[:-1])) + 1
            else:
                first = [k[0] for k in keys.tolist()] if len(self.columns) > 1 else keys.tolist()
                self._ndv = len(set(first))
        return max(self._ndv, 1)

    def stats(self) -> tuple[int, object, object]:
        """(non-null entries, min key, max key) — cheap, from the base and delta ends."""
        real = [k for k, _ in self.delta if k is not NULL_KEY]
        source = self._unfiltered()
        if source is not None:
            # a base a bulk DELETE has not filtered yet: its ends may be deleted rows'
            # keys, as with tombstones (these only feed estimates)
            keys, n = source.keys, self._filtered.sizes()[0]
        else:
            keys = self._keys if self._keys is not None else ()
            n = len(keys)
        n += len(real) - len(self.dead)
        lo = [keys[0]] if len(keys) else []
        hi = [keys[-1]] if len(keys) else []
        if real:
            lo.append(real[0])
            hi.append(real[-1])
        return max(n, 0), (min(lo) if lo else None), (max(hi) if hi else None)


class _FilteredBase:
    """A base filtered by a bulk DELETE, computed once for every version sharing it."""

    __slots__ = ("source", "live", "_result", "_sizes")

    def __init__(self, source: OrderedIndex, live) -> None:
        self.source, self.live = source, live
        self._result = self._sizes = None

    @property
    def pending(self) -> bool:
        return self._result is None

    def result(self) -> tuple:
        out = self._result
        if out is None:
            src, live = self.source, self.live
            keep = np.flatnonzero(live[src.rowids])    # positions: two gathers, not masks
            out = (src.keys[keep], src.rowids[keep], src.null_rowids[live[src.null_rowids]])
            self.sizes()
            self._result = out
            self.source = self.live = None              # the old base can go
        return out

    def sizes(self) -> tuple[int, int]:
        """(keys, NULL entries) that survive, without filtering the arrays."""
        out = self._sizes
        if out is None:
            if self._result is not None:
                out = (len(self._result[0]), len(self._result[2]))
            else:
                src, live = self.source, self.live
                out = (int(np.count_nonzero(live[src.rowids])),
                       int(np.count_nonzero(live[src.null_rowids])))
            self._sizes = out
        return out


def _alive(rowids, dead: PMap):
    """Flags over ``rowids`` (a numpy int64 array): True where the rowid is not in
    ``dead``. Every merge of an ordered index filters its whole base so: a flag array
    indexed by rowid is ~9x faster than ``np.isin`` at 100k rowids and 1k tombstones (a
    point DELETE pays for one merge per ~1k). Rowids are dense from 0, so the flag array
    is about the base's size; ``np.isin`` stays for anything else (negative or sparse)."""
    import numpy as np
    ids = np.fromiter(dead.keys(), np.int64, len(dead))
    if not len(rowids) or not len(ids):
        return np.ones(len(rowids), bool)
    lo = min(int(rowids.min()), int(ids.min()))
    hi = max(int(rowids.max()), int(ids.max()))
    if lo < 0 or hi > 4 * len(rowids) + 65536:
        return ~np.isin(rowids, ids)
    flags = np.zeros(hi + 1, bool)
    flags[ids] = True
    return ~flags[rowids]


def _unplace(leaves: tuple, lasts: tuple, entry: tuple) -> tuple | None:
    """(leaves, lasts) without ``entry`` when the delta holds it, else None (the pair
    is in the base: the caller tombstones its rowid)."""
    # The leaf holding the first pair >= entry: the first whose last pair is >= it.
    j = bisect.bisect_left(lasts, entry) if leaves else 0
    if j >= len(leaves):
        return None
    leaf = leaves[j]
    i = bisect.bisect_left(leaf, entry)
    if not (i < len(leaf) and leaf[i][1] == entry[1] and leaf[i][0] == entry[0]):
        return None
    leaf = leaf[:i] + leaf[i + 1:]
    if not leaf:
        return leaves[:j] + leaves[j + 1:], lasts[:j] + lasts[j + 1:]
    leaves = leaves[:j] + (leaf,) + leaves[j + 1:]
    if i == len(leaf):
        lasts = lasts[:j] + (leaf[-1],) + lasts[j + 1:]
    return leaves, lasts


def _tombstoned(dead: PMap, rowid: int, shared: dict | None) -> PMap:
    """``dead`` with ``rowid`` set; see OrderedIndex.without_one for ``shared``. Keyed by
    identity: the old maps stay referenced by their indexes while the caller runs, so an
    id is not reused, and equal inputs (one map, one rowid) give equal outputs."""
    if shared is None:
        return dead.set(rowid, True)
    out = shared.get(id(dead))
    if out is None:
        out = shared[id(dead)] = dead.set(rowid, True)
    return out


def _place(leaves: tuple, lasts: tuple, size: int, entry: tuple) -> tuple[tuple, tuple]:
    """(leaves, lasts) with ``entry`` placed after every pair <= it; ``size`` is the
    delta's size before, which sets how large a leaf may grow."""
    if not leaves:
        return ((entry,),), (entry,)
    # In the first leaf whose last pair is > entry (or at the end of the last leaf).
    j = bisect.bisect_right(lasts, entry)
    if j == len(leaves):
        j -= 1
    leaf = leaves[j]
    i = bisect.bisect_right(leaf, entry)
    leaf = leaf[:i] + (entry,) + leaf[i:]
    if len(leaf) > _LEAF and len(leaf) > isqrt(size):
        half = len(leaf) // 2
        low, high = leaf[:half], leaf[half:]
        return leaves[:j] + (low, high) + leaves[j + 1:], \
            lasts[:j] + (low[-1], high[-1]) + lasts[j + 1:]
    leaves = leaves[:j] + (leaf,) + leaves[j + 1:]
    if i == len(leaf) - 1:
        lasts = lasts[:j] + (entry,) + lasts[j + 1:]
    return leaves, lasts


class _Run:
    """Pending (key, rowid) pairs, append-only, shared by the versions owning a prefix."""

    __slots__ = ("items", "lock")

    def __init__(self, items: list) -> None:
        self.items = items
        self.lock = threading.Lock()


def _settle(d: tuple) -> tuple:
    """Delta state ``d`` with its pending pairs placed: one by one when they are few
    against the delta, else one sort of everything and fresh leaves."""
    leaves, lasts, size, run, n = d
    pairs = run.items[:n]
    if n * 16 <= size:
        for entry in pairs:
            leaves, lasts = _place(leaves, lasts, size, entry)
            size += 1
        return leaves, lasts, size, None, 0
    pairs.extend(chain.from_iterable(leaves))
    pairs.sort()
    width = max(1, max(_LEAF, isqrt(len(pairs))) * 3 // 4)   # room to grow before a split
    leaves = tuple(tuple(pairs[i:i + width]) for i in range(0, len(pairs), width))
    return leaves, tuple(leaf[-1] for leaf in leaves), len(pairs), None, 0


def _bound(leaves: tuple, lasts: tuple, key, right: bool) -> tuple[int, int]:
    """Where ``bisect_left`` (``bisect_right`` if ``right``) of ``key`` among the delta's
    keys falls, as (leaf, offset); (len(leaves), 0) past the end."""
    search = bisect.bisect_right if right else bisect.bisect_left
    # Every pair before the leaf found is below the bound, since its leaf's last is.
    j = search(lasts, key, key=_key)
    if j == len(leaves):
        return j, 0
    return j, search(leaves[j], key, key=_key)


def _between(leaves: tuple, lo: tuple[int, int], hi: tuple[int, int]):
    """The delta's pairs from position ``lo`` up to (excluding) position ``hi``."""
    (j1, i1), (j2, i2) = lo, hi
    if j1 > j2 or (j1 == j2 and i1 >= i2):
        return ()
    if j1 == j2:
        return leaves[j1][i1:i2]
    out = list(leaves[j1][i1:])
    for j in range(j1 + 1, j2):
        out.extend(leaves[j])
    if j2 < len(leaves):
        out.extend(leaves[j2][:i2])
    return out


def _search(keys, value, side: str) -> int:
    if keys.dtype.hasobject:
        import numpy as np
        probe = np.empty(1, object)
        probe[0] = value
        return int(keys.searchsorted(probe, side)[0])
    return int(keys.searchsorted(value, side))   # the method: no np.searchsorted dispatch


def _merge_sorted(a, b):
    """Merge two (keys, rowids) pairs of sorted numpy arrays; ties keep ``a`` first."""
    import numpy as np
    ak, ar = a
    bk, br = b
    if not len(bk):
        return ak, ar
    if not len(ak):
        return bk, br
    if ak.dtype != bk.dtype:
        ak, bk = ak.astype(object), bk.astype(object)
    pos = np.searchsorted(ak, bk, "right")
    # What np.insert(ak, pos, bk) does, with the placement mask built once for both arrays.
    dst = pos + np.arange(len(bk))
    n = len(ak) + len(bk)
    from_a = np.ones(n, bool)
    from_a[dst] = False
    keys = np.empty(n, ak.dtype)
    keys[dst] = bk
    keys[from_a] = ak
    rowids = np.empty(n, ar.dtype)
    rowids[dst] = br
    rowids[from_a] = ar
    return keys, rowids
