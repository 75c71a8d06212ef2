"""The journal: one row per applied command, in the same transaction as its change.

``_persist_journal`` is an ordinary table, so it is as durable as the entities
(the database's WAL; a crash keeps both or neither) and forks with them (a
snapshot knows how far the journal went). Records hold the canonical command
name and the upcast payload, so a replay needs no aliases or upcasters, only the
handlers. ``seq`` orders records; two commands on one entity cannot commit out
of ``seq`` order (the second conflicts with the first and re-runs with a later
``seq``).
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from ..app import as_system
from ..collection import next_seq

TABLE = "_persist_journal"
DDL = ('"seq" BIGINT PRIMARY KEY, "entity_type" TEXT NOT NULL, "entity_id" UUID NOT NULL, '
       '"command" TEXT NOT NULL, "payload" JSONB, "payload_version" BIGINT NOT NULL, '
       '"sent_command" TEXT NOT NULL, "version_after" BIGINT, "at" TIMESTAMP NOT NULL, '
       '"idempotency_key" TEXT')


@dataclass(frozen=True)
class JournalRecord:
    seq: int
    entity_type: str
    entity_id: uuid.UUID
    command: str                 # canonical name
    payload: dict                # upcast to payload_version
    payload_version: int
    sent_command: str            # the name the envelope used (an alias, maybe)
    version_after: int | None
    at: dt.datetime
    idempotency_key: str | None


class Journal:
    def __init__(self, app) -> None:
        self.app = app

    def append(self, conn, *, entity_type: str, entity_id, command: str, payload: dict,
               payload_version: int, sent_command: str, version_after, at,
               idempotency_key) -> int:
        seq = next_seq()
        with as_system(conn):         # the app's record, whichever role sent the command
            conn.execute(f'INSERT INTO "{TABLE}" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                         (seq, entity_type, entity_id, command, payload, payload_version,
                          sent_command, version_after, at, idempotency_key))
        return seq

    def read(self, after: int = 0, app=None) -> list[JournalRecord]:
        """Records with ``seq > after``, oldest first."""
        rows = (app or self.app)._read(lambda conn: conn.execute(
            f'SELECT * FROM "{TABLE}" WHERE "seq" > ? ORDER BY "seq"', (after,)).fetchall())
        return [JournalRecord(*r) for r in rows]

    def last_seq(self, app=None) -> int:
        row = (app or self.app)._read(lambda conn: conn.execute(
            f'SELECT max("seq") FROM "{TABLE}"').fetchone())
        return row[0] or 0

    def __len__(self) -> int:
        return self.app._read(lambda conn: conn.execute(
            f'SELECT count(*) FROM "{TABLE}"').fetchone()[0])
