"""``generate_series`` values: integers, numerics, or dates/timestamps stepped by an interval.

Shared by the binder (constant arguments: the series is built once, at bind time)
and the table-function operator (arguments known per row under LATERAL).
"""
from __future__ import annotations

import datetime as dt

from ...lazy_import import arrow as pa, numpy as np

from ... import errors, infinity, numeric, types
from ... import statement_limits as limits
from .arith import add_interval_to

MAX_ROWS = 10_000_000


def series_type(arg_types: list[str], untyped: list[bool] | None = None) -> str | None:
    """The element type of ``generate_series(<arg_types>)``, or None if there is none.
    ``untyped`` marks quoted literals (PostgreSQL's unknown), which take the type the
    others pick. Dates and timestamps stepped by an interval resolve as PostgreSQL's
    overloads do: timestamp when a bound is a timestamp and none a timestamptz, else
    timestamptz (its preferred type: two dates, or two quoted literals, give one)."""
    if len(arg_types) not in (2, 3):
        return None
    untyped = list(untyped or ()) + [False] * (len(arg_types) - len(untyped or ()))
    if all(t in (types.INTEGER, types.NULL) for t in arg_types) and not any(untyped):
        return types.INTEGER
    if types.NUMERIC in arg_types and not any(untyped) and \
            all(t in (types.INTEGER, types.NUMERIC, types.NULL) for t in arg_types):
        return types.NUMERIC
    if len(arg_types) != 3 or not (arg_types[2] == types.INTERVAL or untyped[2]):
        return None
    bounds = [types.NULL if u else t for t, u in zip(arg_types[:2], untyped)]
    if not all(t in (types.DATE, types.TIMESTAMP, types.TIMESTAMPTZ, types.NULL)
               for t in bounds) or bounds == [types.NULL, types.NULL] and not any(untyped):
        return None
    if types.TIMESTAMP in bounds and types.TIMESTAMPTZ not in bounds:
        return types.TIMESTAMP
    return types.TIMESTAMPTZ      # steps of days and months in the session's zone


def _as_element(value, element_type: str):
    """A bound as a value of the series' type (a date is its midnight, in the session's
    zone for timestamptz)."""
    if isinstance(value, infinity.Infinite):
        return infinity.as_kind(value, element_type)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if element_type == types.TIMESTAMPTZ and value.tzinfo is None:
        return types.local_to_instant(value)
    return value


def generate_series(values: list, element_type: str) -> pa.Array:
    """The series for argument values (None anywhere: no rows), as an Arrow array."""
    if any(v is None for v in values):
        return pa.array([], types.arrow_type(element_type))
    if element_type == types.NUMERIC:
        return _numeric_series(values)
    if element_type == types.INTEGER:
        start, stop = values[0], values[1]
        step = values[2] if len(values) == 3 else 1
        if step == 0:
            raise errors.sql_error("22023", "step size cannot equal zero")
        end = stop + (1 if step > 0 else -1)
        count = max(0, (end - start + step - (1 if step > 0 else -1)) // step)
        limits.charge(8 * count, "generate_series")      # max_statement_memory (53200)
        if count > 1 << 24:   # big: built in slices, so interrupt/timeout act between them
            parts, first = [], start
            while first != end and (first < end) == (step > 0):
                last = first + step * (1 << 22)
                last = min(last, end) if step > 0 else max(last, end)
                parts.append(np.arange(first, last, step, dtype=np.int64))
                first = last
                limits.check()
            return pa.array(np.concatenate(parts))
        return pa.array(np.arange(start, end, step, dtype=np.int64))
    values = [_as_element(values[0], element_type), _as_element(values[1], element_type),
              values[2]]
    if isinstance(values[0], infinity.Infinite) or isinstance(values[1], infinity.Infinite):
        return _infinite_series(values, element_type)
    cur, stop, iv = values
    out = []
    forward = add_interval_to(cur, iv) > cur
    if add_interval_to(cur, iv) == cur:
        raise errors.sql_error("22023", "step size cannot equal zero")
    while (cur <= stop) if forward else (cur >= stop):
        out.append(cur)
        if len(out) & 0xFFFF == 0:
            limits.charge(8 * 0x10000, "generate_series")
        if len(out) > MAX_ROWS:
            raise errors.sql_error("54000", "generate_series result too large")
        # each value is the last plus the step, as PostgreSQL's generate_series: a
        # month step from Jan 31 goes Feb 29, Mar 29, ...
        cur = add_interval_to(cur, iv)
    return pa.array(out, types.arrow_type(element_type))


def _numeric_series(values: list) -> pa.Array:
    """generate_series(numeric, numeric [, numeric]): each value the last plus the step,
    exact, so it shows the larger scale of the two (2, 2.75, 3.50 ...), as PostgreSQL."""
    start, stop = (numeric.as_decimal(v) for v in values[:2])
    step = numeric.as_decimal(values[2]) if len(values) == 3 else numeric.as_decimal(1)
    for value, what in ((start, "start value"), (stop, "stop value"), (step, "step size")):
        if value.is_nan():
            raise errors.sql_error("22023", f"{what} cannot be NaN")
        if value.is_infinite() and what != "step size":
            raise errors.sql_error("22023", f"{what} cannot be infinity")
    if step == 0:
        raise errors.sql_error("22023", "step size cannot equal zero")
    out, cur = [], start
    while (cur <= stop) if step > 0 else (cur >= stop):
        out.append(numeric.encode(cur))
        if len(out) & 0xFFFF == 0:
            limits.charge(8 * 0x10000, "generate_series")
        if len(out) > MAX_ROWS:
            raise errors.sql_error("54000", "generate_series result too large")
        cur = numeric.add(cur, step)
    return pa.array(out, pa.binary())


def _infinite_series(values: list, element_type: str) -> pa.Array:
    """A series with an infinite bound: empty when the step walks away from the stop,
    else endless (PostgreSQL streams it; here the series is built whole: 54000)."""
    start, stop, iv = values
    span = (iv.months * 30 + iv.days) * 86_400_000_000 + iv.micros
    if span == 0:
        raise errors.sql_error("22023", "step size cannot equal zero")
    if (span > 0 and start > stop) or (span < 0 and start < stop):
        return pa.array([], types.arrow_type(element_type))
    raise errors.sql_error("54000", "generate_series result too large",
                           detail="A series to or from infinity never ends; it is built "
                                  "whole here.")
