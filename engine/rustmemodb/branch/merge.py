"""Three-way merge of one database (source, *theirs*) into another (target, *ours*).

For every table, the changes each side made since their merge base are diffs
against the base's version (``branch/diff.py``), matched by primary key, or by
row identity (``identity.py``) when the table has none. A change only one side
made is applied to the target: an UPDATE as an update in place (the row keeps
its rowid, so its identity), a DELETE as a delete, an INSERT as an insert. A
*conflict* is a row both sides changed with different results: updated to
different values, updated on one side and deleted on the other, or (by key)
added on both with different values. ``strategy`` decides only those:
``'abort'`` (the default) applies nothing and lists them; ``'ours'`` keeps the
target's version; ``'theirs'`` takes the source's. A row only one side changed
is never touched by the strategy.

Schema differences (``validate.schema_differences``) and constraint violations
of the merged result (``validate``: UNIQUE, NOT NULL, CHECK, FOREIGN KEY) are
conflicts no strategy resolves: the merge then writes nothing.

The merge is applied as one transaction on the target, so concurrent writers
get the usual first-committer-wins check. The transaction also leaves a
``MergeRecord`` in the target's root: the source root it merged (the base of
the next merge between the two) and how the target's rowids map onto it.
Undoing the merge restores a root without that record, so merging again
re-applies the source's changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .. import errors
from ..storage.root import replace as replace_root
from ..storage.table import TableVersion
from . import validate
from .diff import ROWID, Diff, diff_versions
from .identity import IDENTITY, Correspondence, MergeRecord, next_seq, space_id
from .lineage import MergeBase, common_base

CONFLICT_SCHEMA = pa.schema([
    ("table", pa.large_string()), ("key", pa.large_string()), ("column", pa.large_string()),
    ("base", pa.large_string()), ("ours", pa.large_string()), ("theirs", pa.large_string()),
    ("kind", pa.large_string()),
])


@dataclass
class MergeResult:
    applied: bool
    conflicts: pa.Table
    counts: dict = field(default_factory=dict)    # table -> {"added", "removed", "changed"}

    def __repr__(self) -> str:
        state = "applied" if self.applied else f"not applied: {self.conflicts.num_rows} conflict(s)"
        return f"<MergeResult {state} {self.counts}>"


def merge(source, target, strategy: str = "abort") -> MergeResult:
    """Merge ``source``'s changes since the merge base into ``target``; see the module
    docstring. Databases or connections."""
    if strategy not in ("abort", "ours", "theirs"):
        raise errors.sql_error("22023", f"unknown merge strategy {strategy!r}",
                               hint="Use 'abort', 'ours' or 'theirs'.")
    source, target = getattr(source, "database", source), getattr(target, "database", target)
    if source is target:
        raise errors.sql_error("22023", "cannot merge a database into itself")
    base = common_base(source, target)
    if base is None:
        raise errors.sql_error("0A000", "the two databases share no history",
                               hint="Merge works between a database and its forks.")
    src_root, tgt_root = source.root, target.root
    txn = target.begin(explicit=True)
    try:
        run = _Merge(base, source, target, src_root, tgt_root, txn, strategy)
        run.all_tables()
        if run.blocking or (run.conflicts and strategy == "abort"):
            target.end(txn)
            return MergeResult(False, run.conflict_table(), run.counts)
        run.validate()
        if run.blocking:
            target.end(txn)
            return MergeResult(False, run.conflict_table(), run.counts)
        record = MergeRecord(src_root, next_seq(), run.next_correspondences())
        merges = dict(getattr(txn.working, "merges", {}))
        merges[space_id(source)] = record
        txn.working = replace_root(txn.working, merges=merges)
        if not txn.ops:
            target.end(txn)
        else:
            target.commit(txn)
    except BaseException:
        target.end(txn)
        raise
    return MergeResult(True, run.conflict_table(), run.counts)


class _Merge:
    """One merge's state: the sides, what was applied, the conflicts found."""

    def __init__(self, base: MergeBase, source, target, src_root, tgt_root, txn, strategy):
        self.base, self.source, self.target = base, source, target
        self.src_root, self.tgt_root, self.txn, self.strategy = src_root, tgt_root, txn, strategy
        self.conflicts: list[tuple] = []      # resolvable by a strategy (rows)
        self.blocking: list[tuple] = []       # schema and constraint conflicts
        self.counts: dict = {}
        self.adopted: set = set()             # tables taken whole from the source
        self.pairs: dict = {}                 # table -> [(target rowid, source rowid)]
        self.written: dict = {}               # table -> rows the merge wrote

    # ---- per table ---------------------------------------------------------------------
    def all_tables(self) -> None:
        broot = self.base.root
        names = set(broot.tables) | set(self.src_root.tables) | set(self.tgt_root.tables)
        for name in sorted(names):
            vb = broot.tables.get(name)
            vs, vt = self.src_root.tables.get(name), self.tgt_root.tables.get(name)
            if vs is vb or (vs is not None and vs is vt):
                continue                                      # source did not touch it
            if vt is vb or (vt is None and vb is None):       # only the source changed it
                self.txn.replace_table(name, vs)
                self.adopted.add(name)
                self.counts[name] = _count_whole(name, vb, vs)
                continue
            if vs is None or vt is None:
                gone = "(dropped)"
                self.blocking.append((name, "", "", _schema_text(vb),
                                      gone if vt is None else _schema_text(vt),
                                      gone if vs is None else _schema_text(vs), "schema"))
                continue
            differences = validate.schema_differences(vt.schema, vs.schema)
            if differences:
                for what, ours, theirs in differences:
                    self.blocking.append((name, "", what, None, ours, theirs, "schema"))
                continue
            self.counts[name] = self._rows(name, vb, vs, vt)

    def _rows(self, name: str, vb, vs: TableVersion, vt: TableVersion) -> dict:
        cs = self.base.correspondence(self.source, name)
        ct = self.base.correspondence(self.target, name)
        theirs = diff_versions(name, vb, vs, IDENTITY, cs)
        ours = diff_versions(name, vb, vt, IDENTITY, ct)
        schema = vt.schema
        names = schema.names
        pk = schema.primary_key
        if pk is not None:
            ident = _key_identity(theirs.key_columns)
            locate = _key_locator(vt, pk)
        else:
            ident = _row_identity
            locate = _rowid_locator(vt, ct)
        mine = {}
        for kind, before, after, i in _changes(ours):
            key = ident(kind, before, after, i)
            if key is not None:
                mine[key] = (kind, before, after)
        applied = {"added": 0, "removed": 0, "changed": 0}
        deletes, updates, inserts = [], [], []    # rowids; (rowid, row); (row, source rowid)
        for kind, before, after, i in _changes(theirs):
            key = ident(kind, before, after, i)
            other = mine.get(key) if key is not None else None
            row = None if after is None else tuple(after[n] for n in names)
            if other is not None:
                if _same_result(kind, after, other, names):
                    continue
                self.conflicts.extend(_describe(name, schema, key, kind, before, after,
                                                other, names))
                if self.strategy != "theirs":
                    continue
            t_rowid = locate(key, other)
            if kind == "removed":
                if t_rowid is not None:
                    deletes.append(t_rowid)
            elif t_rowid is not None:
                updates.append((t_rowid, row))
            else:
                inserts.append((row, after.get(ROWID) if pk is None else None))
            applied[kind] += 1
        self._apply(name, schema, deletes, updates, inserts)
        return applied

    def _apply(self, name, schema, deletes, updates, inserts) -> None:
        txn = self.txn
        mark = txn.savepoint()
        try:
            self._write(name, deletes, updates, inserts)
        except errors.Error as exc:
            if not str(getattr(exc, "sqlstate", "")).startswith("23"):
                raise
            txn.restore(mark)
            self._write_one_by_one(name, schema, deletes, updates, inserts)
        self.written[name] = [r for _, r in updates] + [r for r, _ in inserts]

    def _write(self, name, deletes, updates, inserts) -> None:
        txn = self.txn
        if deletes:
            txn.delete_rows(name, deletes)
        if updates:
            txn.update_rows(name, [t for t, _ in updates], [r for _, r in updates])
        if inserts:
            new_ids = txn.insert_rows(name, [r for r, _ in inserts])
            self.pairs.setdefault(name, []).extend(
                (int(t), int(s)) for t, (_, s) in zip(new_ids, inserts) if s is not None)

    def _write_one_by_one(self, name, schema, deletes, updates, inserts) -> None:
        """After a constraint error: find every offending row (the merge will not commit)."""
        txn = self.txn
        if deletes:
            txn.delete_rows(name, deletes)
        for item in [("u", u) for u in updates] + [("i", i) for i in inserts]:
            mark = txn.savepoint()
            try:
                if item[0] == "u":
                    txn.update_rows(name, [item[1][0]], [item[1][1]])
                else:
                    txn.insert_rows(name, [item[1][0]])
            except errors.Error as exc:
                txn.restore(mark)
                if not str(getattr(exc, "sqlstate", "")).startswith("23"):
                    raise
                row = item[1][1] if item[0] == "u" else item[1][0]
                self.blocking.append((name, validate._row_text(schema, row), "", None, None,
                                      exc.message, "constraint"))

    # ---- after all tables ----------------------------------------------------------------
    def validate(self) -> None:
        root = self.txn.working
        functions = self.target.functions
        for name, rows in self.written.items():
            schema = root.tables[name].schema
            for key, column, message in validate.written_rows(schema, rows, functions):
                self.blocking.append((name, key, column, None, None, message, "constraint"))
        touched = {n for n in set(root.tables) | set(self.tgt_root.tables)
                   if root.tables.get(n) is not self.tgt_root.tables.get(n)}
        for child, key, constraint, message in validate.foreign_keys(root, touched):
            self.blocking.append((child, key, constraint, None, None, message, "constraint"))

    def next_correspondences(self) -> dict:
        """The target's rowids mapped onto the source root, per table, after this merge."""
        out = {}
        root = self.txn.working
        for name, version in root.tables.items():
            vs = self.src_root.tables.get(name)
            if vs is None:
                continue
            if version is vs or name in self.adopted:
                out[name] = Correspondence(vs.next_rowid)
                continue
            ct = self.base.correspondence(self.target, name)
            cs = self.base.correspondence(self.source, name)
            pairs = list(self.pairs.get(name, ()))
            if len(ct.rowids):      # target rows mapped onto the old base: onto the source
                s, found = cs.from_base(ct.base_ids)
                pairs += [(t, x) for t, x, f in zip(ct.rowids.tolist(), s.tolist(),
                                                    found.tolist()) if f]
            if len(cs.rowids):      # source rows mapped onto the old base: from the target
                t, found = ct.from_base(cs.base_ids)
                pairs += [(x, s) for x, s, f in zip(t.tolist(), cs.rowids.tolist(),
                                                    found.tolist()) if f]
            out[name] = Correspondence.of_pairs(min(ct.watermark, cs.watermark), pairs)
        return out

    def conflict_table(self) -> pa.Table:
        rows = [tuple(None if v is None else str(v) for v in c)
                for c in self.blocking + self.conflicts]
        return pa.Table.from_pylist([dict(zip(CONFLICT_SCHEMA.names, c)) for c in rows],
                                    schema=CONFLICT_SCHEMA)


# ---- changes and identities ------------------------------------------------------------

def _changes(d: Diff):
    """(kind, before row dict | None, after row dict | None, base identity) per change."""
    ids = {"added": d.added_ids, "removed": d.removed_ids, "changed": d.changed_ids}
    for k, row in enumerate(d.added.to_pylist()):
        yield "added", None, row, _at(ids["added"], k)
    for k, row in enumerate(d.removed.to_pylist()):
        yield "removed", row, None, _at(ids["removed"], k)
    for k, (before, after) in enumerate(zip(d.changed_before.to_pylist(),
                                            d.changed_after.to_pylist())):
        yield "changed", before, after, _at(ids["changed"], k)


def _at(ids: np.ndarray, k: int) -> int | None:
    return int(ids[k]) if len(ids) > k else None


def _key_identity(keys):
    def ident(kind, before, after, i):
        row = after if after is not None else before
        return tuple(row[k] for k in keys)
    return ident


def _row_identity(kind, before, after, i):
    """The base rowid; a row of one side only (-1) matches nothing on the other side."""
    return None if i is None or i < 0 else i


def _key_locator(vt: TableVersion, pk):
    index = vt.indexes[pk.name]

    def locate(key, other):
        return index.get(key[0] if len(key) == 1 else key)
    return locate


def _rowid_locator(vt: TableVersion, ct: Correspondence):
    def locate(key, other):
        if key is None:
            return None
        rowids, found = ct.from_base(np.array([key], np.int64))
        if not found[0]:
            return None
        rowid = int(rowids[0])
        return rowid if vt.row(rowid) is not None else None
    return locate


def _same_result(kind, after, other, names) -> bool:
    _, _, my_after = other
    if after is None or my_after is None:
        return after is None and my_after is None
    return all(_same(after[n], my_after[n]) for n in names)


def _same(x, y) -> bool:
    return x == y or (x != x and y != y)   # NaN equals NaN here, as in PostgreSQL


def _describe(table, schema, key, kind, before, after, other, names) -> list[tuple]:
    pk = schema.primary_key
    if pk is not None:
        key_text = ", ".join(f"{schema.columns[c].name}={v}" for c, v in zip(pk.columns, key))
    else:
        key_text = f"row {key}"
    my_kind, my_before, my_after = other
    base_row = before if before is not None else my_before
    if after is None or my_after is None:
        return [(table, key_text, "*", _t(base_row),
                 "(deleted)" if my_after is None else _t(my_after),
                 "(deleted)" if after is None else _t(after), "row")]
    out = []
    for n in names:
        if not _same(after[n], my_after[n]):
            b = base_row.get(n) if base_row is not None else None
            out.append((table, key_text, n, _t(b), _t(my_after[n]), _t(after[n]), "row"))
    return out


def _t(v) -> str | None:
    if isinstance(v, dict):
        return ", ".join(f"{k}={x}" for k, x in v.items() if k != ROWID)
    return None if v is None else str(v)


def _schema_text(v: TableVersion | None) -> str:
    return "(absent)" if v is None else ", ".join(f"{c.name} {c.type}" for c in v.schema.columns)


def _count_whole(name, vb, vs) -> dict:
    if vs is None:
        return {"added": 0, "removed": vb.live_rows if vb is not None else 0, "changed": 0}
    if vb is not None and not vb.arrow_schema.equals(vs.arrow_schema):
        return {"added": vs.live_rows, "removed": vb.live_rows, "changed": 0}
    return diff_versions(name, vb, vs).counts
