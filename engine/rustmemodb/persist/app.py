"""PersistApp: one database, its collections, and the policies they share.

The app owns a ``Database`` (in memory, or durable in a directory through the
engine's own WAL + checkpoint ``Database.open``) and hands out collections.
Every collection operation runs in a transaction on a per-thread connection:
alone (its own transaction, retried on write-write conflicts by the app's
``RetryPolicy``) or inside ``with app.transaction():``, where operations on
several collections commit or roll back together (and a conflict surfaces once,
at commit, as ``ConflictError(kind="write_write")``: the caller decides whether
to run the block again, since only it knows what the block read).

Three system tables hold what collections need besides their rows:
``_persist_collections`` (model and schema version), ``_persist_idempotency``
(keys and original results) and ``_persist_audit`` (one record per mutation).
They are ordinary tables, so SQL, fork, diff and undo apply to them as well.
"""
from __future__ import annotations

import contextlib
import contextvars
import random
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Callable, TypeVar

from ..database import Database
from ..errors import IntegrityError, SerializationFailure
from ..types import canonical_json
from .errors import ConflictError
from .ids import uuid4

T = TypeVar("T")

SYSTEM_TABLES = {
    "_persist_collections": '"name" TEXT PRIMARY KEY, "schema_version" BIGINT NOT NULL, '
                            '"model" JSONB',
    "_persist_idempotency": '"scope" TEXT PRIMARY KEY, "collection" TEXT NOT NULL, '
                            '"operation" TEXT NOT NULL, "key" TEXT NOT NULL, '
                            '"payload_hash" TEXT NOT NULL, "result" JSONB, '
                            '"created_at" TIMESTAMP NOT NULL, "expires_at" TIMESTAMP NOT NULL',
    # No primary key: "seq" orders the records and the index on "entity_id" finds an
    # entity's trail; a generated UUID key cost a third of a create (directories made
    # before keep their "audit_id" column, and records written there still fill it).
    "_persist_audit": '"seq" BIGINT NOT NULL, '
                      '"collection" TEXT NOT NULL, "entity_id" UUID NOT NULL, '
                      '"operation" TEXT NOT NULL, "at" TIMESTAMP NOT NULL, "actor" TEXT, '
                      '"version_before" BIGINT, "version_after" BIGINT, "changed" JSONB',
}
_AUDIT_INSERT = 'INSERT INTO "_persist_audit" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
_AUDIT_INSERT_WITH_ID = 'INSERT INTO "_persist_audit" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of a lone operation after a write-write conflict (only those)."""
    max_attempts: int = 3
    base_backoff_ms: float = 5
    max_backoff_ms: float = 25

    def backoff(self, attempt: int) -> float:
        """Seconds to sleep before attempt ``attempt + 1``: capped exponential, jittered."""
        ceiling = min(self.max_backoff_ms, self.base_backoff_ms * (2 ** attempt))
        return random.uniform(ceiling / 2, ceiling) / 1000.0


@contextlib.contextmanager
def as_system(conn):
    """Statements in the block run as the app itself, whatever role the connection is
    acting as: the bookkeeping a permitted operation implies (its audit record, its
    idempotency key, journal, outbox, projections) is not the role's to be granted."""
    session = conn._session
    saved = session.auth_user, session.role
    session.auth_user = session.role = None
    try:
        yield conn
    finally:
        session.auth_user, session.role = saved


_shared: "weakref.WeakValueDictionary[int, PersistApp]" = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


class PersistApp:
    def __init__(self, database: Database, *, retry: RetryPolicy,
                 idempotency_ttl_s: float, actor: str | None) -> None:
        self.database = database
        self.retry = retry
        self.idempotency_ttl_s = idempotency_ttl_s
        self.default_actor = actor
        self._local = threading.local()
        # The database role requests run as (REST API tokens): a context variable, so
        # it follows a request from the event loop into the worker thread that runs it.
        self._role: contextvars.ContextVar[str | None] = contextvars.ContextVar(
            f"persist_role_{id(self)}", default=None)
        self._collections: dict[str, object] = {}
        self._listeners: list = []
        self._lock = threading.Lock()
        self._run(self._create_system_tables)

    @classmethod
    def over(cls, database: Database, **policy) -> "PersistApp":
        """The app over an existing ``Database`` (a notebook's, a server's), shared: every
        caller asking for the same database gets the same app while one is alive, so
        collections registered by one (with their models) are seen by the others (the
        notebook's REST server, its live grids). ``policy`` as for ``open``; it applies
        only when the app is made here."""
        with _shared_lock:
            app = _shared.get(id(database))
            if app is None or app.database is not database:
                retry = RetryPolicy(policy.pop("max_attempts", 3),
                                    policy.pop("base_backoff_ms", 5),
                                    policy.pop("max_backoff_ms", 25))
                app = cls(database, retry=retry,
                          idempotency_ttl_s=policy.pop("idempotency_ttl_s", 24 * 3600),
                          actor=policy.pop("actor", None))
                if policy:
                    raise TypeError(f"unknown option(s) {sorted(policy)}")
                _shared[id(database)] = app
            return app

    def on_collection(self, callback: Callable[[object], None]) -> Callable[[], None]:
        """Call ``callback(collection)`` whenever a collection is registered or
        re-registered (a new model); returns a function that removes the callback."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners \
            else None

    @classmethod
    def open(cls, path=None, *, durability: str = "sync", max_attempts: int = 3,
             base_backoff_ms: float = 5, max_backoff_ms: float = 25,
             idempotency_ttl_s: float = 24 * 3600, actor: str | None = None,
             **database_options) -> "PersistApp":
        """In memory (``path=None``) or durable in directory ``path`` (recovered on open).

        ``database_options`` go to ``Database.open`` (e.g. ``checkpoint_bytes``, the
        automatic snapshot policy of the durable directory).
        """
        if path is None:
            db = Database(name="persist")
        else:
            db = Database.open(path, durability, **database_options)
        retry = RetryPolicy(max_attempts, base_backoff_ms, max_backoff_ms)
        if retry.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        return cls(db, retry=retry, idempotency_ttl_s=idempotency_ttl_s, actor=actor)

    # ---- connections and transactions -----------------------------------------------
    def connect(self):
        """A new DB-API connection to the app's database (autocommit)."""
        return self.database.connect()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.database.connect()
            conn.autocommit = False
            # Snapshot transactions, whatever the engine's default becomes: the version
            # check reads in Python and then writes, which is only safe if a concurrent
            # commit fails us with 40001 (READ COMMITTED would re-run the UPDATE alone
            # on newer data and lose an update).
            conn.execute("SET default_transaction_isolation = 'repeatable read'")
            conn.commit()
            self._local.conn = conn
        return self._as_current_role(conn)

    def _as_current_role(self, conn):
        """The thread's connection, acting as the role of the current context (the
        engine's privilege checks then apply: auth/check.py); no role: as the app."""
        session = conn._session
        role = self._role.get()
        if session.auth_user != role:
            session.auth_user = role
            session.user_name = role
        return conn

    @property
    def role(self) -> str | None:
        """The database role operations in this context run as (None: the app itself,
        the implicit superuser of an embedded connection)."""
        return self._role.get()

    @contextlib.contextmanager
    def as_role(self, role: str | None):
        """Operations in this block (this context, and threads started from it with
        its context, as Starlette's worker threads are) run as database role ``role``:
        what the role may not do is ``42501``. The role is taken as authenticated (the
        caller checked a password or an API token); system tables (audit, idempotency,
        journal, outbox, projections) are still written by the app itself."""
        token = self._role.set(role)
        try:
            yield self
        finally:
            self._role.reset(token)

    def enter_role(self, role: str | None) -> None:
        """``as_role`` without a block, for a context that ends by itself (one HTTP
        request's task: the REST layer's token check)."""
        self._role.set(role)

    @property
    def actor(self) -> str | None:
        return getattr(self._local, "actor", None) or self._role.get() or self.default_actor

    @contextlib.contextmanager
    def acting_as(self, actor: str):
        """Audit records written in this block (this thread) name ``actor``."""
        previous = getattr(self._local, "actor", None)
        self._local.actor = actor
        try:
            yield self
        finally:
            self._local.actor = previous

    @contextlib.contextmanager
    def transaction(self):
        """Operations in the block, on any collections, commit together or not at all."""
        if getattr(self._local, "in_tx", False):
            yield self                   # nested: part of the enclosing transaction
            return
        conn = self._conn()
        self._local.in_tx = True
        try:
            yield self
        except BaseException:
            self._local.in_tx = False
            conn.rollback()
            raise
        self._local.in_tx = False
        try:
            conn.commit()
        except SerializationFailure as exc:
            conn.rollback()
            raise _as_conflict(exc) from exc

    def _read(self, body: Callable[[object], T]) -> T:
        """Run a single-statement read: in the current transaction if any, else on an
        autocommit connection (one statement is its own snapshot; no BEGIN/COMMIT)."""
        if getattr(self._local, "in_tx", False):
            return body(self._conn())
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self.database.connect()
        return body(self._as_current_role(reader))

    def atomic(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn(*args, **kwargs)`` in one transaction, run again on write-write conflicts.

        The retrying form of ``with app.transaction():``: ``fn`` must do all its reads
        through the collections (so a re-run sees the newer data) and have no other side
        effects, as it may run up to ``retry.max_attempts`` times.
        """
        if getattr(self._local, "in_tx", False):
            return fn(*args, **kwargs)      # nested: the outer transaction retries
        attempt = 0
        while True:
            try:
                with self.transaction():
                    return fn(*args, **kwargs)
            except ConflictError as exc:
                if exc.kind != "write_write" or attempt + 1 >= self._attempts():
                    raise
            time.sleep(self.retry.backoff(attempt))
            attempt += 1

    def _attempts(self) -> int:
        return 1 if getattr(self._local, "no_retry", False) else self.retry.max_attempts

    @contextlib.contextmanager
    def single_attempt(self):
        """Operations in this block (this thread) make one attempt: a write-write
        conflict is raised at once (``ConflictError(kind="write_write")``) instead of
        slept on and retried. For a caller that must not sleep (an event loop running a
        short write itself): it decides where the retries happen."""
        previous = getattr(self._local, "no_retry", False)
        self._local.no_retry = True
        try:
            yield self
        finally:
            self._local.no_retry = previous

    def run_once(self, fn: Callable[..., T], *args) -> T:
        """``fn(*args)`` under ``single_attempt`` (without a context manager's cost:
        the REST layer's inline writes call it once per request)."""
        local = self._local
        previous = getattr(local, "no_retry", False)
        local.no_retry = True
        try:
            return fn(*args)
        finally:
            local.no_retry = previous

    def _run(self, body: Callable[[object], T]) -> T:
        """Run ``body(conn)`` in the current transaction, or in its own with retries."""
        conn = self._conn()
        if getattr(self._local, "in_tx", False):
            return _translate(body, conn)
        attempt = 0
        while True:
            try:
                result = _translate(body, conn)
                conn.commit()
                return result
            except SerializationFailure as exc:
                conn.rollback()
                conflict = exc if isinstance(exc, ConflictError) else _as_conflict(exc)
                if conflict.kind != "write_write" or attempt + 1 >= self._attempts():
                    raise conflict from (None if conflict is exc else exc)
                time.sleep(self.retry.backoff(attempt))
                attempt += 1
            except BaseException:
                conn.rollback()
                raise

    def _create_system_tables(self, conn) -> None:
        existing = set(self.database.tables())
        for name, columns in SYSTEM_TABLES.items():
            if name not in existing:
                conn.execute(f'CREATE TABLE "{name}" ({columns})')
        if "_persist_audit" not in existing:
            conn.execute('CREATE INDEX "_persist_audit_entity" ON "_persist_audit" '
                         '("entity_id")')
        names = conn.execute('SELECT * FROM "_persist_audit" LIMIT 0').description
        self._audit_columns = tuple(d[0] for d in names)
        self._audit_ids = names[0][0] == "audit_id"      # the layout before 2026-12
        # positions appended in storage form: all but the actor (see _audit_batch)
        shift = 1 if self._audit_ids else 0
        self._audit_stored = tuple(i + shift for i in (0, 1, 2, 3, 4, 6, 7, 8)) + \
            ((0,) if shift else ())
        self._changed_json: dict = {}

    def _write_audit(self, conn, seq: int, collection: str, entity_id, operation: str,
                     at, before, after, changed: list) -> None:
        """One audit record, in ``conn``'s transaction (either table layout)."""
        batch = self._audit_batch(seq, collection, entity_id, operation, at, before,
                                  after, changed)
        # Straight into the transaction (no SQL text, plan lookup or statement round:
        # half the cost of the record); SQL when the connection cannot.
        if not conn.append([batch]):
            self._audit_sql(conn, batch)

    def _audit_batch(self, seq: int, collection: str, entity_id, operation: str, at,
                     before, after, changed) -> tuple:
        """The ``Connection.append`` batch of one audit record. Everything but the actor
        is made here, so it goes in storage form (the id as text, the changed-field
        list as canonical JSON text, cached: a collection's creates all name the same
        fields) and skips the per-value conversion."""
        key = tuple(changed)
        text = self._changed_json.get(key)
        if text is None:
            if len(self._changed_json) > 4096:
                self._changed_json.clear()
            text = self._changed_json[key] = canonical_json(list(key))
        if type(entity_id) is not uuid.UUID:
            entity_id = uuid.UUID(str(entity_id))
        record = (seq, collection, str(entity_id), operation, at, self.actor, before, after,
                  text)
        if self._audit_ids:
            record = (str(uuid4()), *record)
        return ("_persist_audit", self._audit_columns, [record], self._audit_stored)

    def _audit_sql(self, conn, batch: tuple) -> None:
        """The audit record of ``batch`` as an INSERT (a connection acting as a role, or
        a READ COMMITTED transaction, cannot append): the same values, as SQL reads
        them (a UUID and JSON text are cast by their column)."""
        record = batch[2][0]
        conn.execute(_AUDIT_INSERT_WITH_ID if self._audit_ids else _AUDIT_INSERT, record)

    def purge_expired_keys(self) -> int:
        """Delete idempotency keys past their TTL (a reused expired key is replaced
        anyway; this keeps the table small). Returns how many were deleted."""
        from .collection import _now
        return self._run(lambda conn: conn.execute(
            'DELETE FROM "_persist_idempotency" WHERE "expires_at" <= ?', (_now(),)).rowcount)

    # ---- collections --------------------------------------------------------------------
    def collection(self, name: str, model, *, unique=(), index=(), schema_version: int = 1,
                   migrations=None):
        """The collection ``name`` of ``model`` entities, created (or migrated) if needed."""
        from .collection import Collection
        with self._lock:
            coll = self._collections.get(name)
            if coll is not None and coll.model is model and coll.schema_version == schema_version:
                return coll
            coll = Collection(self, name, model, unique=unique, index=index,
                              schema_version=schema_version, migrations=migrations or {})
            self._collections[name] = coll
        for listener in list(self._listeners):
            listener(coll)
        return coll

    def __getitem__(self, name: str):
        return self._collections[name]

    # ---- snapshots ------------------------------------------------------------------
    def snapshot(self, path=None):
        """An O(1) fork of every collection; with ``path``, also Parquet files + manifest.

        Later commits to the app do not show in the snapshot; ``snapshot.connect()``
        queries it with SQL. Pass it (or the path) to ``restore``.
        """
        from .snapshot import Snapshot
        snap = Snapshot.of_fork(self.database.fork("persist-snapshot"))
        return snap if path is None else snap.write(path)

    def restore(self, snapshot, policy: str = "fail_fast") -> dict:
        """Put a snapshot's entities back: ``fail_fast``, ``skip_existing`` or ``overwrite``.

        One transaction; returns ``{"inserted": n, "skipped": n, "overwritten": n}``.
        """
        from .snapshot import Snapshot, restore
        if not isinstance(snapshot, Snapshot):
            snapshot = Snapshot.load(snapshot)
        return restore(self, snapshot, policy)

    def close(self) -> None:
        for attr in ("conn", "reader"):
            conn = getattr(self._local, attr, None)
            if conn is not None:
                conn.close()
                setattr(self._local, attr, None)
        closer = getattr(self.database, "close", None)
        if closer is not None:
            closer()

    def __enter__(self) -> "PersistApp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _translate(body, conn):
    try:
        return body(conn)
    except ConflictError:
        raise
    except SerializationFailure:
        raise
    except IntegrityError as exc:
        if exc.sqlstate == "23505":
            raise ConflictError(exc.message, kind="unique", detail=exc.detail) from exc
        raise


def _as_conflict(exc: SerializationFailure) -> ConflictError:
    if isinstance(exc, ConflictError):
        return exc
    return ConflictError(f"write-write conflict: {exc.message}", kind="write_write",
                         detail=exc.detail,
                         hint="Another transaction changed the same entity; retry.")
