"""Whole-row references (``t``, ``t.*`` naming a FROM item): where PostgreSQL turns the
row into JSON (``to_jsonb(t)``, ``row_to_json(t)``, ``json_agg(t)``), and the row as a
value of its own (``SELECT t FROM t``, ``count(DISTINCT t)``).

The engine has no composite type to pass a row as a value, so such a reference is
rewritten, before binding, into the ``jsonb_build_object`` of the item's columns (used
by bind_jsonb.py and bind_aggregate_ext.py), or elsewhere into ``record_out`` of them:
the record's text as PostgreSQL prints it (exec/functions/record.py).
"""
from __future__ import annotations

from sqlglot import exp

from .bind_rows import row_items


# the builder of a row's object for json (column order, PostgreSQL's json spelling:
# exec/functions/json_out.py); jsonb's is jsonb_build_object
JSON_ROW = "json_row_object"


def as_row_object(binder, node: exp.Expression,
                  builder: str = "jsonb_build_object") -> exp.Expression:
    """A whole-row reference (``t`` or ``t.*`` naming a FROM item) as the JSON object of
    its columns, which is what ``to_jsonb(t)``, ``row_to_json(t)`` and ``json_agg(t)``
    make of it in PostgreSQL (the engine has no composite type to pass the row as).
    Anything else (a column named like the item included) is returned as it is."""
    if isinstance(node, exp.Order):
        out = node.copy()
        out.set("this", as_row_object(binder, node.this, builder))
        return out
    items = row_items(node)
    if items is not None:     # ROW(a, b): PostgreSQL names the fields f1, f2, ...
        pairs = []
        for i, item in enumerate(items):
            pairs += [exp.Literal.string(f"f{i + 1}"), item]
        return exp.Anonymous(this=builder, expressions=pairs)
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
    return exp.Anonymous(this=builder, expressions=pairs)


def as_record(binder, node: exp.Column) -> exp.Expression | None:
    """``t`` naming a FROM item of the current query (and no column): the record text of
    its columns; None when ``t`` is not such an item."""
    scope = binder.scope
    if scope is None or node.table or node.name not in scope.tables:
        return None
    cols = [exp.column(scope.columns[i].name, table=node.name, quoted=True)
            for i in scope.star(node.name)]
    return exp.Anonymous(this="record_out", expressions=cols)
