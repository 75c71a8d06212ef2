"""Row-level diff between two versions of a table (two branches, or a branch and its base).

Work and memory are proportional to what differs, not to the table:

1. chunks that are the same object with the same deletion vector on both sides
   are skipped by identity (that is what copy-on-write sharing buys);
2. chunks that hold the same rowids on both sides (an UPDATE in place rewrites
   a chunk but keeps its rowids) are compared column by column, vectorised,
   and only the positions that differ become *candidates*;
3. everything else (chunks rewritten by compaction, the row tail) is candidate.

Candidates are then matched across sides: by primary key when the table has
one; otherwise by row identity (``identity.py``): the rowid, mapped onto the
merge base, so an UPDATE shows as one changed row, and a row inserted on one
side never matches a different row inserted on the other with the same rowid.

A ``Diff`` holds the added and removed rows and, for changed rows, the
before/after versions aligned row by row, plus ``to_arrow()``: one table with
``_change`` ('added' | 'removed' | 'changed'), the row's values (after the
change, or before it for removed rows) and ``_changed_columns``. Without a
primary key the rows carry ``_rowid``: each side's own rowid (before: side A,
after: side B); ``*_ids`` give the rows' identities in the base (-1: a row of
that side only), which is what merge uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from .. import errors, numeric_arrays
from ..api.pandas_out import to_pandas
from ..storage.root import is_temporary
from ..storage.table import TableVersion
from .identity import IDENTITY, Correspondence
from .lineage import common_base
from .. import infinity

ROWID = "_rowid"
_ID = "__id"
_NO_IDS = np.zeros(0, np.int64)


@dataclass
class Diff:
    table: str
    key_columns: list
    added: pa.Table
    removed: pa.Table
    changed_before: pa.Table
    changed_after: pa.Table
    changed_columns: list = field(default_factory=list)   # per changed row: [names]
    added_ids: np.ndarray = field(default_factory=lambda: _NO_IDS, repr=False)
    removed_ids: np.ndarray = field(default_factory=lambda: _NO_IDS, repr=False)
    changed_ids: np.ndarray = field(default_factory=lambda: _NO_IDS, repr=False)

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
        return to_pandas(self.to_arrow())

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
    if base is None:   # unrelated databases: no row of one is a row of the other
        ca = cb = Correspondence(0)
    else:
        ca, cb = base.correspondence(a, table), base.correspondence(b, table)
    return diff_versions(table, va, vb, ca, cb)


def diff_all(a, b) -> dict:
    a, b = _database(a), _database(b)
    # temporary tables are a session's scratch, not the branch's data
    names = sorted(n for n in set(a.root.tables) | set(b.root.tables) if not is_temporary(n))
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
                  ca: Correspondence = IDENTITY, cb: Correspondence = IDENTITY,
                  describe: bool = True) -> Diff:
    """The diff from ``va`` to ``vb``; ``ca``/``cb`` map each side's rowids onto the
    common base (the default: both in one rowid space, as a version and its base).
    ``describe=False`` leaves ``changed_columns`` empty (merge does not need it)."""
    va = va.settled() if va is not None else None
    vb = vb.settled() if vb is not None else None
    ref = vb if vb is not None else va
    if va is not None and vb is not None and not va.arrow_schema.equals(vb.arrow_schema):
        raise errors.sql_error("0A000", f'table "{table}" has different columns on the two '
                                        "sides; diff compares rows of one schema",
                               hint="Compare the schemas, or ALTER one side to match.")
    schema = ref.schema
    pk = schema.primary_key
    keys = [schema.columns[i].name for i in pk.columns] if pk is not None else [ROWID]
    if va is vb:
        empty = ref.arrow_schema.append(pa.field(ROWID, pa.int64())).empty_table() \
            if pk is None else ref.arrow_schema.empty_table()
        return Diff(table, keys, empty, empty, empty, empty, [])
    parts = _Parts(ref.arrow_schema.append(pa.field(ROWID, pa.int64())))
    _candidates(va, vb, ca, cb, parts, None if pk is None else list(pk.columns))
    if pk is None:
        matched = _compare_by_identity(table, parts.rest_a, parts.rest_b, schema.names, ca, cb)
    else:
        matched = _compare_by_key(table, keys, parts.rest_a, parts.rest_b, schema.names)
    return _combine(table, keys, parts, matched, schema.names, pk is None, describe)


# ---- candidates ------------------------------------------------------------------------

class _Parts:
    """Rows sorted out while walking the chunks: classified directly where positions
    are known to hold the same row on both sides, else left for matching."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.removed: list = []
        self.added: list = []
        self.before: list = []
        self.after: list = []
        self.a: list = []
        self.b: list = []

    def table(self, batches) -> pa.Table:
        return _table(batches, self.schema)

    @property
    def rest_a(self) -> pa.Table:
        return self.table(self.a)

    @property
    def rest_b(self) -> pa.Table:
        return self.table(self.b)


def _candidates(va, vb, ca, cb, parts: _Parts, key_positions: list | None) -> None:
    """Walk both sides' chunks. Shared chunks are skipped; chunks holding the same rowids
    are compared position by position; everything else is left to matching."""
    a_chunks = list(zip(va.chunks, va.dead)) if va is not None else []
    b_chunks = list(zip(vb.chunks, vb.dead)) if vb is not None else []
    b_by_start = {c.first_rowid: (c, d) for c, d in b_chunks}
    matched_b = set()
    for c, d in a_chunks:
        other = b_by_start.get(c.first_rowid)
        if other is None or not _same_rowids(c, other[0]):
            parts.a.append(_live(c, d, None))
            continue
        oc, od = other
        matched_b.add(oc.id)
        if oc is c and od is d:
            continue                                   # shared: identical by construction
        _aligned(c, d, oc, od, ca, cb, parts, key_positions)
    for c, d in b_chunks:
        if c.id not in matched_b:
            parts.b.append(_live(c, d, None))
    for v, rest in ((va, parts.a), (vb, parts.b)):
        if v is not None and v.tail_len:
            rest.append(_tail(v))


def _aligned(c, d, oc, od, ca, cb, parts: _Parts, key_positions) -> None:
    """Two chunks with the same rowids: one vectorised pass finds the positions that
    differ; where a position surely names one row on both sides (no primary key: its
    identity is certain; with one: the key is equal) it is classified right here."""
    n = len(c.rowids)
    live_a = ~d if d is not None else np.ones(n, bool)
    live_b = ~od if od is not None else np.ones(n, bool)
    both = live_a & live_b
    differs = np.zeros(n, bool)
    key_differs = np.zeros(n, bool)
    for j, (x, y) in enumerate(zip(c.batch.columns, oc.batch.columns)):
        if x is y:
            continue
        if x.type != y.type:     # an unconstrained numeric as decimal128 on one side
            x, y = numeric_arrays.as_keys(x), numeric_arrays.as_keys(y)
        col = np.asarray(pc.fill_null(_distinct(x, y), False)) & both
        differs |= col
        if key_positions is not None and j in key_positions:
            key_differs |= col
    if key_positions is None:
        sure = ~(ca.uncertain(c.rowids) | cb.uncertain(c.rowids))
        one_side = live_a != live_b
        direct_removed = live_a & ~live_b & sure
        direct_added = live_b & ~live_a & sure
    else:   # a key deleted here may live on elsewhere: one-sided rows go to matching
        sure = ~key_differs
        one_side = (live_a != live_b) | key_differs
        direct_removed = direct_added = None
    direct_changed = differs & sure & ~key_differs
    rest = (differs | one_side) & ~direct_changed
    if direct_removed is not None:
        rest &= ~(direct_removed | direct_added)
    if direct_changed.any():
        parts.before.append(_live(c, None, direct_changed))
        parts.after.append(_live(oc, None, direct_changed))
    if direct_removed is not None and direct_removed.any():
        parts.removed.append(_live(c, None, direct_removed))
    if direct_added is not None and direct_added.any():
        parts.added.append(_live(oc, None, direct_added))
    if rest.any():
        parts.a.append(_live(c, d, rest))
        parts.b.append(_live(oc, od, rest))


def _same_rowids(x, y) -> bool:
    return x.rowids is y.rowids or (len(x.rowids) == len(y.rowids) and
                                    np.array_equal(x.rowids, y.rowids))


def _live(chunk, dead, mask) -> pa.RecordBatch:
    batch = chunk.batch.append_column(ROWID, pa.array(chunk.rowids, pa.int64()))
    keep = ~dead if dead is not None else None
    if mask is not None:
        keep = mask if keep is None else (keep & mask)
    return batch.filter(pa.array(keep)) if keep is not None else batch


def _tail(v) -> pa.RecordBatch:
    batch = v.tail.batch(v.tail_len, v.arrow_schema)
    ids = np.arange(v.tail_rowid0, v.tail_rowid0 + v.tail_len, dtype=np.int64)
    batch = batch.append_column(ROWID, pa.array(ids))
    if v.tail_dead:
        batch = batch.filter(pa.array(~np.isin(ids, v._tail_dead_ids())))
    return batch


def _table(parts, schema) -> pa.Table:
    return pa.Table.from_batches([b.cast(schema) if b.schema != schema else b for b in parts],
                                 schema=schema)


# ---- matching --------------------------------------------------------------------------

def _compare_by_identity(table, a: pa.Table, b: pa.Table, names, ca, cb) -> Diff:
    ids_a, known_a = ca.to_base(a.column(ROWID).to_numpy())
    ids_b, known_b = cb.to_base(b.column(ROWID).to_numpy())
    a_new, b_new = a.filter(pa.array(~known_a)), b.filter(pa.array(~known_b))
    a = a.filter(pa.array(known_a)).append_column(_ID, pa.array(ids_a[known_a]))
    b = b.filter(pa.array(known_b)).append_column(_ID, pa.array(ids_b[known_b]))
    d = _match(table, [_ID], a, b, names + [ROWID], names)
    minus = pa.array(np.full(a_new.num_rows, -1, np.int64))
    d.removed = pa.concat_tables([d.removed, a_new.append_column(_ID, minus)])
    minus = pa.array(np.full(b_new.num_rows, -1, np.int64))
    d.added = pa.concat_tables([d.added, b_new.append_column(_ID, minus)])
    return d


def _compare_by_key(table, keys, a: pa.Table, b: pa.Table, names) -> Diff:
    return _match(table, keys, a, b, names + [ROWID], [n for n in names if n not in keys])


def _combine(table, keys, parts: _Parts, matched: Diff, names, by_rowid: bool,
             describe: bool) -> Diff:
    """The directly classified rows and the matched ones, as one sorted ``Diff``."""
    def with_ids(batches):
        t = parts.table(batches)
        return t.append_column(_ID, t.column(ROWID)) if by_rowid else t

    def cat(direct, found):
        found = found.select(direct.column_names)
        return pa.concat_tables([direct, found.cast(direct.schema)])

    removed = cat(with_ids(parts.removed), matched.removed)
    added = cat(with_ids(parts.added), matched.added)
    before = cat(with_ids(parts.before), matched.changed_before)
    after = cat(with_ids(parts.after), matched.changed_after)
    order = keys if not by_rowid else [ROWID]
    removed, added = _sorted(removed, order), _sorted(added, order)
    sort_keys = keys if not by_rowid else [_ID]
    if after.num_rows > 1 and not _ascending(after, sort_keys):
        idx = pc.sort_indices(after, [(k, "ascending") for k in sort_keys])
        before, after = before.take(idx), after.take(idx)
    value_cols = [n for n in names if n not in keys]
    out = Diff(table, keys, added, removed, before, after,
               _changed_columns(before, after, value_cols) if describe else [])
    drop = [ROWID] if not by_rowid else [_ID]
    if by_rowid:
        out.added_ids = added.column(_ID).to_numpy()
        out.removed_ids = removed.column(_ID).to_numpy()
        out.changed_ids = after.column(_ID).to_numpy()
    out.added, out.removed = added.drop_columns(drop), removed.drop_columns(drop)
    out.changed_before, out.changed_after = before.drop_columns(drop), after.drop_columns(drop)
    return out


def _ascending(t: pa.Table, keys) -> bool:
    """Already in key order? (Rows classified chunk by chunk come in rowid order.)"""
    if len(keys) != 1 or not pa.types.is_integer(t.schema.field(keys[0]).type):
        return False
    col = t.column(keys[0])
    if col.null_count:
        return False
    v = col.to_numpy()
    return bool(np.all(v[1:] >= v[:-1]))


def _changed_columns(before: pa.Table, after: pa.Table, value_cols) -> list:
    """Per changed row, the names of the columns that differ (built per distinct
    pattern, not per row: a big UPDATE changes the same columns in every row)."""
    n = after.num_rows
    if not n or not value_cols:
        return [[] for _ in range(n)]
    masks = np.stack([np.asarray(pc.fill_null(_distinct(before.column(c), after.column(c)),
                                              False)) for c in value_cols], axis=1)
    if len(value_cols) < 63:   # one int64 code per row: np.unique on ints is fast
        codes = masks.astype(np.int64) @ (np.int64(1) << np.arange(len(value_cols),
                                                                   dtype=np.int64))
        patterns, inverse = np.unique(codes, return_inverse=True)
        names = [[c for k, c in enumerate(value_cols) if (int(p) >> k) & 1] for p in patterns]
    else:
        patterns, inverse = np.unique(masks, axis=0, return_inverse=True)
        names = [[value_cols[k] for k in np.flatnonzero(p)] for p in patterns]
    # rows of one pattern share one list object: treat the lists as read-only
    return [names[k] for k in np.asarray(inverse).reshape(-1).tolist()]


def _match(table, keys, a: pa.Table, b: pa.Table, out_cols, value_cols) -> Diff:
    """Full outer join of the two sides' candidates on ``keys``; ``value_cols`` decide
    whether a row on both sides changed; other non-key columns are carried per side."""
    carried = [c for c in a.column_names if c not in keys]
    if a.num_rows == 0 or b.num_rows == 0:   # nothing to join: one-sided rows only
        empty = a.schema.empty_table()
        return Diff(table, keys, b, a, empty, empty, [])
    a = a.append_column("__in_a", pa.array(np.ones(a.num_rows, bool)))
    b = b.append_column("__in_b", pa.array(np.ones(b.num_rows, bool)))
    a_ren = a.rename_columns([c if c in keys or c == "__in_a" else f"{c}__a" for c in a.column_names])
    b_ren = b.rename_columns([c if c in keys or c == "__in_b" else f"{c}__b" for c in b.column_names])
    j = a_ren.join(b_ren, keys=keys, join_type="full outer", coalesce_keys=True, use_threads=False)
    in_a = pc.fill_null(j.column("__in_a"), False)
    in_b = pc.fill_null(j.column("__in_b"), False)
    both = pc.and_(in_a, in_b)
    cols = list(dict.fromkeys(out_cols + keys))
    removed = _restore(j.filter(pc.and_(in_a, pc.invert(in_b))), keys, carried, "a", cols)
    added = _restore(j.filter(pc.and_(in_b, pc.invert(in_a))), keys, carried, "b", cols)
    jb = j.filter(both)
    diffs = [pc.fill_null(_distinct(jb.column(f"{n}__a"), jb.column(f"{n}__b")), False)
             for n in value_cols]
    jc = jb.filter(_any(diffs, jb.num_rows))
    return Diff(table, keys, added, removed, _restore(jc, keys, carried, "a", cols),
                _restore(jc, keys, carried, "b", cols), [])


def _distinct(x, y):
    """Per row: x IS DISTINCT FROM y (NULLs equal each other; NaN equals NaN)."""
    floating = pa.types.is_floating(x.type)
    if not x.null_count and not y.null_count:
        try:
            ne = pc.not_equal(x, y)
            return pc.and_(ne, pc.invert(pc.and_(pc.is_nan(x), pc.is_nan(y)))) \
                if floating else ne
        except pa.ArrowNotImplementedError:
            pass
    try:
        eq = pc.equal(x, y)
    except pa.ArrowNotImplementedError:   # e.g. INTERVAL: no kernel, compare the values
        eq = pa.array([u == v for u, v in zip(infinity.pylist(x), infinity.pylist(y))], pa.bool_())
    if pa.types.is_floating(x.type):   # NaN is one value, as in PostgreSQL
        eq = pc.or_(eq, pc.and_(pc.is_nan(x), pc.is_nan(y)))
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


def _restore(t: pa.Table, keys, carried, suffix: str, out_cols) -> pa.Table:
    cols = {k: t.column(k) for k in keys}
    for n in carried:
        cols[n] = t.column(f"{n}__{suffix}")
    return pa.table({c: cols[c] for c in out_cols if c in cols})


def _sorted(t: pa.Table, keys) -> pa.Table:
    if t.num_rows <= 1 or _ascending(t, keys):
        return t
    return t.sort_by([(k, "ascending") for k in keys])


# ---- from a commit's row list ------------------------------------------------------------

def diff_rows(table: str, va: TableVersion | None, vb: TableVersion | None,
              rowids) -> Diff | None:
    """The same ``Diff`` as ``diff_versions(table, va, vb)`` when ``vb`` is ``va`` changed
    in just ``rowids`` (a commit's ``Changed.rowids(table)``): each of those rows is read
    on both sides and matched by primary key, so the cost is the changed rows, not even
    the changed chunks. None when it cannot: no primary key, a schema change, or no row
    list (the caller diffs the versions instead)."""
    if va is None or vb is None or rowids is None or va.schema is not vb.schema:
        return None
    schema = vb.schema
    pk = schema.primary_key
    if pk is None:
        return None
    from ..storage.chunk import rows_to_batch
    key_pos = list(pk.columns)
    keys = [schema.columns[i].name for i in key_pos]

    def key(row):
        return tuple(row[i] for i in key_pos)
    old, new = {}, {}
    for rowid in rowids:
        a, b = va.row(rowid), vb.row(rowid)
        if a is not None:
            old[key(a)] = a
        if b is not None:
            new[key(b)] = b
    try:
        order = sorted(set(old) | set(new))
    except TypeError:               # NULL-free keys of mixed kinds cannot occur; be safe
        return None
    added = [new[k] for k in order if k not in old]
    removed = [old[k] for k in order if k not in new]
    both = [k for k in order if k in old and k in new and old[k] != new[k]]
    arrow = vb.arrow_schema

    def table_of(rows):
        return pa.Table.from_batches([rows_to_batch(rows, arrow)], schema=arrow)
    before, after = table_of([old[k] for k in both]), table_of([new[k] for k in both])
    value_cols = [n for n in schema.names if n not in keys]
    return Diff(table, keys, table_of(added), table_of(removed), before, after,
                _changed_columns(before, after, value_cols))
