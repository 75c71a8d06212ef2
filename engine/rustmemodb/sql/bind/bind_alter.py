"""Binding ALTER TABLE: each action builds a new table version, transactionally.

All actions go through ``txn.replace_table``, so an ALTER inside a transaction
is invisible to others until COMMIT, undone by ROLLBACK, and conflicts (40001)
with concurrent writers of the table; forks that never saw it keep sharing the
old version (nothing is copied for them).

Data changes are made column by column, never row by row: the row tail is
frozen into a chunk first, then each frozen chunk gets a new RecordBatch that
shares every untouched column buffer (ADD COLUMN appends one array, DROP
COLUMN and RENAME are zero-copy, ALTER COLUMN TYPE casts one column).
Deletion vectors and rowids are kept, so the indexes of untouched columns are
shared as they are (with remapped column positions after a DROP COLUMN).

Actions: ADD COLUMN (DEFAULT backfilled, column constraints), DROP COLUMN,
RENAME COLUMN, RENAME TO, ALTER COLUMN TYPE [USING], SET/DROP DEFAULT, SET/DROP
NOT NULL, ADD CONSTRAINT (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY; validated
against existing rows) and DROP CONSTRAINT. Several actions in one statement
apply in order.
"""
from __future__ import annotations

import dataclasses

import pyarrow as pa
from rustmemodb.lazy_import import compute as pc
from sqlglot import exp

from ... import errors, types
from ...plan.expr import Cast, ColRef
from ...storage.index import UniqueIndex
from ...storage.schema import Column, ForeignKey, TableSchema, UniqueConstraint
from ...storage.table import Chunk
from ...storage.table import replace as evolve
from ..parse import position_of


def bind_alter(stmt, node: exp.Alter):
    table_node = node.this
    if_exists = bool(node.args.get("exists"))
    name = table_node.name
    if not if_exists:
        stmt.table(name, position_of(table_node))
    actions = list(node.args.get("actions") or [])

    def action(txn, ctx):
        if name not in txn.working.tables:
            if if_exists:
                return 0
            raise errors.undefined_table(name)
        current = name
        for act in actions:
            current = _apply(stmt, txn, ctx, current, act)
        return 0
    return action


def _apply(stmt, txn, ctx, table: str, act) -> str:
    """Run one action; returns the table's (possibly new) name."""
    version = txn.working.tables[table]
    if isinstance(act, exp.ColumnDef):
        new = add_column(stmt, txn, ctx, version, act)
    elif isinstance(act, exp.Drop) and (act.args.get("kind") or "").upper() == "COLUMN":
        new = drop_column(txn, version, act)
    elif isinstance(act, exp.Drop):
        new = drop_constraint(txn, version, act)
    elif isinstance(act, exp.RenameColumn):
        new = rename_column(txn, version, act.this.name, act.args["to"].name)
    elif isinstance(act, exp.AlterRename):
        return rename_table(txn, version, act.this.name)
    elif isinstance(act, exp.AlterColumn):
        new = alter_column(stmt, txn, ctx, version, act)
    elif isinstance(act, exp.AddConstraint):
        new = version
        for c in act.expressions:
            new = add_constraint(stmt, txn, ctx, new, c)
    else:
        raise errors.not_supported(f"ALTER TABLE {act.sql(dialect='postgres')}")
    if new is not version:
        txn.replace_table(table, new)
    return table


# ---- helpers: columns by chunk ------------------------------------------------------------

def _frozen(version):
    """The version with its patches folded and its row tail frozen: all data is then
    in chunks."""
    return version.settled().freeze_tail()


def map_chunks(version, fn, schema: TableSchema):
    """A version under ``schema`` whose chunk batches are ``fn(batch)``; rowids/deletions kept."""
    base = _frozen(version)
    chunks = tuple(Chunk(fn(c.batch), c.rowids) for c in base.chunks)
    return evolve(base, schema=schema, chunks=chunks)


def _position(schema, name: str, missing_ok: bool = False):
    pos = schema.position(name)
    if pos is None and not missing_ok:
        raise errors.sql_error("42703", f'column "{name}" of relation "{schema.name}" does not exist')
    return pos


def live_column(version, pos: int) -> pa.ChunkedArray:
    return version.to_arrow().column(pos)


# ---- ADD COLUMN ------------------------------------------------------------------------------

def add_column(stmt, txn, ctx, version, node: exp.ColumnDef):
    from .bind_ddl import _column, _table_constraint
    schema = version.schema
    if schema.position(node.name) is not None:
        if node.args.get("exists"):
            return version
        raise errors.sql_error("42701", f'column "{node.name}" of relation "{schema.name}" '
                                        f'already exists')
    column, extra = _column(stmt, schema.name, node, len(schema.columns))
    new_schema = schema.with_(columns=schema.columns + (column,))
    values = _default_values(stmt, ctx, new_schema, version)
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
    new = _with_default_column(version, new_schema, values, append)
    positions = {c.name: i for i, c in enumerate(new_schema.columns)}
    for item in extra:
        new = add_constraint(stmt, txn, ctx, new, item, positions=positions)
    return new


def _with_default_column(version, schema, values, append):
    base = _frozen(version)
    total = sum(len(c) for c in base.chunks)
    if len(values) != total:
        raise errors.InternalError("backfill length does not match the table")
    return map_chunks(base, append, schema)


def _default_values(stmt, ctx, schema, version) -> pa.Array:
    """The new (last) column's value for every stored row (dead rows included), by column."""
    from ...exec.expr.vector import as_array, evaluate
    from .bind_insert import default_expr
    base = _frozen(version)
    total = sum(len(c) for c in base.chunks)
    i = len(schema.columns) - 1
    column = schema.columns[i]
    if column.default_sql is None:
        return pa.nulls(total, column.arrow_type)
    e = default_expr(stmt, schema, i)
    one = pa.table({"_": pa.nulls(total, pa.bool_())}).select([])
    arr = as_array(evaluate(e, one, ctx), total)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == column.arrow_type else arr.cast(column.arrow_type)


# ---- DROP COLUMN -----------------------------------------------------------------------------

def drop_column(txn, version, node: exp.Drop):
    schema = version.schema
    name = node.this.name if node.this is not None else node.args["tables"][0].name
    pos = _position(schema, name, missing_ok=bool(node.args.get("exists")))
    if pos is None:
        return version
    cascade = bool(node.args.get("cascade"))
    _drop_dependent_fks(txn, schema, name, cascade)
    remap = {old: (old if old < pos else old - 1) for old in range(len(schema.columns)) if old != pos}
    keep = lambda cols: all(c != pos for c in cols)  # noqa: E731
    columns = tuple(c for i, c in enumerate(schema.columns) if i != pos)
    new_schema = schema.with_(
        columns=columns,
        uniques=tuple(_remapped(u, remap) for u in schema.uniques if keep(u.columns)),
        indexes=tuple(_remapped(d, remap) for d in schema.indexes if keep(d.columns)),
        foreign_keys=tuple(_remapped(f, remap) for f in schema.foreign_keys if keep(f.columns)),
        checks=tuple(c for c in schema.checks if name not in _identifiers(c.sql)))
    new = map_chunks(version, lambda b: b.remove_column(pos), new_schema)
    live = {u.name for u in new_schema.uniques} | {d.name for d in new_schema.indexes}
    indexes = {k: UniqueIndex(ix.name, tuple(remap[c] for c in ix.columns), ix.base, ix.delta)
               for k, ix in new.indexes.items() if k in live}
    ordered = {k: ix.with_columns(tuple(remap[c] for c in ix.columns))
               for k, ix in new.ordered.items() if k in live}
    return evolve(new, indexes=indexes, ordered=ordered)


def _remapped(obj, remap):
    from dataclasses import replace
    return replace(obj, columns=tuple(remap[c] for c in obj.columns))


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


def _identifiers(sql: str) -> set[str]:
    from ..parse import parse_one
    node = parse_one(f"SELECT {sql}")
    return {c.name for c in node.find_all(exp.Column)}


# ---- RENAME ----------------------------------------------------------------------------------

def rename_column(txn, version, old: str, new: str):
    schema = version.schema
    pos = _position(schema, old)
    if schema.position(new) is not None:
        raise errors.sql_error("42701", f'column "{new}" of relation "{schema.name}" already exists')
    columns = tuple(Column(new, c.type, c.not_null, c.default_sql) if i == pos else c
                    for i, c in enumerate(schema.columns))
    checks = tuple(type(c)(c.name, _rename_in_sql(c.sql, old, new)) for c in schema.checks)
    fks = tuple(_rename_ref(f, schema.name, old, new) for f in schema.foreign_keys)
    new_schema = schema.with_(columns=columns, checks=checks, foreign_keys=fks)
    names = list(new_schema.names)
    for other, v in list(txn.working.tables.items()):
        if other != schema.name and any(f.ref_table == schema.name for f in v.schema.foreign_keys):
            renamed = tuple(_rename_ref(f, schema.name, old, new) for f in v.schema.foreign_keys)
            txn.replace_table(other, v.with_schema(v.schema.with_(foreign_keys=renamed)))
    return map_chunks(version, lambda b: b.rename_columns(names), new_schema)


def _rename_ref(fk: ForeignKey, table: str, old: str, new: str) -> ForeignKey:
    if fk.ref_table != table:
        return fk
    return dataclasses.replace(fk, ref_columns=tuple(new if c == old else c
                                                     for c in fk.ref_columns))


def _rename_in_sql(sql: str, old: str, new: str) -> str:
    from ..parse import parse_one
    node = parse_one(f"SELECT {sql}").expressions[0]

    def swap(n):
        if isinstance(n, exp.Column) and n.name == old:
            return exp.column(new)
        return n
    return node.transform(swap).sql(dialect="postgres")


def rename_table(txn, version, new: str) -> str:
    old = version.schema.name
    root = txn.working
    from .bind_index import owner_of_index
    if new in root.tables or new in root.views or owner_of_index(root, new) is not None:
        raise errors.sql_error("42P07", f'relation "{new}" already exists')
    fks = tuple(_retarget(f, old, new) for f in version.schema.foreign_keys)
    txn.replace_table(old, None)
    txn.replace_table(new, version.with_schema(version.schema.with_(name=new, foreign_keys=fks)))
    for other, v in list(txn.working.tables.items()):
        if other != new and any(f.ref_table == old for f in v.schema.foreign_keys):
            moved = tuple(_retarget(f, old, new) for f in v.schema.foreign_keys)
            txn.replace_table(other, v.with_schema(v.schema.with_(foreign_keys=moved)))
    return new


def _retarget(fk: ForeignKey, old: str, new: str) -> ForeignKey:
    if fk.ref_table != old:
        return fk
    return dataclasses.replace(fk, ref_table=new)


# ---- ALTER COLUMN ---------------------------------------------------------------------------

def alter_column(stmt, txn, ctx, version, node: exp.AlterColumn):
    schema = version.schema
    pos = _position(schema, node.this.name)
    col = schema.columns[pos]
    if node.args.get("dtype") is not None:
        return change_type(stmt, ctx, version, pos, node)
    if node.args.get("allow_null") is False:
        if live_column(version, pos).null_count:
            raise errors.sql_error("23502", f'column "{col.name}" of relation "{schema.name}" '
                                            f'contains null values')
        return _with_column(version, pos, Column(col.name, col.type, True, col.default_sql))
    if node.args.get("allow_null") is True:
        pk = schema.primary_key
        if pk is not None and pos in pk.columns:
            raise errors.sql_error("42P16", f'column "{col.name}" is in a primary key')
        return _with_column(version, pos, Column(col.name, col.type, False, col.default_sql))
    if node.args.get("default") is not None:
        new = _with_column(version, pos, Column(col.name, col.type, col.not_null,
                                                node.args["default"].sql(dialect="postgres")))
        from .bind_insert import default_expr
        default_expr(stmt, new.schema, pos)    # 42804 on a mistyped default
        return new
    if node.args.get("drop"):
        return _with_column(version, pos, Column(col.name, col.type, col.not_null, None))
    raise errors.not_supported(f"ALTER COLUMN {node.sql(dialect='postgres')}")


def _with_column(version, pos: int, column: Column):
    schema = version.schema
    columns = tuple(column if i == pos else c for i, c in enumerate(schema.columns))
    return version.with_schema(schema.with_(columns=columns))


def change_type(stmt, ctx, version, pos: int, node: exp.AlterColumn):
    from ...exec.expr.vector import as_array, evaluate
    schema = version.schema
    col = schema.columns[pos]
    target = types.normalize_type_name(node.args["dtype"].sql(dialect="postgres"))
    using = node.args.get("using") or None   # sqlglot gives False when absent
    if using is not None:
        expr = _using_expr(stmt, schema, using, target, col)
    elif col.type == target or (types.is_numeric(col.type) and types.is_numeric(target)) \
            or target == types.TEXT:
        expr = ColRef(pos, col.type, col.name) if col.type == target else \
            Cast(ColRef(pos, col.type, col.name), target)
    else:
        raise errors.datatype_mismatch(
            f'column "{col.name}" cannot be cast automatically to type {target.lower()}',
            hint=f'You might need to specify "USING {col.name}::{target.lower()}".')
    column = Column(col.name, target, col.not_null, col.default_sql)
    columns = tuple(column if i == pos else c for i, c in enumerate(schema.columns))
    new_schema = schema.with_(columns=columns)
    field = pa.field(col.name, column.arrow_type)

    def convert(batch):
        arr = as_array(evaluate(expr, pa.Table.from_batches([batch]), ctx), batch.num_rows)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr if arr.type == field.type else arr.cast(field.type)
        return batch.set_column(pos, field, arr)
    new = map_chunks(version, convert, new_schema)
    if col.default_sql is not None:
        from .bind_insert import default_expr
        default_expr(stmt, new_schema, pos)
    return rebuild_indexes_on(new, pos)


def _using_expr(stmt, schema, using, target: str, col):
    from .bind_expr import ExprBinder
    from .coerce import adapt
    from .scope import Scope
    scope = Scope()
    for c in schema.columns:
        scope.add(schema.name, c.name, c.type)
    e = adapt(ExprBinder(stmt, scope, clause="USING").bind(using), target)
    if e.type == target:
        return e
    if e.type == types.NULL or (types.is_numeric(e.type) and types.is_numeric(target)) \
            or target == types.TEXT:
        return Cast(e, target)
    raise errors.datatype_mismatch(f'result of USING clause for column "{col.name}" cannot be '
                                   f'cast automatically to type {target.lower()}')


def rebuild_indexes_on(version, pos: int):
    """Indexes over column ``pos`` rebuilt from the (converted) live rows."""
    from .bind_index import build_indexes
    from ...storage.schema import IndexDef
    indexes, ordered = dict(version.indexes), dict(version.ordered)
    touched = {name: ix.columns for group in (version.indexes, version.ordered)
               for name, ix in group.items() if pos in ix.columns}
    for name, columns in touched.items():   # a unique key and its ordered twin together
        unique, plain = build_indexes(version, IndexDef(name, tuple(columns),
                                                        name in version.indexes))
        if unique is not None:
            indexes[name] = unique
        if name in version.ordered:
            ordered[name] = plain
    return evolve(version, indexes=indexes, ordered=ordered)


# ---- ADD / DROP CONSTRAINT --------------------------------------------------------------------

def constraint_names(schema) -> set[str]:
    return ({u.name for u in schema.uniques} | {c.name for c in schema.checks}
            | {f.name for f in schema.foreign_keys})


def add_constraint(stmt, txn, ctx, version, item, positions=None):
    from .bind_ddl import _table_constraint
    schema = version.schema
    positions = positions or {c.name: i for i, c in enumerate(schema.columns)}
    kind, payload = _table_constraint(stmt, schema.name, item, positions, list(schema.columns))
    if payload.name in constraint_names(schema):
        raise errors.sql_error("42710", f'constraint "{payload.name}" for relation '
                                        f'"{schema.name}" already exists')
    if kind == "unique":
        return _add_unique(txn, version, payload)
    if kind == "check":
        return _add_check(stmt, ctx, version, payload)
    return _add_foreign_key(txn, ctx, version, payload)


def _add_unique(txn, version, u: UniqueConstraint):
    from .bind_index import build_indexes, relation_exists
    from ...storage.schema import IndexDef
    schema = version.schema
    if relation_exists(txn.working, u.name):
        raise errors.sql_error("42P07", f'relation "{u.name}" already exists')
    if u.primary:
        if schema.primary_key is not None:
            raise errors.sql_error("42P16", f'multiple primary keys for table "{schema.name}" '
                                            f'are not allowed')
        data = version.to_arrow()
        for c in u.columns:
            if data.column(c).null_count:
                raise errors.sql_error("23502", f'column "{schema.columns[c].name}" of relation '
                                                f'"{schema.name}" contains null values')
        columns = tuple(Column(col.name, col.type, True, col.default_sql) if i in u.columns
                        else col for i, col in enumerate(schema.columns))
        schema = schema.with_(columns=columns)
    unique, plain = build_indexes(version, IndexDef(u.name, tuple(u.columns), True))
    indexes = dict(version.indexes)
    indexes[u.name] = unique
    ordered = dict(version.ordered)
    ordered[u.name] = plain
    return evolve(version, schema=schema.with_(uniques=schema.uniques + (u,)), indexes=indexes,
                  ordered=ordered)


def _add_check(stmt, ctx, version, check):
    from ...exec.expr.vector import as_array, evaluate
    from .bind_constraints import check_expr
    schema = version.schema
    e = check_expr(stmt, schema, check.sql)
    data = version.to_arrow()
    if data.num_rows:
        mask = as_array(evaluate(e, data, ctx), data.num_rows)
        if pc.any(pc.fill_null(pc.invert(mask), False)).as_py():
            raise errors.sql_error("23514", f'check constraint "{check.name}" of relation '
                                            f'"{schema.name}" is violated by some row')
    return version.with_schema(schema.with_(checks=schema.checks + (check,)))


def _add_foreign_key(txn, ctx, version, fk: ForeignKey):
    from ...exec import constraints
    schema = version.schema.with_(foreign_keys=version.schema.foreign_keys + (fk,))
    new = version.with_schema(schema)
    data = version.to_arrow()
    if data.num_rows:
        constraints.check_foreign_keys(txn, schema, table=data, ctx=ctx)
    return new


def drop_constraint(txn, version, node: exp.Drop):
    schema = version.schema
    name = node.this.name if node.this is not None else node.args["tables"][0].name
    cascade = bool(node.args.get("cascade"))
    if name not in constraint_names(schema):
        if node.args.get("exists"):
            return version
        raise errors.sql_error("42704", f'constraint "{name}" of relation "{schema.name}" '
                                        f'does not exist')
    unique = next((u for u in schema.uniques if u.name == name), None)
    if unique is not None:
        _check_unreferenced(txn, schema, unique, cascade)
        indexes = {k: v for k, v in version.indexes.items() if k != name}
        ordered = {k: v for k, v in version.ordered.items() if k != name}
        return evolve(version, indexes=indexes, ordered=ordered, schema=schema.with_(
            uniques=tuple(u for u in schema.uniques if u.name != name)))
    return version.with_schema(schema.with_(
        checks=tuple(c for c in schema.checks if c.name != name),
        foreign_keys=tuple(f for f in schema.foreign_keys if f.name != name)))


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
