"""TIME (time of day without time zone): make_time, localtime/current_time, and the
fields EXTRACT / date_part read from a time.

Arithmetic on times (``time ± interval`` wrapping at midnight, ``time - time``,
``date + time``) lives with the other operators in arith.py; casts in cast.py.
"""
from __future__ import annotations

import datetime as dt

from ... import errors, statement_limits, timetz, types
from ...lazy_import import arrow as pa
from ..expr.rowwise import map_rows
from ..typmods import round_temporal
from .misc import _local_now, _now
from .registry import ScalarFunction

TM, I, F, T, N = types.TIME, types.INTEGER, types.FLOAT, types.TEXT, types.NULL
TTZ = types.TIMETZ


_DAY_MICROS = 86_400_000_000


def clock_micros(h: int, mi: int, sec) -> int:
    """Microseconds after midnight of make_time's / make_timestamp's fields, checked as
    PostgreSQL's float_time_overflows: hour 0-24, minute 0-59, the second rounded to
    microseconds first (``59.9999999`` is 60) and then 0-60, the whole no later than
    24:00:00; else 22008. So ``(10, 30, 60)`` is 10:31:00 and ``(23, 59, 60)`` 24:00:00."""
    sec = float(sec)
    micros = round(sec * 1_000_000) if sec == sec and abs(sec) < 1e15 else None
    if not (0 <= h <= 24 and 0 <= mi < 60) or micros is None or \
            not 0 <= micros <= 60_000_000 or (h * 60 + mi) * 60_000_000 + micros > _DAY_MICROS:
        shown = "NaN" if sec != sec else format(sec, "02g")
        raise errors.sql_error("22008", f"time field value out of range: {h}:{mi:02d}:{shown}")
    return (h * 60 + mi) * 60_000_000 + micros


def _make_time(h: int, mi: int, sec: float) -> dt.time:
    micros = clock_micros(h, mi, sec)
    if micros == _DAY_MICROS:        # PostgreSQL's 24:00:00; a Python time ends before
        raise errors.sql_error("22008", 'time "24:00:00" is not supported here',
                               hint="Python's time of day ends at 23:59:59.999999.")
    return types.time_of_micros(micros)


def clock_field(field: str, v, default=None):
    """hour, minute, second (with its fraction), milliseconds or microseconds of a time
    of day or a timestamp; ``default`` for any other field."""
    if field == "hour":
        return v.hour
    if field == "minute":
        return v.minute
    if field == "second":
        return v.second + v.microsecond / 1e6
    if field in ("milliseconds", "millisecond"):
        return v.second * 1000 + v.microsecond / 1000
    if field in ("microseconds", "microsecond"):
        return float(v.second * 1_000_000 + v.microsecond)
    return default


def extract_time(field: str, t: dt.time):
    """A field of a time of day; the date fields do not exist for one (0A000)."""
    value = clock_field(field, t, None)
    if value is not None:
        return value
    if field == "epoch":
        return types.time_micros(t) / 1e6
    raise errors.sql_error("0A000", f'unit "{field}" not supported for type time without '
                                    "time zone")


def _make_time_vec(*args):
    return map_rows(_make_time, args, out_type=pa.time64("us"))


def _precision(p: int) -> int | None:
    if p < 0:
        raise errors.sql_error("22023", f"TIME({p}) precision must not be negative")
    return p if p < 6 else None


def _localtime(p: int | None = None) -> dt.time:
    t = _local_now().time()
    if p is not None and _precision(p) is not None:
        t = round_temporal(t, p)
    return t


def _current_time(p: int | None = None) -> int:
    """current_time: a timetz of the transaction's time in the session's zone."""
    key = timetz.of_instant(_now().replace(tzinfo=statement_limits.UTC))
    if p is not None and _precision(p) is not None:
        key = timetz.round_to(key, p)
    return key


def register(reg) -> None:
    reg.add(ScalarFunction("make_time", lambda ts: TM if len(ts) == 3 and ts[0] in (I, N) and
                           ts[1] in (I, N) and ts[2] in (I, F, N) else None,
                           _make_time_vec, _make_time))
    # localtime is the session zone's wall clock; current_time the same with the zone's
    # offset (a timetz), as in PostgreSQL; (p) rounds to p fraction digits
    reg.add(ScalarFunction("localtime", lambda ts: TM if list(ts) in ([], [I]) else None,
                           None, _localtime, volatile=True))
    reg.add(ScalarFunction("current_time", lambda ts: TTZ if list(ts) in ([], [I]) else None,
                           None, _current_time, volatile=True))
