"""A range's text: PostgreSQL's range_in and range_out.

Input (range_parse): optional blanks, ``empty`` (any case), or a bracket or
parenthesis, the lower bound, a comma, the upper bound and the closing one. A bound
left out is infinite; a bound may be double-quoted (``""`` inside quotes is a quote)
and a backslash takes the next character as it is. Each bound's text is then read as
the element type (its own errors: 22P02, 22007, 22003). Output (range_deparse) quotes a
bound that is empty or holds a quote, backslash, bracket, parenthesis, comma or blank,
doubling quotes and backslashes: ``["2020-01-01 00:00:00","2020-02-01 00:00:00")``.
"""
from __future__ import annotations

import decimal
import math
import re

from .. import errors, types
from .kinds import INT4RANGE, INT4_MAX, INT4_MIN, RangeKind
from .value import Bound, Range, check_element, make


_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?")


def _malformed(text: str, detail: str) -> errors.Error:
    return errors.sql_error("22P02", f'malformed range literal: "{text}"', detail=detail)


def _bound(text: str, i: int) -> tuple[str | None, int]:
    """range_parse_bound: the bound's text (None when left out) and where it ends."""
    n = len(text)
    if i < n and text[i] in ",)]":
        return None, i
    out, quoted = [], False
    while quoted or not (i < n and text[i] in ",)]"):
        if i >= n:
            raise _malformed(text, "Unexpected end of input.")
        ch = text[i]
        i += 1
        if ch == "\\":
            if i >= n:
                raise _malformed(text, "Unexpected end of input.")
            out.append(text[i])
            i += 1
        elif ch == '"':
            if not quoted:
                quoted = True
            elif i < n and text[i] == '"':
                out.append('"')
                i += 1
            else:
                quoted = False
        else:
            out.append(ch)
    return "".join(out), i


def parse_range(kind: RangeKind, text: str) -> Range:
    """``text`` read as a range of ``kind`` (range_in)."""
    n, i = len(text), 0
    while i < n and text[i].isspace():
        i += 1
    if text[i:i + 5].lower() == "empty":
        i += 5
        while i < n and text[i].isspace():
            i += 1
        if i < n:
            raise _malformed(text, 'Junk after "empty" key word.')
        return Range(empty=True, kind=kind)
    if i < n and text[i] in "[(":
        lo_inc = text[i] == "["
        i += 1
    else:
        raise _malformed(text, "Missing left parenthesis or bracket.")
    lower, i = _bound(text, i)
    if i < n and text[i] == ",":
        i += 1
    else:
        raise _malformed(text, "Missing comma after lower bound.")
    upper, i = _bound(text, i)
    if i < n and text[i] in ")]":
        up_inc = text[i] == "]"
        i += 1
    else:
        raise _malformed(text, "Too many commas.")
    while i < n and text[i].isspace():
        i += 1
    if i < n:
        raise _malformed(text, "Junk after right parenthesis or bracket.")
    lo = None if lower is None else check_element(kind, parse_element(kind, lower))
    up = None if upper is None else check_element(kind, parse_element(kind, upper))
    return make(kind, Bound(lo, lower is None, lo_inc, True),
                Bound(up, upper is None, up_inc, False))


def parse_element(kind: RangeKind, text: str):
    """One bound's text as the range's element type, with that type's errors."""
    element = kind.element
    if element == types.INTEGER:
        name = "integer" if kind.name == INT4RANGE else "bigint"
        try:
            v = int(text.strip())
        except ValueError:
            raise errors.sql_error("22P02", f'invalid input syntax for type {name}: "{text}"') \
                from None
        lo, hi = (INT4_MIN, INT4_MAX) if kind.name == INT4RANGE else (types.INT64_MIN,
                                                                     types.INT64_MAX)
        if not lo <= v <= hi:
            raise errors.sql_error("22003", f'value "{text}" is out of range for type {name}')
        return v
    if element == types.FLOAT:
        body = text.strip().lower()
        special = {"nan": math.nan, "infinity": math.inf, "+infinity": math.inf,
                   "-infinity": -math.inf, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}
        if body in special:
            return special[body]
        if not _NUMERIC.fullmatch(body):
            raise errors.sql_error("22P02", f'invalid input syntax for type numeric: "{text}"')
        return float(body)
    if element == types.DATE:
        return types.parse_date(text)
    if element == types.TIMESTAMP:
        return types.parse_timestamp(text)
    return types.parse_timestamptz(text)


def format_element(kind: RangeKind, v, zone=None) -> str:
    element = kind.element
    if element == types.FLOAT:
        return format_numeric(v)
    if element == types.DATE:
        return v.isoformat()
    if element == types.TIMESTAMP:
        return types.format_timestamp(v)
    if element == types.TIMESTAMPTZ:
        return types.format_timestamptz(v, zone)
    return str(v)


def format_numeric(v: float) -> str:
    """A numrange bound as numeric prints it: no exponent, NaN and Infinity spelled out."""
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == int(v):
        return str(int(v))
    return format(decimal.Decimal(repr(v)), "f")


def _escape(text: str) -> str:
    if text and not any(c in '"\\()[],' or c.isspace() for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '""') + '"'


def format_range(kind: RangeKind, r: Range, zone=None) -> str:
    """range_out: ``empty``, or the brackets around the bounds' (quoted) text; a
    tstzrange's instants in ``zone`` (the session's TimeZone by default)."""
    if r.empty:
        return "empty"
    lower = "" if r.lower is None else _escape(format_element(kind, r.lower, zone))
    upper = "" if r.upper is None else _escape(format_element(kind, r.upper, zone))
    return f"{'[' if r.lower_inc else '('}{lower},{upper}{']' if r.upper_inc else ')'}"
