"""Advisory locks: ``pg_advisory_lock`` and its family, with PostgreSQL's semantics.

Migration tools (Rails, Prisma's ``pg_advisory_lock(72707369)``, golang-migrate,
Flyway) and job queues take an advisory lock so that one of several processes does a
thing at a time. The locks mean nothing to the engine (they touch no row and no
snapshot); they live per ``Database``, so that every session of one database contends,
embedded threads and wire clients alike, while a fork has locks of its own.

As in PostgreSQL: a lock is taken exclusive or shared, at session level (counted, so
re-entrant; held until unlocked or the session ends) or at transaction level (the
``_xact_`` forms: released when the transaction ends). A session never conflicts with
itself. A blocked request waits on a condition variable on the caller's thread, waking
every few milliseconds to honour a cancel and ``statement_timeout`` (57014) and the
session's ``lock_timeout`` (55P03); a wait that would close a cycle of waiting sessions
fails at once with 40P01 (PostgreSQL finds the cycle after ``deadlock_timeout``). The
wire server never runs these statements on its event loop: their plans are not
cached (sql/bind/bind_session_functions.py), so they are never point statements.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from time import monotonic

from . import errors, notices, statement_limits

# How often a waiting request looks at its cancel flag and deadlines (seconds).
POLL = 0.01


def _mode(exclusive: bool) -> str:
    return "ExclusiveLock" if exclusive else "ShareLock"


class AdvisoryLocks:
    """One database's advisory locks: who holds which, in which mode, how often."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        # key -> {(holder, exclusive): [session-level count, transaction-level count]}
        self.held: dict[tuple, dict[tuple, list[int]]] = {}
        self.waiting: set = set()        # holders blocked in ``acquire``

    # ---- taking --------------------------------------------------------------------------
    def acquire(self, holder, key: tuple, exclusive: bool, xact: bool, wait: bool) -> bool:
        """Take the lock for ``holder`` (a backends.Backend); False when it is held in a
        conflicting mode and ``wait`` is off, else True once granted."""
        with self.cond:
            if self._blockers(holder, key, exclusive):
                if not wait:
                    return False
                self._wait(holder, key, exclusive)
            counts = self.held.setdefault(key, {}).setdefault((holder, exclusive), [0, 0])
            counts[1 if xact else 0] += 1
            holder.advisory_keys.add(key)
            if xact:
                holder.advisory_xact += 1
            return True

    def _blockers(self, holder, key: tuple, exclusive: bool) -> list:
        return [h for (h, e) in self.held.get(key, ()) if h is not holder and (exclusive or e)]

    def _deadlock(self, holder, key: tuple, exclusive: bool):
        """A holder that ``holder`` waits for, directly or through other waiters, and
        that waits (in the end) for ``holder``: the cycle's other end, or None."""
        seen: set = set()
        todo = [(b, b) for b in self._blockers(holder, key, exclusive)]
        while todo:
            first, h = todo.pop()
            if h is holder:
                return first
            if id(h) in seen or h.lock_waiting is None:
                continue
            seen.add(id(h))
            todo.extend((first, b) for b in self._blockers(h, *h.lock_waiting))
        return None

    def _wait(self, holder, key: tuple, exclusive: bool) -> None:
        limits = statement_limits._CURRENT.get()
        lock_ms = holder.lock_timeout_ms()
        deadline = monotonic() + lock_ms / 1000 if lock_ms else 0.0
        holder.lock_waiting = (key, exclusive)
        holder.wait_started = time.time()
        self.waiting.add(holder)
        try:
            while True:
                other = self._deadlock(holder, key, exclusive)
                if other is not None:
                    raise errors.sql_error(
                        "40P01", "deadlock detected",
                        detail=f"Process {holder.pid} waits for {_mode(exclusive)} on "
                               f"advisory lock [{key[0]},{key[1]},{key[2]}]; blocked by "
                               f"process {other.pid}.",
                        hint="See server log for query details.")
                if limits is not None:
                    limits.check()       # 57014: cancel or statement_timeout
                if deadline and monotonic() >= deadline:
                    raise errors.sql_error("55P03", "canceling statement due to lock timeout")
                self.cond.wait(POLL)
                if not self._blockers(holder, key, exclusive):
                    return
        finally:
            holder.lock_waiting = None
            holder.wait_started = None
            self.waiting.discard(holder)

    # ---- releasing -----------------------------------------------------------------------
    def release(self, holder, key: tuple, exclusive: bool) -> bool:
        """pg_advisory_unlock: one session-level hold fewer; False with PostgreSQL's
        WARNING when ``holder`` has none."""
        with self.cond:
            counts = self.held.get(key, {}).get((holder, exclusive))
            if counts is None or counts[0] == 0:
                notices.emit(f"you don't own a lock of type {_mode(exclusive)}", "01000",
                             "WARNING")
                return False
            counts[0] -= 1
            if counts == [0, 0]:
                self._drop(holder, key, exclusive)
            self.cond.notify_all()
            return True

    def release_all(self, holder, session: bool, xact: bool) -> None:
        """Drop ``holder``'s session-level holds (pg_advisory_unlock_all, session end)
        and/or its transaction-level ones (transaction end)."""
        with self.cond:
            for key in list(holder.advisory_keys):
                locks = self.held.get(key, {})
                for exclusive in (True, False):
                    counts = locks.get((holder, exclusive))
                    if counts is None:
                        continue
                    if session:
                        counts[0] = 0
                    if xact:
                        counts[1] = 0
                    if counts == [0, 0]:
                        self._drop(holder, key, exclusive)
            if xact:
                holder.advisory_xact = 0
            self.cond.notify_all()

    def _drop(self, holder, key: tuple, exclusive: bool) -> None:
        locks = self.held[key]
        del locks[(holder, exclusive)]
        if not locks:
            del self.held[key]
        if (holder, not exclusive) not in locks:
            holder.advisory_keys.discard(key)

    # ---- pg_locks ------------------------------------------------------------------------
    def rows(self, database_oid: int) -> list[tuple]:
        """pg_locks' rows of the advisory locks: granted holds, then waiting requests."""
        with self.cond:
            out = [_row(database_oid, key, h, e, True, None)
                   for key, locks in self.held.items() for (h, e) in locks]
            out += [_row(database_oid, h.lock_waiting[0], h, h.lock_waiting[1], False,
                         h.wait_started) for h in self.waiting if h.lock_waiting]
        return out


def _row(database_oid: int, key: tuple, holder, exclusive: bool, granted: bool,
         since) -> tuple:
    waited = None if since is None else datetime.fromtimestamp(since, timezone.utc)
    return ("advisory", database_oid, None, None, None, None, None, key[0], key[1], key[2],
            f"{holder.pid % 1000}/{holder.pid}", holder.pid, _mode(exclusive), granted, False,
            waited)
