"""Type modifiers written in SQL: VARCHAR(n) and NUMERIC(p, s) / DECIMAL(p, s), the
enum types of the catalog (CREATE TYPE ... AS ENUM: TEXT values kept to its labels) and
its domains (CREATE DOMAIN: a base type's values kept to a default and constraints).

Read from sqlglot's DataType nodes for casts (bind_expr: ``x::varchar(3)`` cuts,
``x::numeric(5, 2)`` rounds) and for column definitions (bind_ddl, bind_alter: the
``typmod`` a column keeps, applied as values are stored by exec/typmods.py).
"""
from __future__ import annotations

from sqlglot import exp

from ... import composite, errors, types
from ...storage.root import domain_typmod
from ..parse import parse_one, position_of


def user_type_name(dt) -> str | None:
    """The name a type sqlglot does not know is written with (``mood``, ``public.mood``;
    also parse.OID_ARRAY, the ``oid[]`` marker), else None."""
    if not isinstance(dt, exp.DataType) or dt.this != exp.DataType.Type.USERDEFINED:
        return None
    kind = dt.args.get("kind")
    if isinstance(kind, exp.Dot):
        if kind.this.name.lower() not in ("public", "pg_catalog"):
            return None
        kind = kind.expression
    return kind.name if isinstance(kind, exp.Identifier) else None


def enum_typmod(root, dt) -> tuple | None:
    """("enum", name, labels) when ``dt`` names an enum type of ``root``, else None."""
    name = user_type_name(dt)
    labels = None if name is None or root is None else root.enums.get(name)
    return None if labels is None else ("enum", name, labels)


def composite_of(root, dt, deps: list | None = None) -> str | None:
    """The type string (composite.py) of the composite type ``dt`` names in ``root``: a
    CREATE TYPE ... AS (...) or a table's row type; else None."""
    name = user_type_name(dt)
    if name is None or root is None:
        return None
    sql_type = root.composites.get(name)
    if sql_type is None and name in root.tables:
        sql_type = row_type(name, root.tables[name].schema.columns)
    if sql_type is not None and deps is not None:
        deps.append(("composite", name, root.composites.get(name)) if name in root.composites
                     else ("table", name, root.tables[name].schema))
    return sql_type


def row_type(name: str, columns) -> str:
    """A table's row type: a composite of its columns (0A000 for a column type a
    composite field cannot have)."""
    for c in columns:
        composite.check_field_type(c.type, c.name)
    return composite.record_type(name, [(c.name, c.type) for c in columns])


def domain_of(root, dt):
    """The DomainDef (storage/root.py) ``dt`` names in ``root``, else None; an array of
    a domain is 0A000."""
    if root is not None and root.domains and isinstance(dt, exp.DataType) \
            and dt.this == exp.DataType.Type.ARRAY and dt.expressions \
            and domain_of(root, dt.expressions[0]) is not None:
        raise errors.not_supported("arrays of a domain",
                                   hint="Use an array of the domain's base type.")
    name = user_type_name(dt)
    return None if name is None or root is None else root.domains.get(name)


def domain_base(domain) -> exp.DataType:
    """A domain's base type as a DataType node (parsed as a cast's target is)."""
    return parse_one(f"SELECT CAST(NULL AS {domain.base})").expressions[0].to.copy()


def value_as(sql: str, replacement: exp.Expression) -> exp.Expression:
    """A domain CHECK's expression with each VALUE replaced by ``replacement``."""
    node = parse_one(f"SELECT {sql}").expressions[0].copy()

    def swap(n):
        if isinstance(n, exp.Column) and not n.table and not n.this.quoted \
                and n.name.lower() == "value":
            return replacement.copy()
        return n
    return node.transform(swap)


def declared_type(stmt, dt, node=None) -> tuple[str, tuple | None]:
    """(engine type, typmod) of a column declared with type ``dt``: an enum type is TEXT
    kept to its labels, a domain its base type's with its constraints; others as
    ``types.normalize_type_name`` and ``column_typmod``."""
    return _declared(getattr(stmt, "root", None), dt, node)


def _declared(root, dt, node) -> tuple[str, tuple | None]:
    record = composite_of(root, dt)
    if record is not None:
        return record, None
    if isinstance(dt, exp.DataType) and dt.this == exp.DataType.Type.ARRAY and \
            dt.expressions and composite_of(root, dt.expressions[0]) is not None:
        raise errors.not_supported("arrays of a composite type as a column type",
                                   hint="Store the records in a child table.")
    enum = enum_typmod(root, dt)
    if enum is not None:
        return types.TEXT, enum
    domain = domain_of(root, dt)
    if domain is not None:
        return domain.type, domain_typmod(root.domains, domain.name)
    return types.normalize_type_name(dt.sql(dialect="postgres")), column_typmod(dt, node)


def varchar_length(dt) -> int | None:
    """n of VARCHAR(n) (CHARACTER VARYING(n)), else None."""
    if not isinstance(dt, exp.DataType) or dt.this != exp.DataType.Type.VARCHAR \
            or not dt.expressions:
        return None
    param = dt.expressions[0]
    value = param.this if isinstance(param, exp.DataTypeParam) else param
    return int(value.this) if isinstance(value, exp.Literal) and not value.is_string else None


def char_length(dt, node=None) -> int | None:
    """n of CHAR(n) / CHARACTER(n), 1 for CHAR alone (as in PostgreSQL; ``bpchar`` has no
    length), else None; 22023 for n < 1."""
    if not isinstance(dt, exp.DataType) or dt.this != exp.DataType.Type.CHAR:
        return None
    length = _number_param(dt) if dt.expressions else 1
    if length is not None and length < 1:
        raise errors.sql_error("22023", "length for type char must be at least 1",
                               position=position_of(node) if node else None)
    return length


def numeric_typmod(dt, node=None) -> tuple[int, int] | None:
    """(precision, scale) of NUMERIC(p[, s]) / DECIMAL(p[, s]), else None; 22023 for a
    precision or scale PostgreSQL 15 refuses."""
    if not isinstance(dt, exp.DataType) or dt.this not in (
            exp.DataType.Type.DECIMAL, getattr(exp.DataType.Type, "NUMERIC", None)) \
            or not dt.expressions:
        return None
    values = []
    for param in dt.expressions[:2]:
        value = param.this if isinstance(param, exp.DataTypeParam) else param
        if not isinstance(value, exp.Literal) or value.is_string:
            return None
        values.append(int(value.this))
    precision, scale = values[0], values[1] if len(values) > 1 else 0
    if not 1 <= precision <= 1000:
        raise errors.sql_error("22023", f"NUMERIC precision {precision} must be between 1 "
                               "and 1000", position=position_of(node) if node else None)
    if not -1000 <= scale <= 1000:
        raise errors.sql_error("22023", f"NUMERIC scale {scale} must be between -1000 and "
                               "1000", position=position_of(node) if node else None)
    return precision, scale


# declared types the engine stores wider, kept so values are checked (smallint, integer)
# and the catalogs describe the column as declared (exec/typmods.py); INTEGER is stored
# as int64 by design
_DECLARED = {exp.DataType.Type.SMALLINT: ("int2",), exp.DataType.Type.SMALLSERIAL: ("int2",),
             exp.DataType.Type.INT: ("int4",), exp.DataType.Type.SERIAL: ("int4",),
             exp.DataType.Type.DECIMAL: ("numeric",), exp.DataType.Type.FLOAT: ("float4",)}


def bit_typmod(dt, node=None) -> tuple | None:
    """("bit", n) of BIT[(n)] (n is 1 when not written, as in PostgreSQL), ("varbit", n) of
    BIT VARYING(n) / VARBIT(n), None for a bare VARBIT or another type; 22023 for n < 1."""
    if not isinstance(dt, exp.DataType):
        return None
    if dt.this == exp.DataType.Type.BIT:
        kind = "bit"
    elif (user_type_name(dt) or "").lower() == "varbit":
        kind = "varbit"
    else:
        return None
    if not dt.expressions:
        return ("bit", 1) if kind == "bit" else None
    n = _number_param(dt)
    if n is None:
        return None
    if n < 1:
        raise errors.sql_error("22023", f"length for type {'bit' if kind == 'bit' else 'varbit'}"
                                        " must be at least 1",
                               position=position_of(node) if node else None)
    return (kind, n)


_TEMPORAL = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIME,
             exp.DataType.Type.TIMETZ)


def time_precision(dt, node=None) -> int | None:
    """p of TIMESTAMP(p) / TIMESTAMPTZ(p) / TIME(p) when it rounds (0 to 5), else None:
    6 and more keep microseconds (PostgreSQL reduces a larger p to 6, with a warning);
    a negative p is 22023."""
    if not isinstance(dt, exp.DataType) or dt.this not in _TEMPORAL or not dt.expressions:
        return None
    p = _number_param(dt)
    if p is None:
        return None
    if p < 0:
        name = "TIME" if dt.this in (exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ) \
            else "TIMESTAMP"
        raise errors.sql_error("22023", f"{name}({p}) precision must not be negative",
                               position=position_of(node) if node else None)
    return p if p < 6 else None


def _number_param(dt: exp.DataType) -> int | None:
    """The type's first modifier when it is a number (``bit(4)``, ``timestamp(3)``)."""
    param = dt.expressions[0]
    value = param.this if isinstance(param, exp.DataTypeParam) else param
    if not isinstance(value, exp.Literal) or value.is_string:
        return None
    return int(value.this)


def column_typmod(dt, node=None) -> tuple | None:
    """The ``typmod`` a column of this declared type keeps (storage/schema.Column)."""
    bits = bit_typmod(dt, node)
    if bits is not None:
        return bits
    if isinstance(dt, exp.DataType) and not dt.expressions and dt.this in _DECLARED:
        return _DECLARED[dt.this]
    precision = time_precision(dt, node)
    if precision is not None:
        return ("precision", precision)
    length = varchar_length(dt)
    if length is not None:
        if length < 1:
            raise errors.sql_error("22023", "length for type varchar must be at least 1",
                                   position=position_of(node) if node else None)
        return ("varchar", length)
    length = char_length(dt, node)
    if length is not None:
        return ("bpchar", length)
    numeric = numeric_typmod(dt, node)
    return ("numeric", *numeric) if numeric is not None else None
