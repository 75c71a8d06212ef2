"""Rendering of result values as PostgreSQL-like text, the form expected rows use.

==========================  ==============================================================
Python value                rendered as
==========================  ==============================================================
``None``                    ``NULL``
``bool``                    ``true`` / ``false``
``int``                     decimal digits
``float``                   PostgreSQL's ``float8out``: shortest round-trip digits, no
                            fractional part for integral values (``3``, ``2.5``, ``0.1``),
                            exponent form below 1e-4 and from 1e15 on (``1e+15``,
                            ``1e-05``); ``Infinity``, ``-Infinity``, ``NaN``; ``-0``
``decimal.Decimal``         ``str()`` (``Infinity``/``NaN`` as PostgreSQL spells them)
``str``                     as is; ``(empty)`` for ``''``; TAB, CR, LF as ``\\t \\r \\n``
``datetime.date``           ``YYYY-MM-DD``
``datetime.datetime``       ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (fraction only when non-zero,
                            trailing zeros stripped; ``+HH[:MM]`` offset when aware)
``datetime.time``           ``HH:MM:SS[.ffffff]``
``datetime.timedelta``      PostgreSQL interval style: ``1 day 02:00:00``
``uuid.UUID``               canonical lowercase ``8-4-4-4-12``
``dict`` / ``list``         JSON as PostgreSQL's jsonb prints it: ``{"a": 1, "b": [1, 2]}``
``bytes``                   ``\\x`` + lowercase hex
==========================  ==============================================================
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import uuid

NULL = "NULL"
EMPTY = "(empty)"

_ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})


def render_value(value: object) -> str:
    """Render one result value as text (see the module docstring)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return render_float(value)
    if isinstance(value, decimal.Decimal):
        return _render_decimal(value)
    if isinstance(value, str):
        return render_text(value)
    if isinstance(value, _dt.datetime):
        return _render_datetime(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.time):
        return _render_time(value)
    if isinstance(value, _dt.timedelta):
        return _render_timedelta(value)
    if isinstance(value, uuid.UUID):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return render_text(render_json(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return render_text(str(value))


def render_row(row: tuple | list) -> list[str]:
    return [render_value(v) for v in row]


def render_text(value: str) -> str:
    if value == "":
        return EMPTY
    return value.translate(_ESCAPES)


def render_json(value: object) -> str:
    """JSON text in jsonb's output style (``, `` and ``: `` separators)."""
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)


def render_float(value: float) -> str:
    """Format like PostgreSQL 12+ ``float8out`` (shortest exact, %g-style switch)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    # decimal exponent of the first significant digit
    point = len(digits) + exponent  # position of the decimal point after ds[0:point]
    e10 = point - 1
    neg = "-" if sign else ""
    if e10 < -4 or e10 >= 15:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{ds}"
    if point >= len(ds):
        return f"{neg}{ds}{'0' * (point - len(ds))}"
    return f"{neg}{ds[:point]}.{ds[point:]}"


def _render_decimal(value: decimal.Decimal) -> str:
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "Infinity" if value > 0 else "-Infinity"
    return format(value, "f")        # numeric_out: fixed notation, the value's scale


def _fraction(microsecond: int) -> str:
    return f".{microsecond:06d}".rstrip("0") if microsecond else ""


def _render_time(value: _dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{_fraction(value.microsecond)}"


def _render_datetime(value: _dt.datetime) -> str:
    text = f"{value.date().isoformat()} {_render_time(value.time())}"
    offset = value.utcoffset()
    if offset is not None:
        total = int(offset.total_seconds())
        sign = "-" if total < 0 else "+"
        hours, rem = divmod(abs(total), 3600)
        minutes = rem // 60
        text += f"{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")
    return text


def _render_timedelta(value: _dt.timedelta) -> str:
    days = value.days
    secs = value.seconds
    micros = value.microseconds
    parts = []
    if days:
        parts.append(f"{days} day" + ("" if abs(days) == 1 else "s"))
    if secs or micros or not parts:
        hours, rem = divmod(secs, 3600)
        minutes, seconds = divmod(rem, 60)
        parts.append(f"{hours:02d}:{minutes:02d}:{seconds:02d}{_fraction(micros)}")
    return " ".join(parts)
