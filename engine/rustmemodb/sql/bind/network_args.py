"""Network address and money values handed to functions that print their arguments.

inet/cidr/macaddr values are stored as order-preserving keys (netaddr.py) and money as
cents (money.py), so a function that prints whatever it is given (format, concat,
quote_literal, to_json, a record's text ...) must be handed their text. PostgreSQL
prints such arguments with the type's output function (``format('%s', inet '1.2.3.4')``
is ``1.2.3.4``; an array's elements too, as json_agg's), but ``text || inet`` casts to
text first (``x1.2.3.4/32``, anytextcat); both are written here as calls the executor
runs (``value_out``: exec/functions/network.py).
"""
from __future__ import annotations

from ... import types
from ...plan.expr import Cast

# functions that print an argument of any type with its output function
PRINTING = frozenset({"format", "concat", "concat_ws", "quote_literal", "quote_nullable",
                      "to_json", "to_jsonb", "json_build_object", "jsonb_build_object",
                      "json_build_array", "jsonb_build_array", "record_out", "row",
                      # json's own writers (exec/functions/json_out.py)
                      "json_agg_out", "json_row_object", "json_array_pretty",
                      "json_object_agg_out", "array_to_json"})
# the types whose stored form is not what they print as
PRINTED = frozenset(types.NETWORK_TYPES + (types.MONEY, types.TIMETZ,   # timetz: keys
                                           types.NUMERIC))                 # numeric: keys
# JSON writers print a numeric as the JSON number it is (``1.50`` stays 1.50, NaN is the
# string "NaN"): handed the jsonb document of it (numeric_jsonb, exec/functions/json.py),
# which each writer embeds as a document
_JSON_WRITERS = frozenset({"to_json", "to_jsonb", "json_build_object", "jsonb_build_object",
                           "json_build_array", "jsonb_build_array", "json_agg_out",
                           "json_row_object", "json_array_pretty", "json_object_agg_out",
                           "array_to_json"})
_ARRAYS = frozenset(t + "[]" for t in PRINTED)


def involved(args: list) -> bool:
    return any(a.type in PRINTED or a.type in _ARRAYS for a in args)


def json_numbers(binder, args: list) -> list:
    """``args`` with each numeric (or numeric[]) as the jsonb document (or documents) of
    its number, for a JSON writer."""
    return [binder.call("numeric_jsonb", [a]) if a.type in _NUMBERS else a for a in args]


_NUMBERS = (types.NUMERIC, types.array_of(types.NUMERIC))


def printed(binder, name: str, args: list) -> list:
    """``args`` with each network-typed argument of ``name`` as the text it prints as."""
    if name == "concat_op":
        return [Cast(a, types.TEXT) if a.type in PRINTED else a for a in args]
    if name in _JSON_WRITERS:
        args = json_numbers(binder, args)
    return [binder.call("value_out", [a]) if a.type in PRINTED or a.type in _ARRAYS else a
            for a in args]
