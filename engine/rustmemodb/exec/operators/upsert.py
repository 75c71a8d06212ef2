"""INSERT ... ON CONFLICT: each proposed row is inserted, skipped or turns into an update.

PostgreSQL handles the proposed rows one at a time, each seeing what the rows
before it did; this operator reproduces that order with a *key overlay* instead
of one storage write per row: one pass over the rows decides every outcome
against the table version as of the statement's start plus the overlay of keys
this statement has taken or freed so far, and then the whole statement is
written as one ``txn.update_rows`` (in place: updated rows keep their rowids)
and one insert. Per proposed row:

1. NOT NULL and CHECK of the proposed row (PostgreSQL checks them before it looks
   for a conflict, so a row that would be skipped can still fail).
2. Look its key up in each arbiter index. No existing row: it is inserted, and a
   collision on any *other* unique index is ``23505``.
3. ``DO NOTHING``: skipped (also when it collides with a row this statement
   inserted). ``DO UPDATE``: a row this statement already inserted or updated is
   ``21000`` ("cannot affect row a second time"); else the ``WHERE`` (over the
   existing row and ``excluded``) must be true, and the new row version is built
   from the SET expressions, checked (NOT NULL, CHECK, unique keys it moves to).

Foreign keys are checked after the pass, over the rows inserted and updated
(PostgreSQL checks them at the end of the statement too), as are the actions of
rows referenced by other tables (``constraints.before_update``). RETURNING and
the row count cover inserted and updated rows, in proposal order; skipped rows
are not returned. A failure anywhere leaves no trace: nothing is written before
the pass succeeds, and the session restores the working root on any error.
"""
from __future__ import annotations

from ... import infinity

import pyarrow as pa

from ... import errors
from ...plan.logical import LogicalInsert
from ...storage.table import TAIL_FREEZE, rows_to_batch
from .. import constraints, generated
from ..expr.row import try_compile_row
from ..expr.vector import evaluate
from ..typmods import domain_columns, fit_rows
from .dml import _EMPTY, _returning, rows_to_table

_MISSING = object()


def upsert_rows(node: LogicalInsert, schema, rows: list[tuple], ctx) -> pa.Table:
    """Run the ON CONFLICT insert of ``rows`` (full rows in table column order)."""
    oc = node.on_conflict
    txn = ctx.txn
    version = txn.working.tables[node.table]
    uniques = list(version.indexes.values())
    rows = fit_rows(schema, rows)        # keys compare as stored (exec/typmods.py)
    arbiters = uniques if oc.arbiters is None else [version.indexes[n] for n in oc.arbiters]
    taken: dict[str, dict] = {ix.name: {} for ix in uniques}   # key -> owner, or None: freed
    update = oc.action == "update"
    check_row = _row_checker(txn, schema, ctx)
    if update:
        setters = sorted((i, _row_fn(e, schema, ctx)) for i, e in oc.assignments.items())
        where = _row_fn(oc.where, schema, ctx) if oc.where is not None else None
    inserted: list[tuple] = []
    updated: dict[int, tuple] = {}       # rowid -> (old row, new row), in proposal order
    out: list[tuple] = []

    def owner_of(index, key):
        owner = taken[index.name].get(key, _MISSING)
        return index.get(key) if owner is _MISSING else owner

    for n, row in enumerate(rows):
        if n & 4095 == 4095:
            ctx.check_cancel()
        check_row(row)
        existing = None
        for index in arbiters:
            key = index.stored_key(row)
            if key is None:
                continue                 # NULLs never conflict
            existing = owner_of(index, key)
            if existing is not None:
                break
        if existing is None:             # no conflict: insert (other unique keys must be free)
            mark = -1 - len(inserted)    # owners < 0: rows this statement inserted
            for index in uniques:
                key = index.stored_key(row)
                if key is None:
                    continue
                if owner_of(index, key) is not None:
                    raise version._unique_violation(index, key)
                taken[index.name][key] = mark
            inserted.append(row)
            out.append(row)
            continue
        if not update:
            continue
        if existing < 0 or existing in updated:
            raise errors.sql_error(
                "21000", "ON CONFLICT DO UPDATE command cannot affect row a second time",
                hint="Ensure that no rows proposed for insertion within the same command "
                     "have duplicate constrained values.")
        old = version.row(existing)
        both = old + row
        if where is not None and where(both) is not True:
            continue
        values = list(old)
        for i, fn in setters:
            values[i] = fn(both)
        new = fit_rows(schema, generated.fill_rows(schema, [tuple(values)], ctx))[0]
        check_row(new)
        for index in uniques:
            before, after = index.key_of(old), index.key_of(new)
            if before is after or before == after:
                continue
            if after is not None and not (type(after) is tuple and None in after):
                owner = owner_of(index, after)
                if owner is not None and owner != existing:
                    raise version._unique_violation(index, after)
                taken[index.name][after] = existing
            if before is not None and not (type(before) is tuple and None in before):
                taken[index.name][before] = None
        updated[existing] = (old, new)
        out.append(new)
    _write(txn, node.table, schema, inserted, updated, ctx)
    ctx.rowcount = len(out)
    if node.returning is None:
        return _EMPTY
    return _returning(node.returning, node.columns, rows_to_table(out, schema), ctx)


def _write(txn, table: str, schema, inserted: list, updated: dict, ctx) -> None:
    """Foreign keys and referencing rows first, then one update and one insert."""
    news = [new for _, new in updated.values()]
    final = news + inserted
    if final:
        # NOT NULL and CHECK ran row by row already
        constraints.check_foreign_keys(txn, schema, rows=final, ctx=ctx)
    if updated and constraints.is_referenced(txn, table):
        constraints.before_update(txn, schema, [old for old, _ in updated.values()], news, ctx)
    if updated:
        txn.update_rows(table, list(updated), news)
    if len(inserted) >= TAIL_FREEZE:
        txn.insert_arrow(table, pa.Table.from_batches(
            [rows_to_batch(inserted, schema.arrow_schema)]))
    elif inserted:
        txn.insert_rows(table, inserted)


def _row_checker(txn, schema, ctx):
    """fn(row) raising NOT NULL (23502) or CHECK (23514) violations of one row."""
    required = [i for i, c in enumerate(schema.columns) if c.not_null]
    checks = []
    if schema.checks or domain_columns(schema):
        for name, expr, fn in constraints.bound_checks(schema, ctx):
            checks.append((name, fn if fn is not None else _vector_row_fn(expr, schema, ctx, 1)))
    params = ctx.params

    def check(row: tuple) -> None:
        for i in required:
            if row[i] is None:
                raise constraints.not_null_violation(schema, i)
        for name, fn in checks:
            if fn(row, params) is False:
                raise constraints.check_violation(schema, name, row)
    return check


def _row_fn(expr, schema, ctx):
    """fn(existing row + proposed row) -> value of a DO UPDATE expression."""
    fn = try_compile_row(expr)
    if fn is None:
        fn = _vector_row_fn(expr, schema, ctx, 2)
    params = ctx.params
    return lambda both: fn(both, params)


def _vector_row_fn(expr, schema, ctx, copies: int):
    """The vector evaluator on a one-row table, for expressions the row path lacks
    (subqueries): ``copies`` times the table's columns."""
    fields = [pa.field(f"{f.name}_{k}", f.type) for k in range(copies)
              for f in schema.arrow_schema]
    arrow_schema = pa.schema(fields)

    def fn(row: tuple, params) -> object:
        table = pa.Table.from_batches([rows_to_batch([row], arrow_schema)])
        v = evaluate(expr, table, ctx)
        return infinity.pyscalar(v if isinstance(v, pa.Scalar) else v[0])
    return fn
