"""Which committed rows other open transactions hold: the answer SKIP LOCKED and
NOWAIT need (exec/operators/lock_rows.py).

Under snapshot isolation nothing waits: a row lock (``LockOp``) is a claim checked at
commit. But a job queue's workers (``SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1``) must
not pick the same row, so a claimer has to see the claims of the transactions still
open: their row locks, and the rows they updated or deleted (PostgreSQL's UPDATE and
DELETE lock the rows they change too). A row changed by a commit since the claimer's
snapshot cannot be locked either (its commit would fail, 40001, as PostgreSQL's
REPEATABLE READ fails such a lock), so SKIP LOCKED skips it too: the next worker's
snapshot sees what became of it. One registry per Database, read from its open
transactions' own change lists and its commit log, so nothing needs releasing: a
transaction's claims end with it. ``lock`` serializes the look-and-claim steps of SKIP
LOCKED statements, so two of them never take the same row.

The open transactions and the commit log are read together under the Database's commit
lock: a commit leaves the open set and enters the log inside that lock, and between
the two (its record being logged, longer while the log is busy with an fsync's mark)
a claimer reading them one at a time saw it in neither, took a row it had locked, and
failed at COMMIT with 40001 (a four-worker queue test, ~1 run in 2 once log appends
waited on the log's lock).
"""
from __future__ import annotations

import threading

from .commit import committed_rowids, write_sets_since
from .transaction import BulkUpdateOp, DeleteOp, LockOp, Transaction, UpdateOp

_CHANGES = (UpdateOp, DeleteOp, BulkUpdateOp)


class RowClaims:
    """The open transactions' claims on committed rows of one Database."""

    __slots__ = ("_active", "_log", "_commits", "lock")

    def __init__(self, active: dict, log, commit_lock) -> None:
        self._active = active           # Database._active: id(txn) -> weakref(txn)
        self._log = log                 # Database._log: [version, WriteSet | txn] per commit
        self._commits = commit_lock     # Database._commit_lock (module docstring)
        self.lock = threading.Lock()

    def held(self, txn: Transaction, table: str, exclusive: bool) -> set[int]:
        """Rowids of ``table`` that open transactions other than ``txn`` locked, updated
        or deleted, and that conflict with a lock of this strength: an exclusive lock
        (FOR UPDATE) conflicts with every claim, a shared one (FOR SHARE) only with
        exclusive locks and changes. Only rows that were committed when each of them
        began: their own new rows' rowids are private and say nothing about ours."""
        held: set[int] = set()
        with self._commits:             # (copies: commits change both meanwhile)
            active, log = list(self._active.values()), list(self._log)
        for ref in active:
            other = ref()
            if other is None or other is txn:
                continue
            for op in list(other.raw_ops):
                kind = type(op)
                if (kind in _CHANGES or (kind is LockOp and (op.exclusive or exclusive))) \
                        and op.table == table:
                    held.update(committed_rowids(other, op))
        for other in write_sets_since(reversed(log), txn.snapshot.version):
            if table in other.tables:
                held.update(r for t, r in other.deleted if t == table)
        return held
