"""Binding functions whose SQL syntax is not a plain argument list.

sqlglot turns ``TRIM(BOTH 'x' FROM s)``, ``EXTRACT(YEAR FROM d)``,
``date_trunc('month', t)``, ``lpad``/``rpad``, ``position(a IN b)`` and the JSON
operators (``->``, ``->>``, ``#>``, ``#>>``) into dedicated nodes whose flags are
not expressions; these hooks (``StatementBinder.bind_function_<name>``, called
by the expression binder) map them onto the registered functions.
"""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Call, Cast, Const, Param
from ..parse import position_of
from ...optimize.fold_constants import fold
from ...exec.functions.datetime import extract_type, field_name
from .coerce import adapt


def _call(binder, name, args, node):
    """A call without the binary-operator literal unification (keys stay TEXT)."""
    try:
        fn, ret = binder.stmt.functions.resolve(name, [a.type for a in args])
    except errors.Error as exc:
        guessed = binder.resolve_unknown_params(name, args) if exc.sqlstate == "42883" \
            else None
        if guessed is None:
            exc.position = exc.position if exc.position is not None else position_of(node)
            raise
        fn, ret, args = guessed
    return fold(Call(name, tuple(args), ret, fn))


def bind_trim(stmt, binder, args, node):
    where = str(node.args.get("position") or "both").lower()
    target = binder.bind(node.this)
    chars = node.args.get("expression")
    bound = [target] + ([binder.bind(chars)] if chars is not None else [])
    return binder.call(f"trim_{where}", bound, node)


def bind_pad(stmt, binder, args, node):
    name = "lpad" if node.args.get("is_left") else "rpad"
    nodes = [node.this, node.args.get("expression"), node.args.get("fill_pattern")]
    return binder.call(name, [binder.bind(a) for a in nodes if a is not None], node)


def bind_initcap(stmt, binder, args, node):
    return binder.call("initcap", [binder.bind(node.this)], node)


def bind_str_position(stmt, binder, args, node):
    if node.args.get("position") is not None:
        raise errors.not_supported("position with a start offset")
    return binder.call("strpos", [binder.bind(node.this), binder.bind(node.args["substr"])], node)


def bind_extract(stmt, binder, args, node):
    f = node.this
    text = f.name if isinstance(f, (exp.Var, exp.Column, exp.Identifier)) else (
        f.this if isinstance(f, exp.Literal) else f.sql())
    field = field_name(str(text))
    arg = binder.bind(node.expression)
    if arg.type == types.DATE and field in _NOT_OF_DATES:
        # extract_date (PostgreSQL 14+) has no time of day: 0A000 for a date, NULL for a
        # NULL (it is strict); date_part('hour', d) reads the date as a timestamp: 0
        return _call(binder, "extract_date_unsupported", [Const(field, types.TEXT), arg], node)
    if field == "julian" and arg.type in (types.DATE, types.TIMESTAMP, types.TIMESTAMPTZ):
        # numeric, exact: the day number plus the day's microseconds / 86400000000 at
        # numeric division's scale (timestamp_part_common), not date_part's float8
        return _call(binder, "extract_julian", [arg], node)
    out = _date_part(binder, field, arg, node)
    scale = _EXTRACT_SCALE.get(field)
    if out.type == types.FLOAT and scale is not None:
        # extract is numeric in PostgreSQL 14+ (date_part stays float8): seconds and the
        # epoch to microseconds, milliseconds to thousandths; a date's epoch is whole
        if arg.type == types.DATE:
            scale = 0
        return binder.call("extract_numeric", [out, Const(scale, types.INTEGER)], node)
    return out


_NOT_OF_DATES = frozenset({"hour", "minute", "second", "milliseconds", "millisecond",
                           "microseconds", "microsecond", "timezone", "timezone_hour",
                           "timezone_minute"})

# digits after the point of extract's numeric result, by field (timestamp_part_common)
_EXTRACT_SCALE = {"second": 6, "epoch": 6, "milliseconds": 3, "millisecond": 3,
                  "microseconds": 0, "microsecond": 0}


def bind_date_part(stmt, binder, args, node):
    if len(args) != 2:
        raise errors.undefined_function("function date_part requires 2 arguments",
                                        position=position_of(node))
    f = binder.bind(args[0])
    if isinstance(f, Const) and isinstance(f.value, str):    # else the overloads' 42883
        return _date_part(binder, field_name(f.value), binder.bind(args[1]), node)
    return _call(binder, "date_part", [f, binder.bind(args[1])], node)


def _date_part(binder, field, arg, node):
    if arg.type == types.TEXT and isinstance(arg, Const):
        arg = adapt(arg, types.TIMESTAMP)
    if isinstance(arg, Param) and arg.type == types.UNKNOWN:     # extract(year FROM $1)
        arg = Param(arg.slot, binder.stmt.param_type(arg.slot, types.TIMESTAMP))
    if arg.type not in (types.DATE, types.TIMESTAMP, types.TIME, types.INTERVAL, types.NULL,
                        types.TIMESTAMPTZ, types.TIMETZ):
        raise errors.undefined_function(f"function date_part(unknown, {arg.type.lower()}) does "
                                        "not exist", position=position_of(node))
    call = _call(binder, "date_part", [Const(field, types.TEXT), arg], node)
    t = extract_type(field)
    if isinstance(call, Const):
        v = call.value
        return Const(int(v) if t == types.INTEGER and v is not None else v, t)
    return dataclasses.replace(call, type=t)


def bind_date_trunc(stmt, binder, args, node):
    unit = node.args.get("unit")
    text = unit.name if isinstance(unit, (exp.Var, exp.Column)) else (
        unit.this if isinstance(unit, exp.Literal) else None)
    u = Const(str(text).lower(), types.TEXT) if text is not None else binder.bind(unit)
    arg = binder.bind(node.this)
    zone = node.args.get("zone")
    if zone is not None:
        # date_trunc(unit, timestamptz, zone): truncated in that zone's calendar; a
        # timestamp or date argument is cast to timestamptz first, as PostgreSQL's only
        # overload with a zone takes one
        arg = adapt(arg, types.TIMESTAMPTZ)
        if arg.type in (types.TIMESTAMP, types.DATE):
            arg = fold(Cast(arg, types.TIMESTAMPTZ))
        z = adapt(binder.bind(zone), types.TEXT)
        return _call(binder, "date_trunc", [u, arg, z], node)
    arg = adapt(arg, types.TIMESTAMP) if isinstance(arg, Const) and arg.type == types.TEXT else arg
    return _call(binder, "date_trunc", [u, arg], node)


def bind_json_extract(stmt, binder, args, node, as_text: bool = False):
    # json_extract_path[_text]('...', ...) (sqlglot: only_json_types False) reads a quoted
    # document as json, as PostgreSQL's signature says; ``'...' -> 'k'`` as jsonb
    doc = _json_arg(binder, node.this, node, types.JSONT if node.args.get(
        "only_json_types") is False else types.JSON)
    path = node.expression
    if isinstance(path, exp.JSONPath):
        steps = [p for p in path.expressions if not isinstance(p, exp.JSONPathRoot)]
        out = doc
        for i, p in enumerate(steps):
            last = i == len(steps) - 1
            key = _json_key(p)
            out = _call(binder, "json_get_text" if last and as_text else "json_get",
                        [out, key], node)
        return out
    key = binder.bind(path)
    return _call(binder, "json_get_text" if as_text else "json_get", [doc, key], node)


def bind_json_extract_scalar(stmt, binder, args, node):
    return bind_json_extract(stmt, binder, args, node, as_text=True)


def bind_jsonb_extract(stmt, binder, args, node, as_text: bool = False):
    doc = _json_arg(binder, node.this, node)
    path = binder.bind(node.expression)
    return _call(binder, "json_path_text" if as_text else "json_path", [doc, path], node)


def bind_jsonb_extract_scalar(stmt, binder, args, node):
    return bind_jsonb_extract(stmt, binder, args, node, as_text=True)


def _json_key(p):
    if isinstance(p, exp.JSONPathKey):
        return Const(str(p.this), types.TEXT)
    if isinstance(p, exp.JSONPathSubscript):
        return Const(int(p.this), types.INTEGER)
    raise errors.not_supported(f"JSON path step {p.sql()}")


def _json_arg(binder, node, parent, literal: str = types.JSON):
    doc = binder.bind(node)
    if isinstance(doc, Const) and doc.type == types.TEXT:
        doc = adapt(doc, literal)
    if isinstance(doc, Param) and doc.type == types.UNKNOWN:   # an untyped $1 -> 'a'
        doc = Param(doc.slot, binder.stmt.param_type(doc.slot, types.JSON))
    if not types.is_json(doc.type) and doc.type != types.NULL:
        raise errors.undefined_function(
            f"operator does not exist: {types.shown_type(doc.type)} -> unknown",
            hint="The JSON operators need a JSON value: CAST the text to JSON.",
            position=position_of(parent))
    return doc


# ---- to_char ---------------------------------------------------------------------------------------

def bind_to_char(stmt, binder, args, node):
    """``to_char(value, template)`` of a date, timestamp or number: the template is
    PostgreSQL's (sql/parse.py keeps it; exec/functions/templates.py reads it)."""
    arg = binder.bind(node.this)
    if isinstance(arg, Param) and arg.type == types.UNKNOWN:     # to_char($1, 'YYYY')
        arg = Param(arg.slot, binder.stmt.param_type(arg.slot, types.TIMESTAMP))
    return _call(binder, "to_char", [arg, binder.bind(node.args["format"])], node)


def bind_str_to_time(stmt, binder, args, node, name: str = "to_timestamp"):
    """``to_timestamp(text, template)`` / ``to_date(text, template)``."""
    if node.args.get("format") is None:
        raise errors.undefined_function(f"function {name}(text) does not exist",
                                        position=position_of(node))
    return _call(binder, name, [binder.bind(node.this), binder.bind(node.args["format"])],
                 node)



_INTERVAL_PARTS = ("years", "months", "weeks", "days", "hours", "mins", "secs")


def bind_make_interval(stmt, binder, args, node):
    """make_interval(years, months, weeks, days, hours, mins, secs), each optional and
    0 by default, positional or named (``make_interval(days => 1)``)."""
    values: dict = {}
    named = False
    for i, a in enumerate(args):
        if isinstance(a, exp.Kwarg):
            named = True
            name = a.this.name.lower()
            if name not in _INTERVAL_PARTS or name in values:
                raise errors.undefined_function(f"function make_interval({name} => ...) "
                                                "does not exist", position=position_of(a))
            values[name] = a.expression
        else:
            if i >= len(_INTERVAL_PARTS) or named:
                raise errors.undefined_function("function make_interval with these "
                                                "arguments does not exist",
                                                position=position_of(node))
            values[_INTERVAL_PARTS[i]] = a
    bound = [binder.bind(values[p]) if p in values else
             Const(0.0 if p == "secs" else 0, types.FLOAT if p == "secs" else types.INTEGER)
             for p in _INTERVAL_PARTS]
    return binder.call("make_interval", bound, node)
