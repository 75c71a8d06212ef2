"""Commit subscriptions: tell interested parties that a new root was published.

Live views (a notebook grid, a persist collection cache) need to know when a
commit touched the tables they read, without polling. ``Database.subscribe``
registers a callback here; ``Database.commit``/``restore`` call ``notify``
*after* releasing the commit lock, so a slow or re-entrant subscriber (one
that queries or even commits) can never stall or deadlock other writers.

Callbacks get ``(old_root, new_root, changed_tables)``: two immutable roots, so
a subscriber can diff them at leisure (``branch`` diff code) while the database
moves on. After a commit, ``changed_tables`` is a :class:`Changed`: the set of
names, which also tells which rows of a table the commit wrote
(``changed.rowids(table)``), read from the commit's own change list, so a view
of one page of a big table can apply a 1-row commit without diffing or
re-querying anything. Bound methods are held weakly (a grid that was garbage-collected
stops being called and is dropped from the list); other callables are held
strongly until ``Subscription.cancel()``, because a lambda held weakly would
vanish at once. A subscriber that raises is logged and kept: one broken view
must not break a commit that is already published.
"""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Callable, Iterable

_log = logging.getLogger("rustmemodb.subscribe")

Callback = Callable[[object, object, frozenset], None]


class Subscription:
    """A handle on one registered callback; ``cancel()`` stops further calls."""

    __slots__ = ("_ref", "_hub", "active", "__weakref__")

    def __init__(self, callback: Callback, hub: "Subscribers") -> None:
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            self._ref = weakref.WeakMethod(callback)
        else:
            self._ref = lambda cb=callback: cb
        self._hub = hub
        self.active = True

    def callback(self) -> Callback | None:
        return self._ref() if self.active else None

    def cancel(self) -> None:
        """Unsubscribe; idempotent. Safe to call from inside the callback."""
        if self.active:
            self.active = False
            self._hub.remove(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


class Subscribers:
    """The list of subscriptions of one Database; copy-on-write for lock-free reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # the subscriptions, a tuple replaced whole: read without the lock (hot paths test
        # it for emptiness without a call)
        self.subs: tuple[Subscription, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.subs)

    def add(self, callback: Callback) -> Subscription:
        if not callable(callback):
            raise TypeError("subscribe() needs a callable (old_root, new_root, tables)")
        sub = Subscription(callback, self)
        with self._lock:
            self.subs = self.subs + (sub,)
        return sub

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            self.subs = tuple(s for s in self.subs if s is not sub)

    def notify(self, old, new, tables: Iterable[str]) -> None:
        changed = tables if isinstance(tables, Changed) else frozenset(tables)
        for sub in self.subs:          # a snapshot: (un)subscribing meanwhile is fine
            cb = sub.callback()
            if cb is None:
                if sub.active:          # the owner of a bound method was collected
                    sub.cancel()
                continue
            try:
                cb(old, new, changed)
            except Exception:           # noqa: BLE001 - the commit is already published
                _log.exception("commit subscriber %r failed", cb)


def changed_tables(txn, ops=None) -> "Changed":
    """Names of the tables (and views/sequences) a transaction's ops touched, with the
    ops (``ops``: as applied to the published root, when the commit was rebased)."""
    ops = [op for op in (txn.ops if ops is None else ops) if type(op).__name__ != "LockOp"]
    names = set()
    for op in ops:
        name = getattr(op, "table", None) or getattr(op, "name", None)
        if name is not None:
            names.add(name)
    return Changed(names, ops)


class Changed(frozenset):
    """The names of the tables a commit changed (a frozenset, as subscribers always
    got), plus which rows: ``rowids(table)``. Rowids are the engine's row identities
    (a row keeps its rowid for life; an UPDATE keeps it), valid in the commit's new
    root (``new_root.tables[t].row(rowid)``) and, for rows that existed before, in
    its old one."""

    def __new__(cls, names=(), ops=()):
        self = super().__new__(cls, names)
        self._ops = tuple(ops)
        self._rowids: dict = {}
        return self

    def rowids(self, table: str) -> frozenset | None:
        """The rowids the commit inserted, updated or deleted in ``table`` (empty when
        it did not touch it), or None when the commit replaced the table whole (DDL,
        TRUNCATE: every row may differ)."""
        if table in self._rowids:
            return self._rowids[table]
        out: set | None = set()
        for op in self._ops:
            if getattr(op, "table", None) != table:
                continue
            ids = getattr(op, "rowids", None)
            if ids is None:          # ReplaceTableOp: no row-level account
                out = None
                break
            out.update(ids.tolist() if hasattr(ids, "tolist") else ids)
        result = None if out is None else frozenset(out)
        self._rowids[table] = result
        return result


def diff_tables(old, new) -> set[str]:
    """Tables whose version differs between two roots (for restore())."""
    names = {n for n, v in new.tables.items() if old.tables.get(n) is not v}
    names.update(n for n in old.tables if n not in new.tables)
    return names
