"""SQL types and the one mapping between SQL, Arrow, Python and text literals.

Every column and every bound expression carries one of the names below. Values
live in Arrow (columns) or as plain Python objects (row path, parameters); this
module is the only place that knows how one becomes the other:

    SQL        Arrow                 Python
    INTEGER    int64                 int
    FLOAT      float64               float
    TEXT       large_string          str
    BOOLEAN    bool_                 bool
    TIMESTAMP  timestamp('us')       datetime.datetime (naive)
    TIMESTAMPTZ timestamp('us', UTC) datetime.datetime (aware: an instant, tzinfo UTC)
    DATE       date32                datetime.date
    UUID       large_string (canon)  uuid.UUID
    JSON       large_string (text)   parsed JSON (dict/list/str/number/bool): jsonb,
                                     stored in jsonb's canonical text
    JSONT      large_string (text)   parsed JSON, as JSON: PostgreSQL's json, the text
                                     kept as written (validated), json_text.py reads it
    NUMERIC    binary (ordered key)  bytes or Decimal (rows); decimal.Decimal (DB-API):
               or decimal128(p, s)   exact decimals with a display scale (numeric.py;
                                     decimal128 is the vector form: numeric_arrays.py)
    INTERVAL   month_day_nano        rustmemodb.types.Interval (expressions only)
    TSVECTOR   large_string (canon)  str: tsvector_out's text (textsearch/tsvector.py)
    TSQUERY    large_string (canon)  str: tsquery_out's text (textsearch/tsquery.py)
    X[]        list_(X's Arrow type) list (of X's Python values); 1-D arrays as
                                     PostgreSQL's, lower bound 1 (INTEGER[], TEXT[] ...)
    INT4RANGE  large_binary (ordered ranges.Range (int4range, int8range, numrange,
    ...                 bytes)       daterange, tsrange, tstzrange: ranges/)

Strictness (DESIGN.md): a quoted literal never silently becomes a number or a
boolean; it may become a DATE/TIMESTAMP/UUID/JSON where the context asks for it.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import uuid as _uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from . import bitstring, composite, errors, infinity, money, netaddr, numeric, ranges, timetz
from . import statement_limits as _limits
from .bitstring import BIT, BIT_TYPES, VARBIT
from .money import MONEY
from .numeric import NUMERIC
from .netaddr import CIDR, INET, MACADDR, MACADDR8, NETWORK_TYPES
from .timetz import TIMETZ

if TYPE_CHECKING:
    import pyarrow as pa

INTEGER = "INTEGER"
FLOAT = "FLOAT"
TEXT = "TEXT"
BOOLEAN = "BOOLEAN"
TIMESTAMP = "TIMESTAMP"
# timestamp with time zone: an instant, stored in UTC; read and shown in the session's
# TimeZone (statement_limits.zone), as PostgreSQL's timestamptz
TIMESTAMPTZ = "TIMESTAMPTZ"
DATE = "DATE"
UUID = "UUID"
JSON = "JSON"          # PostgreSQL's jsonb (the engine's first JSON type kept the name)
JSONT = "JSONT"        # PostgreSQL's json: the document's text as written
JSON_TYPES = (JSON, JSONT)
INTERVAL = "INTERVAL"
TIME = "TIME"          # time of day without time zone, microseconds (datetime.time)
BYTEA = "BYTEA"        # binary strings (bytes)
# full-text search documents and queries, kept as their canonical text (textsearch/)
TSVECTOR = "TSVECTOR"
TSQUERY = "TSQUERY"
NULL = "NULL"          # the type of a bare NULL literal, before context decides
UNKNOWN = "UNKNOWN"    # a parameter whose type is only known at execution

ALL_TYPES = (INTEGER, FLOAT, TEXT, BOOLEAN, TIMESTAMP, DATE, UUID, JSON, TIME, BYTEA,
             TIMESTAMPTZ, JSONT, TSVECTOR, TSQUERY) + NETWORK_TYPES + (MONEY,) + BIT_TYPES + \
    (TIMETZ, NUMERIC)
NUMERIC_TYPES = (INTEGER, FLOAT, NUMERIC)
TEMPORAL_TYPES = (TIMESTAMP, DATE, TIMESTAMPTZ)
# Types a well-formed quoted literal is read as, as PostgreSQL does for unknown literals.
LITERAL_CONTEXT_TYPES = (TIMESTAMP, DATE, UUID, JSON, INTERVAL, TIME, BYTEA, TIMESTAMPTZ,
                         JSONT, TSVECTOR, TSQUERY, *ranges.RANGE_TYPES) + NETWORK_TYPES + \
    (MONEY,) + BIT_TYPES + (TIMETZ,)


def is_json(sql_type: str) -> bool:
    """json or jsonb: a document the JSON operators and functions read."""
    return sql_type in JSON_TYPES


def json_doc_kind(sql_type: str) -> str:
    """How the JSON builders take a value of this type (the binder's mask character,
    sql/bind/bind_jsonb.py, read by exec/functions/json.py and json_out.py): ``j`` a
    json/jsonb document, ``J`` an array of them, ``-`` anything else."""
    if is_json(sql_type):
        return "j"
    if sql_type.endswith("[]") and is_json(sql_type[:-2]):
        return "J"
    return "-"


def sql_name(sql_type: str) -> str:
    """A type written as SQL that reads back as it (``normalize_type_name``): the engine's
    JSON is SQL's JSONB, its JSONT SQL's JSON; the others are their own names."""
    if sql_type.endswith("[]"):
        return sql_name(sql_type[:-2]) + "[]"
    if composite.is_record(sql_type):
        return composite.type_name(sql_type)
    return "JSONB" if sql_type == JSON else "JSON" if sql_type == JSONT else sql_type


def shown_type(sql_type: str) -> str:
    """A type as error messages name it (PostgreSQL's json for JSONT, jsonb for JSON)."""
    if composite.is_record(sql_type):
        return composite.type_name(sql_type)
    return _SHOWN_NAMES.get(sql_type) or sql_type.lower()


_SHOWN_NAMES = {JSONT: "json", JSONT + "[]": "json[]", JSON: "jsonb", JSON + "[]": "jsonb[]"}


def _arrow_types() -> dict:
    """SQL type -> Arrow type, built on first use: ``import pyarrow`` (with numpy) is most
    of a cold start, and a process whose first statements never touch Arrow (``SELECT 1``,
    a point statement on the row path) should not pay for it (issue 11, start-up)."""
    import pyarrow as pa
    global ARROW_TYPES
    ARROW_TYPES = {
        INTEGER: pa.int64(),
        FLOAT: pa.float64(),
        TEXT: pa.large_string(),
        BOOLEAN: pa.bool_(),
        TIMESTAMP: pa.timestamp("us"),
        TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
        DATE: pa.date32(),
        UUID: pa.large_string(),
        JSON: pa.large_string(),
        JSONT: pa.large_string(),
        INTERVAL: pa.month_day_nano_interval(),
        TIME: pa.time64("us"),
        BYTEA: pa.large_binary(),
        TSVECTOR: pa.large_string(),
        TSQUERY: pa.large_string(),
        NULL: pa.null(),
        UNKNOWN: pa.null(),
        **{r: pa.large_binary() for r in ranges.RANGE_TYPES},   # ranges/codec.py
        **dict.fromkeys(NETWORK_TYPES, pa.large_binary()),   # order-preserving keys (netaddr)
        MONEY: pa.int64(),                                    # cents (money.py)
        TIMETZ: pa.int64(),                                   # ordered keys (timetz.py)
        BIT: pa.large_string(), VARBIT: pa.large_string(),    # '1010' (bitstring.py)
        NUMERIC: pa.binary(),                                 # ordered keys (numeric.py)
    }
    return ARROW_TYPES


def __getattr__(name: str):
    # ``types.ARROW_TYPES`` read before any arrow_type() call: build it now (PEP 562).
    if name == "ARROW_TYPES":
        return _arrow_types()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# SQL type names as users spell them (sqlglot's DataType.Type names, lower-cased too).
_ALIASES = {
    "INT": INTEGER, "INTEGER": INTEGER, "INT4": INTEGER, "INT8": INTEGER, "BIGINT": INTEGER,
    "SMALLINT": INTEGER, "INT2": INTEGER, "TINYINT": INTEGER, "SERIAL": INTEGER,
    "BIGSERIAL": INTEGER, "SMALLSERIAL": INTEGER,
    "FLOAT": FLOAT, "DOUBLE": FLOAT, "DOUBLE PRECISION": FLOAT, "REAL": FLOAT, "FLOAT8": FLOAT,
    "FLOAT4": FLOAT, "DECIMAL": NUMERIC, "NUMERIC": NUMERIC, "DEC": NUMERIC,
    "TEXT": TEXT, "VARCHAR": TEXT, "CHAR": TEXT, "STRING": TEXT, "NVARCHAR": TEXT,
    "BPCHAR": TEXT, "NAME": TEXT,
    "BOOLEAN": BOOLEAN, "BOOL": BOOLEAN,
    "TIMESTAMP": TIMESTAMP, "DATETIME": TIMESTAMP, "TIMESTAMPTZ": TIMESTAMPTZ,
    "TIMESTAMP WITHOUT TIME ZONE": TIMESTAMP, "TIMESTAMP WITH TIME ZONE": TIMESTAMPTZ,
    "DATE": DATE, "UUID": UUID, "JSON": JSONT, "JSONB": JSON, "INTERVAL": INTERVAL,
    "JSONPATH": TEXT,        # a path is kept as its text (exec/functions/jsonpath.py)
    "TIME": TIME, "TIME WITHOUT TIME ZONE": TIME,
    "TIMETZ": TIMETZ, "TIME WITH TIME ZONE": TIMETZ,
    "BYTEA": BYTEA, "BLOB": BYTEA, "BINARY": BYTEA, "VARBINARY": BYTEA,
    "INET": INET, "CIDR": CIDR, "MACADDR": MACADDR, "MACADDR8": MACADDR8, "MONEY": MONEY,
    "BIT": BIT, "VARBIT": VARBIT, "BIT VARYING": VARBIT,
    "TSVECTOR": TSVECTOR, "TSQUERY": TSQUERY,
}


class EnumType(str):
    """The type of a value of an enum type (CREATE TYPE ... AS ENUM): TEXT, as the values
    are stored (a column keeps its labels in its typmod), that also knows its type's name
    and labels. It equals ``TEXT``, so every rule for text applies unchanged; the binder
    reads the labels where PostgreSQL orders enums by label position rather than as
    text: comparisons, ORDER BY, min/max (sql/bind/enum_order.py)."""

    enum_name: str
    labels: tuple

    def __new__(cls, name: str, labels: tuple) -> "EnumType":
        self = super().__new__(cls, TEXT)
        self.enum_name = name
        self.labels = labels
        return self

    def __reduce__(self):
        return EnumType, (self.enum_name, self.labels)


# (name, labels) -> EnumType: one object per type version, bounded
_ENUM_TYPES: dict = {}


def enum_type(name: str, labels: tuple) -> EnumType:
    """The type of values of enum type ``name`` with these labels (in sort order)."""
    key = (name, labels)
    t = _ENUM_TYPES.get(key)
    if t is None:
        if len(_ENUM_TYPES) >= 1024:
            _ENUM_TYPES.clear()
        t = _ENUM_TYPES[key] = EnumType(name, labels)
    return t


def enum_of(sql_type: str) -> EnumType | None:
    """``sql_type`` when it is an enum type's, else None."""
    return sql_type if type(sql_type) is EnumType else None


class BpcharType(str):
    """The type of a ``character(n)`` / ``bpchar`` value: TEXT (values are stored as text,
    blank-padded to n by exec/typmods.py), which also knows n (None for bare bpchar). It
    equals ``TEXT``, so every rule for text applies unchanged; the binder reads it where
    PostgreSQL's bpchar differs from text (sql/bind/bpchar.py): trailing blanks do not
    count in comparisons, and a bpchar handed to a text function or cast to text loses
    them."""

    length: int | None

    def __new__(cls, length: int | None) -> "BpcharType":
        self = super().__new__(cls, TEXT)
        self.length = length
        return self

    def __reduce__(self):
        return bpchar_type, (self.length,)


_BPCHAR_TYPES: dict = {}


def bpchar_type(length: int | None) -> BpcharType:
    """The type of character(``length``) values (one object per length)."""
    t = _BPCHAR_TYPES.get(length)
    if t is None:
        if len(_BPCHAR_TYPES) >= 1024:
            _BPCHAR_TYPES.clear()
        t = _BPCHAR_TYPES[length] = BpcharType(length)
    return t


def is_bpchar(sql_type: str) -> bool:
    return type(sql_type) is BpcharType


def normalize_type_name(name: str) -> str:
    """Map a user-facing type name (``VARCHAR(20)``, ``int8``, ``jsonb``, ``int[]``) to ours."""
    base = re.sub(r"\(.*\)", "", name).strip().upper()
    if base.startswith('"PG_CATALOG".'):    # asyncpg quotes both parts: "pg_catalog"."int8"
        base = base[len('"PG_CATALOG"'):]
        base = "PG_CATALOG" + base
    if base.startswith("PG_CATALOG."):      # pg_catalog.text: the built-in types' schema
        base = base[len("PG_CATALOG."):].strip('"')
    if base.endswith("]") or base.endswith(" ARRAY"):
        element = re.sub(r"(\s*\[\s*\d*\s*\])+$|\s+ARRAY$", "", base)
        if element.endswith("[]"):
            raise errors.not_supported("multidimensional arrays")
        inner = normalize_type_name(element)
        if inner == INTERVAL:
            raise errors.not_supported("arrays of INTERVAL")
        return array_of(inner)
    try:
        return _ALIASES[base]
    except KeyError:
        if base in ranges.KINDS:
            return base
        raise errors.sql_error("42704", f'type "{name.lower()}" does not exist',
                               hint="Supported types: " + ", ".join(map(sql_name, ALL_TYPES))
                               ) from None


def arrow_type(sql_type: str) -> "pa.DataType":
    try:
        return ARROW_TYPES[sql_type]
    except NameError:        # the first call: the mapping is built now
        _arrow_types()
        return arrow_type(sql_type)
    except KeyError:
        if composite.is_record(sql_type):        # ordered bytes (composite.py)
            import pyarrow as pa
            return pa.large_binary()
        if sql_type.endswith("[]"):      # TEXT[][]: the per-row sets of regexp_matches
            import pyarrow as pa
            return pa.list_(arrow_type(sql_type[:-2]))
        raise


# ---- arrays: the type of a 1-D array of X is named "X[]" -----------------------------

def is_array(sql_type: str) -> bool:
    return sql_type.endswith("[]")


def is_column_type(sql_type: str) -> bool:
    """Whether a table column may have this type: a scalar type (INTERVAL included) or an
    array of one of the others."""
    return sql_type in ALL_TYPES or sql_type == INTERVAL or sql_type in ranges.KINDS or \
        composite.is_record(sql_type) or (
        sql_type.endswith("[]") and (sql_type[:-2] in ALL_TYPES or sql_type[:-2] in ranges.KINDS))


def array_of(element: str) -> str:
    return element + "[]"


def element_type(sql_type: str) -> str:
    """The element type of an array type (``INTEGER[]`` -> ``INTEGER``)."""
    return sql_type[:-2]


def sql_type_of_arrow(t: "pa.DataType") -> str:
    """The SQL type a registered Arrow/pandas column is read as."""
    import pyarrow as pa
    if pa.types.is_integer(t):
        return INTEGER
    if pa.types.is_decimal128(t):
        return NUMERIC          # exact, in its vector form (numeric_arrays.py)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return FLOAT
    if pa.types.is_boolean(t):
        return BOOLEAN
    if pa.types.is_timestamp(t):
        return TIMESTAMP if t.tz is None else TIMESTAMPTZ
    if pa.types.is_date(t):
        return DATE
    if pa.types.is_time(t):
        return TIME
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or \
            pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return BYTEA
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return TEXT
    if pa.types.is_dictionary(t):
        return sql_type_of_arrow(t.value_type)
    if pa.types.is_null(t):
        return TEXT
    if t == pa.month_day_nano_interval():
        return INTERVAL
    if isinstance(t, pa.ExtensionType) and t.extension_name == "arrow.uuid":
        return UUID
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        inner = sql_type_of_arrow(t.value_type)
        if is_array(inner):
            raise errors.not_supported(f"Arrow type {t} (nested lists)")
        return array_of(inner)
    raise errors.not_supported(f"Arrow type {t}")


def is_numeric(t: str) -> bool:
    return t in NUMERIC_TYPES


def wider_number(known) -> str:
    """The type numbers of these types meet in (PostgreSQL's implicit casts): float8
    over numeric over integer."""
    return FLOAT if FLOAT in known else NUMERIC if NUMERIC in known else INTEGER


_I32 = 2 ** 31
_US_MAX = (2 ** 63 - 1) // 1000    # Arrow stores nanoseconds in an int64


@dataclass(frozen=True, eq=False)
class Interval:
    """A PostgreSQL interval: months, days and microseconds kept apart. Equal (and
    hashed) by span, as PostgreSQL compares them: ``1 mon`` = ``30 days``, so the row
    path groups, deduplicates and joins them together."""

    months: int = 0
    days: int = 0
    micros: int = 0

    def __post_init__(self) -> None:
        # PostgreSQL's (and Arrow's month_day_nano) field widths: int32, int32, int64 us
        if not (-_I32 <= self.months < _I32 and -_I32 <= self.days < _I32
                and -_US_MAX <= self.micros <= _US_MAX):
            raise errors.sql_error("22008", "interval out of range")

    @classmethod
    def of(cls, v) -> "Interval":
        """An interval as Arrow hands it out (MonthDayNano: nanoseconds, not micros)."""
        return cls(v.months, v.days, v.nanoseconds // 1000)

    @property
    def nanoseconds(self) -> int:
        """Arrow reads an interval object by its months, days and nanoseconds attributes:
        without this one, converting rows to Arrow dropped the time part ('1 hour' -> 0)."""
        return self.micros * 1000

    def _span(self) -> int:
        """PostgreSQL's comparison key: a month is 30 days, a day 24 hours."""
        return (self.months * 30 + self.days) * 86_400_000_000 + self.micros

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self._span() == other._span()

    def __hash__(self) -> int:
        return hash(self._span())

    def __lt__(self, other: "Interval") -> bool:
        return self._span() < other._span()

    def __le__(self, other: "Interval") -> bool:
        return self._span() <= other._span()

    def __gt__(self, other: "Interval") -> bool:
        return self._span() > other._span()

    def __ge__(self, other: "Interval") -> bool:
        return self._span() >= other._span()

    def __neg__(self) -> "Interval":
        return Interval(-self.months, -self.days, -self.micros)

    def __str__(self) -> str:
        parts = []
        # PostgreSQL: years and months keep the sign of the total (-13 mons is
        # "-1 years -1 mons"), and only exactly 1 is singular ("-1 days")
        years, months = divmod(abs(self.months), 12)
        if self.months < 0:
            years, months = -years, -months
        # A positive field after a negative one shows its "+" ("-1 days +02:00:00").
        before = False
        for value, unit in ((years, "year"), (months, "mon"), (self.days, "day")):
            if value:
                plus = "+" if before and value > 0 else ""
                parts.append(f"{plus}{value} {unit}{'' if value == 1 else 's'}")
                before = value < 0
        if self.micros or not parts:
            secs, us = divmod(abs(self.micros), 1_000_000)
            h, rem = divmod(secs, 3600)
            m, s = divmod(rem, 60)
            sign = "-" if self.micros < 0 else "+" if before else ""
            frac = f".{us:06d}".rstrip("0") if us else ""
            parts.append(f"{sign}{h:02d}:{m:02d}:{s:02d}{frac}")
        return " ".join(parts)


_INTERVAL_UNITS = {
    "millennium": (12000, 0, 0), "millenniums": (12000, 0, 0), "millennia": (12000, 0, 0),
    "mil": (12000, 0, 0), "mils": (12000, 0, 0),
    "century": (1200, 0, 0), "centuries": (1200, 0, 0), "c": (1200, 0, 0),
    "decade": (120, 0, 0), "decades": (120, 0, 0), "dec": (120, 0, 0), "decs": (120, 0, 0),
    "year": (12, 0, 0), "years": (12, 0, 0), "y": (12, 0, 0), "yr": (12, 0, 0),
    "yrs": (12, 0, 0),
    "month": (1, 0, 0), "months": (1, 0, 0), "mon": (1, 0, 0), "mons": (1, 0, 0),
    "week": (0, 7, 0), "weeks": (0, 7, 0), "w": (0, 7, 0),
    "day": (0, 1, 0), "days": (0, 1, 0), "d": (0, 1, 0),
    "hour": (0, 0, 3_600_000_000), "hours": (0, 0, 3_600_000_000), "h": (0, 0, 3_600_000_000),
    "hr": (0, 0, 3_600_000_000), "hrs": (0, 0, 3_600_000_000),
    "minute": (0, 0, 60_000_000), "minutes": (0, 0, 60_000_000), "min": (0, 0, 60_000_000),
    "mins": (0, 0, 60_000_000), "m": (0, 0, 60_000_000),
    "second": (0, 0, 1_000_000), "seconds": (0, 0, 1_000_000), "sec": (0, 0, 1_000_000),
    "secs": (0, 0, 1_000_000), "s": (0, 0, 1_000_000),
    "millisecond": (0, 0, 1000), "milliseconds": (0, 0, 1000), "ms": (0, 0, 1000),
    "msec": (0, 0, 1000), "msecs": (0, 0, 1000),
    "microsecond": (0, 0, 1), "microseconds": (0, 0, 1), "us": (0, 0, 1),
    "usec": (0, 0, 1), "usecs": (0, 0, 1),
}


_INTERVAL_TOKEN = re.compile(
    r"[+-]?\d+-\d+(?![\d.:])|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?::[\d.]+)*|[a-z]+|\S")
_YEAR_MONTH = re.compile(r"([+-]?)(\d+)-(\d+)")     # SQL's year-month literal: '1-2
_ISO_INTERVAL = re.compile(
    r"p(?:(?P<y>-?[\d.]+)y)?(?:(?P<mo>-?[\d.]+)m)?(?:(?P<w>-?[\d.]+)w)?(?:(?P<d>-?[\d.]+)d)?"
    r"(?:t(?:(?P<h>-?[\d.]+)h)?(?:(?P<mi>-?[\d.]+)m)?(?:(?P<s>-?[\d.]+)s)?)?")
_MONTH_DAYS, _DAY_MICROS = 30, 86_400_000_000


class _IntervalSum:
    """Months, days and microseconds added up as PostgreSQL's interval input does: a
    fraction of a year rounds to months; of a month or week spills into days, then
    time; of a day into time."""

    def __init__(self) -> None:
        self.months = self.days = self.micros = 0
        self.field_overflow = False    # one field alone past its range (22015, not 22008)

    def add(self, qty: float, unit: str) -> None:
        m, d, us = _INTERVAL_UNITS[unit]
        whole = int(qty)
        if abs(whole * (m or d)) >= _I32 or abs(qty * us) > _US_MAX:
            self.field_overflow = True
        frac = qty - whole
        if m:
            self.months += whole * m + (round(frac * m) if m == 12 else 0)
            if m == 1:
                self._days(frac * _MONTH_DAYS)
        elif d:
            self.days += whole * d
            self._days(frac * d)
        else:
            self.micros += round(qty * us)

    def _days(self, days: float) -> None:
        whole = int(days)
        self.days += whole
        self.micros += round((days - whole) * _DAY_MICROS)

    def time(self, tok: str) -> None:
        sign = -1 if tok.startswith("-") else 1
        hms = [float(x) for x in tok.lstrip("+-").split(":")]
        if len(hms) > 3:
            raise ValueError(tok)
        while len(hms) < 3:
            hms.append(0.0)
        self.micros += sign * round((hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1_000_000)


def parse_interval(text: str) -> Interval:
    """PostgreSQL's interval input: '1 day', '2 hours 30 minutes', '3 mons', '01:30:00',
    '1 day 02:00' and '1 02:00:00' (days then time), '1.5 days', '10min', '@ 2 days
    ago', and ISO 8601 ('P1Y2M3DT4H5M6S')."""
    total = _IntervalSum()
    body = text.strip().lower()
    try:
        iso = _ISO_INTERVAL.fullmatch(body) if body.startswith("p") else None
        if iso is not None:
            for key, unit in (("y", "year"), ("mo", "month"), ("w", "week"), ("d", "day"),
                              ("h", "hour"), ("mi", "minute"), ("s", "second")):
                if iso.group(key) is not None:
                    total.add(float(iso.group(key)), unit)
            return Interval(total.months, total.days, total.micros)
        tokens = _INTERVAL_TOKEN.findall(body)
        if tokens and tokens[0] == "@":
            tokens = tokens[1:]
        ago = bool(tokens) and tokens[-1] == "ago"
        if ago:
            tokens = tokens[:-1]
        if not tokens:
            raise ValueError(text)
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if ":" in tok:
                total.time(tok)
                i += 1
                continue
            ym = _YEAR_MONTH.fullmatch(tok)
            if ym is not None:                    # '1-2' is 1 year 2 months, '-1-2' both negative
                if int(ym.group(3)) > 11:
                    raise errors.sql_error("22015", "interval field value out of range: "
                                                    f'"{text}"')
                sign = -1 if ym.group(1) == "-" else 1
                total.add(sign * int(ym.group(2)), "year")
                total.add(sign * int(ym.group(3)), "month")
                i += 1
                continue
            qty = float(tok)
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is None:                       # a bare number is seconds
                total.add(qty, "second")
                i += 1
            elif ":" in nxt:                      # '1 02:00:00': days, then the time
                total.add(qty, "day")
                i += 1
            else:
                total.add(qty, nxt)
                i += 2
    except (ValueError, KeyError, IndexError, OverflowError):
        # PostgreSQL reports bad interval text as a date/time format error, not 22P02
        raise errors.sql_error("22007", f'invalid input syntax for type interval: "{text}"') \
            from None
    try:
        result = Interval(total.months, total.days, total.micros)
    except errors.Error:
        if not total.field_overflow:      # fields that fit, a sum that does not
            raise
        # one field past int32/int64: PostgreSQL's input says 22015
        raise errors.sql_error("22015", f'interval field value out of range: "{text}"') \
            from None
    return -result if ago else result


_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str) -> _dt.date:
    m = _DATE_RE.match(text)
    if not m:
        inf = infinity.read(text, DATE)
        if inf is not None:
            return inf
        body, zone = _split_zone(text)      # a zone after the time: read, then ignored
        body = body if zone is not None else text
        end = _MIDNIGHT_END.search(body)    # 'd 24:00' is still d's date
        return _read_other(body[:end.start()] if end else body, "date", text)[0].date()
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _out_of_range(text) from None


def _read_other(text: str, kind: str, shown: str | None = None
                ) -> tuple[_dt.datetime, _dt.timedelta]:
    """The spellings past ISO 8601 that PostgreSQL reads (datetime_text.py)."""
    from . import datetime_text
    shown = text if shown is None else shown
    try:
        return datetime_text.read(text)
    except datetime_text.Unreadable:
        raise errors.sql_error("22007", f'invalid input syntax for type {kind}: "{shown}"') \
            from None
    except (ValueError, OverflowError):
        raise _out_of_range(shown) from None


def _out_of_range(text: str) -> errors.Error:
    return errors.sql_error("22008", f'date/time field value out of range: "{text}"')


_TS_RE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                    r"\s*([+-]\d{2}(:?\d{2})?|Z)?\s*$")


_LONG_FRACTION = re.compile(r"(?<=\d)\.(\d{7,})")


def _rounded_fraction(text: str, parse):
    """``parse`` of text whose seconds have more than six decimals: PostgreSQL rounds
    them to the microsecond (half to even, as rint), Python would cut them."""
    m = _LONG_FRACTION.search(text)
    digits = m.group(1)
    micros = round(int(digits) / 10 ** (len(digits) - 6))
    value = parse(text[:m.start()] + text[m.end():])
    if isinstance(value, infinity.Infinite):
        return value
    try:
        return value + _dt.timedelta(microseconds=micros)
    except OverflowError:
        raise _out_of_range(text) from None


def parse_timestamp(text: str) -> _dt.datetime:
    """timestamp (without time zone) input: a zone written after the time is ignored,
    as PostgreSQL ignores it."""
    if "." in text and _LONG_FRACTION.search(text):
        return _rounded_fraction(text, parse_timestamp)
    if _TS_RE.match(text):          # ISO 8601, the common case: no regex for the zone
        try:
            return _dt.datetime.fromisoformat(text.strip()).replace(tzinfo=None)
        except ValueError:
            pass
    inf = infinity.read(text, TIMESTAMP)
    if inf is not None:
        return inf
    body, _ = _split_zone(text)
    return _parse_naive(body, text, "timestamp")


_MIDNIGHT_END = re.compile(r"[ T]24:00(?::00(?:\.0*)?)?\s*$")


def _parse_naive(body: str, text: str, kind: str) -> _dt.datetime:
    if not _TS_RE.match(body):
        return _read_other(body, kind, text)[0]
    try:
        value = _dt.datetime.fromisoformat(body.strip())
    except ValueError:
        end = _MIDNIGHT_END.search(body)
        if end is None:
            raise _out_of_range(text) from None
        # '2020-01-05 24:00' is the next day's midnight, as PostgreSQL reads it
        return _parse_naive(body[:end.start()], text, kind) + _dt.timedelta(days=1)
    return value.replace(tzinfo=None)


UTC = _dt.timezone.utc
# A zone after the time of day: an ISO offset, Z/UTC/GMT, or a zone name (Europe/Paris)
_ZONE_AT_END = re.compile(
    r"^(?P<body>.*?\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?(?:\s*[ap]\.?m\.?(?![a-z]))?)\s*"
    r"(?P<tz>Z|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?|UTC|GMT|[+-]\d{1,2}(?::?\d{2}){0,2}|"
    r"[A-Za-z][\w+-]*/[\w+/-]+|[A-Za-z]{2,5})\s*$",
    re.I | re.S)


def _split_zone(text: str) -> tuple[str, _dt.tzinfo | None]:
    """``text`` without the zone written after its time of day, and that zone."""
    m = _ZONE_AT_END.match(text)
    if m is None:
        return text, None
    tz = m.group("tz")
    up = tz.upper()
    if up in ("AM", "PM"):                  # '10:00 am': a 12-hour time, no zone
        return text, None
    if up in ("Z", "UTC", "GMT"):
        return m.group("body"), UTC
    if tz[0] in "+-":
        digits = tz[1:].replace(":", "")
        if len(digits) <= 2:
            secs = int(digits) * 3600
        elif len(digits) <= 4:
            secs = int(digits[:-2]) * 3600 + int(digits[-2:]) * 60
        else:
            secs = int(digits[:-4]) * 3600 + int(digits[-4:-2]) * 60 + int(digits[-2:])
        if secs >= 16 * 3600 + 1:
            raise _out_of_range(text)
        return m.group("body"), _dt.timezone(_dt.timedelta(seconds=-secs if tz[0] == "-"
                                                           else secs))
    if tz.isalpha():                        # an abbreviation: PST, CET ...
        found = zone_abbreviation(tz)
        if found is None:
            raise errors.sql_error("22007", f'invalid input syntax for type timestamp with '
                                            f'time zone: "{text}"')
        return m.group("body"), found
    try:
        return m.group("body"), _limits.parse_zone(tz)[0]
    except errors.Error:
        raise errors.sql_error("22023", f'time zone "{tz}" not recognized') from None


def zone_abbreviation(name: str) -> _dt.tzinfo | None:
    """The fixed zone a time zone abbreviation names (``PST``), or None
    (datetime_text.ZONE_ABBREVIATIONS)."""
    from . import datetime_text
    return datetime_text.abbreviation(name)


def parse_timestamptz(text: str, session_zone: _dt.tzinfo | None = None) -> _dt.datetime:
    """timestamp with time zone input: the instant ``text`` names (aware, UTC). Text
    with an offset or a zone name is read there; without one, in ``session_zone`` (by
    default the running statement's session TimeZone)."""
    if "." in text and _LONG_FRACTION.search(text):
        return _rounded_fraction(text, lambda t: parse_timestamptz(t, session_zone))
    if _TS_RE.match(text):          # ISO 8601, the common case: no regex for the zone
        try:
            value = _dt.datetime.fromisoformat(text.strip())
        except ValueError:
            pass
        else:
            if value.tzinfo is not None:
                return value.astimezone(UTC)
            return local_to_instant(value, session_zone)
    inf = infinity.read(text, TIMESTAMPTZ)
    if inf is not None:
        return inf
    if text.strip().lower() == "epoch":        # an instant, whatever the session's zone
        return _dt.datetime(1970, 1, 1, tzinfo=UTC)
    body, zone = _split_zone(text)
    if zone is None:
        zone = session_zone
        value, offset = _read_other(text, "timestamp with time zone") \
            if not _TS_RE.match(text) else (_parse_naive(text, text, ""), None)
        if offset:       # an offset the other spellings carry ("Jan 5 2024 10:00 +02")
            return (value - offset).replace(tzinfo=UTC)
        return local_to_instant(value, zone)
    return local_to_instant(_parse_naive(body, text, "timestamp with time zone"), zone)


def local_to_instant(value: _dt.datetime, zone: _dt.tzinfo | None = None) -> _dt.datetime:
    """A wall-clock time in ``zone`` (the session's by default) as an aware UTC instant.
    A time a DST change skips or repeats takes the zone's standard-time offset there,
    as PostgreSQL's does."""
    if isinstance(value, infinity.Infinite):
        return infinity.as_kind(value, TIMESTAMPTZ)
    if zone is None:
        zone = _limits.zone()
    if zone is UTC:
        return value.replace(tzinfo=UTC)
    try:
        first = value.replace(tzinfo=zone, fold=0)
        second = value.replace(tzinfo=zone, fold=1)
        off0, off1 = first.utcoffset(), second.utcoffset()
        chosen = first if off0 <= off1 else second
        return chosen.astimezone(UTC)
    except OverflowError:
        raise errors.sql_error("22008", "timestamp out of range") from None


def instant_to_local(value: _dt.datetime, zone: _dt.tzinfo | None = None) -> _dt.datetime:
    """An instant as the naive wall-clock time of ``zone`` (the session's by default)."""
    if isinstance(value, infinity.Infinite):
        return infinity.as_kind(value, TIMESTAMP)
    if zone is None:
        zone = _limits.zone()
    try:
        return value.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise errors.sql_error("22008", "timestamp out of range") from None


def session_zone_is_utc() -> bool:
    return _limits.zone() is UTC


def format_timestamptz(value: _dt.datetime, zone: _dt.tzinfo | None = None) -> str:
    """A timestamptz as PostgreSQL prints it: in the session's TimeZone, with its offset
    (``2020-01-01 09:00:00+01``)."""
    if isinstance(value, infinity.Infinite):
        return str(value)
    if zone is None:
        zone = _limits.zone()
    try:
        local = value.astimezone(zone)
    except OverflowError:
        raise errors.sql_error("22008", "timestamp out of range") from None
    return format_timestamp(local) + _limits.format_offset(
        int(local.utcoffset().total_seconds()))


# A date before the time is read and ignored, as PostgreSQL's time input does.
_TIME_RE = re.compile(r"^\s*(?:\d{4}-\d{1,2}-\d{1,2}[ T]\s*)?"
                      r"(?:(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?|(\d{2})(\d{2})(\d{2})(?:\.(\d+))?)"
                      r"\s*(am|pm)?"
                      # a zone after it is read and ignored, as PostgreSQL's time input does
                      r"\s*(?:Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?|[A-Z]{3,5}|[A-Za-z]+/[\w/+-]+)?\s*$",
                      re.I)


def parse_time(text: str) -> _dt.time:
    """``HH:MM[:SS[.ffffff]]`` as a time of day (fractions past microseconds round)."""
    if text.strip().lower() == "allballs":        # PostgreSQL's word for 00:00:00
        return _dt.time(0, 0)
    m = _TIME_RE.match(text)
    if not m:
        raise errors.sql_error("22007", f'invalid input syntax for type time: "{text}"')
    g = m.groups()
    if g[0] is None:                               # HHMMSS
        g = (g[4], g[5], g[6], g[7]) + g[8:]
    h, mi, sec = int(g[0]), int(g[1]), int(g[2] or 0)
    frac = g[3] or ""
    ampm = (m.group(9) or "").lower()
    if ampm:
        if not 1 <= h <= 12:
            raise _out_of_range(text)
        h = h % 12 + (12 if ampm == "pm" else 0)
    micros = round(float("0." + frac) * 1_000_000) if frac else 0
    if h == 24 and mi == 0 and sec == 0 and micros == 0:
        raise errors.sql_error("22008", 'time "24:00:00" is not supported here',
                               hint="Python's time of day ends at 23:59:59.999999.")
    if h > 23 or mi > 59 or sec > 59:
        raise _out_of_range(text)
    return time_of_micros(((h * 60 + mi) * 60 + sec) * 1_000_000 + micros, text)


def time_of_micros(micros: int, text: str | None = None) -> _dt.time:
    """The time of day ``micros`` microseconds after midnight (a rounded fraction that
    reaches midnight is out of range, as 24:00 is not representable)."""
    if not 0 <= micros < 86_400_000_000:
        raise _out_of_range(text if text is not None else str(micros))
    s, us = divmod(micros, 1_000_000)
    return _dt.time(s // 3600, s // 60 % 60, s % 60, us)


def time_micros(t: _dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def format_time(t: _dt.time) -> str:
    """A TIME as PostgreSQL prints it: fractional seconds without trailing zeros."""
    text = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return text + (f".{t.microsecond:06d}".rstrip("0") if t.microsecond else "")


def parse_bytea(text: str) -> bytes:
    """PostgreSQL's bytea input: ``\\x`` then hex digit pairs (spaces between pairs
    allowed), or the escape format (``\\\\`` a backslash, ``\\ooo`` an octal byte, any
    other character its UTF-8 bytes)."""
    if text.startswith(("\\x", "\\X")):
        digits = "".join(text[2:].split())
        try:
            if len(digits) % 2:
                raise ValueError
            return bytes.fromhex(digits)
        except ValueError:
            bad = next((c for c in digits if c not in "0123456789abcdefABCDEF"), None)
            raise errors.sql_error("22023", f'invalid hexadecimal digit: "{bad}"' if bad else
                                   "invalid hexadecimal data: odd number of digits") from None
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
        elif text[i + 1:i + 2] == "\\":
            out.append(0x5C)
            i += 2
        elif re.fullmatch(r"[0-3][0-7]{2}", text[i + 1:i + 4]):
            out.append(int(text[i + 1:i + 4], 8))
            i += 4
        else:
            raise errors.invalid_text("bytea", text)
    return bytes(out)


def array_item_text(text: str) -> str:
    """One element of an array literal as PostgreSQL's array_out writes it: quoted when
    empty, NULL-like, or holding a delimiter, brace, quote, backslash or blank."""
    if text == "" or text.upper() == "NULL" or any(c in text for c in '{},"\\ \t\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def format_bytea(b: bytes) -> str:
    """bytea's output: PostgreSQL's default hex format."""
    return "\\x" + bytes(b).hex()


def parse_uuid(text: str) -> str:
    try:
        return str(_uuid.UUID(text.strip()))
    except ValueError:
        raise errors.invalid_text("uuid", text) from None


# jsonb's numbers are numeric (PostgreSQL keeps ``1.50`` as written, ``1e2`` as 100,
# every digit of ``12345678901234567890.123``): as Python values, a number with a point
# or an exponent is an exact ``Decimal`` at its display scale, an integer an ``int``
# (one with more digits than Python's int reader takes a Decimal too); the writer below
# prints Decimals as numeric_out does.
_JSONB_READ = json.JSONDecoder(parse_float=Decimal).decode
_JSONB_READ_WIDE = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal).decode


def load_jsonb(text: str) -> object:
    """A stored jsonb document (canonical text) as a Python value (see above)."""
    try:
        return _JSONB_READ(text)
    except ValueError:      # an integer past Python's int-from-text digit limit
        return _JSONB_READ_WIDE(text)


def _no_constant(name: str):
    raise ValueError(name)       # NaN / Infinity: Python reads them, JSON has none


# input: each number checked against numeric's limits (22003) as numeric_in does
_JSONB_INPUT = json.JSONDecoder(parse_float=numeric.of_json, parse_constant=_no_constant).decode
_JSONB_INPUT_WIDE = json.JSONDecoder(parse_float=numeric.of_json, parse_int=numeric.of_json,
                                     parse_constant=_no_constant).decode


def parse_json(text: str) -> str:
    """Validate JSON text and return it in PostgreSQL jsonb's canonical form (spacing,
    key order, numbers as numeric prints them)."""
    try:
        try:
            value = _JSONB_INPUT(text)
        except ValueError as exc:
            if "digits" not in str(exc):       # not the int-from-text digit limit
                raise
            value = _JSONB_INPUT_WIDE(text)
    except (ValueError, RecursionError):
        raise errors.sql_error("22P02", "invalid input syntax for type json",
                               detail=f"Token in {text[:40]!r} is invalid.") from None
    return canonical_json(value)


_JSON_CHECK = json.JSONDecoder(parse_constant=_no_constant)


def parse_json_text(text: str) -> str:
    """Validate JSON text and return it as written: PostgreSQL's json keeps the text
    (whitespace, key order, duplicate keys), only checking that it is JSON."""
    try:
        _JSON_CHECK.decode(text)
    except (ValueError, RecursionError):
        raise errors.sql_error("22P02", "invalid input syntax for type json",
                               detail=f"Token in {text[:40]!r} is invalid.") from None
    return text


_QUOTE = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.encode_basestring


def canonical_json(value: object) -> str:
    """JSON text as PostgreSQL's jsonb stores it: keys ordered shortest first, then
    bytewise, one value per key (the last one written), jsonb's spacing, numbers as
    numeric prints them (a Decimal at its scale, a float as its repr's digits)."""
    out: list = []
    try:   # JSON has no NaN/Infinity and only JSON-able values (PostgreSQL: 22P02)
        _write_jsonb(value, out)
    except (TypeError, ValueError, AttributeError) as exc:   # AttributeError: a key not str
        raise errors.sql_error("22P02", f"invalid input syntax for type json: {exc}") from None
    return "".join(out)


def _write_jsonb(v: object, out: list) -> None:
    # one pass writing the text (faster than ordering a copy for json's C encoder)
    t = type(v)
    if t is str:
        out.append(_QUOTE(v))
    elif t is dict:
        if not v:
            out.append("{}")
            return
        sep = "{"
        for k in sorted(v, key=jsonb_key_order):      # type: ignore[arg-type]
            out.append(sep)
            out.append(_QUOTE(k))
            out.append(": ")
            _write_jsonb(v[k], out)                      # type: ignore[index]
            sep = ", "
        out.append("}")
    elif t is list or t is tuple:
        if not v:
            out.append("[]")
            return
        sep = "["
        for x in v:                                      # type: ignore[attr-defined]
            out.append(sep)
            _write_jsonb(x, out)
            sep = ", "
        out.append("]")
    elif t is int:
        out.append(int.__repr__(v))                      # type: ignore[arg-type]
    elif v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif t is Decimal:
        # str() is numeric_out's text unless it has an exponent, a sign on zero, or is
        # no number (NaN, Infinity: no JSON)
        text = v.__str__()
        if "E" in text or not text[-1].isdigit() or (text[0] == "-" and not v):
            if not v.is_finite():                      # type: ignore[attr-defined]
                raise ValueError(f"{v} is not a JSON number")
            text = numeric.format(v)                   # type: ignore[arg-type]
        out.append(text)
    elif isinstance(v, float):
        if v != v or v in (_FLOAT_INF, -_FLOAT_INF):
            raise ValueError(f"Out of range float values are not JSON compliant: {v!r}")
        # a Python float (a parameter's dict): the number json.dumps writes for it
        out.append(numeric.format(numeric.from_real(v)))
    elif isinstance(v, Decimal):                         # a subclass
        _write_jsonb(Decimal(v), out)
    elif isinstance(v, int):                             # an int subclass (numpy's, ...)
        out.append(int.__repr__(int(v)))                 # type: ignore[call-overload]
    elif isinstance(v, str):
        out.append(_QUOTE(str(v)))
    elif isinstance(v, dict):
        _write_jsonb(dict(v), out)
    elif isinstance(v, (list, tuple)):
        _write_jsonb(list(v), out)
    else:
        raise TypeError(f"Object of type {t.__name__} is not JSON serializable")


_FLOAT_INF = float("inf")


_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def json_text_of(value: object) -> str:
    """A Python value (dict, list ...) as json text: json.dumps' spelling (what psycopg
    sends for ``Json(value)``), keys in the order given."""
    try:
        return _JSON_DUMPS.encode(value)
    except (TypeError, ValueError) as exc:
        raise errors.sql_error("22P02", f"invalid input syntax for type json: {exc}") from None


def jsonb_key_order(key: str) -> tuple:
    """Where a key sorts in a jsonb object: shorter keys first, then by their bytes."""
    encoded = key.encode()
    return len(encoded), encoded


def parse_literal_as(sql_type: str, text: str) -> object:
    """A quoted literal read in a DATE/TIMESTAMP/UUID/JSON/INTERVAL context (storage form)."""
    if sql_type == DATE:
        return parse_date(text)
    if sql_type == TIMESTAMP:
        return parse_timestamp(text)
    if sql_type == TIMESTAMPTZ:
        return parse_timestamptz(text)
    if sql_type == UUID:
        return parse_uuid(text)
    if sql_type == JSON:
        return parse_json(text)
    if sql_type == JSONT:
        return parse_json_text(text)
    if sql_type == INTERVAL:
        return parse_interval(text)
    if sql_type == TIME:
        return parse_time(text)
    if sql_type == BYTEA:
        return parse_bytea(text)
    if sql_type in ranges.KINDS:
        kind = ranges.KINDS[sql_type]
        return ranges.encode(kind, ranges.parse_range(kind, text))
    if sql_type in NETWORK_TYPES:
        return netaddr.parse(sql_type, text)
    if sql_type == MONEY:
        return money.parse(text)
    if sql_type == TIMETZ:
        return timetz.parse(text)
    if sql_type in BIT_TYPES:
        return bitstring.parse(text)
    if composite.is_record(sql_type):
        return composite.parse_record(sql_type, text, read_field)
    if sql_type == TSVECTOR:
        from .textsearch import tsvector
        return tsvector.canonical(text)
    if sql_type == TSQUERY:
        from .textsearch import tsquery
        return tsquery.canonical(text)
    raise AssertionError(sql_type)


# ---- storage form <-> Python form -------------------------------------------------
# Storage form is what Arrow holds; Python form is what cursors return.

def to_python(sql_type: str, value: object) -> object:
    """Turn a stored value into what the DB-API returns."""
    if value is None:
        return None
    if sql_type == UUID:
        return _uuid.UUID(value)  # type: ignore[arg-type]
    if sql_type in JSON_TYPES:
        return json.loads(value)  # type: ignore[arg-type]
    if sql_type in NETWORK_TYPES:
        return netaddr.python_value(sql_type, value)  # type: ignore[arg-type]
    if sql_type == MONEY:          # its text, as psycopg returns money ('$1,234.56')
        return money.format(value)  # type: ignore[arg-type]
    if sql_type == TIMETZ:         # an aware datetime.time, as psycopg returns timetz
        return timetz.python_value(value)  # type: ignore[arg-type]
    if sql_type == NUMERIC:        # a decimal.Decimal, as psycopg returns numeric
        return numeric.decode(value)  # type: ignore[arg-type]
    if sql_type.endswith("[]") and sql_type[:-2] in (UUID, JSON, JSONT, MONEY, TIMETZ,
                                                     NUMERIC) + NETWORK_TYPES:
        return [to_python(sql_type[:-2], v) for v in value]  # type: ignore[union-attr]
    if sql_type in ranges.KINDS:
        return ranges.decode(ranges.KINDS[sql_type], value)  # type: ignore[arg-type]
    if composite.is_record(sql_type):
        return composite.python_value(sql_type, value, to_python)  # type: ignore[arg-type]
    if sql_type.endswith("[]") and composite.is_record(sql_type[:-2]):
        return [None if v is None else composite.python_value(sql_type[:-2], v, to_python)
                for v in value]  # type: ignore[union-attr]
    if sql_type.endswith("[]") and sql_type[:-2] in ranges.KINDS:
        kind = ranges.KINDS[sql_type[:-2]]
        return [None if v is None else ranges.decode(kind, v) for v in value]  # type: ignore
    return value


def from_python(value: object) -> tuple[object, str]:
    """A bound parameter's storage value and SQL type."""
    if value is None:
        return None, NULL
    if isinstance(value, bool):
        return value, BOOLEAN
    if isinstance(value, infinity.Infinite):
        return value, value.kind
    if isinstance(value, int):
        return value, INTEGER
    if isinstance(value, float):
        return value, FLOAT
    if isinstance(value, str):
        return check_text(value), TEXT
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(UTC), TIMESTAMPTZ
        return value.replace(tzinfo=None), TIMESTAMP
    if isinstance(value, _dt.date):
        return value, DATE
    if isinstance(value, _dt.time):
        if value.utcoffset() is not None:       # an aware time is a timetz (psycopg's)
            return timetz.of_python(value), TIMETZ
        return value.replace(tzinfo=None), TIME
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), BYTEA
    if isinstance(value, _uuid.UUID):
        return str(value), UUID
    if isinstance(value, (dict, list)):
        return canonical_json(value), JSON
    if isinstance(value, Interval):
        return value, INTERVAL
    if netaddr.is_ipaddress(value):
        key, is_cidr = netaddr.of_python(value)
        return key, CIDR if is_cidr else INET
    if isinstance(value, _dt.timedelta):
        return Interval(0, value.days, value.seconds * 1_000_000 + value.microseconds), INTERVAL
    if isinstance(value, ranges.Range):
        return ranges.from_python(value)
    try:  # numpy scalars, Decimal
        import numpy as np
        if isinstance(value, np.integer):
            return int(value), INTEGER
        if isinstance(value, np.floating):
            return float(value), FLOAT
        if isinstance(value, np.bool_):
            return bool(value), BOOLEAN
    except ImportError:  # pragma: no cover
        pass
    import decimal
    if isinstance(value, decimal.Decimal):
        return numeric.of_python(value), NUMERIC
    raise errors.sql_error("22023", f"cannot bind a Python {type(value).__name__} as a parameter",
                           hint="Use int, float, str, bool, None, date, datetime, time, bytes, "
                                "UUID or dict/list.")


INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1


def check_text(value: str) -> str:
    """Text must be valid UTF-8: a lone surrogate (possible in a Python str) is 22021."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise errors.sql_error(
                "22021", f'invalid byte sequence for encoding "UTF8": lone surrogate '
                         f'\\u{ord(value[exc.start]):04x} at character {exc.start + 1}') from None
    return value


def check_int(value: int) -> int:
    if value < INT64_MIN or value > INT64_MAX:
        raise errors.numeric_out_of_range()
    return value


def py_values(array) -> list:
    """An Arrow column's values in storage form: ``to_pylist`` gives an interval as
    Arrow's MonthDayNano, which the engine's rows hold as ``Interval``."""
    values = infinity.pylist(array)
    if str(array.type) == "month_day_nano_interval":
        values = [None if v is None else Interval.of(v) for v in values]
    return values


def format_date(v) -> str:
    """A DATE as PostgreSQL prints it (DateStyle ISO)."""
    return str(v) if isinstance(v, infinity.Infinite) else v.isoformat()


def format_timestamp(v) -> str:
    """A TIMESTAMP as PostgreSQL prints it: fractional seconds without trailing zeros."""
    if isinstance(v, infinity.Infinite):
        return str(v)
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    return text + (f".{v.microsecond:06d}".rstrip("0") if v.microsecond else "")


def float_numeral(text: str) -> float:
    """A finite decimal numeral as float8. Python reads one past float8's range as
    infinity (or, tiny, as 0); PostgreSQL refuses it with 22003, and so do we."""
    value = float(text)
    if value in (_INF, -_INF) or (value == 0.0 and any(
            c in "123456789" for c in text.lower().partition("e")[0])):
        raise errors.sql_error("22003",
                               f'"{text.strip()}" is out of range for type double precision')
    return value


_INF = float("inf")


_BOOL_TEXT = {"t": True, "true": True, "yes": True, "y": True, "on": True, "1": True,
              "f": False, "false": False, "no": False, "n": False, "off": False, "0": False}
_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT_TEXT = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$", re.I)
_FLOAT_WORDS = {"nan": float("nan"), "infinity": _INF, "+infinity": _INF, "-infinity": -_INF,
                "inf": _INF, "+inf": _INF, "-inf": -_INF}


def read_field(sql_type: str, text: str) -> object:
    """A composite field's text read as its type (record_in calls each field's input
    function): the storage value, or 22P02 as that type's input says."""
    if sql_type == TEXT:
        return check_text(text)
    if sql_type == INTEGER:
        if not _INT_TEXT.match(text):
            raise errors.sql_error("22P02", f'invalid input syntax for type integer: "{text}"')
        return check_int(int(text))
    if sql_type == FLOAT:
        word = _FLOAT_WORDS.get(text.strip().lower())
        if word is not None:
            return word
        if not _FLOAT_TEXT.match(text):
            raise errors.sql_error(
                "22P02", f'invalid input syntax for type double precision: "{text}"')
        return float_numeral(text)
    if sql_type == BOOLEAN:
        value = _BOOL_TEXT.get(text.strip().lower())
        if value is None:
            raise errors.sql_error("22P02", f'invalid input syntax for type boolean: "{text}"')
        return value
    if sql_type == NUMERIC:
        return numeric.encode(numeric.parse(text))
    return parse_literal_as(sql_type, text)
