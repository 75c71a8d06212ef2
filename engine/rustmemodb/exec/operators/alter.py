"""The ALTER TABLE operator: applies the binder's steps (plan/ddl.py) in order.

Every change goes through ``txn.replace_table``, so an ALTER inside a transaction is
invisible to others until COMMIT, undone by ROLLBACK, and conflicts (40001) with
concurrent writers of the table; forks that never saw it keep sharing the old
version (nothing is copied for them).

Data changes are made column by column, never row by row: the row tail is frozen
into a chunk first, then each frozen chunk gets a new RecordBatch that shares every
untouched column buffer (ADD COLUMN appends one array, DROP COLUMN and RENAME are
zero-copy, ALTER COLUMN TYPE casts one column). Deletion vectors and rowids are
kept, so the indexes of untouched columns are shared as they are (with remapped
column positions after a DROP COLUMN). What needs the rows or the other tables is
checked here: NULLs under a new NOT NULL (``23502``), CHECK and FOREIGN KEY over
existing rows (``23514``, ``23503``), duplicates under a new UNIQUE (``23505``),
relation names (``42P07``) and dependent foreign keys (``2BP01``).
"""
from __future__ import annotations

import copy
import dataclasses

import pyarrow as pa
from rustmemodb.lazy_import import compute as pc
from ..arrays import contiguous

from ... import errors, notices, numeric_arrays
from ..typmods import fit_array
from ...plan.ddl import (AddCheck, AddColumn, AddForeignKey, AddUnique, ChangeType, DropColumn,
                         RenameConstraint,
                         DropUnique, LogicalAlterTable, RenameColumn, RenameTable,
                         SequenceChange, SetNotNull, SetSchema)
from ...storage.index_define import build_indexes
from ...storage.root import owner_of_index, relation_exists
from ...storage.schema import IndexDef, TableSchema
from ...storage.chunk import conform
from ...storage.table import Chunk
from ...storage.table import replace as evolve
from .. import constraints
from .ddl import (change_sequence, create_owned_sequence, drop_dependent_views,
                  drop_owned_sequences, follow_rename)
from ...catalog import view_dependencies
from ..expr.vector import as_array, evaluate
from ..run import operator

_NOTHING = pa.table({})


@operator(LogicalAlterTable)
def alter_table(node: LogicalAlterTable, ctx) -> pa.Table:
    txn = ctx.txn
    table = node.table
    if table not in txn.working.tables:
        if node.if_exists:
            notices.emit(f'relation "{table}" does not exist, skipping')
            return _NOTHING
        raise errors.undefined_table(table)
    for step in node.steps:
        version = txn.working.tables[table]
        if isinstance(step, RenameTable):
            table = _rename_table(txn, version, step)
            continue
        new = _APPLY[type(step)](txn, ctx, version, step)
        if isinstance(step, (AddColumn, ChangeType)):
            _check_domain(ctx, new, step.schema.columns[-1 if isinstance(step, AddColumn)
                                                         else step.pos])
        if new is not version:
            txn.replace_table(table, new)
    return _NOTHING


def _check_domain(ctx, version, column) -> None:
    """A column added or retyped to a domain: its stored values against the domain's
    CHECKs (its NOT NULL was checked as the values were fitted: exec/typmods.py)."""
    typmod = column.typmod
    if typmod is None or typmod[0] != "domain" or not typmod[4] or not version.live_rows:
        return
    data = version.to_arrow()
    for name, expr, _ in constraints.bound_checks(version.schema, ctx):
        if isinstance(name, tuple) and name[1] == typmod[1]:
            mask = as_array(evaluate(expr, data, ctx), data.num_rows)
            if pc.any(pc.fill_null(pc.invert(mask), False)).as_py():
                raise constraints.check_violation(version.schema, name, None)


# ---- helpers: columns by chunk ------------------------------------------------------------

def _frozen(version):
    """The version with its patches folded and its row tail frozen: all data is then
    in chunks."""
    return version.settled().freeze_tail()


def map_chunks(version, fn, schema: TableSchema):
    """A version under ``schema`` whose chunk batches are ``fn(batch)``; rowids/deletions kept."""
    base = _frozen(version)
    old = base.arrow_schema          # (numerics a chunk holds as decimal128: as keys)
    chunks = tuple(Chunk(fn(conform(c.batch, old)), c.rowids) for c in base.chunks)
    return evolve(base, schema=schema, chunks=chunks)


def _live_column(version, pos: int) -> pa.ChunkedArray:
    return version.to_arrow().column(pos)


# ---- ADD COLUMN ------------------------------------------------------------------------------

def _add_column(txn, ctx, version, step: AddColumn):
    column, schema = step.column, version.schema
    values = _default_values(ctx, step, version)
    if column.not_null and version.live_rows and values.null_count:
        raise errors.sql_error("23502", f'column "{column.name}" of relation "{schema.name}" '
                                        f'contains null values')
    field = pa.field(column.name, column.arrow_type)
    pos = [0]

    def append(batch):
        n = batch.num_rows
        part = values.slice(pos[0], n)
        pos[0] += n
        return batch.append_column(field, part)
    base = _frozen(version)
    if len(values) != sum(len(c) for c in base.chunks):
        raise errors.InternalError("backfill length does not match the table")
    return map_chunks(base, append, step.schema)


def _default_values(ctx, step: AddColumn, version) -> pa.Array:
    """The new column's value for every stored row (dead rows included), by column."""
    base = _frozen(version)
    total = sum(len(c) for c in base.chunks)
    column = step.column
    if step.default is None:
        return pa.nulls(total, column.arrow_type)
    if column.generated is not None:      # over each stored row's other columns
        rows = pa.Table.from_batches([conform(c.batch, base.arrow_schema)
                                      for c in base.chunks], schema=base.arrow_schema)
        arr = as_array(evaluate(step.default, rows, ctx), total)
    else:
        one = pa.table({"_": pa.nulls(total, pa.bool_())}).select([])
        arr = as_array(evaluate(step.default, one, ctx), total)
    arr = contiguous(arr)
    # (numeric_arrays.cast_to: a numeric(p,s) column's decimal128 from a numeric's keys)
    arr = numeric_arrays.cast_to(arr, column.arrow_type)
    return fit_array(column.typmod, arr)


# ---- DROP COLUMN -----------------------------------------------------------------------------

def _drop_column(txn, ctx, version, step: DropColumn):
    schema, pos = version.schema, step.pos
    _drop_dependent_fks(txn, schema, step.name, step.cascade)
    drop_dependent_views(txn, schema.name, f"column {step.name} of table {schema.name}",
                         step.cascade, column=step.name)
    drop_owned_sequences(txn, schema.name, schema, column=step.name)
    remap = {old: (old if old < pos else old - 1) for old in range(len(schema.columns)) if old != pos}
    new = map_chunks(version, lambda b: b.remove_column(pos), step.schema)
    live = {u.name for u in step.schema.uniques} | {d.name for d in step.schema.indexes}
    defs = {d.name: d for d in step.schema.indexes}
    # (a keyed index's key function is compiled again for the moved positions; its keys,
    # computed from values that did not change, stay)
    indexes = {k: ix.with_keyer(defs[k].columns, step.schema.keyer(defs[k])) if ix.keyed
               else type(ix)(ix.name, tuple(remap[c] for c in ix.columns), ix.base,
                             ix.delta, ix.gone, ix.decimal_parts)
               for k, ix in new.indexes.items() if k in live}
    ordered = {k: ix.with_columns(tuple(remap[c] for c in ix.columns))
               for k, ix in new.ordered.items() if k in live}
    return evolve(new, indexes=indexes, ordered=ordered)


def _drop_dependent_fks(txn, schema, column: str, cascade: bool) -> None:
    for other, version in list(txn.working.tables.items()):
        fks = version.schema.foreign_keys
        hit = [f for f in fks if f.ref_table == schema.name and column in f.ref_columns
               and other != schema.name]
        if not hit:
            continue
        if not cascade:
            raise errors.sql_error(
                "2BP01", f"cannot drop column {column} of table {schema.name} because other "
                         f"objects depend on it",
                detail=f"constraint {hit[0].name} on table {other} depends on column {column}",
                hint="Use DROP ... CASCADE to drop the dependent objects too.")
        keep = tuple(f for f in fks if f not in hit)
        txn.replace_table(other, version.with_schema(version.schema.with_(foreign_keys=keep)))


# ---- RENAME ----------------------------------------------------------------------------------

def _rename_column(txn, ctx, version, step: RenameColumn):
    table = version.schema.name
    for other, v in list(txn.working.tables.items()):
        if other != table and any(f.ref_table == table for f in v.schema.foreign_keys):
            renamed = tuple(f.with_ref_column_renamed(table, step.old, step.new)
                            for f in v.schema.foreign_keys)
            txn.replace_table(other, v.with_schema(v.schema.with_(foreign_keys=renamed)))
    _follow_owner(txn, (table, step.old), (table, step.new))
    follow_rename(txn, lambda sql: view_dependencies.renamed_column(sql, table, step.old,
                                                                   step.new))
    names = list(step.schema.names)
    return map_chunks(version, lambda b: b.rename_columns(names), step.schema)


def _rename_table(txn, version, step: RenameTable) -> str:
    old, new = version.schema.name, step.new
    root = txn.working
    if new in root.tables or new in root.views or owner_of_index(root, new) is not None:
        raise errors.sql_error("42P07", f'relation "{new}" already exists')
    txn.replace_table(old, None)
    txn.replace_table(new, version.with_schema(step.schema))
    for other, v in list(txn.working.tables.items()):
        if other != new and any(f.ref_table == old for f in v.schema.foreign_keys):
            moved = tuple(f.with_ref_table_renamed(old, new) for f in v.schema.foreign_keys)
            txn.replace_table(other, v.with_schema(v.schema.with_(foreign_keys=moved)))
    for column in version.schema.names:
        _follow_owner(txn, (old, column), (new, column))
    follow_rename(txn, lambda sql: view_dependencies.renamed_relation(sql, old, new))
    return new


def _follow_owner(txn, old: tuple, new: tuple) -> None:
    """A sequence OWNED BY a renamed table or column keeps its owner (PostgreSQL's
    dependency is by oid; here by name)."""
    for name, spec in list(txn.working.seqdefs.items()):
        if spec.owned_by == old:
            txn.set_sequence_def(name, dataclasses.replace(spec, owned_by=new))


def _rename_constraint(txn, ctx, version, step: RenameConstraint):
    """The schema's renamed constraint or index, and its index structures under the new
    name (the same structures: a rename rebuilds nothing)."""
    def renamed(indexes: dict) -> dict:
        out = {}
        for key, ix in indexes.items():
            if key == step.old:
                ix = copy.copy(ix)
                ix.name = step.new
                key = step.new
            out[key] = ix
        return out
    return evolve(version, schema=step.schema, indexes=renamed(version.indexes),
                  ordered=renamed(version.ordered))


# ---- ALTER COLUMN ---------------------------------------------------------------------------

def _set_schema(txn, ctx, version, step: SetSchema):
    return version.with_schema(step.schema)


def _set_not_null(txn, ctx, version, step: SetNotNull):
    if _live_column(version, step.pos).null_count:
        col = step.schema.columns[step.pos]
        raise errors.sql_error("23502", f'column "{col.name}" of relation '
                                        f'"{version.schema.name}" contains null values')
    return version.with_schema(step.schema)


def _change_type(txn, ctx, version, step: ChangeType):
    pos = step.pos
    column = step.schema.columns[pos]
    name = version.schema.columns[pos].name
    used = view_dependencies.readers(txn.working, version.schema.name, name)
    if used:      # the view's output types would change under it (PostgreSQL: 0A000)
        raise errors.sql_error(
            "0A000", "cannot alter type of a column used by a view or rule",
            detail=f'rule _RETURN on {used[0].kind} {used[0].name} depends on column "{name}"')
    field = pa.field(column.name, column.arrow_type)

    def convert(batch):
        arr = as_array(evaluate(step.expr, pa.Table.from_batches([batch]), ctx), batch.num_rows)
        arr = contiguous(arr)
        arr = numeric_arrays.cast_to(arr, field.type)
        return batch.set_column(pos, field, fit_array(column.typmod, arr))
    # deleted rows are dropped first: only the live ones are converted and checked (a
    # row deleted for holding 'abc' must not fail ``TYPE bigint USING v::bigint``)
    new = rebuild_indexes_on(map_chunks(_frozen(version).without_dead(), convert,
                                        step.schema), pos)
    if step.schema.checks:
        # PostgreSQL binds the table's CHECKs again over the new type (a < 50 over text
        # is 42883) and checks the converted rows against them
        data = new.to_arrow()
        for check_name, expr, _ in constraints.bound_checks(step.schema, ctx):
            if not isinstance(check_name, tuple):
                _violated_by_some_row(data, expr, ctx, check_name, step.schema.name)
    return new


def rebuild_indexes_on(version, pos: int):
    """Indexes over column ``pos`` rebuilt from the (converted) live rows."""
    indexes, ordered = dict(version.indexes), dict(version.ordered)
    touched = {name: ix.columns for group in (version.indexes, version.ordered)
               for name, ix in group.items() if pos in ix.columns}
    defs = {d.name: d for d in version.schema.indexes}
    for name, columns in touched.items():   # a unique key and its ordered twin together
        keyed = defs.get(name)
        unique, plain = build_indexes(version, keyed if keyed is not None and keyed.keyed else
                                      IndexDef(name, tuple(columns), name in version.indexes,
                                               nulls_not_distinct=version.schema
                                               .nulls_not_distinct(name)))
        if unique is not None:
            indexes[name] = unique
        if name in version.ordered:
            ordered[name] = plain
    return evolve(version, indexes=indexes, ordered=ordered)


# ---- ADD / DROP CONSTRAINT --------------------------------------------------------------------

def _add_unique(txn, ctx, version, step: AddUnique):
    u, schema = step.constraint, version.schema
    if relation_exists(txn.working, u.name):
        raise errors.sql_error("42P07", f'relation "{u.name}" already exists')
    if u.primary:
        data = version.to_arrow()
        for c in u.columns:
            if data.column(c).null_count:
                raise errors.sql_error("23502", f'column "{schema.columns[c].name}" of relation '
                                                f'"{schema.name}" contains null values')
    unique, plain = build_indexes(version, IndexDef(u.name, tuple(u.columns), True,
                                                    nulls_not_distinct=u.nulls_not_distinct))
    indexes = dict(version.indexes)
    indexes[u.name] = unique
    ordered = dict(version.ordered)
    ordered[u.name] = plain
    return evolve(version, schema=step.schema, indexes=indexes, ordered=ordered)


def _add_check(txn, ctx, version, step: AddCheck):
    """A CHECK added or validated: the live rows checked first (not for NOT VALID)."""
    if step.constraint.validated:
        _violated_by_some_row(version.to_arrow(), step.expr, ctx, step.constraint.name,
                              version.schema.name)
    return version.with_schema(step.schema)


def _violated_by_some_row(data: pa.Table, expr, ctx, name: str, table: str) -> None:
    """23514 when a stored row fails CHECK ``expr`` (NULL passes), as PostgreSQL says it
    when a constraint is added or its table rewritten."""
    if not data.num_rows:
        return
    mask = as_array(evaluate(expr, data, ctx), data.num_rows)
    if pc.any(pc.fill_null(pc.invert(mask), False)).as_py():
        raise errors.sql_error("23514", f'check constraint "{name}" of relation "{table}" '
                                        f'is violated by some row')


def _add_foreign_key(txn, ctx, version, step: AddForeignKey):
    new = version.with_schema(step.schema)
    data = version.to_arrow() if step.constraint.validated else None
    if data is not None and data.num_rows:
        constraints.check_foreign_keys(txn, step.schema, table=data, ctx=ctx, immediate=True)
    return new


def _drop_unique(txn, ctx, version, step: DropUnique):
    unique, name = step.constraint, step.constraint.name
    _check_unreferenced(txn, version.schema, unique, step.cascade)
    indexes = {k: v for k, v in version.indexes.items() if k != name}
    ordered = {k: v for k, v in version.ordered.items() if k != name}
    return evolve(version, indexes=indexes, ordered=ordered, schema=step.schema)


def _check_unreferenced(txn, schema, unique, cascade: bool) -> None:
    cols = sorted(schema.columns[c].name for c in unique.columns)
    for other, v in list(txn.working.tables.items()):
        hit = [f for f in v.schema.foreign_keys
               if f.ref_table == schema.name and sorted(f.ref_columns) == cols]
        if not hit:
            continue
        if not cascade:
            raise errors.sql_error(
                "2BP01", f"cannot drop constraint {unique.name} on table {schema.name} because "
                         f"other objects depend on it",
                detail=f"constraint {hit[0].name} on table {other} depends on index "
                       f"{unique.name}",
                hint="Use DROP ... CASCADE to drop the dependent objects too.")
        keep = tuple(f for f in v.schema.foreign_keys if f not in hit)
        txn.replace_table(other, v.with_schema(v.schema.with_(foreign_keys=keep)))


def _sequence_change(txn, ctx, version, step: SequenceChange):
    """The sequence of a SERIAL or identity column, made, changed or dropped with it."""
    if step.definition is not None:
        create_owned_sequence(txn, step.name, step.definition)
    elif step.drop:
        if step.name in txn.working.sequences:
            txn.drop_sequence(step.name)
    else:
        change_sequence(txn, step.name, step.options)
    return version


_APPLY = {AddColumn: _add_column, SequenceChange: _sequence_change, DropColumn: _drop_column,
          RenameColumn: _rename_column, RenameConstraint: _rename_constraint,
          SetSchema: _set_schema, SetNotNull: _set_not_null, ChangeType: _change_type,
          AddUnique: _add_unique, AddCheck: _add_check, AddForeignKey: _add_foreign_key,
          DropUnique: _drop_unique}
