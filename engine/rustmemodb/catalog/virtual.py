"""The registry of virtual (computed) catalog tables, by schema and name.

A ``VirtualTable`` declares its columns as (name, SQL type) and a ``rows``
function from a ``CatalogSnapshot`` (the root being read, the function
registry, the database and user names) to tuples in column order. Families
register on first use (``_load``), the way the function built-ins do; a new
family (``pg_catalog`` for the wire server) is one more module in ``_FAMILIES``
calling ``register_virtual_table``.

Schemas flagged ``searched`` resolve unqualified names too (PostgreSQL puts
``pg_catalog`` on every search path), after the user's own tables; the others
(``information_schema``) only resolve qualified names, as in PostgreSQL.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..storage.roles import EMBEDDED_USER
from ..storage.root import is_temporary

# The families of virtual tables, imported (and so registered) on first lookup.
_FAMILIES = ("rustmemodb.catalog.information_schema", "rustmemodb.catalog.pg_catalog",
             "rustmemodb.catalog.pg_proc", "rustmemodb.catalog.pg_auth",
             "rustmemodb.catalog.pg_views")

DATABASE_NAME = "rustmemodb"     # table_catalog etc.; the wire server may pass its own
USER_NAME = EMBEDDED_USER


@dataclass(frozen=True)
class CatalogSnapshot:
    root: Any                        # storage.root.Root being read
    functions: Any = None            # FunctionRegistry (to bind view definitions)
    database: str = DATABASE_NAME
    user: str = USER_NAME
    temp_prefix: str | None = None   # the asking session's temporary tables (listed by
                                     # the names it wrote; other sessions' are hidden)


def visible_tables(snap: "CatalogSnapshot") -> list:
    """(name, version) of the stored tables a catalog shows the asking session, sorted:
    its own temporary tables under the names it wrote, no other session's."""
    out = []
    prefix = snap.temp_prefix
    for name, version in snap.root.tables.items():
        if is_temporary(name):
            if prefix is None or not name.startswith(prefix):
                continue
            name = name[len(prefix):]
        out.append((name, version))
    return sorted(out, key=lambda item: item[0])


@dataclass(frozen=True)
class VirtualTable:
    schema: str
    name: str
    columns: tuple                   # ((name, SQL type), ...)
    rows: Callable[[CatalogSnapshot], Iterable[tuple]]
    # The name of a session attribute giving this table's rows instead (a callable of no
    # arguments): state of one session, not of the database (pg_cursors: the wire
    # session's open cursors). Sessions without it show ``rows``.
    session_rows: str | None = None


_TABLES: dict[tuple[str, str], VirtualTable] = {}
_SCHEMAS: dict[str, bool] = {}       # schema -> searched without qualification
_loaded = False


def register_virtual_table(table: VirtualTable, *, searched: bool = False) -> None:
    _TABLES[(table.schema, table.name)] = table
    _SCHEMAS[table.schema] = _SCHEMAS.get(table.schema, False) or searched


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in _FAMILIES:
            importlib.import_module(module)
        _loaded = True


def schema_names() -> list[str]:
    """The virtual schemas (``public`` holds the user's tables and is not one)."""
    _load()
    return sorted(_SCHEMAS)


def table_names(schema: str) -> list[str]:
    """The virtual tables of ``schema`` (for completion and tools)."""
    _load()
    return sorted(name for (s, name) in _TABLES if s == schema)


def lookup(schema: str, name: str) -> VirtualTable | None:
    _load()
    return _TABLES.get((schema, name))


def searched_lookup(name: str) -> VirtualTable | None:
    """An unqualified name in a schema on the search path (``pg_catalog``)."""
    _load()
    for (schema, table), vt in _TABLES.items():
        if table == name and _SCHEMAS.get(schema):
            return vt
    return None


def is_schema(name: str) -> bool:
    _load()
    return name in _SCHEMAS
