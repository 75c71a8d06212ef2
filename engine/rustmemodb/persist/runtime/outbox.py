"""The outbox: messages for the outside world, written with the change they announce.

A command handler's ``ctx.emit(topic, payload)`` becomes a row of
``_persist_outbox`` in the command's own transaction, so a message exists if and
only if its change committed. Delivery happens afterwards: ``deliver(handler)``
calls ``handler(record)`` for each pending record and marks it dispatched once
the call returned; a call that raised is retried on a later pass after a
backoff. A crash between the call and the mark means the record is delivered
again after restart: at least once, never lost (handlers deduplicate by
``record.id`` when they must). ``start(handler)`` runs passes on a thread.
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from typing import Callable, Iterable

from ..app import as_system
from ..collection import _now, next_seq

TABLE = "_persist_outbox"
DDL = ('"id" UUID PRIMARY KEY, "seq" BIGINT NOT NULL, "topic" TEXT NOT NULL, '
       '"payload" JSONB, "entity_type" TEXT, "entity_id" UUID, "journal_seq" BIGINT, '
       '"created_at" TIMESTAMP NOT NULL, "dispatched_at" TIMESTAMP, '
       '"attempts" BIGINT NOT NULL, "last_error" TEXT, "next_attempt_at" TIMESTAMP NOT NULL')


@dataclass(frozen=True)
class OutboxRecord:
    id: uuid.UUID
    seq: int
    topic: str
    payload: dict
    entity_type: str | None
    entity_id: uuid.UUID | None
    journal_seq: int | None
    created_at: dt.datetime
    dispatched_at: dt.datetime | None
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime


@dataclass
class Delivery:
    delivered: list
    failed: list


class Outbox:
    def __init__(self, app, *, base_backoff_s: float = 0.05, max_backoff_s: float = 5.0) -> None:
        self.app = app
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s

    def add(self, conn, topic: str, payload, *, entity_type=None, entity_id=None,
            journal_seq=None) -> uuid.UUID:
        """Write a message in the caller's transaction (the runtime's command)."""
        rid, now = uuid.uuid4(), _now()
        with as_system(conn):         # the app's record, whichever role sent the command
            conn.execute(f'INSERT INTO "{TABLE}" VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, '
                         'NULL, ?)', (rid, next_seq(), topic, payload, entity_type, entity_id,
                                      journal_seq, now, now))
        return rid

    def pending(self, limit: int | None = None, *, due_only: bool = False) -> list[OutboxRecord]:
        """Records not dispatched yet, oldest first (``due_only``: past their backoff)."""
        clause = ' AND "next_attempt_at" <= ?' if due_only else ""
        params = (_now(),) if due_only else ()
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self.app._read(lambda conn: conn.execute(
            f'SELECT * FROM "{TABLE}" WHERE "dispatched_at" IS NULL{clause} ORDER BY "seq"'
            f"{tail}", params).fetchall())
        return [OutboxRecord(*r) for r in rows]

    def all(self) -> list[OutboxRecord]:
        rows = self.app._read(lambda conn: conn.execute(
            f'SELECT * FROM "{TABLE}" ORDER BY "seq"').fetchall())
        return [OutboxRecord(*r) for r in rows]

    def mark_dispatched(self, ids: Iterable) -> int:
        """Mark records delivered; returns how many were pending."""
        ids = [i if isinstance(i, uuid.UUID) else uuid.UUID(str(i)) for i in ids]
        if not ids:
            return 0
        now = _now()

        def body(conn):
            n = 0
            for rid in ids:
                n += conn.execute(f'UPDATE "{TABLE}" SET "dispatched_at" = ? WHERE "id" = ? '
                                  'AND "dispatched_at" IS NULL', (now, rid)).rowcount
            return n
        return self.app._run(body)

    def _failed(self, record: OutboxRecord, error: BaseException) -> None:
        attempts = record.attempts + 1
        delay = min(self.max_backoff_s, self.base_backoff_s * 2 ** (attempts - 1))
        self.app._run(lambda conn: conn.execute(
            f'UPDATE "{TABLE}" SET "attempts" = ?, "last_error" = ?, "next_attempt_at" = ? '
            'WHERE "id" = ?', (attempts, f"{type(error).__name__}: {error}"[:1000],
                               _now() + dt.timedelta(seconds=delay), record.id)))

    def deliver(self, handler: Callable[[OutboxRecord], object], *,
                limit: int = 100) -> Delivery:
        """One pass: ``handler(record)`` for each due pending record, oldest first."""
        out = Delivery([], [])
        for record in self.pending(limit, due_only=True):
            try:
                handler(record)
            except Exception as exc:               # noqa: BLE001 - retried later
                self._failed(record, exc)
                out.failed.append(record.id)
                continue
            self.mark_dispatched([record.id])
            out.delivered.append(record.id)
        return out

    def start(self, handler: Callable[[OutboxRecord], object], *,
              interval: float = 0.1) -> "Dispatcher":
        return Dispatcher(self, handler, interval).start()


class Dispatcher:
    """Delivery passes on a daemon thread until ``stop()``."""

    def __init__(self, outbox: Outbox, handler, interval: float) -> None:
        self.outbox, self.handler, self.interval = outbox, handler, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rustmemodb-outbox",
                                        daemon=True)
        self.errors: list[BaseException] = []

    def start(self) -> "Dispatcher":
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.outbox.deliver(self.handler)
            except Exception as exc:                # noqa: BLE001 - keep delivering
                self.errors.append(exc)
                done = Delivery([], [])
            if not done.delivered:
                self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
