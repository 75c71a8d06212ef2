"""PostgreSQL's order for enum types: values compare and sort by label position
(pg_enum.enumsortorder), not as text.

An enum column stores its labels as TEXT (exec/typmods.py keeps them to the labels); its
type is a ``types.EnumType``, which equals TEXT and knows the labels. The binder rewrites
where order matters, so storage, indexes, hashing and every executor stay as they are:

* ``<``, ``<=``, ``>``, ``>=`` (and BETWEEN, built of them) compare positions:
  ``enum_sortkey(m)`` against the literal's position, folded to a constant;
* ``=``, ``<>``, IN, IS [NOT] DISTINCT FROM compare the text (labels are unique), so
  hash joins, GROUP BY, DISTINCT and index lookups serve enums unchanged;
* ORDER BY keys (query, set operation, window, aggregate) sort by position;
* min/max and greatest/least take the extreme position and show its label;
  coalesce/nullif of the type are of the type.

The positions come from the labels the statement was bound with, and ALTER TYPE gives
the columns new labels (a new schema, so cached plans are bound again): ADD VALUE
BEFORE/AFTER reorders existing rows too. A literal that is no label is 22P02; an enum
against another enum type or against a text expression is 42883, as in PostgreSQL.
"""
from __future__ import annotations

import dataclasses

from ... import errors, types
from ...optimize.fold_constants import fold
from ...plan.expr import AggCall, Call, Const, Expr, Param

ORDERING = frozenset({"lt", "le", "gt", "ge"})
EQUALITY = frozenset({"eq", "ne", "is_distinct", "is_not_distinct"})
_SHOWN = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
          "is_distinct": "IS DISTINCT FROM", "is_not_distinct": "IS NOT DISTINCT FROM"}
_LABELS = types.array_of(types.TEXT)


def involves_enum(args) -> bool:
    return type(args[0].type) is types.EnumType or type(args[1].type) is types.EnumType


def sort_key(functions, e: Expr) -> Expr:
    """What ``e`` sorts by: its label position when it is of an enum type, else itself."""
    t = e.type
    if type(t) is not types.EnumType:
        return e
    return _position(functions, e, t)


def _position(functions, e: Expr, t: types.EnumType) -> Expr:
    fn, ret = functions.resolve("enum_sortkey", [types.TEXT, types.TEXT, _LABELS])
    return fold(Call("enum_sortkey", (e, Const(t.enum_name, types.TEXT),
                                      Const(tuple(t.labels), _LABELS)), ret, fn))


def comparison_args(stmt, name: str, args: list, position=None) -> list:
    """The operands of comparison ``name`` where one side is of an enum type: checked as
    PostgreSQL types them, and positions for an ordering comparison."""
    functions = stmt.functions
    left, right = args
    enum = left.type if type(left.type) is types.EnumType else right.type
    out = []
    for a in args:
        t = a.type
        if type(t) is types.EnumType:
            if t.enum_name != enum.enum_name:
                raise _no_operator(name, args, position)
        elif t == types.NULL or (isinstance(a, Param) and t in (types.UNKNOWN, types.TEXT)):
            a = Param(a.slot, stmt.param_type(a.slot, types.TEXT)) if isinstance(a, Param) \
                else Const(None, enum)
        elif isinstance(a, Const) and t == types.TEXT:
            # a quoted literal is read as the enum: 22P02 when it is no label
            fn, ret = functions.resolve("enum_in", [types.TEXT, types.TEXT, _LABELS])
            a = fold(Call("enum_in", (a, Const(enum.enum_name, types.TEXT),
                                      Const(tuple(enum.labels), _LABELS)), ret, fn))
        else:
            raise _no_operator(name, args, position)
        out.append(a)
    if name in ORDERING:
        out = [_position(functions, a, enum) for a in out]
    return out


def same_type_call(binder, name: str, args: list, node):
    """coalesce / nullif / greatest / least over values of one enum type (literals and
    parameters read as it): the result is of the type, and greatest/least pick by label
    position. None when the arguments are not all of the type (bound as text then)."""
    stmt = binder.stmt
    enum = next(a.type for a in args if type(a.type) is types.EnumType)
    checked = []
    for a in args:
        t = a.type
        if type(t) is types.EnumType:
            if t.enum_name != enum.enum_name:
                return None
        elif t == types.NULL:
            a = Const(None, enum)
        elif isinstance(a, Param) and t in (types.UNKNOWN, types.TEXT):
            a = Param(a.slot, stmt.param_type(a.slot, types.TEXT))
        elif isinstance(a, Const) and t == types.TEXT:
            fn, ret = stmt.functions.resolve("enum_in", [types.TEXT, types.TEXT, _LABELS])
            a = fold(Call("enum_in", (a, Const(enum.enum_name, types.TEXT),
                                      Const(tuple(enum.labels), _LABELS)), ret, fn))
        else:
            return None
        checked.append(a)
    if name in ("greatest", "least"):
        out = binder.call(name, [_position(stmt.functions, a, enum) for a in checked], node)
        return label_at(stmt.functions, out, enum)
    out = binder.call(name, checked, node)
    return dataclasses.replace(out, type=enum) if out.type == types.TEXT else out


def _no_operator(name: str, args: list, position) -> errors.Error:
    shown = [a.type.enum_name if type(a.type) is types.EnumType else a.type.lower()
             for a in args]
    return errors.undefined_function(
        f"operator does not exist: {shown[0]} {_SHOWN.get(name, name)} {shown[1]}",
        hint="No operator matches the given name and argument types. "
             "You might need to add explicit type casts.", position=position)


def extreme(functions, agg: AggCall) -> Expr:
    """min/max of an enum: the extreme position, shown as its label."""
    arg = agg.args[0]
    t = arg.type
    inner = AggCall(agg.fn, (_position(functions, arg, t),), types.INTEGER, agg.distinct)
    return label_at(functions, inner, t)


def label_at(functions, position: Expr, t: types.EnumType) -> Expr:
    """The label of enum type ``t`` at ``position`` (an INTEGER expression)."""
    fn, _ret = functions.resolve("enum_label", [types.INTEGER, _LABELS])
    return Call("enum_label", (position, Const(tuple(t.labels), _LABELS)), t, fn)
