"""Aggregates of two arguments, written in terms of the aggregates every path already runs.

PostgreSQL's ``corr(Y, X)``, ``covar_pop``, ``covar_samp`` and ``regr_*`` (Y first) are
functions of N, Σx, Σy, Σx², Σy² and Σxy over the rows where neither argument is NULL;
DuckDB's ``arg_max(a, b)`` / ``arg_min`` (and ``max_by`` / ``min_by``) are the first
element of ``a`` ordered by ``b``; ``json[b]_object_agg(k, v)`` pairs the array of the
keys with the JSON array of the values. Each call is rewritten into that expression over
count/sum/min/max/array_agg with ``FILTER (WHERE x IS NOT NULL AND y IS NOT NULL)``
before binding, so it groups with Arrow's hash aggregation, honours its own FILTER,
and splits into partial aggregates on a cluster like any sum.

Zero variance is decided exactly (``min(x) = max(x)``), not from the sums, so a
constant column gives NULL as in PostgreSQL. The centred sums are taken in one pass
(Σx² − (Σx)²/N): against PostgreSQL's Youngs-Cramer accumulation the last digits can
differ, and a column whose spread is below about 1e-7 of its magnitude loses precision.
"""
from __future__ import annotations

import functools

from sqlglot import exp

from ... import errors
from ..parse import parse_one, position_of

# Markers standing for the arguments in the templates (never valid user names).
_Y, _X, _C, _F = "__stat_y", "__stat_x", "__stat_c", "__stat_f"

_N = "count(*) FILTER (WHERE {c})"
_S = {name: f"sum({expr}) FILTER (WHERE {{c}})" for name, expr in (
    ("sx", "{x}::float8"), ("sy", "{y}::float8"), ("sxx", "{x}::float8 * {x}::float8"),
    ("syy", "{y}::float8 * {y}::float8"), ("sxy", "{x}::float8 * {y}::float8"))}
_SXX = "({sxx} - {sx} * {sx} / {n})"
_SYY = "({syy} - {sy} * {sy} / {n})"
_SXY = "({sxy} - {sx} * {sy} / {n})"
_FLAT_X = "min({x}) FILTER (WHERE {c}) = max({x}) FILTER (WHERE {c})"
_FLAT_Y = "min({y}) FILTER (WHERE {c}) = max({y}) FILTER (WHERE {c})"


def _case(cond: str, value: str) -> str:
    return f"CASE WHEN {cond} THEN NULL ELSE {value} END"


_NONE = "{n} < 1"
TEMPLATES = {
    "regr_count": _N,
    "regr_avgx": _case(_NONE, "{sx} / {n}"),
    "regr_avgy": _case(_NONE, "{sy} / {n}"),
    "regr_sxx": _case(_NONE, f"CASE WHEN {_FLAT_X} THEN 0.0::float8 ELSE {_SXX} END"),
    "regr_syy": _case(_NONE, f"CASE WHEN {_FLAT_Y} THEN 0.0::float8 ELSE {_SYY} END"),
    "regr_sxy": _case(_NONE, f"CASE WHEN {_FLAT_X} OR {_FLAT_Y} THEN 0.0::float8 "
                             f"ELSE {_SXY} END"),
    "covar_pop": _case(_NONE, f"CASE WHEN {_FLAT_X} OR {_FLAT_Y} THEN 0.0::float8 "
                              f"ELSE {_SXY} / {{n}} END"),
    "covar_samp": _case("{n} < 2", f"CASE WHEN {_FLAT_X} OR {_FLAT_Y} THEN 0.0::float8 "
                                   f"ELSE {_SXY} / ({{n}} - 1) END"),
    "corr": _case(f"{_NONE} OR {_FLAT_X} OR {_FLAT_Y}",
                  f"{_SXY} / sqrt({_SXX} * {_SYY})"),
    "regr_slope": _case(f"{_NONE} OR {_FLAT_X}", f"{_SXY} / {_SXX}"),
    "regr_intercept": _case(f"{_NONE} OR {_FLAT_X}", f"({{sy}} - {{sx}} * {_SXY} / {_SXX}) / {{n}}"),
    "regr_r2": _case(f"{_NONE} OR {_FLAT_X}", f"CASE WHEN {_FLAT_Y} THEN 1.0::float8 "
                                                f"ELSE {_SXY} * {_SXY} / ({_SXX} * {_SYY}) END"),
    # DuckDB: the first argument of the row with the largest / smallest second argument
    # jsonb_object_agg(key, value): the keys and the values as JSON, paired per group
    # (only the call's own FILTER drops rows: a NULL value is JSON null, a NULL key 22023)
    "jsonb_object_agg": "json_object_from(array_agg(({y})::text) FILTER (WHERE {f}), "
                        "to_jsonb(array_agg({x}) FILTER (WHERE {f})))",
    # (rows where either is NULL are left out, as DuckDB leaves them)
    "arg_max": "(array_agg({y} ORDER BY {x} DESC) FILTER (WHERE {c}))[1]",
    "arg_min": "(array_agg({y} ORDER BY {x}) FILTER (WHERE {c}))[1]",
}

CLASSES = {exp.Corr: "corr", exp.CovarPop: "covar_pop", exp.CovarSamp: "covar_samp",
           exp.RegrSlope: "regr_slope", exp.RegrIntercept: "regr_intercept",
           exp.RegrR2: "regr_r2", exp.RegrCount: "regr_count", exp.RegrAvgx: "regr_avgx",
           exp.RegrAvgy: "regr_avgy", exp.RegrSxx: "regr_sxx", exp.RegrSyy: "regr_syy",
           exp.RegrSxy: "regr_sxy", exp.ArgMax: "arg_max", exp.ArgMin: "arg_min",
           exp.JSONBObjectAgg: "jsonb_object_agg", exp.JSONObjectAgg: "jsonb_object_agg"}


@functools.lru_cache(maxsize=None)
def _template(name: str) -> exp.Expression:
    """The parsed template of ``name`` with the argument markers in place."""
    text = TEMPLATES[name]
    for _ in range(3):     # the sums hold {x}, {y} and {c} themselves
        text = text.format(n=_N, **_S, x=_X, y=_Y, c=_C, f=_F)
    return parse_one("SELECT " + text).expressions[0]


def bind_statistic(binder, node: exp.Expression, condition: exp.Expression | None = None):
    """``corr(y, x) [FILTER (WHERE condition)]`` and its kin, bound as their expression."""
    name = CLASSES[type(node)]
    y, x = (node.this, node.expression) if not isinstance(node, exp.JSONObjectAgg) else \
        (tuple(node.expressions) + (None, None))[:2]
    if isinstance(y, exp.Distinct) or isinstance(x, exp.Distinct):
        raise errors.not_supported(f"DISTINCT in {name}", position=position_of(node))
    if y is None or x is None:
        raise errors.undefined_function(f"function {name} takes two arguments",
                                        position=position_of(node))
    both = exp.and_(exp.Not(this=exp.Is(this=y.copy(), expression=exp.Null())),
                    exp.Not(this=exp.Is(this=x.copy(), expression=exp.Null())))
    keep = both if condition is None else exp.and_(both, exp.paren(condition.copy()))

    def fill(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table:
            if n.name == _X:
                return exp.paren(x.copy())
            if n.name == _Y:
                return exp.paren(y.copy())
            if n.name == _C:
                return exp.paren(keep.copy())
            if n.name == _F:
                return exp.paren(condition.copy()) if condition is not None else exp.true()
        return n
    return binder.bind(_template(name).copy().transform(fill))
