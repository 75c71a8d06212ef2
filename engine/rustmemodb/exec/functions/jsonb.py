"""PostgreSQL's jsonb operators that test or rewrite documents, and the array forms
behind its set-returning JSON functions.

Documents are canonical jsonb text (json.py); each function parses, works on the
Python value and writes canonical text back:

    @>  <@                    array_contains_all / array_contained_by (JSON, JSON)
    ?   ?|  ?&                jsonb_exists / jsonb_exists_any / jsonb_exists_all (a ``?``
                              after an operand is the operator, elsewhere the DB-API's
                              placeholder: sql/params.py)
    doc - 'key' | n | keys    sub (JSON, TEXT | INTEGER | TEXT[])
    doc #- '{a,0}'            jsonb_delete_path
    jsonb_set, jsonb_insert, jsonb_strip_nulls, jsonb_pretty, jsonb_extract_path[_text]
    jsonb_path_query_array / _first / _exists / _match, @? and @@ (SQL/JSON path:
                              jsonpath.py); jsonb_path_query is unnest of json_path_items

``jsonb_array_elements[_text]``, ``jsonb_object_keys`` and ``jsonb_each[_text]`` (and
their json_ twins) are unnest of the arrays ``json_elements``, ``json_elements_text``,
``json_keys``, ``json_values`` and ``json_values_text`` build (sql/bind/bind_jsonb.py).
Errors are PostgreSQL's: 22023 for the wrong kind of document, 22P02 for a bad path.
"""
from __future__ import annotations

import json as _json

from ... import errors, types
from . import jsonpath
from .array import parse_array_literal
from .registry import ScalarFunction, fixed

J, T, I, B, N = types.JSON, types.TEXT, types.INTEGER, types.BOOLEAN, types.NULL
TA, JA = types.array_of(types.TEXT), types.array_of(types.JSON)


def _parse(text: str):
    return types.load_jsonb(text)      # numbers exact (Decimal / int), as jsonb keeps them


def _doc(value) -> str:
    return types.canonical_json(value)


def _scalar_kind(v) -> str:
    return "a scalar" if not isinstance(v, (list, dict)) else (
        "an array" if isinstance(v, list) else "an object")


# ---- containment and existence -----------------------------------------------------------------

def _same_scalar(a, b) -> bool:
    """Scalar equality as jsonb compares: numbers by value (1 = 1.0), no coercion between
    strings, numbers and booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    return a == b


def _contains(a, b, top: bool = False) -> bool:
    """jsonb's ``a @> b``: objects by key (recursively), arrays by element (each of
    ``b``'s in some element of ``a``), scalars by equality; a top-level array also
    contains a scalar that is one of its elements."""
    if isinstance(a, dict):
        return isinstance(b, dict) and all(k in a and _contains(a[k], v) for k, v in b.items())
    if isinstance(a, list):
        if isinstance(b, list):
            return all(any(_contains(x, y) for x in a) for y in b)
        return top and not isinstance(b, dict) and any(
            not isinstance(x, (list, dict)) and _same_scalar(x, b) for x in a)
    return not isinstance(b, (list, dict)) and _same_scalar(a, b)


def contains(a: str, b: str) -> bool:
    return _contains(_parse(a), _parse(b), top=True)


def _has_key(v, key: str) -> bool:
    if isinstance(v, dict):
        return key in v
    if isinstance(v, list):
        return any(isinstance(x, str) and x == key for x in v)
    return isinstance(v, str) and v == key


def exists(doc: str, key: str) -> bool:
    return _has_key(_parse(doc), key)


def exists_any(doc: str, keys: list) -> bool:
    v = _parse(doc)
    return any(k is not None and _has_key(v, k) for k in keys)


def exists_all(doc: str, keys: list) -> bool:
    v = _parse(doc)
    return all(k is not None and _has_key(v, k) for k in keys)


# ---- deletion and replacement --------------------------------------------------------------------

def delete_key(doc: str, key: str) -> str:
    v = _parse(doc)
    if isinstance(v, dict):
        return _doc({k: x for k, x in v.items() if k != key})
    if isinstance(v, list):
        return _doc([x for x in v if not (isinstance(x, str) and x == key)])
    raise errors.sql_error("22023", "cannot delete from scalar")


def delete_keys(doc: str, keys: list) -> str:
    gone = {k for k in keys if k is not None}
    v = _parse(doc)
    if isinstance(v, dict):
        return _doc({k: x for k, x in v.items() if k not in gone})
    if isinstance(v, list):
        return _doc([x for x in v if not (isinstance(x, str) and x in gone)])
    raise errors.sql_error("22023", "cannot delete from scalar")


def delete_index(doc: str, index: int) -> str:
    v = _parse(doc)
    if isinstance(v, dict):
        raise errors.sql_error("22023", "cannot delete from object using integer index")
    if not isinstance(v, list):
        raise errors.sql_error("22023", "cannot delete from scalar")
    i = index + len(v) if index < 0 else index
    return _doc([x for j, x in enumerate(v) if j != i])


def _path(path) -> list[str]:
    """A text[] path, given as an array or as its text form ``'{a,0,b}'``."""
    if isinstance(path, list):
        if any(p is None for p in path):
            raise errors.sql_error("22004", "path element must not be null")
        return path
    try:
        return parse_array_literal(path, T)
    except errors.Error:
        raise errors.sql_error("22P02", f'malformed array literal: "{path}"') from None


def _position(step: str, where: int) -> int:
    """An array position written as a path element (22P02 when it is not a number)."""
    try:
        return int(step)
    except ValueError:
        raise errors.sql_error("22P02", f'path element at position {where} is not an integer: '
                               f'"{step}"') from None


def _index(step: str, size: int, where: int) -> int | None:
    i = _position(step, where)
    i = i + size if i < 0 else i
    return i if 0 <= i < size else None


def _walkable(doc: str, path, verb: str) -> tuple[list, object]:
    """(path steps, parsed document) for a function that walks a path into a document
    (22023 for a scalar, as PostgreSQL's 'cannot delete path in scalar')."""
    steps = _path(path)
    v = _parse(doc)
    if not isinstance(v, (list, dict)):
        raise errors.sql_error("22023", f"cannot {verb} path in scalar")
    return steps, v


def delete_path(doc: str, path) -> str:
    steps, v = _walkable(doc, path, "delete")
    if not steps:
        return doc

    def drop(node, depth):
        step = steps[depth]
        last = depth == len(steps) - 1
        if isinstance(node, dict):
            if step not in node:
                return node
            if last:
                return {k: x for k, x in node.items() if k != step}
            return {**node, step: drop(node[step], depth + 1)}
        if isinstance(node, list):
            i = _index(step, len(node), depth + 1)
            if i is None:
                return node
            if last:
                return node[:i] + node[i + 1:]
            return node[:i] + [drop(node[i], depth + 1)] + node[i + 1:]
        return node
    return _doc(drop(v, 0))


def _set(doc: str, path, new: str, create: bool, insert: bool = False, after: bool = False):
    steps, v = _walkable(doc, path, "set")
    value = _parse(new)
    if not steps:
        return doc

    def put(node, depth):
        step = steps[depth]
        last = depth == len(steps) - 1
        if isinstance(node, dict):
            if last:
                if insert and step in node:
                    raise errors.sql_error("22023", "cannot replace existing key",
                                           hint="Try using the function jsonb_set to replace "
                                                "key value.")
                if step in node or create or insert:
                    return {**node, step: value}
                return node
            if step in node:
                return {**node, step: put(node[step], depth + 1)}
            return node
        if isinstance(node, list):
            i = _position(step, depth + 1)
            n = len(node)
            if last:
                if insert:
                    j = i + n if i < 0 else i
                    j = min(max(j + (1 if after else 0), 0), n)
                    return node[:j] + [value] + node[j:]
                j = i + n if i < 0 else i
                if 0 <= j < n:
                    return node[:j] + [value] + node[j + 1:]
                if not create:
                    return node
                return [value] + node if j < 0 else node + [value]
            j = i + n if i < 0 else i
            if 0 <= j < n:
                return node[:j] + [put(node[j], depth + 1)] + node[j + 1:]
            return node
        return node
    return _doc(put(v, 0))


def jsonb_set(doc: str, path, new: str, create: bool = True) -> str:
    return _set(doc, path, new, create)


def jsonb_insert(doc: str, path, new: str, after: bool = False) -> str:
    return _set(doc, path, new, True, insert=True, after=after)


def object_from(keys: list, values: str) -> str:
    """jsonb_object_agg's result: the keys paired with the JSON array of the values (a
    later key wins, as in PostgreSQL's jsonb)."""
    if any(k is None for k in keys):
        raise errors.sql_error("22023", "field name must not be null")
    return _doc(dict(zip(keys, _parse(values))))


def concat(a: str, b: str) -> str:
    """jsonb ``a || b``: objects merge (the right's keys win), arrays concatenate, and a
    non-array side joins the other as an element."""
    x, y = _parse(a), _parse(b)
    if isinstance(x, dict) and isinstance(y, dict):
        return _doc({**x, **y})
    left = x if isinstance(x, list) else [x]
    right = y if isinstance(y, list) else [y]
    return _doc(left + right)


def _strip(v):
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def strip_nulls(doc: str) -> str:
    return _doc(_strip(_parse(doc)))


def _pretty(v, indent: int) -> str:
    pad, close = "    " * (indent + 1), "    " * indent
    if isinstance(v, dict):
        items = [f"{pad}{_json.dumps(k, ensure_ascii=False)}: {_pretty(x, indent + 1)}"
                 for k, x in v.items()]
        return "{\n" + "".join(i + ",\n" for i in items)[:-2] + ("\n" if items else "") + \
            close + "}"
    if isinstance(v, list):
        items = [pad + _pretty(x, indent + 1) for x in v]
        return "[\n" + "".join(i + ",\n" for i in items)[:-2] + ("\n" if items else "") + \
            close + "]"
    return _doc(v)


def pretty(doc: str) -> str:
    """jsonb_pretty: four spaces per level, as PostgreSQL prints it."""
    return _pretty(_parse(doc), 0)


def _walk(doc: str, keys: tuple) -> tuple[bool, object]:
    """(found, value) at the path ``keys`` (object keys, or array positions as text)."""
    v = _parse(doc)
    for k in keys:
        if k is None:
            return False, None
        if isinstance(v, dict) and k in v:
            v = v[k]
        elif isinstance(v, list):
            try:
                i = int(k)
            except ValueError:
                return False, None
            i = i + len(v) if i < 0 else i
            if not 0 <= i < len(v):
                return False, None
            v = v[i]
        else:
            return False, None
    return True, v


def extract_path(doc: str, *keys):
    """jsonb_extract_path: the document at the path (a JSON null is a value), or NULL."""
    found, v = _walk(doc, keys)
    return _doc(v) if found else None


def extract_path_text(doc: str, *keys):
    found, v = _walk(doc, keys)
    return _as_text(v) if found else None


# ---- arrays behind the set-returning functions ----------------------------------------------------

def _as_text(v):
    return None if v is None else v if isinstance(v, str) else _doc(v)


def _array_of(doc: str) -> list:
    v = _parse(doc)
    if not isinstance(v, list):
        raise errors.sql_error("22023", f"cannot extract elements from {_scalar_kind(v)}")
    return v


def _object_of(doc: str, fn: str) -> dict:
    """The document's top-level object, its keys in jsonb's order (as it prints)."""
    v = _parse(doc)
    if not isinstance(v, dict):
        raise errors.sql_error("22023", f"cannot call {fn} on {_scalar_kind(v)}")
    return {k: v[k] for k in sorted(v, key=types.jsonb_key_order)}


def elements(doc: str) -> list:
    return [_doc(x) for x in _array_of(doc)]


def elements_text(doc: str) -> list:
    return [_as_text(x) for x in _array_of(doc)]


def keys(doc: str) -> list:
    return list(_object_of(doc, "jsonb_object_keys"))


def values(doc: str) -> list:
    return [_doc(x) for x in _object_of(doc, "jsonb_each").values()]


def values_text(doc: str) -> list:
    return [_as_text(x) for x in _object_of(doc, "jsonb_each_text").values()]


def _text_array(ts) -> bool:
    return ts in (TA, N)


# ---- SQL/JSON path (jsonpath.py) -------------------------------------------------------------

def _path_args(doc, path, variables=None, silent=False):
    return (_parse(doc), path, _parse(variables) if variables is not None else None,
            bool(silent))


def path_items(*args) -> list:
    return [_doc(v) for v in jsonpath.query(*_path_args(*args))]


def path_query_array(*args) -> str:
    return _doc(jsonpath.query(*_path_args(*args)))


def path_query_first(*args):
    items = jsonpath.query(*_path_args(*args))
    return _doc(items[0]) if items else None


def path_exists(*args):
    doc, path, variables, silent = _path_args(*args)
    try:
        return bool(jsonpath.query(doc, path, variables, False))
    except errors.Error as exc:
        if silent and exc.sqlstate not in ("42601", "42704"):
            return None
        raise


def path_match(*args):
    return jsonpath.match(*_path_args(*args))


def _path_signature(ret):
    """(doc, path [, vars [, silent]]): the path is text (jsonpath reads as text here)."""
    return lambda ts: ret if 2 <= len(ts) <= 4 and ts[0] in (J, N) and ts[1] in (T, N) and \
        (len(ts) < 3 or ts[2] in (J, N)) and (len(ts) < 4 or ts[3] in (B, N)) else None


def register(reg) -> None:
    for name, ret, fn in (("json_path_items", JA, path_items),
                          ("jsonb_path_query_array", J, path_query_array),
                          ("jsonb_path_query_first", J, path_query_first),
                          ("jsonb_path_exists", B, path_exists),
                          ("jsonb_path_match", B, path_match)):
        reg.add(ScalarFunction(name, _path_signature(ret), None, fn))
    both = fixed((J, J, B))
    reg.add(ScalarFunction("array_contains_all", both, None, contains))
    reg.add(ScalarFunction("array_contained_by", both, None, lambda a, b: contains(b, a)))
    for name in ("jsonb_exists", "json_exists"):
        reg.add(ScalarFunction(name, fixed((J, T, B)), None, exists))
    for name, fn in (("jsonb_exists_any", exists_any), ("jsonb_exists_all", exists_all)):
        reg.add(ScalarFunction(name, lambda ts: B if len(ts) == 2 and ts[0] in (J, N) and
                               _text_array(ts[1]) else None, None, fn))
    # doc - x needs a document on the left: NULL - 1 stays arithmetic
    for right, fn in ((T, delete_key), (I, delete_index), (TA, delete_keys)):
        reg.add(ScalarFunction("sub", lambda ts, right=right: J if len(ts) == 2 and
                               ts[0] == J and ts[1] in (right, N) else None, None, fn))
    reg.add(ScalarFunction("jsonb_delete_path", fixed((J, T, J), (J, TA, J)), None, delete_path))
    reg.add(ScalarFunction("jsonb_set", fixed((J, T, J, J), (J, TA, J, J), (J, T, J, B, J),
                                              (J, TA, J, B, J)), None, jsonb_set))
    reg.add(ScalarFunction("jsonb_insert", fixed((J, T, J, J), (J, TA, J, J), (J, T, J, B, J),
                                                 (J, TA, J, B, J)), None, jsonb_insert))
    for prefix in ("json", "jsonb"):
        reg.add(ScalarFunction(f"{prefix}_strip_nulls", fixed((J, J)), None, strip_nulls))
        path_of = (lambda ret: lambda ts: ret if ts and ts[0] in (J, N) and
                   all(t in (T, N) for t in ts[1:]) else None)
        reg.add(ScalarFunction(f"{prefix}_extract_path", path_of(J), None, extract_path))
        reg.add(ScalarFunction(f"{prefix}_extract_path_text", path_of(T), None,
                               extract_path_text))
    reg.add(ScalarFunction("concat_op", lambda ts: J if len(ts) == 2 and J in ts and
                           all(t in (J, N) for t in ts) else None, None, concat))
    reg.add(ScalarFunction("jsonb_pretty", fixed((J, T)), None, pretty))
    reg.add(ScalarFunction("json_object_from", fixed((TA, J, J)), None, object_from))
    reg.add(ScalarFunction("json_elements", fixed((J, JA)), None, elements))
    reg.add(ScalarFunction("json_elements_text", fixed((J, TA)), None, elements_text))
    reg.add(ScalarFunction("json_keys", fixed((J, TA)), None, keys))
    reg.add(ScalarFunction("json_values", fixed((J, JA)), None, values))
    reg.add(ScalarFunction("json_values_text", fixed((J, TA)), None, values_text))
