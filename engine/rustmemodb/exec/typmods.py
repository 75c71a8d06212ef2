"""Column type modifiers: VARCHAR(n), NUMERIC(p, s), SMALLINT and INTEGER, applied to
values as they are stored.

A column declared ``varchar(3)``, ``numeric(5, 2)``, ``smallint`` or ``int`` keeps its
engine type (TEXT, NUMERIC, INTEGER: int64) plus a ``typmod`` on its schema column. Every
write path hands its new rows (Python tuples) or table (Arrow) through ``fit_rows`` / ``fit_table`` before the
constraint checks (exec/constraints.py), which return what is stored:

* VARCHAR(n) and CHAR(n) (``("bpchar", n)``): a longer value is ``22001``, unless what
  is past n characters is only spaces, which are cut (PostgreSQL's rule for an
  assignment); a CHAR(n) value is then blank-padded to n, as PostgreSQL stores it (its
  type, types.BpcharType, makes trailing blanks not count: sql/bind/bpchar.py);
* NUMERIC(p, s): rounded half away from zero to s digits (the value then shows s digits),
  ``22003`` when the digits left of the point do not fit p - s (numeric.fit);
* SMALLINT and INTEGER (``("int2",)``, ``("int4",)``: int, int4, serial): a value outside
  16 or 32 bits is ``22003``, as PostgreSQL's and DuckDB's refuse it (every integer is
  stored as int64 by design: DESIGN.md; the declared width is kept and checked);
* an enum type (``("enum", name, labels)``, CREATE TYPE ... AS ENUM): the values are
  TEXT, one of the labels, else ``22P02`` as PostgreSQL's enum input says;
* a domain (``("domain", name, base typmod, not null, ((constraint, CHECK sql), ...),
  default)``, CREATE DOMAIN, flattened over domains of domains): the base type's modifier,
  and NULL is ``23502`` when the domain is NOT NULL; its CHECKs need the binder, so
  exec/constraints.py evaluates them with the table's own;
* NUMERIC without (p, s) and REAL (``("numeric",)``, ``("float4",)``) change nothing:
  they only let the catalogs describe the column as it was declared.

A schema without modifiers costs one cached lookup per statement.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ..lazy_import import arrow as pa, compute as pc, numpy as np
from .arrays import contiguous

import datetime as _dt

from .. import bitstring, errors, infinity, numeric, numeric_arrays, timetz, types


def fit_numeric(value: float, precision: int, scale: int) -> float:
    """``value`` as NUMERIC(precision, scale) holds it (NaN passes, as in PostgreSQL).

    PostgreSQL turns a float8 into a numeric through its 15 significant digits and
    rounds that decimal half away from zero: 1.005 is "1.005" and becomes 1.01, where
    rounding the binary double (1.00499999...) would give 1.00. So do we."""
    value = float(value)
    if value != value:
        return value
    if value in (_INF, -_INF):
        raise numeric_overflow(precision, scale)
    exact = Decimal(format(value, ".15g")).quantize(Decimal(1).scaleb(-scale),
                                                     rounding=ROUND_HALF_UP)
    if not abs(exact) < Decimal(10) ** (precision - scale):
        raise numeric_overflow(precision, scale)
    return float(exact)


_INF = float("inf")


def numeric_overflow(precision: int, scale: int) -> errors.Error:
    digits = precision - scale
    return errors.sql_error(
        "22003", "numeric field overflow",
        detail=f"A field with precision {precision}, scale {scale} must round to an "
               f"absolute value less than {f'10^{digits}' if digits else '1'}.")


def fit_varchar(value: str, length: int, name: str = "character varying") -> str:
    if len(value) <= length:
        return value
    if value[length:].strip(" "):
        raise errors.sql_error("22001", f"value too long for type {name}({length})")
    return value[:length]


_LENGTH_TYPES = {"varchar": "character varying", "bpchar": "character"}


_REAL_MAX = 3.4028234663852886e38     # float4's largest finite value
_REAL_TINY = 1.401298464324817e-45    # its smallest positive (denormal) value
_INF = float("inf")


def fit_real(value: float) -> float:
    """A REAL keeps its float8 value here, but what float4 cannot hold is refused as
    PostgreSQL's float8-to-float4 conversion refuses it (22003); infinities and NaN pass."""
    if value != value or value in (_INF, -_INF):
        return value
    magnitude = abs(value)
    if magnitude > _REAL_MAX:
        raise errors.sql_error("22003", "value out of range: overflow")
    if 0 < magnitude < _REAL_TINY / 2:
        raise errors.sql_error("22003", "value out of range: underflow")
    return value


# typmod -> (lowest, highest, the type's name in PostgreSQL's error)
INT_RANGES = {"int2": (-2 ** 15, 2 ** 15 - 1, "smallint"),
              "int4": (-2 ** 31, 2 ** 31 - 1, "integer")}

_fits: dict = {}    # id(schema) -> (schema, modified, value modifiers, integer ranges)


def _acts(typmod: tuple) -> bool:
    """Whether a modifier checks or changes values (``("numeric",)`` only describes the
    column; ``("float4",)`` checks the range)."""
    return typmod[0] in ("varchar", "bpchar", "domain", "bit", "varbit", "precision",
                         "float4") or \
        len(typmod) == 3 or \
        typmod[0] in INT_RANGES


def _facts(schema) -> tuple:
    """(schema, ``modified_columns``, ``value_modifiers``, ``int_ranges``), worked out
    once per (immutable) schema object."""
    entry = _fits.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry
    found = tuple((i, c.typmod) for i, c in enumerate(schema.columns)
                  if c.typmod is not None and _acts(c.typmod))
    entry = (schema, found, tuple(m for m in found if m[1][0] not in INT_RANGES),
             tuple((i, *INT_RANGES[t[0]]) for i, t in found if t[0] in INT_RANGES))
    if len(_fits) > 4096:
        _fits.clear()
    _fits[id(schema)] = entry
    return entry


def modified_columns(schema) -> tuple:
    """((position, typmod), ...) of the schema's columns whose modifier checks or changes
    values."""
    return _facts(schema)[1]


def value_modifiers(schema) -> tuple:
    """``modified_columns`` but the integer widths: the modifiers that may change a value
    (the widths are checked apart, with ``int_ranges``)."""
    return _facts(schema)[2]


def int_ranges(schema) -> tuple:
    """((position, lowest, highest, type name), ...) of the SMALLINT and INTEGER columns."""
    return _facts(schema)[3]


def check_ranges(ranges: tuple, row: tuple) -> None:
    """22003 for a value of ``row`` outside its column's integer width (``int_ranges``)."""
    for i, low, high, name in ranges:
        v = row[i]
        if v is not None and not low <= v <= high:
            raise int_out_of_range(name)


def int_out_of_range(name: str) -> errors.Error:
    return errors.sql_error("22003", f"{name} out of range")


def enum_value(value: str, name: str, labels: tuple) -> str:
    """``value`` as enum type ``name`` takes it: one of its labels (case and spaces
    matter, as in PostgreSQL), else 22P02."""
    if value in labels:
        return value
    raise errors.sql_error("22P02", f'invalid input value for enum {name}: "{value}"')


def enum_position(value: str, name: str, labels) -> int:
    """The sort position of ``value`` among enum type ``name``'s labels (pg_enum's
    enumsortorder, from 1): what enum values compare and sort by. 22P02 for a value that
    is no label, as PostgreSQL's enum input says."""
    try:
        return labels.index(value) + 1
    except ValueError:
        raise errors.sql_error("22P02",
                               f'invalid input value for enum {name}: "{value}"') from None


def enum_positions(values, name, labels):
    """``enum_position`` over an Arrow array (or scalar): int64 positions, NULL for NULL.
    One hash lookup per value (``index_in``), so sorting an enum column costs about what
    sorting an integer column does."""
    name = name.as_py() if isinstance(name, pa.Scalar) else name
    labels = labels.as_py() if isinstance(labels, pa.Scalar) else labels
    if isinstance(values, pa.Scalar):
        v = values.as_py()
        return pa.scalar(None if v is None else enum_position(v, name, labels), pa.int64())
    found = pc.index_in(values, value_set=pa.array(labels, values.type))
    if found.null_count != values.null_count:
        bad = pc.filter(values, pc.and_(pc.is_null(found), pc.is_valid(values)))
        enum_position(bad[0].as_py(), name, labels)
    return pc.add(found.cast(pa.int64()), 1)


def enum_labels_at(positions, labels):
    """The labels at sort positions (``enum_position``'s inverse): min/max of an enum
    are taken over positions and shown as labels."""
    labels = labels.as_py() if isinstance(labels, pa.Scalar) else labels
    if isinstance(positions, pa.Scalar):
        p = positions.as_py()
        return pa.scalar(None if p is None else labels[p - 1], pa.large_string())
    return pc.take(pa.array(labels, pa.large_string()), pc.subtract(positions, 1))


def domain_not_null(name: str) -> errors.Error:
    return errors.sql_error("23502", f"domain {name} does not allow null values")


def domain_check_violation(name: str, constraint: str) -> errors.Error:
    return errors.sql_error(
        "23514", f'value for domain {name} violates check constraint "{constraint}"')


def domain_columns(schema) -> tuple:
    """((position, typmod), ...) of the schema's columns of a domain type."""
    return tuple(m for m in modified_columns(schema) if m[1][0] == "domain")


def _fit(typmod: tuple, value):
    if typmod[0] == "domain":
        if value is None:
            if typmod[3]:
                raise domain_not_null(typmod[1])
            return None
        base = typmod[2]
        return value if base is None or not _acts(base) else _fit(base, value)
    if value is None:
        return None
    if typmod[0] == "enum":
        return enum_value(value, typmod[1], typmod[2])
    if typmod[0] in _LENGTH_TYPES:
        value = fit_varchar(value, typmod[1], _LENGTH_TYPES[typmod[0]])
        return value.ljust(typmod[1]) if typmod[0] == "bpchar" else value
    if typmod[0] in ("bit", "varbit"):      # bit(n): n bits exactly; varbit(n): at most n
        return bitstring.stored_length(value, typmod[1], typmod[0] == "varbit")
    if typmod[0] == "precision":
        return round_temporal(value, typmod[1])
    if typmod[0] == "float4":
        return fit_real(value)
    bounds = INT_RANGES.get(typmod[0])
    if bounds is not None:
        if not bounds[0] <= value <= bounds[1]:
            raise int_out_of_range(bounds[2])
        return value
    if type(value) is bytes or isinstance(value, Decimal):   # a numeric (numeric.py)
        return fit_key(value, typmod[1], typmod[2])
    return fit_numeric(value, typmod[1], typmod[2])


def fit_key(key, precision: int, scale: int):
    """A numeric (key or Decimal) as NUMERIC(precision, scale) holds it (numeric.fit): a
    Decimal where the column stores decimal128 (numeric_arrays.storage_type), else a key."""
    d = numeric.fit(numeric.as_decimal(key), precision, scale)
    if numeric_arrays.storage_type(("numeric", precision, scale)) is not None and \
            d.is_finite():
        return d
    return numeric.encode(d)


_PG_EPOCH = _dt.datetime(2000, 1, 1)


def round_temporal(value, precision: int):
    """A timestamp, timestamptz or time as TIMESTAMP(p)/TIME(p) keeps it: microseconds
    rounded to ``precision`` digits, half away from zero counted from 2000-01-01 (PostgreSQL's
    AdjustTimestampForTypmod), a time of day half up; infinity stays."""
    if isinstance(value, infinity.Infinite):
        return value
    if type(value) is int:          # a timetz key (timetz.py)
        return timetz.round_to(value, precision)
    scale = 10 ** (6 - precision)
    if isinstance(value, _dt.time):
        micros = _round_away(types.time_micros(value), scale)
        return types.time_of_micros(micros, str(value))
    base = _PG_EPOCH.replace(tzinfo=value.tzinfo)
    micros = (value - base) // _dt.timedelta(microseconds=1)
    rounded = _round_away(micros, scale)
    if rounded == micros:
        return value
    try:
        return base + _dt.timedelta(microseconds=rounded)
    except OverflowError:
        raise errors.sql_error("22008", "timestamp out of range") from None


def _round_away(micros: int, scale: int) -> int:
    if micros >= 0:
        return (micros + scale // 2) // scale * scale
    return -((-micros + scale // 2) // scale * scale)


def round_temporal_array(column, precision: int):
    """``round_temporal`` over an Arrow timestamp or time column."""
    if infinity.in_arrow(column) or pa.types.is_time(column.type) or \
            pa.types.is_integer(column.type):           # times, timetz keys
        values = [None if v is None else round_temporal(v, precision)
                  for v in infinity.pylist(column)]
        return pa.array(values, column.type)
    scale = 10 ** (6 - precision)
    raw = contiguous(pc.cast(column, pa.int64())).to_numpy(zero_copy_only=False)
    if column.null_count:
        raw = np.where(pc.is_null(column).to_numpy(zero_copy_only=False), 0, raw)
    since = raw.astype(np.int64) - 946_684_800_000_000       # from 2000-01-01
    half = scale // 2
    rounded = np.where(since >= 0, (since + half) // scale * scale,
                       -((-since + half) // scale * scale)) + 946_684_800_000_000
    mask = pc.is_null(column).to_numpy(zero_copy_only=False) if column.null_count else None
    return pa.array(rounded, pa.int64(), mask=mask).cast(column.type)


def fit_rows(schema, rows: list[tuple]) -> list[tuple]:
    """The rows as the columns' modifiers store them (the same list when none change).
    Integer widths only check (a comparison per value, no copy: every int column has one)."""
    _, found, mods, ranges = _facts(schema)
    if not found:
        return rows
    if ranges:
        for row in rows:
            check_ranges(ranges, row)
    if not mods:
        return rows
    out = []
    for row in rows:
        values = None
        for i, typmod in mods:
            v = row[i]
            fitted = _fit(typmod, v)
            # a Decimal equal in value may differ in scale (1.0 into numeric(6,2) is 1.00)
            if fitted is not v and (type(fitted) is not type(v) or fitted != v or
                                    type(v) is Decimal):
                if values is None:
                    values = list(row)
                values[i] = fitted
        out.append(row if values is None else tuple(values))
    return out


def fit_table(schema, table: pa.Table) -> pa.Table:
    """The table as the columns' modifiers store it (vectorised)."""
    for i, typmod in modified_columns(schema):
        column = table.column(i)
        fitted = fit_array(typmod, column)
        if fitted is not column:
            table = table.set_column(i, pa.field(table.schema.field(i).name, fitted.type),
                                     fitted)
    return table


def fit_array(typmod: tuple | None, column):
    """An Arrow column as a column with this modifier stores it (the same object when
    no value changes)."""
    if typmod is None or not _acts(typmod):
        return column
    if typmod[0] == "domain":
        if typmod[3] and column.null_count:
            raise domain_not_null(typmod[1])
        return fit_array(typmod[2], column)
    if column.null_count == len(column):
        return column
    if typmod[0] == "float4":
        values = column.to_numpy(zero_copy_only=False)
        finite = np.isfinite(values)
        if not finite.all() or np.abs(values).max(initial=0.0) > _REAL_MAX:
            for v in values[~np.isnan(values)].tolist():
                fit_real(v)
        tiny = (values != 0) & (np.abs(values) < _REAL_TINY) & finite
        if tiny.any():
            fit_real(float(values[tiny][0]))
        return column
    bounds = INT_RANGES.get(typmod[0])
    if bounds is not None:
        extremes = pc.min_max(column)
        if extremes["min"].as_py() < bounds[0] or extremes["max"].as_py() > bounds[1]:
            raise int_out_of_range(bounds[2])
        return column
    if typmod[0] == "enum":
        unknown = pc.invert(pc.is_in(column, value_set=pa.array(typmod[2], column.type)))
        if pc.any(pc.fill_null(unknown, False)).as_py():
            enum_value(pc.filter(column, unknown)[0].as_py(), typmod[1], typmod[2])
        return column
    if typmod[0] in ("bit", "varbit"):
        lengths = pc.min_max(pc.utf8_length(column))
        if lengths["max"].as_py() > typmod[1] or (
                typmod[0] == "bit" and lengths["min"].as_py() < typmod[1]):
            for v in column.to_pylist():
                if v is not None:
                    bitstring.stored_length(v, typmod[1], typmod[0] == "varbit")
        return column
    if typmod[0] == "precision":
        return round_temporal_array(column, typmod[1])
    if typmod[0] in _LENGTH_TYPES:
        lengths = pc.min_max(pc.utf8_length(column))
        if lengths["max"].as_py() is None or lengths["max"].as_py() <= typmod[1] and (
                typmod[0] == "varchar" or lengths["min"].as_py() == typmod[1]):
            return column
        if lengths["max"].as_py() <= typmod[1]:      # character(n): blank-padded to n
            return pc.utf8_rpad(column, width=typmod[1], padding=" ")
        out = pa.array([None if v is None else fit_varchar(v, typmod[1], _LENGTH_TYPES[typmod[0]])
                        for v in infinity.pylist(column)], pa.string())
        return pc.utf8_rpad(out, width=typmod[1], padding=" ") if typmod[0] == "bpchar" \
            else out
    precision, scale = typmod[1], typmod[2]
    column = contiguous(column)
    stored = numeric_arrays.storage_type(typmod)
    if stored is not None and (numeric_arrays.is_decimal(column.type) or
                               pa.types.is_integer(column.type)):
        return numeric_arrays.fit(column, precision, scale)     # vector (numeric_arrays.py)
    if pa.types.is_binary(column.type):        # numeric keys: exact, value by value
        fitted = [None if v is None else fit_key(v, precision, scale)
                  for v in column.to_pylist()]
        if stored is not None and not any(type(v) is bytes for v in fitted):
            return pa.array(fitted, stored)
        return pa.array([v if v is None or type(v) is bytes else numeric.encode(v)
                         for v in fitted], pa.binary())
    values = column.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    valid = ~np.isnan(values)        # nulls (NaN in numpy) and NaNs stay as they are
    scaled = np.abs(values[valid]) * 10.0 ** scale
    out = np.copysign(np.floor(scaled + 0.5), values[valid]) / 10.0 ** scale
    # a double within a hair of a half: decided as PostgreSQL does (fit_numeric), by
    # its 15 significant digits; everything else rounds the same either way
    ties = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    if len(ties):
        out[ties] = [fit_numeric(v, precision, scale) for v in values[valid][ties].tolist()]
    if np.any(np.isinf(out)) or np.any(np.abs(out) >= 10.0 ** (precision - scale)):
        raise numeric_overflow(precision, scale)
    values[valid] = out
    mask = pc.is_null(column).to_numpy(zero_copy_only=False) if column.null_count else None
    return pa.array(values, pa.float64(), mask=mask)
