"""Three-way merge of one database (source) into another (target).

For every table, the changes each side made since their common ancestor are
diffs against the ancestor's version (``branch/diff.py``). Changes only one
side made are applied to the target; a row both sides changed differently —
updated to different values, updated on one side and deleted on the other,
or added with the same key and different values — is a *conflict*. With
``strategy='abort'`` (the default) nothing at all is applied when there is a
conflict: the result lists the conflicts (table, key, column, base, ours,
theirs) for the user to resolve and merge again. ``'ours'`` keeps the
target's version of conflicting rows, ``'theirs'`` takes the source's.

The merge is applied as one transaction on the target, so concurrent writers
on the target get the usual first-committer-wins check. Afterwards both sides
remember the merged root as the base of their next merge.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from .. import errors
from ..storage.table import TableVersion
from .diff import ROWID, Diff, diff_versions
from .lineage import common_base

CONFLICT_SCHEMA = pa.schema([
    ("table", pa.large_string()), ("key", pa.large_string()), ("column", pa.large_string()),
    ("base", pa.large_string()), ("ours", pa.large_string()), ("theirs", pa.large_string()),
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
    if strategy not in ("abort", "ours", "theirs"):
        raise errors.sql_error("22023", f"unknown merge strategy {strategy!r}",
                               hint="Use 'abort', 'ours' or 'theirs'.")
    source, target = getattr(source, "database", source), getattr(target, "database", target)
    base = common_base(source, target)
    if base is None:
        raise errors.sql_error("0A000", "the two databases share no history",
                               hint="Merge works between a database and its forks.")
    src_root, tgt_root = source.root, target.root
    txn = target.begin(explicit=True)
    conflicts: list[tuple] = []
    counts: dict = {}
    for name in sorted(set(base.tables) | set(src_root.tables) | set(tgt_root.tables)):
        vb, vs, vt = base.tables.get(name), src_root.tables.get(name), tgt_root.tables.get(name)
        if vs is vb:
            continue                                      # source did not touch it
        if vt is vb or (vt is None and vb is None):       # only source changed it
            txn.replace_table(name, vs) if vt is not vs else None
            counts[name] = _count_whole(name, vb, vs)
            continue
        if vs is None or vt is None or vs.schema.names != vt.schema.names:
            conflicts.append((name, "", "", "", _schema_text(vt), _schema_text(vs)))
            continue
        counts[name] = _merge_rows(txn, name, vb, vs, vt, strategy, conflicts)
    conflict_table = pa.Table.from_pylist(
        [dict(zip(CONFLICT_SCHEMA.names, c)) for c in conflicts], schema=CONFLICT_SCHEMA)
    if conflicts and strategy == "abort":
        target.end(txn)
        return MergeResult(False, conflict_table, counts)
    target.commit(txn)
    source.__dict__.setdefault("merge_bases", {})[id(target)] = src_root
    target.__dict__.setdefault("merge_bases", {})[id(source)] = src_root
    return MergeResult(True, conflict_table, counts)


def _schema_text(v: TableVersion | None) -> str:
    return "(absent)" if v is None else ", ".join(f"{c.name} {c.type}" for c in v.schema.columns)


def _count_whole(name, vb, vs) -> dict:
    d = diff_versions(name, vb, vs, base_limit=vb.next_rowid if vb is not None else 0)
    return d.counts


def _merge_rows(txn, name, vb, vs, vt, strategy, conflicts) -> dict:
    limit = vb.next_rowid if vb is not None else 0
    theirs = diff_versions(name, vb, vs, base_limit=limit)
    ours = diff_versions(name, vb, vt, base_limit=limit)
    keys = theirs.key_columns
    our_changes = _by_key(ours, keys)
    applied = {"added": 0, "removed": 0, "changed": 0}
    deletes: list = []       # target rowids to delete
    inserts: list = []       # row tuples to insert
    schema = vt.schema
    for kind, row, before in _changes(theirs, keys):
        key = tuple(row[k] for k in keys)
        mine = our_changes.get(key)
        if mine is not None and not _same_result(kind, row, mine, schema.names):
            conflicts.extend(_describe(name, keys, key, kind, row, before, mine, schema.names))
            if strategy != "theirs":
                continue
        target_rowid = _find(vt, schema, key, keys, row)
        if kind in ("removed", "changed") and target_rowid is not None:
            deletes.append(target_rowid)
        if kind in ("added", "changed"):
            if mine is not None and mine[0] in ("added", "changed") and target_rowid is None:
                target_rowid = _find(vt, schema, key, keys, mine[1])
                if target_rowid is not None:
                    deletes.append(target_rowid)
            inserts.append(tuple(row[n] for n in schema.names))
        applied[kind] += 1
    if deletes:
        txn.delete_rows(name, deletes)
    if inserts:
        txn.insert_rows(name, inserts)
    return applied


def _changes(d: Diff, keys):
    for row in d.added.to_pylist():
        yield "added", row, None
    for row in d.removed.to_pylist():
        yield "removed", row, row
    for after, before in zip(d.changed_after.to_pylist(), d.changed_before.to_pylist()):
        yield "changed", after, before


def _by_key(d: Diff, keys) -> dict:
    out = {}
    for kind, row, _ in _changes(d, keys):
        out[tuple(row[k] for k in keys)] = (kind, row)
    return out


def _same_result(kind, row, mine, names) -> bool:
    their_gone = kind == "removed"
    my_kind, my_row = mine
    if their_gone or my_kind == "removed":
        return their_gone and my_kind == "removed"
    return all(row[n] == my_row[n] for n in names)


def _describe(table, keys, key, kind, row, before, mine, names) -> list[tuple]:
    key_text = ", ".join(f"{k}={v}" for k, v in zip(keys, key))
    my_kind, my_row = mine
    if kind == "removed" or my_kind == "removed":
        return [(table, key_text, "*", _t(before), "(deleted)" if my_kind == "removed" else _t(my_row),
                 "(deleted)" if kind == "removed" else _t(row))]
    out = []
    for n in names:
        if row[n] != my_row[n]:
            base = before[n] if before is not None else None
            out.append((table, key_text, n, _t(base), _t(my_row[n]), _t(row[n])))
    return out


def _t(v) -> str | None:
    if isinstance(v, dict):
        return ", ".join(f"{k}={x}" for k, x in v.items() if k != ROWID)
    return None if v is None else str(v)


def _find(version: TableVersion, schema, key, keys, row) -> int | None:
    """The target's rowid for a key (primary key index, or the rowid itself)."""
    if keys == [ROWID]:
        rowid = row.get(ROWID)
        return rowid if rowid is not None and version.row(rowid) is not None else None
    pk = schema.primary_key
    index = version.indexes[pk.name]
    return index.get(key[0] if len(key) == 1 else key)
