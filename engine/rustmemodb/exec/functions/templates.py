"""PostgreSQL's formatting templates: to_char of dates, timestamps and numbers, and
to_date / to_timestamp that read text by the same templates.

A template is compiled once into items (``_compile``, cached): a pattern such as
``YYYY``, ``Month``, ``HH24``, ``TH`` (ordinal suffix) with its ``FM`` (no padding)
prefix, or literal text (double-quoted text stays as written). Text patterns keep
their case style (``MONTH``/``Month``/``month``); numeric ones are matched in either
case, as PostgreSQL does. The parser follows PostgreSQL's lenient rules: a
separator in the template matches one separator of the input or none, leading
blanks before a field are skipped, and text after the last field is ignored.

Numbers: ``9`` (a digit, blank when leading), ``0`` (a digit, zero when leading),
``.``/``D`` (decimal point), ``,``/``G`` (group separator), ``S``, ``MI``, ``PL``, ``SG``,
``PR`` (signs), ``L`` (the currency symbol: a blank, as lc_monetary C), ``RN`` (roman
numerals), ``EEEE`` (scientific) and ``FM``; a value with more integer digits than the
template prints ``#`` in every digit position. ``V`` and ``TH`` inside are 0A000.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
from decimal import ROUND_HALF_UP, Decimal

from ... import errors, infinity, numeric, statement_limits, types
from .registry import ScalarFunction

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]

# Matched in either case (their output is digits).
_NUMERIC = ["Y,YYY", "SSSSS", "IDDD", "HH24", "HH12", "SSSS", "YYYY", "IYYY", "FF1", "FF2",
            "FF3", "FF4", "FF5", "FF6", "YYY", "IYY", "DDD", "HH", "MI", "SS", "MS", "US",
            "YY", "IY", "DD", "ID", "WW", "IW", "CC", "MM", "Y", "I", "D", "W", "Q", "J"]
# Matched as written: the case of the pattern is the case of the output.
_TEXT = ["MONTH", "Month", "month", "MON", "Mon", "mon", "DAY", "Day", "day", "DY", "Dy",
         "dy", "A.M.", "a.m.", "P.M.", "p.m.", "B.C.", "b.c.", "A.D.", "a.d.", "AM", "am",
         "PM", "pm", "BC", "bc", "AD", "ad", "RM", "rm", "TZH", "TZM", "TZ", "tz", "OF"]
_PATTERNS = sorted([(p, False) for p in _NUMERIC] + [(p, True) for p in _TEXT],
                   key=lambda x: -len(x[0]))


@functools.lru_cache(maxsize=256)
def _compile(template: str) -> tuple:
    """((kind, value, fill_mode, suffix), ...): kind "lit" (value: text) or "pat"."""
    items, i, n = [], 0, len(template)
    while i < n:
        fm = False
        while template[i:i + 2].upper() in ("FM", "FX", "TM"):
            prefix = template[i:i + 2].upper()
            # FM: no padding; TM (translated names) pads no name either: "tm"
            fm = True if prefix == "FM" or fm is True else "tm" if prefix == "TM" else fm
            i += 2
        if i >= n:
            break
        if template[i] == '"':                      # quoted literal text
            j, text = i + 1, []
            while j < n and template[j] != '"':
                if template[j] == "\\" and j + 1 < n:
                    j += 1
                text.append(template[j])
                j += 1
            items.append(("lit", "".join(text), False, ""))
            i = j + 1
            continue
        for pattern, exact in _PATTERNS:
            chunk = template[i:i + len(pattern)]
            if chunk == pattern if exact else chunk.upper() == pattern:
                i += len(pattern)
                suffix = ""
                if not exact and template[i:i + 2] in ("TH", "th"):
                    suffix, i = template[i:i + 2], i + 2
                items.append(("pat", pattern, fm, suffix))
                break
        else:
            items.append(("lit", template[i], False, ""))
            i += 1
    return tuple(items)


def _ordinal(n: int, upper: bool) -> str:
    s = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return s.upper() if upper else s


def _styled(word: str, pattern: str, fm: bool, width: int) -> str:
    if pattern.isupper():
        word = word.upper()
    elif pattern.islower():
        word = word.lower()
    return word if fm else word.ljust(width)


def format_datetime(value, template: str, zone: tuple = ("", 0)) -> str:
    """to_char(date|timestamp, template); ``zone`` is the (abbreviation, UTC offset in
    seconds) of a timestamptz's session zone, for TZ, OF, TZH and TZM."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    out = []
    for kind, pattern, fm, suffix in _compile(template):
        if kind == "lit":
            out.append(pattern)
            continue
        if pattern.upper() in ("TZ", "OF", "TZH", "TZM"):
            out.append(_zone_field(pattern, zone))
            continue
        text, number = _field(value, pattern, fm)
        if suffix and number is not None:
            text += _ordinal(number, suffix == "TH")
        out.append(text)
    return "".join(out)


def _zone_field(pattern: str, zone: tuple) -> str:
    """TZ (the zone's abbreviation, lower case for tz), OF (``+05:30``), TZH, TZM."""
    abbrev, secs = zone
    upper = pattern.upper()
    if upper == "TZ":
        return abbrev.upper() if pattern == "TZ" else abbrev.lower()
    sign = "-" if secs < 0 else "+"
    hours, minutes = abs(secs) // 3600, abs(secs) // 60 % 60
    if upper == "OF":
        return f"{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")
    return f"{sign}{hours:02d}" if upper == "TZH" else f"{minutes:02d}"


def _field(v: dt.datetime, pattern: str, fm: bool) -> tuple[str, int | None]:
    """(text, the number it shows or None) of one pattern."""
    if pattern in _TEXT:
        upper = pattern.upper()
        if upper in ("MONTH", "MON"):
            name = _MONTHS[v.month - 1]
            return _styled(name if upper == "MONTH" else name[:3], pattern, fm or
                           upper == "MON", 9), None
        if upper in ("DAY", "DY"):
            name = _DAYS[v.weekday()]
            return _styled(name if upper == "DAY" else name[:3], pattern, fm or
                           upper == "DY", 9), None
        if upper in ("AM", "PM", "A.M.", "P.M."):
            word = ("PM" if v.hour >= 12 else "AM") if "." not in upper else \
                ("P.M." if v.hour >= 12 else "A.M.")
            return (word if pattern.isupper() else word.lower()), None
        if upper in ("BC", "AD", "B.C.", "A.D."):
            word = "A.D." if "." in upper else "AD"
            return (word if pattern.isupper() else word.lower()), None
        if upper == "RM":
            roman = _ROMAN[v.month - 1]
            return _styled(roman, pattern, fm, 4), None
        return "", None                                # time zones: none on a timestamp
    p = pattern.upper()
    iso_year, iso_week, iso_day = v.isocalendar()
    doy = v.timetuple().tm_yday
    numbers = {
        "YYYY": (v.year, 4), "YYY": (v.year % 1000, 3), "YY": (v.year % 100, 2),
        "Y": (v.year % 10, 1), "IYYY": (iso_year, 4), "IYY": (iso_year % 1000, 3),
        "IY": (iso_year % 100, 2), "I": (iso_year % 10, 1), "MM": (v.month, 2),
        "DD": (v.day, 2), "DDD": (doy, 3), "IDDD": ((iso_week - 1) * 7 + iso_day, 3),
        "D": ((v.weekday() + 1) % 7 + 1, 1), "ID": (iso_day, 1), "W": ((v.day - 1) // 7 + 1, 1),
        "WW": ((doy - 1) // 7 + 1, 2), "IW": (iso_week, 2), "CC": ((v.year - 1) // 100 + 1, 2),
        "Q": ((v.month - 1) // 3 + 1, 1), "J": (v.toordinal() + 1721425, 1),
        "HH": (v.hour % 12 or 12, 2), "HH12": (v.hour % 12 or 12, 2), "HH24": (v.hour, 2),
        "MI": (v.minute, 2), "SS": (v.second, 2), "MS": (v.microsecond // 1000, 3),
        "US": (v.microsecond, 6), "SSSS": (v.hour * 3600 + v.minute * 60 + v.second, 1),
        "SSSSS": (v.hour * 3600 + v.minute * 60 + v.second, 1),
    }
    if p == "Y,YYY":
        return f"{v.year // 1000},{v.year % 1000:03d}", v.year
    if p.startswith("FF"):
        digits = int(p[2])
        return f"{v.microsecond:06d}"[:digits], None
    number, width = numbers[p]
    return (str(number) if fm is True else str(number).zfill(width)), number


# ---- to_char(interval, template) ---------------------------------------------------------------

# patterns PostgreSQL refuses for an interval (22007): names of months and days, eras,
# zones, and the day-of-week numbers
_NOT_FOR_INTERVAL = {"MONTH", "MON", "DAY", "DY", "BC", "AD", "B.C.", "A.D.", "TZH", "TZM",
                     "TZ", "OF", "D", "ID"}
# the ISO week-date fields and the Julian day PostgreSQL computes for an interval from a
# calendar date it is not: not reproduced here (0A000)
_ISO_FOR_INTERVAL = {"IYYY", "IYY", "IY", "I", "IDDD", "IW", "J"}
_RM_REVERSED = _ROMAN[::-1]


def _tdiv(a: int, b: int) -> int:
    """C's integer division (toward zero), as PostgreSQL's interval2tm and sprintf see it."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _tmod(a: int, b: int) -> int:
    return a - b * _tdiv(a, b)


def format_interval(iv: types.Interval, template: str) -> str:
    """to_char(interval, template): PostgreSQL's interval_to_char. The fields are the
    interval's own (years, months under 12, days, hours past 24, ...), each with C's
    truncating signs; a negative field is one character wider (``-02``)."""
    year, mon = _tdiv(iv.months, 12), _tmod(iv.months, 12)
    mday = iv.days
    hour = _tdiv(iv.micros, 3_600_000_000)
    rest = iv.micros - hour * 3_600_000_000
    minute = _tdiv(rest, 60_000_000)
    rest -= minute * 60_000_000
    sec, fsec = _tdiv(rest, 1_000_000), _tmod(rest, 1_000_000)
    yday = (year * 12 + mon) * 30 + mday
    out = []
    for kind, pattern, fm, suffix in _compile(template):
        if kind == "lit":
            out.append(pattern)
            continue
        upper = pattern.upper()
        if upper in _NOT_FOR_INTERVAL:
            raise errors.sql_error("22007", "invalid format specification for an interval "
                                            "value",
                                   hint="Intervals are not tied to specific calendar dates.")
        if upper in _ISO_FOR_INTERVAL:
            raise errors.not_supported(f"to_char(interval) pattern {pattern!r}")
        if upper in ("AM", "PM", "A.M.", "P.M."):
            pm = _tmod(hour, 24) >= 12
            word = ("PM" if pm else "AM") if "." not in upper else ("P.M." if pm else "A.M.")
            out.append(word if pattern.isupper() else word.lower())
            continue
        if upper == "RM":
            if not mon:
                continue
            roman = _RM_REVERSED[-(mon + 1) if mon < 0 else 12 - mon]
            roman = roman if pattern.isupper() else roman.lower()
            out.append(roman if fm else roman.ljust(4))
            continue
        if upper == "Y,YYY":
            out.append(f"{_tdiv(year, 1000)},{_c_pad(_tmod(year, 1000), 3)}")
            continue
        if upper == "Q":
            if mon:
                out.append(str(_tdiv(mon - 1, 3) + 1))
            continue
        if upper.startswith("FF"):
            digits = int(upper[2])
            number, width, signed = _tdiv(fsec, 10 ** (6 - digits)), digits, False
        else:
            hour12 = _tmod(hour, 12) or 12
            number, width, signed = {
                "YYYY": (year, 4, True), "YYY": (_tmod(year, 1000), 3, True),
                "YY": (_tmod(year, 100), 2, True), "Y": (_tmod(year, 10), 1, False),
                "CC": (_tdiv(year, 100), 2, False), "MM": (mon, 2, True),
                "DD": (mday, 2, False), "DDD": (yday, 3, False),
                "WW": (_tdiv(yday - 1, 7) + 1, 2, False), "W": (_tdiv(mday - 1, 7) + 1, 1, False),
                "HH24": (hour, 2, True), "HH": (hour12, 2, True), "HH12": (hour12, 2, True),
                "MI": (minute, 2, True), "SS": (sec, 2, True), "MS": (_tdiv(fsec, 1000), 3, False),
                "US": (fsec, 6, False), "SSSS": (hour * 3600 + minute * 60 + sec, 0, False),
                "SSSSS": (hour * 3600 + minute * 60 + sec, 0, False),
            }[upper]
        if fm is True:
            width = 0
        elif signed and number < 0:
            width += 1
        text = _c_pad(number, width)
        if suffix:
            text += _ordinal(abs(number), suffix == "TH")
        out.append(text)
    return "".join(out)


def _c_pad(number: int, width: int) -> str:
    """C's ``%0*d``: zeros after the sign, up to ``width`` characters in all."""
    if number < 0:
        return "-" + str(-number).zfill(max(width - 1, 0))
    return str(number).zfill(width)


# ---- to_date / to_timestamp -------------------------------------------------------------------

def _invalid(value: str, pattern: str, detail: str) -> errors.Error:
    return errors.sql_error("22007", f'invalid value "{value}" for "{pattern}"', detail=detail)


def parse_datetime(text: str, template: str) -> dt.datetime:
    """to_timestamp(text, template); to_date keeps the date part."""
    fields: dict = {}
    pos, n = 0, len(text)
    items = _compile(template)
    for at, (kind, pattern, _fm, _suffix) in enumerate(items):
        if kind == "lit":
            for c in pattern:
                if c.isalnum():
                    pos = min(pos + 1, n)       # quoted text: as many input characters
                elif pos < n and not text[pos].isalnum():
                    pos += 1                    # a separator matches one separator...
            continue                            # ...or none
        while pos < n and text[pos] == " ":
            pos += 1
        # YYYY takes more than four digits only when no number field follows at once
        follows = at + 1 < len(items) and items[at + 1][0] == "pat" and \
            items[at + 1][1].upper() in _WIDTHS
        pos = _read_field(text, pos, pattern, fields, greedy=not follows)
    return _assemble(text, fields)


_WIDTHS = {"YYYY": 4, "YYY": 3, "YY": 2, "Y": 1, "IYYY": 4, "MM": 2, "DD": 2, "DDD": 3,
           "HH": 2, "HH12": 2, "HH24": 2, "MI": 2, "SS": 2, "MS": 3, "US": 6, "FF1": 1,
           "FF2": 2, "FF3": 3, "FF4": 4, "FF5": 5, "FF6": 6, "SSSS": 5, "SSSSS": 5, "J": 7,
           "D": 1, "ID": 1, "IW": 2, "WW": 2, "W": 1, "CC": 2, "Q": 1, "IDDD": 3,
           "IYY": 3, "IY": 2, "I": 1}


def _read_field(text: str, pos: int, pattern: str, fields: dict, greedy: bool = True) -> int:
    upper = pattern.upper()
    if upper in ("MONTH", "MON", "DAY", "DY", "RM"):
        names = {"MONTH": _MONTHS, "MON": [m[:3] for m in _MONTHS], "DAY": _DAYS,
                 "DY": [d[:3] for d in _DAYS], "RM": _ROMAN}[upper]
        rest = text[pos:].upper()
        for i, name in sorted(enumerate(names), key=lambda x: -len(x[1])):
            if rest.startswith(name.upper()):
                if upper in ("MONTH", "MON", "RM"):
                    fields["month"] = i + 1
                return pos + len(name)
        raise _invalid(text[pos:pos + 9].split(" ")[0], pattern,
                       "The given value did not match any of the allowed values for "
                       "this field.")
    if upper in ("AM", "PM", "A.M.", "P.M."):
        word = text[pos:pos + len(upper)].upper()
        if word not in ("AM", "PM", "A.M.", "P.M."):
            raise _invalid(text[pos:pos + len(upper)], pattern,
                           "The given value did not match any of the allowed values for "
                           "this field.")
        fields["pm"] = word.startswith("P")
        return pos + len(upper)
    if upper in ("TZH", "TZM"):
        return _read_offset(text, pos, upper, fields)
    if upper in ("TZ", "OF"):
        raise errors.sql_error("0A000", f'formatting field "{pattern}" is only supported in '
                                        "to_char")
    if upper in ("BC", "AD", "B.C.", "A.D."):
        return pos + len(upper)
    if upper == "Y,YYY":
        digits = text[pos:pos + 5]
        if len(digits) == 5 and digits[1] == "," and (digits[0] + digits[2:]).isdigit():
            fields["year"] = int(digits[0] + digits[2:])
            return pos + 5
        raise _invalid(digits, pattern, "Value must be an integer.")
    width = _WIDTHS[upper]
    end = pos
    if end < len(text) and text[end] in "+-" and upper in ("YYYY", "J"):
        end += 1
    while end < len(text) and text[end].isdigit() and (
            end - pos < width or (upper == "YYYY" and greedy)):
        end += 1
    raw = text[pos:end]
    if not raw or not raw.lstrip("+-").isdigit():
        raise _invalid(text[pos:pos + width] or "", pattern, "Value must be an integer.")
    value = int(raw)
    key = {"YYYY": "year", "IYYY": "year", "MM": "month", "DD": "day", "DDD": "doy",
           "HH": "hour12", "HH12": "hour12", "HH24": "hour", "MI": "minute", "SS": "second",
           "MS": "ms", "US": "us", "SSSS": "sssss", "SSSSS": "sssss", "J": "julian",
           "IW": "isoweek", "ID": "isodow", "IDDD": "isodoy"}.get(upper)
    if upper in ("YYY", "YY", "Y", "IYY", "IY", "I"):
        # fewer digits: the year nearest 2020 with them, as PostgreSQL reads them
        digits = len(raw)
        key, value = "year", value if digits > 3 else (
            value + 2000 if value < 70 and digits <= 2 else value + 1900 if digits <= 2
            else value + 1000 if digits == 3 and value >= 100 else value + 2000)
    elif upper.startswith("FF") or upper == "US":
        key, value = "us", int(raw.ljust(6, "0")[:6])
    elif upper == "MS":      # a fraction of a second: "5" is 500 ms, as in PostgreSQL
        key, value = "us", int(raw.ljust(3, "0")[:3]) * 1000
    if key is not None:
        fields[key] = value
    return end


def _read_offset(text: str, pos: int, upper: str, fields: dict) -> int:
    """TZH (a signed hour) or TZM (minutes, with the sign of TZH)."""
    m = _OFFSET_FIELD.match(text, pos)
    if m is None:
        raise _invalid(text[pos:pos + 3], upper, "Value must be an integer.")
    number = int(m.group(2))
    if upper == "TZM":
        fields["tzm"] = number
    else:
        fields["tzh"] = -number if m.group(1) == "-" else number
        fields["tz_negative"] = m.group(1) == "-"
    return m.end()


_OFFSET_FIELD = re.compile(r"([+-]?)(\d{1,2})")


def _assemble(text: str, f: dict) -> dt.datetime:
    try:
        if "julian" in f:
            day = dt.date.fromordinal(f["julian"] - 1721425)
            year, month, mday = day.year, day.month, day.day
        else:
            year, month, mday = f.get("year", 1), f.get("month", 1), f.get("day", 1)
        if "doy" in f and "julian" not in f:
            start = dt.date(year, 1, 1) + dt.timedelta(days=f["doy"] - 1)
            month, mday = start.month, start.day
        if ("isoweek" in f or "isodoy" in f) and "julian" not in f:
            # an ISO week date (IYYY-IW-ID or IYYY-IDDD): the year read is the ISO year
            if "isodoy" in f:
                day = dt.date.fromisocalendar(year, 1, 1) + dt.timedelta(days=f["isodoy"] - 1)
            else:
                day = dt.date.fromisocalendar(year, f["isoweek"], f.get("isodow", 1))
            year, month, mday = day.year, day.month, day.day
        hour = f.get("hour", 0)
        if "hour12" in f:
            h = f["hour12"]
            if not 1 <= h <= 12:
                raise errors.sql_error("22007", f'hour "{h}" is invalid for the 12-hour clock',
                                       hint="Use the 24-hour clock, or give an hour between "
                                            "1 and 12.")
            hour = h % 12 + (12 if f.get("pm") else 0)
        elif f.get("pm") and hour < 12:
            hour += 12
        minute, second = f.get("minute", 0), f.get("second", 0)
        if "sssss" in f:
            hour, rest = divmod(f["sssss"], 3600)
            minute, second = divmod(rest, 60)
        micro = f.get("us", f.get("ms", 0) * 1000)
        value = dt.datetime(year, month, mday, hour, minute, second, micro)
        if "tzh" in f or "tzm" in f:       # TZH/TZM/OF: the time is at that offset
            secs = abs(f.get("tzh", 0)) * 3600 + f.get("tzm", 0) * 60
            return value.replace(tzinfo=dt.timezone(dt.timedelta(
                seconds=-secs if f.get("tz_negative") else secs)))
        return value
    except (ValueError, OverflowError):
        raise errors.sql_error("22008", f'date/time field value out of range: "{text}"') \
            from None


# ---- numbers ----------------------------------------------------------------------------------

def _number_tokens(template: str) -> tuple[list, bool]:
    fm = "FM" in template.upper()
    body = template.replace("FM", "").replace("fm", "")
    tokens, i = [], 0
    while i < len(body):
        two = body[i:i + 2].upper()
        if two == "TH" and i + 2 == len(body):     # ordinal suffix, last in the template
            tokens.append(body[i:i + 2])
            i += 2
            continue
        if body[i] in "Ll":             # the currency symbol: lc_monetary C has none,
            tokens.append(("lit", " "))  # which PostgreSQL prints as a blank
            i += 1
            continue
        if body[i:i + 4].upper() == "EEEE" or two in ("RN", "TH") or body[i] in "Vv":
            raise errors.not_supported(f"to_char number pattern {body[i:i + 4]!r}",
                                       hint="Use 9, 0, ., D, ',', G, S, MI, PL, SG, PR, L, "
                                            "RN, EEEE, FM.")
        if body[i] == '"':             # quoted text is printed as written
            end = body.find('"', i + 1)
            end = len(body) if end < 0 else end
            tokens.extend(("lit", c) for c in body[i + 1:end])
            i = end + 1
        elif two in ("MI", "PL", "SG", "PR"):
            tokens.append(two)
            i += 2
        elif body[i] in "90.,DGS" or body[i] in "dgs":
            tokens.append(body[i].upper())
            i += 1
        else:
            tokens.append(("lit", body[i]))
            i += 1
    return tokens, fm


def _float_digits(value: float, post: int) -> Decimal:
    """float8_to_char's digits: printf's %.*f of the double itself (a tie such as 2.5 to
    no places rounds to even: 2), with no more than DBL_DIG (15) significant digits."""
    if value != value or value in (float("inf"), float("-inf")):
        return Decimal(value)
    pre = len(f"{abs(value):.0f}")
    post = 0 if pre >= 15 else min(post, 15 - pre)
    return Decimal(f"{value:.{post}f}")


def format_number(value, template: str) -> str:
    """to_char(number, template) for the digit, point, group and sign patterns, roman
    numerals (RN) and scientific notation (EEEE)."""
    bare = template.replace("FM", "").replace("fm", "")
    if bare.upper() == "RN":
        return _roman(value, "FM" in template.upper(), bare == "rn")
    if "EEEE" in template.upper():
        if bare[-4:].upper() != "EEEE" or not set(bare[:-4]) <= set("90.D") or \
                "FM" in template.upper():
            raise errors.syntax_error('"EEEE" is incompatible with other formats',
                                      hint='"EEEE" may only be used together with digit and '
                                           "decimal point patterns.")
        return _scientific(value, bare[:-4])
    tokens, fm = _number_tokens(template)
    point = next((k for k, t in enumerate(tokens) if t in (".", "D")), len(tokens))
    kinds = [t if t in ("9", "0") else None for t in tokens]
    n_int = sum(1 for k, t in enumerate(kinds) if t and k < point)
    frac_kinds = [t for k, t in enumerate(kinds) if t and k > point]
    if isinstance(value, float):
        number = _float_digits(value, len(frac_kinds))
        cut = len(frac_kinds) + min(number.as_tuple().exponent, 0) if number.is_finite() \
            else 0
        if cut > 0:
            # float8_to_char prints no more than DBL_DIG digits: the template's last
            # fraction places go (and the point with them when none is left)
            slots = [k for k, t in enumerate(kinds) if t and k > point][-cut:]
            if cut == len(frac_kinds):
                slots.append(point)
            tokens = [t for k, t in enumerate(tokens) if k not in set(slots)]
            point = next((k for k, t in enumerate(tokens) if t in (".", "D")), len(tokens))
            kinds = [t if t in ("9", "0") else None for t in tokens]
            frac_kinds = frac_kinds[:len(frac_kinds) - cut]
    else:
        number = Decimal(value)
    if number.is_infinite():    # PostgreSQL shows the template's digits as #, signed
        number = Decimal(10) ** n_int * (-1 if number < 0 else 1)
    if not number.is_finite():
        raise errors.not_supported("to_char of NaN with a number template")
    number = number.quantize(Decimal(1).scaleb(-len(frac_kinds)), rounding=ROUND_HALF_UP,
                             context=numeric.CTX)
    # -0.004 to two places is 0.00, not -0.00; a float's printf keeps the sign (-0)
    negative = number < 0 or (isinstance(value, float) and number.is_signed())
    number = number.copy_abs()     # exact (abs() would round to the process context)
    whole, _, frac = f"{number:f}".partition(".")
    if whole == "0" and point < len(tokens):
        whole = ""                      # 0.5 with 9.99 is " .50"; a 0 slot prints the zero
    overflow = len(whole) > n_int
    padded = [None] * (n_int - len(whole)) + list(whole) if not overflow else []
    first_zero = next((j for j, t in enumerate(t for t in kinds[:point] if t) if t == "0"),
                      n_int)
    trailing = any(t == "S" for t in tokens[point:]) and not any(
        t == "S" for t in tokens[:point])
    slot = "PR" if "PR" in tokens else ("S" if "S" in tokens and not trailing else (
        None if any(t in ("S", "MI", "SG") for t in tokens) else "default"))
    out: list[str] = []
    started = None                      # index in out where the number begins
    digit = frac_at = 0
    for k, t in enumerate(tokens):
        if isinstance(t, tuple):
            out.append(t[1])
        elif t in ("9", "0") and k < point:
            if overflow:
                started = len(out) if started is None else started
                out.append("#")
            elif padded[digit] is not None or digit >= first_zero:
                started = len(out) if started is None else started
                out.append(padded[digit] or "0")
            else:
                out.append("" if fm else " ")
            digit += 1
        elif t in ("9", "0"):
            out.append("#" if overflow else frac[frac_at])
            frac_at += 1
        elif t in (".", "D"):
            started = len(out) if started is None else started
            out.append(".")
        elif t in (",", "G"):
            out.append("," if started is not None or overflow else ("" if fm else " "))
        elif t == "S":
            if trailing:
                out.append("-" if negative else "+")
        elif t == "MI":
            out.append("-" if negative else ("" if fm else " "))
        elif t == "PL":
            out.append("+" if not negative else ("" if fm else " "))
        elif t == "SG":
            out.append("-" if negative else "+")
        elif t in ("TH", "th"):
            out.append(_ordinal(int(number), t == "TH"))
    if fm:                              # fill mode: no trailing zeros in 9 positions
        at, kinds_after = len(out) - 1, list(reversed(frac_kinds))
        for kind in kinds_after:
            while at >= 0 and not out[at].isdigit():
                at -= 1
            if kind != "9" or at < 0 or out[at] != "0":
                break
            out[at] = ""
    if slot is not None:
        sign = {"default": "-" if negative else ("" if fm else " "),
                "S": "-" if negative else "+",
                "PR": "<" if negative else ("" if fm else " ")}[slot]
        at = started if started is not None else len(out)
        out.insert(at, sign)
        if slot == "PR":
            out.append(">" if negative else ("" if fm else " "))
    return "".join(out)


_ROMAN_PARTS = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def _roman(value, fm: bool, lower: bool) -> str:
    """RN: the value rounded to an integer in roman numerals, right-aligned in 15
    characters (FM: not padded); outside 1..3999 fifteen #, as PostgreSQL prints."""
    number = _float_digits(value, len(frac_kinds)) if isinstance(value, float) else \
        Decimal(value)
    if not number.is_finite():
        return "#" * 15
    n = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=numeric.CTX))
    if not 1 <= n <= 3999:
        return "#" * 15
    out = []
    for amount, letters in _ROMAN_PARTS:
        count, n = divmod(n, amount)
        out.append(letters * count)
    text = "".join(out)
    text = text.lower() if lower else text
    return text if fm else text.rjust(15)


def _scientific(value, mantissa: str) -> str:
    """EEEE: the value as d.ddde+XX with as many fraction digits as the template has
    after its point; a blank takes a positive value's sign place."""
    point = max(mantissa.find("."), mantissa.find("D"))
    digits = len(mantissa) - point - 1 if point >= 0 else 0
    number = value if isinstance(value, float) else Decimal(value)
    if not math.isfinite(number):           # PostgreSQL: ' #.##' and the exponent's 4
        return " #." + "#" * digits + "####"
    if isinstance(number, float):           # float8: printf's %e
        text = f"{number:.{digits}e}"
    else:   # numeric: exact, half away from zero (9.996 is 10.00e+00, as PostgreSQL)
        exponent = number.adjusted() if number else 0
        step = Decimal(1).scaleb(-digits)
        lead = number.scaleb(-exponent).quantize(step, rounding=ROUND_HALF_UP,
                                                 context=numeric.CTX)
        text = f"{lead}e{exponent:+03d}"
    return text if text.startswith("-") else " " + text


# ---- registration -----------------------------------------------------------------------------

def parse_number(text: str, template: str) -> float:
    """to_number(text, template): the template read left to right against the text, as
    PostgreSQL does: a 9 or 0 takes a digit if one is there (a 9 passes over a leading
    blank), D or '.' the decimal point, G or ',' a group separator, S/MI/PL/SG/PR the
    sign, other template characters one character of the text. NUMERIC is float8 here.
    An empty template reads nothing: NULL, as in PostgreSQL."""
    if template == "":
        return None
    tokens, _ = _number_tokens(template)
    if sum(1 for t in tokens if t in (".", "D")) > 1:
        raise errors.syntax_error("multiple decimal points")
    digits, i, negative = [], 0, False
    while i < len(text) and text[i] == " ":
        i += 1
    if "PR" in tokens and text[i:i + 1] == "<":     # <123> is -123: the bracket comes first
        negative, i = True, i + 1
    for tok in tokens:
        c = text[i] if i < len(text) else ""
        if tok in ("9", "0"):
            if c == "-" and not digits:          # a leading minus before the first digit
                negative, i = True, i + 1
                c = text[i] if i < len(text) else ""
            if c.isdigit():
                digits.append(c)
                i += 1
            elif c == " " and tok == "9" and not digits:
                i += 1
        elif tok in (".", "D"):
            if c == ".":
                digits.append(".")
                i += 1
        elif tok in (",", "G"):
            if c == ",":
                i += 1
        elif tok in ("S", "MI", "PL", "SG"):
            if c in "+-" and c:
                negative, i = negative or c == "-", i + 1
        elif tok == "PR":
            if c == ">":
                i += 1
        elif isinstance(tok, tuple) or tok in ("th", "TH"):
            i += 1 if c and not c.isdigit() else 0
    number = "".join(digits)
    if not number.strip(".") or number.count(".") > 1:
        raise errors.sql_error("22P02", f'invalid input syntax for type numeric: "{text}"')
    value = float(number)
    return -value if negative else value


def _instant(value: dt.datetime) -> dt.datetime:
    """to_timestamp's result: text with a zone (TZH, TZM, OF, TZ) at that zone, else the
    session's."""
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc)
    return types.local_to_instant(value)


def _wall_clock(value: dt.datetime) -> dt.datetime:
    """to_date ignores a zone in the text: the date as written."""
    return value if value.tzinfo is None else value.replace(tzinfo=None)


def _to_char_resolve(ts):
    if len(ts) == 2 and ts[1] in (types.TEXT, types.NULL) and ts[0] in (
            types.DATE, types.TIMESTAMP, types.INTEGER, types.FLOAT, types.NULL,
            types.TIMESTAMPTZ, types.INTERVAL, types.TIME, types.NUMERIC):
        return types.TEXT
    return None


def _to_char(value, template):
    if isinstance(value, infinity.Infinite):
        return None                 # PostgreSQL: no text for an infinite date/timestamp
    if template == "":
        # PostgreSQL: NULL for a date/time or an interval, empty text for a number
        return None if isinstance(value, (types.Interval, dt.date, dt.time)) else ""
    if isinstance(value, types.Interval):
        return format_interval(value, template)
    if isinstance(value, dt.time):        # PostgreSQL reads a time of day as an interval
        return format_interval(types.Interval(0, 0, types.time_micros(value)), template)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        # to_char has no date overload: PostgreSQL casts a date to timestamptz (local
        # midnight), so TZ and OF print the session's zone
        value = types.local_to_instant(dt.datetime(value.year, value.month, value.day))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        local = value.astimezone(statement_limits.zone())
        offset = int(local.utcoffset().total_seconds())
        name = local.tzname() or ""
        if not name[:1].isalpha() or name.startswith(("UTC+", "UTC-")):
            name = statement_limits.format_offset(offset)   # a fixed offset: "+02"
        return format_datetime(types.instant_to_local(value), template, (name, offset))
    if isinstance(value, (dt.date, dt.datetime)):
        return format_datetime(value, template)
    if type(value) is bytes:              # a numeric's key: its exact Decimal (numeric.py)
        value = numeric.decode(value)
    return format_number(value, template)


def register(reg) -> None:
    reg.add(ScalarFunction("to_char", _to_char_resolve, None, _to_char))
    reg.add(ScalarFunction("to_number", lambda ts: types.FLOAT if len(ts) == 2 and all(
        t in (types.TEXT, types.NULL) for t in ts) else None, None, parse_number))
    # to_timestamp(text, template) is timestamptz: the text read in the session's TimeZone
    reg.add(ScalarFunction("to_timestamp", lambda ts: types.TIMESTAMPTZ if len(ts) == 2 and all(
        t in (types.TEXT, types.NULL) for t in ts) else None, None,
        lambda text, template: _instant(parse_datetime(text, template))))
    reg.add(ScalarFunction("to_date", lambda ts: types.DATE if len(ts) == 2 and all(
        t in (types.TEXT, types.NULL) for t in ts) else None, None,
        lambda text, template: _wall_clock(parse_datetime(text, template)).date()))
