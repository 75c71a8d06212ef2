"""Schemas (namespaces) as the catalog stores them: how a relation's key names its schema.

Objects of schema ``public`` keep their bare names as keys of ``Root.tables``,
``Root.views`` and ``Root.sequences`` (and index names), so every database written
before schemas existed, every branch, diff, merge and cluster shard keeps reading
them unchanged. Objects of any other schema ``s`` are keyed ``"s.name"``: one string,
so the rest of the engine (WAL records, checkpoints, forks, plan-cache dependencies)
handles them as it handles any table. The schemas themselves live in the roles
catalog (``AuthCatalog.schemas``: name -> oid, owners and grants beside), which the
WAL and checkpoints already carry.

A key is read as qualified only when its prefix is an existing schema: a public table
that someone named ``"a.b"`` stays public's while there is no schema ``a`` (CREATE
SCHEMA refuses a name that would capture such a table).
"""
from __future__ import annotations

PUBLIC = "public"
PUBLIC_OID = 2200              # PostgreSQL's oid of schema public
# Schemas whose tables are the engine's virtual catalogs: never user schemas.
SYSTEM = ("pg_catalog", "information_schema")


def qualify(schema: str, name: str) -> str:
    """The catalog key of ``name`` in ``schema``."""
    return name if schema == PUBLIC else f"{schema}.{name}"


def split(key: str, schemas) -> tuple[str, str]:
    """(schema, bare name) of catalog key ``key``; ``schemas``: the user schemas (a
    mapping or set of names)."""
    if "." in key and schemas:
        head, _, tail = key.partition(".")
        if head in schemas:
            return head, tail
    return PUBLIC, key


def schema_of(key: str, schemas) -> str:
    return split(key, schemas)[0]


def in_schema(keys, schema: str, schemas) -> list[str]:
    """The keys among ``keys`` that belong to ``schema``."""
    if schema == PUBLIC:
        return [k for k in keys if split(k, schemas)[0] == PUBLIC]
    prefix = schema + "."
    return [k for k in keys if k.startswith(prefix)]
