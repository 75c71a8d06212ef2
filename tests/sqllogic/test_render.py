"""Unit tests of value rendering (no engine needed)."""

import datetime as dt
import decimal
import uuid

import pytest

from .render import render_float, render_value


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "NULL"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (9223372036854775807, "9223372036854775807"),
        ("abc", "abc"),
        ("", "(empty)"),
        ("a\tb\nc", "a\\tb\\nc"),
        ("NULL", "NULL"),
        (dt.date(1998, 9, 2), "1998-09-02"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 120000), "2024-01-02 03:04:05.12"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 1), "2024-01-02 03:04:05.000001"),
        (dt.time(1, 2, 3), "01:02:03"),
        (dt.timedelta(days=1, hours=2), "1 day 02:00:00"),
        (dt.timedelta(days=3), "3 days"),
        (uuid.UUID("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ({"a": 1, "b": [1, 2]}, '{"a": 1, "b": [1, 2]}'),
        ([1, "x", None, True], '[1, "x", null, true]'),
        ({}, "{}"),
        ({"é": "ü"}, '{"é": "ü"}'),
        (decimal.Decimal("2.50"), "2.50"),
        (decimal.Decimal("NaN"), "NaN"),
        (b"\x01\xff", "\\x01ff"),
    ],
)
def test_render_value(value, text):
    assert render_value(value) == text


@pytest.mark.parametrize(
    "value, text",
    [
        (3.0, "3"),
        (-3.0, "-3"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1 / 3, "0.3333333333333333"),
        (100.0, "100"),
        (1e14, "100000000000000"),
        (1e15, "1e+15"),
        (1.5e16, "1.5e+16"),
        (1e-4, "0.0001"),
        (1.25e-4, "0.000125"),
        (1e-5, "1e-05"),
        (-1.5e-7, "-1.5e-07"),
        (1e300, "1e+300"),
        (0.0, "0"),
        (-0.0, "-0"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (float("nan"), "NaN"),
    ],
)
def test_render_float_like_postgres(value, text):
    assert render_float(value) == text
    assert render_value(value) == text
