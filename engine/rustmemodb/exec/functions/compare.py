"""Comparison operators, IS [NOT] DISTINCT FROM, and the boolean connectives.

Comparisons need comparable types (numbers with numbers, else equal types; a
DATE compares with a TIMESTAMP as midnight). AND/OR are three-valued (Kleene),
which Arrow gives only through the ``*_kleene`` kernels.
"""
from __future__ import annotations

from ... import infinity

import datetime as dt
import operator

from ...lazy_import import arrow as pa, compute as pc, kernel

from ... import types
from ..semantics import arrow_errors, widen
from .registry import ScalarFunction
from ..expr.rowwise import map_rows

B, N = types.BOOLEAN, types.NULL
_TEMPORAL = frozenset(types.TEMPORAL_TYPES)


def comparable(a: str, b: str) -> bool:
    if types.JSONT in (a, b):      # PostgreSQL's json has no comparison operators (42883)
        return False
    if a == N or b == N or a == b:
        return True
    if types.is_numeric(a) and types.is_numeric(b):
        return True
    return {a, b} <= _TEMPORAL


def _resolve_cmp(ts):
    return B if len(ts) == 2 and comparable(ts[0], ts[1]) else None


def _align_temporal(a, b):
    if isinstance(a, dt.datetime) and type(b) is dt.date:
        b = dt.datetime(b.year, b.month, b.day)
    elif isinstance(b, dt.datetime) and type(a) is dt.date:
        a = dt.datetime(a.year, a.month, a.day)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime) and \
            (a.tzinfo is None) != (b.tzinfo is None):
        # timestamp against timestamptz: the timestamp is a wall-clock time of the
        # session's TimeZone (PostgreSQL's implicit cast)
        if a.tzinfo is None:
            a = types.local_to_instant(a)
        else:
            b = types.local_to_instant(b)
    return a, b


def _nan_key(x):
    """PostgreSQL orders float NaN above every number and equal to itself."""
    return (True, 0.0) if x != x else (False, x)


def _row_cmp(op):
    datetime_t, interval_t = dt.datetime, types.Interval

    def run(a, b):
        ta = type(a)
        if (ta is int or ta is str) and type(b) is ta:
            return op(a, b)     # the commonest case: no interval, date mix or NaN possible
        if ta is datetime_t and type(b) is datetime_t and a.tzinfo is b.tzinfo:
            return op(a, b)     # two timestamps (or instants of one zone object)
        if ta is interval_t:   # PostgreSQL: 1 mon = 30 days, 1 day = 24 hours
            return op(a._span(), b._span())
        if type(a) is not type(b) or ta is datetime_t:
            a, b = _align_temporal(a, b)    # a date, or timestamp vs timestamptz
        if (a != a) or (b != b):      # a NaN on either side
            return op(_nan_key(a), _nan_key(b))
        return op(a, b)
    return run


def _vec_align(a, b):
    a, b = widen(a, b)
    ta, tb = a.type, b.type
    a_zoned = pa.types.is_timestamp(ta) and ta.tz is not None
    b_zoned = pa.types.is_timestamp(tb) and tb.tz is not None
    if a_zoned != b_zoned and (pa.types.is_temporal(ta) and pa.types.is_temporal(tb)):
        if a_zoned:
            b = to_instants(b)
        else:
            a = to_instants(a)
    elif pa.types.is_date(ta) and pa.types.is_timestamp(tb):
        a = pc.cast(a, tb)
    elif pa.types.is_timestamp(ta) and pa.types.is_date(tb):
        b = pc.cast(b, ta)
    return a, b


def to_instants(v):
    """A date or timestamp column (or scalar) as timestamptz: wall-clock times of the
    session's TimeZone, as PostgreSQL's implicit cast reads them."""
    if pa.types.is_timestamp(v.type) and v.type.tz is not None:
        return v
    target = types.arrow_type(types.TIMESTAMPTZ)
    if types.session_zone_is_utc():
        return pc.cast(pc.cast(v, pa.timestamp("us")), target)
    if isinstance(v, pa.Scalar):
        return pa.scalar(None if not v.is_valid else _instant_of(infinity.pyscalar(v)), target)
    return map_rows(_instant_of, [v], out_type=target)


def _instant_of(v):
    if type(v) is dt.date:
        v = dt.datetime(v.year, v.month, v.day)
    return types.local_to_instant(v)


def _vec_cmp(kernel, name):
    @arrow_errors
    def run(a, b):
        if pa.types.is_interval(a.type) or pa.types.is_interval(b.type):
            # Arrow has no interval comparison kernels; Interval orders as PostgreSQL
            return map_rows(_INTERVAL_OPS[name], [a, b], out_type=pa.bool_())
        a, b = _vec_align(a, b)
        if _has_nan(a) or _has_nan(b):
            return _nan_compare(name, a, b)
        return kernel(a, b)
    return run


def _by_span(op):
    """An interval comparison as PostgreSQL makes it: by the span (a month is 30 days, a
    day 24 hours), so '1 mon' = '30 days' though the fields differ."""
    return lambda a, b: op(a._span(), b._span())


_INTERVAL_OPS = {name: _by_span(op) for name, op in (
    ("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("le", operator.le),
    ("gt", operator.gt), ("ge", operator.ge))}


def _has_nan(v) -> bool:
    if not pa.types.is_floating(v.type):
        return False
    if isinstance(v, pa.Scalar):
        return v.is_valid and infinity.pyscalar(v) != infinity.pyscalar(v)
    return len(v) > 0 and bool(pc.any(pc.is_nan(v)).as_py())


def _nan_compare(name: str, a, b):
    """Comparisons on (is NaN, value) keys: NaN = NaN, and NaN above every number."""
    if name in ("gt", "ge"):
        return _nan_compare("lt" if name == "gt" else "le", b, a)
    na = pc.fill_null(pc.is_nan(a), False) if pa.types.is_floating(a.type) else pa.scalar(False)
    nb = pc.fill_null(pc.is_nan(b), False) if pa.types.is_floating(b.type) else pa.scalar(False)
    neither = pc.and_(pc.invert(na), pc.invert(nb))
    eq = pc.or_(pc.and_(na, nb), pc.and_(neither, pc.fill_null(pc.equal(a, b), False)))
    lt = pc.or_(pc.and_(pc.invert(na), nb), pc.and_(neither, pc.fill_null(pc.less(a, b), False)))
    result = {"eq": eq, "ne": pc.invert(eq), "lt": lt, "le": pc.or_(lt, eq)}[name]
    nulls = pc.or_(pc.is_null(a), pc.is_null(b))
    return pc.if_else(nulls, pa.scalar(None, pa.bool_()), result)


def _row_distinct(a, b):
    if a is None or b is None:
        return (a is None) != (b is None)
    a, b = _align_temporal(a, b)
    return a != b and not (a != a and b != b)     # NaN is not distinct from NaN


@arrow_errors
def _vec_distinct(a, b):
    if pa.types.is_interval(a.type) or pa.types.is_interval(b.type):
        eq = map_rows(_INTERVAL_OPS["eq"], [a, b], out_type=pa.bool_())   # (no kernel)
    else:
        a, b = _vec_align(a, b)
        # float8: NaN is not distinct from NaN (PostgreSQL's NaN equals itself)
        eq = _nan_compare("eq", a, b) if _has_nan(a) or _has_nan(b) else pc.equal(a, b)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    # distinct = one side null, or both valid and not equal
    return pc.if_else(both_null, False, pc.if_else(one_null, True, pc.invert(eq)))


def _row_and(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _row_or(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _bool2(ts):
    return B if all(t in (B, N) for t in ts) else None


def register(reg) -> None:
    for name, vec, op in (("eq", kernel("equal"), operator.eq),
                          ("ne", kernel("not_equal"), operator.ne),
                          ("lt", kernel("less"), operator.lt),
                          ("le", kernel("less_equal"), operator.le),
                          ("gt", kernel("greater"), operator.gt),
                          ("ge", kernel("greater_equal"), operator.ge)):
        reg.add(ScalarFunction(name, _resolve_cmp, _vec_cmp(vec, name), _row_cmp(op)))
    reg.add(ScalarFunction("is_distinct", _resolve_cmp, _vec_distinct, _row_distinct, strict=False))
    reg.add(ScalarFunction("is_not_distinct", _resolve_cmp,
                           lambda a, b: pc.invert(_vec_distinct(a, b)),
                           lambda a, b: not _row_distinct(a, b), strict=False))
    reg.add(ScalarFunction("and", _bool2, kernel("and_kleene"), _row_and, strict=False))
    reg.add(ScalarFunction("or", _bool2, kernel("or_kleene"), _row_or, strict=False))
    reg.add(ScalarFunction("not", lambda ts: B if ts[0] in (B, N) else None, kernel("invert"),
                           lambda a: not a))
    reg.add(ScalarFunction("is_null", lambda ts: B, kernel("is_null"), lambda a: a is None,
                           strict=False))
    reg.add(ScalarFunction("is_not_null", lambda ts: B, kernel("is_valid"), lambda a: a is not None,
                           strict=False))
    reg.add(ScalarFunction("is_true", lambda ts: B if ts[0] in (B, N) else None,
                           lambda a: pc.fill_null(pc.equal(a, True), False),
                           lambda a: a is True, strict=False))
    reg.add(ScalarFunction("is_false", lambda ts: B if ts[0] in (B, N) else None,
                           lambda a: pc.fill_null(pc.equal(a, False), False),
                           lambda a: a is False, strict=False))
