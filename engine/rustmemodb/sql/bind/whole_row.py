"""Whole-row references (``t``, ``t.*`` naming a FROM item) where PostgreSQL turns the
row into JSON: ``to_jsonb(t)``, ``row_to_json(t)``, ``json_agg(t)``.

The engine has no composite type to pass a row as a value, so such a reference is
rewritten, before binding, into the ``jsonb_build_object`` of the item's columns.
Used by bind_jsonb.py (the to_json functions) and bind_aggregate_ext.py (json_agg).
"""
from __future__ import annotations

from sqlglot import exp


def as_row_object(binder, node: exp.Expression) -> exp.Expression:
    """A whole-row reference (``t`` or ``t.*`` naming a FROM item) as the JSON object of
    its columns, which is what ``to_jsonb(t)``, ``row_to_json(t)`` and ``json_agg(t)``
    make of it in PostgreSQL (the engine has no composite type to pass the row as).
    Anything else (a column named like the item included) is returned as it is."""
    if isinstance(node, exp.Order):
        out = node.copy()
        out.set("this", as_row_object(binder, node.this))
        return out
    if not isinstance(node, exp.Column):
        return node
    scope = binder.scope
    if isinstance(node.this, exp.Star):
        alias = node.table
    elif not node.table and not scope.find(node.name) and node.name in scope.tables:
        alias = node.name
    else:
        return node
    pairs = []
    for i in scope.star(alias):
        name = scope.columns[i].name
        pairs += [exp.Literal.string(name), exp.column(name, table=alias, quoted=True)]
    return exp.Anonymous(this="jsonb_build_object", expressions=pairs)
