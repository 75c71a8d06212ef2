"""Commit: first-committer-wins conflict detection and rebase onto a newer root.

Called under the database's commit lock. If nothing was committed since our
snapshot, the private working root simply becomes the committed root (the
common, O(1) case). Otherwise we compare write sets with every commit since:

* both deleted/updated the same row (same table, same rowid) -> ``40001``;
  (an UPDATE keeps the row's rowid, so this holds for updates in place too)
* both inserted the same UNIQUE key -> ``40001``;
* either side changed a table's definition (DDL) that the other touched -> ``40001``;
* one side's foreign-key check relied on a parent key the other deleted or
  re-keyed -> ``40001`` (so a child insert and a concurrent delete of its parent
  never both commit: the later one fails, and as an autocommit statement is re-run
  and then sees the other's effect: 23503, or the cascade takes the new child).

Without a conflict, tables only we touched are taken from our working root as
they are, and tables both touched get our ops replayed on the newer version
(rowids we assigned are re-assigned; deletes of our own new rows follow them).
Apart from those foreign-key reads this ignores read sets, so write skew is
possible, exactly as under PostgreSQL's REPEATABLE READ.

``rebase_ops`` also returns the ops re-expressed against the new root: a READ
COMMITTED transaction moves its snapshot forward at every statement and keeps
going with them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..lazy_import import numpy as np

from .. import errors
from ..types import py_values
from ..storage.root import Root, replace, with_composite, with_domain, with_enum
from .transaction import (AuthOp, BulkInsertOp, BulkUpdateOp, CompositeOp, DeleteOp, DomainOp,
                          EnumOp,
                          FunctionOp, InsertOp, LockOp, ReplaceTableOp, SequenceDefOp,
                          SequenceOp, Transaction, UpdateOp, ViewOp)


@dataclass
class WriteSet:
    """What one commit changed, for conflict checks against later committers."""
    tables: set = field(default_factory=set)       # every table touched
    ddl: set = field(default_factory=set)          # tables/views redefined
    deleted: set = field(default_factory=set)      # (table, rowid) of pre-existing rows
    keys: set = field(default_factory=set)         # (table, index, key) inserted
    fk_reads: frozenset | set = frozenset()        # (parent, columns, key) FK checks relied on
    fk_removed: frozenset | set = frozenset()      # (parent, columns, key) no longer there
    everything: bool = False                       # restore(): conflicts with all

    def conflicts_with(self, other: "WriteSet") -> str | None:
        if self.everything or other.everything:
            return "the database was restored to an earlier state"
        if self.ddl & other.tables or other.ddl & self.tables:
            return "a table was altered concurrently"
        if self.deleted & other.deleted:
            return "a row was updated or deleted concurrently"
        if self.keys & other.keys:
            return "a unique key was inserted concurrently"
        if _overlap(self.fk_reads, other.fk_removed) or _overlap(self.fk_removed, other.fk_reads):
            return "a referenced key was deleted or changed concurrently"
        return None


def _overlap(a, b) -> bool:
    return bool(a) and bool(b) and not a.isdisjoint(b)


def write_set(txn: Transaction) -> WriteSet:
    ws = WriteSet()
    if txn.fk_reads:
        ws.fk_reads = frozenset(txn.fk_reads)
    if txn.fk_removed:
        ws.fk_removed = frozenset(txn.fk_removed)
    for op in txn.ops:
        if isinstance(op, (InsertOp, BulkInsertOp)):
            ws.tables.add(op.table)
            _add_keys(ws, txn, op)
        elif isinstance(op, (DeleteOp, UpdateOp, BulkUpdateOp)):
            ws.tables.add(op.table)
            ws.deleted.update((op.table, r) for r in committed_rowids(txn, op))
            if not isinstance(op, DeleteOp):
                _add_keys(ws, txn, op)
        elif isinstance(op, ReplaceTableOp):
            ws.tables.add(op.table)
            ws.ddl.add(op.table)
        elif isinstance(op, ViewOp):
            ws.tables.add(op.name)
            ws.ddl.add(op.name)
        elif isinstance(op, SequenceOp):
            ws.tables.add("seq:" + op.name)
            if op.value is None:          # DROP SEQUENCE conflicts with any concurrent use
                ws.ddl.add("seq:" + op.name)
        elif isinstance(op, SequenceDefOp):
            ws.tables.add("seq:" + op.name)
        elif isinstance(op, AuthOp):    # one catalog: concurrent role/grant changes conflict
            ws.tables.add("auth:")
            ws.ddl.add("auth:")
        elif isinstance(op, FunctionOp):
            ws.tables.add("fn:" + op.name)
            ws.ddl.add("fn:" + op.name)
        elif isinstance(op, EnumOp):
            ws.tables.add("type:" + op.name)
            ws.ddl.add("type:" + op.name)
        elif isinstance(op, (DomainOp, CompositeOp)):    # types: one name space with enums
            ws.tables.add("type:" + op.name)
            ws.ddl.add("type:" + op.name)
        elif isinstance(op, LockOp):      # locked rows conflict as written ones do
            ws.tables.add(op.table)
            ws.deleted.update((op.table, r) for r in committed_rowids(txn, op))
    return ws


def committed_rowids(txn: Transaction, op) -> list[int]:
    """The rowids ``op`` (an update, delete or row lock of ``txn``) touches among the rows
    committed when ``txn`` began: its own new rows' rowids are private to it."""
    base = txn.snapshot.tables.get(op.table)
    limit = base.next_rowid if base is not None else 0
    rowids = op.rowids.tolist() if isinstance(op.rowids, np.ndarray) else op.rowids
    return [r for r in rowids if r < limit]


def write_sets_since(entries, since: int):
    """The write sets of the commits in ``entries`` (a Database's commit log, newest
    first: ``[version, WriteSet | Transaction]``) made after version ``since``; a
    transaction's is computed on first need and kept in its entry (a bulk insert's keys
    are costly)."""
    for entry in entries:
        version, other = entry
        if version <= since:
            return
        if not isinstance(other, WriteSet):
            other = entry[1] = write_set(other)
        yield other


def _add_keys(ws: WriteSet, txn: Transaction, op) -> None:
    version = txn.working.tables.get(op.table)
    if version is None or not version.indexes:
        return
    if isinstance(op, (InsertOp, UpdateOp)):
        rows = op.rows
    else:
        rows = list(zip(*[py_values(c) for c in op.data.columns]))
    for name, index in version.indexes.items():
        for row in rows:
            # A key with a NULL part is never stored and never collides (SQL UNIQUE):
            # two concurrent inserts of (1, NULL) both commit, as in PostgreSQL.
            key = index.stored_key(row)
            if key is not None:
                ws.keys.add((op.table, name, key))


def rebase(txn: Transaction, current: Root) -> Root:
    """Our changes re-applied on top of ``current`` (no conflict assumed)."""
    return rebase_ops(txn, current)[0]


def rebase_ops(txn: Transaction, current: Root) -> tuple[Root, list]:
    """``rebase``, plus our ops as they apply to ``current`` (rowids of our inserts
    re-assigned), for a transaction that carries on from the new root."""
    touched_since = {}
    root = current
    replay_tables = _tables_changed_between(txn.snapshot, current)
    rowid_map: dict[tuple[str, int], int] = {}
    ops = []
    for op in txn.ops:
        if isinstance(op, LockOp):        # changes nothing to re-apply
            pass
        elif isinstance(op, ReplaceTableOp):
            root = (root.without_table(op.table) if op.version is None
                    else root.with_table(op.table, op.version, ddl=True))
        elif isinstance(op, ViewOp):
            root = root.with_view(op.view) if op.view is not None else root.without_view(op.name)
        elif isinstance(op, AuthOp):
            root = replace(root, auth=op.catalog)
        elif isinstance(op, FunctionOp):
            root = _with_entry(root, "functions", op.name, op.function)
        elif isinstance(op, EnumOp):
            root = with_enum(root, op.name, op.labels)
        elif isinstance(op, DomainOp):
            root = with_domain(root, op.name, op.domain)
        elif isinstance(op, CompositeOp):
            root = with_composite(root, op.name, op.sql_type)
        elif isinstance(op, SequenceOp):
            seqs = dict(root.sequences)
            if op.value is None:
                seqs.pop(op.name, None)
            elif op.name not in seqs or not _descending(root, op.name):
                seqs[op.name] = max(seqs.get(op.name, 0), op.value)
            else:
                seqs[op.name] = min(seqs[op.name], op.value)
            root = replace(root, sequences=seqs)
        elif isinstance(op, SequenceDefOp):
            root = _with_entry(root, "seqdefs", op.name, op.definition)
        elif op.table not in replay_tables:
            touched_since[op.table] = True
        else:
            root, op = _replay(root, op, rowid_map)
        ops.append(op)
    tables = dict(root.tables)
    for name in touched_since:
        if name in txn.working.tables:
            tables[name] = txn.working.tables[name]
    return replace(root, tables=tables), ops


def _with_entry(root: Root, field: str, name: str, value) -> Root:
    """``root`` with one named catalog entry (a function, a sequence's definition) set,
    or dropped when ``value`` is None; the catalog version moves, so plans bind again."""
    entries = dict(getattr(root, field))
    if value is None:
        entries.pop(name, None)
    else:
        entries[name] = value
    return replace(root, catalog_version=root.catalog_version + 1, **{field: entries})


def _replay(root: Root, op, rowid_map: dict) -> tuple[Root, object]:
    version = root.tables[op.table]
    if isinstance(op, InsertOp):
        version, new_ids = version.insert_rows(op.rows)
        rowid_map.update(((op.table, old), new) for old, new in zip(op.rowids, new_ids))
        op = InsertOp(op.table, op.rows, new_ids)
    elif isinstance(op, BulkInsertOp):
        version, new_ids = version.insert_arrow(op.data)
        rowid_map.update(((op.table, int(o)), int(n)) for o, n in zip(op.rowids, new_ids))
        op = BulkInsertOp(op.table, op.data, new_ids)
    elif isinstance(op, BulkUpdateOp):
        rowids = np.fromiter((rowid_map.get((op.table, r), r) for r in op.rowids.tolist()),
                             np.int64, len(op.rowids))
        version, done, data = version.update_arrow(rowids, op.data)
        op = BulkUpdateOp(op.table, done, data)
    elif isinstance(op, (DeleteOp, UpdateOp)):
        ids = op.rowids.tolist() if isinstance(op.rowids, np.ndarray) else op.rowids
        rowids = [rowid_map.get((op.table, r), r) for r in ids]
        if isinstance(op, DeleteOp):
            version = version.delete(rowids)
            op = DeleteOp(op.table, rowids)
        else:
            version, done = version.update_rows(rowids, op.rows)
            rows = op.rows
            if len(done) != len(rows):
                new_of = dict(zip(rowids, rows))
                rows = [new_of[r] for r in done]
            op = UpdateOp(op.table, list(done), rows)
    return root.with_table(op.table, version), op


def _tables_changed_between(old: Root, new: Root) -> set:
    return {name for name, v in new.tables.items() if old.tables.get(name) is not v}


def serialization_failure(reason: str) -> errors.Error:
    return errors.sql_error("40001", "could not serialize access due to concurrent update",
                            detail=reason,
                            hint="Retry the transaction: another one committed first.")


def _descending(root, name: str) -> bool:
    """Whether sequence ``name`` counts down: a rebased draw keeps the lower state."""
    spec = root.seqdefs.get(name)
    return spec is not None and spec.increment < 0
