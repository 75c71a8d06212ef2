"""PostgreSQL's ``timetz`` (time with time zone): a time of day and a UTC offset.

Why a module of its own: timetz is neither a time nor an instant. PostgreSQL keeps the
local time (microseconds) and the zone (seconds WEST of UTC) and orders values by the
UTC instant they name, then by zone (timetz_cmp), so ``12:00+02`` sorts before
``11:00+00`` and is not equal to ``10:00+00``.

Storage form: one int64 key whose number order is that order, so Arrow's sort, min/max,
btree indexes, UNIQUE, DISTINCT and GROUP BY need nothing new:
``(utc_micros + SHIFT) << 17 | (zone_west + ZONE_MAX)``. A cursor returns an aware
``datetime.time`` (as psycopg does); the wire sends PostgreSQL's text or its binary form
(int64 local microseconds, int32 zone west of UTC).
"""
from __future__ import annotations

import datetime as _dt
import re

from . import errors
from . import statement_limits as _limits

TIMETZ = "TIMETZ"
_DAY = 86_400_000_000
_ZONE_MAX = 15 * 3600 + 59 * 60 + 59          # PostgreSQL's TZDISP_LIMIT - 1 second
_SHIFT = _ZONE_MAX * 1_000_000
_ZONE_BITS = 17                               # 2 * _ZONE_MAX + 1 < 2 ** 17

_TIME = re.compile(
    r"^\s*(?:(\d{4})-(\d{1,2})-(\d{1,2})[ T]\s*)?"
    r"(?:(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?|(\d{2})(\d{2})(\d{2})(?:\.(\d+))?)"
    r"\s*(?:(am|pm)(?![\w/]))?\s*(.*?)\s*$", re.I)
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?")


def encode(micros: int, east: int) -> int:
    """The key of local time ``micros`` at ``east`` seconds east of UTC."""
    west = -east
    return ((micros + west * 1_000_000 + _SHIFT) << _ZONE_BITS) | (west + _ZONE_MAX)


def decode(key: int) -> tuple[int, int]:
    """``(local microseconds, seconds east of UTC)`` of a key."""
    west = (key & ((1 << _ZONE_BITS) - 1)) - _ZONE_MAX
    return (key >> _ZONE_BITS) - _SHIFT - west * 1_000_000, -west


def valid(key: int) -> bool:
    """Whether ``key`` (read from disk) is a timetz key: a time of day and an offset
    PostgreSQL accepts."""
    if not 0 <= key < 1 << 62:
        return False
    micros, east = decode(key)
    return 0 <= micros < _DAY and -_ZONE_MAX <= east <= _ZONE_MAX


def _syntax(text: str) -> errors.Error:
    return errors.sql_error(
        "22007", f'invalid input syntax for type time with time zone: "{text}"')


def _range(text: str) -> errors.Error:
    return errors.sql_error("22008", f'date/time field value out of range: "{text}"')


def _offset_now(zone: _dt.tzinfo) -> int:
    """A zone's offset now, in seconds east (PostgreSQL reads a timetz without an offset
    in the session zone at the current date)."""
    off = _dt.datetime.now(zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _zone_east(zone: str, text: str, day: _dt.date | None, micros: int) -> int:
    """Seconds east of UTC of the zone written after the time (a zone name only with a
    date: its offset then)."""
    if not zone:
        return _offset_now(_limits.zone())
    m = _OFFSET.fullmatch(zone)
    if m is not None:
        digits = m.group(2)
        h, mi, s = int(digits), int(m.group(3) or 0), int(m.group(4) or 0)
        if mi > 59 or s > 59:
            raise _range(text)
        secs = h * 3600 + mi * 60 + s
        if secs > _ZONE_MAX:
            raise errors.sql_error(
                "22009", f'time zone displacement out of range: "{text}"')
        return -secs if m.group(1) == "-" else secs
    from .datetime_text import abbreviation
    found = abbreviation(zone)
    if found is None and day is not None and ("/" in zone or zone.isalpha()):
        try:
            named = _limits.parse_zone(zone)[0]
        except errors.Error:
            raise errors.sql_error("22023", f'time zone "{zone.lower()}" not recognized') \
                from None
        local = _dt.datetime.combine(day, _dt.time()) + _dt.timedelta(microseconds=micros)
        return int(named.utcoffset(local).total_seconds())
    if found is None:   # a zone name needs a date to know its offset: PostgreSQL refuses
        raise _syntax(text)
    return int(found.utcoffset(None).total_seconds())


def parse(text: str) -> int:
    """timetz_in: ``12:34:56+02``, ``12:34:56.5-03:30``, ``12:00 PST``, ``12:00 pm +02``;
    no zone is the session zone's offset."""
    m = _TIME.match(text)
    if m is None:
        raise _syntax(text)
    g = m.groups()[3:]
    if g[0] is None:                          # HHMMSS
        g = (g[4], g[5], g[6], g[7]) + g[8:]
    h, mi, sec = int(g[0]), int(g[1]), int(g[2] or 0)
    frac, ampm = g[3] or "", (m.group(12) or "").lower()
    if ampm:
        if not 1 <= h <= 12:
            raise _range(text)
        h = h % 12 + (12 if ampm == "pm" else 0)
    micros = round(float("0." + frac) * 1_000_000) if frac else 0
    if h > 23 or mi > 59 or sec > 59:
        if h == 24 and mi == 0 and sec == 0 and micros == 0:
            raise errors.sql_error("22008", 'time "24:00:00" is not supported here',
                                   hint="Python's time of day ends at 23:59:59.999999.")
        raise _range(text)
    total = ((h * 60 + mi) * 60 + sec) * 1_000_000 + micros
    if total >= _DAY:
        raise _range(text)
    day = None
    if m.group(1) is not None:
        try:
            day = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise _range(text) from None
    return encode(total, _zone_east(m.group(13), text, day, total))


def format_offset(east: int) -> str:
    """``+02``, ``-03:30``, ``+02:30:15``: an offset as PostgreSQL prints it."""
    sign = "-" if east < 0 else "+"
    h, rest = divmod(abs(east), 3600)
    mi, s = divmod(rest, 60)
    return f"{sign}{h:02d}" + (f":{mi:02d}" if mi or s else "") + (f":{s:02d}" if s else "")


def format(key: int) -> str:
    """timetz_out: ``12:34:56.5-03:30``."""
    micros, east = decode(key)
    secs, us = divmod(micros, 1_000_000)
    frac = f".{us:06d}".rstrip("0") if us else ""
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}{frac}" + \
        format_offset(east)


def python_value(key: int) -> _dt.time:
    """An aware ``datetime.time``, as psycopg returns a timetz."""
    micros, east = decode(key)
    secs, us = divmod(micros, 1_000_000)
    return _dt.time(secs // 3600, secs // 60 % 60, secs % 60, us,
                    tzinfo=_dt.timezone(_dt.timedelta(seconds=east)))


def of_python(value: _dt.time) -> int:
    """The key of an aware ``datetime.time`` (a DB-API parameter)."""
    off = value.utcoffset()
    east = int(off.total_seconds()) if off is not None else 0
    return encode(((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 +
                  value.microsecond, east)


def of_time(micros: int) -> int:
    """time -> timetz: the session zone's offset now (time_timetz)."""
    return encode(micros, _offset_now(_limits.zone()))


def of_instant(value: _dt.datetime) -> int:
    """timestamptz -> timetz: the instant's local time and offset in the session zone."""
    local = value.astimezone(_limits.zone())
    off = local.utcoffset()
    return encode(((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 +
                  local.microsecond, int(off.total_seconds()) if off is not None else 0)


def local_micros(key: int) -> int:
    """timetz -> time: the local time, the zone dropped."""
    return decode(key)[0]


def plus_micros(key: int, micros: int) -> int:
    """timetz + interval: only the interval's time part counts, modulo a day."""
    local, east = decode(key)
    return encode((local + micros) % _DAY, east)


def round_to(key: int, precision: int) -> int:
    """timetz(p): the local time rounded half up to ``precision`` fraction digits
    (wrapping at midnight as PostgreSQL's AdjustTimeForTypmod does not: 24:00 is out
    of range here)."""
    local, east = decode(key)
    scale = 10 ** (6 - precision)
    rounded = (local + scale // 2) // scale * scale
    if rounded >= _DAY:
        raise errors.sql_error("22008", 'time "24:00:00" is not supported here',
                               hint="Python's time of day ends at 23:59:59.999999.")
    return encode(rounded, east)


def at_zone(key: int, zone: _dt.tzinfo) -> int:
    """timetz AT TIME ZONE zone: the same instant in that zone (a named zone's offset
    now, as timetz_zone uses the current date)."""
    local, east = decode(key)
    new_east = _offset_now(zone)
    return encode((local - east * 1_000_000 + new_east * 1_000_000) % _DAY, new_east)


def part(key: int, unit: str) -> float | None:
    """extract(unit FROM timetz); None when the unit is not a time-of-day one."""
    local, east = decode(key)
    if unit == "epoch":
        return (local - east * 1_000_000) / 1_000_000
    if unit == "timezone":
        return float(east)
    if unit == "timezone_hour":
        return float(int(east / 3600))
    if unit == "timezone_minute":
        return float(int(east / 60) - int(east / 3600) * 60)
    secs, us = divmod(local, 1_000_000)
    return {"hour": secs // 3600, "minute": secs // 60 % 60,
            "second": secs % 60 + us / 1_000_000,
            "milliseconds": (secs % 60) * 1000 + us / 1000,
            "microseconds": (secs % 60) * 1_000_000 + us}.get(unit)
