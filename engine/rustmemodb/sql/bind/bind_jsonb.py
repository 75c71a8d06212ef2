"""Binding PostgreSQL's JSON syntax that sqlglot reads as something else, and the JSON
set-returning functions.

* ``f(doc -> 'a')``: inside a function's arguments sqlglot reads ``name -> expr`` as a
  lambda (DuckDB's ``x -> x + 1``). PostgreSQL has no lambdas, so a Lambda here is
  always the JSON operator: its SQL text is read again as an expression, which gives
  ``->``'s PostgreSQL precedence (``f(doc -> 'a' = '1')`` compares the extracted value).
* ``jsonb_exists(doc, 'k')``: sqlglot reads the key as a JSON path; it is a key.
* ``to_jsonb(t)``, ``row_to_json(t)``, ``json_agg(t)``: a whole row as the JSON object of
  its columns.
* ``jsonb_array_elements[_text](doc)``, ``jsonb_object_keys(doc)``, ``jsonb_each[_text]``
  (and the json_ twins) in the select list and in FROM: unnest of the arrays
  exec/functions/jsonb.py builds per document (one for elements and keys, a key array
  and a value array side by side for ``jsonb_each``), so LATERAL, WITH ORDINALITY and
  column aliases work as for ``unnest``.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ..parse import DIALECT, PATH_EXISTS_MARK, parse_one, position_of
from ...plan.expr import Call
from .bind_array import SRF_ROW, _call, bind_select_list_srf
from . import network_args
from .bind_textsearch import bind_match, is_text_search
from ...plan.internal_functions import call_node
from .whole_row import JSON_ROW, as_row_object

# function -> (per-document array functions, default column names)
TABLE_FUNCTIONS = {
    "array_elements": (("json_elements",), ("value",)),
    "array_elements_text": (("json_elements_text",), ("value",)),
    "object_keys": (("json_keys",), None),
    "each": (("json_keys", "json_values"), ("key", "value")),
    "each_text": (("json_keys", "json_values_text"), ("key", "value")),
    "path_query": (("json_path_items",), None),     # jsonb_ only; (doc, path [, vars ..])
}
# Arguments each takes (all are passed to the array function): the document alone, but
# jsonb_path_query(doc, path [, vars [, silent]]).
_ARITY = {"path_query": (2, 4)}


def _arity(name: str) -> tuple[int, int]:
    return _ARITY.get(name.split("_", 1)[1] if name.startswith("json_") else name[6:], (1, 1))


def json_table_function(name: str) -> tuple | None:
    """(array functions, column names or None) for a JSON set-returning function."""
    for prefix in ("jsonb_", "json_"):
        if name.startswith(prefix):
            return TABLE_FUNCTIONS.get(name[len(prefix):])
    return None


def bind_arrow_lambda(binder, node: exp.Lambda):
    """``f(doc -> 'a')``: the JSON operator sqlglot took for a lambda."""
    if len(node.expressions) != 1:
        raise errors.syntax_error("syntax error at or near \"->\"", position=position_of(node))
    text = node.sql(dialect=DIALECT)
    return binder.bind(parse_one("SELECT " + text).expressions[0])


def bind_row_json(binder, name: str, args: list, node):
    """to_json / to_jsonb / row_to_json, whole-row arguments included."""
    if len(args) != 1:
        raise errors.undefined_function(f"function {name} with {len(args)} arguments does not "
                                        "exist", position=position_of(node))
    if name == "to_jsonb":
        return binder.call(name, [binder.bind(as_row_object(binder, args[0]))], node)
    return binder.call("to_json", [binder.bind(as_row_object(binder, args[0], JSON_ROW))],
                       node)


def bind_json_build(binder, name: str, args: list, node):
    """json[b]_build_object / _build_array: a JSON argument is embedded as the document
    it is (``{"k": {"a": 1}}``), not as its text; such calls go to the ``*_docs`` form,
    told by a mask which arguments are documents (exec/functions/json.py)."""
    row = JSON_ROW if name.startswith("json_") else "jsonb_build_object"
    bound = network_args.json_numbers(binder, [binder.bind(as_row_object(binder, a, row))
                                               for a in args])
    mask = "".join(types.json_doc_kind(a.type) for a in bound)
    if mask.strip("-") == "":
        return binder.call(name, bound, node)
    return binder.call(name + "_docs", [binder.bind(exp.Literal.string(mask))] + bound, node)


def bind_jsonb_exists(binder, node: exp.JSONBExists):
    """``jsonb_exists(doc, 'key')`` (what ``?`` calls), which sqlglot reads as a path."""
    path = node.args.get("path")
    if not isinstance(path, exp.Expression):     # jsonb_exists(doc): no such function
        shown = types.shown_type(binder.bind(node.this).type)
        raise errors.undefined_function(
            f"function jsonb_exists({shown}) does not exist",
            hint="No function matches the given name and argument types. "
                 "You might need to add explicit type casts.", position=position_of(node))
    steps = [p for p in path.expressions if not isinstance(p, exp.JSONPathRoot)] \
        if isinstance(path, exp.JSONPath) else None
    if not steps or len(steps) != 1 or not isinstance(steps[0], exp.JSONPathKey):
        key = binder.bind(path)
    else:
        key = binder.bind(exp.Literal.string(str(steps[0].this)))
    return binder.call("jsonb_exists", [binder.bind(node.this), key], node)


def bind_select_list_json(stmt, binder, name: str, args: list, node):
    """A JSON set-returning function in the select list: one value per element (or key)."""
    arrays, names = json_table_function(name)
    low, high = _arity(name)
    if not low <= len(args) <= high:
        raise errors.undefined_function(f"function {name} with {len(args)} arguments does "
                                        "not exist", position=position_of(node))
    if len(arrays) != 1:
        # json[b]_each(_text): one record (key, value) per key, as PostgreSQL's select
        # list gives them: the arrays of keys and values zipped into records
        if binder.clause not in ("SELECT", "GROUP BY"):
            where = f" in {binder.clause}" if binder.clause else " here"
            raise errors.sql_error("0A000", f"set-returning functions are not allowed{where}",
                                   position=position_of(node))
        bound = [binder.bind(a) for a in _typed_literals(name, list(args))]
        parts = [binder.call(f, list(bound), node) for f in arrays]
        records = stmt.record_array(binder, parts, names, node)
        call = _call(stmt, "srf_unnest", [records])
        fn, ret = stmt.functions.resolve(SRF_ROW, [call.type])
        return Call(SRF_ROW, (call,), ret, fn)
    return bind_select_list_srf(stmt, binder, "srf_unnest", [call_node(
        arrays[0], _typed_literals(name, list(args)))], node)


def _typed_literals(name: str, args: list) -> list:
    """json_each('{...}'): a quoted document is json for the json_ functions (its text
    kept as written), jsonb for the jsonb_ ones (its keys in jsonb's order); the calls
    behind both share names, so the literal is cast to say which."""
    if not args:
        return args
    first = args[0]
    if isinstance(first, exp.Literal) and first.is_string:
        first = exp.Cast(this=first.copy(), to=exp.DataType.build(
            "json" if name.startswith("json_") else "jsonb"))
    return [first] + args[1:]


def json_unnest(name: str, func: exp.Anonymous, column_name: str | None,
                alias_columns: list | None = None) -> exp.Unnest:
    """``jsonb_each(doc)`` in FROM as the ``unnest(json_keys(doc), json_values(doc))`` it
    is; the caller binds it (bind_array.bind_unnest)."""
    arrays, names = json_table_function(name)
    low, high = _arity(name)
    if not low <= len(func.expressions) <= high:
        raise errors.undefined_function(f"function {name} with {len(func.expressions)} "
                                        "arguments does not exist", position=position_of(func))
    calls = [call_node(a, _typed_literals(name, [e.copy() for e in func.expressions]))
             for a in arrays]
    # a named OUT column (jsonb_array_elements' ``value``) keeps its name under a table
    # alias, as in PostgreSQL; a plain set of values is named by the alias
    names = names or ((column_name or name),)
    alias = exp.TableAlias(this=exp.to_identifier(column_name or name),
                           columns=[exp.to_identifier(n) for n in names])
    return exp.Unnest(expressions=calls, alias=alias)


def bind_path_operator(binder, node: exp.MatchAgainst):
    """``doc @@ path`` (jsonb_path_match) and ``doc @? path`` (jsonb_path_exists, read by
    sql/parse.py as ``@@`` around a marker call); text search's ``@@`` goes to
    bind_textsearch.py."""
    left, right = node.expressions[0], node.this
    name = "jsonb_path_match"
    if isinstance(right, exp.Anonymous) and right.name.lower() == PATH_EXISTS_MARK:
        name, right = "jsonb_path_exists", right.expressions[0]
    doc = binder.bind(left)
    if name == "jsonb_path_match":
        query = binder.bind(right)
        if is_text_search(doc, query):          # text search's @@ (bind_textsearch.py)
            return bind_match(binder, doc, query, node)
    if doc.type not in (types.JSON, types.NULL, types.UNKNOWN) and not (
            doc.type == types.TEXT and isinstance(left, exp.Literal)):
        raise errors.not_supported("@? on " + doc.type.lower(),
                                   hint="@? takes a jsonb document and a JSON path.",
                                   position=position_of(node))
    return binder.call(name, [doc, binder.bind(right)], node)
