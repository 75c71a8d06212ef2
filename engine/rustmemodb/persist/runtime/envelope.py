"""Command envelopes: what an application asks an entity to do, as plain data.

An envelope names the entity (``entity_type``, ``id``), the ``command`` and its
JSON ``payload``, optionally the ``expected_version`` (optimistic check) and an
``idempotency_key`` (a replay returns the first result). ``payload_version`` says
which shape the payload has, so an old client's payload is upcast (registry.py)
before the handler sees it; ``None`` means the command's current shape.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class CommandEnvelope:
    entity_type: str
    id: uuid.UUID | str | None
    command: str
    payload: dict = field(default_factory=dict)
    expected_version: int | None = None
    idempotency_key: str | None = None
    payload_version: int | None = None

    def with_(self, **changes: Any) -> "CommandEnvelope":
        return replace(self, **changes)

    def to_json(self) -> dict:
        return {"entity_type": self.entity_type,
                "id": None if self.id is None else str(self.id),
                "command": self.command, "payload": self.payload,
                "expected_version": self.expected_version,
                "idempotency_key": self.idempotency_key,
                "payload_version": self.payload_version}

    @classmethod
    def from_json(cls, data: dict) -> "CommandEnvelope":
        known = {"entity_type", "id", "command", "payload", "expected_version",
                 "idempotency_key", "payload_version"}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown envelope field(s) {sorted(extra)}")
        return cls(**{k: data[k] for k in known if k in data})
