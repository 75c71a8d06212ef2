"""What the JupyterLab sidebar shows: the current connection's catalog and branch tree as JSON.

The sidebar (``labextension/src/sidebar.ts``) draws exactly this dictionary, so it
is built here from the lab session, never from SQL run on the user's connection
(a snapshot must not touch an open transaction): tables with their columns, types
and live row counts, views, indexes (CREATE INDEX and the PRIMARY KEY / UNIQUE
constraints behind them) of the *current* branch's committed root (a table of a schema
other than public is named ``s.t``, as SQL names it, with its ``schema`` beside), and every branch
of the connection in tree order with its parent, depth and whether it is current.
"""

from __future__ import annotations

from typing import Any

from rustmemodb.storage.namespaces import split
from rustmemodb_lab.session import LabSession


def snapshot(session: LabSession) -> dict[str, Any]:
    """The catalog of the current branch and the branch tree, JSON-ready."""
    if session.current_name is None:
        return {"connection": None, "branch": None, "branches": [], "tables": [], "views": [], "indexes": []}
    external = session.current_external
    if external is not None:
        return {"connection": external.name, "external": external.dialect, "branch": None, "branches": [],
                "tables": [{"name": name, "rows": None, "columns": []} for name in _safe(external.tables)],
                "views": [], "indexes": []}
    registry = session.registry
    branches = [
        {"name": b.name, "parent": b.parent, "depth": depth, "current": b.name == registry.current,
         "forked_at": b.forked_at.isoformat()}
        for b, depth in registry.walk()
    ]
    root = registry.active.database.root
    schemas = root.auth.schemas
    tables, indexes = [], []
    for name in sorted(root.tables):
        schema = root.tables[name].schema
        names = schema.names
        key = next((u for u in schema.uniques if u.primary), None)
        tables.append({
            "name": name,
            "schema": split(name, schemas)[0],
            "rows": root.tables[name].live_rows,
            "columns": [{"name": c.name, "type": c.type, "not_null": c.not_null,
                         "key": bool(key and i in key.columns)} for i, c in enumerate(schema.columns)],
        })
        for u in schema.uniques:
            indexes.append({"name": u.name, "table": name, "columns": [names[i] for i in u.columns],
                            "unique": True, "primary": u.primary})
        for d in schema.indexes:
            indexes.append({"name": d.name, "table": name, "columns": [names[i] for i in d.columns],
                            "unique": d.unique, "primary": False})
    views = [{"name": name, "schema": split(name, schemas)[0], "sql": view.sql}
             for name, view in sorted(root.views.items())]
    return {"connection": session.current_name, "branch": registry.current, "branches": branches,
            "schemas": ["public", *sorted(schemas)], "tables": tables, "views": views,
            "indexes": indexes}


def _safe(listing: Any) -> list[str]:
    try:
        return list(listing())
    except Exception:  # an unreachable external database shows no tables, not an error
        return []
