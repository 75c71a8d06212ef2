"""Projections: tables the runtime maintains from commands, in the same transaction.

A ``Projection(name, columns, on_event)`` owns the table ``name`` (created with
``columns``); after each command the runtime calls ``on_event(writer, event)``
with the entity's field values before and after, and the writer's SQL runs in
the command's transaction, so the projection never disagrees with the entities.
``on_event`` must be a function of the event alone (no clock, no randomness):
then replaying the journal over a snapshot rebuilds the same rows
(runtime.rebuild).
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Callable

from ..schema import quote


@dataclass(frozen=True)
class ProjectionEvent:
    entity_type: str
    entity_id: uuid.UUID
    command: str
    payload: dict
    before: dict | None          # field values (JSON-ready), None before a create
    after: dict | None           # None after a delete
    version: int | None
    at: dt.datetime              # the command's journal time (the same on replay)


class ProjectionWriter:
    def __init__(self, conn, table: str) -> None:
        self.conn, self.table = conn, table

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def upsert(self, key: dict, values: dict) -> None:
        """Replace the row whose ``key`` columns match by ``{**key, **values}``."""
        where = " AND ".join(f"{quote(k)} = ?" for k in key)
        self.conn.execute(f"DELETE FROM {quote(self.table)} WHERE {where}",
                          tuple(key.values()))
        row = {**key, **values}
        self.conn.execute(f"INSERT INTO {quote(self.table)} ({', '.join(map(quote, row))}) "
                          f"VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    def delete(self, key: dict) -> None:
        where = " AND ".join(f"{quote(k)} = ?" for k in key)
        self.conn.execute(f"DELETE FROM {quote(self.table)} WHERE {where}",
                          tuple(key.values()))


@dataclass(frozen=True)
class Projection:
    name: str
    columns: str                                  # the CREATE TABLE column list
    on_event: Callable[[ProjectionWriter, ProjectionEvent], None]
    entity_types: tuple = ()                      # () = every entity type

    def wants(self, entity_type: str) -> bool:
        return not self.entity_types or entity_type in self.entity_types

    def ensure(self, conn, tables) -> None:
        if self.name not in tables:
            conn.execute(f"CREATE TABLE {quote(self.name)} ({self.columns})")

    def rows(self, app) -> list[tuple]:
        """Every row, sorted (a stable form for comparing a rebuild with the live table)."""
        rows = app._read(lambda conn: conn.execute(
            f"SELECT * FROM {quote(self.name)}").fetchall())
        return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))
