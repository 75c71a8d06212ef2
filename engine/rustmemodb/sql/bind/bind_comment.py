"""Binding COMMENT ON (parsed by sql/parse_roles.py): a catalog change like ALTER.

A comment is part of the object it describes: a table's, column's or index's lives in
the table schema (so it is durable, forked and dropped with the table, and an ALTER
keeps it), a view's in its ViewDef. So COMMENT ON binds to the same plan nodes as
ALTER TABLE's schema-only steps (``SetSchema``) and CREATE OR REPLACE VIEW, and needs
what they need: ownership of the table or view. ``pg_description``, ``obj_description``
and ``col_description`` read the comments back (catalog/pg_catalog.py).
"""
from __future__ import annotations

from dataclasses import replace

from ... import errors
from ...plan.ddl import LogicalAlterTable, LogicalCreateView, SetSchema
from ...storage.root import owner_of_index
from ..bound import BoundStatement
from ..parse_roles import CommentStatement
from ..schemas import check_qualified


def bind_comment(stmt: CommentStatement, root) -> BoundStatement:
    kind, name, text = stmt.objkind, stmt.name, stmt.text
    check_qualified(root, name)
    if kind == "view":
        view = root.views.get(name)
        if view is None:
            raise _not_a(name, "view", root)
        plan = LogicalCreateView([], replace(view, comment=text), or_replace=True,
                                 keep_comment=False)
        return _bound(plan, name)
    if kind == "index":
        found = owner_of_index(root, name)
        if found is None:
            raise errors.sql_error("42P01", f'relation "{name}" does not exist',
                                   position=stmt.position)
        table = found[0]
        schema = root.tables[table].schema
        schema = schema.with_(
            uniques=tuple(replace(u, comment=text) if u.name == name else u
                          for u in schema.uniques),
            indexes=tuple(replace(d, comment=text) if d.name == name else d
                          for d in schema.indexes))
        return _bound(LogicalAlterTable([], table, (SetSchema(schema),)), table)
    version = root.tables.get(name)
    if version is None:
        raise _not_a(name, "table", root)
    schema = version.schema
    if kind == "column":
        pos = schema.position(stmt.column)
        if pos is None:
            raise errors.sql_error("42703", f'column "{stmt.column}" of relation "{name}" '
                                            "does not exist", position=stmt.position)
        schema = schema.with_(columns=tuple(replace(c, comment=text) if i == pos else c
                                            for i, c in enumerate(schema.columns)))
    else:
        schema = schema.with_(comment=text)
    return _bound(LogicalAlterTable([], name, (SetSchema(schema),)), name)


def _not_a(name: str, kind: str, root) -> errors.Error:
    if name in root.tables or name in root.views:
        return errors.sql_error("42809", f'"{name}" is not a {kind}')
    return errors.sql_error("42P01", f'relation "{name}" does not exist')


def _bound(plan, owner: str) -> BoundStatement:
    return BoundStatement("COMMENT", plan, cacheable=False,
                          privileges=(("owner", owner, None, None),))
