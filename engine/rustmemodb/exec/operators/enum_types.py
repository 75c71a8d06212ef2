"""Operators for the enum type statements (plan/ddl.py LogicalCreateEnum,
LogicalDropType, LogicalAlterEnum; bound by sql/bind/bind_enum.py).

Like other DDL they change the transaction's private root (``txn.set_enum``), so a
rolled-back CREATE TYPE never existed. A column of an enum type keeps the labels in
its typmod (exec/typmods.py checks values against them without reading the catalog),
so ALTER TYPE rewrites the typmod of every column that uses the type, in the same
transaction: the columns and the type never disagree.
"""
from __future__ import annotations

import dataclasses

from ... import errors, notices, types
from ...plan.ddl import LogicalAlterEnum, LogicalCreateEnum, LogicalDropType
from ..run import operator


def _uses(root, name: str) -> list[tuple[str, int]]:
    """(table, column position) of every column declared with enum type ``name``."""
    return [(tname, i) for tname, version in root.tables.items()
            for i, c in enumerate(version.schema.columns)
            if c.typmod is not None and c.typmod[0] == "enum" and c.typmod[1] == name]


def _retype_columns(txn, old_name: str, name: str, labels: tuple) -> None:
    """Every column of type ``old_name`` now of type ``name`` with ``labels``."""
    root = txn.working
    by_table: dict[str, list[int]] = {}
    for tname, pos in _uses(root, old_name):
        by_table.setdefault(tname, []).append(pos)
    for tname, positions in by_table.items():
        version = root.tables[tname]
        columns = list(version.schema.columns)
        for pos in positions:
            columns[pos] = dataclasses.replace(columns[pos], typmod=("enum", name, labels))
        txn.replace_table(tname, version.with_schema(
            version.schema.with_(columns=tuple(columns))))


def type_taken(root, name: str) -> bool:
    """A type of that name exists: an enum, a domain, a built-in type, or a table's row
    type."""
    if name in root.enums or name in root.domains or name in root.tables or \
            name in root.views:
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


@operator(LogicalDropType)
def drop_type(node: LogicalDropType, ctx) -> None:
    txn = ctx.txn
    for name in node.targets:
        if name not in txn.working.enums:
            if node.if_exists:
                notices.emit(f'type "{name}" does not exist, skipping')
                continue
            raise errors.sql_error("42704", f'type "{name}" does not exist')
        uses = _uses(txn.working, name)
        if uses:
            tname, pos = uses[0]
            column = txn.working.tables[tname].schema.columns[pos].name
            detail = f"column {column} of table {tname} depends on type {name}"
            if node.cascade:
                raise errors.not_supported(
                    "DROP TYPE ... CASCADE of a type that columns use", detail=detail,
                    hint="Drop or retype those columns first (ALTER TABLE ... DROP COLUMN).")
            raise errors.sql_error(
                "2BP01", f"cannot drop type {name} because other objects depend on it",
                detail=detail, hint="Use DROP ... CASCADE to drop the dependent objects too.")
        txn.set_enum(name, None)
    return None


@operator(LogicalAlterEnum)
def alter_enum(node: LogicalAlterEnum, ctx) -> None:
    txn = ctx.txn
    labels = txn.working.enums.get(node.name)
    if labels is None:
        raise errors.sql_error("42704", f'type "{node.name}" does not exist')
    action = node.action
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
