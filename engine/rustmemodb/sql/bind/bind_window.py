"""Binding window functions (``f(...) OVER (...)``) and DISTINCT ON.

A window call is bound where it appears (select list or ORDER BY) into a
``WindowCall``: function, arguments, PARTITION BY, ORDER BY and frame, all as
expressions over the query's input — or over the aggregate output in a grouped
query, because the SELECT binder lifts them like any other expression (so
``rank() OVER (ORDER BY sum(x))`` works). ``bind_windows`` then moves every call
into one ``LogicalWindow`` above the aggregation and replaces it by a
reference to the window's output column. Named windows (``WINDOW w AS (...)``,
``OVER w``, ``OVER (w ORDER BY ...)``) are resolved from the SELECT node.

Window functions: row_number, rank, dense_rank, percent_rank, cume_dist,
ntile, lag, lead, first_value, last_value, nth_value, and count/sum/avg/min/max,
stddev/variance (and _samp/_pop), array_agg, string_agg, corr/covar_*/regr_*,
arg_max/arg_min (with FILTER). Frames: ROWS and RANGE with UNBOUNDED / CURRENT ROW / offsets
(RANGE offsets need one numeric or date ORDER BY key), GROUPS (offsets count peer
groups; needs ORDER BY), and EXCLUDE CURRENT ROW | GROUP | TIES | NO OTHERS (a 4th
frame element; exec/operators/window_frames.py). Not supported (0A000): DISTINCT
inside a window aggregate.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import ColRef, WindowCall, transform
from ...plan.logical import LogicalNode, LogicalWindow
from ..parse import position_of
from .bind_expr import ExprBinder, _retype
from ...plan.aggregates import aggregate_type
from .coerce import adapt
from .bind_select import _explicit_nulls
from .bind_aggregate_ext import _NAMES, _PAIRS
from ...plan.aggregates import FRAME_STATISTICS, PAIR_EXTREMES, VARIANCES
from . import enum_order, sort_keys

PAIRS = FRAME_STATISTICS + PAIR_EXTREMES

_RANKING = {"row_number": types.INTEGER, "rank": types.INTEGER, "dense_rank": types.INTEGER,
            "percent_rank": types.FLOAT, "cume_dist": types.FLOAT, "ntile": types.INTEGER}
_VALUE = ("lag", "lead", "first_value", "last_value", "nth_value")
_AGGS = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max"}


def bind_window_call(stmt, binder, node: exp.Window):
    if not binder.windows:
        where = f" in {binder.clause}" if binder.clause else " here"
        raise errors.sql_error("42P20", f"window functions are not allowed{where}",
                               position=position_of(node))
    spec = _resolve_named(node)
    func = node.this
    filt = None
    if isinstance(func, exp.Filter):
        func, filt = func.this, func.expression.this
    inner = ExprBinder(stmt, binder.scope, aggregates=binder.aggregates,
                       clause="window function calls")
    name, args, star, distinct = _function(func, inner)
    if distinct:
        raise errors.not_supported("DISTINCT in a window function")
    enum = types.enum_of(args[0].type) if name in ("min", "max") else None
    if enum is not None:              # by label position, shown as the label
        args = [enum_order.sort_key(stmt.functions, args[0])]
    ret = _return_type(stmt, name, args, func)
    if name == "lag" or name == "lead":
        args = _settle_default(args, ret)
    partition = tuple(inner.bind(p) for p in spec["partition"])
    order = tuple(_order_item(inner, o) for o in spec["order"])
    frame = _frame(spec["spec"], len(order))
    fexpr = inner.bind_boolean(filt, "FILTER") if filt is not None else None
    if fexpr is not None and name not in ("count", "sum", "avg", "min", "max",
                                          "array_agg", "string_agg") + PAIRS:
        raise errors.sql_error("0A000", "FILTER is not implemented for non-aggregate window "
                                        "functions")
    out = WindowCall(name, tuple(args), ret, partition, order, frame, filter=fexpr, star=star)
    return out if enum is None else enum_order.label_at(stmt.functions, out, enum)


def _resolve_named(node: exp.Window) -> dict:
    """PARTITION BY / ORDER BY / frame, merging a referenced named window."""
    spec = {"partition": list(node.args.get("partition_by") or []),
            "order": list(node.args["order"].expressions) if node.args.get("order") else [],
            "spec": node.args.get("spec")}
    ref = node.args.get("alias")
    if ref is None:
        return spec
    base = _named_window(node, ref.name)
    if base is None:
        raise errors.sql_error("42704", f'window "{ref.name}" does not exist',
                               position=position_of(node))
    named = _resolve_named(base)
    if spec["partition"]:
        raise errors.sql_error("42P20", f'cannot override PARTITION BY clause of window '
                                        f'"{ref.name}"')
    return {"partition": named["partition"], "order": spec["order"] or named["order"],
            "spec": spec["spec"] or named["spec"]}


def _named_window(node, name: str):
    select = node.find_ancestor(exp.Select)
    while select is not None:
        for w in select.args.get("windows") or []:
            if w.this is not None and getattr(w.this, "name", None) == name:
                return w
        select = select.find_ancestor(exp.Select)
    return None


def _function(func, binder):
    """(name, bound args, star, distinct) of the function inside OVER."""
    for cls, name in _AGGS.items():
        if type(func) is cls:
            arg = func.this
            distinct = isinstance(arg, exp.Distinct)
            if func.expressions or (distinct and len(arg.expressions) > 1):
                raise errors.undefined_function(f"function {name} with more than one "
                                                "argument does not exist",
                                                position=position_of(func))
            if distinct:
                arg = arg.expressions[0]
            if name == "count" and (arg is None or isinstance(arg, exp.Star)):
                return name, [], True, False
            return name, [binder.bind(arg)], False, distinct
    pair = _PAIRS.get(type(func))
    if pair is not None:                   # corr(y, x), arg_max(a, v) OVER (...)
        return pair, [binder.bind(func.this), binder.bind(func.expression)], False, False
    collected = _collecting(func, binder)
    if collected is not None:
        return collected
    name = _NAMES.get(type(func)) or (func.name.lower() if isinstance(func, exp.Anonymous)
                                      else None)
    if name in VARIANCES:                  # stddev(x) OVER (...): the statistics of (x, x)
        nodes = [func.this] if not isinstance(func, exp.Anonymous) else list(func.expressions)
        if len(nodes) != 1 or nodes[0] is None or isinstance(nodes[0], exp.Distinct):
            raise errors.undefined_function(f"function {name} takes one argument",
                                            position=position_of(func))
        x = binder.bind(nodes[0])
        if x.type not in (types.INTEGER, types.FLOAT, types.NUMERIC, types.NULL):
            raise errors.undefined_function(f"function {name}({x.type.lower()}) does not exist",
                                            position=position_of(func))
        return name, [x, x], False, False
    if isinstance(func, exp.Anonymous):
        name = func.name.lower()
        nodes = list(func.expressions)
    else:
        name = func.sql_name().lower()
        nodes = [func.args[k] for k in ("this", "offset", "default")
                 if func.args.get(k) is not None]
    if name not in _RANKING and name not in _VALUE:
        raise errors.undefined_function(f"function {name} is not a window function or is "
                                        "not supported as one",
                                        position=position_of(func))
    return name, [binder.bind(a) for a in nodes], False, False


def _collecting(func, binder):
    """array_agg(x) / string_agg(x, sep) OVER (...) (exec/operators/window_collect.py) as
    (name, args, star, distinct); None for other functions."""
    if isinstance(func, exp.ArrayAgg):
        name, nodes = "array_agg", [func.this]
    elif isinstance(func, exp.GroupConcat):
        name, nodes = "string_agg", [func.this, func.args.get("separator")]
    else:
        return None
    if any(n is None for n in nodes):
        raise errors.undefined_function(f"function {name} with {len(nodes) - 1} arguments "
                                        "does not exist", position=position_of(func))
    if isinstance(nodes[0], exp.Order):
        raise errors.not_supported("aggregate ORDER BY in a window function",
                                   position=position_of(func),
                                   hint="Order the rows with the window's ORDER BY.")
    if isinstance(nodes[0], exp.Distinct):
        return name, [], False, True           # DISTINCT: refused by the caller
    args = [binder.bind(n) for n in nodes]
    if name == "string_agg":
        args = [adapt(a, types.TEXT) for a in args]
        if any(a.type not in (types.TEXT, types.NULL) for a in args):
            raise errors.undefined_function(
                "function string_agg(" + ", ".join(a.type.lower() for a in args) +
                ") does not exist", position=position_of(func))
    elif types.is_array(args[0].type):
        raise errors.not_supported("array_agg of arrays (multidimensional arrays)",
                                   position=position_of(func))
    return name, args, False, False


def _return_type(stmt, name: str, args, node) -> str:
    if name in VARIANCES:       # numeric over integers and numerics, as PostgreSQL's
        return types.NUMERIC if args[0].type in (types.INTEGER, types.NUMERIC) else types.FLOAT
    if name == "string_agg":
        return types.TEXT
    if name == "array_agg":
        t = args[0].type
        return types.array_of(types.TEXT if t in (types.NULL, types.UNKNOWN) else t)
    if name in _RANKING:
        want = 1 if name == "ntile" else 0
        if len(args) != want or (want and args[0].type not in (types.INTEGER, types.NULL)):
            raise errors.undefined_function(f"function {name}({', '.join(a.type.lower() for a in args)}) does not exist",
                                            position=position_of(node))
        return _RANKING[name]
    if name in _VALUE:
        if not args:
            raise errors.undefined_function(f"function {name}() does not exist",
                                            position=position_of(node))
        for extra in args[1:2]:
            if extra.type not in (types.INTEGER, types.NULL):
                raise errors.undefined_function(f"function {name} offset must be an integer",
                                                position=position_of(node))
        t = args[0].type
        return types.TEXT if t == types.NULL else t
    return aggregate_type(stmt.functions, name, [a.type for a in args], position_of(node) if node is not None else None) if args \
        else types.INTEGER


def _settle_default(args, ret):
    if len(args) == 3:
        d = _retype(adapt(args[2], ret), ret)
        if d.type not in (ret, types.NULL):
            raise errors.datatype_mismatch(f"default of lag/lead is {d.type.lower()}, "
                                           f"expected {ret.lower()}")
        args = [args[0], args[1], d]
    return args


def _order_item(binder, o):
    e = o.this if isinstance(o, exp.Ordered) else o
    desc = bool(o.args.get("desc")) if isinstance(o, exp.Ordered) else False
    nulls_first = bool(o.args.get("nulls_first")) if isinstance(o, exp.Ordered) and \
        _explicit_nulls(o) else desc
    return (sort_keys.sort_key(binder.stmt.functions, binder.bind(e)), desc, nulls_first)


def _frame(spec, ordered: int):
    """The frame clause as (mode, start, end[, exclude]); ``ordered``: the number of
    ORDER BY keys (checked here, when the statement is bound, as PostgreSQL does: a
    query whose rows are all filtered out still gets the error)."""
    if spec is None:
        return None
    mode = str(spec.args.get("kind") or "").lower()
    if mode not in ("rows", "range", "groups"):
        raise errors.not_supported(f"{mode.upper()} window frames")
    if mode == "groups" and not ordered:
        raise errors.sql_error("42P20", "GROUPS mode requires an ORDER BY clause")
    exclude = _exclusion(spec.args.get("exclude"))
    start = _bound(spec.args.get("start"), spec.args.get("start_side"))
    end = _bound(spec.args.get("end"), spec.args.get("end_side")) \
        if spec.args.get("end") is not None else ("current", 0)
    # PostgreSQL's grammar checks, in its order and words
    if start[0] == "unbounded_following":
        raise errors.sql_error("42P20", "frame start cannot be UNBOUNDED FOLLOWING")
    if end[0] == "unbounded_preceding":
        raise errors.sql_error("42P20", "frame end cannot be UNBOUNDED PRECEDING")
    if start[0] == "current" and end[0] == "preceding":
        raise errors.sql_error("42P20", "frame starting from current row cannot have "
                                        "preceding rows")
    if start[0] == "following" and end[0] in ("preceding", "current"):
        raise errors.sql_error("42P20", "frame starting from following row cannot have "
                                        "preceding rows")
    if mode == "range" and (start[0] in ("preceding", "following") or
                            end[0] in ("preceding", "following")) and ordered != 1:
        raise errors.sql_error("42P20", "RANGE with offset PRECEDING/FOLLOWING requires "
                                        "exactly one ORDER BY column")
    return (mode, start, end) if exclude is None else (mode, start, end, exclude)


def _exclusion(node) -> str | None:
    """EXCLUDE CURRENT ROW | GROUP | TIES -> 'current' | 'group' | 'ties'; NO OTHERS: None."""
    if node is None:
        return None
    text = (node.name if isinstance(node, exp.Expression) else str(node)).upper()
    return {"CURRENT ROW": "current", "GROUP": "group", "TIES": "ties"}.get(
        " ".join(text.split()))


def _bound(value, side):
    side = str(side or "").lower()
    if isinstance(value, str):
        v = value.upper()
        if v == "UNBOUNDED":
            return ("unbounded_following" if side == "following" else "unbounded_preceding", 0)
        if v.startswith("CURRENT"):
            return ("current", 0)
    if isinstance(value, exp.Literal) and value.is_string and _number(value.this):
        value = exp.Literal.number(value.this.strip())  # '2' PRECEDING: an unknown literal
    if isinstance(value, exp.Literal) and not value.is_string:
        k = float(value.this) if "." in value.this else int(value.this)
        if k < 0:
            raise errors.sql_error("22013", "frame starting offset must not be negative")
        return ("following" if side == "following" else "preceding", k)
    text = None
    if isinstance(value, exp.Interval):      # RANGE over a date/timestamp: a span of time
        unit = value.args.get("unit")
        text = value.this.name + (f" {unit.name}" if unit is not None else "")
    elif isinstance(value, exp.Cast) and isinstance(value.this, exp.Literal) and \
            value.this.is_string and value.to.this == exp.DataType.Type.INTERVAL:
        text = value.this.name                # '3 days'::interval
    elif isinstance(value, exp.Literal) and value.is_string:
        text = value.this                     # '3 days' PRECEDING: read as the interval
    if text is not None:
        span = types.parse_interval(text)
        if span._span() < 0:
            raise errors.sql_error("22013", "invalid preceding or following size in window "
                                            "function")
        return ("following" if side == "following" else "preceding", span)
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
        raise errors.sql_error("22013", "frame starting offset must not be negative")
    raise errors.not_supported(f"window frame bound {value.sql(dialect='postgres')}"
                               if isinstance(value, exp.Expression) else
                               f"window frame bound {value!r}",
                               hint="Write the offset as a non-negative number or interval.")


# ---- moving window calls into a LogicalWindow --------------------------------------------

def bind_windows(stmt, plan: LogicalNode, select_exprs, order_specs):
    calls: list[WindowCall] = []
    exprs = list(select_exprs) + [s[1] for s in order_specs if s[0] == "expr"]
    for e in exprs:
        for n in e.walk():
            if isinstance(n, WindowCall) and n not in calls:
                for inner in n.children():
                    if any(isinstance(x, WindowCall) for x in inner.walk()):
                        raise errors.sql_error("42P20", "window function calls cannot be nested")
                calls.append(n)
    base = len(plan.columns)
    columns = list(plan.columns) + [(c.fn, c.type) for c in calls]
    window = LogicalWindow(columns, plan, calls)

    def replace(e):
        return transform(e, lambda n: ColRef(base + calls.index(n), n.type, n.fn)
                         if isinstance(n, WindowCall) else n)
    select_exprs = [replace(e) for e in select_exprs]
    order_specs = [(k, replace(e) if k == "expr" else e, d, nf) for k, e, d, nf in order_specs]
    return window, select_exprs, order_specs


# ---- DISTINCT ON ---------------------------------------------------------------------------

def distinct_on_positions(stmt, on, names, select_exprs, bind) -> list:
    """DISTINCT ON (exprs): the output columns whose values group the rows (the first
    row of each group in ORDER BY order is kept).

    A key is an output column (by name or ordinal), an expression of the select list
    (bound by ``bind`` and matched like an ORDER BY key: ``DISTINCT ON (t.g)`` of
    ``SELECT t.g AS x``), or any other expression, returned bound: ``_finish`` computes
    it as a hidden column, shared with an equal ORDER BY key. The ORDER BY that
    ``_finish`` puts on top is moved below the DISTINCT ON by the executor
    (``exec/operators/window.py``) so "first" means first in order.
    """
    keys = []
    for e in on.expressions if hasattr(on, "expressions") else on:
        if isinstance(e, exp.Literal) and not e.is_string:
            k = int(e.this) - 1
            if not 0 <= k < len(names):
                raise errors.sql_error("42P10", f"SELECT DISTINCT ON position {k + 1} is not in "
                                                "select list")
            keys.append(k)
            continue
        if isinstance(e, exp.Column) and not e.table and e.name in names:
            keys.append(names.index(e.name))
            continue
        bound = bind(e)
        keys.append(select_exprs.index(bound) if bound in select_exprs else bound)
    return keys


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "infinity", "-infinity")
