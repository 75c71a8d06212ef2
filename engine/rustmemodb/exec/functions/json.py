"""JSON operators and functions over JSON stored as canonical text.

A JSON column holds validated jsonb-style text (``types.canonical_json``).
Arrow has no JSON kernels, so the operators parse each distinct document once
per call (a dict cache over the column's values) and walk the path in Python:

    json_get(doc, key|index)        ->     JSON (a JSON null stays a value)
    json_get_text(doc, key|index)   ->>    TEXT (strings unquoted; JSON null -> NULL)
    json_path(doc, '{a,0,b}')       #>     JSON
    json_path_text(doc, '{a,0,b}')  #>>    TEXT

A key applied to an array, an index applied to an object, a missing key and an
out-of-range index all give NULL, as in PostgreSQL. Also: json[b]_typeof,
json[b]_array_length, json[b]_build_object / _build_array, to_json[b].
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ...lazy_import import arrow as pa

from ... import errors, infinity, numeric, statement_limits, types
from .cast import format_float
from .registry import ScalarFunction

J, T, I, N = types.JSON, types.TEXT, types.INTEGER, types.NULL


def _parse(text):
    return types.load_jsonb(text)      # numbers exact: Decimal / int


def _step(value, key):
    if isinstance(key, int):
        if isinstance(value, list):
            if -len(value) <= key < len(value):
                return True, value[key]
        return False, None
    if isinstance(value, dict) and key in value:
        return True, value[key]
    if isinstance(value, list) and isinstance(key, str):
        return False, None
    return False, None


def _as_json(found, v):
    return types.canonical_json(v) if found else None


def _as_text(found, v):
    if not found or v is None:
        return None
    if isinstance(v, str):
        return v
    return types.canonical_json(v)


def _path_keys(path):
    if isinstance(path, (list, tuple)):    # doc #> text[] (also json_extract_path(VARIADIC))
        return list(path)
    p = path.strip()
    if not (p.startswith("{") and p.endswith("}")):
        raise errors.sql_error("22P02", f'malformed array literal: "{path}"')
    inner = p[1:-1].strip()
    return [k.strip().strip('"') for k in inner.split(",")] if inner else []


def _walk(doc, keys):
    value, found = doc, True
    for k in keys:
        if isinstance(value, list):
            try:
                k = int(k)
            except (TypeError, ValueError):
                return False, None
        elif isinstance(k, int) and not isinstance(value, list):
            k = str(k)
        found, value = _step(value, k)
        if not found:
            return False, None
    return found, value


def _get_row(as_text: bool):
    out = _as_text if as_text else _as_json

    def row(doc, key):
        v = _parse(doc)
        if isinstance(key, int) and not isinstance(v, (list, dict)):
            v = [v]     # a top-level scalar is a one-element array to -> n (PostgreSQL's)
        return out(*_step(v, key))
    return row


def _path_row(as_text: bool):
    out = _as_text if as_text else _as_json

    def row(doc, path):
        return out(*_walk(_parse(doc), _path_keys(path)))
    return row


def _vector(row):
    """Map ``row`` over a column, parsing each distinct document once."""
    def vec(doc, arg):
        if isinstance(doc, pa.Scalar) and isinstance(arg, pa.Scalar):
            d, a = doc.as_py(), arg.as_py()
            return pa.scalar(None if d is None or a is None else row(d, a), pa.large_string())
        docs = infinity.pylist(doc) if not isinstance(doc, pa.Scalar) else None
        args = infinity.pylist(arg) if not isinstance(arg, pa.Scalar) else None
        n = len(docs) if docs is not None else len(args)
        if docs is None:
            docs = [doc.as_py()] * n
        if args is None:
            args = [arg.as_py()] * n
        cache: dict = {}
        out = []
        for d, a in zip(docs, args):
            if d is None or a is None:
                out.append(None)
                continue
            key = (d, tuple(a) if isinstance(a, list) else a)
            v = cache.get(key, cache)
            if v is cache:
                v = cache[key] = row(d, a)
            out.append(v)
        return pa.array(out, pa.large_string())
    return vec


def _get_resolve(ret):
    return lambda ts: ret if len(ts) == 2 and ts[0] in (J, N) and ts[1] in (T, I, N) else None


def _path_resolve(ret):
    return lambda ts: ret if len(ts) == 2 and ts[0] in (J, N) and \
        ts[1] in (T, N, types.array_of(T)) else None


def _typeof(doc):
    v = _parse(doc)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, Decimal)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def _array_length(doc):
    v = _parse(doc)
    if not isinstance(v, list):
        raise errors.sql_error("22023", "cannot get array length of a non-array")
    return len(v)


def _py(v):
    """A SQL value as a JSON-able Python value, as PostgreSQL's to_json writes it: dates
    and timestamps in ISO 8601, NaN and infinities as strings, arrays element by element."""
    if isinstance(v, infinity.Infinite):
        return str(v)                # '"infinity"', as PostgreSQL's to_json
    if v is None or isinstance(v, (dict, str, bool, int)):
        return v
    if isinstance(v, float):      # jsonb's number: numeric_in of float8out's text
        return numeric.of_float8(v) if v == v and v not in (_INF, -_INF) else format_float(v)
    if isinstance(v, Decimal):
        return v if v.is_finite() else numeric.format(v)
    if isinstance(v, (list, tuple)):
        return [_py(x) for x in v]
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        # a timestamptz in the session's zone, with its offset (PostgreSQL's to_json)
        return v.astimezone(statement_limits.zone()).isoformat()
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


_INF = float("inf")


def _to_json_documents(values):
    """to_json of a JSON[] value: its elements are documents, not strings."""
    return types.canonical_json([None if v is None else _parse(v) for v in values])


def _build_object(*args):
    if len(args) % 2:
        raise errors.sql_error("22023", "argument list must have even number of elements",
                               hint="The arguments of json_build_object() must consist of "
                                    "alternating keys and values.")
    out = {}
    for i, (k, v) in enumerate(zip(args[::2], args[1::2])):
        if k is None:
            raise errors.sql_error("22023", f"argument {2 * i + 1}: key must not be null")
        out[str(_py(k)) if not isinstance(k, bool) else ("true" if k else "false")] = _py(v)
    return types.canonical_json(out)


def _build_array(*args):
    return types.canonical_json([_py(v) for v in args])


# json[b]_build_object / _build_array with document arguments: the binder calls these
# ``*_docs`` forms with a mask first ("j" marks a JSON argument, "-" any other), since a
# document arrives as its text and would otherwise be embedded as a string.
def _documents(mask: str, args: tuple) -> list:
    """The arguments with documents parsed ("J": an array of documents, each parsed)."""
    return [v if v is None else _parse(v) if m == "j" else
            [None if d is None else _parse(d) for d in v] if m == "J" else v
            for m, v in zip(mask, args)]


def _build_object_docs(mask, *args):
    return _build_object(*_documents(mask, args))


def _build_array_docs(mask, *args):
    return _build_array(*_documents(mask, args))


def _to_json(v):
    return types.canonical_json(_py(v))


def number_doc(key) -> str:
    """A numeric (storage key or Decimal) as the jsonb document of it: the number at its
    scale; NaN and the infinities as strings, as PostgreSQL's to_jsonb writes them."""
    d = numeric.decode(key)
    text = numeric.format(d)
    return text if d.is_finite() else '"' + text + '"'


def register(reg) -> None:
    # a numeric handed to a JSON writer (sql/bind/network_args.py json_numbers)
    na = types.array_of(types.NUMERIC)
    reg.add(ScalarFunction("numeric_jsonb", lambda ts: J if ts == [types.NUMERIC] else
                           types.array_of(J) if ts == [na] else None, None,
                           lambda v: [None if x is None else number_doc(x) for x in v]
                           if isinstance(v, list) else number_doc(v)))
    for name, as_text in (("json_get", False), ("json_get_text", True)):
        row = _get_row(as_text)
        reg.add(ScalarFunction(name, _get_resolve(T if as_text else J), _vector(row), row))
    for name, as_text in (("json_path", False), ("json_path_text", True)):
        row = _path_row(as_text)
        reg.add(ScalarFunction(name, _path_resolve(T if as_text else J), _vector(row), row))
    # json or jsonb alike (the answer does not depend on how the document is written)
    for prefix in ("json", "jsonb"):
        reg.add(ScalarFunction(f"{prefix}_typeof", lambda ts: T if len(ts) == 1 and (
            types.is_json(ts[0]) or ts[0] == N) else None, None, _typeof))
        reg.add(ScalarFunction(f"{prefix}_array_length", lambda ts: I if len(ts) == 1 and (
            types.is_json(ts[0]) or ts[0] == N) else None, None, _array_length))
    # jsonb_build_object(VARIADIC text[]) of an array known at run time (bind_variadic.py)
    reg.add(ScalarFunction("jsonb_build_object_variadic", lambda ts: J if len(ts) == 1 and
                           (types.is_array(ts[0]) or ts[0] == N) else None, None,
                           lambda arr: _build_object(*arr)))
    # jsonb's builders; json's are json_out.py's (PostgreSQL writes json differently)
    for prefix in ("jsonb",):
        reg.add(ScalarFunction(f"{prefix}_build_object", lambda ts: J, None, _build_object,
                               strict=False))
        reg.add(ScalarFunction(f"{prefix}_build_array", lambda ts: J, None, _build_array,
                               strict=False))
        reg.add(ScalarFunction(f"{prefix}_build_object_docs", lambda ts: J, None,
                               _build_object_docs, strict=False))
        reg.add(ScalarFunction(f"{prefix}_build_array_docs", lambda ts: J, None,
                               _build_array_docs, strict=False))
        reg.add(ScalarFunction(f"to_{prefix}", lambda ts: J if len(ts) == 1 else None, None,
                               _to_json))
        # added last, tried first: a document stays itself, an array of them nests them
        reg.add(ScalarFunction(f"to_{prefix}", lambda ts: J if ts == [J] else None, None,
                               lambda doc: doc))
        reg.add(ScalarFunction(f"to_{prefix}", lambda ts: J if ts == ["JSON[]"] else None,
                               None, _to_json_documents))
        reg.add(ScalarFunction(f"to_{prefix}", lambda ts: J if ts == [types.JSONT] else None,
                               None, types.parse_json))
        reg.add(ScalarFunction(f"to_{prefix}", lambda ts: J if ts == ["JSONT[]"] else None,
                               None, _to_json_documents))
