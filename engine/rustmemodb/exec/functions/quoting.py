"""Text built for SQL: quote_ident, quote_literal, quote_nullable and format().

``format(fmt, args...)`` follows PostgreSQL: ``%s`` (the value as text, NULL as
empty), ``%I`` (an identifier, quoted when needed; NULL is 22004), ``%L`` (a
literal, NULL as ``NULL``), ``%%``, argument positions ``%2$s`` and widths
``%-10s`` / ``%*s``. Values print as PostgreSQL's output functions print them
(booleans ``t``/``f``, floats without a trailing ``.0``).
"""
from __future__ import annotations

import datetime as dt
import re

from ... import errors, types
from .cast import format_float
from .registry import ScalarFunction
from ...catalog.pg_keywords import quote_ident


def quote_literal(value: str) -> str:
    text = value.replace("'", "''")
    if "\\" in text:                    # PostgreSQL writes an E'' literal then
        return "E'" + text.replace("\\", "\\\\") + "'"
    return "'" + text + "'"


def as_text(value) -> str:
    """A value as PostgreSQL's output function prints it."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, dt.datetime):       # an aware one is a timestamptz
        return types.format_timestamp(value) if value.tzinfo is None else \
            types.format_timestamptz(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return types.format_time(value)
    if isinstance(value, bytes):
        return types.format_bytea(value)
    if isinstance(value, (list, tuple)):
        return "{" + ",".join("NULL" if v is None else as_text(v) for v in value) + "}"
    return str(value)


_SPEC = re.compile(r"%(?:(\d+)\$)?(-)?(\*(?:\d+\$)?|\d+)?([sIL%])")


def format_text(fmt: str, *args) -> str:
    """PostgreSQL's format(); see the module docstring."""
    out, pos, next_arg = [], 0, 0
    for m in _SPEC.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        number, left, width, kind = m.groups()
        if kind == "%":
            out.append("%")
            continue
        if width is not None and width.startswith("*"):
            ref = width[1:-1]
            index = int(ref) - 1 if ref else next_arg
            if not ref:
                next_arg += 1
            width = _arg(args, index)
            if width is not None and width < 0:
                left, width = "-", -width
        elif width is not None:
            width = int(width)
        index = int(number) - 1 if number else next_arg
        next_arg = index + 1
        value = _arg(args, index)
        if kind == "s":
            text = "" if value is None else as_text(value)
        elif kind == "I":
            if value is None:
                raise errors.sql_error("22004", "null values cannot be formatted as an "
                                                "SQL identifier")
            text = quote_ident(as_text(value))
        else:
            text = "NULL" if value is None else quote_literal(as_text(value))
        if width:
            text = text.ljust(width) if left else text.rjust(width)
        out.append(text)
    rest = fmt[pos:]
    if "%" in rest:
        raise errors.sql_error("22023", "unterminated format() type specifier",
                               hint='For a single "%" use "%%".')
    out.append(rest)
    return "".join(out)


def _arg(args: tuple, index: int):
    if index < 0:           # %0$s: positions count from 1
        raise errors.sql_error("22023", "format specifies argument 0, but arguments are "
                                        "numbered from 1")
    if index >= len(args):
        raise errors.sql_error("22023", "too few arguments for format()")
    return args[index]


def register(reg) -> None:
    T = types.TEXT
    text_only = (lambda ts: T if len(ts) == 1 and ts[0] in (T, types.NULL) else None)
    reg.add(ScalarFunction("quote_ident", text_only, None, quote_ident))
    reg.add(ScalarFunction("quote_literal", lambda ts: T if len(ts) == 1 else None, None,
                           lambda v: quote_literal(as_text(v))))
    reg.add(ScalarFunction("quote_nullable", lambda ts: T if len(ts) == 1 else None, None,
                           lambda v: "NULL" if v is None else quote_literal(as_text(v)),
                           strict=False))
    reg.add(ScalarFunction("format", lambda ts: T if ts and ts[0] in (T, types.NULL) else None,
                           None, lambda fmt, *args: None if fmt is None else
                           format_text(fmt, *args), strict=False))
    # format(fmt, VARIADIC text[]) of an array known at run time (sql/bind/bind_variadic.py):
    # a NULL array is no arguments, as in PostgreSQL
    reg.add(ScalarFunction("format_variadic", lambda ts: T if len(ts) == 2 and
                           ts[0] in (T, types.NULL) and ts[1] in (types.array_of(T), types.NULL)
                           else None, None, lambda fmt, args: None if fmt is None else
                           format_text(fmt, *(args or ())), strict=False))
