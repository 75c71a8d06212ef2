"""Binding the range operators sqlglot has nodes of its own for, and the constructors.

``&<``, ``&>`` and ``-|-`` are sqlglot's ExtendsLeft, ExtendsRight and Adjacent
(``@>``, ``<@``, ``&&``, ``<<``, ``>>``, ``+``, ``*``, ``-`` arrive as the array, shift
and arithmetic operators and resolve to the range overloads by their argument types:
exec/functions/ranges.py). A constructor's quoted bounds are read as its element type,
as PostgreSQL reads unknown literals for daterange('2020-01-01', '2020-02-01').
"""
from __future__ import annotations

from ... import errors, ranges
from ...plan.expr import Const, Param
from ..parse import position_of
from .coerce import adapt

_SHOWN = {"range_overleft": "&<", "range_overright": "&>", "range_adjacent": "-|-"}


def bind_range_operator(binder, name: str, node):
    left, right = binder.bind(node.this), binder.bind(node.expression)
    try:
        return binder.call(name, [left, right], node)
    except errors.Error as exc:
        if exc.sqlstate != "42883":
            raise
        raise errors.undefined_function(
            f"operator does not exist: {left.type.lower()} {_SHOWN[name]} "
            f"{right.type.lower()}", position=position_of(node.this),
            hint="No operator matches the given name and argument types. You might need "
                 "to add explicit type casts.") from None


def bind_constructor(binder, kind, arg_nodes: list, node):
    args = [binder.bind(a) for a in arg_nodes]
    for i, a in enumerate(args[:2]):
        if isinstance(a, Const) and a.value is not None and a.type == "TEXT":
            args[i] = adapt(a, kind.element)
        elif isinstance(a, Param) and a.type in ("UNKNOWN", "NULL"):
            args[i] = Param(a.slot, binder.stmt.param_type(a.slot, kind.element))
    if len(args) == 3 and isinstance(args[2], Param) and args[2].type in ("UNKNOWN", "NULL"):
        args[2] = Param(args[2].slot, binder.stmt.param_type(args[2].slot, "TEXT"))
    return binder.call(kind.pg_name, args, node)


def _constructor_hook(kind):
    def hook(self, binder, arg_nodes, node):
        return bind_constructor(binder, kind, arg_nodes, node)
    return hook


class RangeHooks:
    """The statement binder's hooks for ranges (mixed into StatementBinder)."""

    def bind_extendsleft(self, binder, node):
        return bind_range_operator(binder, "range_overleft", node)

    def bind_extendsright(self, binder, node):
        return bind_range_operator(binder, "range_overright", node)

    def bind_adjacent(self, binder, node):
        return bind_range_operator(binder, "range_adjacent", node)


for _kind in ranges.KINDS.values():
    setattr(RangeHooks, "bind_function_" + _kind.pg_name, _constructor_hook(_kind))
