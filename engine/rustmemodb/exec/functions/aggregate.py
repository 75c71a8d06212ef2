"""Aggregates without Arrow hash kernels: string_agg, bool_and/bool_or, stddev/variance.

They plug in through two hooks: ``AGGREGATE_TYPES`` of ``plan/aggregates.py``
(name -> result type from argument types, used by the binder) and, in
``exec/operators/aggregate.py``, ``PYTHON_AGGREGATES`` (name -> ``fn(values, aggcall)`` run once per
group on the group's values; NULL inputs are skipped as SQL says, an empty or
all-NULL group gives NULL). ``agg_pack`` bundles a value with its ORDER BY keys (as JSON text)
(``string_agg(x, ',' ORDER BY y)``) so the body can sort the group.
"""
from __future__ import annotations

from ... import infinity

import functools
import json as _json
import math
import operator

from ...lazy_import import arrow as pa, compute as pc
from ..arrays import contiguous

from ... import errors, numeric, types
from .aggregate_pairs import register as register_pairs
from .numeric_spread import VARIANCES, merged, spread_of_values, spread_of_array
from .registry import ScalarFunction
from ..expr.rowwise import map_rows
from ...plan.aggregates import AGGREGATE_TYPES, MINMAX_TYPES as _MINMAX_TYPES
from ..operators.aggregate import ARROW_AGGREGATES, PYTHON_AGGREGATES

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
    if a.distinct and not a.order_by:
        vals.sort()     # PostgreSQL sorts a DISTINCT aggregate's input to drop repeats
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


def _bits(op):
    """bit_and / bit_or / bit_xor: the operator folded over the non-NULL values."""
    def run(values, a):
        vals = [v for v in values if v is not None]
        return functools.reduce(op, vals) if vals else None
    return run


def _stat(fn, minimum):
    """stddev/variance of a group: over integers and numerics the numeric result
    PostgreSQL gives (numeric_spread.py); over floats float8_accum's Youngs-Cramer sums in
    input order and its final functions, so the last digit is PostgreSQL's too."""
    def run(values, a):
        if a.type == types.NUMERIC:
            got = spread_of_values(a.fn, [v for v in values if v is not None])
            return None if got is None else numeric.encode(got)
        vals = [float(v) for v in values if v is not None]
        if len(vals) < minimum:
            return None
        n, sxx = _youngs_cramer(vals)
        v = sxx / (n - 1.0 if minimum == 2 else n)
        return math.sqrt(v) if fn else v
    return run


def _youngs_cramer(vals: list) -> tuple:
    """(N, Sxx) of float8_accum over ``vals``: 22003 when a finite input overflows."""
    n = sx = sxx = 0.0
    for x in vals:
        n1, sx1 = n, sx
        n += 1.0
        sx += x
        if n1 > 0.0:
            t = x * n - sx
            sxx += t * t / (n * n1)
            if math.isinf(sx) or math.isinf(sxx):
                if not math.isinf(sx1) and not math.isinf(x):
                    raise errors.sql_error("22003", "value out of range: overflow")
                sxx = math.nan
        elif math.isnan(x) or math.isinf(x):
            sxx = math.nan
    return n, sxx


def _spread_arrow(values, a):
    """stddev/variance of one group's Arrow values: integers summed in numpy where that
    is exact (numeric_spread.spread_of_array), anything else value by value."""
    got = spread_of_array(a.fn, values) if a.type == types.NUMERIC else NotImplemented
    if got is NotImplemented:
        return PYTHON_AGGREGATES[a.fn](infinity.pylist(values), a)
    return None if got is None else numeric.encode(got)


def _spread_merge_type(ts) -> str | None:
    """spread_merge(fn, count, sum, sum of squares): numeric sums (of integers and
    numerics) give numeric, float sums float8."""
    if len(ts) != 4 or ts[0] not in (T, N) or ts[1] not in (types.INTEGER, N):
        return None
    sums = {t for t in ts[2:] if t != N}
    return types.NUMERIC if sums == {types.NUMERIC} else F if sums <= {F} else None


def _spread_merged(fn, n, sx, sxx):
    """stddev/variance from merged partials: exact for numeric sums (numeric_spread.merged);
    for float sums the spread about the mean, sum(x*x) - sum(x)**2 / n."""
    if isinstance(sx, float) or isinstance(sxx, float):
        pop = fn.endswith("_pop")
        if sx is None or sxx is None or not n or (not pop and n <= 1):
            return None
        v = max((sxx - sx * sx / n) / (n if pop else n - 1), 0.0)
        return math.sqrt(v) if fn.startswith("stddev") else v
    got = merged(fn, n, sx, sxx)
    return None if got is None else numeric.encode(got)


def _ordered(values) -> list:
    """Non-NULL values in PostgreSQL's order (NaN above every number)."""
    vals = [v for v in values if v is not None]
    return sorted(vals, key=lambda x: (x != x, x if x == x else 0.0)) \
        if vals and isinstance(vals[0], float) else sorted(vals)


def _quantile_cont(values, a):
    """Linear interpolation between the two closest ranks (percentile_cont)."""
    vals = [float(v) for v in _ordered(values)]
    if not vals:
        return None
    pos = a.extra[0] * (len(vals) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    if pos == lo:
        return vals[lo]
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def _quantile_disc(values, a):
    """The first value whose rank reaches the fraction (percentile_disc)."""
    import math
    vals = _ordered(values)
    if not vals:
        return None
    return vals[max(math.ceil(a.extra[0] * len(vals)) - 1, 0)]


def _quantile_arrow(values, a):
    """median / quantile_cont / quantile_disc over one group's Arrow values: one sort
    in Arrow (NaN after every number, as PostgreSQL orders floats)."""
    import math
    values = contiguous(values)
    values = values.drop_null()
    n = len(values)
    if n == 0:
        return None
    q = a.extra[0]
    if a.fn == "quantile_disc":
        ranks = [max(math.ceil(q * n) - 1, 0)]
    else:
        pos = q * (n - 1)
        ranks = [int(pos), min(int(pos) + 1, n - 1)]
    picked = _at_ranks(values, ranks)
    if a.fn == "quantile_disc":
        return picked[0]
    low, high = float(picked[0]), float(picked[1])
    return low if pos == ranks[0] else low + (high - low) * (pos - ranks[0])


def _at_ranks(values, ranks: list) -> list:
    """The values at these ranks of the sorted order: numpy's O(n) partition for
    numbers (NaN sorts last there too), an Arrow sort for everything else."""
    t = values.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        import numpy as np
        part = np.partition(values.to_numpy(zero_copy_only=False), sorted(set(ranks)))
        return [part[r].item() for r in ranks]
    order = pc.sort_indices(values)
    return [infinity.pyscalar(values[infinity.pyscalar(order[r])]) for r in ranks]


def _pack_row(*args):
    """A value and its ORDER BY keys as JSON text (Arrow cannot hash_list structs).

    Dates and timestamps become ISO text, which sorts like the values do."""
    return _json.dumps(list(args), default=str)


def _pack_vector(*args):
    return map_rows(_pack_row, args, out_type=pa.large_string(), strict=False)


def register(reg) -> None:
    AGGREGATE_TYPES.update({
        "string_agg": lambda ts: T if ts and ts[0] in (T, N) else None,
        "bool_and": lambda ts: B if ts and ts[0] in (B, N) else None,
        "bool_or": lambda ts: B if ts and ts[0] in (B, N) else None,
        "every": lambda ts: B if ts and ts[0] in (B, N) else None,
    })
    for name, op in (("bit_and", operator.and_), ("bit_or", operator.or_),
                     ("bit_xor", operator.xor)):
        AGGREGATE_TYPES[name] = lambda ts: types.INTEGER if ts and ts[0] in (types.INTEGER, N) \
            else None
        PYTHON_AGGREGATES[name] = _bits(op)
    for name in ("median", "quantile_cont"):
        AGGREGATE_TYPES[name] = lambda ts: F if ts and ts[0] in (types.INTEGER, F, N) else None
    AGGREGATE_TYPES["quantile_disc"] = lambda ts: ts[0] if ts and ts[0] in _MINMAX_TYPES \
        else (T if ts and ts[0] == N else None)
    PYTHON_AGGREGATES.update({"median": _quantile_cont, "quantile_cont": _quantile_cont,
                              "quantile_disc": _quantile_disc})
    ARROW_AGGREGATES.update({"median": _quantile_arrow, "quantile_cont": _quantile_arrow,
                             "quantile_disc": _quantile_arrow})
    for name in VARIANCES:      # numeric over integers and numerics, as PostgreSQL's
        AGGREGATE_TYPES[name] = lambda ts: None if not ts else types.NUMERIC \
            if ts[0] in (types.INTEGER, types.NUMERIC) else F if ts[0] in (F, N) else None
        ARROW_AGGREGATES[name] = _spread_arrow
    PYTHON_AGGREGATES.update({
        "string_agg": _string_agg, "bool_and": _bool_and, "bool_or": _bool_or,
        "every": _bool_and,
        "stddev": _stat(True, 2), "stddev_samp": _stat(True, 2), "stddev_pop": _stat(True, 1),
        "variance": _stat(False, 2), "var_samp": _stat(False, 2), "var_pop": _stat(False, 1),
    })
    register_pairs(AGGREGATE_TYPES)
    reg.add(ScalarFunction("agg_pack", lambda ts: T, _pack_vector, _pack_row, strict=False))
    # a cluster's merge of stddev/variance partials (internal: cluster/plansplit.py, split.py)
    reg.add(ScalarFunction("spread_merge", _spread_merge_type, None, _spread_merged,
                           strict=False))
