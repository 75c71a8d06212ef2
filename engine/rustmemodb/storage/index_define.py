"""Adding and removing an index definition on a table version (CREATE/DROP INDEX,
ALTER TABLE ... ADD UNIQUE, a changed column type).

An index is part of its table's version: a UNIQUE index is a hash ``UniqueIndex``
enforcing the key, any other index an ``OrderedIndex`` for equality, IN, ranges
and ORDER BY ... LIMIT (optimize/use_index.py). The definition lives in
``TableSchema.indexes``, so adding or dropping one makes a new schema object and
cached plans re-plan (plan_cache validates schema identity). Building reads the
live rows once, vectorised.
"""
from __future__ import annotations

from .. import errors
from .evolve import replace as evolve
from .index import NULL_KEY, KeyedUniqueIndex, OrderedIndex, UniqueIndex, numeric_parts
from .index_build import unique_from_arrays, unique_from_table
from .index_upkeep import shown_key
from .schema import IndexDef


def build_indexes(version, definition: IndexDef) -> tuple[UniqueIndex | None, OrderedIndex]:
    """The indexes ``definition`` stands for, over the version's live rows (read once):
    for a unique key its hash index (23505 on duplicates), and for every index the
    ordered one (a unique key's ordered twin: see TableVersion.empty)."""
    schema = version.schema
    if definition.keyed:
        return _build_keyed(version, definition), None
    schema.check_indexable(definition.columns)
    data = version.to_arrow(with_rowid=True)
    rowids = data.column(data.num_columns - 1).to_numpy()
    columns = [data.column(c) for c in definition.columns]
    unique = None
    if definition.unique:
        unique, dup = unique_from_arrays(definition.name, definition.columns, columns, rowids,
                                         numeric_parts(schema, definition.columns),
                                         definition.nulls_not_distinct)
        if dup is not None:
            names = ", ".join(schema.columns[c].name for c in definition.columns)
            shown = shown_key(dup, [schema.columns[c].type for c in definition.columns])
            raise errors.sql_error("23505", f'could not create unique index "{definition.name}"',
                                   detail=f"Key ({names})=({shown}) is duplicated.")
    ordered = OrderedIndex.build(definition.name, definition.columns,
                                 [schema.columns[c].type for c in definition.columns],
                                 columns, rowids)
    return unique, ordered


def _build_keyed(version, definition: IndexDef) -> KeyedUniqueIndex | None:
    """A keyed index's hash index over the live rows (None for a non-unique one: it has
    no structure, see IndexDef); 23505 naming the key as PostgreSQL does on duplicates."""
    if not definition.unique:
        return None
    data = version.to_arrow(with_rowid=True)
    rowids = data.column(data.num_columns - 1).to_numpy()
    template = KeyedUniqueIndex(definition.name, definition.columns,
                                version.schema.keyer(definition))
    unique, dup = unique_from_table(template, data, rowids)
    if dup is not None:
        shown = ", ".join(map(_show, dup)) if isinstance(dup, tuple) else _show(dup)
        raise errors.sql_error("23505", f'could not create unique index "{definition.name}"',
                               detail=f"Key ({key_text(definition)})=({shown}) is duplicated.")
    return unique


def key_text(definition: IndexDef) -> str:
    """A keyed index's key as PostgreSQL names it in messages: ``lower(email)``."""
    return ", ".join(definition.exprs)


def _show(v) -> str:
    return "null" if v is None or v is NULL_KEY else str(v)


def with_index(version, definition: IndexDef):
    version = version.numerics_as_keys()     # index keys are keys (TableVersion._numeric_form)
    if definition.keyed:
        schema = version.schema.with_(indexes=version.schema.indexes + (definition,))
        unique = _build_keyed(evolve(version, schema=schema), definition)
        if unique is None:
            return evolve(version, schema=schema)
        indexes = dict(version.indexes)
        indexes[definition.name] = unique
        return evolve(version, schema=schema, indexes=indexes)
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
