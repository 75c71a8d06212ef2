"""Operators for DDL (plan/ddl.py): applying a bound CREATE/DROP/TRUNCATE to the
statement's transaction.

DDL is transactional: each operator replaces catalog entries in the transaction's
private root (``txn.replace_table``, ``txn.set_view``), so a rolled-back CREATE
TABLE never existed and a concurrent transaction never sees a half-made table.
Existence checks run here, against the transaction's own catalog, not at bind
time: a cached or replayed statement sees the catalog as it is when it runs. Each
returns an empty table; ``ctx.rowcount`` is the statement's (-1, or the rows of
``CREATE TABLE ... AS``).
"""
from __future__ import annotations

import dataclasses

from ... import errors, notices, numeric_arrays
from ...catalog import view_dependencies
from ...plan.ddl import (LogicalCreateFunction, LogicalCreateIndex, LogicalCreateSequence,
                         LogicalCreateTable, LogicalCreateTableAs, LogicalCreateView,
                         LogicalDropFunction, LogicalDropIndex, LogicalDropSequence,
                         LogicalDropTable, LogicalDropView, LogicalRefreshMatview,
                         LogicalRenameView, LogicalAlterSequence, LogicalTruncate)
from ...storage.index_define import with_index, without_index
from ...storage.namespaces import qualify
from ...storage.root import owner_of_index, relation_exists
from ...storage.schema import TableSchema
from ...storage import sequence_defs
from ...storage.sequence_names import default_sequence, serial_default
from ...storage.table import TableVersion
from ..run import operator, run_plan



def _exists(txn, name: str) -> bool:
    return name in txn.working.tables or name in txn.working.views


def owned_sequences(schema: TableSchema) -> list[str]:
    """The sequences SERIAL columns of ``schema`` draw from (their DEFAULT nextval)."""
    return [s for s in (default_sequence(c.default_sql, owned=True) for c in schema.columns) if s]


@operator(LogicalCreateTable)
def create_table(node: LogicalCreateTable, ctx) -> None:
    txn = ctx.txn
    if _exists(txn, node.name):
        if node.if_not_exists:
            notices.emit(f'relation "{node.name}" already exists, skipping', "42P07")
            return None
        raise errors.sql_error("42P07", f'relation "{node.name}" already exists')
    txn.replace_table(node.name, TableVersion.empty(node.schema))
    starts = {f"{node.name}_{c.name}_seq": c.identity[1] for c in node.schema.columns
              if c.identity is not None}
    for seq in owned_sequences(node.schema):   # SERIAL and identity columns own a sequence
        spec = node.sequences.get(seq)
        if spec is None:
            txn.set_sequence(seq, starts.get(seq, 1) - 1)
        else:
            create_owned_sequence(txn, seq, spec)
    return None


def create_owned_sequence(txn, name: str, spec) -> None:
    """A SERIAL or identity column's sequence (42P07 if the name is taken, as in
    PostgreSQL, which would pick another name: a rare clash, refused here)."""
    if name in txn.working.sequences or _exists(txn, name):
        raise errors.sql_error("42P07", f'relation "{name}" already exists')
    txn.set_sequence(name, spec.start - spec.increment)
    txn.set_sequence_def(name, spec)


@operator(LogicalCreateTableAs)
def create_table_as(node: LogicalCreateTableAs, ctx) -> None:
    txn, schema = ctx.txn, node.schema
    if _exists(txn, node.name):
        if node.if_not_exists:
            notices.emit(f'relation "{node.name}" already exists, skipping', "42P07")
            return None
        raise errors.sql_error("42P07", f'relation "{node.name}" already exists')
    data = run_plan(node.child, ctx)
    txn.replace_table(node.name, TableVersion.empty(schema))
    data = numeric_arrays.cast_table(data.rename_columns(schema.names), schema.arrow_schema,
                                     store=True)
    txn.insert_arrow(node.name, data)
    ctx.rowcount = data.num_rows or -1
    return None


@operator(LogicalDropTable)
def drop_table(node: LogicalDropTable, ctx) -> None:
    txn = ctx.txn
    what = "materialized view" if node.materialized else "table"
    for name in node.targets:
        version = txn.working.tables.get(name)
        if version is None or (version.schema.matview_sql is not None) != node.materialized:
            if version is None and node.if_exists:
                notices.emit(f'{what} "{name}" does not exist, skipping')
                continue
            if version is not None or name in txn.working.views:
                kind = "materialized view" if version is not None and not node.materialized \
                    else "table" if version is not None else "view"
                raise errors.sql_error("42809", f'"{name}" is not a {what}',
                                       hint=f"Use DROP {kind.upper()} to remove a {kind}.")
            raise errors.sql_error("42P01", f'{what} "{name}" does not exist')
        check_drop_dependencies(txn, name, node.cascade, node.targets)
        txn.replace_table(name, None)
        drop_owned_sequences(txn, name, version.schema)
    return None


def drop_owned_sequences(txn, table: str, schema: TableSchema,
                         column: str | None = None) -> None:
    """The sequences a table (``column``: one of its columns) owns go with it, as in
    PostgreSQL: its SERIAL and identity sequences and those made OWNED BY it."""
    names = owned_sequences(schema) if column is None else [
        s for c in schema.columns if c.name == column
        for s in [default_sequence(c.default_sql, owned=True)] if s]
    names += [n for n, d in txn.working.seqdefs.items() if d.owned_by is not None
              and owner_table(d.owned_by) == table
              and (column is None or d.owned_by[-1] == column)]
    for seq in dict.fromkeys(names):
        if seq in txn.working.sequences:
            txn.drop_sequence(seq)


def owner_table(owned_by: tuple) -> str:
    """The table key an OWNED BY [schema.]table.column names."""
    if len(owned_by) == 2:
        return owned_by[0]
    schema, table = owned_by[-3], owned_by[-2]
    return table if schema == "public" else qualify(schema, table)


def drop_dependent_views(txn, relation: str, what: str, cascade: bool, dropping=(),
                         column: str | None = None) -> None:
    """2BP01 when a view (or materialized view) not in ``dropping`` reads ``relation`` or
    its ``column`` (catalog/view_dependencies.py); with CASCADE those views go too, with
    PostgreSQL's NOTICE. ``what``: the dropped object as messages name it."""
    found = [(r, via) for r, via in view_dependencies.cascade(txn.working, relation, column)
             if r.name not in dropping]
    if not found:
        return
    if not cascade:
        raise errors.sql_error(
            "2BP01", f"cannot drop {what} because other objects depend on it",
            detail="\n".join(f"{r.kind} {r.name} depends on "
                             f"{what if via is None else f'{via.kind} {via.name}'}"
                             for r, via in found),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    lines = [f"{r.kind} {r.name}" for r, _ in found]
    notices.emit(f"drop cascades to {lines[0]}" if len(lines) == 1
                 else f"drop cascades to {len(lines)} other objects")
    for r, _ in found:
        if r.kind == "view":
            txn.set_view(r.name, None)
        elif r.name in txn.working.tables:
            txn.replace_table(r.name, None)


def follow_rename(txn, rewrite) -> None:
    """Views and materialized views whose query ``rewrite(sql)`` changes (a renamed
    relation or column: catalog/view_dependencies.py) keep the rewritten query."""
    for name, view in list(txn.working.views.items()):
        sql = rewrite(view.sql)
        if sql is not None:
            txn.set_view(name, dataclasses.replace(view, sql=sql))
    for name, version in list(txn.working.tables.items()):
        kept = version.schema.matview_sql
        sql = rewrite(kept) if kept is not None else None
        if sql is not None:
            txn.replace_table(name, version.with_schema(version.schema.with_(matview_sql=sql)))


def check_drop_dependencies(txn, name: str, cascade: bool, dropping=()) -> None:
    """Refuse to drop a table that another table's foreign key references (CASCADE:
    drop those foreign keys instead) or a view reads (CASCADE: drop the views)."""
    kind = "materialized view" if txn.working.tables[name].schema.matview_sql is not None \
        else "table"
    drop_dependent_views(txn, name, f"{kind} {name}", cascade, dropping)
    for other, version in txn.working.tables.items():
        if other == name:
            continue
        for fk in version.schema.foreign_keys:
            if fk.ref_table == name:
                if cascade:
                    schema = version.schema.with_(foreign_keys=tuple(
                        f for f in version.schema.foreign_keys if f.ref_table != name))
                    txn.replace_table(other, version.with_schema(schema))
                else:
                    raise errors.sql_error(
                        "2BP01", f'cannot drop table {name} because other objects depend on it',
                        detail=f"constraint {fk.name} on table {other} depends on table {name}",
                        hint="Use DROP ... CASCADE to drop the dependent objects too.")


@operator(LogicalTruncate)
def truncate(node: LogicalTruncate, ctx) -> None:
    txn = ctx.txn
    for name in node.cascaded:
        notices.emit(f'truncate cascades to table "{name}"')
    for name in node.targets:
        version = txn.working.tables[name]
        txn.replace_table(name, TableVersion.empty(version.schema))
        if node.restart:
            _restart_owned(txn, name, version.schema)
    return None


def _restart_owned(txn, name: str, schema: TableSchema) -> None:
    """TRUNCATE ... RESTART IDENTITY: the table's SERIAL and identity sequences start
    over (at the identity's START WITH, else 1), as create_table set them."""
    starts = {f"{name}_{c.name}_seq": c.identity[1] for c in schema.columns
              if c.identity is not None}
    for seq in owned_sequences(schema):
        if seq not in txn.working.sequences:
            continue
        spec = txn.working.seqdefs.get(seq)
        if spec is None:
            txn.set_sequence(seq, starts.get(seq, 1) - 1)
        else:
            txn.set_sequence(seq, spec.start - spec.increment)
            if spec.is_called:
                txn.set_sequence_def(seq, dataclasses.replace(spec, is_called=False),
                                     catalog=False)


@operator(LogicalCreateView)
def create_view(node: LogicalCreateView, ctx) -> None:
    txn, name = ctx.txn, node.view.name
    if name in txn.working.tables:
        raise errors.sql_error("42P07", f'relation "{name}" already exists')
    old = txn.working.views.get(name)
    if old is not None and not node.or_replace:
        raise errors.sql_error("42P07", f'relation "{name}" already exists')
    view = node.view
    if old is not None and node.keep_comment and view.comment is None and old.comment:
        view = dataclasses.replace(view, comment=old.comment)
    if old is not None and node.keep_defaults and old.defaults and not view.defaults:
        view = dataclasses.replace(view, defaults=old.defaults)
    txn.set_view(name, view)
    return None


@operator(LogicalDropView)
def drop_view(node: LogicalDropView, ctx) -> None:
    txn = ctx.txn
    for name in node.targets:
        if name not in txn.working.views:
            if name in txn.working.tables:
                kind = "materialized view" if txn.working.tables[name].schema.matview_sql \
                    is not None else "table"
                raise errors.sql_error("42809", f'"{name}" is not a view',
                                       hint=f"Use DROP {kind.upper()} to remove a {kind}.")
            if node.if_exists:
                notices.emit(f'view "{name}" does not exist, skipping')
                continue
            raise errors.sql_error("42P01", f'view "{name}" does not exist')
        drop_dependent_views(txn, name, f"view {name}", node.cascade, node.targets)
        txn.set_view(name, None)
    return None


@operator(LogicalRenameView)
def rename_view(node: LogicalRenameView, ctx) -> None:
    txn = ctx.txn
    view = txn.working.views.get(node.name)
    if view is None:
        if node.if_exists:
            notices.emit(f'relation "{node.name}" does not exist, skipping')
            return None
        raise errors.sql_error("42P01", f'relation "{node.name}" does not exist')
    if _exists(txn, node.new):
        raise errors.sql_error("42P07", f'relation "{node.new}" already exists')
    txn.set_view(node.new, dataclasses.replace(view, name=node.new))
    txn.set_view(node.name, None)
    follow_rename(txn, lambda sql: view_dependencies.renamed_relation(sql, node.name, node.new))
    return None


@operator(LogicalCreateIndex)
def create_index(node: LogicalCreateIndex, ctx) -> None:
    txn, name = ctx.txn, node.definition.name
    if relation_exists(txn.working, name):
        if node.if_not_exists:
            notices.emit(f'relation "{name}" already exists, skipping', "42P07")
            return None
        raise errors.sql_error("42P07", f'relation "{name}" already exists')
    current = txn.working.tables[node.table]
    txn.replace_table(node.table, with_index(current, node.definition))
    return None


@operator(LogicalDropIndex)
def drop_index(node: LogicalDropIndex, ctx) -> None:
    txn = ctx.txn
    for name in node.targets:
        owner = owner_of_index(txn.working, name)
        if owner is None:
            if node.if_exists:
                notices.emit(f'index "{name}" does not exist, skipping')
                continue
            raise errors.sql_error("42704", f'index "{name}" does not exist')
        table, kind = owner
        if kind == "constraint":
            raise errors.sql_error(
                "2BP01", f"cannot drop index {name} because constraint {name} on table "
                         f"{table} requires it",
                hint=f"You can drop constraint {name} on table {table} instead.")
        txn.replace_table(table, without_index(txn.working.tables[table], name))
    return None


@operator(LogicalCreateSequence)
def create_sequence(node: LogicalCreateSequence, ctx) -> None:
    txn = ctx.txn
    if node.name in txn.working.sequences or _exists(txn, node.name):
        if node.if_not_exists:
            notices.emit(f'relation "{node.name}" already exists, skipping', "42P07")
            return None
        raise errors.sql_error("42P07", f'relation "{node.name}" already exists')
    spec = _check_owner(txn, node.definition)
    txn.set_sequence(node.name, spec.start - spec.increment)   # the state: the last value
    txn.set_sequence_def(node.name, spec)
    return None


def _check_owner(txn, spec):
    """``spec`` with its OWNED BY as (table key, column), which must name a column of an
    existing table (42P01 / 42703 otherwise)."""
    if spec.owned_by is None:
        return spec
    table = owner_table(spec.owned_by)
    version = txn.working.tables.get(table)
    if version is None:
        raise errors.sql_error("42P01", f'relation "{table}" does not exist')
    if spec.owned_by[-1] not in version.schema.names:
        raise errors.sql_error("42703", f'column "{spec.owned_by[-1]}" of relation "{table}" '
                                        "does not exist")
    return dataclasses.replace(spec, owned_by=(table, spec.owned_by[-1]))


@operator(LogicalDropSequence)
def drop_sequence(node: LogicalDropSequence, ctx) -> None:
    txn = ctx.txn
    for name in node.targets:
        if name not in txn.working.sequences:
            if _exists(txn, name):
                raise errors.sql_error("42809", f'"{name}" is not a sequence')
            if node.if_exists:
                notices.emit(f'sequence "{name}" does not exist, skipping')
                continue
            raise errors.sql_error("42P01", f'sequence "{name}" does not exist')
        users = [(t, c.name) for t, v in txn.working.tables.items() for c in v.schema.columns
                 if default_sequence(c.default_sql) == name]
        if users:
            table, column = users[0]
            raise errors.sql_error(
                "2BP01", f'cannot drop sequence {name} because other objects depend on it',
                detail=f"default value for column {column} of table {table} depends on "
                       f"sequence {name}",
                hint="Drop the column's default (ALTER TABLE ... ALTER COLUMN ... DROP "
                     "DEFAULT) or the table first.")
        txn.drop_sequence(name)
    return None


@operator(LogicalRefreshMatview)
def refresh_matview(node: LogicalRefreshMatview, ctx) -> None:
    txn = ctx.txn
    version = txn.working.tables.get(node.name)
    if version is None or version.schema.matview_sql is None:
        raise errors.sql_error("42809", f'"{node.name}" is not a materialized view')
    schema = version.schema
    data = run_plan(node.child, ctx)
    txn.replace_table(node.name, TableVersion.empty(schema))     # as TRUNCATE
    txn.insert_arrow(node.name, numeric_arrays.cast_table(data.rename_columns(schema.names),
                                                          schema.arrow_schema, store=True))
    return None


@operator(LogicalCreateFunction)
def create_function(node: LogicalCreateFunction, ctx) -> None:
    txn, fn = ctx.txn, node.function
    if fn.name in txn.working.functions and not node.or_replace:
        raise errors.sql_error("42723", f'function "{fn.name}" already exists with same '
                                        "argument types")
    txn.set_function(fn.name, fn)
    return None


@operator(LogicalDropFunction)
def drop_function(node: LogicalDropFunction, ctx) -> None:
    txn = ctx.txn
    for name in node.targets:
        if name not in txn.working.functions:
            if node.if_exists:
                notices.emit(f"function {name}() does not exist, skipping")
                continue
            raise errors.sql_error("42883", f"function {name} does not exist")
        txn.set_function(name, None)
    return None


@operator(LogicalAlterSequence)
def alter_sequence(node: LogicalAlterSequence, ctx) -> None:
    txn, name, options = ctx.txn, node.name, dict(node.options)
    if name not in txn.working.sequences:
        if _exists(txn, name):
            raise errors.sql_error("42809", f'"{name}" is not a sequence')
        if node.if_exists:
            notices.emit(f'relation "{name}" does not exist, skipping')
            return None
        raise errors.sql_error("42P01", f'relation "{name}" does not exist')
    if "schema" in options:
        raise errors.not_supported("ALTER SEQUENCE ... SET SCHEMA")
    if "owner" in options:
        raise errors.not_supported("ALTER SEQUENCE ... OWNER TO",
                                   hint="Write ALTER SEQUENCE s OWNER TO role as a "
                                        "statement of its own.")
    if "logged" in options:
        return None         # every sequence is as durable as the tables
    if "rename" in options:
        _rename_sequence(txn, name, options["rename"])
        return None
    change_sequence(txn, name, options)
    return None


def change_sequence(txn, name: str, options: dict) -> None:
    """ALTER SEQUENCE's options (also an identity column's ALTER COLUMN ... RESTART /
    SET ...) applied to sequence ``name`` as the transaction sees it."""
    old = sequence_defs.definition(txn.working, name)
    spec, restart = sequence_defs.apply_options(old, options)
    if "owned_by" in options:
        spec = _check_owner(txn, spec)
    last = txn.working.sequences[name]
    if restart is not None:
        last = restart - spec.increment
    elif not old.is_called and spec.increment != old.increment:
        last = last + old.increment - spec.increment    # the next value stays as it was
    if last != txn.working.sequences[name]:
        txn.set_sequence(name, last)
    if spec != sequence_defs.DEFAULT or name in txn.working.seqdefs:
        txn.set_sequence_def(name, spec)


def _rename_sequence(txn, name: str, new: str) -> None:
    """ALTER SEQUENCE s RENAME TO t: the state, the definition and every DEFAULT that
    draws from it follow (PostgreSQL's defaults name the sequence by oid)."""
    if "." in name and "." not in new:
        new = name.rsplit(".", 1)[0] + "." + new
    if new in txn.working.sequences or _exists(txn, new):
        raise errors.sql_error("42P07", f'relation "{new}" already exists')
    spec = txn.working.seqdefs.get(name)
    last = txn.working.sequences[name]
    txn.drop_sequence(name)
    txn.set_sequence(new, last)
    if spec is not None:
        txn.set_sequence_def(new, spec)
    for table, version in list(txn.working.tables.items()):
        cols = [dataclasses.replace(c, default_sql=serial_default(new))
                if default_sequence(c.default_sql, owned=True) == name
                else dataclasses.replace(c, default_sql="NEXTVAL" + serial_default(new)[7:])
                if default_sequence(c.default_sql) == name else c for c in version.schema.columns]
        if any(a is not b for a, b in zip(cols, version.schema.columns)):
            txn.replace_table(table, version.with_schema(version.schema.with_(
                columns=tuple(cols))))
