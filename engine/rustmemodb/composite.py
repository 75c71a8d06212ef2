"""Composite types and record values (CREATE TYPE name AS (field type, ...), ROW(...)).

PostgreSQL's composite value is a tuple of typed fields. The engine's types are strings
(types.py), so a composite type is a string that says everything a value needs: its
name and its fields' names and types, ``RECORD["pair",[["a","INTEGER"],["b","TEXT"]]]``
(an anonymous ROW(...) has the name ""). No operator has to read the catalog to compare,
print or take a field of a value.

A value is stored as ordered bytes (large_binary, as ranges/ and netaddr.py keep
theirs): each field is a marker byte, 0x01 then the field's order-preserving bytes, or
0x02 for NULL. Bytes compare as PostgreSQL compares composite values (record_cmp): field
by field, a NULL field equal to another NULL and larger than any value. So ORDER BY,
comparisons, GROUP BY, DISTINCT, joins and indexes work on the bytes unchanged, and the
WAL, checkpoints, branches and the cluster move them as any binary column. Field
encodings are self-delimiting (fixed width, or text with an escaped terminator), so a
nested composite is its bytes inline.

The text form is PostgreSQL's record_in/record_out: ``(1,"a b",)``, a field quoted when
empty or holding a quote, backslash, parenthesis, comma or space; an unquoted empty
field is NULL. The DB-API returns a ``Record``: a tuple of the fields' Python values
whose ``str`` is that text.
"""
from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import struct

from . import errors

PREFIX = "RECORD"
# PostgreSQL's OID of the anonymous ``record`` pseudo-type
RECORD_OID = 2249

_PRESENT, _NULL = b"\x01", b"\x02"
_I64 = struct.Struct(">Q")
_F64 = struct.Struct(">Q")
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

# field types a composite may hold: their order-preserving bytes are below
FIELD_TYPES = ("INTEGER", "FLOAT", "TEXT", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMPTZ",
               "TIME", "UUID", "BYTEA", "JSON", "JSONT", "NUMERIC")


def record_type(name: str, fields) -> str:
    """The type string of composite ``name`` ("" for an anonymous ROW) with ``fields``
    ((field name, engine type), ...)."""
    return PREFIX + json.dumps([name, [[f, t] for f, t in fields]], separators=(",", ":"))


def is_record(sql_type) -> bool:
    return isinstance(sql_type, str) and sql_type.startswith(PREFIX + "[") and \
        not sql_type.endswith("[]")


@functools.lru_cache(maxsize=512)
def _parsed(sql_type: str) -> tuple[str, tuple]:
    name, fields = json.loads(sql_type[len(PREFIX):])
    return name, tuple((f, t) for f, t in fields)


def type_name(sql_type: str) -> str:
    """The composite's name; ``record`` for an anonymous one."""
    return _parsed(sql_type)[0] or "record"


def fields_of(sql_type: str) -> tuple:
    """((field name, engine type), ...)."""
    return _parsed(sql_type)[1]


def anonymous(field_types) -> str:
    """The type of ROW(a, b, ...): fields f1, f2, ... as PostgreSQL names them."""
    return record_type("", [(f"f{i + 1}", t) for i, t in enumerate(field_types)])


def check_field_type(sql_type: str, field: str) -> None:
    if sql_type in FIELD_TYPES or is_record(sql_type):
        return
    raise errors.not_supported(f"a composite field of type {sql_type.lower()} ({field})",
                               hint="Fields may be " + ", ".join(
                                   t.lower() for t in FIELD_TYPES) + " or composite.")


def substitute(sql_type: str, name: str, new: str) -> str:
    """``sql_type`` with composite ``name`` (itself or any field, nested) defined as
    ``new``: what ALTER TYPE name ... makes of the types that hold it."""
    if not is_record(sql_type):
        return sql_type
    if type_name(sql_type) == name:
        return new
    return record_type(_parsed(sql_type)[0], [(f, substitute(t, name, new))
                                               for f, t in fields_of(sql_type)])


def holds(sql_type: str, name: str) -> bool:
    """A value of ``sql_type`` holds composite ``name`` (is one, or has a field of it)."""
    return is_record(sql_type) and (type_name(sql_type) == name or any(
        holds(t, name) for _f, t in fields_of(sql_type)))


def migrate(old: str, new: str, data: bytes, renamed: dict) -> bytes:
    """A stored value of type ``old`` as type ``new`` (after ALTER TYPE): fields matched
    by name (``renamed``: type name -> {new field: old field}), a new field NULL, a
    dropped one gone, nested values migrated alike."""
    values = dict(zip((f for f, _ in fields_of(old)), decode(old, data)))
    old_types = dict(fields_of(old))
    names = renamed.get(type_name(new), {})
    out = []
    for f, t in fields_of(new):
        src = names.get(f, f)
        v = values.get(src)
        if v is not None and is_record(t):
            v = migrate(old_types[src], t, v, renamed)
        out.append(v)
    return encode(new, out)


# ---- bytes -------------------------------------------------------------------------

def encode(sql_type: str, values) -> bytes:
    """The stored bytes of a composite value given its fields' storage values."""
    fields = fields_of(sql_type)
    if len(values) != len(fields):
        raise errors.sql_error("42804", f"cannot cast record of {len(values)} columns to "
                               f"type {type_name(sql_type)} of {len(fields)} columns")
    out = bytearray()
    for (_f, t), v in zip(fields, values):
        if v is None:
            out += _NULL
        else:
            out += _PRESENT
            _put(t, v, out)
    return bytes(out)


def _put(t: str, v, out: bytearray) -> None:
    if t == "INTEGER":
        out += _I64.pack((int(v) + (1 << 63)) & 0xFFFFFFFFFFFFFFFF)
    elif t == "FLOAT":
        v = float(v)
        if v != v:
            bits = 0x7FF8000000000000        # one NaN, the largest value (as PostgreSQL)
        else:
            bits = struct.unpack(">Q", struct.pack(">d", v + 0.0))[0]   # -0.0 is 0.0
        out += _F64.pack(bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63))
    elif t == "BOOLEAN":
        out += b"\x01" if v else b"\x00"
    elif t == "DATE":
        out += _I64.pack(_checked_ordinal(v) + (1 << 63))
    elif t == "TIMESTAMP":
        out += _I64.pack(_micros(v - _EPOCH) + (1 << 63))
    elif t == "TIMESTAMPTZ":
        out += _I64.pack(_micros(v - _EPOCH_UTC) + (1 << 63))
    elif t == "TIME":
        out += _I64.pack(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000
                         + v.microsecond)
    elif is_record(t):
        out += v
    else:       # text and bytes (a numeric's ordered key too): escaped, then a terminator
                # that sorts first
        raw = v if isinstance(v, bytes) else v.encode()
        out += raw.replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def _checked_ordinal(v) -> int:
    if not isinstance(v, _dt.date):
        raise errors.not_supported("an infinite date in a composite field")
    return v.toordinal()


def _micros(delta) -> int:
    if not isinstance(delta, _dt.timedelta):
        raise errors.not_supported("an infinite timestamp in a composite field")
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def decode(sql_type: str, data: bytes) -> tuple:
    """The fields' storage values of stored bytes."""
    values, _end = _decode_at(sql_type, data, 0)
    return values


def _decode_at(sql_type: str, data: bytes, at: int) -> tuple[tuple, int]:
    out = []
    for _f, t in fields_of(sql_type):
        marker = data[at]
        at += 1
        if marker == 2:
            out.append(None)
            continue
        value, at = _get(t, data, at)
        out.append(value)
    return tuple(out), at


def _get(t: str, data: bytes, at: int):
    if t in ("INTEGER", "DATE", "TIMESTAMP", "TIMESTAMPTZ"):
        n = _I64.unpack_from(data, at)[0] - (1 << 63)
        at += 8
        if t == "INTEGER":
            return n, at
        if t == "DATE":
            return _dt.date.fromordinal(n), at
        base = _EPOCH if t == "TIMESTAMP" else _EPOCH_UTC
        return base + _dt.timedelta(microseconds=n), at
    if t == "FLOAT":
        bits = _F64.unpack_from(data, at)[0]
        bits = bits & ~(1 << 63) if bits >> 63 else bits ^ 0xFFFFFFFFFFFFFFFF
        return struct.unpack(">d", struct.pack(">Q", bits))[0], at + 8
    if t == "BOOLEAN":
        return data[at] == 1, at + 1
    if t == "TIME":
        n = _I64.unpack_from(data, at)[0]
        secs, us = divmod(n, 1_000_000)
        return _dt.time(secs // 3600, secs // 60 % 60, secs % 60, us), at + 8
    if is_record(t):
        start = at
        _values, at = _decode_at(t, data, at)
        return bytes(data[start:at]), at
    raw = bytearray()
    while True:
        end = data.index(b"\x00", at)
        raw += data[at:end]
        if data[end + 1] == 0xFF:
            raw += b"\x00"
            at = end + 2
            continue
        at = end + 2
        break
    return (bytes(raw) if t in ("BYTEA", "NUMERIC") else raw.decode()), at


def valid(sql_type: str, data: bytes) -> bool:
    """Whether ``data`` is exactly one stored value of ``sql_type`` (bytes read from disk
    are checked before the engine sees them)."""
    try:
        _values, end = _decode_at(sql_type, data, 0)
    except (IndexError, ValueError, struct.error, OverflowError, UnicodeDecodeError):
        return False
    return end == len(data)


def field(sql_type: str, data: bytes, index: int):
    """The storage value of field ``index`` of a stored composite."""
    return decode(sql_type, data)[index]


def all_null(data: bytes | None, sql_type: str) -> bool:
    """PostgreSQL's ``row IS NULL``: the value is NULL or every field is."""
    return data is None or all(v is None for v in decode(sql_type, data))


def none_null(data: bytes | None, sql_type: str) -> bool:
    """PostgreSQL's ``row IS NOT NULL``: the value is not NULL and no field is."""
    return data is not None and all(v is not None for v in decode(sql_type, data))


# ---- text (record_out / record_in) ---------------------------------------------------

_SPECIAL = frozenset('"\\(),')


def float_text(x: float) -> str:
    """A float8's text as PostgreSQL's float8out prints it in records and casts (also
    exec/functions/cast.py's ``format_float``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == int(x) and abs(x) < 1e15:
        return "-0" if not x and math.copysign(1.0, x) < 0 else str(int(x))   # -0, as PG
    return repr(x)


def field_text(t: str, v) -> str:
    """A field's value in its type's output form."""
    from . import types      # types imports this module for its type strings
    if is_record(t):
        return format_record(t, v)
    if t == "BOOLEAN":
        return "t" if v else "f"
    if t == "FLOAT":
        return float_text(v)
    if t == "DATE":
        return types.format_date(v)
    if t == "TIMESTAMP":
        return types.format_timestamp(v)
    if t == "TIMESTAMPTZ":
        return types.format_timestamptz(v)
    if t == "TIME":
        return types.format_time(v)
    if t == "BYTEA":
        return types.format_bytea(v)
    if t == "NUMERIC":
        return types.numeric.text_of(v)
    return str(v)


def quote_field(text: str) -> str:
    if text == "" or any(c in _SPECIAL or c.isspace() for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '""') + '"'
    return text


def format_record(sql_type: str, data: bytes) -> str:
    values = decode(sql_type, data)
    return "(" + ",".join("" if v is None else quote_field(field_text(t, v))
                          for (_f, t), v in zip(fields_of(sql_type), values)) + ")"


def _malformed(text: str, detail: str) -> errors.Error:
    return errors.sql_error("22P02", f'malformed record literal: "{text}"', detail=detail)


def split_record(text: str) -> list:
    """record_in's reading of ``(a,"b c",)``: each field's text, None for NULL (an
    unquoted empty field)."""
    i, n = 0, len(text)
    while i < n and text[i].isspace():
        i += 1
    if i >= n or text[i] != "(":
        raise _malformed(text, 'Missing left parenthesis.')
    i += 1
    out: list = []
    while True:
        buf: list = []
        quoted = False
        in_quotes = False
        while True:
            if i >= n:
                raise _malformed(text, "Unexpected end of input.")
            c = text[i]
            if in_quotes:
                if c == "\\":
                    if i + 1 >= n:
                        raise _malformed(text, "Unexpected end of input.")
                    buf.append(text[i + 1])
                    i += 2
                elif c == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        buf.append('"')
                        i += 2
                    else:
                        in_quotes = False
                        i += 1
                else:
                    buf.append(c)
                    i += 1
                continue
            if c in ",)":
                break
            if c == '"':
                in_quotes = quoted = True
            elif c == "\\":
                if i + 1 >= n:
                    raise _malformed(text, "Unexpected end of input.")
                buf.append(text[i + 1])
                quoted = True
                i += 1
            else:
                buf.append(c)
            i += 1
        out.append("".join(buf) if buf or quoted else None)
        if text[i] == ")":
            i += 1
            break
        i += 1
    if text[i:].strip():
        raise _malformed(text, "Junk after right parenthesis.")
    return out


def parse_record(sql_type: str, text: str, read_field) -> bytes:
    """record_in: ``read_field(type, text)`` reads one field's text as its type."""
    fields = fields_of(sql_type)
    parts = split_record(text)
    if len(parts) < len(fields):
        raise _malformed(text, "Too few columns.")
    if len(parts) > len(fields):
        raise _malformed(text, "Too many columns.")
    return encode(sql_type, [None if p is None else
                             (parse_record(t, p, read_field) if is_record(t)
                              else read_field(t, p))
                             for (_f, t), p in zip(fields, parts)])


# ---- Python values -----------------------------------------------------------------

class Record(tuple):
    """A composite value as the DB-API returns it: its fields' Python values, in order;
    ``str`` is PostgreSQL's text of the value."""

    text: str

    def __new__(cls, values, text: str) -> "Record":
        self = super().__new__(cls, values)
        self.text = text
        return self

    def __str__(self) -> str:
        return self.text

    def __reduce__(self):
        return Record, (tuple(self), self.text)


def python_value(sql_type: str, data: bytes, to_python) -> Record:
    values = decode(sql_type, data)
    return Record([to_python(t, v) if not is_record(t) or v is None
                   else python_value(t, v, to_python)
                   for (_f, t), v in zip(fields_of(sql_type), values)],
                  format_record(sql_type, data))
