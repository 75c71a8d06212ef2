"""Conditional and utility functions: COALESCE, NULLIF, GREATEST/LEAST, NOW, UUIDs."""
from __future__ import annotations

import time
import uuid

from ...lazy_import import arrow as pa, compute as pc

from ... import numeric, numeric_arrays, statement_limits, types
from ..semantics import hash_key
from .registry import ScalarFunction


def _same_type(ts):
    """All arguments of one type (numbers widen); the binder has cast them already."""
    known = [t for t in ts if t != types.NULL]
    if not known:
        return types.NULL
    if all(types.is_numeric(t) for t in known):
        return types.wider_number(known)
    return known[0] if all(t == known[0] for t in known) else None


def _row_coalesce(*args):
    for a in args:
        if a is not None:
            return a
    return None


def _row_nullif(a, b):
    a, b = numeric_arrays.as_key_value(a), numeric_arrays.as_key_value(b)
    return None if a is not None and b is not None and a == b else a


def _vec_nullif(a, b):
    a, b = numeric_arrays.one_form((a, b))
    eq = pc.fill_null(pc.equal(hash_key(a), hash_key(b)), False)    # numerics by value
    return pc.if_else(eq, pa.scalar(None, a.type), a)


# NaN is greater than every number (PostgreSQL), while Python's max/min answer by
# argument order and Arrow's element-wise max/min skip NaN.
def _is_nan(v) -> bool:
    return isinstance(v, float) and v != v


def _row_greatest(*args):
    vals = [numeric_arrays.as_key_value(a) for a in args if a is not None]
    if any(_is_nan(v) for v in vals):
        return float("nan")
    return max(vals) if vals else None


def _row_least(*args):
    vals = [numeric_arrays.as_key_value(a) for a in args if a is not None]
    numbers = [v for v in vals if not _is_nan(v)]
    return min(numbers) if numbers else (vals[0] if vals else None)


def _vec_greatest(*args):
    args = numeric_arrays.one_form(args)
    out = pc.max_element_wise(*args)
    if not pa.types.is_floating(out.type):
        return out
    nan = None
    for a in args:
        if pa.types.is_floating(a.type):
            m = pc.fill_null(pc.is_nan(a), False)
            nan = m if nan is None else pc.or_(nan, m)
    if nan is None:
        return out
    return pc.if_else(nan, pa.scalar(float("nan"), out.type), out)


# greatest/least of numerics: by value, and of values equal in value (2.5 and 2.50) the
# first in argument order, as PostgreSQL's fold keeps its result unless a later argument
# is strictly greater (less). The storage keys' bytes would prefer the larger scale.
def _numeric_only(ts):
    return types.NUMERIC if _same_type(ts) == types.NUMERIC else None


def _row_numeric_extreme(greater: bool):
    def pick(*args):
        best = key = None
        for v in args:
            if v is None:
                continue
            k = numeric.value_part(v)
            if best is None or (k > key if greater else k < key):
                best, key = v, k
        return best
    return pick


def _vec_numeric_extreme(greater: bool):
    def pick(*args):
        args = numeric_arrays.one_form(args)
        if not any(pa.types.is_binary(a.type) for a in args):
            # decimal128 of one scale: equal values print alike
            return (pc.max_element_wise if greater else pc.min_element_wise)(*args)
        best, key = args[0], hash_key(args[0])
        for a in args[1:]:
            k = hash_key(a)
            take = pc.or_(pc.fill_null((pc.greater if greater else pc.less)(k, key), False),
                          pc.and_(pc.is_null(best), pc.is_valid(a)))
            best, key = pc.if_else(take, a, best), pc.if_else(take, k, key)
        return best
    return pick


def _pg_sleep(seconds) -> None:
    """Sleep, waking every 10 ms to honour a cancel or statement_timeout (57014)."""
    end = time.monotonic() + max(float(seconds), 0.0)
    while True:
        statement_limits.check()
        left = end - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(left, 0.01))


_now = statement_limits.transaction_time    # one value per statement / transaction


def _local_now():
    """The transaction's time as the session TimeZone's wall clock (localtimestamp)."""
    return types.instant_to_local(_now().replace(tzinfo=statement_limits.UTC))


def register(reg) -> None:
    variadic = (lambda ts: types.INTEGER if ts else None)
    reg.add(ScalarFunction("num_nulls", variadic, None,
                           lambda *vs: sum(v is None for v in vs), strict=False))
    reg.add(ScalarFunction("num_nonnulls", variadic, None,
                           lambda *vs: sum(v is not None for v in vs), strict=False))
    reg.add(ScalarFunction("coalesce", _same_type, lambda *a: pc.coalesce(*numeric_arrays.one_form(a)),
                           _row_coalesce,
                           strict=False))
    reg.add(ScalarFunction("nullif", lambda ts: _same_type(ts) and ts[0], _vec_nullif, _row_nullif,
                           strict=False))
    reg.add(ScalarFunction("greatest", _same_type, _vec_greatest,
                           _row_greatest, strict=False))
    reg.add(ScalarFunction("least", _same_type, lambda *a: pc.min_element_wise(*numeric_arrays.one_form(a)),
                           _row_least, strict=False))
    for name, greater in (("greatest", True), ("least", False)):   # tried first: numerics
        reg.add(ScalarFunction(name, _numeric_only, _vec_numeric_extreme(greater),
                               _row_numeric_extreme(greater), strict=False))
    # now() and its kin are instants (timestamptz); localtimestamp and current_date are
    # the session TimeZone's wall clock and calendar day, as in PostgreSQL
    tz = types.TIMESTAMPTZ
    for name, clock in (("now", _now), ("current_timestamp", _now),
                        ("transaction_timestamp", _now),
                        ("statement_timestamp", statement_limits.statement_time),
                        ("clock_timestamp", statement_limits.clock)):
        instant = (lambda clock=clock: clock().replace(tzinfo=statement_limits.UTC))
        reg.add(ScalarFunction(name, lambda ts: tz if not ts else None,
                               lambda instant=instant: pa.scalar(instant(),
                                                                 types.arrow_type(tz)),
                               instant, volatile=True))
    reg.add(ScalarFunction("localtimestamp", lambda ts: types.TIMESTAMP if not ts else None,
                           lambda: pa.scalar(_local_now(), pa.timestamp("us")),
                           _local_now, volatile=True))
    reg.add(ScalarFunction("current_date", lambda ts: types.DATE if not ts else None,
                           lambda: pa.scalar(_local_now().date(), pa.date32()),
                           lambda: _local_now().date(), volatile=True))
    # pg_sleep returns void in PostgreSQL: a NULL here
    reg.add(ScalarFunction("pg_sleep", lambda ts: types.TEXT if len(ts) == 1 and ts[0] in (
        types.INTEGER, types.FLOAT, types.NULL) else None, None, _pg_sleep, volatile=True))
    reg.add(ScalarFunction("gen_random_uuid", lambda ts: types.UUID if not ts else None,
                           None, lambda: str(uuid.uuid4()), volatile=True))
