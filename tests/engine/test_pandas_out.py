"""Results become DataFrames without losing values (api/pandas_out.py): an integer or
boolean column holding a NULL takes pandas' nullable dtype, as DuckDB's df() does,
instead of float64 (which changes integers above 2**53) or object."""
from __future__ import annotations

import pandas as pd
import pytest

import rustmemodb
from rustmemodb.branch.diff import diff


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, big BIGINT, flag BOOLEAN, f FLOAT, s TEXT)")
    c.execute("INSERT INTO t VALUES (1, 9007199254740993, true, 1.5, 'a'), "
              "(2, NULL, NULL, NULL, NULL), (3, -9223372036854775808, false, 2.5, 'c')")
    return c


def test_nullable_integers_and_booleans_are_exact(conn):
    df = conn.execute("SELECT * FROM t ORDER BY id").df()
    assert [str(d) for d in df.dtypes] == ["int64", "Int64", "boolean", "float64", "str"] or \
        [str(d) for d in df.dtypes] == ["int64", "Int64", "boolean", "float64", "object"]
    assert df["big"].tolist() == [9007199254740993, pd.NA, -9223372036854775808]
    assert df["flag"].tolist() == [True, pd.NA, False]
    # a float64 round trip would have given 9007199254740992
    assert int(df["big"].iloc[0]) == 9007199254740993


def test_columns_without_nulls_keep_numpy_dtypes(conn):
    df = conn.execute("SELECT id, big, flag FROM t WHERE id <> 2 ORDER BY id").fetch_df()
    assert [str(d) for d in df.dtypes] == ["int64", "int64", "bool"]


def test_same_through_a_diff_and_duplicate_column_names(conn):
    df = conn.execute("SELECT big AS x, big AS x FROM t ORDER BY id").df()
    assert [str(d) for d in df.dtypes] == ["Int64", "Int64"]
    assert df.iloc[:, 1].tolist() == [9007199254740993, pd.NA, -9223372036854775808]
    conn.commit()
    fork = conn.database.fork().connect()
    fork.execute("UPDATE t SET big = NULL WHERE id = 1")
    fork.execute("INSERT INTO t VALUES (4, 9007199254740995, NULL, NULL, NULL)")
    fork.commit()
    changed = diff(conn, fork, "t").to_pandas().sort_values("id")
    assert str(changed["big"].dtype) == "Int64"
    assert changed["big"].tolist() == [pd.NA, 9007199254740995]
