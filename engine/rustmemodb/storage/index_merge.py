"""Incremental folds of large indexes: the base rewrite spread over many writes.

An ``OrderedIndex`` (index.py) is a sorted numpy base plus a small persistent delta
and rowid tombstones. Folding delta and tombstones into the base rewrites the base:
at 1M entries that is 30-60 ms in one statement (issue 10 asks for no single statement
to pause more than 20 ms). So past ``INCREMENTAL`` base entries the fold becomes a
``MergeJob`` carried by the index versions: it starts from a frozen copy of the delta
(``D0``, sorted arrays) and of the tombstones (``X0``), and each later write to the
index advances it by one slice of ``STEP`` base entries (filter by ``X0``, merge in the
``D0`` entries below the slice's end) into output arrays allocated at the start.
Reads never look at the job: until it finishes, every version answers from its own
base, delta and tombstones exactly as before.

Writes made while the job runs are recorded beside it (``added``; ``removed_d0``: rowids
of ``D0`` entries removed since; ``dead_new``: base rowids tombstoned since). When the
last slice is done, the finished version is: base = the merged slices, delta = the
entries added since the start that are still there, tombstones = ``dead_new`` plus
``removed_d0`` (both name rowids whose entries in the new base are gone). Each write
makes a new job value; the one mutable part, the output arrays, follows the table
tail's append-only rule: only the version whose job is exactly as far along as the
output writes the next slice, and any other version sharing the job (a concurrent
transaction's, a fork's) starts a job of its own, so versions stay independent.

Hash indexes (``HashFoldJob``) fold the same way into a new base split by key hash
into ``SHARDS`` dicts (``Shards``): each write copies one shard of the old base (a
C-level dict copy of ~1/64 of it; an old base that is one plain dict is instead
routed ``HASH_STEP`` entries per write) and applies the frozen delta's entries for
that shard, routed to shards beforehand, ``HASH_STEP`` per write. No write copies a
whole million-key dict (5-25 ms, issue 10's pauses). Changes made since the start are
kept as the next delta, and the shards being filled are shared under the table tail's
append-only rule (only the version as far along as the builder extends them).
"""
from __future__ import annotations

import threading
from itertools import chain, islice

from ..lazy_import import numpy as np

# Base size from which folds are incremental; below it one merge is a few ms.
INCREMENTAL = 1 << 17
# Base entries merged per write while a job runs (~1 ms per step; 64 steps at 1M).
STEP = 1 << 14
# The same two for an ordered index of Python objects (TEXT, UUID, composite keys):
# comparing and moving objects costs ~10x an int64's, so a one-go merge of a 25k-entry
# UUID base with its delta was 3-5 ms (a persist collection's primary key and its audit
# index merged on the same write: 7-12 ms, a REST create's worst pauses), and a step
# of STEP such entries as much. Read through ``incremental_from`` and ``step_for``.
OBJECT_INCREMENTAL = 1 << 13
OBJECT_STEP = 1 << 11
# Delta entries routed or applied to a hash index's new base per write (~1 ms per step).
HASH_STEP = 1 << 12
# Dicts a large hash index base is split into (a power of two): one is copied per write.
SHARDS = 64
_MASK = SHARDS - 1


def incremental_from(dtype) -> int:
    """Base size from which an ordered index with keys of ``dtype`` merges incrementally."""
    return INCREMENTAL if dtype is not object else min(INCREMENTAL, OBJECT_INCREMENTAL)


def step_for(dtype) -> int:
    """Base entries one write's step of a merge job covers, for keys of ``dtype``."""
    return STEP if dtype is not object else min(STEP, OBJECT_STEP)


class _Output:
    """The merged base being written, slice after slice, into arrays allocated once (a
    final concatenation of the slices would cost one more pass over 1M entries in one
    statement). Shared by the versions carrying one job, under the table tail's rule:
    only the version whose job is as far as the output (``done == job.steps``) writes."""

    __slots__ = ("keys", "rowids", "done", "lock")

    def __init__(self, size: int, dtype) -> None:
        self.keys = np.empty(size, dtype)
        self.rowids = np.empty(size, np.int64)
        self.done = 0
        self.lock = threading.Lock()


class MergeJob:
    __slots__ = ("d0_keys", "d0_ids", "d0_nulls", "x0", "x0_mask", "pos", "d0_pos", "out",
                 "written", "steps", "added", "removed_d0", "dead_new")

    def __init__(self, d0_keys, d0_ids, d0_nulls, x0, out: _Output, pos=0, d0_pos=0,
                 written=0, steps=0, added=(), removed_d0=(), dead_new=()) -> None:
        self.d0_keys, self.d0_ids, self.d0_nulls, self.x0 = d0_keys, d0_ids, d0_nulls, x0
        # X0 as a flag per rowid: a slice's dead entries are found by one gather, not a
        # binary search per entry (16k searches into ~40k tombstones: ~1 ms a write)
        self.x0_mask = None
        if len(x0):
            self.x0_mask = np.zeros(int(x0[-1]) + 1, bool)
            self.x0_mask[x0] = True
        self.out, self.pos, self.d0_pos, self.written, self.steps = out, pos, d0_pos, written, steps
        self.added, self.removed_d0, self.dead_new = added, removed_d0, dead_new

    def _with(self, **changes) -> "MergeJob":
        out = MergeJob.__new__(MergeJob)
        for name in MergeJob.__slots__:
            setattr(out, name, changes.get(name, getattr(self, name)))
        return out

    @classmethod
    def start(cls, index) -> "MergeJob":
        values, ids, nulls = index.delta_arrays()
        x0 = np.sort(np.fromiter(index.dead.keys(), np.int64, len(index.dead)))
        return cls(values, ids, nulls, x0, _Output(len(index.keys) + len(values),
                                                   index.keys.dtype))

    # ---- what writes record while the job runs ----------------------------------------
    def recorded(self, added: list, removed_from_delta: list, tombstoned: list) -> "MergeJob":
        """The job after a write: ``added`` pairs went into the delta; pairs removed from
        the delta (``removed_from_delta``) were either added since the start (then they
        are simply forgotten) or came from ``D0``; ``tombstoned``: base rowids now dead."""
        job_added = self.added
        removed_d0 = self.removed_d0
        if removed_from_delta:
            gone = set(removed_from_delta)
            mine = gone.intersection(job_added)
            if mine:
                job_added = tuple(e for e in job_added if e not in mine)
            others = [rowid for key, rowid in removed_from_delta if (key, rowid) not in mine]
            if others:
                removed_d0 = removed_d0 + tuple(others)
        if added:
            job_added = job_added + tuple(added)
        dead_new = self.dead_new + tuple(tombstoned) if tombstoned else self.dead_new
        return self._with(added=job_added, removed_d0=removed_d0, dead_new=dead_new)

    # ---- the work ------------------------------------------------------------------------
    def step(self, index) -> "MergeJob":
        """One more slice of ``index``'s base merged (the base is the job's base: a job
        is dropped whenever the base itself is replaced)."""
        from .index import _merge_sorted, _search
        keys, rowids = index.keys, index.rowids
        end = min(self.pos + step_for(index.dtype), len(keys))
        part_keys, part_ids = keys[self.pos:end], rowids[self.pos:end]
        mask = self.x0_mask
        if mask is not None and len(part_ids):
            top = len(mask) - 1
            keep = ~mask[np.minimum(part_ids, top)] | (part_ids > top)
            part_keys, part_ids = part_keys[keep], part_ids[keep]
        if end < len(keys):   # D0 entries strictly below the next slice's first key
            d0_end = _search(self.d0_keys, keys[end], "left")
        else:
            d0_end = len(self.d0_keys)
        d0_end = max(d0_end, self.d0_pos)
        merged_keys, merged_ids = _merge_sorted(
            (part_keys, part_ids),
            (self.d0_keys[self.d0_pos:d0_end], self.d0_ids[self.d0_pos:d0_end]))
        out = self.out
        with out.lock:
            owner = out.done == self.steps
            if owner:
                stop = self.written + len(merged_ids)
                out.keys[self.written:stop] = merged_keys
                out.rowids[self.written:stop] = merged_ids
                out.done += 1
        if not owner:   # another version of the index wrote this slice: start over, alone
            fresh = _Output(len(out.keys), out.keys.dtype)
            return self._with(out=fresh, pos=0, d0_pos=0, written=0, steps=0).step(index)
        return self._with(pos=end, d0_pos=d0_end, written=stop, steps=self.steps + 1)

    def done(self, index) -> bool:
        return self.pos >= len(index.keys)

    def finish(self, index):
        """The finished index: merged base, what was written since the start as delta
        and tombstones (see the module docstring)."""
        from .index import _EMPTY_MAP, OrderedIndex, _settle, _Run
        keys = self.out.keys[:self.written]      # views: the arrays are the job's alone
        rowids = self.out.rowids[:self.written]  # now (no version is as far along)
        nulls = index.null_rowids
        if len(self.x0) and len(nulls):
            nulls = nulls[~np.isin(nulls, self.x0)]
        nulls = np.sort(np.concatenate([nulls, self.d0_nulls]))
        new = OrderedIndex(index.name, index.columns, index.dtype, keys, rowids, nulls)
        if self.added:
            new._d = _settle(((), (), 0, _Run(list(self.added)), len(self.added)))
        dead = _EMPTY_MAP
        gone = self.dead_new + self.removed_d0
        if gone:
            with dead.mutate() as m:
                for rowid in gone:
                    m[rowid] = True
                dead = m.finish()
        new.dead = dead
        return new


# ---- hash indexes (PRIMARY KEY, UNIQUE) --------------------------------------------------

class Shards:
    """A large hash index base: ``SHARDS`` plain dicts, a key in the one its hash picks.
    Read like a dict (``get``, ``in``, ``len``, ``items``); never changed once built.
    The dicts hold only atoms (keys and rowids), so the collector does not track them."""

    __slots__ = ("parts", "size")

    def __init__(self, parts: list) -> None:
        self.parts = parts
        self.size = sum(map(len, parts))

    def get(self, key, default=None):
        return self.parts[hash(key) & _MASK].get(key, default)

    def __contains__(self, key) -> bool:
        return key in self.parts[hash(key) & _MASK]

    def __getitem__(self, key):
        return self.parts[hash(key) & _MASK][key]

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        return chain.from_iterable(self.parts)

    def items(self):
        return chain.from_iterable(p.items() for p in self.parts)

    def keys(self) -> set:
        """Every key, as a set (bulk checks only)."""
        return set(chain.from_iterable(self.parts))

    def to_dict(self) -> dict:
        out: dict = {}
        for p in self.parts:
            out.update(p)
        return out


class _Builder:
    """The new sharded base being filled, shared by the versions carrying one fold job.
    Only the version whose job is as far as the builder (``done == job.steps``) may add
    to it, under ``lock``; any other (a concurrent transaction's or a fork's version of
    the same index) starts a builder of its own. The rule of the table's row tail.

    Steps, each bounded: route the frozen delta's entries to their shards (``HASH_STEP``
    per write); then, per shard, copy the old base's shard (one C-level dict copy; an
    old plain-dict base is routed ``HASH_STEP`` entries per write instead, before) and
    apply that shard's delta entries."""

    __slots__ = ("base", "parts", "d0_items", "d0_left", "routed", "plain", "next_part",
                 "done", "lock")

    def __init__(self, base, d0) -> None:
        self.base = base
        self.d0_items = iter(d0.items())
        self.d0_left = len(d0)
        self.routed: list = [[] for _ in range(SHARDS)]
        self.plain = None if isinstance(base, Shards) else iter(base.items())
        self.parts: list = [None] * SHARDS if self.plain is None else \
            [{} for _ in range(SHARDS)]
        self.next_part = 0
        self.done = 0
        self.lock = threading.Lock()

    @property
    def complete(self) -> bool:
        return self.next_part == SHARDS

    def fill(self, quota: int, tombstone: int) -> None:
        if self.d0_left:                          # route the frozen delta
            routed = self.routed
            n = min(quota, self.d0_left)
            for entry in islice(self.d0_items, n):
                routed[hash(entry[0]) & _MASK].append(entry)
            self.d0_left -= n
            return
        if self.plain is not None:                # an old plain dict: route its entries
            parts = self.parts
            n = 0
            quota *= 4                            # a plain loop: ~0.15 µs an entry
            for key, rowid in islice(self.plain, quota):
                parts[hash(key) & _MASK][key] = rowid
                n += 1
            if n == quota:
                return
            self.plain = None
        k = self.next_part                        # one shard: copy, apply its delta
        part = self.parts[k]
        if part is None:
            part = self.parts[k] = dict(self.base.parts[k])
        for key, rowid in self.routed[k]:
            if rowid == tombstone:
                part.pop(key, None)
            else:
                part[key] = rowid
        self.routed[k] = None
        self.next_part = k + 1
        if self.next_part == SHARDS:
            self.base = None

    def result(self) -> Shards:
        return Shards(self.parts)


class HashFoldJob:
    """Folding a large hash index's delta into a new base dict over several writes (see
    ``_Builder``).
    ``d0`` is the delta at the start (persistent: a reference is a snapshot), ``since``
    the changes made after it; the finished index is (new base, ``since``)."""

    __slots__ = ("d0", "since", "builder", "steps")

    def __init__(self, d0, since, builder: _Builder, steps: int) -> None:
        self.d0, self.since, self.builder, self.steps = d0, since, builder, steps

    @classmethod
    def start(cls, index) -> "HashFoldJob":
        from .index import _EMPTY_MAP
        return cls(index.delta, _EMPTY_MAP, _Builder(index.base, index.delta), 0)

    def recorded(self, since) -> "HashFoldJob":
        return HashFoldJob(self.d0, since, self.builder, self.steps)

    def advanced(self, index):
        """``index`` (a new version carrying this job) one step further, or finished."""
        from .index import TOMBSTONE
        builder = self.builder
        with builder.lock:
            owner = builder.done == self.steps
            if owner:
                builder.fill(HASH_STEP, TOMBSTONE)
                builder.done += 1
        if not owner:   # another version advanced the shared builder: restart privately
            restarted = HashFoldJob.start(index._like(index.base, self.d0, index.gone))
            job = HashFoldJob(self.d0, self.since, restarted.builder, 0)
            index._job = job
            return index
        if builder.complete:
            # (entries flagged gone stay in the new base, filtered as before)
            return index._like(builder.result(), self.since, index.gone)
        index._job = HashFoldJob(self.d0, self.since, builder, self.steps + 1)
        return index
