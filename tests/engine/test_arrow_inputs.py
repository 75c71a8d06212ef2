"""pandas/Arrow inputs and Python parameters the engine's types cannot hold.

Errors name the object, the column and the first offending value, carry a
SQLSTATE (42804 mixed types or no SQL type, 22003 out of range), and leave
nothing behind: the next query works, and a fixed DataFrame is read afresh.
"""
import datetime as dt

from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.api.arrow_io import to_arrow_table


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a BIGINT)")     # the engine's int64 bounds
    return c


def error_of(fn, *args):
    with pytest.raises(rustmemodb.Error) as info:
        fn(*args)
    return info.value


def test_mixed_object_column_names_column_and_first_bad_value(conn):
    df = pd.DataFrame({"ok": [1, 2, 3], "x": [1, "two", 3.0]})
    e = error_of(conn.register, "df", df)
    assert e.sqlstate == "42804"
    assert '"x"' in str(e) and '"df"' in str(e) and "'two'" in str(e) and "row 1" in str(e)
    assert "Traceback" not in str(e) and len(str(e).splitlines()) <= 3
    # nothing was registered, later queries work, and the fixed frame registers
    assert error_of(conn.execute, "SELECT * FROM df").sqlstate == "42P01"
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    df["x"] = df["x"].astype(str)
    conn.register("df", df)
    assert conn.execute("SELECT x FROM df ORDER BY ok").fetchall() == [("1",), ("two",), ("3.0",)]


def test_replacement_scan_errors_do_not_poison_later_queries(conn):
    frames = {"v": pd.DataFrame({"x": [dt.date(2024, 1, 1), 5]})}
    conn._session.replacement_scan = frames.get
    e = error_of(conn.execute, "SELECT * FROM v")
    assert e.sqlstate == "42804" and '"v"' in str(e) and "date" in str(e)
    frames["v"] = pd.DataFrame({"x": [1, 5]})
    assert conn.execute("SELECT sum(x) FROM v").fetchall() == [(6,)]


def test_numbers_of_both_kinds_are_one_float_column(conn):
    conn.register("n", pd.DataFrame({"x": [1, 2.5, None]}))
    assert conn.execute("SELECT x FROM n").fetchall() == [(1.0,), (2.5,), (None,)]


def test_uint64_above_int64_is_22003_naming_value(conn):
    df = pd.DataFrame({"id": np.array([1, 2 ** 63 + 5], dtype=np.uint64)})
    e = error_of(conn.register, "u", df)
    assert e.sqlstate == "22003"
    assert "9223372036854775813" in str(e) and '"id"' in str(e)
    conn.register("u", pd.DataFrame({"id": np.array([1, 2 ** 63 - 1], dtype=np.uint64)}))
    assert conn.execute("SELECT max(id) FROM u").fetchall() == [(2 ** 63 - 1,)]


def test_arrow_types_without_sql_type_are_42804(conn):
    e = error_of(conn.register, "b", pa.table({"b": pa.array([{"x": 1}], pa.struct(
        [("x", pa.int64())]))}))
    assert e.sqlstate == "42804" and '"b"' in str(e) and "struct" in str(e)


def test_arrow_binary_and_time_columns_are_bytea_and_time(conn):
    conn.register("bt", pa.table({"b": pa.array([b"x", None], pa.binary()),
                                  "t": pa.array([dt.time(1, 2), None], pa.time64("us"))}))
    assert conn.execute("SELECT b, t, length(b) FROM bt").fetchall() == [
        (b"x", dt.time(1, 2), 1), (None, None, None)]


def test_pandas_nanosecond_timestamps_are_read_to_microseconds(conn):
    conn.register("ts", pd.DataFrame({"t": [pd.Timestamp("2024-01-01 00:00:00.123456789")]}))
    assert conn.execute("SELECT t FROM ts").fetchall() == [(dt.datetime(2024, 1, 1, 0, 0, 0, 123456),)]


def test_to_arrow_table_keeps_arrow_input_zero_copy():
    table = pa.table({"a": [1, 2]})
    assert to_arrow_table(table) is table


@pytest.mark.parametrize("value", [2 ** 63, 2 ** 64 - 1, -(2 ** 63) - 1, np.uint64(2 ** 63 + 1)])
def test_out_of_range_int_parameter_is_22003_and_stores_nothing(conn, value):
    e = error_of(conn.execute, "INSERT INTO t VALUES (?)", (value,))
    assert e.sqlstate == "22003" and "$1" in str(e) and str(int(value)) in str(e)
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    conn.execute("INSERT INTO t VALUES (?)", (5,))     # the table is not poisoned
    assert conn.execute("SELECT sum(a) FROM t").fetchall() == [(5,)]


def test_int64_bounds_and_numpy_ints_are_accepted(conn):
    for v in (2 ** 63 - 1, -(2 ** 63), np.int64(7), np.uint64(9)):
        conn.execute("INSERT INTO t VALUES (?)", (v,))
    assert conn.execute("SELECT count(*), min(a), max(a) FROM t").fetchall() == \
        [(4, -(2 ** 63), 2 ** 63 - 1)]


def test_big_int_parameter_beside_a_numeric_is_exact(conn):
    # 0.5 is numeric (as in PostgreSQL): a parameter past int64 meets it exactly, and
    # beside a float8 it is a float8
    assert conn.execute("SELECT ? + 0.5", (2 ** 64,)).fetchall() == \
        [(Decimal("18446744073709551616.5"),)]
    assert conn.execute("SELECT ? + 0.5::float8", (2 ** 64,)).fetchall() == \
        [(float(2 ** 64) + 0.5,)]


def test_python_int_beyond_int64_in_an_object_column_is_22003(conn):
    df = pd.DataFrame({"x": pd.Series([1, 2 ** 70], dtype=object)})
    e = error_of(conn.register, "o", df)
    assert e.sqlstate == "22003" and str(2 ** 70) in str(e) and '"x"' in str(e)
