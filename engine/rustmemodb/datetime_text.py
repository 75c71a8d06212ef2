"""The date and timestamp spellings PostgreSQL reads beyond ISO 8601.

``types.parse_date`` / ``parse_timestamp`` read ``YYYY-MM-DD[ HH:MM[:SS[.f]]]`` on their
fast path; text that misses it comes here before being refused, so that what people
paste and what files hold reads as PostgreSQL reads it (the DateStyle field order of
the session for ``nn/nn/yyyy``: MDY by default, DMY day first):

    2024-01-05 10:00     a date with a time of day (a date cast drops the time)
    20240105             eight digits, year first
    1/5/2024  2024/1/5   slashes: month/day/year, or year first
    2024.01.05           dots, year first
    Jan 5 2024, January 5, 2024, 5 Jan 2024, 2024-Jan-05, 05-Jan-2024
    10:00:00 pm          a 12-hour time (am/pm), after any of the above
    today, tomorrow, yesterday, epoch, now
    J2451187             a Julian day number

A UTC offset after the time is ignored by a date and applied by a timestamp (which
``parse_timestamp`` keeps in UTC, as it does for ISO text). Anything else stays ``22007``; a field out of range is ``22008``.
"""
from __future__ import annotations

import datetime as _dt
import re

from . import statement_limits as _limits

# English names, as PostgreSQL reads them whatever the locale (strftime's %B would follow
# the host process's LC_TIME)
_FULL = ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december")
_MONTHS = {name: i + 1 for i, full in enumerate(_FULL) for name in (full[:3], full)}
_MONTHS["sept"] = 9
_MONTH = r"(?P<mon>[A-Za-z]{3,9})\.?"
_DATE_FORMS = [re.compile(p, re.I) for p in (
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})",
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
    r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})",
    r"(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})",
    _MONTH + r"[ -](?P<d>\d{1,2}),?[ -](?P<y>\d{4})",
    r"(?P<d>\d{1,2})[ -]" + _MONTH + r"[ -](?P<y>\d{4})",
    r"(?P<y>\d{4})-" + _MONTH + r"-(?P<d>\d{1,2})",
)]
_AMBIGUOUS = _DATE_FORMS[2]        # nn/nn/yyyy: the session's DateStyle orders its fields
_TIME = re.compile(r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?:\.(?P<f>\d*))?)?"
                   r"(?:\s*(?P<ampm>am|pm))?)?"
                   r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?\s*$", re.I)
_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_JULIAN = re.compile(r"J(\d{1,8})", re.I)
# (not before an ISO date: PostgreSQL refuses 'Mon 2020-01-01')
_WEEKDAY = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+(?!\d{4}-)", re.I)


# PostgreSQL's Default timezone_abbreviations that people write (pg_timezone_abbrevs),
# seconds east of UTC: fixed offsets, whatever the date
ZONE_ABBREVIATIONS = {
    "ACDT": 37800, "ACST": 34200, "ADT": -10800, "AEDT": 39600, "AEST": 36000,
    "AKDT": -28800, "AKST": -32400, "ART": -10800, "AST": -14400, "AWST": 28800,
    "BRT": -10800, "BST": 3600, "CDT": -18000, "CEST": 7200, "CET": 3600, "CLT": -10800,
    "CST": -21600, "EAT": 10800, "EDT": -14400, "EEST": 10800, "EET": 7200, "EST": -18000,
    "GMT": 0, "HKT": 28800, "HST": -36000, "ICT": 25200, "IST": 7200, "JST": 32400,
    "KST": 32400, "MDT": -21600, "MESZ": 7200, "MEZ": 3600, "MSK": 10800, "MST": -25200,
    "NDT": -9000, "NST": -12600, "NZDT": 46800, "NZST": 43200, "PDT": -25200, "PHT": 28800,
    "PKT": 18000, "PST": -28800, "SAST": 7200, "SGT": 28800, "UCT": 0, "UT": 0, "UTC": 0,
    "WAT": 3600, "WET": 0, "Z": 0, "ZULU": 0,
}


def abbreviation(name: str) -> _dt.timezone | None:
    """The fixed zone a time zone abbreviation (``PST``, any case) names, or None."""
    secs = ZONE_ABBREVIATIONS.get(name.upper())
    return None if secs is None else _dt.timezone(_dt.timedelta(seconds=secs))


class Unreadable(ValueError):
    """Not a date/time spelling at all (22007)."""


def read(text: str) -> tuple[_dt.datetime, _dt.timedelta]:
    """``(value, offset)``: ``text`` read as a timestamp as written (midnight when no
    time was written) and the UTC offset written after it (zero when none; a date
    ignores it, a timestamp subtracts it). Raises Unreadable, or ValueError for a field
    out of range."""
    s = _WEEKDAY.sub("", text.strip())      # 'Sat, 29 Feb 2020': the day name is ignored
    word = s.lower()
    if word in _WORDS:
        # the session TimeZone's date, as current_date's
        day = _dt.datetime.now(_limits.zone()).date() + _dt.timedelta(days=_WORDS[word])
        return _dt.datetime(day.year, day.month, day.day), _NO_OFFSET
    if word == "epoch":
        return _dt.datetime(1970, 1, 1), _NO_OFFSET
    julian = _JULIAN.match(s)
    if julian is not None:        # 'J2451187': a Julian day number, then any time of day
        t = _TIME.match(s, julian.end())
        if t is not None:
            day = _dt.date.fromordinal(int(julian.group(1)) - 1721425)
            start = _dt.datetime(day.year, day.month, day.day)
            if t.group("h") is not None:
                start = _combine_time(start, t)
            return start, _offset(t.group("tz"))
    if word == "now":       # the transaction's time (now()), as the session zone's clock
        now = _limits.transaction_time().replace(tzinfo=_dt.timezone.utc)
        return now.astimezone(_limits.zone()).replace(tzinfo=None), _NO_OFFSET
    for form in _DATE_FORMS:
        m = form.match(s)
        if m is None:
            continue
        t = _TIME.match(s, m.end())
        if t is None:
            continue
        if form is _AMBIGUOUS:
            return _combine_ordered(m, t), _offset(t.group("tz"))
        return _combine(m, t), _offset(t.group("tz"))
    raise Unreadable(text)


def _combine_ordered(m: re.Match, t: re.Match) -> _dt.datetime:
    """``nn/nn/yyyy`` read in the session's DateStyle order: MDY month first, DMY day
    first; YMD cannot place a year-last date (22008, as PostgreSQL)."""
    order = _limits.date_order()
    first, second = int(m.group("m")), int(m.group("d"))
    if order == "YMD":
        raise ValueError(order)
    month, day = (second, first) if order == "DMY" else (first, second)
    value = _dt.datetime(int(m.group("y")), month, day)
    return _combine_time(value, t) if t.group("h") is not None else value


def _combine(m: re.Match, t: re.Match) -> _dt.datetime:
    fields = m.groupdict()
    if fields.get("mon") is not None:
        month = _month(fields["mon"])
    else:
        month = int(fields["m"])
    value = _dt.datetime(int(fields["y"]), month, int(fields["d"]))
    return _combine_time(value, t) if t.group("h") is not None else value


def _combine_time(value: _dt.datetime, t: re.Match) -> _dt.datetime:
    """``value`` (a midnight) at the time of day ``t`` matched."""
    hour = int(t.group("h"))
    ampm = (t.group("ampm") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(hour)
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    frac = t.group("f") or ""
    micros = round(float("0." + frac) * 1_000_000) if frac else 0
    return value.replace(hour=hour, minute=int(t.group("mi")),
                         second=int(t.group("s") or 0)) + _dt.timedelta(microseconds=micros)


_NO_OFFSET = _dt.timedelta(0)


def _offset(tz: str | None) -> _dt.timedelta:
    tz = (tz or "").upper()
    if not tz or tz in ("Z", "UTC", "GMT"):
        return _NO_OFFSET
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    return sign * _dt.timedelta(hours=hours, minutes=minutes)


def _month(name: str) -> int:
    number = _MONTHS.get(name.lower())
    if number is None:
        raise Unreadable(name)
    return number
