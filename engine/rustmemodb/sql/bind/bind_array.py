"""Binding array syntax: ``ARRAY[...]``, ``a[i]``, ``a[lo:hi]``, ``x op ANY/ALL (array)``,
``array_agg(x [ORDER BY ...])`` and ``unnest(...)`` in FROM.

Array types are named ``X[]`` (``types.array_of``); values are Arrow lists
(exec/functions/array.py holds the bodies). Typing follows PostgreSQL where it
is strict anyway: the elements of ``ARRAY[...]`` take one common type (INTEGER
widens to FLOAT), a subscript must be an INTEGER, the element type of ``x = ANY
(arr)`` must match ``x`` (numbers widen; a quoted literal right of ANY is read as
an array of x's type). sqlglot has already moved a literal subscript to 0-based
(``a[1]`` arrives as 0), so a literal is shifted back; an expression is not.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import AggCall, Call, Cast, Const, Expr, Param, SubqueryExpr
from ...plan.logical import LogicalTableFunction
from ..parse import position_of
from . import bpchar
from .coerce import adapt, common_type
from .scope import Scope
from .bind_subquery import bind_subquery_plan
from ...optimize.fold_constants import fold
from .bind_aggregate_ext import _arg_binder, _check_allowed, ordered_arg, ordered_body
from .bind_expr import ExprBinder
from ...exec.functions.array import parse_array_literal, series_type

_OPS = {exp.EQ: "eq", exp.NEQ: "ne", exp.LT: "lt", exp.LTE: "le", exp.GT: "gt", exp.GTE: "ge",
        exp.Like: "like", exp.ILike: "ilike"}
_OP_TEXT = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "like": "~~",
            "ilike": "~~*", "not_like": "!~~", "not_ilike": "!~~*"}


def bind_array_constructor(stmt, binder, arg_nodes, node) -> Expr:
    if len(arg_nodes) == 1 and isinstance(arg_nodes[0], (exp.Select, exp.Subquery, exp.Union,
                                                          exp.Intersect, exp.Except)):
        return _array_subquery(stmt, binder, arg_nodes[0], node)
    args = [binder.bind(a) for a in arg_nodes]
    if any(types.is_array(a.type) for a in args):
        raise errors.not_supported("multidimensional arrays", position=position_of(node))
    target = common_type(args, "ARRAY")
    if target in (types.NULL, types.UNKNOWN):
        target = types.TEXT
    if target == types.INTERVAL:
        raise errors.not_supported("arrays of INTERVAL", position=position_of(node))
    args = [_to(a, target) for a in args]
    if all(isinstance(a, Const) for a in args):
        return Const([a.value for a in args], types.array_of(target))
    return _call(stmt, "array_make", args)


def _array_subquery(stmt, binder, query, node) -> Expr:
    """``ARRAY(SELECT x ...)``: the subquery's one column as an array ('{}' for no rows)."""
    body = query.this if isinstance(query, exp.Subquery) else query
    plan, correlated = bind_subquery_plan(stmt, binder, body)
    if len(plan.columns) != 1:
        raise errors.sql_error("42601", "subquery must return only one column",
                               position=position_of(node))
    element = plan.columns[0][1]
    if types.is_array(element):
        raise errors.not_supported("multidimensional arrays", position=position_of(node))
    element = types.TEXT if element == types.NULL else element
    return SubqueryExpr("array", plan, types.array_of(element), correlated=correlated)


def _to(e: Expr, target: str) -> Expr:
    e = adapt(e, target)
    if e.type != target and types.is_numeric(e.type) and types.is_numeric(target):
        return fold(Cast(e, target))
    return e


def _call(stmt, name: str, args: list) -> Expr:
    """A call typed by the registry without the pairwise literal adaptation of
    ``ExprBinder.call`` (which would turn a NULL beside an array into an array)."""
    fn, ret = stmt.functions.resolve(name, [a.type for a in args])
    return fold(Call(name, tuple(args), ret, fn))


def bind_subscript(stmt, binder, node: exp.Bracket) -> Expr:
    base = binder.bind(node.this)
    vector = isinstance(node.this, exp.Column) and node.this.name.lower() in ZERO_BASED_VECTORS
    if vector and base.type == types.TEXT and len(node.expressions) == 1 and \
            not isinstance(node.expressions[0], exp.Slice):
        # indoption, int2vector text: its n-th number, from 0
        return _call(stmt, "rustmemodb_vector_element",
                     [base, _vector_index(binder, node.expressions[0])])
    if base.type == types.TEXT and len(node.expressions) == 1:     # DuckDB's 'text'[2:3]
        sub = node.expressions[0]
        if isinstance(sub, exp.Slice):
            return _call(stmt, "text_slice", [base, _index(binder, sub.this, shifted=False),
                                              _index(binder, sub.expression, shifted=False)])
        return _call(stmt, "text_element", [base, _text_index(binder, sub, node.this)])
    if not types.is_array(base.type):
        if base.type == types.JSON:
            raise errors.not_supported("JSON subscripts", hint="Use -> or ->>.")
        raise errors.datatype_mismatch(f"cannot subscript type {base.type.lower()} because it "
                                       "does not support subscripting",
                                       position=position_of(node))
    if len(node.expressions) != 1:
        raise errors.not_supported("multidimensional subscripts", position=position_of(node))
    sub = node.expressions[0]
    if isinstance(sub, exp.Slice):
        lo = _index(binder, sub.this, shifted=False)
        hi = _index(binder, sub.expression, shifted=False)
        return _call(stmt, "array_slice", [base, lo, hi])
    if vector:
        # pg_index's int2vector/oidvector columns count from 0 in PostgreSQL (pgjdbc's
        # getIndexInfo reads ``indoption[n - 1]``); INTEGER[] here counts from 1
        index = _vector_index(binder, sub)
        return _call(stmt, "array_element",
                     [base, _call(stmt, "add", [index, Const(1, types.INTEGER)])])
    return _call(stmt, "array_element", [base, _index(binder, sub, shifted=_moved(node.this))])


def _moved(base_node) -> bool:
    """Whether sqlglot moved a literal subscript of ``base_node`` to 0-based: only where
    its own typing of the subscripted value says array or cannot tell (``(a || b)[1]``
    is typed text by sqlglot, so its 1 arrives as written)."""
    kind = base_node.type.this if base_node.type is not None else None
    return kind is None or kind in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.ARRAY)


def _vector_index(binder, sub) -> Expr:
    """The 0-based index of a subscript of a vector column, as written."""
    literal = sub.this if isinstance(sub, exp.Neg) else sub
    if isinstance(literal, exp.Literal) and not literal.is_string:
        # sqlglot moved a literal index down by one (``[0]`` arrives as ``-1``)
        value = -int(literal.this) if isinstance(sub, exp.Neg) else int(literal.this)
        return Const(value + 1, types.INTEGER)
    return _index(binder, sub, shifted=False)


# pg_index's int2vector/oidvector columns (INTEGER[] here: catalog/pg_catalog.py), known
# by name: the type does not say it. ``i_indoption`` is the name pgjdbc's getIndexInfo
# gives indoption in its subquery before reading ``tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1]``.
ZERO_BASED_VECTORS = frozenset({"indkey", "indclass", "indcollation", "indoption",
                                "i_indoption"})


def _text_index(binder, node, base_node) -> Expr:
    """The index of ``text[i]``. sqlglot moves a literal index to 0-based when it cannot
    tell the subscripted value is a string (a column: ``h[1]`` arrives as 0, ``h[-1]`` as
    -2), and leaves it when it can (``'hello'[1]``): the literal is put back."""
    moved = _moved(base_node)
    if moved and isinstance(node, exp.Literal) and not node.is_string:
        return Const(int(node.this) + 1, types.INTEGER)
    if moved and isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) \
            and not node.this.is_string:
        return Const(1 - int(node.this.this), types.INTEGER)
    return _index(binder, node, shifted=False)


def _index(binder, node, shifted: bool) -> Expr:
    if node is None:
        return Const(None, types.INTEGER)
    if shifted and isinstance(node, exp.Literal) and not node.is_string:
        return Const(int(node.this) + 1, types.INTEGER)
    e = adapt(binder.bind(node), types.INTEGER)
    if e.type not in (types.INTEGER, types.NULL):
        raise errors.datatype_mismatch(f"array subscript must have type integer, not "
                                       f"{e.type.lower()}", position=position_of(node))
    return e if e.type == types.INTEGER else Const(None, types.INTEGER)


def bind_array_quantified(stmt, binder, node: exp.Binary, quant: str, inner) -> Expr:
    """``x op ANY (array)`` / ``x op ALL (array)``."""
    op = _OPS.get(type(node))
    if op is None:
        raise errors.not_supported(f"{type(node).__name__} with ANY/ALL")
    if node.args.get("negate"):       # x NOT LIKE ALL (arr): NOT LIKE applied per element
        op = "not_" + op
    arg = binder.bind(node.this)
    arr = binder.bind(inner)
    if isinstance(arr, Param) and arr.type in (types.UNKNOWN, types.NULL) and \
            arg.type not in (types.UNKNOWN, types.NULL):      # x = ANY(?) with a Python list
        arr = Param(arr.slot, stmt.param_type(arr.slot, types.array_of(arg.type)))
    if isinstance(arr, Const) and arr.type == types.TEXT and arr.value is not None:
        element = arg.type if arg.type not in (types.NULL, types.UNKNOWN) else types.TEXT
        arr = Const(parse_array_literal(arr.value, element), types.array_of(element))
    if arr.type == types.NULL:
        arr = Const(None, types.array_of(arg.type if arg.type != types.NULL else types.TEXT))
    if not types.is_array(arr.type):
        raise errors.sql_error("42809", "op ANY/ALL (array) requires array on right side",
                               position=position_of(node))
    element = types.element_type(arr.type)
    if arg.type != element:
        if types.is_numeric(arg.type) and types.is_numeric(element):
            wide = types.wider_number((arg.type, element))
            if arg.type != wide:
                arg = _to(arg, wide)
            if element != wide:
                arr = Cast(arr, types.array_of(wide))
        else:
            arg = adapt(arg, element)
            if arg.type not in (element, types.NULL, types.UNKNOWN):
                raise errors.undefined_function(
                    f"operator does not exist: {arg.type.lower()} {_OP_TEXT[op]} "
                    f"{element.lower()}", position=position_of(node),
                    hint="No operator matches the given name and argument types. "
                         "You might need to add explicit type casts.")
            if arg.type in (types.NULL, types.UNKNOWN):
                arg = Const(None, element) if isinstance(arg, Const) else arg
    if types.is_bpchar(arg.type) and op in ("eq", "ne", "lt", "le", "gt", "ge"):
        # char(n) against text elements: text's comparison, the char's blanks cut
        arg = fold(bpchar.trimmed(stmt.functions, arg))
    return _call(stmt, f"{quant}_{op}_array", [arg, arr])


def bind_array_agg(stmt, binder, node: exp.ArrayAgg) -> AggCall:
    """``array_agg([DISTINCT] x [ORDER BY ...])``: NULL inputs are kept, as PostgreSQL."""
    _check_allowed(binder, node)
    inner = _arg_binder(stmt, binder)
    body, order, distinct = ordered_body(node)
    value = inner.bind(body)
    if value.type == types.NULL:
        value = Const(None, types.TEXT)
    if types.is_array(value.type):
        raise errors.not_supported("array_agg of arrays (multidimensional arrays)",
                                   position=position_of(node))
    arg, keys = ordered_arg(inner, value, order, distinct)
    # DISTINCT rides in ``extra``: the generic DISTINCT would drop NULLs, array_agg keeps one.
    return AggCall("array_agg", (arg,), types.array_of(value.type), False,
                   order_by=tuple(keys), extra=(value.type, distinct))


SRF_FUNCTIONS = ("srf_unnest", "srf_generate_series", "srf_regexp_matches")
SRF_ROW = "srf_row"


def settle_series_args(args: list) -> tuple[str | None, list]:
    """generate_series' element type, and its arguments with quoted literals read as
    that type (the bounds) or as an interval (the step)."""
    untyped = [isinstance(a, Const) and a.type == types.TEXT and a.value is not None
               for a in args]
    element = series_type([a.type for a in args], untyped)
    if element is None or element == types.INTEGER:
        return element, args
    return element, [adapt(a, element if i < 2 else types.INTERVAL) if untyped[i] else a
                     for i, a in enumerate(args)]


def bind_select_list_srf(stmt, binder, name: str, arg_nodes, node) -> Expr:
    """``unnest(arr)`` / ``generate_series(a, b)`` / ``regexp_matches(s, p [, flags])`` in
    the select list: a call computing the row's array of results, wrapped in ``srf_row``
    typed as one result, so that an enclosing expression (``(regexp_matches(s, p))[1]``)
    binds against a single value; bind_select._project_set lifts the call into a
    ``LogicalProjectSet`` and puts the expanded column in the wrapper's place."""
    if binder.clause not in ("SELECT", "GROUP BY"):    # (GROUP BY: expanded below the groups)
        where = f" in {binder.clause}" if binder.clause else " here"
        raise errors.sql_error("0A000", f"set-returning functions are not allowed{where}",
                               position=position_of(node))
    args = [binder.bind(a) for a in arg_nodes]
    if name == "srf_unnest" and (len(args) != 1 or not types.is_array(args[0].type)):
        shown = ", ".join(a.type.lower() for a in args)
        raise errors.undefined_function(f"function unnest({shown}) does not exist",
                                        position=position_of(node),
                                        hint="In the select list unnest takes one array.")
    if name == "srf_generate_series":
        element, settled = settle_series_args(args)
        args = settled if element not in (None, types.INTEGER) else \
            [adapt(a, types.INTEGER) for a in args]
    elif name == "srf_regexp_matches":
        args = [adapt(a, types.TEXT) for a in args]
    call = _call(stmt, name, args)
    fn, ret = stmt.functions.resolve(SRF_ROW, [call.type])
    return Call(SRF_ROW, (call,), ret, fn)


def bind_unnest(stmt, item: exp.Unnest, parent: Scope | None, alias_node=None,
                ordinality=None):
    """``unnest(a [, b ...]) [WITH ORDINALITY] [AS t (x [, y ...] [, n])]`` in FROM."""
    binder = ExprBinder(stmt, Scope(parent=parent), clause="FROM")
    args = [binder.bind(a) for a in item.expressions]
    if len(args) == 1 and args[0].type == types.TSVECTOR:
        return _unnest_tsvector(args, item, parent, alias_node, ordinality)
    for a, node in zip(args, item.expressions):
        if not types.is_array(a.type):
            raise errors.undefined_function(f"function unnest({a.type.lower()}) does not exist",
                                            position=position_of(node),
                                            hint="unnest takes arrays; CAST a literal to one.")
    alias_node = alias_node if alias_node is not None else item.args.get("alias")
    offset = ordinality if ordinality is not None else item.args.get("offset")
    alias = alias_node.name if alias_node is not None and alias_node.name else None
    given = [c.name for c in alias_node.columns] if alias_node is not None else []
    if len(args) == 1 and not given and alias:
        given = [alias]
    names = given + ["unnest"] * (len(args) - len(given))
    columns = [(n, types.element_type(a.type)) for n, a in zip(names, args)]
    with_ordinality = bool(offset)
    if with_ordinality:
        if isinstance(offset, exp.Identifier):
            name = offset.name
        elif len(given) > len(args):
            name = given[len(args)]
        else:
            name = "ordinality"
        columns.append((name, types.INTEGER))
    plan = LogicalTableFunction(columns, "unnest", args, with_ordinality)
    scope = Scope(parent=parent)
    for n, t in columns:
        scope.add(alias or "unnest", n, t)
    return plan, scope


def _unnest_tsvector(args, item, parent, alias_node, ordinality):
    """``unnest(tsvector)`` in FROM: one row per lexeme (lexeme, positions, weights), as
    PostgreSQL's; positions and weights are NULL for a lexeme stored without them."""
    alias_node = alias_node if alias_node is not None else item.args.get("alias")
    alias = alias_node.name if alias_node is not None and alias_node.name else None
    given = [c.name for c in alias_node.columns] if alias_node is not None else []
    names = given + ["lexeme", "positions", "weights"][len(given):]
    columns = list(zip(names[:3], (types.TEXT, types.array_of(types.INTEGER),
                                   types.array_of(types.TEXT))))
    offset = ordinality if ordinality is not None else item.args.get("offset")
    if offset:
        name = offset.name if isinstance(offset, exp.Identifier) else (
            given[3] if len(given) > 3 else "ordinality")
        columns.append((name, types.INTEGER))
    plan = LogicalTableFunction(columns, "unnest_tsvector", args, bool(offset))
    scope = Scope(parent=parent)
    for n, t in columns:
        scope.add(alias or "unnest", n, t)
    return plan, scope
