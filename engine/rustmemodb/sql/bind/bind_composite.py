"""Binding composite values (composite.py): ROW(...) as a record, a field of one
(``(x).f``), ``x IS [NOT] NULL`` of one, and pg_typeof; the statement binder's hooks
(mixed into StatementBinder) that bind_expr.py calls where a composite value appears.

A ROW(...) whose fields are all of types a composite field may have is a value of an
anonymous composite type (fields f1, f2, ... as PostgreSQL names them); one holding
another type (an array, an interval) stays the record's text (exec/functions/record.py
``row``), as before composite types existed. A field read from a value is a
``record_field`` call typed as the field; casts and comparisons with a named type take
the text literal or the anonymous record to that type (sql/bind/coerce.py).
"""
from __future__ import annotations

from sqlglot import exp

from ... import composite, errors, types
from ...plan.expr import Call, Const, Expr
from ..parse import position_of
from .bind_expr import fold
from .json_records import populate_value


def _resolved(eb, name: str, args: list):
    fn, _ret = eb.stmt.functions.resolve(name, [a.type for a in args])
    return fn


def make_row(eb, args: list, node=None) -> Expr:
    """ROW(a, b, ...) of bound fields: an anonymous composite value."""
    field_types = [types.TEXT if a.type in (types.NULL, types.UNKNOWN) else a.type
                   for a in args]
    if not all(t in composite.FIELD_TYPES or composite.is_record(t) for t in field_types):
        return eb.call("row", args, node)        # the record's text (record.py)
    sql_type = composite.anonymous(field_types)
    args = [Const(None, t) if a.type in (types.NULL, types.UNKNOWN) and isinstance(a, Const)
            else a for a, t in zip(args, field_types)]
    parts = tuple(args) + (Const(sql_type, types.TEXT),)
    return fold(Call("record_make", parts, sql_type, _resolved(eb, "record_make", list(parts))))


def field_of(eb, value: Expr, name: str, node=None) -> Expr:
    """``(value).name``: 42809 when ``value`` is not composite, 42703 for no such field."""
    if not composite.is_record(value.type):
        raise errors.sql_error(
            "42809", f"column notation .{name} applied to type "
                     f"{types.shown_type(value.type)}, which is not a composite type",
            position=position_of(node) if node is not None else None)
    for i, (f, t) in enumerate(composite.fields_of(value.type)):
        if f == name:
            parts = (value, Const(i, types.INTEGER), Const(value.type, types.TEXT))
            return fold(Call("record_field", parts, t,
                             _resolved(eb, "record_field", list(parts))))
    shown = composite.type_name(value.type)
    if shown == "record":
        raise errors.sql_error("42703", f'could not identify column "{name}" in record data '
                                        "type", position=position_of(node) if node else None)
    raise errors.sql_error("42703", f'column "{name}" not found in data type {shown}',
                           position=position_of(node) if node is not None else None)


def is_null(eb, value: Expr, negated: bool, node=None) -> Expr:
    """``value IS NULL`` (every field NULL) / ``IS NOT NULL`` (no field NULL): not each
    other's negation for a composite, as in PostgreSQL."""
    name = "record_not_null" if negated else "record_is_null"
    parts = [value, Const(value.type, types.TEXT)]
    return fold(Call(name, tuple(parts), types.BOOLEAN, _resolved(eb, name, parts)))


class CompositeHooks:
    """The statement binder's hooks for composite values."""

    def bind_function_row(self, eb, arg_nodes, node):
        return make_row(eb, [eb.bind(a) for a in arg_nodes], node)

    def _populate(self, eb, arg_nodes, node):
        call = exp.Anonymous(this=node.name, expressions=list(arg_nodes))
        return eb.bind(populate_value(self, call))

    bind_function_json_populate_record = bind_function_jsonb_populate_record = _populate
    bind_function_json_populate_recordset = bind_function_jsonb_populate_recordset = _populate

    def bind_function_pg_typeof(self, eb, arg_nodes, node):
        args = [eb.bind(a) for a in arg_nodes]
        if len(args) == 1 and composite.is_record(args[0].type):
            return Const(composite.type_name(args[0].type), types.TEXT)
        if len(args) == 1 and type(args[0].type) is types.BpcharType:
            return Const("character", types.TEXT)      # char(n) (sql/bind/bpchar.py)
        return eb.call("pg_typeof", args, node)

    def composite_field_names(self, value: Expr, node=None) -> list[str]:
        """The fields ``(value).*`` expands to; 42809 when ``value`` is not composite."""
        if not composite.is_record(value.type):
            raise errors.sql_error(
                "42809", f"type {types.shown_type(value.type)} is not composite",
                position=position_of(node) if node is not None else None)
        return [f for f, _t in composite.fields_of(value.type)]

    def record_array(self, eb, arrays: list, names, node=None) -> Expr:
        """Arrays of equal length zipped into one array of records with fields ``names``
        (a record SRF's rows in the select list: json_each's keys and values)."""
        element = [types.element_type(a.type) for a in arrays]
        sql_type = composite.record_type("", list(zip(names, element)))
        parts = tuple(arrays) + (Const(sql_type, types.TEXT),)
        return fold(Call("record_zip", parts, types.array_of(sql_type),
                         _resolved(eb, "record_zip", list(parts))))

    def composite_is_null(self, eb, value: Expr, negated: bool, node=None) -> Expr:
        return is_null(eb, value, negated, node)

    def composite_field(self, eb, node: exp.Dot) -> Expr | None:
        """``(x).f`` / ``(ROW(...)).f`` / ``(f(...)).f``: a field of a composite value;
        None when ``x`` names no column (``(t).c`` of a FROM item: bind_expr's)."""
        inner = node.this.this if isinstance(node.this, exp.Paren) else node.this
        if isinstance(inner, exp.Column) and not inner.table and eb.scope is not None \
                and not _visible_column(eb.scope, inner.name):
            return None
        return field_of(eb, eb.bind(inner), node.expression.name, node)


def _visible_column(scope, name: str) -> bool:
    while scope is not None:
        if scope.find(name):
            return True
        scope = scope.parent
    return False
