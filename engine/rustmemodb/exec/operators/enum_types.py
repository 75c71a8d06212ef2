"""Operators for the enum and composite type statements (plan/ddl.py LogicalCreateEnum,
LogicalCreateComposite, LogicalDropType, LogicalAlterEnum; bound by sql/bind/bind_enum.py).

A composite type (``Root.composites``: name -> its type string, composite.py) is read
into the type of each column declared with it, so its columns need the type only while
it exists: DROP TYPE refuses (2BP01) while a column or another composite type uses it,
or with CASCADE drops those columns.

Like other DDL they change the transaction's private root (``txn.set_enum``), so a
rolled-back CREATE TYPE never existed. A column of an enum type keeps the labels in
its typmod (exec/typmods.py checks values against them without reading the catalog),
so ALTER TYPE rewrites the typmod of every column that uses the type, in the same
transaction: the columns and the type never disagree. RENAME VALUE also rewrites the
stored values (they are the labels' text) and the indexes over them, as a new table
version (logged whole, like ALTER TABLE's); DROP TYPE ... CASCADE applies the binder's
ALTER TABLE ... DROP COLUMN steps for the columns of the type.
"""
from __future__ import annotations

import dataclasses

import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from ... import composite, errors, notices, types
from ...plan.ddl import (LogicalAlterEnum, LogicalAlterTable, LogicalCreateComposite,
                         LogicalCreateEnum, LogicalDropType)
from ..run import operator
from .alter import alter_table, map_chunks, rebuild_indexes_on


def _uses(root, name: str) -> list[tuple[str, int]]:
    """(table, column position) of every column declared with enum or composite type
    ``name`` (a composite holding it included)."""
    return [(tname, i) for tname, version in root.tables.items()
            for i, c in enumerate(version.schema.columns)
            if (c.typmod is not None and c.typmod[0] == "enum" and c.typmod[1] == name)
            or _holds(c.type, name)]


def _holds(sql_type: str, name: str) -> bool:
    if not composite.is_record(sql_type):
        return False
    return composite.type_name(sql_type) == name or any(
        _holds(t, name) for _f, t in composite.fields_of(sql_type))


def _retype_columns(txn, old_name: str, name: str, labels: tuple,
                    relabel: tuple | None = None) -> None:
    """Every column of type ``old_name`` now of type ``name`` with ``labels``; with
    ``relabel`` (old label, new label: RENAME VALUE) the stored values and a DEFAULT of
    the old label are rewritten too, so existing rows show the new label."""
    root = txn.working
    by_table: dict[str, list[int]] = {}
    for tname, pos in _uses(root, old_name):
        by_table.setdefault(tname, []).append(pos)
    for tname, positions in by_table.items():
        version = root.tables[tname]
        columns = list(version.schema.columns)
        for pos in positions:
            column = columns[pos]
            # the type is TEXT again so that the column's type follows the new labels
            columns[pos] = dataclasses.replace(column, type=types.TEXT,
                                               typmod=("enum", name, labels),
                                               default_sql=_relabeled_default(
                                                   column.default_sql, relabel))
        schema = version.schema.with_(columns=tuple(columns))
        if relabel is None:
            txn.replace_table(tname, version.with_schema(schema))
            continue
        new = map_chunks(version, _relabel_batch(positions, *relabel), schema)
        for pos in positions:
            new = rebuild_indexes_on(new, pos)      # their keys are the labels' text
        txn.replace_table(tname, new)


def _relabel_batch(positions: list[int], old: str, new: str):
    """A chunk's batch with ``old`` replaced by ``new`` in the columns at ``positions``
    (the same batch when none holds it, so an unchanged chunk stays shared)."""
    def relabel(batch: pa.RecordBatch) -> pa.RecordBatch:
        for pos in positions:
            column = batch.column(pos)
            hit = pc.equal(column, pa.scalar(old, column.type))
            if not pc.any(hit).as_py():
                continue
            batch = batch.set_column(pos, batch.schema.field(pos), pc.if_else(
                hit, pa.scalar(new, column.type), column))
        return batch
    return relabel


def _relabeled_default(default_sql: str | None, relabel: tuple | None) -> str | None:
    """A DEFAULT that is the renamed label (``'old'``, ``'old'::type``) names the new one."""
    if default_sql is None or relabel is None:
        return default_sql
    old, new = (label.replace("'", "''") for label in relabel)
    head, sep, cast = default_sql.partition("::")
    if head.strip() != f"'{old}'":
        return default_sql
    return f"'{new}'" + (sep + cast if sep else "")


def type_taken(root, name: str) -> bool:
    """A type of that name exists: an enum, a domain, a built-in type, or a table's row
    type."""
    if name in root.enums or name in root.domains or name in root.tables or \
            name in root.views or name in root.composites:
        return True
    try:
        types.normalize_type_name(name)
    except errors.Error:
        return False
    return True


@operator(LogicalCreateEnum)
def create_enum(node: LogicalCreateEnum, ctx) -> None:
    txn = ctx.txn
    if type_taken(txn.working, node.name):
        raise errors.sql_error("42710", f'type "{node.name}" already exists')
    txn.set_enum(node.name, node.labels)
    return None


@operator(LogicalCreateComposite)
def create_composite(node: LogicalCreateComposite, ctx) -> None:
    txn = ctx.txn
    if type_taken(txn.working, node.name):
        raise errors.sql_error("42710", f'type "{node.name}" already exists')
    txn.set_composite(node.name, node.sql_type)
    return None


@operator(LogicalDropType)
def drop_type(node: LogicalDropType, ctx) -> None:
    txn = ctx.txn
    dropped = []
    for name in node.targets:
        if name not in txn.working.enums and name not in txn.working.composites:
            if node.if_exists:
                notices.emit(f'type "{name}" does not exist, skipping')
                continue
            raise errors.sql_error("42704", f'type "{name}" does not exist')
        uses = _uses(txn.working, name)
        holders = [(other, f) for other, t in sorted(txn.working.composites.items())
                   if other != name for f, ft in composite.fields_of(t) if _holds(ft, name)]
        if holders and name not in node.targets:
            holders = []
        holders = [(o, f) for o, f in holders if o not in node.targets]
        if holders and node.cascade:
            raise errors.not_supported(
                "DROP TYPE ... CASCADE of a type another composite type's field has",
                hint="Drop the composite types that use it first.")
        if (uses or holders) and not node.cascade:
            detail = "\n".join(
                [f"column {txn.working.tables[t].schema.columns[pos].name} of table {t} "
                 f"depends on type {name}" for t, pos in uses] +
                [f"column {f} of composite type {o} depends on type {name}"
                 for o, f in holders])
            raise errors.sql_error(
                "2BP01", f"cannot drop type {name} because other objects depend on it",
                detail=detail, hint="Use DROP ... CASCADE to drop the dependent objects too.")
        dropped.append(name)
    if node.cascade:
        # PostgreSQL drops the columns of the type (their indexes and constraints with
        # them) and names them in one notice
        lines = [f"column {c} of table {t}" for t, _steps, names in node.drops for c in names]
        if len(lines) == 1:
            notices.emit(f"drop cascades to {lines[0]}")
        elif lines:
            notices.emit(f"drop cascades to {len(lines)} other objects")
        for table, steps, _names in node.drops:
            alter_table(LogicalAlterTable([], table, steps), ctx)
        left = [u for name in dropped for u in _uses(txn.working, name)]
        if left:       # a column the binder did not see (never: DDL is bound as it runs)
            raise errors.InternalError("DROP TYPE ... CASCADE left a column of the type")
    for name in dropped:
        if name in txn.working.composites:
            txn.set_composite(name, None)
        else:
            txn.set_enum(name, None)
    return None


def alter_composite(node: LogicalAlterEnum, ctx) -> None:
    """ALTER TYPE ... ADD / DROP / RENAME ATTRIBUTE (and RENAME TO) of a composite type:
    the new definition, every composite type and column holding it retyped, and the
    stored values of those columns rewritten to the new fields (as PostgreSQL's values
    read a field added later as NULL); a rename keeps the bytes."""
    txn = ctx.txn
    name, action = node.name, node.action
    old = txn.working.composites[name]
    fields = list(composite.fields_of(old))
    names = [f for f, _ in fields]
    renamed: dict = {}
    new_name = name
    if action[0] == "add_attribute":
        _, field, sql_type = action
        if field in names:
            raise errors.sql_error("42701", f'column "{field}" of relation "{name}" already '
                                            "exists")
        if composite.holds(sql_type, name):
            raise errors.sql_error("42P16", f"composite type {name} cannot be made a member "
                                            "of itself")
        fields.append((field, sql_type))
    elif action[0] == "drop_attribute":
        _, field, if_exists = action
        if field not in names:
            if if_exists:
                notices.emit(f'column "{field}" of relation "{name}" does not exist, skipping')
                return None
            raise errors.sql_error("42703", f'column "{field}" of relation "{name}" does not '
                                            "exist")
        fields = [(f, t) for f, t in fields if f != field]
    elif action[0] == "rename_attribute":
        _, field, to = action
        if field not in names:
            raise errors.sql_error("42703", f'column "{field}" does not exist')
        if to in names:
            raise errors.sql_error("42701", f'column "{to}" of relation "{name}" already '
                                            "exists")
        fields = [(to if f == field else f, t) for f, t in fields]
        renamed = {name: {to: field}}
    elif action[0] == "rename":
        new_name = action[1]
        if type_taken(txn.working, new_name):
            raise errors.sql_error("42710", f'type "{new_name}" already exists')
    else:
        raise errors.sql_error("42809", f'"{name}" is not an enum type')
    new = composite.record_type(new_name, fields)
    if new_name != name:
        renamed[new_name] = {}
    for other, t in sorted(txn.working.composites.items()):
        if other != name and composite.holds(t, name):
            txn.set_composite(other, composite.substitute(t, name, new))
    if new_name != name:
        txn.set_composite(name, None)
    txn.set_composite(new_name, new)
    same_bytes = action[0] in ("rename_attribute", "rename")
    for tname, version in list(txn.working.tables.items()):
        positions = [i for i, c in enumerate(version.schema.columns)
                     if composite.holds(c.type, name)]
        if not positions:
            continue
        columns = list(version.schema.columns)
        olds = {pos: columns[pos].type for pos in positions}
        for pos in positions:
            columns[pos] = dataclasses.replace(
                columns[pos], type=composite.substitute(columns[pos].type, name, new))
        schema = version.schema.with_(columns=tuple(columns))
        if same_bytes:
            txn.replace_table(tname, version.with_schema(schema))
            continue
        updated = map_chunks(version, _migrate_batch(olds, columns, renamed), schema)
        for pos in positions:
            updated = rebuild_indexes_on(updated, pos)
        txn.replace_table(tname, updated)
    return None


def _migrate_batch(olds: dict, columns: list, renamed: dict):
    def migrate(batch: pa.RecordBatch) -> pa.RecordBatch:
        for pos, old in olds.items():
            new = columns[pos].type
            values = [None if v is None else composite.migrate(old, new, v, renamed)
                      for v in batch.column(pos).to_pylist()]
            batch = batch.set_column(pos, batch.schema.field(pos),
                                     pa.array(values, pa.large_binary()))
        return batch
    return migrate


@operator(LogicalAlterEnum)
def alter_enum(node: LogicalAlterEnum, ctx) -> None:
    txn = ctx.txn
    if node.name in txn.working.composites:
        return alter_composite(node, ctx)
    if node.action[0] in ("add_attribute", "drop_attribute", "rename_attribute"):
        # PostgreSQL looks the attribute's relation up: an enum type has none
        raise errors.sql_error("42P01", f'relation "{node.name}" does not exist')
    labels = txn.working.enums.get(node.name)
    if labels is None:
        raise errors.sql_error("42704", f'type "{node.name}" does not exist')
    action = node.action
    if action[0] == "rename_value":
        _, old, new = action
        if old not in labels:
            raise errors.sql_error("22023", f'"{old}" is not an existing enum label')
        if new in labels:
            raise errors.sql_error("42710", f'enum label "{new}" already exists')
        renamed = tuple(new if label == old else label for label in labels)
        txn.set_enum(node.name, renamed)
        _retype_columns(txn, node.name, node.name, renamed, relabel=(old, new))
        return None
    if action[0] == "rename":
        new_name = action[1]
        if type_taken(txn.working, new_name):
            raise errors.sql_error("42710", f'type "{new_name}" already exists')
        txn.set_enum(node.name, None)
        txn.set_enum(new_name, labels)
        _retype_columns(txn, node.name, new_name, labels)
        return None
    _, label, where, neighbour, if_not_exists = action
    if label in labels:
        if if_not_exists:
            notices.emit(f'enum label "{label}" already exists, skipping')
            return None
        raise errors.sql_error("42710", f'enum label "{label}" already exists')
    if where is None:
        new = labels + (label,)
    else:
        if neighbour not in labels:
            raise errors.sql_error("22023", f'"{neighbour}" is not an existing enum label')
        at = labels.index(neighbour) + (1 if where == "after" else 0)
        new = labels[:at] + (label,) + labels[at:]
    txn.set_enum(node.name, new)
    _retype_columns(txn, node.name, node.name, new)
    return None
