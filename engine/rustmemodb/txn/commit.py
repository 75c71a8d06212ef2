"""Commit: first-committer-wins conflict detection and rebase onto a newer root.

Called under the database's commit lock. If nothing was committed since our
snapshot, the private working root simply becomes the committed root (the
common, O(1) case). Otherwise we compare write sets with every commit since:

* both deleted/updated the same row (same table, same rowid) -> ``40001``;
  (an UPDATE keeps the row's rowid, so this holds for updates in place too)
* both inserted the same UNIQUE key -> ``40001``;
* either side changed a table's definition (DDL) that the other touched -> ``40001``.

Without a conflict, tables only we touched are taken from our working root as
they are, and tables both touched get our ops replayed on the newer version
(rowids we assigned are re-assigned; deletes of our own new rows follow them).
This is a simple approach that ignores read sets, so write skew is possible,
exactly as under PostgreSQL's REPEATABLE READ.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import errors
from ..storage.root import Root, replace
from .transaction import (BulkInsertOp, BulkUpdateOp, DeleteOp, InsertOp, ReplaceTableOp,
                          SequenceOp,
                          Transaction, UpdateOp, ViewOp)


@dataclass
class WriteSet:
    """What one commit changed, for conflict checks against later committers."""
    tables: set = field(default_factory=set)       # every table touched
    ddl: set = field(default_factory=set)          # tables/views redefined
    deleted: set = field(default_factory=set)      # (table, rowid) of pre-existing rows
    keys: set = field(default_factory=set)         # (table, index, key) inserted
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
        return None


def write_set(txn: Transaction) -> WriteSet:
    ws = WriteSet()
    for op in txn.ops:
        if isinstance(op, (InsertOp, BulkInsertOp)):
            ws.tables.add(op.table)
            _add_keys(ws, txn, op)
        elif isinstance(op, (DeleteOp, UpdateOp, BulkUpdateOp)):
            ws.tables.add(op.table)
            base = txn.snapshot.tables.get(op.table)
            limit = base.next_rowid if base is not None else 0
            ids = op.rowids.tolist() if isinstance(op.rowids, np.ndarray) else op.rowids
            ws.deleted.update((op.table, r) for r in ids if r < limit)
            if isinstance(op, (UpdateOp, BulkUpdateOp)):
                _add_keys(ws, txn, op)
        elif isinstance(op, ReplaceTableOp):
            ws.tables.add(op.table)
            ws.ddl.add(op.table)
        elif isinstance(op, ViewOp):
            ws.tables.add(op.name)
            ws.ddl.add(op.name)
        elif isinstance(op, SequenceOp):
            ws.tables.add("seq:" + op.name)
    return ws


def _add_keys(ws: WriteSet, txn: Transaction, op) -> None:
    version = txn.working.tables.get(op.table)
    if version is None or not version.indexes:
        return
    if isinstance(op, (InsertOp, UpdateOp)):
        rows = op.rows
    else:
        rows = list(zip(*[c.to_pylist() for c in op.data.columns]))
    for name, index in version.indexes.items():
        for row in rows:
            key = index.key_of(row)
            if key is not None:
                ws.keys.add((op.table, name, key))


def rebase(txn: Transaction, current: Root) -> Root:
    """Our changes re-applied on top of ``current`` (no conflict assumed)."""
    touched_since = {}
    root = current
    replay_tables = _tables_changed_between(txn.snapshot, current)
    rowid_map: dict[tuple[str, int], int] = {}
    for op in txn.ops:
        if isinstance(op, ReplaceTableOp):
            root = (root.without_table(op.table) if op.version is None
                    else root.with_table(op.table, op.version, ddl=True))
        elif isinstance(op, ViewOp):
            root = root.with_view(op.view) if op.view is not None else root.without_view(op.name)
        elif isinstance(op, SequenceOp):
            seqs = dict(root.sequences)
            seqs[op.name] = max(seqs.get(op.name, 0), op.value)
            root = replace(root, sequences=seqs)
        elif op.table not in replay_tables:
            touched_since[op.table] = True
        else:
            root = _replay(root, op, rowid_map)
    tables = dict(root.tables)
    for name in touched_since:
        if name in txn.working.tables:
            tables[name] = txn.working.tables[name]
    return replace(root, tables=tables)


def _replay(root: Root, op, rowid_map: dict) -> Root:
    version = root.tables[op.table]
    if isinstance(op, InsertOp):
        version, new_ids = version.insert_rows(op.rows)
        rowid_map.update(((op.table, old), new) for old, new in zip(op.rowids, new_ids))
    elif isinstance(op, BulkInsertOp):
        version, new_ids = version.insert_arrow(op.data)
        rowid_map.update(((op.table, int(o)), int(n)) for o, n in zip(op.rowids, new_ids))
    elif isinstance(op, BulkUpdateOp):
        rowids = op.rowids
        if rowid_map:
            rowids = np.array([rowid_map.get((op.table, r), r) for r in rowids.tolist()],
                              np.int64)
        version = version.update_many(rowids, op.data, op.columns)
    elif isinstance(op, (DeleteOp, UpdateOp)):
        ids = op.rowids.tolist() if isinstance(op.rowids, np.ndarray) else op.rowids
        rowids = [rowid_map.get((op.table, r), r) for r in ids]
        if isinstance(op, DeleteOp):
            version = version.delete(rowids)
        else:
            version, _ = version.update_rows(rowids, op.rows)
    return root.with_table(op.table, version)


def _tables_changed_between(old: Root, new: Root) -> set:
    return {name for name, v in new.tables.items() if old.tables.get(name) is not v}


def serialization_failure(reason: str) -> errors.Error:
    return errors.sql_error("40001", "could not serialize access due to concurrent update",
                            detail=reason,
                            hint="Retry the transaction: another one committed first.")
