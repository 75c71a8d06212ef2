"""Aggregates without Arrow hash kernels: string_agg, bool_and/bool_or, stddev/variance.

They plug into ``exec/operators/aggregate.py`` through its two hooks:
``AGGREGATE_TYPES`` (name -> result type from argument types, used by the
binder) and ``PYTHON_AGGREGATES`` (name -> ``fn(values, aggcall)`` run once per
group on the group's values; NULL inputs are skipped as SQL says, an empty or
all-NULL group gives NULL). ``agg_pack`` bundles a value with its ORDER BY keys (as JSON text)
(``string_agg(x, ',' ORDER BY y)``) so the body can sort the group.
"""
from __future__ import annotations

import json as _json
import statistics

import pyarrow as pa
import pyarrow.compute as pc

from ... import types
from .registry import ScalarFunction

T, B, F, N = types.TEXT, types.BOOLEAN, types.FLOAT, types.NULL


def _string_agg(values, a):
    sep = a.extra[0] if a.extra else None
    if a.order_by:
        packed = getattr(a.args[0], "fn", None) == "agg_pack"
        if packed:
            values = [None if v is None else _json.loads(v) for v in values]
        values = _sorted(values, a, packed)
        if packed:
            values = [v[0] if v is not None else None for v in values]
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return (sep or "").join(vals)


class _Key:
    """Sort key with PostgreSQL NULL placement and direction per key."""
    __slots__ = ("v", "desc", "nf")

    def __init__(self, v, desc, nf):
        self.v, self.desc, self.nf = v, desc, nf

    def __lt__(self, other):
        a, b = self.v, other.v
        if a is None or b is None:
            if a is None and b is None:
                return False
            return (a is None) == self.nf
        return a > b if self.desc else a < b

    def __eq__(self, other):
        return self.v == other.v


def _sorted(values, a, packed):
    def key(v):
        if packed:
            ks = [None] * len(a.order_by) if v is None else v[1:]
        else:
            ks = [v] * len(a.order_by)
        return [_Key(k, d, nf) for k, (_, d, nf) in zip(ks, a.order_by)]
    return sorted(values, key=key)


def _bool_and(values, a):
    vals = [v for v in values if v is not None]
    return all(vals) if vals else None


def _bool_or(values, a):
    vals = [v for v in values if v is not None]
    return any(vals) if vals else None


def _stat(fn, minimum):
    def run(values, a):
        vals = [float(v) for v in values if v is not None]
        return fn(vals) if len(vals) >= minimum else None
    return run


def _pack_row(*args):
    """A value and its ORDER BY keys as JSON text (Arrow cannot hash_list structs).

    Dates and timestamps become ISO text, which sorts like the values do."""
    return _json.dumps(list(args), default=str)


def _pack_vector(*args):
    from ..expr.vector import map_rows
    return map_rows(_pack_row, args, out_type=pa.large_string(), strict=False)


def register(reg) -> None:
    from ..operators.aggregate import AGGREGATE_TYPES, PYTHON_AGGREGATES
    AGGREGATE_TYPES.update({
        "string_agg": lambda ts: T if ts and ts[0] in (T, N) else None,
        "bool_and": lambda ts: B if ts and ts[0] in (B, N) else None,
        "bool_or": lambda ts: B if ts and ts[0] in (B, N) else None,
        "every": lambda ts: B if ts and ts[0] in (B, N) else None,
    })
    for name in ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop"):
        AGGREGATE_TYPES[name] = lambda ts: F if ts and ts[0] in (types.INTEGER, F, N) else None
    PYTHON_AGGREGATES.update({
        "string_agg": _string_agg, "bool_and": _bool_and, "bool_or": _bool_or,
        "every": _bool_and,
        "stddev": _stat(statistics.stdev, 2), "stddev_samp": _stat(statistics.stdev, 2),
        "stddev_pop": _stat(statistics.pstdev, 1), "variance": _stat(statistics.variance, 2),
        "var_samp": _stat(statistics.variance, 2), "var_pop": _stat(statistics.pvariance, 1),
    })
    reg.add(ScalarFunction("agg_pack", lambda ts: T, _pack_vector, _pack_row, strict=False))
