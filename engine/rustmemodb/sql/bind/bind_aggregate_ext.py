"""Binding the aggregates beyond count/sum/avg/min/max, and FILTER (WHERE ...).

* ``string_agg(x, sep [ORDER BY ...])`` (sqlglot's GroupConcat), with DISTINCT;
  the ORDER BY keys ride along with the value as a struct when they differ
  from it, so the per-group body can sort (``exec/functions/aggregate.py``);
* ``bool_and`` / ``bool_or`` / ``every``; ``bit_and`` / ``bit_or`` / ``bit_xor``; ``stddev``/``variance`` families;
* ``corr``, ``covar_*``, ``regr_*``, ``arg_max``/``arg_min``: both arguments bound into one
  ``AggCall`` (run by exec/functions/aggregate_pairs.py);
* ``agg(...) FILTER (WHERE cond)``: rows where cond is not true are left out
  (``count(*) FILTER`` counts a constant over the kept rows).

* ``median(x)``, ``quantile_cont(x, q)``, ``quantile_disc(x, q)`` and ``quantile(x, q)``
  (= quantile_disc), DuckDB's spellings of PostgreSQL's ``percentile_cont/disc(q)
  WITHIN GROUP (ORDER BY x)``: q is a constant fraction carried in ``AggCall.extra``.

``array_agg`` is bound with the other array syntax (bind_array.py).
"""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from ... import errors, types
from ...plan.expr import AggCall, Call, Const, make_call
from ..parse import position_of
from . import bpchar
from .bind_expr import WINDOW_ONLY, ExprBinder, over_required
from .bind_select import _explicit_nulls
from .bind_object_agg import CLASSES as OBJECT_AGGS, bind_object_agg
from .whole_row import JSON_ROW, as_row_object, is_json_row
from . import enum_order, sort_keys

_NAMES = {exp.GroupConcat: "string_agg", exp.LogicalAnd: "bool_and", exp.LogicalOr: "bool_or",
          exp.Stddev: "stddev", exp.StddevSamp: "stddev_samp", exp.StddevPop: "stddev_pop",
          exp.Variance: "variance", exp.VariancePop: "var_pop",
          exp.BitwiseAndAgg: "bit_and", exp.BitwiseOrAgg: "bit_or", exp.BitwiseXorAgg: "bit_xor",
          # DuckDB's (exec/functions/duckdb_more.py)
          exp.First: "first", exp.Last: "last", exp.AnyValue: "any_value"}
# Two-argument aggregates (exec/functions/aggregate_pairs.py): PostgreSQL's statistics of
# (Y, X) pairs and DuckDB's arg_max/arg_min (max_by/min_by parse to the same nodes).
_PAIRS = {exp.Corr: "corr", exp.CovarPop: "covar_pop", exp.CovarSamp: "covar_samp",
          exp.ArgMax: "arg_max", exp.ArgMin: "arg_min"}
for _n in ("slope", "intercept", "r2", "count", "avgx", "avgy", "sxx", "syy", "sxy"):
    _cls = getattr(exp, "Regr" + _n.capitalize(), None)
    if _cls is not None:
        _PAIRS[_cls] = "regr_" + _n


def bind_aggregate(stmt, binder, node):
    cls = type(node)
    if cls is exp.Grouping:
        return stmt.bind_grouping(binder, node)
    if cls is exp.ArrayAgg:
        return stmt.bind_array_agg(binder, node)
    if cls is exp.List:               # DuckDB's list(x [ORDER BY ...]) is array_agg
        if len(node.expressions) != 1:
            raise errors.undefined_function("function list takes one argument",
                                            position=position_of(node))
        return stmt.bind_array_agg(binder, exp.ArrayAgg(this=node.expressions[0]))
    if cls is exp.ApproxDistinct:     # approx_count_distinct(x): counted exactly
        _check_allowed(binder, node)
        inner = _arg_binder(stmt, binder)
        return stmt.make_aggregate("count", [inner.bind(node.this)], True, node)
    if cls is exp.CountIf:            # DuckDB's count_if(p): rows where p is true; NULL
        when = exp.Case(ifs=[exp.If(this=node.this, true=exp.Literal.number(1))],  # on none
                        default=exp.Literal.number(0))
        return binder.bind(exp.Sum(this=when))
    if cls is exp.Mode and node.this is not None:     # DuckDB's mode(x)
        return stmt.bind_withingroup(binder, exp.WithinGroup(
            this=exp.Mode(), expression=exp.Order(expressions=[exp.Ordered(this=node.this)])))
    if cls is exp.JSONArrayAgg:
        return bind_json_agg(stmt, binder, node.this, node, "to_json")
    if cls is exp.Median:
        return bind_quantile(stmt, binder, "median", [node.this], node)
    if cls is exp.Quantile:         # DuckDB: quantile is quantile_disc
        return bind_quantile(stmt, binder, "quantile_disc",
                             [node.this, node.args.get("quantile")], node)
    if cls in _PAIRS:
        return _pair(stmt, binder, _PAIRS[cls], node)
    if cls in OBJECT_AGGS:            # json[b]_object_agg (bind_object_agg.py)
        _check_allowed(binder, node)
        return bind_object_agg(binder, node)
    name = _NAMES.get(cls)
    if name is None:
        written = node.sql_name().lower()
        if written in WINDOW_ONLY:
            raise over_required(written, node)
        raise errors.not_supported(f"aggregate {written}")
    _check_allowed(binder, node)
    inner = _arg_binder(stmt, binder)
    if name == "string_agg":
        return _string_agg(stmt, inner, node)
    arg = node.this
    distinct = isinstance(arg, exp.Distinct)
    if distinct:
        arg = arg.expressions[0]
    return stmt.make_aggregate(name, [inner.bind(arg)], distinct, node)


def _pair(stmt, binder, name: str, node):
    """corr(Y, X) and the other aggregates over pairs: both arguments bound, in order."""
    _check_allowed(binder, node)
    inner = _arg_binder(stmt, binder)
    first, second = node.this, node.expression
    if isinstance(first, exp.Distinct) or second is None:
        raise errors.not_supported(f"{name} with DISTINCT" if second is not None
                                   else f"{name} with one argument")
    args = [inner.bind(first), inner.bind(second)]
    if not name.startswith("arg_"):       # a quoted literal is read as double precision
        args = [_as_float(a) for a in args]
    return stmt.make_aggregate(name, args, False, node)


def _as_float(arg):
    """A text literal given where PostgreSQL expects float8 (``corr('1.5', x)``): its
    value as a FLOAT constant, or 22P02 when it is not a number."""
    if not (isinstance(arg, Const) and arg.type == types.TEXT and arg.value is not None):
        return arg
    try:
        return Const(float(arg.value.strip()), types.FLOAT)
    except ValueError:
        raise errors.sql_error("22P02", "invalid input syntax for type double precision: "
                                        f'"{arg.value}"') from None


def bind_json_agg(stmt, binder, arg, node, to: str):
    """json_agg / jsonb_agg(x [ORDER BY ...]): the array_agg of x as a JSON array (NULL
    over no rows, JSON null for a NULL x, documents nested as documents)."""
    if to == "to_jsonb":
        agg = stmt.bind_array_agg(binder, exp.ArrayAgg(this=as_row_object(binder, arg)))
        return binder.call(to, [agg], node)
    # json: PostgreSQL's json_agg writes rows and arrays after the first on a new line
    row = as_row_object(binder, arg, JSON_ROW)
    agg = stmt.bind_array_agg(binder, exp.ArrayAgg(this=row))
    inner = row.this if isinstance(row, exp.Order) else row
    structured = is_json_row(inner) or (
        types.is_array(agg.type) and types.is_array(types.element_type(agg.type)))
    return binder.call("json_agg_out", [agg, Const(structured, types.BOOLEAN)], node)


def bind_filter(stmt, binder, node: exp.Filter):
    """``agg(...) FILTER (WHERE cond)`` outside a window."""
    if type(node.this) in OBJECT_AGGS:   # an expression of aggregates: each takes the filter
        _check_allowed(binder, node.this)
        return bind_object_agg(binder, node.this, node.expression.this)
    agg = binder.bind(node.this)
    wrapped = None
    if isinstance(agg, Call) and agg.fn in ("to_json", "to_jsonb", "enum_label",
                                            "json_agg_out") and \
            isinstance(agg.args[0], AggCall):  # json_agg(...), max(enum) FILTER: the agg
        wrapped, agg = agg, agg.args[0]
    if not isinstance(agg, AggCall):
        raise errors.sql_error("42809", "FILTER specified, but it is not an aggregate function",
                               position=position_of(node))
    cond = _arg_binder(stmt, binder).bind_boolean(node.expression.this, "FILTER")
    if agg.filter is not None:
        cond = make_call("and", [agg.filter, cond])
    if agg.star:
        return AggCall("count", (Const(1, types.INTEGER),), agg.type, filter=cond)
    out = AggCall(agg.fn, agg.args, agg.type, agg.distinct, agg.star, cond, agg.order_by,
                  agg.extra)
    return out if wrapped is None else dataclasses.replace(wrapped,
                                                           args=(out,) + wrapped.args[1:])


def _check_allowed(binder, node) -> None:
    if not binder.aggregates:
        where = f" in {binder.clause}" if binder.clause else " here"
        raise errors.sql_error("42803", f"aggregate functions are not allowed{where}",
                               position=position_of(node))


def _arg_binder(stmt, binder):
    return ExprBinder(stmt, binder.scope, clause="aggregate function calls")


def ordered_body(node) -> tuple[exp.Expression, list, bool]:
    """``(argument, ORDER BY items, DISTINCT?)`` of ``agg([DISTINCT] x [ORDER BY ...])``."""
    body = node.this
    order = []
    if isinstance(body, exp.Order):
        order = list(body.expressions)
        body = body.this
    distinct = isinstance(body, exp.Distinct)
    if distinct:
        body = body.expressions[0]
    return body, order, distinct


def ordered_arg(inner, value, order: list, distinct: bool) -> tuple:
    """``(arg, keys)`` of an aggregate with ORDER BY: the sort keys bound, and the value
    packed with them (``agg_pack``) when they are other expressions than the value."""
    keys = []
    for o in order:
        desc = bool(o.args.get("desc"))
        nf = bool(o.args.get("nulls_first")) if _explicit_nulls(o) else desc
        keys.append((inner.bind(o.this), desc, nf))
    if distinct and any(k[0] != value for k in keys):
        raise errors.sql_error("42P10", "in an aggregate with DISTINCT, ORDER BY expressions "
                                        "must appear in argument list")
    # an enum key sorts by label position, a jsonb one in jsonb order (sort_keys.py)
    keys = [(sort_keys.sort_key(inner.stmt.functions, k), d, nf) for k, d, nf in keys]
    arg = value
    if any(k[0] != value for k in keys):
        arg = make_call("agg_pack", [value] + [k[0] for k in keys])
    return arg, keys


def _string_agg(stmt, inner, node):
    body, order, distinct = ordered_body(node)
    value = inner.bind(body)
    if node.args.get("on_overflow") is not None:
        raise errors.undefined_function("function string_agg with 3 arguments does not exist",
                                        position=position_of(node))
    sep_node = node.args.get("separator")
    sep = inner.bind(sep_node) if sep_node is not None else Const(None, types.NULL)
    if not isinstance(sep, Const):
        raise errors.not_supported("a non-constant string_agg delimiter")
    if value.type not in (types.TEXT, types.NULL) or sep.type not in (types.TEXT, types.NULL):
        raise errors.undefined_function(
            f"function string_agg({value.type.lower()}, {sep.type.lower()}) does not exist",
            hint="CAST the value to TEXT.", position=position_of(node))
    if types.is_bpchar(value.type):      # string_agg(text, text): a char loses its blanks
        value = bpchar.trimmed(stmt.functions, value)
    arg, keys = ordered_arg(inner, value, order, distinct)
    ret = stmt.make_aggregate("string_agg", [value], distinct, node).type
    return AggCall("string_agg", (arg,), ret, distinct, order_by=tuple(keys),
                   extra=(sep.value,))


def bind_quantile(stmt, binder, name: str, arg_nodes: list, node):
    """median / quantile_cont / quantile_disc: the value and a constant fraction q."""
    _check_allowed(binder, node)
    if name != "median" and len(arg_nodes) != 2 or name == "median" and len(arg_nodes) != 1:
        raise errors.undefined_function(f"function {name} takes "
                                        f"{'1 argument' if name == 'median' else '2 arguments'}",
                                        position=position_of(node))
    inner = _arg_binder(stmt, binder)
    body = arg_nodes[0]
    distinct = isinstance(body, exp.Distinct)
    if distinct:
        body = body.expressions[0]
    value = inner.bind(body)
    q = 0.5 if name == "median" else _fraction(inner, arg_nodes[1])
    ret = stmt.make_aggregate(name, [value], distinct, node).type
    return AggCall(name, (value,), ret, distinct, extra=(q,))


def _fraction(inner, q_node) -> float:
    q = inner.bind(q_node)
    if isinstance(q, Const) and q.type == types.NUMERIC and q.value is not None:
        q = Const(types.numeric.to_float(types.numeric.decode(q.value)), types.FLOAT)
    if not isinstance(q, Const) or q.type not in (types.INTEGER, types.FLOAT):
        raise errors.not_supported("a quantile that is not a numeric constant",
                                   hint="Write the fraction as a number, e.g. 0.9 "
                                        "(a list of quantiles needs arrays).")
    if q.value is None or not 0 <= q.value <= 1:
        raise errors.sql_error("22003", f"percentile value {q.value} is not between 0 and 1",
                               position=position_of(q_node))
    return float(q.value)
