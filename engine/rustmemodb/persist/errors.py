"""Errors of persist collections, as engine (PEP 249) errors with a SQLSTATE.

``ConflictError`` is one class for every "someone else got there first" case so
an application needs a single ``except``; ``kind`` says which: ``"version"`` (a
stale ``expected_version``), ``"write_write"`` (a concurrent commit changed the
same row, after the app's retries), ``"unique"`` (a unique field's value is
taken). It is both a ``SerializationFailure`` and an ``IntegrityError`` so
generic DB-API handlers of either kind catch it too.
"""
from __future__ import annotations

from ..errors import DataError, IntegrityError, SerializationFailure


class ConflictError(SerializationFailure, IntegrityError):
    sqlstate = "40001"

    def __init__(self, message: str, *, kind: str, entity_id=None,
                 expected_version: int | None = None, actual_version: int | None = None,
                 detail: str | None = None, hint: str | None = None) -> None:
        # A unique violation keeps PostgreSQL's own code; the others are 40001.
        super().__init__(message, sqlstate="23505" if kind == "unique" else "40001",
                         detail=detail, hint=hint)
        self.kind = kind
        self.entity_id = entity_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class IdempotencyError(IntegrityError):
    """An idempotency key reused (within its TTL) with a different payload."""
    sqlstate = "23000"


class NotFoundError(DataError):
    """No entity with this id in the collection (PL/pgSQL's no_data_found)."""
    sqlstate = "P0002"


class ValidationError(DataError):
    """Data that does not fit the collection's model."""
    sqlstate = "22023"
