"""Value formats of the wire server, checked against PostgreSQL 15's output."""
from __future__ import annotations

import datetime as dt
import struct

import pytest

from rustmemodb import errors, types
from rustmemodb.server import pgtypes


@pytest.mark.parametrize("value, text", [
    (1.0, "1"), (1.5, "1.5"), (0.1, "0.1"), (1e15, "1e+15"), (123456789012345.0, "123456789012345"),
    (1e-5, "1e-05"), (0.0001, "0.0001"), (1e20, "1e+20"), (-2.5e-7, "-2.5e-07"),
    (1 / 3, "0.3333333333333333"), (100.0, "100"), (-0.0, "-0"), (float("nan"), "NaN"),
    (float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (12345.678, "12345.678"),
])
def test_float8_text_output(value, text):
    assert pgtypes.format_float(value) == text


@pytest.mark.parametrize("months, days, micros, text", [
    (0, 1, 7_200_000_000, "1 day 02:00:00"),
    (14, 3, 0, "1 year 2 mons 3 days"),
    (0, 0, 0, "00:00:00"),
    (0, -2, -1_500_000, "-2 days -00:00:01.5"),
    (1, 0, 0, "1 mon"),
    (-1, -35, 0, "-1 mons -35 days"),
    (-13, 0, 0, "-1 years -1 mons"),
])
def test_interval_text_output(months, days, micros, text):
    assert str(types.Interval(months, days, micros)) == text


def test_timestamp_and_binary_epoch():
    ts = dt.datetime(2000, 1, 1, 0, 0, 1, 500000)
    assert types.format_timestamp(ts) == "2000-01-01 00:00:01.5"
    assert pgtypes.binary_encoder(types.TIMESTAMP)(ts) == struct.pack("!q", 1_500_000)
    assert pgtypes.binary_encoder(types.DATE)(dt.date(1999, 12, 31)) == struct.pack("!i", -1)


def test_decode_params_text_and_binary():
    d = pgtypes.decode_param
    assert d(b"42", 0, 0, types.INTEGER, 0) == 42                  # OID 0: the slot's type
    assert d(b"abc", 0, 0, types.UNKNOWN, 0) == "abc"
    assert d(b"t", 0, pgtypes.BOOL, types.UNKNOWN, 0) is True
    assert d(struct.pack("!h", -3), 1, pgtypes.INT2, types.INTEGER, 0) == -3
    assert d(struct.pack("!d", 2.5), 1, pgtypes.FLOAT8, types.FLOAT, 0) == 2.5
    assert d(struct.pack("!i", 1), 1, pgtypes.DATE, types.DATE, 0) == dt.date(2000, 1, 2)
    # a timestamptz parameter is an instant (aware), whatever slot it goes to
    assert d(b"2020-01-02 03:04:05+02", 0, pgtypes.TIMESTAMPTZ, types.TIMESTAMP, 0) == \
        dt.datetime(2020, 1, 2, 1, 4, 5, tzinfo=dt.timezone.utc)
    assert d(struct.pack("!q", 3_600_000_000), 1, pgtypes.TIMESTAMPTZ, types.TIMESTAMPTZ,
             0) == dt.datetime(2000, 1, 1, 1, tzinfo=dt.timezone.utc)
    # numeric 1234.5 in binary: digits 1234, 5000; weight 0; dscale 1
    assert d(struct.pack("!hhHHHH", 2, 0, 0, 1, 1234, 5000), 1, pgtypes.NUMERIC,
             types.FLOAT, 0) == 1234.5
    assert d(None, 1, pgtypes.INT8, types.INTEGER, 0) is None
    with pytest.raises(errors.Error) as info:
        d(b"x1", 0, 0, types.INTEGER, 0)
    assert info.value.sqlstate == "22P02"
    assert d(b"\x00\xff", 1, pgtypes.BYTEA, types.UNKNOWN, 0) == b"\x00\xff"
    assert d(b"\\x00ff", 0, pgtypes.BYTEA, types.UNKNOWN, 0) == b"\x00\xff"
    assert d(struct.pack("!q", 3_600_000_001), 1, pgtypes.TIME, types.TIME, 0) == \
        dt.time(1, 0, 0, 1)
    with pytest.raises(errors.Error) as info:
        d(b"\x00", 1, 628, types.UNKNOWN, 0)          # line: no binary form here
    assert info.value.sqlstate == "0A000"
