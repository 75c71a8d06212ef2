"""The live sessions of a database, as PostgreSQL's backends.

Advisory locks (advisory.py) are held by a session and outlive its transactions, so
each engine ``Session`` has a ``Backend``: a small record that the lock table may point
at without keeping the session itself alive. A database's ``Backends`` lists the live
ones (a session collected without ``close`` leaves through a weakref finalizer, its
locks released: a vanished client holds nothing).
"""
from __future__ import annotations

import itertools
import threading
import weakref

from . import statement_limits
from .advisory import AdvisoryLocks

# Embedded sessions get small distinct pids (the wire server sets its own, the
# BackendKeyData pid, once the session exists).
_PIDS = itertools.count(1000)


class Backend:
    """One session as the other sessions see it."""

    def __init__(self, settings: dict) -> None:
        self.pid = next(_PIDS)
        self.settings = settings              # the session's own dict (lock_timeout...)
        self.locks: AdvisoryLocks | None = None    # its database's advisory lock table
        self.advisory_keys: set = set()       # keys it holds any advisory lock on
        self.advisory_xact = 0                # transaction-level holds to drop at its end
        self.lock_waiting: tuple | None = None     # (key, exclusive) while blocked
        self.wait_started: float | None = None

    def lock_timeout_ms(self) -> int:
        text = self.settings.get("lock_timeout")
        if not text or text == "0":
            return 0
        return statement_limits.parse_timeout(text, "lock_timeout")


class Backends:
    """The live backends of one database and its advisory lock table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.live: dict[int, Backend] = {}     # id(backend) -> backend
        self.advisory = AdvisoryLocks()

    def attach(self, session, settings: dict) -> Backend:
        backend = Backend(settings)
        backend.locks = self.advisory
        with self._lock:
            self.live[id(backend)] = backend
        weakref.finalize(session, self.detach, backend)
        return backend

    def detach(self, backend: Backend) -> None:
        """The session ended: its advisory locks go, and it leaves the list."""
        if backend.advisory_keys:
            self.advisory.release_all(backend, True, True)
        with self._lock:
            self.live.pop(id(backend), None)

    def end_transaction(self, backend: Backend) -> None:
        """COMMIT / ROLLBACK (or an autocommit statement's end): xact locks go."""
        if backend.advisory_xact:
            self.advisory.release_all(backend, False, True)
