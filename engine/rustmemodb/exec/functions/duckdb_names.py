"""DuckDB's function names, for notebooks that bring DuckDB SQL.

Most are other spellings of what the engine computes under PostgreSQL's names
(``year(d)`` is ``extract(year FROM d)``, ``prefix`` is ``starts_with``,
``list_value`` is ``ARRAY[...]``, ``today()`` is ``current_date``); ``date_diff``
and ``typeof`` follow DuckDB's own rules. tests/engine/test_duckdb_functions.py runs
each against DuckDB on the same values.
"""
from __future__ import annotations

import calendar
import datetime as dt

from ...lazy_import import arrow as pa, compute as pc
from ... import errors, types
from ...catalog.pg_types import PG_TYPES
from ..expr.rowwise import map_rows
from .array import _row_from_string, _row_make, array_make
from .datetime import _extract_row, _extract_vec, field_name
from .misc import _now
from .registry import ScalarFunction, fixed

I, F, T, B, D, TS, N = (types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN, types.DATE,
                        types.TIMESTAMP, types.NULL)
_DATES = (D, TS, "TIMESTAMPTZ", N)

# DuckDB's shorthand -> the EXTRACT field it reads (all BIGINT in DuckDB).
_PARTS = {"year": "year", "month": "month", "day": "day", "hour": "hour", "minute": "minute",
          "second": "second", "quarter": "quarter", "dayofweek": "dow", "day_of_week": "dow",
          "isodow": "isodow", "dayofweek_iso": "isodow", "dayofyear": "doy", "day_of_year": "doy", "week": "week",
          "weekofyear": "week", "week_of_year": "week", "isoyear": "isoyear", "decade": "decade",
          "century": "century", "millennium": "millennium"}


def _part(name: str, field: str) -> ScalarFunction:
    """``name(d)``: EXTRACT's ``field`` as a whole number (DuckDB's second() drops the
    fraction)."""
    def row(v):
        return int(_extract_row(field, v))

    def vec(v):
        out = _extract_vec(pa.scalar(field), v)
        return pc.cast(pc.floor(out), pa.int64()) if pa.types.is_floating(out.type) else out
    return ScalarFunction(name, fixed((D, I), (TS, I), ("TIMESTAMPTZ", I)), vec, row)


def _as_ts(v) -> dt.datetime:
    return v if isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)


def _epoch_ms(v) -> int:
    """Milliseconds since 1970, rounded half away from zero as DuckDB's are."""
    us = (_as_ts(v) - _EPOCH) // dt.timedelta(microseconds=1)
    q, r = divmod(abs(us), 1000)
    q += r >= 500
    return q if us >= 0 else -q


def _last_day(v) -> dt.date:
    return dt.date(v.year, v.month, calendar.monthrange(v.year, v.month)[1])


# ---- date_diff ------------------------------------------------------------------------------

_US = {"microseconds": 1, "milliseconds": 1000, "second": 1_000_000, "minute": 60_000_000,
       "hour": 3_600_000_000}
_EPOCH = dt.datetime(1970, 1, 1)


def _unit(text: str) -> str:
    f = field_name(text)
    f = {"millisecond": "milliseconds", "microsecond": "microseconds"}.get(f, f)
    if f not in ("year", "quarter", "month", "week", "day", "decade", "century", "millennium",
                 *_US):
        raise errors.sql_error("22023", f'date_diff does not support the unit "{text}"')
    return f


def _diff_row(unit: str, a, b) -> int:
    """Unit boundaries crossed from ``a`` to ``b`` (DuckDB's date_diff): calendar units
    compare the fields, time units truncate both ends, a week is 7 whole days."""
    a, b = _as_ts(a), _as_ts(b)
    if unit in ("year", "decade", "century", "millennium"):
        div = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}[unit]
        return b.year // div - a.year // div
    if unit == "quarter":
        return (b.year * 4 + (b.month - 1) // 3) - (a.year * 4 + (a.month - 1) // 3)
    if unit == "month":
        return (b.year * 12 + b.month) - (a.year * 12 + a.month)
    if unit in ("day", "week"):
        days = (b.date() - a.date()).days
        return days if unit == "day" else int(days / 7)
    step = _US[unit]
    us = lambda t: (t - _EPOCH) // dt.timedelta(microseconds=1)   # noqa: E731
    return us(b) // step - us(a) // step


def _diff_vec(unit_s, a, b):
    if not isinstance(unit_s, pa.Scalar) or (isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar)):
        return map_rows(lambda u, x, y: _diff_row(_unit(u), x, y), [unit_s, a, b],
                        out_type=pa.int64())
    unit = _unit(unit_s.as_py())
    if unit in ("day", "week"):
        da, db = (pc.cast(pc.cast(pc.cast(x, pa.date32()), pa.int32()), pa.int64())
                  for x in (a, b))
        days = pc.subtract(db, da)
        return days if unit == "day" else pc.cast(pc.trunc(pc.divide(
            pc.cast(days, pa.float64()), 7.0)), pa.int64())
    if unit in _US:
        ua, ub = (pc.cast(pc.cast(x, pa.timestamp("us")), pa.int64()) for x in (a, b))
        if _US[unit] == 1:
            return pc.subtract(ub, ua)
        step = float(_US[unit])
        fa, fb = (pc.floor(pc.divide(pc.cast(x, pa.float64()), step)) for x in (ua, ub))
        return pc.cast(pc.subtract(fb, fa), pa.int64())
    ya, yb = pc.year(a), pc.year(b)
    if unit == "month":
        return pc.subtract(pc.add(pc.multiply(yb, 12), pc.month(b)),
                           pc.add(pc.multiply(ya, 12), pc.month(a)))
    if unit == "quarter":
        return pc.subtract(pc.add(pc.multiply(yb, 4), pc.quarter(b)),
                           pc.add(pc.multiply(ya, 4), pc.quarter(a)))
    return map_rows(lambda x, y: _diff_row(unit, x, y), [a, b], out_type=pa.int64())


# ---- typeof ---------------------------------------------------------------------------------

_DUCK_TYPES = {types.INTEGER: "BIGINT", types.FLOAT: "DOUBLE", types.TEXT: "VARCHAR",
               types.BOOLEAN: "BOOLEAN", types.DATE: "DATE", types.TIMESTAMP: "TIMESTAMP",
               "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE", types.INTERVAL: "INTERVAL",
               types.UUID: "UUID", types.JSON: "JSON", types.JSONT: "JSON", types.TIME: "TIME",
               types.BYTEA: "BLOB", "NUMERIC": "DECIMAL",
               types.NULL: '"NULL"', types.UNKNOWN: '"NULL"'}


def _typeof(sql_type: str) -> ScalarFunction:
    """``typeof`` of an argument of ``sql_type``, in DuckDB's spelling."""
    if types.is_array(sql_type):
        element = types.element_type(sql_type)
        name = _DUCK_TYPES.get(element, element) + "[]"
    else:
        name = _DUCK_TYPES.get(sql_type, sql_type)
    return ScalarFunction("typeof", lambda ts: T if len(ts) == 1 and ts[0] == sql_type
                          else None, None, lambda _value: name, strict=False)


def _list_type(ts):
    """list_value's type: an array of the one type its (non-NULL) arguments share."""
    known = [t for t in ts if t != N]
    if not ts or any(types.is_array(t) for t in known) or types.INTERVAL in known:
        return None
    if not known:
        return types.array_of(T)
    return types.array_of(known[0]) if all(t == known[0] for t in known) else None


def _contains(ts):
    if len(ts) == 2 and all(t in (T, N) for t in ts):
        return B
    if len(ts) == 2 and types.is_array(ts[0]) and ts[1] in (types.element_type(ts[0]), N):
        return B
    return None


def _contains_row(haystack, needle):
    return needle in haystack


def register(reg) -> None:
    for name, field in _PARTS.items():
        reg.add(_part(name, field))
    reg.add(ScalarFunction("epoch", fixed((D, F), (TS, F), ("TIMESTAMPTZ", F)), None,
                           lambda v: _extract_row("epoch", v)))
    reg.add(ScalarFunction("epoch_ms", fixed((D, I), (TS, I), ("TIMESTAMPTZ", I)), None,
                           _epoch_ms))
    reg.add(ScalarFunction("today", lambda ts: D if not ts else None,
                           lambda: pa.scalar(_now().date(), pa.date32()),
                           lambda: _now().date(), volatile=True))
    reg.add(ScalarFunction("last_day", fixed((D, D), (TS, D)), None, _last_day))
    reg.add(ScalarFunction("monthname", fixed((D, T), (TS, T)), None,
                           lambda v: calendar.month_name[v.month]))
    reg.add(ScalarFunction("dayname", fixed((D, T), (TS, T)), None,
                           lambda v: calendar.day_name[v.weekday()]))
    for name in ("date_diff", "datediff"):
        reg.add(ScalarFunction(name, lambda ts: I if len(ts) == 3 and ts[0] in (T, N) and
                               ts[1] in _DATES and ts[2] in _DATES else None,
                               _diff_vec, lambda u, a, b: _diff_row(_unit(u), a, b)))
    for sql_type in [types.NULL, types.UNKNOWN, *PG_TYPES, *map(types.array_of, PG_TYPES)]:
        reg.add(_typeof(sql_type))
    reg.add(ScalarFunction("list_value", _list_type, array_make, _row_make, strict=False))
    reg.add(ScalarFunction("string_split", fixed((T, T, types.array_of(T))), None,
                           _row_from_string))
    reg.add(ScalarFunction("contains", _contains, None, _contains_row))
    reg.add(ScalarFunction("prefix", fixed((T, T, B)), None, lambda s, p: s.startswith(p)))
    reg.add(ScalarFunction("suffix", fixed((T, T, B)), None, lambda s, p: s.endswith(p)))
    reg.add(ScalarFunction("ends_with", fixed((T, T, B)), None, lambda s, p: s.endswith(p)))
    reg.add(ScalarFunction("length", lambda ts: I if len(ts) == 1 and types.is_array(ts[0])
                           else None, None, len))
    for name in ("list_contains", "array_contains", "list_has"):
        reg.add(ScalarFunction(name, lambda ts: B if len(ts) == 2 and types.is_array(ts[0]) and
                               ts[1] in (types.element_type(ts[0]), N) else None, None,
                               _contains_row))
