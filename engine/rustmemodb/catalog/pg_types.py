"""How PostgreSQL's catalogs name and describe each engine type.

One table, used by ``information_schema.columns`` and meant for ``pg_type`` /
``format_type`` too: the SQL-standard ``data_type`` text, the ``udt_name``
(pg_type.typname) and the numeric/datetime precision columns. INTEGER is int64
here, so it is PostgreSQL's ``bigint``/``int8``; a column declared ``smallint``,
``integer``, ``numeric`` or ``real`` is described as declared (its typmod:
``DECLARED_TYPES``); JSON
is jsonb, JSONT json.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import composite, ranges, types


@dataclass(frozen=True)
class PgType:
    data_type: str                   # information_schema.columns.data_type
    udt_name: str                    # pg_type.typname
    numeric_precision: int | None = None
    numeric_precision_radix: int | None = None
    numeric_scale: int | None = None
    datetime_precision: int | None = None
    character_octet_length: int | None = None


PG_TYPES: dict[str, PgType] = {
    types.INTEGER: PgType("bigint", "int8", 64, 2, 0),
    types.FLOAT: PgType("double precision", "float8", 53, 2),
    types.TEXT: PgType("text", "text", character_octet_length=1073741824),
    types.BOOLEAN: PgType("boolean", "bool"),
    types.TIMESTAMP: PgType("timestamp without time zone", "timestamp", datetime_precision=6),
    types.TIMESTAMPTZ: PgType("timestamp with time zone", "timestamptz", datetime_precision=6),
    types.DATE: PgType("date", "date", datetime_precision=0),
    types.UUID: PgType("uuid", "uuid"),
    types.JSON: PgType("jsonb", "jsonb"),
    types.JSONT: PgType("json", "json"),
    types.INTERVAL: PgType("interval", "interval", datetime_precision=6),
    types.TIME: PgType("time without time zone", "time", datetime_precision=6),
    types.TIMETZ: PgType("time with time zone", "timetz", datetime_precision=6),
    types.NUMERIC: PgType("numeric", "numeric", None, 10),
    types.BYTEA: PgType("bytea", "bytea", character_octet_length=1073741824),
    **{r: PgType(r.lower(), r.lower()) for r in ranges.RANGE_TYPES},
    **{t: PgType(t.lower(), t.lower()) for t in types.NETWORK_TYPES + (types.MONEY,)},
    types.BIT: PgType("bit", "bit"), types.VARBIT: PgType("bit varying", "varbit"),
    types.TSVECTOR: PgType("tsvector", "tsvector"),
    types.TSQUERY: PgType("tsquery", "tsquery"),
}


# a column's declared type the engine stores wider (storage/schema.Column.typmod)
DECLARED_TYPES: dict[str, PgType] = {
    "int2": PgType("smallint", "int2", 16, 2, 0),
    "int4": PgType("integer", "int4", 32, 2, 0),
    "numeric": PgType("numeric", "numeric", None, 10),
    "float4": PgType("real", "float4", 24, 2),
}


def pg_type(sql_type: str) -> PgType:
    """The PostgreSQL description of an engine type (unknown ones by their own name)."""
    found = PG_TYPES.get(sql_type)
    if found is not None:
        return found
    if composite.is_record(sql_type):    # a composite type: described by its name
        return PgType("USER-DEFINED", composite.type_name(sql_type))
    if sql_type.endswith("[]"):          # PostgreSQL: data_type ARRAY, udt _int8, _text...
        return PgType("ARRAY", "_" + pg_type(sql_type[:-2]).udt_name)
    return PgType(sql_type.lower(), sql_type.lower())
