"""Aggregate result types: which aggregates exist and what type each returns.

The binder types an aggregate call (``sum(x)`` of INTEGER is INTEGER, ``avg`` is FLOAT)
before anything runs, so these rules belong to the plan, not to the operator that
computes them (exec/operators/aggregate.py). The built-in aggregate families of
exec/functions extend ``AGGREGATE_TYPES`` when the function catalog loads (stddev,
string_agg, array_agg, percentiles, ...); user aggregates answer from the registry.
"""
from __future__ import annotations

from .. import errors, types

I, F = types.INTEGER, types.FLOAT
MINMAX_TYPES = (types.INTEGER, types.FLOAT, types.TEXT, types.DATE, types.TIMESTAMP,
                types.BOOLEAN, types.UUID, types.INTERVAL, types.TIME, types.TIMESTAMPTZ) + \
    types.NETWORK_TYPES + (types.MONEY, types.TIMETZ, types.NUMERIC)

# Aggregates of two arguments (Y, X) / (arg, val), computed in exec/functions/aggregate_pairs:
# PostgreSQL's statistics and DuckDB's arg_max/arg_min (max_by/min_by).
PAIR_STATISTICS = ("corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "regr_r2",
                   "regr_count", "regr_avgx", "regr_avgy", "regr_sxx", "regr_syy", "regr_sxy")
PAIR_EXTREMES = ("arg_max", "arg_min")
# stddev/variance as window functions: the pair statistics of (x, x) over each frame
# (regr_sxx / regr_count, accumulated as PostgreSQL does); grouped ones run in
# exec/functions/aggregate.py
VARIANCES = ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop")
FRAME_STATISTICS = PAIR_STATISTICS + VARIANCES

# Aggregates the engine knows, with their result types; extended by other modules.
AGGREGATE_TYPES = {
    "count": lambda ts: I,
    "sum": lambda ts: ts[0] if ts[0] in (I, F, types.INTERVAL, types.MONEY, types.NUMERIC) else (
        I if ts[0] == types.NULL else None),
    # avg of integers and of numerics is numeric, of float8 float8 (PostgreSQL)
    "avg": lambda ts: F if ts[0] in (F, types.NULL) else types.NUMERIC if ts[0] == I else (
        ts[0] if ts[0] in (types.INTERVAL, types.NUMERIC) else None),
    "min": lambda ts: ts[0] if _orderable(ts[0]) else None,
    "max": lambda ts: ts[0] if _orderable(ts[0]) else None,
}


def _orderable(t: str) -> bool:
    """min/max take the types with an order, arrays of them too (PostgreSQL's
    min(anyarray): element by element, exec/semantics.array_order_key)."""
    while types.is_array(t):
        t = types.element_type(t)
    return t in MINMAX_TYPES or t == types.NULL


def aggregate_type(functions, name: str, arg_types, position: int | None = None) -> str:
    """The result type of aggregate ``name`` over ``arg_types``, or 42883 at ``position``."""
    resolve = AGGREGATE_TYPES.get(name)
    if resolve is None:
        # Asking the registry loads the built-ins on first use, and they extend
        # AGGREGATE_TYPES (stddev, string_agg, array_agg, ...): look again before a user's.
        user = functions.aggregate(name)
        resolve = AGGREGATE_TYPES.get(name) or (user.resolve if user is not None else None)
    ret = resolve(list(arg_types)) if resolve is not None else None
    if ret is None:
        raise errors.undefined_function(
            f"function {name}({', '.join(types.shown_type(t) for t in arg_types)}) does not exist",
            hint="No aggregate matches the given name and argument types.",
            position=position)
    return ret
