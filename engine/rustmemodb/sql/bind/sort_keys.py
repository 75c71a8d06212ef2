"""What an ORDER BY key sorts by, where a type's stored form does not sort as SQL does.

Every ORDER BY the binder builds (a query's, a set operation's, a window's, an ordered
aggregate's) passes its key through ``sort_key``: an enum sorts by label position
(enum_order.py), a jsonb document by PostgreSQL's jsonb order (its ``jsonb_sortkey``
bytes: exec/functions/jsonb_order.py); any other value by itself.
"""
from __future__ import annotations

from ... import types
from ...plan.expr import Call, Expr
from . import enum_order


def sort_key(functions, e: Expr) -> Expr:
    t = e.type
    if type(t) is types.EnumType:
        return enum_order.sort_key(functions, e)
    if t == types.JSON:
        fn, ret = functions.resolve("jsonb_sortkey", [types.JSON])
        return Call("jsonb_sortkey", (e,), ret, fn)
    return e
