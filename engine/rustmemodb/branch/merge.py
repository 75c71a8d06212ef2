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
get the usual first-committer-wins check. It then leaves a ``MergeRecord`` in
the target's root (``Database.note_merge``): the source root it merged (the
base of the next merge between the two) and how the target's rowids map onto it.
Undoing the merge restores a root without that record, so merging again
re-applies the source's changes.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from .. import composite, errors
from ..types import py_values, sql_name
from ..storage.namespaces import in_schema
from ..storage.root import is_temporary
from ..storage.table import TableVersion
from . import validate
from .diff import ROWID, Diff, _distinct, diff_versions
from .identity import (IDENTITY, ROWID_MASK, Correspondence, MergeRecord, lineage, next_seq,
                       origins, space_id)
from .lineage import MergeBase, common_base
from .. import infinity

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


def merge(source, target, strategy: str = "abort", *, dry_run: bool = False) -> MergeResult:
    """Merge ``source``'s changes since the merge base into ``target``; see the module
    docstring. Databases or connections. ``dry_run``: find the conflicts and counts but
    write nothing (``applied`` then says whether the merge would apply), which a sharded
    database asks every shard before any applies (cluster/branches.py)."""
    check_strategy(strategy)
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
        run.catalog_objects()
        if run.blocking or (run.conflicts and strategy == "abort"):
            target.end(txn)
            return MergeResult(False, run.conflict_table(), run.counts)
        run.validate()
        if run.blocking:
            target.end(txn)
            return MergeResult(False, run.conflict_table(), run.counts)
        if dry_run:
            target.end(txn)
            return MergeResult(True, run.conflict_table(), run.counts)
        run.sequences()
        record = MergeRecord(src_root, next_seq(), run.next_correspondences(), lineage(source),
                             run.taken())
        if txn.ops:
            target.commit(txn)
        else:
            target.end(txn)
        # even a merge that changed nothing moves the base: the next merge between the
        # two must not see the changes both sides already share as new again
        target.note_merge(space_id(source), record)
    except BaseException:
        target.end(txn)
        raise
    return MergeResult(True, run.conflict_table(), run.counts)


def check_strategy(strategy: str) -> None:
    """22023 unless ``strategy`` is one a merge knows."""
    if strategy not in ("abort", "ours", "theirs"):
        raise errors.sql_error("22023", f"unknown merge strategy {strategy!r}",
                               hint="Use 'abort', 'ours' or 'theirs'.")


class _Merge:
    """One merge's state: the sides, what was applied, the conflicts found."""

    def __init__(self, base: MergeBase, source, target, src_root, tgt_root, txn, strategy):
        self.base, self.source, self.target = base, source, target
        self.src_root, self.tgt_root, self.txn, self.strategy = src_root, tgt_root, txn, strategy
        self.conflicts: list[tuple] = []      # resolvable by a strategy (rows)
        self.blocking: list[tuple] = []       # schema and constraint conflicts
        self.counts: dict = {}
        self.adopted: set = set()             # tables taken whole from the source
        self.pairs: dict = {}                 # table -> [(target rowids, source rowids)]
        self.written: dict = {}               # table -> rows the merge wrote

    def sequences(self) -> None:
        """Each sequence continues past the numbers either side drew: the source's rows
        came with their SERIAL and identity values, and the target's next INSERT must not
        hand one of them out again (23505). A table the source created brings its
        sequence along."""
        mine = self.txn.working.sequences
        for name, value in self.src_root.sequences.items():
            if name not in mine or value > mine[name]:
                self.txn.set_sequence(name, value)

    def catalog_objects(self) -> None:
        """Views, SQL functions and enum types, three-way by definition: one the source created,
        replaced or dropped since the base (and the target left as it was) is taken; one
        both sides changed differently is a conflict no strategy resolves."""
        base = self.base.root
        self._schemas(base)
        for kind, get, put in (("view", lambda r: r.views, self.txn.set_view),
                               ("function", lambda r: r.functions, self.txn.set_function),
                               ("type", lambda r: r.enums, self.txn.set_enum),
                               ("sequence", _sequence_defs, self._put_sequence_def),
                               ("domain", lambda r: r.domains, self.txn.set_domain),
                               ("type", lambda r: r.composites, self.txn.set_composite)):
            b_objs, s_objs, t_objs = get(base), get(self.src_root), get(self.tgt_root)
            for name in sorted(set(b_objs) | set(s_objs) | set(t_objs)):
                vb, vs, vt = b_objs.get(name), s_objs.get(name), t_objs.get(name)
                if vs == vb or vs == vt:
                    continue                    # the source left it, or both did the same
                if vt == vb:
                    put(name, vs)
                    continue
                self.blocking.append((name, "", kind, _definition(vb), _definition(vt),
                                      _definition(vs), "schema"))

    def _put_sequence_def(self, name: str, spec) -> None:
        """A sequence's options as the source changed them (a sequence the source dropped
        keeps its state here: sequences() never drops one, so neither does this)."""
        if spec is not None:
            mine = self.txn.working.seqdefs.get(name)
            called = self.src_root.seqdefs[name].is_called or (mine is not None
                                                                and mine.is_called)
            self.txn.set_sequence_def(name, dataclasses.replace(spec, is_called=called))

    def _schemas(self, base) -> None:
        """Schemas (storage/namespaces.py) the source created since the base are created
        in the target too (their tables come with all_tables); ones it dropped are
        dropped once nothing of the target's is left in them."""
        b, s, t = base.auth.schemas, self.src_root.auth.schemas, self.tgt_root.auth.schemas
        working = self.txn.working
        cat = working.auth
        for name in sorted(set(s) - set(b) - set(t)):
            cat = cat.with_schema(name, self.src_root.auth.owner("schema", name))
        for name in sorted((set(b) & set(t)) - set(s)):
            keys = {*working.tables, *working.views, *working.sequences}
            if not in_schema(keys, name, t):
                cat = cat.without_schema(name)
        if cat is not working.auth:
            self.txn.set_auth(cat)

    # ---- per table ---------------------------------------------------------------------
    def all_tables(self) -> None:
        broot = self.base.root
        names = {n for n in set(broot.tables) | set(self.src_root.tables)
                 | set(self.tgt_root.tables) if not is_temporary(n)}   # sessions' scratch
        for name in sorted(names):
            vb = broot.tables.get(name)
            vs, vt = self.src_root.tables.get(name), self.tgt_root.tables.get(name)
            if vs is vb or (vs is not None and vs is vt):
                continue                                      # source did not touch it
            if (vt is vb and self._keeps_rowids(name, vb)) or (vt is None and vb is None):
                # only the source changed it, and its rows keep the target's numbers
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

    def _keeps_rowids(self, name: str, vb) -> bool:
        """May the target take the source's version whole? Only if every rowid of the
        base names the same row in it (``identity.py``: a row keeps its rowid for life
        within one database). A source that holds a row under another number (copied
        in by a merge of its own) would give the target's row 8 to a different row,
        and every earlier state and merge record of the target would then name the
        wrong one: the next merge copies a row twice."""
        if vb is None:
            return True
        cs = self.base.correspondence(self.source, name)
        return cs.watermark >= vb.next_rowid and not len(cs.rowids)

    def _rows(self, name: str, vb, vs: TableVersion, vt: TableVersion) -> dict:
        """Merge one table both sides changed, vectorised: the two change sets are joined
        on row identity (or key); only conflicts are looked at row by row."""
        cs = self.base.correspondence(self.source, name)
        ct = self.base.correspondence(self.target, name)
        schema = vt.schema
        names = schema.names
        pk = schema.primary_key
        keys = [names[i] for i in pk.columns] if pk is not None else [_ID]
        their_diff = diff_versions(name, vb, vs, IDENTITY, cs, describe=False)
        our_diff = diff_versions(name, vb, vt, IDENTITY, ct, describe=False)
        theirs = _change_table(their_diff, names, pk is None)
        ours = _change_table(our_diff, names, pk is None)
        n = theirs.num_rows
        kind = _np(theirs.column(_KIND))
        fresh = _np(theirs.column(_ID)) == -1 if pk is None else np.zeros(n, bool)
        at = _lookup(theirs, ours, keys)            # our change to the same row, or -1
        at[fresh] = -1                              # rows of the source only: never matched
        if pk is None:
            rowids, found = ct.from_base(_np(theirs.column(_ID)))
            found &= ~fresh
            traced = self._by_origin(name, theirs, ours, kind, cs, ~found, at)
        has_ours = at >= 0
        okind = np.full(n, _NONE, np.int8)
        okind[has_ours] = _np(ours.column(_KIND))[at[has_ours]]
        conflict = np.zeros(n, bool)
        both = np.flatnonzero(has_ours)
        if len(both):
            conflict[both] = ~_same_rows(theirs.take(pa.array(both)),
                                         ours.take(pa.array(at[both])), names,
                                         kind[both], okind[both])
        if conflict.any():
            pick = np.flatnonzero(conflict)
            self.conflicts.extend(_describe(
                name, schema, theirs.take(pa.array(pick)), ours.take(pa.array(at[pick])),
                names, keys, _before_rows(their_diff, names), _before_rows(our_diff, names)))
        take = ~has_ours | (conflict if self.strategy == "theirs" else False)
        if pk is None:
            same_row = traced >= 0
            rowids[same_row] = traced[same_row]
            live = found & (okind != _REMOVED) & ((okind != _NONE) | (kind != _ADDED))
            live |= same_row & (okind != _REMOVED)
            kept = same_row & (kind != _REMOVED)      # the next merge knows them as one
            self.pairs.setdefault(name, []).append(
                (rowids[kept], _np(theirs.column(ROWID))[kept]))
        else:
            index = vt.indexes[pk.name]
            rows_taken = theirs.take(pa.array(np.flatnonzero(take)))
            key_cols = [infinity.pylist(rows_taken.column(k)) for k in keys]
            hits = [index.get(k[0] if len(k) == 1 else k) for k in zip(*key_cols)]
            rowids = np.full(n, -1, np.int64)
            rowids[take] = [h if h is not None else -1 for h in hits]
            live = rowids >= 0
        removing = kind == _REMOVED
        deletes = rowids[take & removing & live]
        up = np.flatnonzero(take & ~removing & live)
        ins = np.flatnonzero(take & ~removing & ~live)
        updates = (rowids[up], _rows_of(theirs.take(pa.array(up)), schema))
        inserts = _rows_of(theirs.take(pa.array(ins)), schema, True)
        applied = {label: int(np.count_nonzero(take & (kind == k)))
                   for k, label in ((_ADDED, "added"), (_REMOVED, "removed"),
                                    (_CHANGED, "changed"))}
        self._apply(name, schema, deletes, updates, inserts, pk is None)
        return applied

    def _by_origin(self, name, theirs: pa.Table, ours: pa.Table, kind, cs: Correspondence,
                   lost: np.ndarray, at: np.ndarray) -> np.ndarray:
        """For their changes to rows the target does not know by base identity
        (``lost``): the target's live row of the same origin (``identity.py``), or -1;
        ``at`` gets our change to that row. After a criss-cross of merges no one base
        knows every row both sides took in; without this such a row is copied twice."""
        traced = np.full(theirs.num_rows, -1, np.int64)
        want = np.flatnonzero(lost)
        if not len(want):
            return traced
        src_ids = _np(theirs.column(ROWID))[want].astype(np.int64)
        gone = kind[want] == _REMOVED           # a removed row's ROWID is the base's
        if gone.any():
            back, ok = cs.from_base(src_ids[gone])
            src_ids[gone] = np.where(ok, back, -1)
        want, src_ids = want[src_ids >= 0], src_ids[src_ids >= 0]
        if not len(want):
            return traced
        wanted = origins(lineage(self.source), self.src_root, name, src_ids)
        # the target's row of that origin has the same number, or a merge copied it in
        vt = self.tgt_root.tables[name]
        candidates = np.unique(np.concatenate(
            [wanted & ROWID_MASK] + [r.tables[name].rowids for r in
                                     self.tgt_root.merges.values() if name in r.tables]))
        candidates = candidates[candidates < vt.next_rowid]
        if not len(candidates):
            return traced
        mine = origins(lineage(self.target), self.tgt_root, name, candidates)
        where, hit = _positions(mine, wanted)
        if hit.any():                           # few: rows both sides took in
            dead = [vt.row(r) is None for r in candidates[where[hit]].tolist()]
            hit[np.flatnonzero(hit)[dead]] = False
        rows = candidates[where[hit]]
        traced[want[hit]] = rows
        if ours.num_rows:                       # our change to that row, by our rowid
            our_ids = _np(ours.column(ROWID)).astype(np.int64)
            our_ids[_np(ours.column(_KIND)) == _REMOVED] = -1
            change, same = _positions(our_ids, rows)
            at[want[hit][same]] = change[same]
        return traced

    def _apply(self, name, schema, deletes, updates, inserts, by_rowid: bool) -> None:
        txn = self.txn
        mark = txn.savepoint()
        try:
            self._write(name, deletes, updates, inserts, by_rowid)
        except errors.Error as exc:
            if not str(getattr(exc, "sqlstate", "")).startswith("23"):
                raise
            txn.restore(mark)
            self._write_one_by_one(name, schema, deletes, updates, inserts)
        written = [updates[1], inserts.drop_columns([ROWID])]
        self.written[name] = pa.concat_tables([w for w in written if w.num_rows] or
                                              [schema.arrow_schema.empty_table()])

    def _write(self, name, deletes, updates, inserts, by_rowid) -> None:
        txn = self.txn
        if len(deletes):
            txn.delete_rows(name, deletes.tolist())
        if len(updates[0]):
            txn.update_arrow(name, updates[0], updates[1])
        if inserts.num_rows:
            new_ids = txn.insert_arrow(name, inserts.drop_columns([ROWID]))
            if by_rowid:
                src = inserts.column(ROWID).to_numpy(zero_copy_only=False)
                self.pairs.setdefault(name, []).append((np.asarray(new_ids, np.int64), src))

    def _write_one_by_one(self, name, schema, deletes, updates, inserts) -> None:
        """After a constraint error: find every offending row (the merge will not commit)."""
        txn = self.txn
        if len(deletes):
            txn.delete_rows(name, deletes.tolist())
        items = [("u", (int(t), r)) for t, r in zip(updates[0].tolist(), _pyrows(updates[1]))]
        items += [("i", r) for r in _pyrows(inserts.drop_columns([ROWID]))]
        for op, item in items:
            mark = txn.savepoint()
            try:
                if op == "u":
                    txn.update_rows(name, [item[0]], [item[1]])
                else:
                    txn.insert_rows(name, [item])
            except errors.Error as exc:
                txn.restore(mark)
                if not str(getattr(exc, "sqlstate", "")).startswith("23"):
                    raise
                row = item[1] if op == "u" else item
                self.blocking.append((name, validate.row_text(schema, row), "", None, None,
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
                pairs.append((ct.rowids[found], s[found]))
            if len(cs.rowids):      # source rows mapped onto the old base: from the target
                t, found = ct.from_base(cs.base_ids)
                pairs.append((t[found], cs.rowids[found]))
            out[name] = Correspondence.of_pairs(
                min(ct.watermark, cs.watermark),
                np.concatenate([t for t, _ in pairs] or [_NO_ROWS]),
                np.concatenate([s for _, s in pairs] or [_NO_ROWS]))
        return out

    def taken(self) -> dict:
        """The rowid ranges of tables taken whole, this time and by earlier merges from
        the same source (the new record replaces the old one): see ``origins``."""
        earlier = self.tgt_root.merges.get(space_id(self.source))
        out = {name: list(ranges) for name, ranges in
               (earlier.taken.items() if earlier is not None else ())}
        for name in self.adopted:
            vb, vs = self.base.root.tables.get(name), self.src_root.tables.get(name)
            lo = vb.next_rowid if vb is not None else 0
            if vs is not None and vs.next_rowid > lo:
                out.setdefault(name, []).append((lo, vs.next_rowid))
        return {name: tuple(ranges) for name, ranges in out.items()}

    def conflict_table(self) -> pa.Table:
        rows = [tuple(None if v is None else str(v) for v in c)
                for c in self.blocking + self.conflicts]
        return pa.Table.from_pylist([dict(zip(CONFLICT_SCHEMA.names, c)) for c in rows],
                                    schema=CONFLICT_SCHEMA)


# ---- change tables ------------------------------------------------------------------------

_ID, _KIND, _B = "__id", "__kind", "__b"
_NO_ROWS = np.zeros(0, np.int64)
_ADDED, _REMOVED, _CHANGED, _NONE = 0, 1, 2, -1


def _change_table(d: Diff, names, by_rowid: bool) -> pa.Table:
    """One row per change: the row's values after it (before it, for a removal), its
    kind, identity, the side's rowid and where its base values are (``__b``: a row of
    ``_before_rows(d)``, read only to describe a conflict)."""
    parts = []
    offset = 0
    for kind, after, before, ids in (
            (_ADDED, d.added, None, d.added_ids),
            (_REMOVED, d.removed, d.removed, d.removed_ids),
            (_CHANGED, d.changed_after, d.changed_before, d.changed_ids)):
        n = after.num_rows
        cols = {c: after.column(c) for c in names}
        if before is None:
            cols[_B] = pa.nulls(n, pa.int64())
        else:
            cols[_B] = pa.array(np.arange(offset, offset + n, dtype=np.int64))
            offset += n
        cols[_KIND] = pa.array(np.full(n, kind, np.int8))
        cols[ROWID] = after.column(ROWID) if ROWID in after.column_names else \
            pa.nulls(n, pa.int64())
        if by_rowid:
            cols[_ID] = pa.array(ids if len(ids) == n else np.full(n, -1, np.int64), pa.int64())
        parts.append(pa.table(cols))
    return pa.concat_tables(parts)


def _before_rows(d: Diff, names) -> pa.Table:
    """The base versions of removed and changed rows, as ``__b`` numbers them."""
    return pa.concat_tables([d.removed.select(names), d.changed_before.select(names)])


def _lookup(theirs: pa.Table, ours: pa.Table, keys) -> np.ndarray:
    """For each of their changes, the position of our change to the same row (-1 if we
    did not change it): a sorted search on row identities, else a join on the key
    columns alone (values are taken afterwards, not carried through the join)."""
    n = theirs.num_rows
    idx = np.full(n, -1, np.int64)
    if n and ours.num_rows:
        if keys == [_ID]:
            mine = _np(ours.column(_ID))
            known = np.flatnonzero(mine >= 0)       # our own new rows match nothing
            wanted = _np(theirs.column(_ID))
            where, hit = _positions(mine[known], wanted)
            hit &= wanted >= 0
            idx[hit] = known[where[hit]]
        else:
            t = theirs.select(keys).append_column("__ti", pa.array(np.arange(n)))
            o = ours.select(keys).append_column("__oi", pa.array(np.arange(ours.num_rows)))
            both = t.join(o, keys=keys, join_type="inner", use_threads=False)
            idx[_np(both.column("__ti"))] = _np(both.column("__oi"))
    return idx


def _positions(values: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(where, hit): for each of ``wanted``, the position in ``values`` of the first
    equal value, and whether there is one (a stable sort and a binary search)."""
    if not len(values):
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    order = np.argsort(values, kind="stable")
    pos = np.minimum(np.searchsorted(values[order], wanted), len(values) - 1)
    where = order[pos]
    return where, values[where] == wanted


def _np(col) -> np.ndarray:
    return col.to_numpy() if isinstance(col, pa.ChunkedArray) else col.to_numpy(
        zero_copy_only=False)


def _same_rows(theirs: pa.Table, ours: pa.Table, names, kind, okind) -> np.ndarray:
    """Did both sides end each row the same way (both deleted, or equal values)?"""
    gone, my_gone = kind == _REMOVED, okind == _REMOVED
    equal = np.ones(theirs.num_rows, bool)
    for n in names:
        equal &= ~np.asarray(pc.fill_null(_distinct(theirs.column(n).combine_chunks(),
                                                    ours.column(n).combine_chunks()), True))
    return (gone & my_gone) | (~gone & ~my_gone & equal)


def _rows_of(t: pa.Table, schema, with_rowid: bool = False) -> pa.Table:
    cols = schema.names + ([ROWID] if with_rowid else [])
    out_schema = schema.arrow_schema.append(pa.field(ROWID, pa.int64())) if with_rowid \
        else schema.arrow_schema
    return t.select(cols).cast(out_schema)


def _pyrows(t: pa.Table) -> list[tuple]:
    return list(zip(*[py_values(c) for c in t.columns])) if t.num_columns else []


def _same(x, y) -> bool:
    return x == y or (x != x and y != y)   # NaN equals NaN here, as in PostgreSQL


def _describe(table, schema, theirs: pa.Table, ours: pa.Table, names, keys,
              their_base: pa.Table, our_base: pa.Table) -> list[tuple]:
    """Conflict rows (table, key, column, base, ours, theirs, 'row'): ``theirs`` and
    ``ours`` are the two sides' changes of the same rows, aligned."""
    out = []
    for r, o in zip(infinity.pylist(theirs), infinity.pylist(ours)):
        if r[_B] is not None:
            base = infinity.pylist(their_base.slice(r[_B], 1))[0]
        elif o[_B] is not None:
            base = infinity.pylist(our_base.slice(o[_B], 1))[0]
        else:
            base = None
        key_text = f"row {r[_ID]}" if keys == [_ID] else \
            ", ".join(f"{k}={r[k]}" for k in keys)
        theirs_gone, ours_gone = r[_KIND] == _REMOVED, o[_KIND] == _REMOVED
        if theirs_gone or ours_gone:
            mine = {n: o[n] for n in names}
            their_row = {n: r[n] for n in names}
            out.append((table, key_text, "*", _t(base),
                        "(deleted)" if ours_gone else _t(mine),
                        "(deleted)" if theirs_gone else _t(their_row), "row"))
            continue
        for n in names:
            if not _same(r[n], o[n]):
                out.append((table, key_text, n, _t(base[n]) if base is not None else None,
                            _t(o[n]), _t(r[n]), "row"))
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


def _sequence_defs(root) -> dict:
    """A root's sequence options, ``is_called`` aside (it moves with the values drawn,
    which sequences() merges)."""
    return {n: dataclasses.replace(d, is_called=False) for n, d in root.seqdefs.items()}


def _definition(obj) -> str:
    """A view's, function's or enum type's definition for a conflict row ("(dropped)" when
    gone)."""
    if obj is None:
        return "(dropped)"
    if hasattr(obj, "not_null") and hasattr(obj, "checks"):     # a domain (DomainDef)
        return " ".join([f"DOMAIN AS {obj.base}"]
                        + ([f"DEFAULT {obj.default}"] if obj.default is not None else [])
                        + (["NOT NULL"] if obj.not_null else [])
                        + [f"CONSTRAINT {n} CHECK ({sql})" for n, sql, _ in obj.checks])
    if composite.is_record(obj):        # a composite type's string (composite.py)
        return "AS (" + ", ".join(f"{f} {sql_name(t)}"
                                  for f, t in composite.fields_of(obj)) + ")"
    if isinstance(obj, tuple):           # an enum type's labels
        return "ENUM (" + ", ".join("'" + v.replace("'", "''") + "'" for v in obj) + ")"
    if hasattr(obj, "increment"):        # a sequence's options (storage/sequence_defs.py)
        return (f"AS {obj.data_type} INCREMENT {obj.increment} MINVALUE {obj.minvalue} "
                f"MAXVALUE {obj.maxvalue} START {obj.start}" + (" CYCLE" if obj.cycle else ""))
    return getattr(obj, "sql", None) or getattr(obj, "body", "")
