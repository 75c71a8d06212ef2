"""Constraint checks on rows about to be written: NOT NULL, CHECK, FOREIGN KEY.

UNIQUE/PRIMARY KEY are enforced by the indexes themselves (storage/index.py).
Each check runs before anything is written, so a violating statement changes
nothing (and the session restores the transaction's working root on any
error, so even a cascade that fails half-way leaves no trace). Two entry
points per check: one over Python row tuples (row path), one over an Arrow
table (bulk path). The writers call three entry points:

    check_rows / check_table   before insert (and the new side of update): NOT NULL,
                               CHECK, FK child side
    before_update              old and new rows: FK parent side (NO ACTION/RESTRICT,
                               CASCADE, SET NULL, SET DEFAULT)
    before_delete              FK parent side (NO ACTION/RESTRICT, CASCADE, SET NULL,
                               SET DEFAULT)

A CHECK is bound once per schema version (the schema object is immutable) and
evaluated as a row closure or a vector expression; NULL satisfies it. Foreign
keys probe the parent's unique hash index per key (MATCH SIMPLE: a key with a
NULL part is not checked). Finding a deleted parent's children uses an
ordered index on the child's key column when one exists, otherwise one
vectorised scan of the child table per statement.
"""
from __future__ import annotations

from ..lazy_import import arrow as pa, compute as pc

from .. import errors, numeric
from ..types import py_values
from ..storage.table import rows_to_batch
from .typmods import domain_check_violation, domain_columns, fit_rows, fit_table
from .expr.vector import as_array, evaluate
from .operators.index_scan import fetch_rows
from .deferred_checks import defer, deferred_now
from .. import infinity


def not_null_violation(schema, col: int) -> errors.Error:
    return errors.sql_error(
        "23502", f'null value in column "{schema.columns[col].name}" of relation '
                 f'"{schema.name}" violates not-null constraint',
        hint=f"Give column '{schema.columns[col].name}' a value.")


_not_null: dict = {}   # id(schema) -> (schema, positions of NOT NULL columns)


def not_null_columns(schema) -> tuple:
    """Positions of the NOT NULL columns, computed once per (immutable) schema object."""
    entry = _not_null.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    required = tuple(i for i, c in enumerate(schema.columns) if c.not_null)
    if len(_not_null) > 4096:
        _not_null.clear()
    _not_null[id(schema)] = (schema, required)
    return required


def check_not_null(schema, rows: list[tuple]) -> None:
    required = not_null_columns(schema)
    for row in rows:
        for i in required:
            if row[i] is None:
                raise not_null_violation(schema, i)


def check_rows(txn, schema, rows: list[tuple], ctx, inserting: bool = False) -> list[tuple]:
    """The rows as stored (column type modifiers applied: exec/typmods.py), after NOT
    NULL, CHECK and foreign-key checks of those stored values. ``inserting``: new rows
    (INSERT, COPY), whose unique keys PostgreSQL checks before their foreign keys."""
    rows = fit_rows(schema, rows)
    try:
        check_not_null(schema, rows)
        check_constraints(txn, schema, rows=rows, ctx=ctx)
    except errors.Error:
        if inserting and len(rows) > 1:
            _first_failure(txn, schema, rows, ctx)
        raise
    check_foreign_keys(txn, schema, rows=rows, ctx=ctx, inserting=inserting)
    return rows


def check_table(txn, schema, table: pa.Table, ctx, inserting: bool = False) -> pa.Table:
    """``check_rows`` for an Arrow table."""
    table = fit_table(schema, table)
    try:
        for i, c in enumerate(schema.columns):
            if c.not_null and table.column(i).null_count:
                raise not_null_violation(schema, i)
        check_constraints(txn, schema, table=table, ctx=ctx)
    except errors.Error:
        if inserting and table.num_rows > 1:
            _first_failure(txn, schema, list(zip(*[infinity.pylist(c) for c in table.columns])),
                           ctx)
        raise
    check_foreign_keys(txn, schema, table=table, ctx=ctx, inserting=inserting)
    return table


def _first_failure(txn, schema, rows: list[tuple], ctx) -> None:
    """Raise what PostgreSQL meets first in new rows that fail a NOT NULL or CHECK: it
    inserts row by row, each checked (NOT NULL, then CHECK) and then put in the unique
    indexes, so a key an earlier row takes is the error, and else the first failing row's
    own (not the first CHECK's over all rows). Called on the failure path only."""
    for i, row in enumerate(rows):
        try:
            check_not_null(schema, [row])
            check_constraints(txn, schema, rows=[row], ctx=ctx)
        except errors.Error:
            if i:
                unique_first(txn, schema, rows[:i])
            raise


def unique_first(txn, schema, rows=None, table=None) -> None:
    """Raise the 23505 that new rows about to fail a foreign key would meet first:
    PostgreSQL inserts row by row, each checked against the unique indexes then, and
    runs the foreign-key triggers at the statement's end, so a statement that breaks
    both is a unique violation there. Called on the foreign-key failure path only."""
    version = txn.working.tables.get(schema.name)
    if version is None or not version.indexes:
        return
    if rows is None:
        rows = list(zip(*[infinity.pylist(c) for c in table.columns]))
    version._indexes_with(rows, list(range(len(rows))))     # 23505 on a taken key


def is_referenced(txn, table: str) -> bool:
    """Might deleting/updating rows of ``table`` need a before_delete/before_update action?

    True when a foreign key references the table; lets writers skip building Python
    rows for the actions (a few tables: ~1 µs)."""
    return referenced_in(txn.working.tables, table)


def referenced_in(tables: dict, table: str) -> bool:
    """``is_referenced`` over a root's ``tables`` (a point write computed without a
    transaction: exec/fast_update.py ``direct``)."""
    for version in tables.values():
        for fk in version.schema.foreign_keys:
            if fk.ref_table == table:
                return True
    return False


def before_delete(txn, schema, rows: list[tuple], ctx) -> None:
    on_parent_delete(txn, schema, rows, ctx)


def before_update(txn, schema, old_rows: list[tuple], new_rows: list[tuple], ctx) -> None:
    on_parent_update(txn, schema, old_rows, new_rows, ctx)


# ---- CHECK ------------------------------------------------------------------------------

def bound_checks(schema, ctx) -> list:
    """[(name, bound expression, row fn or None)] of the schema's CHECKs, from the
    database's binder (sql/bind/bind_constraints.py ``CheckBinder``), which binds each
    schema once per state of the database's functions."""
    checks = getattr(ctx, "checks", None)
    if checks is None:
        raise errors.InternalError("CHECK constraints are evaluated in a statement "
                                   "context with the database's check binder")
    root = ctx.root
    return checks(schema, ctx.functions, (root.functions or None) if root is not None else None)


def check_violation(schema, name, row: tuple | None) -> errors.Error:
    if isinstance(name, tuple):          # ("domain", domain, constraint): a column's domain
        return domain_check_violation(name[1], name[2])
    detail = None
    if row is not None:
        detail = "Failing row contains (" + ", ".join(
            "null" if v is None else str(v) for v in row) + ")."
    return errors.sql_error(
        "23514", f'new row for relation "{schema.name}" violates check constraint "{name}"',
        detail=detail)


def check_constraints(txn, schema, rows=None, table=None, ctx=None) -> None:
    if not schema.checks and not domain_columns(schema):
        return
    for name, expr, row_fn in bound_checks(schema, ctx):
        if rows is not None and row_fn is not None:
            params = ctx.params if ctx is not None else []
            for row in rows:
                if row_fn(row, params) is False:
                    raise check_violation(schema, name, row)
            continue
        data = table if table is not None else _rows_table(rows, schema)
        mask = as_array(evaluate(expr, data, ctx), data.num_rows)
        failed = pc.fill_null(pc.invert(mask), False)
        if pc.any(failed).as_py():
            i = pc.index(failed, True).as_py()
            raise check_violation(schema, name, tuple(c[i].as_py() for c in data.columns))


def _rows_table(rows, schema) -> pa.Table:
    return pa.Table.from_batches([rows_to_batch(rows, schema.arrow_schema)])


# ---- FOREIGN KEY: the child side ----------------------------------------------------------

def parent_index(parent_version, fk):
    """The parent's unique hash index over the referenced columns, and its column order."""
    schema = parent_version.schema
    positions = tuple(schema.position(n) for n in fk.ref_columns)
    for index in parent_version.indexes.values():
        cols = tuple(index.columns)
        if not index.keyed and sorted(cols) == sorted(positions):
            # map our key order (fk.columns order = ref_columns order) to the index's order
            order = [positions.index(c) for c in cols]
            return index, order
    raise errors.sql_error("42830", f'there is no unique constraint matching given keys for '
                                    f'referenced table "{fk.ref_table}"')


def fk_violation(schema, fk, key) -> errors.Error:
    cols = ", ".join(schema.columns[c].name for c in fk.columns)
    shown = ", ".join("null" if v is None else str(v) for v in key)
    return errors.sql_error(
        "23503", f'insert or update on table "{schema.name}" violates foreign key constraint '
                 f'"{fk.name}"',
        detail=f'Key ({cols})=({shown}) is not present in table "{fk.ref_table}".')


def check_foreign_keys(txn, schema, rows=None, table=None, ctx=None,
                       immediate: bool = False, inserting: bool = False,
                       only: tuple | None = None) -> None:
    """Every key of the rows (or Arrow ``table``) must be in the parent; a DEFERRABLE
    constraint's missing keys wait for COMMIT inside a transaction block
    (``deferred_checks``) unless ``immediate`` (ALTER TABLE ... ADD's validation);
    ``inserting``: new rows, whose unique violation is told first (``unique_first``);
    ``only``: these of the schema's foreign keys, not all."""
    if not schema.foreign_keys:
        return
    for fk in (schema.foreign_keys if only is None else only):
        deferred = fk.deferrable and not immediate and deferred_now(txn, fk)
        parent = txn.working.tables.get(fk.ref_table)
        if parent is None:
            raise errors.undefined_table(fk.ref_table)
        index, order = parent_index(parent, fk)
        cols = fk.columns
        parts = _by_value(schema, cols)    # (the notes compare numerics by value)
        if rows is not None:
            keys = [tuple(r[c] for c in cols) for r in rows]
        else:
            keys = list(zip(*[infinity.pylist(table.column(c)) for c in cols]))
        own = None
        if fk.ref_table == schema.name:   # self-reference: rows of this statement count
            ref_pos = [schema.position(n) for n in fk.ref_columns]
            source = rows if rows is not None else list(zip(*[infinity.pylist(c) for c in table.columns]))
            own = {_valued(tuple(r[p] for p in ref_pos), parts) for r in source}
        ref = tuple(fk.ref_columns)
        note = txn.note_fk_read
        for key in keys:
            if None in key:
                _check_match_full(schema, fk, key)
                continue
            probe = key[0] if len(key) == 1 else tuple(key[i] for i in order)
            if index.get(probe) is not None:
                # The parent key this row relies on: a transaction that deletes or re-keys
                # it concurrently now conflicts with ours (txn/commit.py), as PostgreSQL's
                # FOR KEY SHARE lock on the parent row makes it wait and fail.
                note(fk.ref_table, ref, _valued(key, parts))
            elif own is None or _valued(key, parts) not in own:
                if deferred:
                    defer(txn, ("child", schema.name, fk.name, key))
                    continue
                if inserting:
                    unique_first(txn, schema, rows, table)
                raise fk_violation(schema, fk, key)


def _check_match_full(schema, fk, key: tuple) -> None:
    """A key holding a NULL matches nothing and needs no parent, unless the constraint is
    MATCH FULL and the key mixes NULL and non-NULL parts (23503)."""
    if fk.match_full and any(v is not None for v in key):
        raise errors.sql_error(
            "23503", f'insert or update on table "{schema.name}" violates foreign key '
                     f'constraint "{fk.name}"',
            detail="MATCH FULL does not allow mixing of null and nonnull key values.")


# ---- FOREIGN KEY: the parent side ---------------------------------------------------------

def referencing(root, table: str) -> list:
    """[(child table name, fk)] for foreign keys that reference ``table``."""
    out = []
    for name, version in root.tables.items():
        for fk in version.schema.foreign_keys:
            if fk.ref_table == table:
                out.append((name, fk))
    return out


def _ref_keys(schema, fk, rows) -> set:
    pos = [schema.position(n) for n in fk.ref_columns]
    keys = {tuple(r[p] for p in pos) for r in rows}
    return {k for k in keys if None not in k}


def _by_value(schema, cols) -> tuple:
    """The positions among ``cols`` that are NUMERIC: their values match by number, not
    by the stored key, which keeps the display scale (2.5 and 2.50 are one key)."""
    return tuple(i for i, c in enumerate(cols) if schema.columns[c].type == numeric.NUMERIC)


def _valued(key: tuple, parts: tuple) -> tuple:
    """``key`` with its NUMERIC ``parts`` as numbers (numeric.key_value)."""
    if not parts:
        return key
    key = list(key)
    for i in parts:
        if key[i] is not None:
            key[i] = numeric.key_value(key[i])
    return tuple(key)


def child_rows(txn, child: str, fk, keys: set) -> list[tuple]:
    """Live rows of ``child`` whose FK columns equal one of ``keys``, each + its rowid."""
    version = txn.working.tables[child]
    cols = fk.columns
    parts = _by_value(version.schema, cols)
    if parts:
        keys = {_valued(k, parts) for k in keys}
    if len(cols) == 1 and not parts:
        for ix in version.ordered.values():
            if ix.columns[0] == cols[0]:
                import numpy as np
                ids = [ix.equal(k[0]) for k in keys]
                ids = np.concatenate(ids) if ids else []
                return fetch_rows(version, ids, with_rowid=True)
    data = version.to_arrow(with_rowid=True)
    if data.num_rows == 0:
        return []
    if len(cols) == 1 and not parts:
        values = pa.array([k[0] for k in keys], data.schema.field(cols[0]).type)
        mask = pc.fill_null(pc.is_in(data.column(cols[0]), value_set=values), False)
        hits = data.filter(mask)
    else:
        found = [_valued(v, parts) in keys
                 for v in zip(*[infinity.pylist(data.column(c)) for c in cols])]
        hits = data.filter(pa.array(found))
    return list(zip(*[py_values(c) for c in hits.columns])) if hits.num_rows else []


def still_referenced(schema, fk, child: str, row) -> errors.Error:
    pos = [schema.position(n) for n in fk.ref_columns]
    names = ", ".join(fk.ref_columns)
    shown = ", ".join(str(row[fk.columns[i]]) for i in range(len(pos)))
    return errors.sql_error(
        "23503", f'update or delete on table "{schema.name}" violates foreign key constraint '
                 f'"{fk.name}" on table "{child}"',
        detail=f'Key ({names})=({shown}) is still referenced from table "{child}".')


def on_parent_delete(txn, schema, rows, ctx) -> None:
    refs = referencing(txn.working, schema.name)
    if not refs:
        return
    later: list = []
    for child, fk in refs:
        keys = _ref_keys(schema, fk, rows)
        if not keys:
            continue
        # Gone for children inserted concurrently too: their commit and ours conflict.
        parts = _by_value(schema, [schema.position(n) for n in fk.ref_columns])
        txn.note_fk_removed(schema.name, tuple(fk.ref_columns),
                            [_valued(k, parts) for k in keys])
        hits = child_rows(txn, child, fk, keys)
        if child == schema.name:   # a self-reference from a row deleted in the same statement
            deleted = {tuple(r) for r in rows}
            hits = [h for h in hits if tuple(h[:-1]) not in deleted]
        if not hits:
            continue
        if fk.on_delete == "NO ACTION" and deferred_now(txn, fk):
            _defer_removed(txn, schema, fk, child, hits)
            continue
        if fk.on_delete in ("NO ACTION", "RESTRICT"):
            raise still_referenced(schema, fk, child, hits[0])
        if fk.on_delete == "CASCADE":
            child_version = txn.working.tables[child]
            width = len(child_version.schema.columns)
            before_delete(txn, child_version.schema, [h[:width] for h in hits], ctx)
            txn.delete_rows(child, [h[width] for h in hits])
        else:   # SET NULL / SET DEFAULT
            _set_child_keys(txn, child, fk, hits, None, ctx, fk.on_delete,
                            _ParentChange(schema, {_valued(k, parts) for k in keys}, set(),
                                          deleting=True), later)
    for check in later:
        check()


def on_parent_update(txn, schema, old_rows, new_rows, ctx) -> None:
    refs = referencing(txn.working, schema.name)
    if not refs:
        return
    later: list = []
    for child, fk in refs:
        moves = _key_moves(schema, fk, old_rows, new_rows)
        if not moves:
            continue
        kept = _ref_keys(schema, fk, new_rows)
        parts = _by_value(schema, [schema.position(n) for n in fk.ref_columns])
        if parts:   # a key another row (or this one) still holds by value is not gone
            kept = {_valued(k, parts) for k in kept}
            gone = {k for k in moves if _valued(k, parts) not in kept}
        else:
            gone = set(moves) - kept
        if gone:   # a concurrent child insert relying on these keys conflicts with us
            txn.note_fk_removed(schema.name, tuple(fk.ref_columns),
                                [_valued(k, parts) for k in gone])
        if fk.on_update in ("NO ACTION", "RESTRICT"):   # fine if another row takes the key
            affected = gone
        else:   # CASCADE / SET NULL / SET DEFAULT act per changed parent row, as
            # PostgreSQL's triggers do
            affected = set(moves)
        if not affected:
            continue
        hits = child_rows(txn, child, fk, affected)
        if child == schema.name:   # rows this statement updates keep the values it gives
            changed = {tuple(r) for r in old_rows}
            hits = [h for h in hits if tuple(h[:-1]) not in changed]
        if not hits:
            continue
        if fk.on_update == "NO ACTION" and deferred_now(txn, fk):
            _defer_removed(txn, schema, fk, child, hits)
            continue
        if fk.on_update in ("NO ACTION", "RESTRICT"):
            raise still_referenced(schema, fk, child, hits[0])
        change = _ParentChange(schema, {_valued(k, parts) for k in gone}, kept)
        _set_child_keys(txn, child, fk, hits, moves if fk.on_update == "CASCADE" else None, ctx,
                        fk.on_update, change, later)
    for check in later:
        check()


def run_deferred(txn, which=None) -> None:
    """(exec/deferred_checks.py) Check the deferred entries (those of constraints
    ``which(fk)`` accepts, else all) against the working root; raise the 23503 of the
    first entry, in the order they were deferred, whose key is still missing. Entries
    checked are dropped, the others kept. Each constraint's parent index is found once,
    and the children of its missing keys are looked up in one ``child_rows`` call (one
    scan of the child table at most, not one per key)."""
    checks = txn.deferred_checks
    if not checks:
        return
    tables = txn.working.tables
    facts: dict = {}                 # (child, constraint) -> _deferred_facts(...)
    keep, missing = [], {}           # (kind, child, constraint) -> {key: None}, in order
    for entry in checks:
        child = entry[1] if entry[0] == "child" else entry[3]
        found = facts.get((child, entry[2]), facts)
        if found is facts:
            found = facts[(child, entry[2])] = _deferred_facts(tables, child, entry[2])
        if found is None:            # the table or the constraint was dropped since
            continue
        version, fk, index, order, parts = found
        if which is not None and not which(fk):
            keep.append(entry)
            continue
        key = entry[-1]
        if index is not None:
            probe = key[0] if len(key) == 1 else tuple(key[i] for i in order)
            if index.get(probe) is not None:
                txn.note_fk_read(fk.ref_table, tuple(fk.ref_columns), _valued(key, parts))
                continue
        missing.setdefault((entry[0], child, entry[2]), {})[key] = None
    if missing:
        _raise_first_still_missing(txn, checks, facts, missing)
    txn.deferred_checks = keep or None


def _deferred_facts(tables: dict, child: str, name: str):
    """(child version, fk, parent's unique index or None, its key order, the key's
    by-value parts) of constraint ``name`` of table ``child``; None once it is gone."""
    version = tables.get(child)
    fk = None if version is None else next(
        (f for f in version.schema.foreign_keys if f.name == name), None)
    if fk is None:
        return None
    parent = tables.get(fk.ref_table)
    index, order = parent_index(parent, fk) if parent is not None else (None, None)
    return version, fk, index, order, _by_value(version.schema, fk.columns)


def _raise_first_still_missing(txn, checks: list, facts: dict, missing: dict) -> None:
    """The keys absent from their parents that children still refer to: the 23503 of
    the earliest such entry."""
    referred = {}                    # (kind, child, constraint) -> {valued key: a child row}
    for group, keys in missing.items():
        _, child, name = group
        fk, parts = facts[(child, name)][1], facts[(child, name)][4]
        rows = referred[group] = {}
        for row in child_rows(txn, child, fk, set(keys)):
            rows.setdefault(_valued(tuple(row[c] for c in fk.columns), parts), row)
    for entry in checks:
        child = entry[1] if entry[0] == "child" else entry[3]
        rows = referred.get((entry[0], child, entry[2]))
        if not rows:
            continue
        version, fk, _, _, parts = facts[(child, entry[2])]
        row = rows.get(_valued(entry[-1], parts))
        if row is None:
            continue                 # nothing refers to the key any more
        if entry[0] == "child":
            raise fk_violation(version.schema, fk, entry[-1])
        parent = txn.working.tables.get(fk.ref_table)
        raise still_referenced(parent.schema if parent is not None else version.schema,
                               fk, child, row)


def _defer_removed(txn, schema, fk, child: str, hits: list) -> None:
    """A NO ACTION parent key removed while children refer to it, under a deferred
    constraint: checked again at COMMIT (the key may come back, the children may go)."""
    for key in {tuple(h[c] for c in fk.columns) for h in hits}:
        defer(txn, ("parent", schema.name, fk.name, child, key))


def _key_moves(schema, fk, old_rows, new_rows) -> dict:
    """{old referenced key: new key} for the rows whose referenced key changes."""
    pos = [schema.position(n) for n in fk.ref_columns]
    moves = {}
    for old, new in zip(old_rows, new_rows):
        before = tuple(old[p] for p in pos)
        after = tuple(new[p] for p in pos)
        if before != after and None not in before:
            moves.setdefault(before, after)
    return moves


class _ParentChange:
    """What the parent statement does to the referenced keys, for a SET DEFAULT's check
    of the keys it gives (made before the parent rows are written): the parent's
    ``schema``, the by-value keys it ``removed`` and those it ``added`` (an UPDATE's new
    keys); ``deleting``: a DELETE (whose ON DELETE SET may name columns)."""

    __slots__ = ("schema", "removed", "added", "deleting")

    def __init__(self, schema, removed: set, added: set, deleting: bool = False) -> None:
        self.schema, self.removed, self.added, self.deleting = schema, removed, added, deleting


def _set_child_keys(txn, child: str, fk, hits: list, moves: dict | None, ctx,
                    action: str = "SET NULL", change: _ParentChange | None = None,
                    later: list | None = None) -> None:
    """Referential action on child rows (each + its rowid): their FK columns follow the
    parent's new key (CASCADE: ``moves``), become NULL (SET NULL) or take their column
    DEFAULT, evaluated per row (SET DEFAULT), in place. ON DELETE SET NULL (a) / SET
    DEFAULT (a) set only the columns named (``fk.delete_set_columns``). The check that
    the keys set are in the parent goes to ``later``: PostgreSQL runs it after every
    action of the parent statement, as the child's own trigger."""
    version = txn.working.tables[child]
    schema = version.schema
    width = len(schema.columns)
    old = [h[:width] for h in hits]
    targets = fk.columns
    if change is not None and change.deleting and fk.delete_set_columns:
        targets = fk.delete_set_columns
    fill = _default_values(txn, schema, targets, old, ctx) if action == "SET DEFAULT" else None
    new = []
    for j, row in enumerate(old):
        values = list(row)
        if moves is not None:
            target = moves.get(tuple(row[c] for c in fk.columns))
            for i, c in enumerate(fk.columns):
                values[c] = None if target is None else target[i]
        else:
            for k, c in enumerate(targets):
                values[c] = None if fill is None else fill[k][j]
        new.append(tuple(values))
    if fill is not None:
        new = fit_rows(schema, new)
    # Only this key's columns change. CASCADE's key is the parent's new one (written right
    # after) and SET NULL's all NULL: NOT NULL and CHECK can fail, the foreign keys cannot.
    # A SET DEFAULT's key (or a partial SET NULL's under MATCH FULL) is checked again.
    check_not_null(schema, new)
    check_constraints(txn, schema, rows=new, ctx=ctx)
    recheck = fill is not None or (fk.match_full and targets != fk.columns)
    if recheck:
        _still_referenced_by_default(fk, child, new, change)
    before_update(txn, schema, old, new, ctx)   # the child's own children, if its key moved
    txn.update_rows(child, [h[width] for h in hits], new)
    if recheck:
        others = tuple(f for f in schema.foreign_keys
                       if f is not fk and set(f.columns) & set(targets))

        def check() -> None:
            _check_set_keys(txn, schema, fk, new, change)
            if others:
                check_foreign_keys(txn, schema, rows=new, ctx=ctx, only=others)
        if later is None:
            check()
        else:
            later.append(check)


def _default_values(txn, schema, targets: tuple, rows: list, ctx) -> list[list]:
    """Per column of ``targets``, its DEFAULT evaluated once per row of ``rows`` (a
    nextval() draws for each), bound by the database's binder (``ctx.checks``)."""
    bound = ctx.checks(schema, ctx.functions, None, "defaults", root=txn.working)
    table = _rows_table(rows, schema)
    return [py_values(as_array(evaluate(bound[c][1], table, ctx), len(rows))) for c in targets]


def _still_referenced_by_default(fk, child: str, new: list, change) -> None:
    """A row whose DEFAULT is the very key the parent statement removes still refers to
    it: PostgreSQL's SET DEFAULT runs the NO ACTION check again, at once (an action is
    never deferred), and says the key is still referenced."""
    parts = _by_value(change.schema, [change.schema.position(n) for n in fk.ref_columns])
    for row in new:
        key = tuple(row[c] for c in fk.columns)
        if None not in key and _valued(key, parts) in change.removed and \
                _valued(key, parts) not in change.added:
            raise still_referenced(change.schema, fk, child, row)


def _check_set_keys(txn, schema, fk, new: list, change) -> None:
    """The keys a SET DEFAULT (or a partial SET NULL under MATCH FULL) gave the child
    rows must be in the parent as the parent statement leaves it: its removed keys
    gone, its new ones there. A deferred constraint's missing key waits for COMMIT."""
    parent = txn.working.tables.get(fk.ref_table)
    if parent is None:
        raise errors.undefined_table(fk.ref_table)
    index, order = parent_index(parent, fk)
    parts = _by_value(schema, fk.columns)
    deferred = fk.deferrable and deferred_now(txn, fk)
    for row in new:
        key = tuple(row[c] for c in fk.columns)
        if None in key:
            _check_match_full(schema, fk, key)
            continue
        valued = _valued(key, parts)
        if valued in change.added:
            continue
        probe = key[0] if len(key) == 1 else tuple(key[i] for i in order)
        if index.get(probe) is not None and valued not in change.removed:
            txn.note_fk_read(fk.ref_table, tuple(fk.ref_columns), valued)
            continue
        if deferred:
            defer(txn, ("child", schema.name, fk.name, key))
            continue
        raise fk_violation(schema, fk, key)
