"""``f(..., VARIADIC array)``: an array passed as a variadic function's variadic arguments.

PostgreSQL's built-ins with a variadic parameter are ``concat``, ``concat_ws``,
``format``, ``json[b]_build_array``, ``json[b]_build_object``, ``num_nulls`` and
``num_nonnulls`` (``VARIADIC "any"``: the array's elements become the arguments) and
``json[b]_extract_path[_text]`` / ``jsonb_delete`` (``VARIADIC text[]``: the path or the
keys as one array). Here:

* an ``ARRAY[...]`` constructor is spread into its elements, each cast to the array's
  element type (as PostgreSQL passes them), and the call binds as if written so;
* the path functions take any text array: ``doc #> path``, ``doc #>> path``, ``doc - keys``;
* another array (a column, a parameter, ``'{a,b}'::text[]``) is read at run time:
  ``concat[_ws]`` of it is the ``array_to_string`` of its elements' text, ``format`` the
  helper ``format_variadic`` over that text, ``num_[non]nulls`` counts the NULL elements,
  ``json[b]_build_array`` is the array's jsonb, ``json[b]_build_object`` its helper
  ``json[b]_build_object_variadic``; a boolean array for concat/format is 0A000 (spell
  the array out as ARRAY[...]).

A VARIADIC array of NULL is NULL for all of them but ``format``, which then has no
arguments (PostgreSQL). A VARIADIC argument that is not the last is a syntax error, one
of a function without a variadic parameter 42883, one that is no array 42804.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Cast, Const, Expr
from ..parse import DIALECT, position_of
from .coerce import adapt

# function -> how many ordinary arguments come before the variadic ones
_ANY = {"concat": 0, "concat_ws": 1, "format": 1, "json_build_array": 0,
        "json_build_object": 0, "jsonb_build_array": 0, "jsonb_build_object": 0,
        "num_nulls": 0, "num_nonnulls": 0}
# (doc, VARIADIC text[]) -> (the operator's function, the document type)
_PATHS = {"json_extract_path": ("json_path", types.JSONT),
          "json_extract_path_text": ("json_path_text", types.JSONT),
          "jsonb_extract_path": ("json_path", types.JSON),
          "jsonb_extract_path_text": ("json_path_text", types.JSON),
          "jsonb_delete": ("sub", types.JSON)}
# sqlglot's names for calls it has a node for -> PostgreSQL's
_NAMES = {"json_extract": "json_extract_path", "json_extract_scalar": "json_extract_path_text"}


def has_variadic(arg_nodes: list) -> bool:
    return any(isinstance(a, exp.Variadic) for a in arg_nodes)


def bind_variadic(eb, name: str, arg_nodes: list, node) -> Expr:
    """The call ``name(arg_nodes)`` whose last argument is ``VARIADIC array``."""
    name = _NAMES.get(name, name)
    if not isinstance(arg_nodes[-1], exp.Variadic) or has_variadic(arg_nodes[:-1]):
        raise errors.syntax_error('syntax error at or near ","', position=position_of(node))
    fixed, array_node = list(arg_nodes[:-1]), arg_nodes[-1].this
    array = eb.bind(array_node)
    if name in _PATHS and isinstance(array, Const) and array.type in (
            types.TEXT, types.UNKNOWN, types.NULL):
        array = adapt(array, types.array_of(types.TEXT))     # VARIADIC '{a,b}': text[]
    leading = _ANY.get(name)
    if (leading is None and name not in _PATHS) or \
            (leading is not None and len(fixed) != leading) or \
            (name in _PATHS and len(fixed) != 1):
        shown = [eb.bind(a).type for a in fixed] + [array.type]
        raise eb.stmt.functions.not_found(name, shown)
    if not types.is_array(array.type):
        raise errors.datatype_mismatch("VARIADIC argument must be an array",
                                       position=position_of(arg_nodes[-1]))
    if name in _PATHS:
        return _path_call(eb, name, fixed[0], array, node)
    written = _constructor(array_node)
    if written is not None and written.expressions:     # (none: the run-time forms)
        element = exp.DataType.build(types.sql_name(types.element_type(array.type)),
                                     dialect=DIALECT)
        spread = [exp.Cast(this=e.copy(), to=element.copy()) for e in written.expressions]
        return eb._function(name, fixed + spread, node)
    return _array_call(eb, name, [eb.bind(a) for a in fixed], array, node)


def _constructor(node) -> exp.Array | None:
    """The one-dimensional ``ARRAY[...]`` written as the VARIADIC argument (also cast,
    ``ARRAY[1, 2]::numeric[]``), whose elements are spread; None for another array."""
    while isinstance(node, (exp.Cast, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Array) and not any(isinstance(e, exp.Array)
                                               for e in node.expressions):
        return node
    return None


def _path_call(eb, name: str, doc_node, path: Expr, node) -> Expr:
    fn, doc_type = _PATHS[name]
    if types.element_type(path.type) not in (types.TEXT, types.NULL):
        raise eb.stmt.functions.not_found(name, [eb.bind(doc_node).type, path.type])
    doc = adapt(eb.bind(doc_node), doc_type)
    if doc.type not in (doc_type, types.NULL):
        raise eb.stmt.functions.not_found(name, [doc.type, path.type])
    return eb.call(fn, [doc, path], node)


def _array_call(eb, name: str, fixed: list, array: Expr, node) -> Expr:
    element = types.element_type(array.type)
    if name in ("num_nulls", "num_nonnulls"):
        present = eb.call("cardinality", [eb.call("array_remove", [
            array, Cast(Const(None, types.NULL), element)], node)], node)
        if name == "num_nonnulls":
            return present
        return eb.call("sub", [eb.call("cardinality", [array], node), present], node)
    if name in ("json_build_array", "jsonb_build_array"):
        doc = eb.call("to_jsonb", [array], node)
        return doc if name == "jsonb_build_array" else Cast(doc, types.JSONT)
    if name in ("concat", "concat_ws", "format") and element not in (types.TEXT,
                                                                      types.BOOLEAN):
        # each element's text is its cast to text (a boolean's is not: t/f in concat)
        array, element = Cast(array, types.array_of(types.TEXT)), types.TEXT
    if name in ("json_build_object", "jsonb_build_object"):
        return eb.call(name + "_variadic", [array], node)
    if element != types.TEXT:
        raise errors.not_supported(
            f"{name}(VARIADIC {types.shown_type(array.type)}) of an array other than "
            "ARRAY[...]", hint="Write the elements as ARRAY[...].", position=position_of(node))
    if name == "concat":
        return eb.call("array_to_string", [array, Const("", types.TEXT)], node)
    if name == "concat_ws":
        return eb.call("array_to_string", [array, adapt(fixed[0], types.TEXT)], node)
    if name == "format":
        return eb.call("format_variadic", [adapt(fixed[0], types.TEXT), array], node)
