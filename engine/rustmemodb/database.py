"""Database: the holder of the current committed root, and where commits happen.

A ``Database`` is tiny on purpose: a reference to an immutable ``Root``, a lock
taken only for the instant of a commit, and a short log of recent commits'
write sets for conflict checks. Everything heavy lives in the root, which is
shared, never copied. Hence:

* ``fork()`` is a new Database pointing at the same root: O(1) in time and
  memory whatever the data size; afterwards each side commits new roots of its
  own and neither sees the other's writes.
* ``connect()`` opens another session on *this* database (MVCC between them).
* ``restore(root)`` makes an older root current again (per-cell undo in the lab).

The lineage (``parent``, ``base_root``) is what branch diff and three-way merge
use as the common ancestor.
"""
from __future__ import annotations

import collections
import threading
import time
import weakref
from typing import TYPE_CHECKING

from . import errors
from .backends import Backends
from .index_keys import compile_keyer
from .storage.root import Root, replace
from .storage.schema import set_key_compiler
from .txn.commit import (WriteSet, rebase_ops, serialization_failure, write_set,
                         write_sets_since)
from .txn.row_claims import RowClaims
from .txn.sequence_marks import SequenceMarks
from .txn.subscribe import Subscribers, Subscription, changed_tables, diff_tables
from .txn.transaction import DeleteOp, InsertOp, LockOp, Transaction, UpdateOp

if TYPE_CHECKING:
    from .api.connection import Connection

# Enough history for any realistic transaction; older snapshots fail safe with 40001.
_COMMIT_LOG_SIZE = 100_000
# Guards the first making of a database's Backends (two sessions may open at once).
_BACKENDS_MADE = threading.Lock()


# Keyed indexes' key functions bind SQL, which storage may not import (index_keys.py).
set_key_compiler(compile_keyer)

class _Deferral(threading.local):
    """Per thread: the list collecting commits whose durability wait is deferred
    (``Database.deferring_durability``), or None (commits wait themselves)."""
    commits: list | None = None


class Database:
    def __init__(self, root: Root | None = None, *, parent: "Database | None" = None,
                 name: str = "main", functions=None, plan_cache=None) -> None:
        self.root = root if root is not None else Root()
        self.parent = parent
        self.base_root = self.root if parent is not None else None
        self.name = name
        self.created_at = time.time()
        self._commit_lock = threading.Lock()
        # Write sets of commits made while other transactions were open: exactly what
        # those transactions must be checked against when they commit.
        self._log: collections.deque = collections.deque(maxlen=_COMMIT_LOG_SIZE)
        # Open transactions: id(txn) -> weak reference. Weak, so a transaction dropped
        # without commit/rollback stops holding the log back once collected; a plain
        # dict of refs because a WeakSet's add/discard cost ~1.5 µs each, paid by every
        # autocommit statement. Dead refs are swept in _remember.
        self._active: dict[int, weakref.ref] = {}
        self.claims = RowClaims(self._active, self._log, self._commit_lock)
        self.sequence_marks = SequenceMarks()
        from .exec.functions.registry import FunctionRegistry
        self.functions = functions if functions is not None else FunctionRegistry()
        self._checks = None       # bound CHECKs, this database's own (made on first use)
        from .sql.plan_cache import PlanCache
        # Shared with forks: entries are validated by catalog-object identity, so a plan
        # is only reused where the tables it was bound against are the very same.
        self.plan_cache = plan_cache if plan_cache is not None else PlanCache()
        self.wal = None   # set by durability when the database is file-backed
        self._subscribers = Subscribers()   # told of each commit, outside the lock
        # Commits logged but not yet durable (sync durability): (lsn, root), oldest
        # first. Their roots are published (become ``root``) only once fsync'ed, while
        # later commits already build on the newest of them (``head``).
        self._pending: collections.deque = collections.deque()
        self._deferral = _Deferral()

    @property
    def backends(self):
        """The live sessions and the advisory locks (backends.py), made on first use:
        a fork that no session opens never pays for them."""
        found = self.__dict__.get("_backends")
        if found is None:
            with _BACKENDS_MADE:
                found = self.__dict__.get("_backends")
                if found is None:
                    found = self._backends = Backends()
        return found

    @classmethod
    def open(cls, path, durability: str = "sync", **options) -> "Database":
        """Open or create the file-backed database in directory ``path`` (see durability/)."""
        from .durability import open_database
        return open_database(path, durability, **options)

    # ---- sessions and forks -----------------------------------------------------------
    def connect(self, user: str | None = None, password: str | None = None) -> "Connection":
        """A new session; with ``user`` it logs in as that role (auth/login.py)."""
        from .api.connection import Connection
        return Connection(self, user, password)

    def fork(self, name: str | None = None) -> "Database":
        """An independent database sharing this one's committed state, in O(1)."""
        # The function registry is shared copy-on-write (see own_functions).
        self.functions.shared = True
        return Database(self.root, parent=self, name=name or f"{self.name}-fork",
                        functions=self.functions, plan_cache=self.plan_cache)

    def own_functions(self):
        """This database's function registry, copied first if forks share it."""
        if self.functions.shared:
            self.functions = self.functions.copy()
        return self.functions

    @property
    def checks(self):
        """The CHECK binder (sql/bind/bind_constraints.py), made on first use: it imports
        the binder and sqlglot, which connect() alone should not pay for."""
        checks = self._checks
        if checks is None:
            from .exec.expr.row import try_compile_row
            from .sql.bind.bind_constraints import CheckBinder
            checks = self._checks = CheckBinder(try_compile_row)
        return checks

    def bound_checks(self, schema, functions, sql_functions=None, kind: str = "check",
                     root=None) -> list:
        """``checks(schema, functions, sql_functions)`` for a statement's context
        (``ctx.checks``), without making the CHECK binder before a table with a CHECK is
        written. ``sql_functions``: the root's SQL functions a CHECK may call; ``root``:
        the one column DEFAULTs are bound against (``kind`` "defaults")."""
        return self.checks(schema, functions, sql_functions, kind, root)

    @property
    def head(self) -> Root:
        """The newest committed root, published or still waiting to be durable."""
        pending = self._pending
        return pending[-1][1] if pending else self.root

    # ---- transactions -----------------------------------------------------------------
    def begin(self, explicit: bool = False, after_pending: bool = False) -> Transaction:
        """A new transaction on the newest published root. An autocommit one whose
        durability wait is deferred starts after the commits still waiting for their
        fsync (``_after_pending``), and so does one ``after_pending`` (a READ COMMITTED
        transaction re-run at its COMMIT, whose statements' results are not told
        again): deferred or not, its commit is then acknowledged only once those are
        durable (a commit's fsync covers every record logged before it), and it cannot
        lose to them over and over while they wait to be published."""
        # Under the lock, so no commit can slip between taking the snapshot and
        # registering as active (it would then not be logged for us).
        with self._commit_lock:
            root = self.root
            deferred = self._deferral.commits
            if self._pending and (after_pending or (deferred is not None and not explicit)):
                if deferred is not None:
                    root = self._after_pending(deferred, root)
                elif self._pending[-1][1].catalog_version == root.catalog_version:
                    root = self._pending[-1][1]
            txn = Transaction(root, explicit)
            txn.claims = self.claims
            txn.marks = self.sequence_marks
            self._active[id(txn)] = weakref.ref(txn)
        return txn

    def _after_pending(self, deferred: list, root: Root) -> Root:
        """The snapshot of an autocommit statement whose durability wait is deferred,
        while commits logged before it still wait for their fsync: the newest logged
        root, so that its commit follows them without a rebase (a point UPDATE would
        otherwise redo its write on the newer root). It then depends on them: a
        marker entry (no transaction) in ``deferred`` makes ``finish_commits`` wait
        for the newest of them too, so nothing the statement read or decided (a row
        updated, 23505, UPDATE 0) is told before the commits it saw are durable; if
        their fsync fails, so does the statement. Not across a catalog change: a plan
        is validated against the published catalog."""
        lsn, head = self._pending[-1]
        if head.catalog_version != root.catalog_version:
            return root
        deferred.append((self.wal, lsn, None, None, None))
        return head

    def snapshot(self) -> Transaction:
        """A transaction that only reads the newest published root: not registered, so
        no commit keeps its log for it. Never committed; what it wrote (nothing, for a
        read) is dropped with it."""
        return Transaction(self.root, False)

    def refresh(self, txn: Transaction) -> None:
        """Move an open transaction onto the newest committed root with its own changes
        rebased (READ COMMITTED: each statement reads the newest data). ``40001`` if
        its changes so far conflict with a commit made since its snapshot."""
        if self.root is txn.snapshot:
            return
        with self._commit_lock:
            current = self.root
            if txn.ops:
                self._check_conflicts(txn, write_set(txn))
                working, ops = rebase_ops(txn, current)
            else:
                working, ops = current, []
            # Still registered in _active under the same id: commits from here on are
            # logged for it, and the log is pruned by its (newer) snapshot version.
            txn.snapshot, txn.working, txn.ops = current, working, ops

    def end(self, txn: Transaction) -> None:
        """Forget a transaction that rolled back (commit() does this itself)."""
        # Keyed by id: while ``txn`` is alive no other object can hold its id.
        self._active.pop(id(txn), None)

    def commit(self, txn: Transaction) -> Root:
        """Publish the transaction's changes, rebasing if others committed first."""
        ops = txn.ops
        if not ops or (type(ops[-1]) is LockOp and all(type(op) is LockOp for op in ops)):
            # nothing to publish (a read-only statement, or rows locked and left as they
            # were: a later writer of them wrote after us, no conflict): no lock needed
            self._active.pop(id(txn), None)
            return self.root
        wal = self.wal
        with self._commit_lock:
            self._active.pop(id(txn), None)
            current = self._pending[-1][1] if self._pending else self.root
            ws = None
            ops = None
            if current is txn.snapshot:
                new = txn.working
            else:
                ws = write_set(txn)
                self._check_conflicts(txn, ws)
                new, ops = rebase_ops(txn, current)   # ops: rowids as published
            new, lsn = self._stamp_and_log(current, new, txn, wal)
            self._remember(new.version, ws, txn)
        return self._published(wal, lsn, current, new, txn, ops)

    def _stamp_and_log(self, current: Root, new: Root, txn: Transaction, wal):
        """Number the root a commit publishes after ``current`` (a new catalog version
        when its DDL changed the catalog), log it, and make it the root, or queue it
        behind its log record's fsync (group commit). Under the commit lock."""
        catalog = current.catalog_version
        if new.catalog_version != txn.snapshot.catalog_version:
            catalog = max(catalog, new.catalog_version) + 1
        new = new.numbered(current.version + 1, catalog)
        lsn = wal.log_commit(txn, new) if wal is not None else None
        if txn.reset_sequences:
            self.sequence_marks.forget(txn.reset_sequences)
        if lsn is None:
            self.root = new
        else:
            self._pending.append((lsn, new))
        return new, lsn

    def commit_point(self, txn: Transaction) -> Root | None:
        """Publish an autocommit statement's transaction that was never registered
        (made by ``unregistered``, not ``begin``), or return None, publishing nothing,
        when anything was committed since its snapshot: the caller then runs the
        statement again the general way.

        Why: registering a transaction (under the commit lock) and, at commit, checking
        it against the commits made meanwhile are what make a long transaction safe;
        an autocommit point write costs a few microseconds, as much as that machinery,
        and nobody has seen its result yet, so when it loses a race it can be run again
        instead of being checked and rebased. It does not hold the log back either:
        commits made while it runs are never checked against it, since it then never
        commits."""
        ops = txn._ops
        if not ops or (type(ops[-1]) is LockOp and all(type(op) is LockOp for op in ops)):
            return self.root
        wal = self.wal
        with self._commit_lock:
            current = self._pending[-1][1] if self._pending else self.root
            if current is not txn.snapshot:
                return None
            new, lsn = self._stamp_and_log(current, txn._working, txn, wal)
            if self._active or self._pending or self._log:
                self._remember(new.version, None, txn)
        if lsn is None and not self._subscribers:   # the usual case, without a call
            return new
        return self._published(wal, lsn, current, new, txn, None)

    def commit_change(self, snapshot: Root, name: str, version, change: tuple) -> Root | None:
        """``commit_point`` of an autocommit statement computed without a transaction
        (the ``direct`` runners of exec/fast_update.py, fast_delete.py, fast_insert.py):
        it changed table ``name`` of ``snapshot``, the newest root when it began, to
        ``version``; ``change`` says how: ``("update", rowid, new row)``, ``("delete",
        rowid)`` or ``("insert", rows, rowids)``. None, publishing nothing, when anything
        was committed since ``snapshot``; the caller then runs the statement the general
        way.

        Why: with no log to write, no transaction to remember the commit for and no
        subscriber, publishing is swapping the root, so the root is built once, already
        numbered, and no Transaction, log op or working root is made. Otherwise the
        change becomes the Transaction that ``commit_point`` publishes, exactly as if
        the statement had run in one."""
        if self.wal is None and not self._subscribers.subs:
            with self._commit_lock:
                if self.root is not snapshot or self._pending:
                    return None
                if not self._active and not self._log:
                    new = self.root = snapshot.with_table(name, version,
                                                          number=snapshot.version + 1)
                    return new
        txn = Transaction(snapshot, False)
        txn._working = snapshot.with_table(name, version)
        txn._ops.append(_change_op(name, change))
        return self.commit_point(txn)

    def unregistered(self) -> Transaction | None:
        """A transaction on the newest root for ``commit_point``: not registered as
        active, so taking it needs no lock. While commits wait to be durable, a caller
        deferring its durability wait (the wire server's loop) starts from the newest
        logged root, as ``begin`` does for it (``_after_pending``: the marker makes it
        wait for them); any other caller gets None, since ``commit_point`` compares
        with the newest logged root and would decline.

        Why: under sync durability with a few clients an fsync is nearly always in
        flight, so without this most point writes took the registered way, ~70 µs
        more of the loop's CPU each."""
        root = self.point_base()
        return None if root is None else Transaction(root, False)

    def point_base(self) -> Root | None:
        """The root an autocommit point write starts from without registering a
        transaction (``unregistered``; ``commit_change`` for a statement computed from
        it): the published root, or, while commits wait to be durable and the caller
        defers its durability wait, the newest logged root, with a marker in the
        caller's deferred commits making its reply wait for those commits too (what it
        answers, even "UPDATE 0", was read from them); None for any other caller."""
        pending = self._pending
        if not pending:
            return self.root
        deferred = self._deferral.commits
        if deferred is None:
            return None
        root = self.root
        try:            # no lock: the fsync thread may publish (empty it) meanwhile
            lsn, head = pending[-1]
        except IndexError:
            return root
        if head.catalog_version != root.catalog_version:
            return None     # a plan is validated against the published catalog
        deferred.append((self.wal, lsn, None, None, None))
        return head

    def _published(self, wal, lsn: int | None, current: Root, new: Root, txn: Transaction,
                   ops: list | None) -> Root:
        """A commit's steps after the lock: wait for its log record to be durable (sync
        durability) and tell the subscribers."""
        if lsn is not None:   # sync durability: fsync outside the lock (group commit)
            deferred = self._deferral.commits
            if deferred is not None:     # the caller waits later (finish_commits)
                deferred.append((wal, lsn, current, new, txn))
                return new
            self._publish_when_durable(wal, lsn)
        if self._subscribers:   # this commit's own delta: its predecessor and its root
            self._subscribers.notify(current, new, changed_tables(txn, ops))
        return new

    def deferring_durability(self) -> list:
        """From now on, in this thread, a commit that must wait for its log record's
        fsync (sync durability) returns once logged, without waiting, and is added to
        the returned list; ``stop_deferring()`` ends that. The caller must then pass the
        list to ``finish_commits`` (from any thread) before telling anyone the commits
        happened: until then they are invisible to other sessions (not published), and
        the session that made them must not run another statement.

        Why: an event loop (the wire server) runs a point UPDATE itself, microseconds
        of work, and waits for the group fsync elsewhere without blocking the loop."""
        commits: list = []
        self._deferral.commits = commits
        return commits

    def stop_deferring(self) -> None:
        self._deferral.commits = None

    def finish_commits(self, commits: list) -> None:
        """Wait until the deferred ``commits`` are durable (one fsync covers them all
        and every commit logged meanwhile), publish them and tell the subscribers.
        Raises the log's error (58030) if the fsync failed: nothing was published."""
        if not commits:
            return
        wal = commits[-1][0]
        self._publish_when_durable(wal, max(c[1] for c in commits))
        self.notify_committed(commits)

    def notify_committed(self, commits: list) -> None:
        """Tell the subscribers of deferred ``commits`` published since (``finish_commits``
        does; so does an event loop that learnt of their fsync from a helper process and
        called ``publish_durable``)."""
        if self._subscribers:
            for _, _, before, after, txn in commits:
                if txn is not None:       # not a marker of commits read (begin)
                    self._subscribers.notify(before, after, changed_tables(txn))

    def subscribe(self, callback) -> Subscription:
        """Call ``callback(old_root, new_root, changed_tables)`` after every commit.

        Called once the commit is published (durable, under sync durability), outside
        the commit lock, in the committing thread; bound methods are held weakly.
        ``.cancel()`` on the returned Subscription stops it.
        """
        return self._subscribers.add(callback)

    def _publish_when_durable(self, wal, lsn: int) -> None:
        """Wait for ``lsn`` to be durable, then publish every root logged up to it. If it
        never becomes durable (fsync failed: the log refuses all later commits), nothing
        pending is published: no other session ever saw it."""
        try:
            wal.wait_durable(lsn)
        except BaseException:
            self.abandon_pending()
            raise
        self.publish_durable(lsn)

    def publish_durable(self, lsn: int) -> None:
        """Publish every root logged up to ``lsn``, which the caller knows is durable."""
        with self._commit_lock:
            root = None
            pending = self._pending
            while pending and pending[0][0] <= lsn:
                root = pending.popleft()[1]
            if root is not None:
                self.root = root

    def abandon_pending(self) -> None:
        """The log failed (58030): the roots waiting for their fsync are never
        published; no other session ever saw them."""
        with self._commit_lock:
            self._pending.clear()

    def _remember(self, version: int, ws: WriteSet | None, txn: Transaction) -> None:
        oldest = None
        if self._active:
            for key, ref in list(self._active.items()):
                other = ref()
                if other is None:           # dropped without commit/rollback
                    self._active.pop(key, None)
                elif oldest is None or other.snapshot.version < oldest:
                    oldest = other.snapshot.version
        if self._pending:     # a transaction may yet begin on the published root
            published = self.root.version
            oldest = published if oldest is None else min(oldest, published)
        if oldest is None:
            self._log.clear()
            return
        while self._log and self._log[0][0] <= oldest:
            self._log.popleft()
        # The committed transaction itself, when its write set was not needed yet: it is
        # computed only if a later commit is checked against it (a bulk insert's keys
        # are costly, and with sync durability every commit is remembered briefly).
        self._log.append([version, ws if ws is not None else txn])

    def _check_conflicts(self, txn: Transaction, ws: WriteSet) -> None:
        since = txn.snapshot.version
        if self._log and self._log[0][0] > since + 1:
            raise serialization_failure("the transaction's snapshot is too old")
        for other in write_sets_since(reversed(self._log), since):
            reason = ws.conflicts_with(other)
            if reason:
                raise serialization_failure(reason)

    def restore(self, root: Root) -> Root:
        """Make an earlier root current again, as a new commit."""
        self.sequence_marks.clear()
        wal, lsn = self.wal, None
        with self._commit_lock:
            current = self._pending[-1][1] if self._pending else self.root
            tables = _continuing(root.tables, current.tables)
            new = replace(root, tables=tables, version=current.version + 1,
                          catalog_version=current.catalog_version + 1)
            if wal is not None:
                lsn = wal.log_restore(current, new)
            if lsn is None:
                self.root = new
            else:
                self._pending.append((lsn, new))
            if self._active or self._pending:
                self._log.append([new.version, WriteSet(everything=True)])
        if lsn is not None:
            self._publish_when_durable(wal, lsn)
        if self._subscribers:
            self._subscribers.notify(current, new, diff_tables(current, new))
        return new

    def note_merge(self, key: int, record) -> None:
        """Keep a branch merge's record in the committed root (``branch/identity.py``).
        Metadata only: no new version, nothing logged; restoring an older root (undo)
        drops it with the rest of that state."""
        with self._commit_lock:
            self.root = replace(self.root, merges={**self.root.merges, key: record})

    # ---- catalog helpers for tools -------------------------------------------------------
    def tables(self) -> list[str]:
        return sorted(self.root.tables)

    def row_count(self, table: str) -> int:
        version = self.root.tables.get(table)
        if version is None:
            raise errors.undefined_table(table)
        return version.live_rows


def _change_op(table: str, change: tuple):
    """The log op of a ``Database.commit_change`` change."""
    kind = change[0]
    if kind == "update":
        rowid = change[1]
        return UpdateOp(table, [rowid], [change[2]], {rowid})
    if kind == "delete":
        return DeleteOp(table, [change[1]])
    return InsertOp(table, list(change[1]), list(change[2]))


def _continuing(restored: dict, current: dict) -> dict:
    """``restored``'s tables, each numbering new rows after every rowid ``current`` has
    used: a rowid names one row for good (branch diff and merge rely on it)."""
    out = None
    for name, version in restored.items():
        now = current.get(name)
        if now is not None and now is not version and now.next_rowid > version.next_rowid:
            if out is None:
                out = dict(restored)
            out[name] = version.continuing_from(now.next_rowid)
    return restored if out is None else out
