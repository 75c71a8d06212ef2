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

from ... import composite
from ...plan.internal_functions import call_node, is_internal
from .bind_rows import row_items


# the builder of a row's object for json (column order, PostgreSQL's json spelling:
# exec/functions/json_out.py); jsonb's is jsonb_build_object
JSON_ROW = "json_row_object"


def is_json_row(node: exp.Expression) -> bool:
    """Whether ``node`` is the json row object ``as_row_object`` built."""
    return isinstance(node, exp.Dot) and isinstance(node.expression, exp.Anonymous) and \
        node.expression.name == JSON_ROW


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
        return _built(builder, pairs)
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
    return _built(builder, pairs)


def _built(builder: str, pairs: list) -> exp.Expression:
    # json's builder is a helper of the binder's, spelled in its schema
    return call_node(builder, pairs) if is_internal(builder) else \
        exp.Anonymous(this=builder, expressions=pairs)


def as_record(binder, node: exp.Column) -> exp.Expression | None:
    """``t`` naming a FROM item of the current query (and no column): the row as a value
    of the table's row type (composite.py), an anonymous record for another item, or the
    record's text where a column's type cannot be a composite field; None when ``t`` is
    not such an item."""
    scope = binder.scope
    if scope is None or node.table or node.name not in scope.tables:
        return None
    positions = scope.star(node.name)
    cols = [exp.column(scope.columns[i].name, table=node.name, quoted=True)
            for i in positions]
    if not all(scope.columns[i].type in composite.FIELD_TYPES or
               composite.is_record(scope.columns[i].type) for i in positions):
        return exp.Anonymous(this="record_out", expressions=cols)
    row = exp.Anonymous(this="row", expressions=cols)
    root = getattr(binder.stmt, "root", None)
    table = root.tables.get(node.name) if root is not None else None
    if table is not None and [c.name for c in table.schema.columns] == \
            [scope.columns[i].name for i in positions]:
        return exp.Cast(this=row, to=exp.DataType(
            this=exp.DataType.Type.USERDEFINED,
            kind=exp.Identifier(this=node.name, quoted=True)))
    return row
