"""Persist collections: versioned entities on ordinary tables (see app.py, collection.py).

``PersistApp.open()`` gives an app over a Database; ``app.collection(name, model)``
a collection of pydantic models, dataclasses or JSON-Schema records with
optimistic versions, idempotency keys, audit records and retries. pydantic is an
optional extra (``rustmemodb[persist]``), imported only for pydantic models.
"""
from .app import PersistApp, RetryPolicy
from .commands import command, query
from .collection import AuditRecord, Collection, Page, batch_step
from .errors import ConflictError, IdempotencyError, NotFoundError, ValidationError
from .schema import Entity
from .snapshot import Snapshot

__all__ = ["PersistApp", "RetryPolicy", "Collection", "Page", "AuditRecord", "batch_step",
           "Entity", "Snapshot", "command", "query",
           "ConflictError", "IdempotencyError", "NotFoundError", "ValidationError"]
