"""Unit tests of pgcheck's SQL and value mapping (no PostgreSQL needed)."""

import decimal

from .pgcheck import map_types, normalize_pg_value
from .render import render_value


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



