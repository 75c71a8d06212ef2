"""EntityRuntime: dispatch command envelopes to handlers, with journal, outbox and
projections written in the command's own transaction.

``runtime.dispatch(envelope)`` resolves the handler (registry.py: aliases,
upcasters), then in one transaction (re-run on write-write conflicts): checks the
idempotency key, reads the entity, checks ``expected_version``, runs the handler,
writes the entity (versioned and audited by its collection), appends the journal
record, the outbox messages the handler emitted and the projection updates. A
crash keeps all of that or none of it.

``runtime.rebuild(snapshot)`` replays the journal records after a snapshot (an
``app.snapshot()`` fork, which carries the journal up to that point) through the
same handlers into a scratch copy, and ``rebuild_projections`` puts the rebuilt
projection rows back into the live tables.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from ..collection import _now, _uuid
from ..errors import ConflictError, NotFoundError, ValidationError
from ..schema import to_json_value
from . import journal as journal_mod
from . import outbox as outbox_mod
from .envelope import CommandEnvelope
from .journal import Journal, JournalRecord
from .outbox import Outbox
from .projection import Projection, ProjectionEvent, ProjectionWriter
from .registry import CommandRegistry, Handler

DELETE = object()
"""A handler returning ``DELETE`` deletes its entity."""


_UUID_NAMESPACE = uuid.UUID("6f1b7f3e-2d2a-4e0b-9c7e-7a6b0e5d1c42")


class CommandContext:
    """What a handler may use besides the entity and payload: values that are the same
    when the journal replays the command (its time, derived ids), and ``emit``."""

    def __init__(self, envelope: CommandEnvelope, at: dt.datetime, replaying: bool,
                 version_before: int = 0) -> None:
        self.envelope = envelope
        self.at = at                      # the command's time (the journal's, on replay)
        self.replaying = replaying
        self.version_before = version_before
        self.emitted: list[tuple[str, Any]] = []
        self._uuids = 0

    def deterministic_uuid(self, label: str = "") -> uuid.UUID:
        """A UUID fixed by the entity, its version, the command and ``label`` (and how
        many were asked for before): the same on replay, unlike ``uuid.uuid4()``."""
        self._uuids += 1
        e = self.envelope
        return uuid.uuid5(_UUID_NAMESPACE, f"{e.entity_type}:{e.id}:{self.version_before}:"
                                           f"{e.command}:{label}:{self._uuids}")

    def emit(self, topic: str, payload) -> None:
        """An outbox message, written with the change (not written on replay)."""
        self.emitted.append((topic, to_json_value(payload)))


@dataclass(frozen=True)
class CommandResult:
    entity_type: str
    id: uuid.UUID
    version: int | None           # None after a delete
    journal_seq: int
    entity: Any = None            # the stored entity (None after a delete)


class EntityRuntime:
    def __init__(self, app, registry: CommandRegistry | None = None) -> None:
        self.app = app
        self.registry = registry or CommandRegistry()
        self.journal = Journal(app)
        self.outbox = Outbox(app)
        self.projections: dict[str, Projection] = {}
        self._types: dict[str, Any] = {}       # entity_type -> collection
        app._run(self._create_tables)

    def _create_tables(self, conn) -> None:
        tables = set(self.app.database.tables())
        for name, ddl in ((journal_mod.TABLE, journal_mod.DDL),
                          (outbox_mod.TABLE, outbox_mod.DDL)):
            if name not in tables:
                conn.execute(f'CREATE TABLE "{name}" ({ddl})')
        if outbox_mod.TABLE not in tables:
            conn.execute(f'CREATE INDEX "_persist_outbox_pending" ON "{outbox_mod.TABLE}" '
                         '("dispatched_at")')

    # ---- setup ------------------------------------------------------------------------
    def entity(self, entity_type: str, collection) -> None:
        """Commands for ``entity_type`` act on the entities of ``collection``."""
        self._types[entity_type] = collection

    def projection(self, projection: Projection) -> Projection:
        self.projections[projection.name] = projection
        self.app._run(lambda conn: projection.ensure(conn, set(self.app.database.tables())))
        return projection

    def register_model_commands(self, entity_type: str, collection) -> list[str]:
        """Register the collection model's ``@command`` methods as handlers: the payload
        is the method's keyword arguments (validated by a model of its signature), the
        method changes the entity in place or returns a new one. Returns the names."""
        from ..commands import args_model, commands_of
        self.entity(entity_type, collection)
        names = []
        for spec in commands_of(collection.adapter.model).values():
            if spec.kind != "command":
                continue
            model = args_model(spec, f"{entity_type}_{spec.name}_payload")

            def handler(entity, payload, ctx, spec=spec, model=model):
                import pydantic
                try:
                    args = model.model_validate(payload)
                except pydantic.ValidationError as exc:
                    raise ValidationError(f"{entity_type}.{spec.name} payload: {exc}") from None
                result = getattr(entity, spec.attr)(**{p.name: getattr(args, p.name)
                                                      for p in spec.params})
                return result if isinstance(result, type(entity)) else None

            self.registry.register(entity_type, spec.name, handler)
            names.append(spec.name)
        return names

    def command(self, *args, **kwargs):
        """``@runtime.command(entity_type, name=None, creates=False, version=1, aliases=())``."""
        return self.registry.command(*args, **kwargs)

    # ---- dispatch ---------------------------------------------------------------------
    def dispatch(self, envelope: CommandEnvelope | dict) -> CommandResult:
        if isinstance(envelope, dict):
            envelope = CommandEnvelope.from_json(envelope)
        handler, resolved = self.registry.resolve(envelope)
        coll = self._collection(resolved.entity_type)
        # The key's scope and payload are the envelope as sent (before a create gets
        # its generated id), so a replayed create finds its first result.
        sent = envelope.to_json()
        scope = f"runtime:{resolved.entity_type}:{resolved.command}" + (
            f":{resolved.id}" if resolved.id is not None else "")
        if resolved.id is None:
            if not handler.creates:
                raise ValidationError(f"{resolved.entity_type}.{resolved.command} needs an "
                                      "entity id")
            resolved = resolved.with_(id=uuid.uuid4())
        key = envelope.idempotency_key

        def body():
            conn = self.app._conn()
            return coll._idempotent(
                conn, scope, key, {"envelope": sent},
                lambda: self._apply(conn, handler, resolved, _now(), envelope.command,
                                    replaying=False),
                encode=_encode_result, decode=lambda d: _decode_result(coll, d))
        return self.app.atomic(body)

    def _collection(self, entity_type: str):
        coll = self._types.get(entity_type)
        if coll is None:
            raise ValidationError(f"no collection for entity type {entity_type!r}",
                                  hint="runtime.entity(entity_type, collection)")
        return coll

    def _apply(self, conn, handler: Handler, env: CommandEnvelope, at: dt.datetime,
               sent_command: str, *, replaying: bool) -> CommandResult:
        coll = self._collection(env.entity_type)
        eid = _uuid(env.id)
        row = coll._row(conn, eid)
        before_entity = None if row is None else coll.adapter.from_row(row)
        before = None if row is None else _fields(coll, before_entity)
        ctx = CommandContext(env.with_(id=eid), at, replaying,
                             0 if row is None else row["_version"])
        if row is None:
            if not handler.creates:
                raise NotFoundError(f"{coll.name} has no entity {eid}")
            data = handler.fn(None, dict(env.payload), ctx)
            entity = coll._create(conn, data, entity_id=eid)
            version = 1
        else:
            if handler.creates:
                raise ConflictError(f"{coll.name} {eid} exists already", kind="unique",
                                    entity_id=eid)
            if env.expected_version is not None and row["_version"] != env.expected_version:
                coll._current(conn, eid, env.expected_version)     # raises kind="version"
            working = coll.adapter.from_row(row)      # the handler may change it in place
            result = handler.fn(working, dict(env.payload), ctx)
            if result is DELETE:
                coll._delete(conn, eid, env.expected_version)
                entity, version = None, None
            else:
                target = working if result is None else \
                    result if isinstance(result, type(working)) else None
                if target is None:
                    raise ValidationError(
                        f"{env.entity_type}.{env.command} returned "
                        f"{type(result).__name__}, not the entity (or DELETE)")
                new = coll.adapter.validate(coll.adapter.values(target))
                entity = coll._patch(conn, eid, env.expected_version,
                                     f"command:{env.command}", lambda _current: new)
                version = entity._version
        after = None if entity is None else _fields(coll, entity)
        seq = self.journal.append(
            conn, entity_type=env.entity_type, entity_id=eid, command=env.command,
            payload=to_json_value(env.payload), payload_version=env.payload_version or 1,
            sent_command=sent_command, version_after=version, at=at,
            idempotency_key=env.idempotency_key)
        if not replaying:
            for topic, payload in ctx.emitted:
                self.outbox.add(conn, topic, payload, entity_type=env.entity_type,
                                entity_id=eid, journal_seq=seq)
        event = ProjectionEvent(env.entity_type, eid, env.command,
                                to_json_value(env.payload), before, after, version, at)
        for proj in self.projections.values():
            if proj.wants(env.entity_type):
                proj.on_event(ProjectionWriter(conn, proj.name), event)
        return CommandResult(env.entity_type, eid, version, seq, entity)

    # ---- replay -----------------------------------------------------------------------
    def replay(self, records: list[JournalRecord]) -> int:
        """Apply journal records (already canonical and upcast) in order; returns how many.
        Nothing is emitted to the outbox: those messages went out the first time."""
        for rec in records:
            handler = self.registry._handlers.get((rec.entity_type, rec.command))
            if handler is None:
                raise ValidationError(f"journal record {rec.seq}: no handler for "
                                      f"{rec.entity_type}.{rec.command}")
            env = CommandEnvelope(rec.entity_type, rec.entity_id, rec.command, rec.payload,
                                  payload_version=rec.payload_version,
                                  idempotency_key=rec.idempotency_key)
            self.app.atomic(lambda: self._apply(self.app._conn(), handler, env, rec.at,
                                                rec.sent_command, replaying=True))
        return len(records)

    def rebuild(self, snapshot=None):
        """A scratch PersistApp: the snapshot (or an empty database) plus every journal
        record after it, replayed through the handlers. Its entities and projections are
        what the live ones should be; compare with ``projection.rows(app)``."""
        from ...database import Database
        from ..app import PersistApp
        db = snapshot.database.fork("rebuild") if snapshot is not None else \
            Database(name="rebuild")
        scratch = PersistApp(db, retry=self.app.retry,
                             idempotency_ttl_s=self.app.idempotency_ttl_s, actor=None)
        other = EntityRuntime(scratch, self.registry)
        for entity_type, coll in self._types.items():
            other.entity(entity_type, scratch.collection(
                coll.name, coll.model, unique=coll.unique, index=coll.index,
                schema_version=coll.schema_version))
        for proj in self.projections.values():
            other.projection(proj)
        start = other.journal.last_seq() if snapshot is not None else 0
        other.replay(self.journal.read(after=start))
        return scratch

    def rebuild_projections(self, snapshot=None) -> dict[str, int]:
        """Replace the live projection rows by the rebuilt ones (one transaction)."""
        scratch = self.rebuild(snapshot)
        try:
            fresh = {name: p.rows(scratch) for name, p in self.projections.items()}
        finally:
            scratch.close()

        def body(conn):
            for name, rows in fresh.items():
                conn.execute(f'DELETE FROM "{name}"')
                for r in rows:
                    conn.execute(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(r))})',
                                 r)
        self.app._run(body)
        return {name: len(rows) for name, rows in fresh.items()}


def _fields(coll, entity) -> dict:
    return to_json_value(coll.adapter.values(entity))


def _encode_result(result: CommandResult) -> dict:
    return {"entity_type": result.entity_type, "id": str(result.id),
            "version": result.version, "journal_seq": result.journal_seq}


def _decode_result(coll, d: dict) -> CommandResult:
    eid = uuid.UUID(d["id"])
    return CommandResult(d["entity_type"], eid, d["version"], d["journal_seq"],
                         coll.get(eid) if d["version"] is not None else None)
