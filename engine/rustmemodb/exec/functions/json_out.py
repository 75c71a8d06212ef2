"""Making PostgreSQL's json: to_json, row_to_json, json_build_*, json_agg, json_object_agg,
array_to_json, with the text PostgreSQL writes for each (it differs by function).

PostgreSQL 15, measured:

    to_json(1.5), to_json(array[1,2]) -> 1.5, [1,2]           (no spaces inside)
    row_to_json(row(1,'a'))           -> {"f1":1,"f2":"a"}    (column order)
    json_build_object('a', 1, ...)    -> {"a" : 1, "b" : [1,2]}
    json_build_array(1, 'a', null)    -> [1, "a", null]
    json_agg(x)                       -> [1, 2]; rows and arrays: [{..}, \\n {..}]
    json_object_agg(k, v)             -> { "a" : 1, "b" : 2 }
    array_to_json(a, true)            -> [1,\\n 2,\\n 3]

A json or jsonb argument is embedded as its text (json as written, jsonb in its
canonical form); the binder says which arguments are documents with a mask (one
character per argument: ``j`` a document, ``J`` an array of documents, ``-`` anything
else), as for the jsonb builders (json.py). Keys keep the order they are given in.
"""
from __future__ import annotations

import json as _json
from decimal import Decimal

from ... import errors, infinity, numeric, types
from .array import parse_array_literal
from .cast import format_float
from .json import _py
from .registry import ScalarFunction

JT, T, B, N = types.JSONT, types.TEXT, types.BOOLEAN, types.NULL
_STRING = _json.JSONEncoder(ensure_ascii=False)


def quote(s: str) -> str:
    """A JSON string as PostgreSQL's escape_json writes it."""
    return _STRING.encode(s)


def _compact(v) -> str:
    """A SQL value's json text inside to_json's output: no whitespace."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int) and not isinstance(v, infinity.Infinite):   # (a date's: _py)
        return str(int(v))
    if isinstance(v, float):       # float8out's text; NaN and infinities as strings
        text = format_float(v)
        return text if v == v and v not in (_INF, -_INF) else quote(text)
    if isinstance(v, Decimal):     # numeric_out's text (json keeps 1.50 as 1.50)
        return numeric.format(v) if v.is_finite() else quote(numeric.format(v))
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_compact(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(quote(str(k)) + ":" + _compact(x) for k, x in v.items()) + "}"
    return _compact(_py(v))


_INF = float("inf")


def text_of(v, kind: str = "-") -> str:
    """One value as json text: ``kind`` 'j' a document (as it is), 'J' an array of them."""
    if v is None:
        return "null"
    if kind == "j":
        return v
    if kind == "J":
        return "[" + ",".join("null" if x is None else x for x in v) + "]"
    return _compact(v)


def _key(k, position: int = 1) -> str:
    if k is None:        # json_build_object(NULL, ...): 22023 in PostgreSQL
        raise errors.sql_error("22023", f"argument {position} cannot be null",
                               hint="Object keys should be text.")
    return quote("true" if k is True else "false" if k is False else str(_py(k)))


def _pairs(args: tuple, mask: str) -> list[tuple[str, str]]:
    if len(args) % 2:
        raise errors.sql_error("22023", "argument list must have even number of elements",
                               hint="The arguments of json_build_object() must consist of "
                                    "alternating keys and values.")
    mask = mask or "-" * len(args)
    return [(_key(args[i], i + 1), text_of(args[i + 1], mask[i + 1]))
            for i in range(0, len(args), 2)]


def build_object_docs(mask: str, *args) -> str:
    return "{" + ", ".join(f"{k} : {v}" for k, v in _pairs(args, mask)) + "}"


def build_array_docs(mask: str, *args) -> str:
    mask = mask or "-" * len(args)
    return "[" + ", ".join(text_of(v, m) for v, m in zip(args, mask)) + "]"


def row_object_docs(mask: str, *args) -> str:
    """A row (``to_json(t)``, ``row_to_json(row(...))``): its columns in order, compact."""
    return "{" + ",".join(f"{k}:{v}" for k, v in _pairs(args, mask)) + "}"


def agg_out(values: list, kind: str, structured: bool) -> str:
    """json_agg's text: ', ' between elements, and before each non-NULL row or array
    after the first a line break and a space, as PostgreSQL's json_agg_transfn."""
    out = []
    for i, v in enumerate(values):
        text = text_of(v, kind)
        if structured and i > 0 and v is not None:
            text = "\n " + text
        out.append(text)
    return "[" + ", ".join(out) + "]"


def object_agg_out(keys: list, values: list) -> str:
    """json_object_agg's text: ``{ "k" : v, ... }`` (values already json, NULL is null)."""
    if any(k is None for k in keys):
        raise errors.sql_error("22023", "field name must not be null")
    return "{ " + ", ".join(f"{quote(k)} : {'null' if v is None else v}"
                            for k, v in zip(keys, values)) + " }"


def array_pretty(values: list, kind: str, pretty: bool) -> str:
    """array_to_json(a, pretty): with pretty, a line break and a space after each
    top-level comma."""
    return "[" + (",\n " if pretty else ",").join(text_of(x, kind) for x in values) + "]"


def json_object(keys, values=None) -> str:
    """PostgreSQL's ``json_object(text[])`` (keys and values alternating) and
    ``json_object(keys text[], values text[])``: values are strings (NULL is null)."""
    keys, values = _text_array(keys), None if values is None else _text_array(values)
    if values is None:
        if len(keys) % 2:
            raise errors.sql_error("2202E", "array must have even number of elements")
        keys, values = keys[::2], keys[1::2]
    elif len(keys) != len(values):
        raise errors.sql_error("2202E", "mismatched array dimensions")
    if any(k is None for k in keys):
        raise errors.sql_error("22004", "null value not allowed for object key")
    return "{" + ", ".join(f"{quote(k)} : {'null' if v is None else quote(v)}"
                           for k, v in zip(keys, values)) + "}"


def _text_array(v) -> list:
    return parse_array_literal(v, T) if isinstance(v, str) else list(v)


def _array_resolver(docs: bool):
    return lambda ts: JT if len(ts) == 2 and types.is_array(ts[0]) and (
        types.json_doc_kind(types.element_type(ts[0])) == "j") == docs else None


def register(reg) -> None:
    for name, fn in (("json_build_object_docs", build_object_docs),
                     ("json_build_array_docs", build_array_docs),
                     ("json_row_object_docs", row_object_docs)):
        reg.add(ScalarFunction(name, lambda ts: JT, None, fn, strict=False))
    for name, fn in (("json_build_object", build_object_docs),
                     ("json_build_array", build_array_docs),
                     ("json_row_object", row_object_docs)):
        reg.add(ScalarFunction(name, lambda ts: JT, None,
                               lambda *a, fn=fn: fn("", *a), strict=False))
    # to_json: a document stays its text (jsonb's canonical one), an array of documents
    # nests them, anything else is written as PostgreSQL's to_json writes it
    reg.add(ScalarFunction("to_json", lambda ts: JT if len(ts) == 1 else None, None,
                           text_of))
    for kind in ("j", "J"):
        reg.add(ScalarFunction("to_json", lambda ts, kind=kind: JT if len(ts) == 1 and
                               types.json_doc_kind(ts[0]) == kind else None, None,
                               lambda v, kind=kind: text_of(v, kind)))
    for docs in (False, True):     # arrays of values / of json or jsonb documents
        kind = "j" if docs else "-"
        reg.add(ScalarFunction("json_agg_out", _array_resolver(docs), None,
                               lambda vs, s, kind=kind: agg_out(vs, kind, bool(s))))
        reg.add(ScalarFunction("json_array_pretty", _array_resolver(docs), None,
                               lambda vs, p, kind=kind: array_pretty(vs, kind, bool(p))))
    # json_build_object(VARIADIC text[]) of an array known at run time (bind_variadic.py)
    reg.add(ScalarFunction("json_build_object_variadic", lambda ts: JT if len(ts) == 1 and
                           (types.is_array(ts[0]) or ts[0] == N) else None, None,
                           lambda arr: build_object_docs("", *arr)))
    text_array = (T, types.array_of(T), N)
    reg.add(ScalarFunction("pg_json_object", lambda ts: JT if 1 <= len(ts) <= 2 and all(
        t in text_array for t in ts) else None, None, json_object))
    reg.add(ScalarFunction("json_object_agg_out", lambda ts: JT if len(ts) == 2 else None,
                           None, object_agg_out))
