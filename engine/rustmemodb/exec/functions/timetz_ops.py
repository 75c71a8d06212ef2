"""Operators and functions of ``timetz`` (ordered int64 keys; timetz.py), as PostgreSQL's
date.c has them.

timetz ± interval (only the interval's time part, modulo a day), date + timetz (a
timestamptz), AT TIME ZONE,
extract/date_part, ``::timetz(p)``, timetz compared with time (the time takes the
session zone's offset) and ``value_out`` (the text functions that print their arguments
use: bind/network_args.py). Comparisons of two timetz, min/max, ORDER BY and indexes are
the integer ones on the key. A key is an int at row level, so these overloads are
registered after (and so tried before) the numeric ones and resolve on TIMETZ only.
"""
from __future__ import annotations

import datetime as dt
import operator

from ... import errors, infinity, timetz, types
from ...lazy_import import arrow as pa
from ..expr.rowwise import map_rows
from .datetime import _INT_FIELDS, _interval_zone, field_name, zone_argument
from .registry import ScalarFunction, fixed
from .string import _rows

TTZ, IV, T, I, F = types.TIMETZ, types.INTERVAL, types.TEXT, types.INTEGER, types.FLOAT
TM, B, D, TZ = types.TIME, types.BOOLEAN, types.DATE, types.TIMESTAMPTZ


def _micros(iv) -> int:
    return (iv if isinstance(iv, types.Interval) else types.Interval.of(iv)).micros


def _at_zone(zone, key: int) -> int:
    z = _interval_zone(zone if isinstance(zone, types.Interval) else types.Interval.of(zone)) \
        if not isinstance(zone, str) else zone_argument(zone)
    return timetz.at_zone(key, z)


def _part(field: str, key: int) -> float | int:
    unit = field_name(field)
    value = timetz.part(key, unit)
    if value is None:
        raise errors.sql_error("0A000", f'unit "{unit}" not supported for type time with '
                                        "time zone")
    return int(value) if unit in _INT_FIELDS else float(value)


def _part_vec(field_s, keys):
    """date_part over a column: an int64 column for the integer fields (the binder types
    extract(hour ...) as an integer), else float64."""
    field = field_name(infinity.pyscalar(field_s)) if isinstance(field_s, pa.Scalar) else None
    return map_rows(_part, [field_s, keys],
                    out_type=pa.int64() if field in _INT_FIELDS else pa.float64())


def _key(v) -> int:
    """A comparison operand as a timetz key: a time takes the session zone's offset (the
    implicit cast PostgreSQL applies to ``timetz = time``)."""
    return timetz.of_time(types.time_micros(v)) if isinstance(v, dt.time) else v


def _date_plus(day, key: int):
    """date + timetz: the instant that local time and offset name on that day."""
    if isinstance(day, infinity.Infinite):
        return infinity.as_kind(day, TZ)
    micros, east = timetz.decode(key)
    local = dt.datetime(day.year, day.month, day.day) + dt.timedelta(microseconds=micros)
    try:
        return (local - dt.timedelta(seconds=east)).replace(tzinfo=dt.timezone.utc)
    except OverflowError:
        raise errors.sql_error("22008", "timestamp out of range") from None


def register(reg) -> None:
    def add(name, resolve, row, out="int64"):
        reg.add(ScalarFunction(name, resolve, _rows(row, out), row))
    for name, op in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt),
                     ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge)):
        add(name, fixed((TTZ, TM, B), (TM, TTZ, B)),
            lambda a, b, op=op: op(_key(a), _key(b)), "bool_")
    # the output function, for functions that print their arguments (bind/network_args)
    add("value_out", fixed((TTZ, T)), timetz.format, "large_string")
    each = (lambda a: [None if v is None else timetz.format(v) for v in a])
    reg.add(ScalarFunction("value_out", fixed((TTZ + "[]", T + "[]")), lambda a: map_rows(
        each, [a], out_type=pa.list_(pa.large_string())), each))
    reg.add(ScalarFunction("add", fixed((D, TTZ, TZ)), lambda *a: map_rows(
        _date_plus, list(a), out_type=types.arrow_type(TZ)), _date_plus))
    reg.add(ScalarFunction("add", fixed((TTZ, D, TZ)), lambda *a: map_rows(
        lambda k, d: _date_plus(d, k), list(a), out_type=types.arrow_type(TZ)),
        lambda k, d: _date_plus(d, k)))
    add("add", fixed((TTZ, IV, TTZ)), lambda k, iv: timetz.plus_micros(k, _micros(iv)))
    add("add", fixed((IV, TTZ, TTZ)), lambda iv, k: timetz.plus_micros(k, _micros(iv)))
    add("sub", fixed((TTZ, IV, TTZ)), lambda k, iv: timetz.plus_micros(k, -_micros(iv)))
    add("timezone", fixed((T, TTZ, TTZ), (IV, TTZ, TTZ)), _at_zone)
    reg.add(ScalarFunction("date_part", fixed((T, TTZ, F)), _part_vec, _part))
    add("time_round", fixed((TTZ, I, TTZ)), lambda k, p: timetz.round_to(k, p))
