"""Row-level diff between two versions of a table (two branches, or a branch and its base).

Work is proportional to what differs, not to the table: chunks that are the
same object with the same deletion vector on both sides are skipped by
identity (that is what copy-on-write sharing buys), and only the remaining
rows are compared. Rows are matched by primary key; a table without one is
matched by rowid, which identifies a row across forks for rows that existed
at the common ancestor (rows added later on either side are just added).

A ``Diff`` holds the added and removed rows and, for changed rows, the
before/after versions aligned row by row, plus ``to_arrow()``: one table with
``_change`` ('added' | 'removed' | 'changed'), the row's values (after the
change, or before it for removed rows) and ``_changed_columns``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import errors
from ..storage.table import TableVersion
from .lineage import common_base

ROWID = "_rowid"


@dataclass
class Diff:
    table: str
    key_columns: list
    added: pa.Table
    removed: pa.Table
    changed_before: pa.Table
    changed_after: pa.Table
    changed_columns: list = field(default_factory=list)   # per changed row: [names]

    @property
    def counts(self) -> dict:
        return {"added": self.added.num_rows, "removed": self.removed.num_rows,
                "changed": self.changed_after.num_rows}

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())

    def to_arrow(self) -> pa.Table:
        parts = []
        for label, t, cols in (("added", self.added, None), ("removed", self.removed, None),
                               ("changed", self.changed_after, self.changed_columns)):
            if t.num_rows == 0:
                continue
            change = pa.array([label] * t.num_rows, pa.large_string())
            changed = pa.array(cols if cols is not None else [[] for _ in range(t.num_rows)],
                               pa.list_(pa.large_string()))
            parts.append(t.add_column(0, "_change", change).append_column("_changed_columns",
                                                                          changed))
        if not parts:
            schema = self.added.schema.insert(0, pa.field("_change", pa.large_string())) \
                .append(pa.field("_changed_columns", pa.list_(pa.large_string())))
            return schema.empty_table()
        return pa.concat_tables(parts)

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def __repr__(self) -> str:
        c = self.counts
        return (f"<Diff {self.table}: +{c['added']} -{c['removed']} ~{c['changed']} "
                f"(key: {', '.join(self.key_columns)})>")


def diff(a, b, table: str) -> Diff:
    """Rows of ``table`` that differ between databases (or connections) ``a`` and ``b``."""
    a, b = _database(a), _database(b)
    va, vb = a.root.tables.get(table), b.root.tables.get(table)
    if va is None and vb is None:
        raise errors.undefined_table(table)
    base = common_base(a, b)
    vbase = base.tables.get(table) if base is not None else None
    limit = vbase.next_rowid if vbase is not None else 0
    return diff_versions(table, va, vb, base_limit=limit)


def diff_all(a, b) -> dict:
    a, b = _database(a), _database(b)
    names = sorted(set(a.root.tables) | set(b.root.tables))
    out = {}
    for name in names:
        if a.root.tables.get(name) is b.root.tables.get(name):
            continue
        d = diff(a, b, name)
        if not d.empty:
            out[name] = d
    return out


def _database(x):
    return getattr(x, "database", x)


def diff_versions(table: str, va: TableVersion | None, vb: TableVersion | None,
                  base_limit: int = 0) -> Diff:
    # Chunk sharing is judged on the settled forms (in-place updates folded in).
    va = va.settled() if va is not None else None
    vb = vb.settled() if vb is not None else None
    ref = vb if vb is not None else va
    if va is not None and vb is not None and va.schema.names != vb.schema.names:
        raise errors.sql_error("0A000", f'table "{table}" has different columns on the two '
                                        "sides; diff compares rows of one schema",
                               hint="Compare the schemas, or ALTER one side to match.")
    schema = ref.schema
    pk = schema.primary_key
    keys = [schema.columns[i].name for i in pk.columns] if pk is not None else [ROWID]
    if va is vb:
        empty = ref.arrow_schema.empty_table()
        return Diff(table, keys, empty, empty, empty, empty, [])
    a_rows, b_rows = _unshared_rows(va, vb, ref)
    return _compare(table, keys, a_rows, b_rows, schema.names, pk is None, base_limit)


def _unshared_rows(va, vb, ref) -> tuple[pa.Table, pa.Table]:
    """Live rows (with _rowid) of each side outside the chunks both share unchanged."""
    shared = set()
    if va is not None and vb is not None:
        b_chunks = {c.id: d for c, d in zip(vb.chunks, vb.dead)}
        for c, d in zip(va.chunks, va.dead):
            if c.id in b_chunks and b_chunks[c.id] is d:
                shared.add(c.id)
    return _rows_outside(va, shared, ref), _rows_outside(vb, shared, ref)


def _rows_outside(v, shared: set, ref) -> pa.Table:
    schema = ref.arrow_schema.append(pa.field(ROWID, pa.int64()))
    if v is None:
        return schema.empty_table()
    batches = []
    for c, d in zip(v.chunks, v.dead):
        if c.id in shared:
            continue
        batch = c.batch.append_column(ROWID, pa.array(c.rowids, pa.int64()))
        if d is not None:
            batch = batch.filter(pa.array(~d))
        batches.append(batch)
    if v.tail_len:
        t = v.to_arrow(with_rowid=True)
        ids = t.column(ROWID)
        tail = t.filter(pc.greater_equal(ids, v.tail_rowid0))
        batches.extend(tail.to_batches())
    return pa.Table.from_batches([b.cast(schema) if b.schema != schema else b for b in batches],
                                 schema=schema)


def _compare(table, keys, a: pa.Table, b: pa.Table, names, by_rowid: bool, limit: int) -> Diff:
    out_cols = names if not by_rowid else names + [ROWID]
    if by_rowid:
        # Rows born after the common ancestor cannot be matched across sides.
        a_new = a.filter(pc.greater_equal(a.column(ROWID), limit))
        b_new = b.filter(pc.greater_equal(b.column(ROWID), limit))
        a = a.filter(pc.less(a.column(ROWID), limit))
        b = b.filter(pc.less(b.column(ROWID), limit))
    a = a.append_column("__in_a", pa.array(np.ones(a.num_rows, bool)))
    b = b.append_column("__in_b", pa.array(np.ones(b.num_rows, bool)))
    a_ren = a.rename_columns([c if c in keys or c == "__in_a" else f"{c}__a" for c in a.column_names])
    b_ren = b.rename_columns([c if c in keys or c == "__in_b" else f"{c}__b" for c in b.column_names])
    a_ren = a_ren.select([c for c in a_ren.column_names if not (c == f"{ROWID}__a")])
    b_ren = b_ren.select([c for c in b_ren.column_names if not (c == f"{ROWID}__b")])
    j = a_ren.join(b_ren, keys=keys, join_type="full outer", coalesce_keys=True, use_threads=False)
    in_a = pc.fill_null(j.column("__in_a"), False)
    in_b = pc.fill_null(j.column("__in_b"), False)
    both = pc.and_(in_a, in_b)
    value_cols = [n for n in names if n not in keys]
    removed = _restore(j.filter(pc.and_(in_a, pc.invert(in_b))), keys, value_cols, "a", out_cols)
    added = _restore(j.filter(pc.and_(in_b, pc.invert(in_a))), keys, value_cols, "b", out_cols)
    jb = j.filter(both)
    diffs = [pc.fill_null(_distinct(jb.column(f"{n}__a"), jb.column(f"{n}__b")), False)
             for n in value_cols]
    any_diff = _any(diffs, jb.num_rows)
    jc = jb.filter(any_diff)
    before = _restore(jc, keys, value_cols, "a", out_cols)
    after = _restore(jc, keys, value_cols, "b", out_cols)
    changed_cols = []
    if jc.num_rows:
        masks = [np.asarray(d.filter(any_diff)) for d in diffs]
        for i in range(jc.num_rows):
            changed_cols.append([n for n, m in zip(value_cols, masks) if m[i]])
    if by_rowid:
        removed = pa.concat_tables([removed, a_new.select(out_cols)])
        added = pa.concat_tables([added, b_new.select(out_cols)])
    return Diff(table, keys, _sorted(added, keys), _sorted(removed, keys), before, after,
                changed_cols)


def _distinct(x, y):
    try:
        eq = pc.equal(x, y)
    except pa.ArrowNotImplementedError:   # e.g. INTERVAL: no kernel, compare the values
        eq = pa.array([u == v for u, v in zip(x.to_pylist(), y.to_pylist())], pa.bool_())
    null_x, null_y = pc.is_null(x), pc.is_null(y)
    return pc.if_else(pc.and_(null_x, null_y), False,
                      pc.if_else(pc.or_(null_x, null_y), True, pc.invert(eq)))


def _any(masks, n):
    if not masks:
        return pa.array(np.zeros(n, bool))
    out = masks[0]
    for m in masks[1:]:
        out = pc.or_(out, m)
    return out


def _restore(t: pa.Table, keys, value_cols, suffix: str, out_cols) -> pa.Table:
    cols = {}
    for k in keys:
        cols[k] = t.column(k)
    for n in value_cols:
        cols[n] = t.column(f"{n}__{suffix}")
    return pa.table({c: cols[c] for c in out_cols if c in cols})


def _sorted(t: pa.Table, keys) -> pa.Table:
    if t.num_rows <= 1:
        return t
    return t.sort_by([(k, "ascending") for k in keys])
