"""Reading PostgreSQL's json: the operators and functions over a document kept as written.

A json value (``types.JSONT``) is the text the user wrote, validated. What PostgreSQL's
json functions hand back from inside it is the text of that part as written too:
``'{"a": {"b":1}}'::json -> 'a'`` is ``{"b":1}``, ``json_each`` keeps duplicate keys in
document order, and a repeated key read by ``->`` gives the last one. So a document is
split into its members' source text (``members``): the JSON decoder reads each member
(``raw_decode`` from its first character), and the text between where it starts and
ends is that member. Only the first level is split; a path splits level by level.

jsonb (``types.JSON``) keeps its own functions (json.py, jsonb.py); the functions here
are the json overloads of the same names, chosen by their resolvers when the document is
json. Functions whose answer does not depend on the text (``json_typeof``,
``json_array_length``) take either type (json.py).
"""
from __future__ import annotations

import json as _json
import re

from ... import errors, types
from .json import _path_keys, _vector
from .json_out import quote
from .registry import ScalarFunction

JT, T, I, N = types.JSONT, types.TEXT, types.INTEGER, types.NULL
TA, JTA = types.array_of(types.TEXT), types.array_of(types.JSONT)

_DECODE = _json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()


def _value_end(text: str, i: int) -> int:
    """Where the JSON value starting at ``i`` ends (the text is valid json)."""
    return _DECODE.raw_decode(text, i)[1]


def members(text: str) -> tuple[str, list]:
    """("object", [(key, key as written, value text)...]) / ("array", [element text...]) /
    ("scalar", [text]) for a document: its first level, each part as written."""
    i = _skip(text, 0)
    opener = text[i:i + 1]
    if opener not in ("{", "["):
        return "scalar", [text[i:_value_end(text, i)]]
    out: list = []
    i = _skip(text, i + 1)
    closer = "}" if opener == "{" else "]"
    if text[i:i + 1] == closer:
        return ("object" if opener == "{" else "array"), out
    while True:
        if opener == "{":
            key, j = _DECODE.raw_decode(text, i)
            raw_key = text[i:j]
            i = _skip(text, _skip(text, j) + 1)       # past the ':'
            j = _value_end(text, i)
            out.append((key, raw_key, text[i:j]))
        else:
            j = _value_end(text, i)
            out.append(text[i:j])
        i = _skip(text, j)
        if text[i] != ",":
            break
        i = _skip(text, i + 1)
    return ("object" if opener == "{" else "array"), out


def _kind_of(text: str) -> str:
    c = text[_skip(text, 0):][:1]
    return {"{": "an object", "[": "an array"}.get(c, "a scalar")


def _step(text: str, key, in_path: bool = False) -> str | None:
    """The member at ``key`` (an object key, or an array position: negative from the
    end), as written; None when there is none. A repeated key: its last value. A path's
    steps are text, read as positions in an array (``#>``); ``->`` takes a position only
    as an integer."""
    kind, parts = members(text)
    if kind == "object":
        if isinstance(key, int):
            return None
        found = None
        for k, _, v in parts:
            if k == key:
                found = v
        return found
    if kind == "array":
        if not isinstance(key, int):
            if not in_path:
                return None
            try:
                key = int(key)
            except ValueError:
                return None
        return parts[key] if -len(parts) <= key < len(parts) else None
    return None


def as_text(part: str | None) -> str | None:
    """``->>``'s answer for a member: a string unquoted, a JSON null NULL, else as written."""
    if part is None or part == "null":
        return None
    if part.startswith('"'):
        return _json.loads(part)
    return part


def get(doc: str, key) -> str | None:
    return _step(doc, key)


def get_text(doc: str, key) -> str | None:
    return as_text(_step(doc, key))


def _path_steps(path) -> list[str]:
    return _path_keys(path)           # '{a,0,b}' as json.py reads it for jsonb


def walk(doc: str, keys) -> str | None:
    """The member at a path of keys (array positions as text), as written."""
    part = doc
    for k in keys:
        if k is None or part is None:
            return None
        part = _step(part, k, True)
    return part


def path(doc: str, p: str) -> str | None:
    return walk(doc, _path_steps(p))


def path_text(doc: str, p: str) -> str | None:
    return as_text(walk(doc, _path_steps(p)))


def extract_path(doc: str, *keys) -> str | None:
    return walk(doc, keys)


def extract_path_text(doc: str, *keys) -> str | None:
    return as_text(walk(doc, keys))


def _elements(doc: str) -> list:
    kind, parts = members(doc)
    if kind != "array":
        raise errors.sql_error("22023", "cannot call json_array_elements on " + (
            "a scalar" if kind == "scalar" else "a non-array"))
    return parts


def _object(doc: str, fn: str) -> list:
    kind, parts = members(doc)
    if kind != "object":
        raise errors.sql_error("22023", f"cannot call {fn} on {_kind_of(doc)}")
    return parts


def elements(doc: str) -> list:
    return _elements(doc)


def elements_text(doc: str) -> list:
    return [as_text(p) for p in _elements(doc)]


def keys(doc: str) -> list:
    return [k for k, _, _ in _object(doc, "json_object_keys")]


def values(doc: str) -> list:
    return [v for _, _, v in _object(doc, "json_each")]


def values_text(doc: str) -> list:
    return [as_text(v) for _, _, v in _object(doc, "json_each_text")]


def strip_nulls(doc: str) -> str:
    """json_strip_nulls: object members whose value is null dropped, at every depth; as
    PostgreSQL writes it: no whitespace, keys and strings escaped again, numbers as
    written."""
    kind, parts = members(doc)
    if kind == "object":
        return "{" + ",".join(f"{quote(k)}:{strip_nulls(v)}" for k, _, v in parts
                              if v != "null") + "}"
    if kind == "array":
        return "[" + ",".join(strip_nulls(p) for p in parts) + "]"
    # strings are written again (escapes decoded, then PostgreSQL's escape_json); numbers,
    # true, false and null as written
    return quote(_json.loads(parts[0])) if parts[0].startswith('"') else parts[0]


def register(reg) -> None:
    def doc_then(ret, *rest):
        return lambda ts: ret if len(ts) == 1 + len(rest) and ts[0] == JT and all(
            t in (r, N) for t, r in zip(ts[1:], rest)) else None
    # the operators over a column: each distinct (document, key) read once (json.py's)
    for name, fn, ret in (("json_get", get, JT), ("json_get_text", get_text, T)):
        reg.add(ScalarFunction(name, lambda ts, ret=ret: ret if len(ts) == 2 and ts[0] == JT
                               and ts[1] in (T, I, N) else None, _vector(fn), fn))
    reg.add(ScalarFunction("json_path", doc_then(JT, T), _vector(path), path))
    reg.add(ScalarFunction("json_path_text", doc_then(T, T), _vector(path_text), path_text))
    # doc #> text[] (and json_extract_path(doc, VARIADIC text[]))
    reg.add(ScalarFunction("json_path", doc_then(JT, types.array_of(T)), _vector(path), path))
    reg.add(ScalarFunction("json_path_text", doc_then(T, types.array_of(T)), _vector(path_text),
                           path_text))
    path_of = (lambda ret: lambda ts: ret if ts and ts[0] == JT and
               all(t in (T, N) for t in ts[1:]) else None)
    reg.add(ScalarFunction("json_extract_path", path_of(JT), None, extract_path))
    reg.add(ScalarFunction("json_extract_path_text", path_of(T), None, extract_path_text))
    reg.add(ScalarFunction("json_strip_nulls", doc_then(JT), None, strip_nulls))
    for name, fn, ret in (("json_elements", elements, JTA), ("json_elements_text",
                                                              elements_text, TA),
                          ("json_keys", keys, TA), ("json_values", values, JTA),
                          ("json_values_text", values_text, TA)):
        reg.add(ScalarFunction(name, doc_then(ret), None, fn))
