"""Engine SQL types <-> PostgreSQL type OIDs and their text/binary wire formats.

The wire server speaks PostgreSQL's formats; the engine has eleven types. This
module is the one mapping between them: the OID a result column is described
with, how a Python value (as the DB-API cursor returns it) is written in text or
binary form, and how a Bind parameter (text or binary, with the client's OID or
the type the engine inferred for its slot) becomes a Python value the engine
accepts.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import math
import re
import struct
import uuid
from decimal import Decimal
from typing import Any, Callable

from .. import composite, errors, infinity, types
from ..lazy_import import numpy as np
from ..catalog.pg_catalog import COMPOSITE_NAMES, record_oid
from ..exec.functions.array import parse_array_literal
from . import pgbits, pgmoney, pgnet, pgnumeric, pgtimetz

# PostgreSQL type OIDs (src/include/catalog/pg_type.dat).
BOOL, BYTEA, INT8, INT2, INT4, TEXT, JSON, FLOAT4, FLOAT8, UNKNOWN = 16, 17, 20, 21, 23, 25, 114, 700, 701, 705
BPCHAR, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ, INTERVAL, NUMERIC, UUID, JSONB, NAME = (
    1042, 1043, 1082, 1114, 1184, 1186, 1700, 2950, 3802, 19)
TIME = 1083
TSVECTOR, TSQUERY = 3614, 3615
OID, OID_ARRAY = 26, 1028
# A wire-only type: the engine's oids are INTEGERs; an array of them is described as
# oid[] where a client needs that (asyncpg's type introspection, ``wire_columns``).
OID_TYPE = "OID"
# Another: PostgreSQL's one-byte "char" (pg_type.typtype), which asyncpg reads as bytes
# and compares with b'r', b'e' ... to tell a range, enum or domain type from the others.
CHAR_TYPE = "CHAR1"
# And two more: a result column that is a table column declared smallint or integer
# (stored as int64: exec/typmods.py) is described as PostgreSQL describes it, int2/int4,
# and sent in 2/4 bytes in binary (server/session.py ``_declared_widths``).
INT2_TYPE, INT4_TYPE = "INT2", "INT4"
# Likewise a table column declared numeric, real or varchar (stored as FLOAT, FLOAT and
# TEXT) is described as numeric (1700: a client reads a Decimal, printed to the column's
# scale: ``numeric_type``), float4 (700) and varchar (1043). ``declared_type`` picks.
NUMERIC_TYPE, FLOAT4_TYPE, VARCHAR_TYPE = "NUMERIC", "FLOAT4", "VARCHAR"
# A character(n) column (or a char(n) expression: types.BpcharType) is bpchar (1042).
BPCHAR_TYPE = "BPCHAR"

OID_OF_TYPE = {
    types.INTEGER: INT8, types.FLOAT: FLOAT8, types.TEXT: TEXT, types.BOOLEAN: BOOL,
    types.TIMESTAMP: TIMESTAMP, types.DATE: DATE, types.UUID: UUID, types.JSON: JSONB,
    types.JSONT: JSON,
    types.TIMESTAMPTZ: TIMESTAMPTZ,
    types.INTERVAL: INTERVAL, types.TIME: TIME, types.BYTEA: BYTEA,
    types.TSVECTOR: TSVECTOR, types.TSQUERY: TSQUERY,
    types.NULL: TEXT, types.UNKNOWN: TEXT, OID_TYPE: OID, CHAR_TYPE: 18,
}
# typlen for RowDescription (-1: variable length).
TYPLEN = {INT8: 8, INT4: 4, INT2: 2, FLOAT8: 8, FLOAT4: 4, BOOL: 1, TIMESTAMP: 8, TIMESTAMPTZ: 8, DATE: 4, UUID: 16, INTERVAL: 16, TIME: 8,
          1266: 12,
          OID: 4}

_PG_EPOCH_DATE = dt.date(2000, 1, 1)
_PG_EPOCH = dt.datetime(2000, 1, 1)
_PG_EPOCH_UTC = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
# The connection's TimeZone: timestamptz text is written and read in it. Each client
# connection is served by its own asyncio task (its own context); the server session
# sets this when the engine session's zone changes and runs its worker-thread calls in
# a copy of its context (server/session.py).
WIRE_ZONE: contextvars.ContextVar[dt.tzinfo] = contextvars.ContextVar(
    "rustmemodb_wire_zone", default=dt.timezone.utc)
_PG_EPOCH_ORDINAL = _PG_EPOCH_DATE.toordinal()


def oid_of(sql_type: str) -> int:
    if type(sql_type) is types.BpcharType:       # equals TEXT: told apart by its class
        return BPCHAR
    return OID_OF_TYPE.get(sql_type, TEXT)


# ---- output --------------------------------------------------------------------------------
# One-dimensional arrays in results: the array type's OID, by element type.
ARRAY_OID = {INT8: 1016, FLOAT8: 1022, TEXT: 1009, BOOL: 1000, TIMESTAMP: 1115, DATE: 1182,
             TIMESTAMPTZ: 1185,
             UUID: 2951, JSONB: 3807, JSON: 199, INTERVAL: 1187, TIME: 1183, BYTEA: 1001,
             OID: OID_ARRAY, TSVECTOR: 3643, TSQUERY: 3645}


def conversion_columns(columns) -> list:
    """``columns`` as the rows are converted for the wire: a json or jsonb column stays
    its text (the DB-API parses documents; the wire sends json as written and jsonb's
    stored text, which is jsonb_out's: parsing it would turn 1.50 into 1.5), so it
    converts as TEXT; a
    column described by its declaration (int4, numeric, float4, varchar: ``declared_type``)
    converts as the engine type it is stored as."""
    if not any(t in _CONVERTED_AS for _, t in columns):
        return columns
    return [(n, _CONVERTED_AS.get(t, t)) for n, t in columns]


_CONVERTED_AS = {types.JSONT: types.TEXT,
                 types.array_of(types.JSONT): types.array_of(types.TEXT),
                 types.JSON: types.TEXT,
                 types.array_of(types.JSON): types.array_of(types.TEXT)}


def described_as(columns: list, described: list | None, engine: list | None) -> list:
    """A result's ``columns`` as its statement described them (``described``: int2/int4,
    numeric ... where the statement's columns, ``engine``, are declared so), when the
    result has the columns the statement was prepared with; else ``columns``."""
    return described if engine is not None and columns == engine else columns


def result_oid_of(sql_type: str) -> int:
    """A result column's OID: as ``oid_of``, plus arrays (``INTEGER[]`` is int8[])."""
    if types.is_array(sql_type) and composite.is_record(types.element_type(sql_type)):
        oid = record_oid(types.element_type(sql_type))     # _record (2287) or the type's
        return 2287 if oid == composite.RECORD_OID else oid + 1
    if types.is_array(sql_type):
        return ARRAY_OID.get(oid_of(types.element_type(sql_type)), 1009)
    if composite.is_record(sql_type):       # its pg_type oid; an anonymous one is record
        return record_oid(sql_type)
    return oid_of(sql_type)


# A parameter the statement casts to timestamptz: a client that encodes by the described
# type (asyncpg) must be told 1184 to send an aware datetime (SQLAlchemy writes
# ``$1::TIMESTAMP WITH TIME ZONE``); the slot's type is TIMESTAMPTZ, or TIMESTAMP where
# the cast's value goes on into a timestamp.
_TZ = r"(?:pg_catalog\.)?(?:timestamptz|timestamp\s*(?:\(\s*\d\s*\))?\s+with\s+time\s+zone)\b"
_TSTZ_PARAM = re.compile(rf"\$(\d+)\s*::\s*{_TZ}|cast\s*\(\s*\$(\d+)\s+as\s+{_TZ}", re.I)
# ``$1::oid[]``: asyncpg knows oid[] without asking, not int8[] (its introspection query
# passes the type oids so, and would introspect int8[] over and over)
_OID_ARRAY_PARAM = re.compile(r"\$(\d+)\s*::\s*(?:pg_catalog\.)?oid\s*\[\s*\]", re.I)
# asyncpg's type introspection query (asyncpg/introspection.py), by its CTE's name: its
# oid[] columns must be described as oid[] (see above), not as the engine's int8[]
_ASYNCPG_INTROSPECTION = "typeinfo_tree"


def parameter_oids(sql: str, slot_types: list[str], client_oids: list[int]) -> list[int]:
    """The OIDs ParameterDescription reports: the client's where it gave one, else the
    engine's type for the slot (arrays as array types, timestamptz where cast to it)."""
    zoned: set[int] = set()
    if "zone" in sql or "ZONE" in sql or "tz" in sql or "TZ" in sql:
        zoned = {int(a or b) - 1 for a, b in _TSTZ_PARAM.findall(sql)}
    oids: set[int] = set()
    if "[" in sql:
        oids = {int(n) - 1 for n in _OID_ARRAY_PARAM.findall(sql)}
    return [client_oids[i] if i < len(client_oids) and client_oids[i] else
            TIMESTAMPTZ if i in zoned and t == types.TIMESTAMP else
            OID_ARRAY if i in oids and t == types.array_of(types.INTEGER) else result_oid_of(t)
            for i, t in enumerate(slot_types)]


def wire_columns(sql: str, columns: list) -> list:
    """A result's (name, type) columns as the wire describes them: the engine's, except
    in asyncpg's type introspection query, whose INTEGER[] columns are oid[] and whose
    ``kind`` (pg_type.typtype) is a "char"."""
    if _ASYNCPG_INTROSPECTION not in sql:
        return columns
    ints = types.array_of(types.INTEGER)
    return [(n, types.array_of(OID_TYPE) if t == ints else
             CHAR_TYPE if n == "kind" and t == types.TEXT else t) for n, t in columns]


def format_float(v: float, limit: int = 15) -> str:
    """float8out of PostgreSQL >= 12: shortest exact digits, exponent outside [-4, 15)
    (float4out: outside [-4, 6), ``limit`` 6)."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "-0" if str(v).startswith("-") else "0"
    digits, exp = _shortest(v)
    sign = "-" if v < 0 else ""
    point = exp + 1                     # decimal exponent of the first digit is ``exp``
    if exp < -4 or exp >= limit:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _shortest(v: float) -> tuple[str, int]:
    text = repr(abs(v))                 # Python's repr is the shortest round-trip form
    mant, _, e = text.partition("e")
    exp = int(e) if e else 0
    whole, _, frac = mant.partition(".")
    frac = frac.rstrip("0") if frac != "0" else ""
    digits = (whole + frac).lstrip("0")
    lead = len(whole.lstrip("0")) if whole.strip("0") else -(len(frac) - len(frac.lstrip("0")))
    exp += (lead - 1) if whole.strip("0") else lead - 1
    return digits.rstrip("0") or "0", exp


_TEXT_OUT: dict[str, Callable[[Any], str]] = {
    types.INTEGER: str,
    types.FLOAT: format_float,
    types.TEXT: str,
    types.BOOLEAN: lambda v: "t" if v else "f",
    types.TIMESTAMP: types.format_timestamp,
    types.TIMESTAMPTZ: lambda v: types.format_timestamptz(v, WIRE_ZONE.get()),
    types.DATE: types.format_date,
    types.UUID: str,
    types.JSON: str,            # jsonb: its stored text, jsonb_out's (conversion_columns)
    types.JSONT: str,           # json: the text as written (never parsed on the way out)
    types.INTERVAL: str,        # IntervalStyle 'postgres' (types.Interval.__str__)
    types.TIME: types.format_time,
    types.BYTEA: types.format_bytea,   # bytea_output 'hex'
    OID_TYPE: str,
    CHAR_TYPE: str,
}


def _text_array(element_type: str) -> Callable[[Any], str]:
    """PostgreSQL's array literal: {a,b,NULL}, items quoted where they must be."""
    fn = _TEXT_OUT.get(element_type, str)
    return lambda v: "{" + ",".join("NULL" if x is None else types.array_item_text(fn(x))
                                    for x in v) + "}"


def text_encoder(sql_type: str) -> Callable[[Any], bytes]:
    if types.is_array(sql_type):
        fn = _text_array(types.element_type(sql_type))
        return lambda v: fn(v).encode()
    fn = _TEXT_OUT.get(sql_type, str)
    return lambda v: fn(v).encode()


_q = struct.Struct("!q").pack
_d = struct.Struct("!d").pack
_i = struct.Struct("!i").pack


def _narrow(pack: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """The binary int2/int4 of a result column described so (``INT2_TYPE``): a value
    that does not fit means the column's type changed since the statement was described
    (ALTER COLUMN ... TYPE bigint), which PostgreSQL refuses as here."""
    def encode(v: int) -> bytes:
        try:
            return pack(v)
        except struct.error:
            raise errors.sql_error("0A000", "cached plan must not change result type") \
                from None
    return encode


def _bin_timestamp(v: dt.datetime) -> bytes:
    if isinstance(v, infinity.Infinite):       # PostgreSQL's own: INT64 max/min
        return _q(int(v))
    delta = v - _PG_EPOCH
    return _q((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _bin_timestamptz(v: dt.datetime) -> bytes:
    """timestamptz_send: microseconds since 2000-01-01 00:00 UTC."""
    if isinstance(v, infinity.Infinite):
        return _q(int(v))
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.timezone.utc)
    delta = v - _PG_EPOCH_UTC
    return _q((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _bin_interval(v) -> bytes:
    return struct.pack("!qii", v.micros, v.days, v.months)


_BIN_OUT: dict[str, Callable[[Any], bytes]] = {
    types.INTEGER: _q,
    types.FLOAT: _d,
    types.TEXT: lambda v: str(v).encode(),
    types.BOOLEAN: lambda v: b"\x01" if v else b"\x00",
    types.TIMESTAMP: _bin_timestamp,
    types.TIMESTAMPTZ: _bin_timestamptz,
    types.DATE: lambda v: _i(int(v) if isinstance(v, infinity.Infinite)
                             else v.toordinal() - _PG_EPOCH_ORDINAL),
    types.UUID: lambda v: (v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))).bytes,
    types.JSON: lambda v: b"\x01" + v.encode(),   # jsonb_send: version 1, then the text
    types.JSONT: lambda v: v.encode(),     # json_send: the text
    types.INTERVAL: _bin_interval,
    types.TIME: lambda v: _q(types.time_micros(v)),
    types.BYTEA: bytes,
    OID_TYPE: struct.Struct("!I").pack,
    CHAR_TYPE: str.encode,
    types.TSVECTOR: lambda v: _ts_wire().tsvector_send(v),
    types.TSQUERY: lambda v: _ts_wire().tsquery_send(v),
}


_FLOAT4_MAX = 3.4028234663852886e38


def _float4_text(v: float) -> str:
    """float4out: the shortest digits that read back as the float4 value."""
    if v != v or abs(v) > _FLOAT4_MAX:
        return format_float(v)
    return format_float(float(str(np.float32(v))), 6)


def _float4_send(v: float) -> bytes:
    return struct.pack("!f", v if v != v or abs(v) <= _FLOAT4_MAX else
                       math.copysign(math.inf, v))


def _numeric_text(scale: int | None) -> Callable[[float], str]:
    """numeric_out of a value stored as float8: ``scale`` digits after the point (the
    column's, to which every write rounded it: exec/typmods.py), or for an unconstrained
    column the shortest digits, without an exponent (numeric never prints one)."""
    def text(v: float) -> str:
        if v != v:
            return "NaN"
        if v in (math.inf, -math.inf):
            return "Infinity" if v > 0 else "-Infinity"
        if scale is not None:
            out = f"{v:.{scale}f}"
        else:
            out = repr(float(v))
            if "e" in out:
                out = format(Decimal(out), "f")
            elif out.endswith(".0"):
                out = out[:-2]
        if out[0] == "-" and not out.strip("-0."):
            out = out[1:]                  # numeric has no negative zero
        return out
    return text


_NUMERIC_SPECIAL = {"NaN": 0xC000, "Infinity": 0xD000, "-Infinity": 0xF000}


def numeric_send(text: str) -> bytes:
    """numeric_send of a plain decimal (``numeric_out``'s text): digit count, weight (in
    base 10000), sign, display scale, then the base-10000 digits."""
    special = _NUMERIC_SPECIAL.get(text)
    if special is not None:
        return struct.pack("!hhHH", 0, 0, special, 0)
    sign = 0x4000 if text[0] == "-" else 0
    whole, _, frac = text.lstrip("-").partition(".")
    whole = whole.lstrip("0")
    whole = "0" * (-len(whole) % 4) + whole
    dscale = len(frac)
    frac += "0" * (-len(frac) % 4)
    digits = [int(whole[i:i + 4]) for i in range(0, len(whole), 4)] + \
             [int(frac[i:i + 4]) for i in range(0, len(frac), 4)]
    weight = len(whole) // 4 - 1
    while digits and digits[0] == 0:
        digits.pop(0)
        weight -= 1
    while digits and digits[-1] == 0:
        digits.pop()
    if not digits:
        weight, sign = 0, 0
    return struct.pack(f"!hhHH{len(digits)}H", len(digits), weight, sign, dscale, *digits)


def _declare(name: str, oid: int, stored: str, text: Callable[[Any], str],
             binary: Callable[[Any], bytes]) -> str:
    # (the OID last: ``numeric_type`` tests for it, maybe on another thread, and the
    # encoders must be in place once it is)
    _TEXT_OUT[name] = text
    _BIN_OUT[name] = binary
    _CONVERTED_AS[name] = stored
    OID_OF_TYPE[name] = oid
    return name


def numeric_type(scale: int | None) -> str:
    """The wire type of a numeric column of this scale (None: unconstrained)."""
    name = NUMERIC_TYPE if scale is None else f"{NUMERIC_TYPE}({scale})"
    if name not in OID_OF_TYPE:
        text = _numeric_text(scale)
        _declare(name, NUMERIC, types.FLOAT, text, lambda v: numeric_send(text(v)))
    return name


_declare(INT2_TYPE, INT2, types.INTEGER, str, _narrow(struct.Struct("!h").pack))
_declare(INT4_TYPE, INT4, types.INTEGER, str, _narrow(_i))
_declare(FLOAT4_TYPE, FLOAT4, types.FLOAT, _float4_text, _float4_send)
_declare(VARCHAR_TYPE, VARCHAR, types.TEXT, str, lambda v: str(v).encode())
_declare(BPCHAR_TYPE, BPCHAR, types.TEXT, str, lambda v: str(v).encode())
numeric_type(None)
_BY_MODIFIER = {("int2", types.INTEGER): INT2_TYPE, ("int4", types.INTEGER): INT4_TYPE,
                ("float4", types.FLOAT): FLOAT4_TYPE, ("varchar", types.TEXT): VARCHAR_TYPE,
                ("bpchar", types.TEXT): BPCHAR_TYPE}


def declared_type(stored: str, typmod: tuple | None) -> str | None:
    """How the wire describes a result column that is a table column of engine type
    ``stored`` declared with ``typmod`` (exec/typmods.py): int2/int4, numeric, float4,
    varchar, bpchar; None where the engine's type is PostgreSQL's (bigint, float8, text)."""
    if not typmod:
        return None
    if typmod[0] == "domain":            # described as its base type, as PostgreSQL does
        return declared_type(stored, typmod[2])
    if typmod[0] == "numeric" and stored == types.FLOAT:
        return numeric_type(typmod[2] if len(typmod) == 3 else None)
    return _BY_MODIFIER.get((typmod[0], stored))


def _ts_wire():
    from ..textsearch import wire     # text search's binary forms, loaded when first sent
    return wire


def _bin_array(element_type: str) -> Callable[[Any], bytes]:
    """Binary array: ndim, has-nulls, element OID, (length, lower bound), items."""
    elem_oid, item = (result_oid_of(element_type) if composite.is_record(element_type)
                      else oid_of(element_type)), binary_encoder(element_type)

    def encode(v) -> bytes:
        if len(v) == 0:
            return struct.pack("!iii", 0, 0, elem_oid)
        parts = [struct.pack("!iiiii", 1, any(x is None for x in v), elem_oid, len(v), 1)]
        for x in v:
            if x is None:
                parts.append(_i(-1))
            else:
                data = item(x)
                parts.append(_i(len(data)) + data)
        return b"".join(parts)
    return encode


def _bin_record(sql_type: str) -> Callable[[Any], bytes]:
    """Binary record (record_send): the field count, then each field's type OID, length
    (-1: NULL) and binary value."""
    fields = [(result_oid_of(t), _PARSED_FIELD.get(t) or binary_encoder(t))
              for _f, t in composite.fields_of(sql_type)]

    def encode(v) -> bytes:
        parts = [_i(len(fields))]
        for (oid, item), x in zip(fields, v):
            if x is None:
                parts.append(_i(oid) + _i(-1))
            else:
                data = item(x)
                parts.append(_i(oid) + _i(len(data)) + data)
        return b"".join(parts)
    return encode


# a record's json/jsonb field reaches the encoder parsed (composite.python_value), not as
# the text a jsonb column keeps (conversion_columns): written again from the value
_PARSED_FIELD: dict[str, Callable[[Any], bytes]] = {
    types.JSON: lambda v: b"\x01" + types.canonical_json(v).encode(),
    types.JSONT: lambda v: types.json_text_of(v).encode(),
}


def binary_encoder(sql_type: str) -> Callable[[Any], bytes]:
    if types.is_array(sql_type):
        return _bin_array(types.element_type(sql_type))
    if composite.is_record(sql_type):
        return _bin_record(sql_type)
    return _BIN_OUT.get(sql_type, lambda v: str(v).encode())


# ---- input (Bind parameters) -------------------------------------------------------------
def _parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("t", "true", "yes", "y", "on", "1"):
        return True
    if t in ("f", "false", "no", "n", "off", "0"):
        return False
    raise errors.sql_error("22P02", f'invalid input syntax for type boolean: "{text}"')


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise errors.sql_error("22P02", f'invalid input syntax for type bigint: "{text}"') from None


def _parse_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise errors.sql_error("22P02", f'invalid input syntax for type double precision: '
                                        f'"{text}"') from None


def _parse_timestamptz(text: str) -> dt.datetime:
    """timestamptz_in: an instant; text without a zone is read in the connection's."""
    return types.parse_timestamptz(text, WIRE_ZONE.get())


_DATE_HEAD = re.compile(r"\s*(\d{4,}-\d{1,2}-\d{1,2})(?:[ T][0-9:.+\-Z ]*)?\s*$")
_ZONE_TAIL = re.compile(r"\s*(?:[+-]\d{1,2}(?::?\d{2}){0,2}|Z|UTC)\s*$")


def _parse_date_text(text: str) -> dt.date:
    """date_in: a time of day or zone after the date is ignored (pgjdbc's setDate sends
    ``2020-01-01 +00``)."""
    m = _DATE_HEAD.match(text)
    return types.parse_date(m.group(1) if m else text)


def _parse_timestamp_text(text: str) -> dt.datetime:
    """timestamp (without time zone) input: a zone offset is ignored, as PostgreSQL does."""
    t = text.strip()
    if len(t) > 10:
        t = _ZONE_TAIL.sub("", t)
    return types.parse_timestamp(t)


# Text parameter, by the client's OID.
_TEXT_IN_BY_OID: dict[int, Callable[[str], Any]] = {
    INT2: _parse_int, INT4: _parse_int, INT8: _parse_int,
    FLOAT4: _parse_float, FLOAT8: _parse_float,
    BOOL: _parse_bool, TEXT: str, VARCHAR: str, BPCHAR: str, NAME: str,
    DATE: _parse_date_text,
    TIMESTAMP: _parse_timestamp_text, TIMESTAMPTZ: _parse_timestamptz,
    UUID: lambda t: uuid.UUID(t.strip()),
    JSON: str, JSONB: str,
    TIME: types.parse_time, BYTEA: types.parse_bytea, INTERVAL: types.parse_interval,
    OID: _parse_int,
    TSVECTOR: lambda t: types.parse_literal_as(types.TSVECTOR, t),
    TSQUERY: lambda t: types.parse_literal_as(types.TSQUERY, t),
}
# Array parameters: the array type's OID -> its element's OID (pg_type.typelem), and the
# engine type its elements are read as.
_ARRAY_ELEMENT: dict[int, tuple[int, str]] = {
    1009: (TEXT, types.TEXT), 1015: (VARCHAR, types.TEXT), 1014: (BPCHAR, types.TEXT),
    1003: (NAME, types.TEXT), 1016: (INT8, types.INTEGER), 1007: (INT4, types.INTEGER),
    1005: (INT2, types.INTEGER), 1022: (FLOAT8, types.FLOAT), 1021: (FLOAT4, types.FLOAT),
    1000: (BOOL, types.BOOLEAN), 1182: (DATE, types.DATE),
    1115: (TIMESTAMP, types.TIMESTAMP), 1185: (TIMESTAMPTZ, types.TIMESTAMPTZ),
    2951: (UUID, types.UUID), 3807: (JSONB, types.JSON), 199: (JSON, types.JSONT),
    1183: (TIME, types.TIME), 1001: (BYTEA, types.BYTEA), OID_ARRAY: (OID, types.INTEGER),
}
# Text parameter with OID 0 (unspecified), by the type the engine inferred for its slot.
_TEXT_IN_BY_TYPE: dict[str, Callable[[str], Any]] = {
    types.INTEGER: _parse_int, types.FLOAT: _parse_float, types.BOOLEAN: _parse_bool,
    types.DATE: _parse_date_text, types.TIMESTAMP: _parse_timestamp_text,
    types.TIMESTAMPTZ: _parse_timestamptz, types.TIME: types.parse_time, types.BYTEA: types.parse_bytea,
    types.INTERVAL: types.parse_interval, types.NUMERIC: types.numeric.parse,
    types.TSVECTOR: lambda t: types.parse_literal_as(types.TSVECTOR, t),
    types.TSQUERY: lambda t: types.parse_literal_as(types.TSQUERY, t),
}


def _bin_date(data: bytes) -> dt.date:
    days = struct.unpack("!i", data)[0]
    if days in (infinity.INT32_MAX, infinity.INT32_MIN):
        return infinity.of(types.DATE, days > 0)
    return dt.date.fromordinal(days + _PG_EPOCH_ORDINAL)


def _bin_ts(data: bytes, kind: str = types.TIMESTAMP) -> dt.datetime:
    micros = struct.unpack("!q", data)[0]
    if micros in (infinity.INT64_MAX, infinity.INT64_MIN):
        return infinity.of(kind, micros > 0)
    return (_PG_EPOCH_UTC if kind == types.TIMESTAMPTZ else _PG_EPOCH) + \
        dt.timedelta(microseconds=micros)


def _bin_json(data: bytes) -> str:
    return data.decode()


def _bin_jsonb(data: bytes) -> str:
    if not data or data[0] != 1:
        raise errors.sql_error("22P02", "unsupported jsonb version number")
    return data[1:].decode()


_BIN_IN_BY_OID: dict[int, Callable[[bytes], Any]] = {
    INT2: lambda b: struct.unpack("!h", b)[0],
    INT4: lambda b: struct.unpack("!i", b)[0],
    INT8: lambda b: struct.unpack("!q", b)[0],
    FLOAT4: lambda b: struct.unpack("!f", b)[0],
    FLOAT8: lambda b: struct.unpack("!d", b)[0],
    BOOL: lambda b: b != b"\x00",
    TEXT: bytes.decode, VARCHAR: bytes.decode, BPCHAR: bytes.decode, NAME: bytes.decode,
    UNKNOWN: bytes.decode,
    DATE: _bin_date, TIMESTAMP: _bin_ts, TIMESTAMPTZ: lambda b: _bin_ts(b, types.TIMESTAMPTZ),
    UUID: lambda b: uuid.UUID(bytes=b),
    JSON: _bin_json, JSONB: _bin_jsonb,
    TIME: lambda b: types.time_of_micros(struct.unpack("!q", b)[0]),
    BYTEA: bytes, INTERVAL: lambda b: types.Interval(*reversed(struct.unpack("!qii", b))),
    OID: lambda b: struct.unpack("!I", b)[0],
}


for _extra in (pgnet, pgmoney, pgbits, pgtimetz, pgnumeric):
    _extra.install(OID_OF_TYPE, ARRAY_OID, _TEXT_OUT, _BIN_OUT, _TEXT_IN_BY_OID, _BIN_IN_BY_OID,
                   _ARRAY_ELEMENT)


def _array_param(data: bytes, slot: int) -> list:
    """array_recv: ndim, has-nulls flag, element OID, (size, lower bound) per dimension,
    then each element as its length (-1: NULL) and its binary form."""
    ndim, _, elem = struct.unpack_from("!iiI", data)
    if ndim == 0:
        return []
    if ndim != 1:
        raise errors.not_supported("multidimensional arrays")
    size, _ = struct.unpack_from("!ii", data, 12)
    fn = _BIN_IN_BY_OID.get(elem)
    if fn is None or size < 0:
        raise errors.sql_error("0A000", f"binary format for parameter ${slot + 1}: arrays of "
                                        f"type oid {elem} are not supported")
    out, pos = [], 20
    for _ in range(size):
        (n,) = struct.unpack_from("!i", data, pos)
        pos += 4
        if n < 0:
            out.append(None)
            continue
        if pos + n > len(data):
            raise struct.error("array element past the end of the parameter")
        out.append(fn(data[pos:pos + n]))
        pos += n
    return out


def _is_record_oid(oid: int) -> bool:
    return oid == composite.RECORD_OID or oid in COMPOSITE_NAMES


def _record_text_of_binary(data: bytes) -> str:
    """A binary record parameter (record_send's form) as record_in's text, which the
    statement's ``$1::type`` cast reads: each field decoded by its OID."""
    (count,) = struct.unpack_from("!i", data, 0)
    at, parts = 4, []
    for _ in range(count):
        oid, length = struct.unpack_from("!ii", data, at)
        at += 8
        if length < 0:
            parts.append("")
            continue
        raw = data[at:at + length]
        at += length
        if _is_record_oid(oid):
            value = _record_text_of_binary(raw)
        else:
            fn = _BIN_IN_BY_OID.get(oid)
            if fn is None:
                raise errors.sql_error("0A000", f"binary format of a record field of type oid "
                                                f"{oid} is not supported")
            value = fn(raw)
        parts.append(composite.quote_field(_field_text(value)))
    return "(" + ",".join(parts) + ")"


def _field_text(value) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (bytes, bytearray)):
        return "\\x" + bytes(value).hex()
    return str(value)


def decode_param(data: bytes | None, fmt: int, oid: int, slot_type: str, slot: int) -> Any:
    """One Bind parameter as the Python value handed to the engine."""
    if data is None:
        return None
    try:
        if fmt == 1:
            if oid in _ARRAY_ELEMENT or (oid == 0 and types.is_array(slot_type)):
                return _array_param(bytes(data), slot)
            fn = _BIN_IN_BY_OID.get(oid)
            if fn is None and _is_record_oid(oid):
                fn = _record_text_of_binary
            if fn is None:
                if oid == 0 and slot_type in OID_OF_TYPE:   # client left it to us: our OID
                    fn = _BIN_IN_BY_OID.get(oid_of(slot_type))
                if fn is None:
                    raise errors.sql_error(
                        "0A000", f"binary format for parameter ${slot + 1} of type oid {oid} "
                                 "is not supported")
            return fn(bytes(data))
        text = bytes(data).decode()
        if oid in (0, UNKNOWN):
            if types.is_array(slot_type):
                return parse_array_literal(text, types.element_type(slot_type))
            fn = _TEXT_IN_BY_TYPE.get(slot_type)
            return fn(text) if fn is not None else text
        if oid in _ARRAY_ELEMENT:
            return parse_array_literal(text, _ARRAY_ELEMENT[oid][1])
        fn = _TEXT_IN_BY_OID.get(oid)
        if fn is None and _is_record_oid(oid):
            return text         # record_in's text: the statement's cast reads it
        if fn is None:
            raise errors.sql_error("0A000", f"parameter ${slot + 1} has unsupported type oid {oid}")
        return fn(text)
    except errors.Error:
        raise
    except (ValueError, struct.error, UnicodeDecodeError, OverflowError) as exc:
        raise errors.sql_error("22P02", f"invalid value for parameter ${slot + 1}: {exc}") from None


# The range types' wire formats live in their own module (server/pgranges.py).
import sys as _sys  # noqa: E402
from .pgranges import install as _install_ranges  # noqa: E402  (it fills the tables above)

_install_ranges(_sys.modules[__name__])
