"""CAST between SQL types, on Arrow columns and on single values.

Casts follow PostgreSQL: FLOAT -> INTEGER rounds to nearest (half to even, as
rint), text -> number parses strictly (``22P02`` on junk), anything -> TEXT
prints in PostgreSQL's output format (``true``/``false``, ISO dates), and
DATE <-> TIMESTAMP goes through midnight. Unsupported pairs are rejected at
bind time by ``castable``.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from ...lazy_import import arrow as pa, compute as pc

from ... import (bitstring, composite, errors, infinity, money, netaddr, numeric,
                  numeric_arrays, ranges, timetz, types)
from ..expr.rowwise import map_rows
from ..semantics import translate
from . import netcast

I, F, T, B, D, TS, U, J, IV, N = (types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN,
                                  types.DATE, types.TIMESTAMP, types.UUID, types.JSON,
                                  types.INTERVAL, types.NULL)
TM, BY, TZ, JT = types.TIME, types.BYTEA, types.TIMESTAMPTZ, types.JSONT
TSV, TSQ = types.TSVECTOR, types.TSQUERY

_ALLOWED = {
    I: {I, F, T, B}, F: {I, F, T}, T: {I, F, T, B, D, TS, U, J, IV, TM, BY, TZ, JT, TSV, TSQ},
    B: {B, I, T}, D: {D, TS, T, TZ}, TS: {TS, D, T, TM, TZ}, U: {U, T},
    J: {J, T, I, F, B, JT}, JT: {JT, J, T},     # json has no casts to scalars (42846)
    IV: {IV, T, TM}, TM: {TM, T, IV}, BY: {BY, T}, TZ: {TZ, TS, D, T, TM},
    TSV: {TSV, T}, TSQ: {TSQ, T},
}
_ALLOWED[T] |= set(types.NETWORK_TYPES)
_ALLOWED.update(netcast.ALLOWED)
# money: from text, integers and numeric (FLOAT here); to text and numeric
MONEY = types.MONEY
_ALLOWED[T].add(MONEY)
_ALLOWED[I].add(MONEY)
_ALLOWED[F].add(MONEY)
_ALLOWED[MONEY] = {MONEY, T, F}
# bit strings: from text, each other and integers (bind_expr fits an integer's low bits
# to bit(n)); to text, each other and integers
BIT, VARBIT = types.BIT, types.VARBIT
_ALLOWED[T] |= {BIT, VARBIT}
_ALLOWED[I].add(BIT)
_ALLOWED[BIT] = {BIT, VARBIT, T, I}
_ALLOWED[VARBIT] = {BIT, VARBIT, T, I}
# timetz: from text, time and timestamptz; to text and time (timetz.py)
TTZ = types.TIMETZ
_ALLOWED[T].add(TTZ)
_ALLOWED[TM].add(TTZ)
_ALLOWED[TZ].add(TTZ)
_ALLOWED[TTZ] = {TTZ, T, TM}
# numeric: to and from text, integers, float8, money and jsonb (numeric.py)
NU = types.NUMERIC
for _t in (T, I, F, MONEY, J):
    _ALLOWED[_t].add(NU)
_ALLOWED[NU] = {NU, T, I, F, MONEY}


def castable(src: str, dst: str) -> bool:
    if src in (N, types.UNKNOWN):
        return True
    if types.is_array(src) and types.is_array(dst):     # element by element
        return castable(types.element_type(src), types.element_type(dst))
    if types.is_array(src) or types.is_array(dst):      # only to and from text
        return T in (src, dst)
    if composite.is_record(src) or composite.is_record(dst):
        # composite values: to and from text, or to a composite of as many fields each
        # castable (ROW(1, 'x')::pair)
        if src == dst or T in (src, dst):
            return True
        if not (composite.is_record(src) and composite.is_record(dst)):
            return False
        sf, df = composite.fields_of(src), composite.fields_of(dst)
        return len(sf) == len(df) and all(castable(a, b) for (_, a), (_, b) in zip(sf, df))
    if ranges.is_range(src) or ranges.is_range(dst):    # ranges: only to and from text
        return src == dst or T in (src, dst)
    return src in (N, types.UNKNOWN) or dst in _ALLOWED.get(src, ())


def cast_row(value, src: str, dst: str):
    if value is None or src == dst:
        return value
    if types.is_array(src) and types.is_array(dst):
        es, ed = types.element_type(src), types.element_type(dst)
        return [cast_row(v, es, ed) for v in value]
    if dst == T:
        return to_text(value, src)
    if src == T:
        return from_text(value, dst)
    if composite.is_record(src):         # to another composite: field by field
        return composite.encode(dst, [cast_row(v, a, b) for v, (_, a), (_, b) in zip(
            composite.decode(src, value), composite.fields_of(src), composite.fields_of(dst))])
    if src == NU or dst == NU:
        return _numeric_cast(value, src, dst)
    if dst == TTZ:                # time_timetz / timestamptz_timetz
        if isinstance(value, infinity.Infinite):
            return None
        return timetz.of_time(types.time_micros(value)) if src == TM else \
            timetz.of_instant(value)
    if src == TTZ:                # timetz_time: the zone dropped
        return types.time_of_micros(timetz.local_micros(value))
    if dst == MONEY:              # numeric_cash / int8_cash
        return money.of_number(value)
    if src in (BIT, VARBIT):      # to the other bit type (the same text) or bittoint8
        return bitstring.to_int(value) if dst == I else value
    if dst == BIT and src == I:   # bitfromint8 (bind_expr gives the length)
        return bitstring.of_int(value, 64)
    if src == MONEY:              # cash_numeric (numeric is float8 here)
        return money.to_number(value)
    if src == JT and dst == J:      # json -> jsonb: normalized as jsonb stores it
        return types.parse_json(value)
    if src == J and dst == JT:      # jsonb -> json: jsonb's text
        return value
    if src == J:
        return _from_jsonb(value, dst)
    if dst == I:
        if src == F:
            if math.isnan(value) or math.isinf(value):
                raise errors.numeric_out_of_range("bigint")
            return types.check_int(int(round(value)))
        if src == B:
            return int(value)
        return value
    if dst == F:
        return float(value)
    if dst == B and src == I:
        return value != 0
    if isinstance(value, infinity.Infinite):
        return _cast_infinite(value, dst)
    if dst == TS and src == D:
        return dt.datetime(value.year, value.month, value.day)
    if dst == D and src == TS:
        return value.date()
    if dst == TZ:    # a wall-clock time read in the session's TimeZone
        if src == D:
            value = dt.datetime(value.year, value.month, value.day)
        return types.local_to_instant(value)
    if src == TZ:    # the instant's wall-clock time in the session's TimeZone
        local = types.instant_to_local(value)
        return local if dst == TS else local.date() if dst == D else \
            local.time() if dst == TM else value
    if dst == TM:
        if src == TS:
            return value.time()
        if src == IV:    # PostgreSQL: the interval's time part, modulo a day
            iv = value if isinstance(value, types.Interval) else types.Interval.of(value)
            return types.time_of_micros(iv.micros % 86_400_000_000)
    if dst == IV and src == TM:
        return types.Interval(0, 0, types.time_micros(value))
    if src in netcast.ALLOWED:
        return netcast.cast(value, src, dst)
    return value


def _numeric_cast(value, src: str, dst: str):
    """numeric to and from integers (rounded half away from zero), float8 (15 digits
    in, as float8_numeric), money and jsonb numbers."""
    if src == NU:
        d = numeric.decode(value)
        if dst == I:
            return numeric.to_int(d)
        if dst == F:
            return numeric.to_float(d)
        if dst == MONEY:
            return money.of_number(d)
        return value
    if src == MONEY:
        return numeric.encode(money.to_decimal(value))
    if src == J:
        v = types.load_jsonb(value)
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
            _from_jsonb(value, NU)        # the error naming the document's kind
        return numeric.encode(numeric.as_decimal(v))
    return numeric.of_python(value)


def _cast_infinite(value: infinity.Infinite, dst: str):
    """An infinite date/timestamp cast to another temporal type stays infinite; to a
    time of day it has none (PostgreSQL: NULL)."""
    if dst in (D, TS, TZ):
        return infinity.as_kind(value, dst)
    if dst == TM:
        return None
    return value


_SQL_NAMES = {I: "bigint", F: "double precision", B: "boolean", NU: "numeric"}


def _from_jsonb(doc: str, dst: str):
    """``doc::int`` / ``::float8`` / ``::boolean`` of a jsonb scalar (PostgreSQL 11+): a
    number or a boolean as itself (a number is numeric: to an integer rounded half away
    from zero, exactly), any other kind of document 22023 naming it."""
    v = types.load_jsonb(doc)
    want_bool = dst == B
    if isinstance(v, bool) == want_bool and isinstance(v, (bool, int, Decimal)):
        if dst == I:
            return types.check_int(v) if type(v) is int else numeric.to_int(v)
        if dst == F:
            return float(v) if type(v) is int else numeric.to_float(v)
        return v
    kind = ("null" if v is None else "string" if isinstance(v, str) else "boolean"
            if isinstance(v, bool) else "numeric" if isinstance(v, (int, Decimal)) else
            "array" if isinstance(v, list) else "object")
    raise errors.sql_error("22023", f"cannot cast jsonb {kind} to type {_SQL_NAMES[dst]}")


def to_text(value, src: str) -> str:
    if types.is_array(src):
        from .array import format_array     # array text nests element text: mutual
        return format_array(value, types.element_type(src))
    if src == B:
        return "true" if value else "false"
    if src == F:
        return format_float(value)
    if src == TS:
        return types.format_timestamp(value)
    if src == TZ:
        return types.format_timestamptz(value)
    if src == D:
        return types.format_date(value)
    if src == TM:
        return types.format_time(value)
    if src == BY:
        return types.format_bytea(value)
    if src in ranges.KINDS:
        kind = ranges.KINDS[src]
        return ranges.format_range(kind, ranges.decode(kind, value))
    if composite.is_record(src):
        return composite.format_record(src, value)
    if src in netcast.ALLOWED:
        return netaddr.as_text(src, value)
    if src == MONEY:
        return money.format(value)
    if src == TTZ:
        return timetz.format(value)
    if src == NU:
        return numeric.text_of(value)
    return str(value)


format_float = composite.float_text     # a float8's text, as in records


_TRUE = {"t", "true", "yes", "y", "on", "1"}
_FALSE = {"f", "false", "no", "n", "off", "0"}


def from_text(text: str, dst: str):
    if types.is_array(dst):
        from .array import parse_array_literal
        return parse_array_literal(text, types.element_type(dst))
    s = text.strip()
    try:
        if dst in (I, F) and ("_" in s or not s.isascii()):
            raise ValueError(s)    # Python reads 1_000 and non-ASCII digits; PostgreSQL not
        if dst == I:
            return types.check_int(int(s))
        if dst == F:
            low = s.lower().lstrip("+")
            if low in ("nan", "infinity", "-infinity", "inf", "-inf"):
                return float(low.replace("infinity", "inf"))
            return types.float_numeral(s)
    except ValueError:
        raise errors.invalid_text("bigint" if dst == I else "double precision", text) from None
    if dst == B:
        low = s.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise errors.invalid_text("boolean", text)
    if dst == NU:
        return numeric.encode(numeric.parse(text))
    return types.parse_literal_as(dst, text)


def cast_vector(value, src: str, dst: str):
    if src == dst:
        return value
    target = types.arrow_type(dst)
    if src in (N, types.UNKNOWN):
        return value.cast(target) if not isinstance(value, pa.Scalar) else pa.scalar(None, target)
    try:
        if src == F and dst == I:
            return pc.cast(pc.round(value, round_mode="half_to_even"), pa.int64())
        if (src, dst) == (I, F):
            return pc.cast(value, target, safe=False)    # rounds past 2**53, like PG
        if (src, dst) == (B, I):
            return pc.cast(value, target)
        if TZ in (src, dst) and src in (TS, TZ) and dst in (TS, TZ) and \
                types.session_zone_is_utc():
            return pc.cast(value, target)     # the same microseconds: a zone label only
        if (src, dst) in ((D, TS), (TS, D)) and not infinity.in_arrow(value):
            return pc.cast(value, target)
        if (dst == T and src in (I, U, J, JT, TSV, TSQ)) or (src, dst) == (J, JT):
            return pc.cast(value, target)     # the same text
        if NU in (src, dst) and not isinstance(value, pa.Scalar):
            out = _numeric_vector_cast(value, src, dst, target)
            if out is not None:
                return out
        if types.is_array(src) and types.is_array(dst) and \
                (types.element_type(src), types.element_type(dst)) in ((I, F),):
            return pc.cast(value, target, safe=False)
    except pa.ArrowInvalid as exc:
        raise translate(exc) from None
    return map_rows(lambda v: cast_row(_interval_in(v, src), src, dst), [value],
                    out_type=target)


def _numeric_vector_cast(value, src: str, dst: str, target):
    """Casts of numeric's vector form (numeric_arrays.py), or None (by rows): integers
    to numeric (scale 0), numeric to float8, text and integers (rounded half away from
    zero; 22003 past bigint)."""
    if src == I and dst == NU:
        return numeric_arrays.from_integers(value)
    if src != NU or not numeric_arrays.is_decimal(value.type):
        return None
    if dst == F:
        return pc.cast(value, pa.float64())
    if dst == T:
        return pc.cast(pc.cast(value, pa.string()), target)
    if dst == I:
        rounded = pc.round(value, ndigits=0, round_mode="half_towards_infinity")
        try:
            return pc.cast(rounded, pa.int64())
        except pa.ArrowInvalid:
            raise errors.numeric_out_of_range("bigint") from None
    return None


def _interval_in(v, src):
    if src == IV and not isinstance(v, types.Interval):
        return types.Interval.of(v)
    return v
