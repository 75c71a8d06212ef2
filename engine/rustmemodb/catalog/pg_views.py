"""PostgreSQL's convenience views over the catalog: pg_tables, pg_views, pg_matviews,
pg_indexes and pg_sequences, and the view definitions pg_get_viewdef returns.

People and tools ask these first (``SELECT tablename FROM pg_tables WHERE schemaname =
'public'``, dbt's and Metabase's table listing, psql's ``\\d+ view``'s "View
definition"), rather than pg_class. Rows cover the user schemas' objects (the
engine has no system tables of its own to list); owners are the roles catalog's.
"""
from __future__ import annotations

from .. import types
from ..storage import sequence_defs
from ..storage.namespaces import split
from .pg_catalog import fk_referenced, index_defs, relation_oid, view_definition
from .virtual import CatalogSnapshot, VirtualTable, register_virtual_table, visible_tables

T, I, B = types.TEXT, types.INTEGER, types.BOOLEAN


def _register(name: str, columns: str, rows, typed: dict) -> None:
    cols = tuple((c, typed.get(c, T)) for c in columns.split())
    register_virtual_table(VirtualTable("pg_catalog", name, cols, rows), searched=True)


def _owner(snap: CatalogSnapshot, name: str) -> str:
    """The owning role's name: the roles catalog's owner, else the implicit superuser."""
    owner = snap.root.auth.owner("table", name) if snap.root.auth.active else None
    return owner or snap.user


def _split(snap: CatalogSnapshot, key: str) -> tuple[str, str]:
    """(schema, name) of a catalog key (storage/namespaces.py)."""
    return split(key, snap.root.auth.schemas)


def _has_indexes(schema) -> bool:
    return bool(schema.uniques or schema.indexes)


def _tables(snap):
    referenced = fk_referenced(snap.root)
    for name, version in visible_tables(snap):
        s = version.schema
        if s.matview_sql is None:     # foreign keys are triggers on both tables
            yield (*_split(snap, name), _owner(snap, name), None, _has_indexes(s), False,
                   bool(s.foreign_keys) or name in referenced, False)


def _matviews(snap):
    for name, version in visible_tables(snap):
        s = version.schema
        if s.matview_sql is not None:
            yield (*_split(snap, name), _owner(snap, name), None, _has_indexes(s), True,
                   view_definition(s.matview_sql, snap.root))


def _views(snap):
    for name, view in sorted(snap.root.views.items()):
        yield (*_split(snap, name), _owner(snap, name), view_definition(view.sql, snap.root))


def _indexes(snap):
    defs = index_defs(snap.root)
    prefix = snap.temp_prefix or "\0"
    for name, version in visible_tables(snap):
        s = version.schema
        for ix in (*s.uniques, *s.indexes):
            yield (*_split(snap, name), _split(snap, ix.name.removeprefix(prefix))[1], None,
                   defs.get(relation_oid("i", ix.name), ""))


def _sequences(snap):
    """pg_sequences: last_value is NULL until the first nextval() (or after a RESTART or
    setval(s, n, false)), as PostgreSQL shows it."""
    root = snap.root
    for name in sorted(root.sequences):
        d = sequence_defs.definition(root, name)
        last = root.sequences[name] if d.is_called else None
        yield (*_split(snap, name), _owner(snap, name), d.data_type, d.start, d.minvalue,
               d.maxvalue, d.increment, d.cycle, d.cache, last)


_register("pg_tables", "schemaname tablename tableowner tablespace hasindexes hasrules "
                       "hastriggers rowsecurity", _tables,
          {"hasindexes": B, "hasrules": B, "hastriggers": B, "rowsecurity": B})
_register("pg_views", "schemaname viewname viewowner definition", _views, {})
_register("pg_matviews", "schemaname matviewname matviewowner tablespace hasindexes "
                         "ispopulated definition", _matviews,
          {"hasindexes": B, "ispopulated": B})
_register("pg_indexes", "schemaname tablename indexname tablespace indexdef", _indexes, {})
_register("pg_sequences", "schemaname sequencename sequenceowner data_type start_value "
                          "min_value max_value increment_by cycle cache_size last_value",
          _sequences, {"start_value": I, "min_value": I, "max_value": I, "increment_by": I,
                       "cycle": B, "cache_size": I, "last_value": I})
