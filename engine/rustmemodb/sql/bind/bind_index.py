"""Binding CREATE [UNIQUE] INDEX and DROP INDEX into transactional actions.

An index is part of its table's version (storage/table.py): a UNIQUE index is
a hash ``UniqueIndex`` enforcing the key, any other index an ``OrderedIndex``
for equality, IN, ranges and ORDER BY ... LIMIT (optimize/use_index.py). The
definition lives in ``TableSchema.indexes``, so creating or dropping one makes
a new schema object and cached plans re-plan (plan_cache validates schema
identity). Building reads the live rows once, vectorised; the action replaces
the table version through ``txn.replace_table``, so a rolled-back CREATE INDEX
never existed and forks that never saw it share nothing new.

Index names share one namespace with tables, views and constraint indexes
(PostgreSQL's relation names): a clash is ``42P07``.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, notices
from ...storage.index import OrderedIndex, UniqueIndex
from ...storage.index_build import unique_from_arrays
from ...storage.schema import IndexDef
from ...storage.table import replace as evolve
from ..parse import position_of


def bind_create_index(stmt, node: exp.Create):
    index = node.this
    table_node = index.args.get("table")
    version = stmt.table(table_node.name, position_of(table_node))
    schema = version.schema
    params = index.args.get("params")
    columns = []
    for item in (params.args.get("columns") or []) if params is not None else []:
        col = item.this if isinstance(item, exp.Ordered) else item
        if not isinstance(col, exp.Column):
            raise errors.not_supported("indexes on expressions",
                                       hint="Index plain columns: CREATE INDEX i ON t (a, b).")
        pos = schema.position(col.name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{col.name}" does not exist',
                                   position=position_of(col))
        columns.append(pos)
    if not columns:
        raise errors.syntax_error("CREATE INDEX needs at least one column")
    name = index.name or _default_name(schema, columns, stmt.root)
    unique = bool(node.args.get("unique"))
    if_not_exists = bool(node.args.get("exists"))
    table = schema.name

    def action(txn, ctx):
        if relation_exists(txn.working, name):
            if if_not_exists:
                notices.emit(f'relation "{name}" already exists, skipping', "42P07")
                return 0
            raise errors.sql_error("42P07", f'relation "{name}" already exists')
        current = txn.working.tables[table]
        txn.replace_table(table, with_index(current, IndexDef(name, tuple(columns), unique)))
        return 0
    return action


def _default_name(schema, columns, root) -> str:
    base = f"{schema.name}_{'_'.join(schema.columns[c].name for c in columns)}_idx"
    name, i = base, 0
    while relation_exists(root, name):
        i += 1
        name = f"{base}{i}"
    return name


def relation_exists(root, name: str) -> bool:
    """Tables, views, indexes and constraint indexes share PostgreSQL's relation names."""
    if name in root.tables or name in root.views:
        return True
    return owner_of_index(root, name) is not None


def owner_of_index(root, name: str):
    """(table name, 'index' | 'constraint') of the index called ``name``, else None."""
    for tname, version in root.tables.items():
        schema = version.schema
        if any(d.name == name for d in schema.indexes):
            return tname, "index"
        if any(u.name == name for u in schema.uniques):
            return tname, "constraint"
    return None


def build_indexes(version, definition: IndexDef) -> tuple[UniqueIndex | None, OrderedIndex]:
    """The indexes ``definition`` stands for, over the version's live rows (read once):
    for a unique key its hash index (23505 on duplicates), and for every index the
    ordered one (a unique key's ordered twin: see TableVersion.empty)."""
    version.schema.check_indexable(definition.columns)
    data = version.to_arrow(with_rowid=True)
    rowids = data.column(data.num_columns - 1).to_numpy()
    schema = version.schema
    columns = [data.column(c) for c in definition.columns]
    unique = None
    if definition.unique:
        unique, dup = unique_from_arrays(definition.name, definition.columns, columns, rowids)
        if dup is not None:
            names = ", ".join(schema.columns[c].name for c in definition.columns)
            shown = ", ".join(map(_show, dup)) if isinstance(dup, tuple) else _show(dup)
            raise errors.sql_error("23505", f'could not create unique index "{definition.name}"',
                                   detail=f"Key ({names})=({shown}) is duplicated.")
    ordered = OrderedIndex.build(definition.name, definition.columns,
                                 [schema.columns[c].type for c in definition.columns],
                                 columns, rowids)
    return unique, ordered


def _show(v) -> str:
    return "null" if v is None else str(v)


def with_index(version, definition: IndexDef):
    unique, plain = build_indexes(version, definition)
    schema = version.schema.with_(indexes=version.schema.indexes + (definition,))
    ordered = dict(version.ordered)
    ordered[definition.name] = plain
    if unique is None:
        return evolve(version, schema=schema, ordered=ordered)
    indexes = dict(version.indexes)
    indexes[definition.name] = unique
    return evolve(version, schema=schema, indexes=indexes, ordered=ordered)


def without_index(version, name: str):
    schema = version.schema.with_(indexes=tuple(d for d in version.schema.indexes
                                                if d.name != name))
    indexes = {k: v for k, v in version.indexes.items() if k != name}
    ordered = {k: v for k, v in version.ordered.items() if k != name}
    return evolve(version, schema=schema, indexes=indexes, ordered=ordered)


def bind_drop_index(stmt, node: exp.Drop):
    names = [t.name for t in (node.args.get("tables") or
                              ([node.this] if node.this is not None else []))]
    if_exists = bool(node.args.get("exists"))

    def action(txn, ctx):
        for name in names:
            owner = owner_of_index(txn.working, name)
            if owner is None:
                if if_exists:
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
        return 0
    return action
