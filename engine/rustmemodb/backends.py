"""The live sessions of a database, as PostgreSQL's backends.

Advisory locks (advisory.py) are held by a session and outlive its transactions, and
monitoring tools list the sessions (``pg_stat_activity``) and cancel or terminate them
(``pg_cancel_backend``/``pg_terminate_backend``), so each engine ``Session`` has a
``Backend``: a small record that the lock table and the other sessions may point at
without keeping the session itself alive (it reaches its session by a weak reference).
A database's ``Backends`` lists the live ones (a session collected without ``close``
leaves through a weakref finalizer, its locks released: a vanished client holds
nothing). The wire server fills in what only it knows (client address, application
name, how to terminate its connection).
"""
from __future__ import annotations

import collections
import itertools
import threading
import time
import weakref
from typing import NamedTuple
from datetime import datetime, timezone

from . import errors, netaddr, notices, statement_limits
from .advisory import AdvisoryLocks
from .storage.roles import EMBEDDED_USER

# pg_database.oid and the bootstrap role's oid as catalog/pg_catalog.py numbers them (not
# imported from there: a connect() that never reads a catalog does not load it).
DATABASE_OID, ROLE_OID = 5, 10

# PostgreSQL's limit on a NOTIFY payload (bytes), and how many notifications an embedded
# session that never reads them keeps (the oldest go first).
MAX_PAYLOAD = 8000
KEPT = 65536


class Notify(NamedTuple):
    """A notification delivered to a listening session (psycopg's ``Notify`` fields)."""
    channel: str
    payload: str
    pid: int


# Embedded sessions get small distinct pids (the wire server sets its own, the
# BackendKeyData pid, once the session exists).
_PIDS = itertools.count(1000)


class Backend:
    """One session as the other sessions see it."""

    def __init__(self, session, settings: dict) -> None:
        self.pid = next(_PIDS)
        self.session = weakref.ref(session)
        self.settings = settings              # the session's own dict (lock_timeout...)
        self.started = time.time()            # backend_start
        self.query = ""                       # the last statement Session.execute ran
        self.query_start: float | None = None
        self.query_end: float | None = None
        self.xact_start: float | None = None
        # What the wire server knows (None embedded): client and server addresses,
        # application_name, and ``terminate()``, which ends its connection.
        self.client: tuple | None = None
        self.server: tuple | None = None
        self.application_name = ""
        self.terminate = None
        self.terminated = False               # embedded: pg_terminate_backend ended it
        # LISTEN/NOTIFY: the channels it listens on; the notifications its open
        # transaction will send at COMMIT (deduplicated, in order); those delivered to
        # it and not yet read; and ``wake()``, which the wire server sets to send them.
        self.channels: set = set()
        self.pending: dict | None = None
        self.inbox: collections.deque = collections.deque(maxlen=KEPT)
        self.arrived = threading.Event()
        self.wake = None
        self.locks: AdvisoryLocks | None = None    # its database's advisory lock table
        self.registry: Backends | None = None      # its database's live backends
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
        backend = Backend(session, settings)
        backend.locks = self.advisory
        backend.registry = self
        with self._lock:
            self.live[id(backend)] = backend
        weakref.finalize(session, self.detach, backend)
        return backend

    def detach(self, backend: Backend) -> None:
        """The session ended: its advisory locks and channels go, and it leaves the list."""
        if backend.advisory_keys:
            self.advisory.release_all(backend, True, True)
        with self._lock:
            self.live.pop(id(backend), None)
            backend.channels.clear()
        backend.pending = None

    def end_transaction(self, backend: Backend, committed: bool = False) -> None:
        """COMMIT / ROLLBACK (or an autocommit statement's end): xact locks go, and the
        transaction's notifications are sent if it committed."""
        if backend.advisory_xact:
            self.advisory.release_all(backend, False, True)
        pending, backend.pending = backend.pending, None
        if pending and committed:
            self._deliver(backend, list(pending))

    # ---- LISTEN / NOTIFY -----------------------------------------------------------------------
    def listen(self, backend: Backend, channel: str) -> None:
        with self._lock:
            backend.channels.add(channel)

    def unlisten(self, backend: Backend, channel: str | None) -> None:
        with self._lock:
            if channel is None:
                backend.channels.clear()
            else:
                backend.channels.discard(channel)

    def notify(self, backend: Backend, channel: str, payload: str | None) -> None:
        """NOTIFY / pg_notify: queued on the sender until its transaction commits
        (``end_transaction``); the same channel and payload twice in one transaction
        are sent once, as PostgreSQL does."""
        if not channel:
            raise errors.sql_error("22023", "channel name cannot be empty")
        if len(channel) >= 64:
            raise errors.sql_error("22023", "channel name too long")
        payload = payload or ""
        if len(payload.encode("utf-8")) >= MAX_PAYLOAD:
            raise errors.sql_error("22023", "payload string too long")
        if backend.pending is None:
            backend.pending = {}
        backend.pending.setdefault((channel, payload), None)

    def _deliver(self, sender: Backend, notes: list) -> None:
        with self._lock:
            targets = [(b, [n for n in notes if n[0] in b.channels])
                       for b in self.live.values() if b.channels]
        for target, mine in targets:
            if not mine:
                continue
            target.inbox.extend(Notify(channel, payload, sender.pid)
                                for channel, payload in mine)
            target.arrived.set()
            wake = target.wake
            if wake is not None:
                wake()

    # ---- pg_stat_activity, pg_stat_database ------------------------------------------------
    def activity_rows(self, asking) -> list[tuple]:
        """pg_stat_activity: a row per live session. As in PostgreSQL, the query of
        another role's session shows only to superusers."""
        with self._lock:
            backends = list(self.live.values())
        see_all = _superuser(asking)
        mine = effective_role(asking) or getattr(asking, "user_name", None)
        out = []
        for b in backends:
            session = b.session()
            if session is None:
                continue
            user = getattr(session, "user_name", None) or EMBEDDED_USER
            visible = see_all or session is asking or user == mine or \
                (effective_role(session) or user) == mine
            limits = session.cancel_event
            active = limits.active
            txn = session.txn
            if active:
                state = "active"
            elif txn is not None:
                state = "idle in transaction (aborted)" if txn.failed else "idle in transaction"
            else:
                state = "idle"
            if b.lock_waiting is not None:
                wait = ("Lock", "advisory")
            elif not active and b.terminate is not None:
                wait = ("Client", "ClientRead")
            else:
                wait = (None, None)
            changed = b.query_start if active else (b.query_end or b.started)
            client = b.client or (None, None)
            out.append((
                DATABASE_OID, getattr(session, "database_name", None) or "rustmemodb", b.pid,
                None, ROLE_OID, user, session.settings.get("application_name",
                                                           b.application_name),
                netaddr.host_key(client[0]), None, client[1],
                _instant(b.started), _instant(b.xact_start if (active or txn is not None)
                                              else None),
                _instant(b.query_start), _instant(changed), *wait, state, None, None, None,
                b.query if visible else "<insufficient privilege>", "client backend"))
        return out

    def database_stat_rows(self, asking) -> list[tuple]:
        """pg_stat_database: the asking session's database, its number of sessions."""
        name = getattr(asking, "database_name", None) or "rustmemodb"
        return [(DATABASE_OID, name, len(self.live), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                 None, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0, None)]

    # ---- pg_cancel_backend, pg_terminate_backend --------------------------------------------
    def signal(self, asking, pid: int, terminate: bool) -> bool:
        """Cancel the statement of (or end) the session ``pid``; False with PostgreSQL's
        WARNING when there is none. A superuser may signal any session, others only
        their own role's, and never a superuser's (42501)."""
        with self._lock:
            target = next((b for b in self.live.values() if b.pid == pid), None)
        session = target.session() if target is not None else None
        if session is None:
            notices.emit(f"PID {pid} is not a PostgreSQL backend process", "01000", "WARNING")
            return False
        if not _superuser(asking):
            if _superuser(session):
                raise errors.sql_error("42501", "must be a superuser to terminate superuser "
                                                "process" if terminate else
                                       "must be a superuser to cancel superuser query")
            if (effective_role(session) or session.user_name) != \
                    (effective_role(asking) or asking.user_name):
                whose = "process is being terminated" if terminate else \
                    "query is being canceled"
                raise errors.sql_error("42501", f"must be a member of the role whose {whose} "
                                                "or member of pg_signal_backend")
        session.cancel_event.set()
        if terminate:
            target.terminated = True
            if target.terminate is not None:
                target.terminate()
        return True


def effective_role(session) -> str | None:
    """SET ROLE's role, else the login role; None: the implicit superuser (auth/check.py)."""
    return getattr(session, "role", None) or getattr(session, "auth_user", None)


def _superuser(session) -> bool:
    role = effective_role(session)
    return role is None or session._catalog_root().auth.is_superuser(role)


def _instant(t: float | None):
    return None if t is None else datetime.fromtimestamp(t, timezone.utc)
