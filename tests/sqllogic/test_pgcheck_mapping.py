"""Unit tests of pgcheck's SQL and value mapping (no PostgreSQL needed)."""

import decimal

from .pgcheck import map_types, normalize_pg_value


def test_type_names_are_mapped_outside_literals():
    # json and jsonb are both types of the engine: JSON is sent as written
    sql = (
        "CREATE TABLE t (a INTEGER, b float, c Json, d TEXT, \"INTEGER\" INTEGER, "
        "json_col JSON) -- INTEGER\n; SELECT 'INTEGER', CAST(x AS integer), y::FLOAT, 'it''s FLOAT'"
    )
    assert map_types(sql) == (
        "CREATE TABLE t (a INTEGER, b DOUBLE PRECISION, c Json, d TEXT, \"INTEGER\" INTEGER, "
        "json_col JSON) -- INTEGER\n; SELECT 'INTEGER', CAST(x AS integer), y::DOUBLE PRECISION, "
        "'it''s FLOAT'"
    )


def test_numeric_is_normalised():
    assert normalize_pg_value(decimal.Decimal("6")) == 6
    assert isinstance(normalize_pg_value(decimal.Decimal("6.000")), int)
    assert normalize_pg_value(decimal.Decimal("2.5000000000000000")) == 2.5
    assert normalize_pg_value("x") == "x"
