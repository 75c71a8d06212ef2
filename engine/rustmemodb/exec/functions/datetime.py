"""Date/time functions: EXTRACT/date_part, date_trunc, age, and vectorised date arithmetic.

``date ± integer`` and ``date/timestamp ± interval`` are registered here as
overloads of ``add``/``sub`` that take precedence over the generic row-wise
bodies in ``arith.py``: an interval with no months is a fixed number of
microseconds, so the whole column moves with one Arrow add; month intervals
(calendar arithmetic, clamped to the month's end) still go row by row.

``interval * number`` and ``interval / number`` scale each field and cascade the
fractions down (months to days at 30 a month, days to microseconds), as PostgreSQL's
interval_mul/interval_div do.

EXTRACT returns INTEGER for whole-number fields (year, month, day, hour, dow,
...) and FLOAT for second (with fractions), epoch and sub-second fields.
``date_trunc`` on a DATE gives a TIMESTAMP at midnight. A TIMESTAMPTZ's fields, its
truncation and its calendar arithmetic (days, months) are taken in the session's
TimeZone, as PostgreSQL's; its epoch is the instant's. Unknown fields/units are ``22023``.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal

from ...lazy_import import arrow as pa, compute as pc, kernel

from ... import errors, infinity, numeric, statement_limits, types
from ..semantics import arrow_errors
from .registry import ScalarFunction, fixed
from .time_of_day import clock_field, clock_micros, extract_time
from ..expr.rowwise import map_rows
from ..typmods import round_temporal, round_temporal_array

I, F, T, D, TS, IV, N = (types.INTEGER, types.FLOAT, types.TEXT, types.DATE, types.TIMESTAMP,
                         types.INTERVAL, types.NULL)
TM, TZ = types.TIME, types.TIMESTAMPTZ
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _local(v):
    """A timestamptz as the wall-clock time of the session's TimeZone (PostgreSQL takes
    a timestamptz's fields there); other values as they are."""
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return types.instant_to_local(v)
    return v


def _arrow_zone(zone) -> str | None:
    """The session's zone as Arrow names it, or None when Arrow cannot (then row by row)."""
    key = getattr(zone, "key", None)
    if key is not None:
        return key
    if isinstance(zone, dt.timezone):
        secs = int(zone.utcoffset(None).total_seconds())
        sign = "-" if secs < 0 else "+"
        return f"{sign}{abs(secs) // 3600:02d}:{abs(secs) // 60 % 60:02d}"
    return None


def local_times(v):
    """A timestamptz column as the naive wall-clock times of the session's TimeZone."""
    if not (pa.types.is_timestamp(v.type) and v.type.tz is not None):
        return v
    if types.session_zone_is_utc():
        return pc.cast(v, pa.timestamp("us"))
    name = _arrow_zone(types._limits.zone())
    if name is not None and not isinstance(v, pa.Scalar):
        return pc.local_timestamp(pc.cast(v, pa.timestamp("us", tz=name)))
    return map_rows(types.instant_to_local, [v], out_type=pa.timestamp("us"))


def instants(v):
    """Naive wall-clock times of the session's TimeZone as timestamptz."""
    target = types.arrow_type(TZ)
    if types.session_zone_is_utc():
        return pc.cast(v, target)
    return map_rows(types.local_to_instant, [v], out_type=target)

_INT_FIELDS = {"year", "month", "day", "hour", "minute", "dow", "isodow", "doy", "week",
               "quarter", "decade", "century", "millennium", "isoyear", "timezone",
               "timezone_hour", "timezone_minute"}
# a timestamptz's offset in the session's zone at that instant, in seconds (or its parts)
_ZONE_FIELDS = ("timezone", "timezone_hour", "timezone_minute")
_FLOAT_FIELDS = {"second", "epoch", "milliseconds", "microseconds", "millisecond",
                 "microsecond", "julian"}
_ALIASES = {"years": "year", "months": "month", "days": "day", "hours": "hour",
            "minutes": "minute", "seconds": "second", "mon": "month", "mons": "month",
            "min": "minute", "mins": "minute", "sec": "second", "secs": "second",
            "y": "year", "d": "day", "h": "hour", "m": "minute", "s": "second",
            "ms": "milliseconds", "us": "microseconds", "weeks": "week", "dayofweek": "dow",
            "dayofyear": "doy", "quarters": "quarter"}


def field_name(text: str) -> str:
    f = text.strip().lower()
    f = _ALIASES.get(f, f)
    if f not in _INT_FIELDS and f not in _FLOAT_FIELDS:
        raise errors.sql_error("22023", f'unit "{text.lower()}" not recognized')
    return f


def extract_type(field: str) -> str:
    return I if field in _INT_FIELDS else F


# ---- EXTRACT ------------------------------------------------------------------------------

# the fields PostgreSQL 15 reports as ±Infinity for an infinite date/timestamp (they
# grow with time); the others are NULL
_MONOTONIC = {"year", "decade", "century", "millennium", "julian", "isoyear", "epoch"}


def _extract_infinite(field: str, v: infinity.Infinite):
    if field not in _MONOTONIC:
        return None
    if field in _INT_FIELDS:
        raise errors.sql_error(
            "22003", f"{field} of {v} is {'' if v.positive else '-'}Infinity, which "
                     "extract's INTEGER result cannot hold here",
            hint="Test isfinite(x) first, or use extract(epoch ...)/date_part('julian', ...).")
    return float("inf") if v.positive else float("-inf")


def _extract_row(field, v):
    if isinstance(v, infinity.Infinite):
        return _extract_infinite(field, v)
    if field in _ZONE_FIELDS:
        if not (isinstance(v, dt.datetime) and v.tzinfo is not None):
            raise errors.sql_error("0A000", f'unit "{field}" not supported for this type',
                                   hint="Only timestamp with time zone has a zone offset.")
        secs = int(v.astimezone(statement_limits.zone()).utcoffset().total_seconds())
        hours = _trunc_div(secs, 3600)
        return secs if field == "timezone" else hours if field == "timezone_hour" else \
            _trunc_div(secs - hours * 3600, 60)
    if isinstance(v, types.Interval):
        return _extract_interval(field, v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        if field == "epoch":        # the instant itself, whatever the zone
            return (v - _EPOCH_UTC).total_seconds()
        v = types.instant_to_local(v)
    if isinstance(v, dt.time):
        return extract_time(field, v)
    if isinstance(v, dt.datetime):
        ts = v
    else:
        ts = dt.datetime(v.year, v.month, v.day)
    if field == "year":
        return ts.year
    if field == "month":
        return ts.month
    if field == "day":
        return ts.day
    value = clock_field(field, ts, None)
    if value is not None:
        return value
    if field == "dow":
        return (ts.weekday() + 1) % 7
    if field == "isodow":
        return ts.isoweekday()
    if field == "doy":
        return ts.timetuple().tm_yday
    if field == "week":
        return ts.isocalendar()[1]
    if field == "isoyear":
        return ts.isocalendar()[0]
    if field == "quarter":
        return (ts.month - 1) // 3 + 1
    if field == "decade":
        return ts.year // 10
    if field == "century":
        return (ts.year - 1) // 100 + 1
    if field == "millennium":
        return (ts.year - 1) // 1000 + 1
    if field == "epoch":
        return (ts - _EPOCH).total_seconds()
    if field == "julian":     # the day's fraction too (PostgreSQL 14+)
        return ts.toordinal() + 1721425 + (
            (ts.hour * 3600 + ts.minute * 60 + ts.second) * 1_000_000 + ts.microsecond
        ) / 86_400_000_000
    raise errors.sql_error("22023", f'unit "{field}" not recognized')


# PostgreSQL's interval_part: months count 30 days and years 365.25 days toward the epoch;
# each field is cut with C's truncating division, so a negative interval's fields are
# negative (extract(hour from interval '-90 minutes') is -1, its minute -30).
_INTERVAL_UNSUPPORTED = {"dow", "isodow", "doy", "week", "isoyear", "julian"}


def _extract_interval(field: str, iv: types.Interval):
    if field in _INTERVAL_UNSUPPORTED:
        raise errors.not_supported(f'unit "{field}" for type interval',
                                   hint="Interval fields are epoch, year, month, day, hour, "
                                        "minute, second and their multiples.")
    if field == "epoch":
        years, months = _trunc_div(iv.months, 12), iv.months - _trunc_div(iv.months, 12) * 12
        return (iv.micros / 1e6 + 365.25 * 86_400 * years + 30 * 86_400 * months
                + 86_400 * iv.days)
    year = _trunc_div(iv.months, 12)
    if field == "year":
        return year
    if field == "month":
        return iv.months - year * 12
    if field == "quarter":
        return _trunc_div(iv.months - year * 12, 3) + 1
    if field == "decade":
        return _trunc_div(year, 10)
    if field == "century":
        return _trunc_div(year, 100)
    if field == "millennium":
        return _trunc_div(year, 1000)
    if field == "day":
        return iv.days
    hour = _trunc_div(iv.micros, 3_600_000_000)
    if field == "hour":
        return hour
    rest = iv.micros - hour * 3_600_000_000
    minute = _trunc_div(rest, 60_000_000)
    if field == "minute":
        return minute
    micros = rest - minute * 60_000_000      # seconds and their fraction, in microseconds
    if field == "second":
        return micros / 1e6
    if field in ("millisecond", "milliseconds"):
        return micros / 1e3
    return float(micros)                       # microsecond(s)


_VEC_FIELDS = {"year": kernel("year"), "month": kernel("month"), "day": kernel("day"), "hour": kernel("hour"),
               "minute": kernel("minute"), "doy": kernel("day_of_year"), "quarter": kernel("quarter"),
               "isodow": lambda v: pc.day_of_week(v, count_from_zero=False),
               "dow": lambda v: pc.day_of_week(v, count_from_zero=True, week_start=7),
               "week": kernel("iso_week"), "isoyear": kernel("iso_year")}


@arrow_errors
def _extract_vec(field_s, v):
    field = field_name(infinity.pyscalar(field_s)) if isinstance(field_s, pa.Scalar) else None
    if field is None or isinstance(v, pa.Scalar) or pa.types.is_time(v.type) or \
            pa.types.is_interval(v.type) or infinity.in_arrow(v):
        return map_rows(lambda f, x: _extract_row(field_name(f), x), [field_s, v],
                        out_type=pa.int64() if field and field in _INT_FIELDS else pa.float64())
    if field in _ZONE_FIELDS:
        return map_rows(lambda x: _extract_row(field, x), [v], out_type=pa.int64())
    if pa.types.is_timestamp(v.type) and v.type.tz is not None:
        v = pc.cast(v, pa.timestamp("us")) if field == "epoch" else local_times(v)
    kernel = _VEC_FIELDS.get(field)
    if kernel is not None:
        return pc.cast(kernel(v), pa.int64())
    if field == "second":
        if pa.types.is_date(v.type):
            return pc.cast(pc.multiply(pc.year(v), 0), pa.float64())
        secs = pc.cast(pc.second(v), pa.float64())
        frac = pc.divide(pc.cast(pc.microsecond(v), pa.float64()), 1e6)
        frac = pc.add(frac, pc.divide(pc.cast(pc.millisecond(v), pa.float64()), 1e3))
        return pc.add(secs, frac)
    if field == "epoch":
        us = pc.cast(pc.cast(v, pa.timestamp("us")), pa.int64())
        return pc.divide(pc.cast(us, pa.float64()), 1e6)
    out = pa.int64() if field in _INT_FIELDS else pa.float64()
    return map_rows(lambda x: _extract_row(field, x), [v], out_type=out)


def _extract_resolve(ts):
    return F if len(ts) == 2 and ts[0] in (T, N) and ts[1] in (D, TS, TM, IV, N, TZ) else None


# ---- date_trunc -----------------------------------------------------------------------------

_TRUNC_UNITS = {"microseconds": "microsecond", "milliseconds": "millisecond", "second": "second",
                "minute": "minute", "hour": "hour", "day": "day", "week": "week",
                "month": "month", "quarter": "quarter", "year": "year"}


def _trunc_unit(text: str) -> str:
    u = text.strip().lower()
    u = _ALIASES.get(u, u)
    if u in _TRUNC_UNITS or u in ("decade", "century", "millennium"):
        return u
    raise errors.sql_error("22023", f'unit "{text.lower()}" not recognized')


def _interval_trunc(unit: str, iv: types.Interval) -> types.Interval:
    """date_trunc(unit, interval): PostgreSQL's interval_trunc, the interval's own fields
    (C's truncating division) zeroed below ``unit``."""
    unit = _trunc_unit(unit)
    if unit == "week":
        raise errors.sql_error("0A000", 'unit "week" not supported for type interval')
    year, mon = _trunc_div(iv.months, 12), iv.months - _trunc_div(iv.months, 12) * 12
    mday, micros = iv.days, iv.micros
    order = ["millennium", "century", "decade", "year", "quarter", "month", "day", "hour",
             "minute", "second", "milliseconds", "microseconds"]
    at = order.index(unit)
    if at <= 0:
        year = _trunc_div(year, 1000) * 1000
    if at <= 1:
        year = _trunc_div(year, 100) * 100
    if at <= 2:
        year = _trunc_div(year, 10) * 10
    if at <= 3:
        mon = 0
    if at <= 4:
        mon = 3 * _trunc_div(mon, 3)
    if at <= 5:
        mday = 0
    if at <= 6:
        # interval2tm keeps the time's hours whole (25 hours is tm_hour 25, not a day and
        # 1 hour): truncating to a day or more zeroes all of it
        micros = 0
    for i, span in ((7, 3_600_000_000), (8, 60_000_000), (9, 1_000_000), (10, 1000)):
        if at <= i:
            micros = _trunc_div(micros, span) * span
            if at == i:
                break
    return types.Interval(year * 12 + mon, mday, micros)


def _date_trunc_row(unit, v):
    if isinstance(v, types.Interval):
        return _interval_trunc(unit, v)
    if isinstance(v, dt.time):            # a time of day is read as an interval
        return _interval_trunc(unit, types.Interval(0, 0, types.time_micros(v)))
    if isinstance(v, infinity.Infinite):       # PostgreSQL: infinity stays itself
        _trunc_unit(unit)
        return v if v.kind != D else infinity.as_kind(v, TS)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:   # truncated in the session's zone
        return types.local_to_instant(_date_trunc_row(unit, types.instant_to_local(v)))
    if not isinstance(v, dt.datetime):    # a date is a timestamptz here, as PostgreSQL casts it
        return types.local_to_instant(_date_trunc_row(unit, dt.datetime(v.year, v.month,
                                                                         v.day)))
    unit = _trunc_unit(unit)
    ts = v if isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)
    if unit == "millennium":
        return dt.datetime(((ts.year - 1) // 1000) * 1000 + 1, 1, 1)
    if unit == "century":
        return dt.datetime(((ts.year - 1) // 100) * 100 + 1, 1, 1)
    if unit == "decade":
        return dt.datetime((ts.year // 10) * 10, 1, 1)
    if unit == "year":
        return dt.datetime(ts.year, 1, 1)
    if unit == "quarter":
        return dt.datetime(ts.year, 3 * ((ts.month - 1) // 3) + 1, 1)
    if unit == "month":
        return dt.datetime(ts.year, ts.month, 1)
    if unit == "week":
        d = ts.date() - dt.timedelta(days=ts.weekday())
        return dt.datetime(d.year, d.month, d.day)
    if unit == "day":
        return dt.datetime(ts.year, ts.month, ts.day)
    if unit == "hour":
        return ts.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return ts.replace(second=0, microsecond=0)
    if unit == "second":
        return ts.replace(microsecond=0)
    if unit == "milliseconds":
        return ts.replace(microsecond=ts.microsecond // 1000 * 1000)
    return ts


def _date_trunc_zone_row(unit, v, zone):
    """date_trunc(unit, timestamptz, zone): the instant's wall clock in ``zone``
    truncated, read back in that zone (PostgreSQL's timestamptz_trunc_zone)."""
    z = zone_argument(zone)
    if isinstance(v, infinity.Infinite):
        _trunc_unit(unit)
        return v
    local = _date_trunc_row(unit, types.instant_to_local(v, z))
    return types.local_to_instant(local, z)


@arrow_errors
def _date_trunc_vec(unit_s, v):
    if infinity.in_arrow(v) or (pa.types.is_date(v.type) and (
            isinstance(v, pa.Scalar) or not isinstance(unit_s, pa.Scalar))):
        out = TS if pa.types.is_timestamp(v.type) and v.type.tz is None else TZ
        return map_rows(_date_trunc_row, [unit_s, v], out_type=types.arrow_type(out))
    if pa.types.is_date(v.type):          # midnight of the session's zone, a timestamptz
        return instants(_date_trunc_vec(unit_s, pc.cast(v, pa.timestamp("us"))))
    if pa.types.is_timestamp(v.type) and v.type.tz is not None:
        if not isinstance(unit_s, pa.Scalar) or isinstance(v, pa.Scalar):
            return map_rows(_date_trunc_row, [unit_s, v], out_type=types.arrow_type(TZ))
        return instants(_date_trunc_vec(unit_s, local_times(v)))
    if not isinstance(unit_s, pa.Scalar) or isinstance(v, pa.Scalar):
        return map_rows(_date_trunc_row, [unit_s, v], out_type=pa.timestamp("us"))
    if not unit_s.is_valid:
        return pa.nulls(len(v), pa.timestamp("us"))
    unit = _trunc_unit(infinity.pyscalar(unit_s))
    ts = pc.cast(v, pa.timestamp("us")) if pa.types.is_date(v.type) else v
    if unit in _TRUNC_UNITS:
        return pc.floor_temporal(ts, unit=_TRUNC_UNITS[unit], week_starts_monday=True)
    return map_rows(lambda x: _date_trunc_row(unit, x), [ts], out_type=pa.timestamp("us"))


# ---- age --------------------------------------------------------------------------------------

def _age_row(a, b=None):
    """age(a, b): PostgreSQL's timestamp_age, field by field (a timestamptz's fields in
    the session's zone); a negative field borrows from the next, days from the earlier
    date's month (``age('2020-03-01', '2020-01-15')`` is 1 mon 17 days)."""
    if isinstance(a, infinity.Infinite) or isinstance(b, infinity.Infinite):
        raise errors.sql_error("22008", "timestamp out of range")
    a, b = _local(a), _local(b)
    if b is None:
        b = a
        now = types.instant_to_local(dt.datetime.now(dt.timezone.utc))
        a = dt.datetime(now.year, now.month, now.day)
    a = a if isinstance(a, dt.datetime) else dt.datetime(a.year, a.month, a.day)
    b = b if isinstance(b, dt.datetime) else dt.datetime(b.year, b.month, b.day)
    sign = -1 if a < b else 1
    f = [sign * (x - y) for x, y in zip(
        (a.microsecond, a.second, a.minute, a.hour, a.day, a.month, a.year),
        (b.microsecond, b.second, b.minute, b.hour, b.day, b.month, b.year))]
    for i, span in enumerate((1_000_000, 60, 60, 24)):     # usec, sec, min, hour
        while f[i] < 0:
            f[i] += span
            f[i + 1] -= 1
    borrow = a if a < b else b          # PostgreSQL: the month of tm1 or tm2
    while f[4] < 0:
        f[4] += calendar.monthrange(borrow.year, borrow.month)[1]
        f[5] -= 1
    while f[5] < 0:
        f[5] += 12
        f[6] -= 1
    micros = ((f[3] * 60 + f[2]) * 60 + f[1]) * 1_000_000 + f[0]
    return types.Interval(sign * (f[6] * 12 + f[5]), sign * f[4], sign * micros)


# ---- vectorised date arithmetic (overloads of add/sub) -------------------------------------------

def resolve_add(ts):
    """The type of ``date ± integer`` / ``date|timestamp + interval`` (either order), else
    None; ``arith.py``'s generic ``add`` shares these rules."""
    a, b = ts
    if (a, b) in ((D, I), (I, D)):
        return D
    if (a, b) in ((D, IV), (IV, D), (TS, IV), (IV, TS), (D, TM), (TM, D), (TS, TM), (TM, TS)):
        return TS     # (a time of day added to a timestamp is read as an interval)
    if (a, b) in ((TZ, IV), (IV, TZ)):
        return TZ
    if (a, b) in ((TM, IV), (IV, TM)):
        return TM
    return None


def resolve_sub(ts):
    """The type of ``date - integer|date`` / ``date|timestamp - interval``, else None."""
    a, b = ts
    if (a, b) == (D, I):
        return D
    if (a, b) == (D, D):
        return I
    if (a, b) in ((D, IV), (TS, IV), (TS, TM)):
        return TS
    if (a, b) in ((D, TS), (TS, D), (D, TZ), (TZ, D), (TS, TZ), (TZ, TS)):
        return IV     # the date read as midnight, a timestamp in the session's zone
    if (a, b) == (TZ, IV):
        return TZ
    if (a, b) == (TZ, TZ):
        return IV
    if (a, b) == (TM, IV):
        return TM
    if (a, b) == (TM, TM):
        return IV
    return None


def resolve_scale(ts):
    """``interval * number`` (either order) and ``interval / number``: INTERVAL."""
    a, b = ts
    if (a == IV and b in (I, F, N)) or (b == IV and a in (I, F, N)):
        return IV
    return None


def _tsround(x: float) -> float:
    return round(x * 1e6) / 1e6


def scale_interval(iv: types.Interval, factor, divide: bool = False) -> types.Interval:
    """PostgreSQL's interval_mul (interval_div when ``divide``): each field scaled and
    truncated, the fractions cascaded down to days and microseconds, never up."""
    if divide and factor == 0:
        raise errors.sql_error("22012", "division by zero")
    op = (lambda v: v / factor) if divide else (lambda v: v * factor)
    factor_f = float(factor)
    if factor_f != factor_f or abs(factor_f) == float("inf"):
        raise errors.sql_error("22008", "interval out of range")
    months_f, days_f = op(float(iv.months)), op(float(iv.days))
    if abs(months_f) >= 2 ** 31 or abs(days_f) >= 2 ** 31:
        raise errors.sql_error("22008", "interval out of range")
    months, days = int(months_f), int(days_f)
    month_days = _tsround((months_f - months) * 30)
    seconds = _tsround((days_f - days + month_days - int(month_days)) * 86_400)
    if abs(seconds) >= 86_400:
        whole = int(seconds / 86_400)
        days += whole
        seconds -= whole * 86_400
    days += int(month_days)
    micros = op(float(iv.micros)) + seconds * 1_000_000
    if micros != micros or abs(micros) > 2 ** 63:
        raise errors.sql_error("22008", "interval out of range")
    return types.Interval(months, days, int(round(micros)))


def _mul_row(a, b):
    return scale_interval(a, b) if isinstance(a, types.Interval) else scale_interval(b, a)


def _div_row(a, b):
    if not isinstance(a, types.Interval):
        raise errors.undefined_function("operator does not exist: number / interval")
    return scale_interval(a, b, divide=True)


def _resolve_div(ts):
    return IV if ts[0] == IV and ts[1] in (I, F, N) else None


def _fixed_micros(iv) -> int | None:
    """An interval scalar without months as microseconds, else None."""
    if not isinstance(iv, pa.Scalar) or not iv.is_valid:
        return None
    v = infinity.pyscalar(iv)
    if v.months:
        return None
    return v.days * 86_400_000_000 + v.nanoseconds // 1000


@arrow_errors
def _vec_add(a, b, sign=1):
    from .arith import _row_add, _row_sub
    if infinity.in_arrow(a) or infinity.in_arrow(b):     # the integers must not move
        return map_rows(_row_add if sign > 0 else _row_sub, [a, b])
    ta, tb = a.type, b.type
    if pa.types.is_interval(ta):
        a, b, ta, tb = b, a, tb, ta
    if pa.types.is_integer(ta):
        a, b, ta, tb = b, a, tb, ta
    if pa.types.is_date(ta) and pa.types.is_integer(tb) and not isinstance(a, pa.Scalar):
        days = pc.cast(pc.cast(a, pa.int32()), pa.int64())
        out = pc.add_checked(days, b) if sign > 0 else pc.subtract_checked(days, b)
        return pc.cast(pc.cast(out, pa.int32()), pa.date32())
    if pa.types.is_interval(tb) and not isinstance(a, pa.Scalar):
        us = _fixed_micros(b)
        if us is not None and infinity.pyscalar(b).days and pa.types.is_timestamp(ta) and \
                ta.tz is not None and not types.session_zone_is_utc():
            us = None          # days are the session zone's calendar days (DST)
        if us is not None:
            ts = pc.cast(a, pa.timestamp("us")) if pa.types.is_date(ta) else a
            return pc.add_checked(ts, pa.scalar(sign * us, pa.duration("us")))
    return map_rows(_row_add if sign > 0 else _row_sub, [a, b] if sign > 0 else [a, b])


@arrow_errors
def _vec_sub(a, b):
    if pa.types.is_date(a.type) and pa.types.is_date(b.type) and \
            not (isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar)) and \
            not (infinity.in_arrow(a) or infinity.in_arrow(b)):
        da = pc.cast(pc.cast(a, pa.int32()), pa.int64())
        db = pc.cast(pc.cast(b, pa.int32()), pa.int64())
        return pc.subtract(da, db)
    return _vec_add(a, b, sign=-1)


_POSIX_NUMBER = re.compile(r"^\s*([+-]?)(\d{1,2})(?::?(\d{2}))?\s*$")


def zone_argument(text: str):
    """The zone of AT TIME ZONE / timezone(): a name, or a bare offset, which PostgreSQL
    reads the POSIX way (``'+05'`` is five hours west of Greenwich)."""
    m = _POSIX_NUMBER.match(text)
    if m is not None:
        secs = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60
        return dt.timezone(dt.timedelta(seconds=secs if m.group(1) == "-" else -secs))
    found = types.zone_abbreviation(text.strip())    # PST, CET: as PostgreSQL, first
    if found is not None:
        return found
    try:
        return statement_limits.parse_zone(text)[0]
    except errors.Error:
        raise errors.sql_error("22023", f'time zone "{text}" not recognized') from None


def _interval_zone(iv: types.Interval):
    """AT TIME ZONE INTERVAL '+03:00': a fixed zone that many hours east of UTC (the SQL
    sign, not POSIX's); PostgreSQL refuses months and days (22023)."""
    if iv.months or iv.days:
        raise errors.sql_error("22023", f'interval time zone "{iv}" must not include '
                                        "months or days")
    try:
        return dt.timezone(dt.timedelta(microseconds=iv.micros))
    except ValueError:
        raise errors.sql_error("22023", f'interval time zone "{iv}" is out of range') from None


def _timezone_row(zone, v):
    """timezone(zone, x): a timestamptz's wall clock in ``zone`` (a timestamp), or a
    timestamp read as a wall clock of ``zone`` (a timestamptz)."""
    z = _interval_zone(zone) if isinstance(zone, types.Interval) else zone_argument(zone)
    if isinstance(v, infinity.Infinite):
        return infinity.as_kind(v, TS if v.kind == TZ else TZ)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return types.instant_to_local(v, z)
    if not isinstance(v, dt.datetime):       # a date: midnight of the session's zone
        return types.instant_to_local(types.local_to_instant(
            dt.datetime(v.year, v.month, v.day)), z)
    return types.local_to_instant(v, z)


def _timezone_resolve(ts):
    if len(ts) != 2 or ts[0] not in (T, N, IV):
        return None
    return {TZ: TS, TS: TZ, D: TS, N: TS}.get(ts[1])


def register(reg) -> None:
    from .arith import _row_add, _row_sub
    register_more(reg)
    reg.add(ScalarFunction("timezone", _timezone_resolve, None, _timezone_row))
    reg.add(ScalarFunction("add", resolve_add, _vec_add, _row_add))
    reg.add(ScalarFunction("sub", resolve_sub, _vec_sub, _row_sub))
    reg.add(ScalarFunction("mul", resolve_scale, None, _mul_row))
    reg.add(ScalarFunction("div", _resolve_div, None, _div_row))
    reg.add(ScalarFunction("date_part", _extract_resolve, _extract_vec,
                           lambda f, v: _extract_row(field_name(f), v)))
    reg.add(ScalarFunction("date_trunc", lambda ts: (TZ if ts[1] in (TZ, D) else TS) if len(ts) == 2
                           and ts[0] in (T, N) and ts[1] in (D, TS, N, TZ) else None,
                           _date_trunc_vec, _date_trunc_row))
    reg.add(ScalarFunction("date_trunc", lambda ts: IV if len(ts) == 2 and ts[0] in (T, N)
                           and ts[1] in (IV, TM) else None, None, _date_trunc_row))
    reg.add(ScalarFunction("date_trunc", lambda ts: TZ if len(ts) == 3 and ts[0] in (T, N)
                           and ts[1] in (TZ, N) and ts[2] in (T, N) else None,
                           None, _date_trunc_zone_row))
    reg.add(ScalarFunction("age", lambda ts: IV if 1 <= len(ts) <= 2 and all(
        t in (D, TS, N, TZ) for t in ts) else None, None, _age_row))
    reg.add(ScalarFunction("make_date", lambda ts: D if len(ts) == 3 and all(
        t in (I, N) for t in ts) else None, None, _make_date))
    # (the origin may be a quoted literal: read as the source's type)
    reg.add(ScalarFunction("date_bin", lambda ts: TS if len(ts) == 3 and ts[0] in (IV, T, N)
                           and ts[1] in (TS, D, N) and ts[2] in (TS, D, N, T) else TZ
                           if len(ts) == 3 and ts[0] in (IV, T, N) and ts[1] in (TZ, N)
                           and ts[2] in (TZ, N, T) else None, None, _date_bin))
    reg.add(ScalarFunction("overlaps", lambda ts: types.BOOLEAN if len(ts) == 4 and len(
        set(ts) - {N}) <= 1 and set(ts) <= {D, TS, TZ, TM, N} else None, None, _overlaps,
        strict=False))
    # x::timestamp(p), x::time(p): rounded as a column of that type stores it
    reg.add(ScalarFunction("time_round", lambda ts: ts[0] if len(ts) == 2 and ts[0] in (
        TS, TZ, TM) and ts[1] == I else None, lambda v, p: round_temporal_array(v, p.as_py())
        if not isinstance(v, pa.Scalar) else map_rows(round_temporal, [v, p],
                                                      out_type=v.type), round_temporal))
    reg.add(ScalarFunction("make_timestamptz", lambda ts: TZ if len(ts) in (6, 7) and all(
        t in (I, N) for t in ts[:5]) and ts[5] in (I, F, N) and all(
        t in (T, N) for t in ts[6:]) else None, None, _make_timestamptz))
    reg.add(ScalarFunction("make_timestamp", lambda ts: TS if len(ts) == 6 and all(
        t in (I, N) for t in ts[:5]) and ts[5] in (I, F, N) else None, None, _make_timestamp))
    # isfinite: false for ±infinity (an interval is always finite in PostgreSQL 15)
    reg.add(ScalarFunction("isfinite", lambda ts: types.BOOLEAN if len(ts) == 1 and ts[0] in (
        D, TS, IV, N, TZ) else None, None, lambda v: not isinstance(v, infinity.Infinite)))
    for name, fn in (("justify_hours", justify_hours), ("justify_days", justify_days),
                     ("justify_interval", justify_interval)):
        reg.add(ScalarFunction(name, lambda ts: IV if len(ts) == 1 and ts[0] in (IV, N)
                               else None, None, fn))
    reg.add(ScalarFunction("extract_julian", fixed((D, types.NUMERIC), (TS, types.NUMERIC),
                                                  (TZ, types.NUMERIC)),
                           lambda v: map_rows(_julian_numeric, [v], out_type=pa.binary()),
                           _julian_numeric))
    reg.add(ScalarFunction("extract_date_unsupported", fixed((T, D, types.NUMERIC)), lambda f, d: map_rows(
        _date_unit_unsupported, [f, d], out_type=pa.binary()), _date_unit_unsupported))
    # to_timestamp(double): seconds since the epoch, an instant (timestamptz)
    reg.add(ScalarFunction("to_timestamp", lambda ts: TZ if len(ts) == 1 and ts[0] in (I, F, N)
                           else None,
                           lambda x: map_rows(_epoch_instant, [x], out_type=types.arrow_type(TZ)),
                           _epoch_instant))


_DAY_MICROS = Decimal(86_400_000_000)


def _julian_numeric(v) -> bytes:
    """EXTRACT(julian FROM date | timestamp | timestamptz) as numeric: a date's day number;
    a timestamp's plus its time of day divided in numeric (28 digits at midnight, as
    numeric_div's scale gives them); a timestamptz's in the session zone."""
    if isinstance(v, infinity.Infinite):
        return numeric.encode(numeric.INF if v.positive else numeric.NINF)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        v = types.instant_to_local(v)
    day = Decimal(v.toordinal() + 1721425)
    if not isinstance(v, dt.datetime):
        return numeric.encode(day)
    micros = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
    return numeric.encode(numeric.add(day, numeric.div(Decimal(micros), _DAY_MICROS)))


def _date_unit_unsupported(field, _date):
    """EXTRACT(hour FROM date) and the like, for a date that is not NULL."""
    raise errors.sql_error("0A000", f'unit "{field}" not supported for type date')


_PG_EPOCH_SECONDS = 946_684_800     # 2000-01-01 in Unix seconds


def _epoch_instant(seconds):
    """to_timestamp(double precision): NaN is 22008, ±Infinity the infinite instants, a
    value past the years a timestamp holds 22008 (it was an integer cast's error)."""
    if seconds != seconds:
        raise errors.sql_error("22008", "timestamp cannot be NaN")
    if seconds in (float("inf"), float("-inf")):
        return infinity.of(TZ, seconds > 0)
    try:
        # PostgreSQL rounds (rint) after moving to its 2000-01-01 epoch, in float8
        micros = int(round((seconds - _PG_EPOCH_SECONDS) * 1e6)) + _PG_EPOCH_SECONDS * 1_000_000
        return _EPOCH_UTC + dt.timedelta(microseconds=micros)
    except (OverflowError, ValueError):
        raise errors.sql_error("22008", f'timestamp out of range: "{seconds:g}"') from None


def _make_timestamp(y, mo, d, h, mi, sec):
    day = _make_date(y, mo, d)
    micros = clock_micros(h, mi, sec)       # 24:00:00 is the next day's midnight
    return dt.datetime(day.year, day.month, day.day) + dt.timedelta(microseconds=micros)


def _period(start, end):
    """An OVERLAPS operand as (start, end) with start first; a NULL start is the end
    alone (end None); None when both are NULL."""
    if start is None:
        return None if end is None else (end, None)
    if end is not None and start > end:
        return end, start
    return start, end


def _overlaps(s1, e1, s2, e2):
    """(s1, e1) OVERLAPS (s2, e2) with PostgreSQL's NULL rules (overlaps_timestamp): a
    pair with one end NULL is that end alone; unknown where a NULL would decide."""
    first, second = _period(s1, e1), _period(s2, e2)
    if first is None or second is None:
        return None
    (s1, e1), (s2, e2) = first, second
    if s1 > s2:
        if e2 is None:
            return None
        return True if s1 < e2 else (None if e1 is None else False)
    if s1 < s2:
        if e1 is None:
            return None
        return True if s2 < e1 else (None if e2 is None else False)
    return None if e1 is None or e2 is None else True


def _make_timestamptz(y, mo, d, h, mi, sec, zone=None):
    """make_timestamptz(...[, zone]): the wall-clock time read in ``zone`` (the session's
    TimeZone without one). A numeric zone is an ISO offset here (``'+05'`` is east of
    Greenwich), as PostgreSQL's make_timestamptz reads it, unlike AT TIME ZONE."""
    local = _make_timestamp(y, mo, d, h, mi, sec)
    if zone is None:
        return types.local_to_instant(local)
    m = _POSIX_NUMBER.match(zone)
    if m is not None:
        secs = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60
        z = dt.timezone(dt.timedelta(seconds=-secs if m.group(1) == "-" else secs))
    else:
        z = zone_argument(zone)
    return types.local_to_instant(local, z)


_DAY_US = 86_400_000_000


def _trunc_div(a: int, b: int) -> int:
    """C's integer division (toward zero), as PostgreSQL's interval code does it."""
    q = abs(a) // b
    return q if a >= 0 else -q


def justify_hours(iv: types.Interval) -> types.Interval:
    """24-hour periods of the time part become days (PostgreSQL's justify_hours)."""
    months, days, micros = iv.months, iv.days, iv.micros
    whole = _trunc_div(micros, _DAY_US)
    micros -= whole * _DAY_US
    days += whole
    if days > 0 and micros < 0:
        micros, days = micros + _DAY_US, days - 1
    elif days < 0 and micros > 0:
        micros, days = micros - _DAY_US, days + 1
    return types.Interval(months, days, micros)


def justify_days(iv: types.Interval) -> types.Interval:
    """30-day periods become months (PostgreSQL's justify_days)."""
    months, days, micros = iv.months, iv.days, iv.micros
    whole = _trunc_div(days, 30)
    days -= whole * 30
    months += whole
    if months > 0 and days < 0:
        days, months = days + 30, months - 1
    elif months < 0 and days > 0:
        days, months = days - 30, months + 1
    return types.Interval(months, days, micros)


def justify_interval(iv: types.Interval) -> types.Interval:
    """justify_days and justify_hours together, with one sign throughout."""
    months, days, micros = iv.months, iv.days, iv.micros
    whole = _trunc_div(micros, _DAY_US)
    micros -= whole * _DAY_US
    days += whole
    whole = _trunc_div(days, 30)
    days -= whole * 30
    months += whole
    if months > 0 and (days < 0 or (days == 0 and micros < 0)):
        days, months = days + 30, months - 1
    elif months < 0 and (days > 0 or (days == 0 and micros > 0)):
        days, months = days - 30, months + 1
    if days > 0 and micros < 0:
        micros, days = micros + _DAY_US, days - 1
    elif days < 0 and micros > 0:
        micros, days = micros - _DAY_US, days + 1
    return types.Interval(months, days, micros)


def _date_bin(stride: types.Interval, source: dt.datetime, origin: dt.datetime) -> dt.datetime:
    """date_bin(stride, ts, origin): the start of the stride-long bin holding ts, bins
    counted from origin (PostgreSQL: no months, a positive stride)."""
    if isinstance(stride, str):           # date_bin('15 minutes', ...): an untyped literal
        stride = types.parse_interval(stride)
    if stride.months:
        raise errors.sql_error("0A000", "timestamps cannot be binned into intervals "
                                        "containing months or years")
    step = stride.days * _DAY_US + stride.micros
    if step <= 0:
        raise errors.sql_error("22008", "stride must be greater than zero")
    if isinstance(origin, str):
        origin = types.parse_timestamptz(origin) if getattr(source, "tzinfo", None) \
            else types.parse_timestamp(origin)
    if isinstance(origin, infinity.Infinite):
        raise errors.sql_error("22008", "origin out of range")
    if isinstance(source, infinity.Infinite):
        return source if source.kind != D else infinity.as_kind(source, TS)
    source, origin = _as_ts(source), _as_ts(origin)
    delta = (source - origin) // dt.timedelta(microseconds=1)
    return origin + dt.timedelta(microseconds=(delta // step) * step)


def _make_date(y, m, d):
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise errors.sql_error("22008", f"date field value out of range: {y}-{m:02d}-{d:02d}") \
            from None


def _strftime_vec(v, fmt):
    if isinstance(v, pa.Scalar) or not isinstance(fmt, pa.Scalar):
        return map_rows(lambda x, f: _as_ts(x).strftime(f), [v, fmt], out_type=pa.large_string())
    ts = pc.cast(v, pa.timestamp("us")) if pa.types.is_date(v.type) else v
    if "%f" not in infinity.pyscalar(fmt):
        # Arrow's %S prints the fraction too; Python's (and DuckDB's) whole seconds
        ts = pc.cast(pc.floor_temporal(ts, unit="second"), pa.timestamp("s"))
    return pc.cast(pc.strftime(ts, format=infinity.pyscalar(fmt)), pa.large_string())


def _as_ts(x):
    return x if isinstance(x, dt.datetime) else dt.datetime(x.year, x.month, x.day)


def _make_interval(years, months, weeks, days, hours, mins, secs) -> types.Interval:
    """make_interval(years, months, weeks, days, hours, mins, secs): PostgreSQL's."""
    micros = round((hours * 3600 + mins * 60) * 1_000_000 + secs * 1_000_000)
    return types.Interval(years * 12 + months, weeks * 7 + days, micros)


def register_more(reg) -> None:
    reg.add(ScalarFunction("make_interval", lambda ts: IV if len(ts) == 7 and all(
        t in (I, N) for t in ts[:6]) and ts[6] in (I, F, N) else None, None, _make_interval))
    reg.add(ScalarFunction("strftime", lambda ts: T if len(ts) == 2 and ts[0] in (D, TS, N)
                           and ts[1] in (T, N) else None, _strftime_vec,
                           lambda x, f: _as_ts(x).strftime(f)))
