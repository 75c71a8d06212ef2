"""The six built-in range types of PostgreSQL 15 and what each is made of.

A range kind names its SQL type (``INT4RANGE`` ...), the SQL type of its bounds, whether
it is discrete (int4range, int8range and daterange have a canonical form ``[)``; the
others keep the bounds as written), and its wire identity (pg_type oid, array oid).
The engine has one integer type (int64) and one number type (float8): int4range keeps
its bounds to int4's range when they are read, numrange's bounds are FLOAT (there is
no NUMERIC here, so ``1.50`` prints as ``1.5``).
"""
from __future__ import annotations

from dataclasses import dataclass


INT4RANGE = "INT4RANGE"
INT8RANGE = "INT8RANGE"
NUMRANGE = "NUMRANGE"
DATERANGE = "DATERANGE"
TSRANGE = "TSRANGE"
TSTZRANGE = "TSTZRANGE"


@dataclass(frozen=True)
class RangeKind:
    name: str            # our SQL type name
    element: str         # the SQL type of the bounds
    discrete: bool       # canonical form [) with a successor function
    oid: int             # pg_type.oid
    array_oid: int       # pg_type.oid of its array type
    element_oid: int     # pg_type.oid of PostgreSQL's subtype (int4 for int4range)

    @property
    def pg_name(self) -> str:
        return self.name.lower()


KINDS = {k.name: k for k in (
    # element names are types.INTEGER ...; spelled out, as types imports this package
    RangeKind(INT4RANGE, "INTEGER", True, 3904, 3905, 23),
    RangeKind(INT8RANGE, "INTEGER", True, 3926, 3927, 20),
    RangeKind(NUMRANGE, "FLOAT", False, 3906, 3907, 1700),
    RangeKind(DATERANGE, "DATE", True, 3912, 3913, 1082),
    RangeKind(TSRANGE, "TIMESTAMP", False, 3908, 3909, 1114),
    RangeKind(TSTZRANGE, "TIMESTAMPTZ", False, 3910, 3911, 1184),
)}
RANGE_TYPES = tuple(KINDS)

INT4_MIN, INT4_MAX = -2 ** 31, 2 ** 31 - 1


def is_range(sql_type: str) -> bool:
    return sql_type in KINDS


def kind_of(sql_type: str) -> RangeKind:
    return KINDS[sql_type]
