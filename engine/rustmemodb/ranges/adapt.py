"""A Python ``Range`` given as a parameter: its storage form and its range type.

A ``Range`` read from the database knows its kind; one made by the caller
(``Range(1, 5)``, ``Range(date1, date2, '[]')``) takes the kind its bounds' Python type
names: int -> int8range, float or Decimal -> numrange, date -> daterange, a naive
datetime -> tsrange, an aware one -> tstzrange. It is made again as PostgreSQL's
make_range would (checked, canonical), so ``Range(1, 5, '(]')`` is stored as ``[2,6)``.
"""
from __future__ import annotations

import datetime as _dt
import decimal

from .. import errors
from .codec import encode
from .kinds import DATERANGE, INT8RANGE, KINDS, NUMRANGE, TSRANGE, TSTZRANGE, RangeKind
from .value import Range, construct


def _kind_of_value(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return ""
    if isinstance(v, int):
        return INT8RANGE
    if isinstance(v, (float, decimal.Decimal)):
        return NUMRANGE
    if isinstance(v, _dt.datetime):
        return TSTZRANGE if v.tzinfo is not None and v.utcoffset() is not None else TSRANGE
    if isinstance(v, _dt.date):
        return DATERANGE
    return ""


def _bound(kind: RangeKind, v):
    if v is None:
        return None
    if kind.element == "FLOAT":
        return float(v)
    if kind.element == "TIMESTAMPTZ":
        return v.astimezone(_dt.timezone.utc)
    return v


def from_python(r: Range, expected: str | None = None) -> tuple[bytes, str]:
    """``r`` as a bound parameter: (storage bytes, SQL type). A ``Range`` of no kind
    takes the ``expected`` range type (its slot's) when there is one."""
    if r.kind is None and expected in KINDS:
        r = Range(r.lower, r.upper, r.bounds or "[)", r.empty, KINDS[expected])
    if r.kind is not None:
        kind = r.kind
    else:
        names = {_kind_of_value(r.lower), _kind_of_value(r.upper)} - {None}
        if "" in names or len(names) > 1:
            raise errors.sql_error("22023", f"cannot bind {r!r}: its bounds are of no one "
                                            "range type")
        kind = KINDS[names.pop() if names else INT8RANGE]
    if r.empty:
        return encode(kind, r), kind.name
    made = construct(kind, _bound(kind, r.lower), _bound(kind, r.upper), r.bounds)
    return encode(kind, made), kind.name
