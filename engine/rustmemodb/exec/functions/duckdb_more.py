"""More of DuckDB's function names notebooks bring: ``try_cast`` (NULL where the cast
fails), ``regexp_extract``, ``strptime``, ``epoch_ms(ms)``, ``time_bucket``, and the
aggregates ``first``,
``last`` and ``any_value`` (exec/operators/aggregate.py runs them per group, in input
order). ``if``/``iff``, ``mode(x)``, ``list(x)`` and ``approx_count_distinct`` are
spellings the binder maps onto existing functions (sql/bind/bind_expr.py,
bind_aggregate_ext.py).
"""
from __future__ import annotations

import datetime as dt
import re

from ... import errors, types
from ...plan.aggregates import AGGREGATE_TYPES
from ..expr.rowwise import map_rows
from ..operators.aggregate import PYTHON_AGGREGATES
from .cast import cast_row, castable
from .registry import ScalarFunction, fixed

T, I, TS, N = types.TEXT, types.INTEGER, types.TIMESTAMP, types.NULL
_TARGETS = (*types.ALL_TYPES, types.INTERVAL)
_EPOCH = dt.datetime(1970, 1, 1)


def try_cast_name(target: str) -> str:
    return "try_cast_" + target.lower()


def _try_cast(target: str, source: str | None = None):
    """The row body of TRY_CAST(x AS target): NULL where the cast fails. ``source``: the
    argument's type where its row value does not tell it (a numeric's stored key is bytes,
    as a bytea's)."""
    def row(value):
        src = source or (types.from_python(value)[1] if not isinstance(value, str) else T)
        try:
            return cast_row(value, src, target)
        except (errors.Error, ValueError, OverflowError):
            return None
    return row


def _rows(row, target: str):
    return lambda *args: map_rows(row, args, out_type=types.arrow_type(target), strict=True)


def _regexp_extract(text: str, pattern: str, group: int = 0) -> str:
    """DuckDB's: the first match (or its ``group``), '' when nothing matches."""
    try:
        m = re.search(pattern, text)
    except re.error as exc:
        raise errors.sql_error("2201B", f"invalid regular expression: {exc}") from None
    if m is None:
        return ""
    if not 0 <= group <= (m.re.groups or 0):
        raise errors.sql_error("22023", f"regexp_extract group {group} out of range")
    return m.group(group) or ""


def _strptime(text: str, fmt: str) -> dt.datetime:
    try:
        value = dt.datetime.strptime(text, fmt)
    except ValueError as exc:
        raise errors.sql_error("22007", f'could not parse "{text}" using format "{fmt}"',
                               detail=str(exc)) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


# time_bucket's default origins (DuckDB): buckets of months count from 2000-01-01, finer
# ones from Monday 2000-01-03, so weeks start on Mondays.
_MONTH_ORIGIN = dt.datetime(2000, 1, 1)
_ORIGIN = dt.datetime(2000, 1, 3)


def _time_bucket(width: types.Interval, value, origin=None):
    """The start of the ``width``-long bucket holding ``value`` (a date gives a date)."""
    is_date = not isinstance(value, dt.datetime)
    ts = value if not is_date else dt.datetime(value.year, value.month, value.day)
    if origin is not None and not isinstance(origin, dt.datetime):
        origin = dt.datetime(origin.year, origin.month, origin.day)
    if width.months:
        if width.days or width.micros:
            raise errors.sql_error("0A000", "time_bucket widths mixing months with days "
                                            "or time are not supported")
        if width.months < 0:
            raise errors.sql_error("22023", "time_bucket width must be positive")
        base = origin or _MONTH_ORIGIN
        months = (ts.year - base.year) * 12 + (ts.month - base.month)
        if (ts.day, ts.time()) < (base.day, base.time()):
            months -= 1
        start = months // width.months * width.months
        year, month = divmod(base.month - 1 + start, 12)
        out = base.replace(year=base.year + year, month=month + 1)
    else:
        step = width.days * 86_400_000_000 + width.micros
        if step <= 0:
            raise errors.sql_error("22023", "time_bucket width must be positive")
        base = origin or _ORIGIN
        delta = (ts - base) // dt.timedelta(microseconds=1)
        out = base + dt.timedelta(microseconds=delta // step * step)
    return out.date() if is_date else out


def _first(values, a):
    return values[0] if len(values) else None


def _last(values, a):
    return values[-1] if len(values) else None


def _any_value(values, a):
    return next((v for v in values if v is not None), None)


def register(reg) -> None:
    for target in _TARGETS:
        row = _try_cast(target)
        reg.add(ScalarFunction(
            try_cast_name(target),
            lambda ts, target=target: target if len(ts) == 1 and castable(ts[0], target)
            else None, _rows(row, target), row))
        numeric_row = _try_cast(target, types.NUMERIC)
        reg.add(ScalarFunction(
            try_cast_name(target),
            lambda ts, target=target: target if list(ts) == [types.NUMERIC] and
            castable(types.NUMERIC, target) else None, _rows(numeric_row, target), numeric_row))
    reg.add(ScalarFunction("regexp_extract", fixed((T, T, T), (T, T, I, T)),
                           _rows(_regexp_extract, T), _regexp_extract))
    reg.add(ScalarFunction("strptime", fixed((T, T, TS)), _rows(_strptime, TS), _strptime))
    D, IV = types.DATE, types.INTERVAL
    reg.add(ScalarFunction("time_bucket", fixed((IV, TS, TS), (IV, D, D), (IV, TS, TS, TS),
                                                (IV, D, D, D)), None, _time_bucket))
    reg.add(ScalarFunction("epoch_ms", fixed((I, TS)), None,
                           lambda ms: _EPOCH + dt.timedelta(milliseconds=ms)))
    same = lambda ts: ts[0] if ts and ts[0] != N else (T if ts else None)  # noqa: E731
    for name, fn in (("first", _first), ("last", _last), ("any_value", _any_value)):
        AGGREGATE_TYPES[name] = same
        PYTHON_AGGREGATES[name] = fn
