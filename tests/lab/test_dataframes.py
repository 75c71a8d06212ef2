"""pandas / Arrow variables as tables: replacement scans, --persist, --append."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def test_dataframe_variables_are_queryable_by_name(ip, cell):
    ip.user_ns["df_sales"] = pd.DataFrame({"region": ["n", "s", "n"], "amount": [10, 20, 5]})
    out = cell("%sql SELECT region, sum(amount) AS total FROM df_sales GROUP BY region ORDER BY region")
    assert out.value.rows() == [("n", 15), ("s", 20)]


def test_arrow_variables_are_queryable_by_name(ip, cell):
    ip.user_ns["events"] = pa.table({"kind": ["a", "b", "a"]})
    assert cell("%sql SELECT count(*) FROM events WHERE kind = 'a'").value.rows() == [(2,)]


def test_tables_win_over_variables(ip, cell):
    ip.user_ns["shadow"] = pd.DataFrame({"a": [1, 2, 3]})
    cell("%%sql\nCREATE TABLE shadow (a INTEGER);\nINSERT INTO shadow VALUES (42)")
    assert cell("%sql SELECT a FROM shadow").value.rows() == [(42,)]


def test_insert_select_from_a_dataframe(ip, cell):
    ip.user_ns["df_new"] = pd.DataFrame({"id": [1, 2], "name": ["x", "y"]})
    cell("%%sql\nCREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO people SELECT * FROM df_new")
    assert cell("%sql SELECT name FROM people ORDER BY id").value.rows() == [("x",), ("y",)]


def test_persist_makes_a_real_typed_table(ip, cell, session):
    ip.user_ns["df_sales"] = pd.DataFrame({"id": [1, 2, 3], "amount": [1.5, 2.5, 3.0], "who": ["a", "b", "c"]})
    out = cell("%sql --persist df_sales")
    assert "created table df_sales (3 rows)" in repr(out.value)
    assert "df_sales" in session.registry.active.database.tables()
    del ip.user_ns["df_sales"]
    out = cell("%sql SELECT sum(amount) AS s FROM df_sales")
    assert out.value.rows() == [(7.0,)]
    assert out.value.sql_types == ["FLOAT"]


def test_append_adds_rows(ip, cell):
    ip.user_ns["df_more"] = pd.DataFrame({"a": [1, 2]})
    cell("%sql --persist df_more")
    cell("%sql --append df_more")
    assert cell("%sql SELECT count(*) FROM df_more").value.rows() == [(4,)]


def test_persist_errors(ip, cell):
    assert "no variable" in str(cell("%sql --persist nothing_here", fails=True).error)
    ip.user_ns["not_a_frame"] = [1, 2, 3]
    assert "not a pandas DataFrame" in str(cell("%sql --persist not_a_frame", fails=True).error)


def test_results_round_trip_through_pandas(ip, cell):
    ip.user_ns["src"] = pd.DataFrame({"x": [3, 1, 2]})
    cell("%sql -o sorted_df SELECT x FROM src ORDER BY x")
    ip.user_ns["again"] = ip.user_ns["sorted_df"]
    assert cell("%sql SELECT sum(x) FROM again").value.rows() == [(6,)]


# -- columns the engine cannot read: a clear SQL error, and the session stays usable -----

def test_a_mixed_type_column_is_42804_naming_column_value_and_row(ip, cell):
    ip.user_ns["mixed"] = pd.DataFrame({"ok": [1, 2, 3], "a": [1, "x", 3.5]})
    out = cell("%sql SELECT ok FROM mixed", fails=True)
    err = out.error
    assert err.sqlstate == "42804"
    assert 'column "a" of mixed mixes types' in err.message and "'x' (text) at row 1" in err.message
    assert "number values such as 1 at row 0" in err.message
    assert "astype(str)" in err.hint
    assert "Traceback" not in out.stdout and len(out.stdout.splitlines()) < 12
    # not poisoned: other queries run, and the same frame works once fixed
    assert cell("%sql SELECT 1 AS one").value.rows() == [(1,)]
    ip.user_ns["mixed"]["a"] = ip.user_ns["mixed"]["a"].astype(str)
    assert cell("%sql SELECT a FROM mixed ORDER BY ok").value.rows() == [("1",), ("x",), ("3.5",)]


def test_a_failed_scan_inside_a_transaction_rolls_back(ip, cell, session):
    ip.user_ns["mixed"] = pd.DataFrame({"a": ["x", 2]})
    cell("%sql CREATE TABLE kept (a INTEGER)")
    out = cell("%%sql\nBEGIN;\nINSERT INTO kept VALUES (1);\nSELECT * FROM mixed", fails=True)
    assert out.error.sqlstate == "42804" and "2 (number) at row 1" in out.error.message
    assert not session.registry.active.conn.in_transaction
    assert cell("%sql SELECT count(*) FROM kept").value.rows() == [(0,)]


def test_uint64_beyond_int64_is_22003_naming_the_first_bad_value(ip, cell):
    import numpy as np

    ip.user_ns["big"] = pd.DataFrame({"u": np.array([1, 2**63 + 5, 2**64 - 1], dtype=np.uint64)})
    err = cell("%sql SELECT * FROM big", fails=True).error
    assert err.sqlstate == "22003"
    assert 'column "u" of big: value 9223372036854775813 at row 1 is out of range' in err.message


def test_uint64_that_fits_is_read_as_integer(ip, cell):
    import numpy as np

    ip.user_ns["small"] = pa.table({"u": pa.array(np.array([1, 2**63 - 1], dtype=np.uint64))})
    out = cell("%sql SELECT u FROM small ORDER BY u")
    assert out.value.rows() == [(1,), (2**63 - 1,)] and out.value.sql_types == ["INTEGER"]


def test_python_ints_beyond_int64_in_an_object_column_are_22003(ip, cell):
    ip.user_ns["huge"] = pd.DataFrame({"n": pd.Series([1, 2**70], dtype=object)})
    err = cell("%sql SELECT * FROM huge", fails=True).error
    assert err.sqlstate == "22003" and str(2**70) in err.message and "row 1" in err.message


def test_an_arrow_type_without_sql_type_names_the_column(ip, cell):
    ip.user_ns["nested"] = pa.table({"id": [1], "tags": pa.array([{"k": 1}])})
    err = cell("%sql SELECT id FROM nested", fails=True).error
    assert err.sqlstate == "42804" and 'column "tags" of nested has type struct<k: int64>' in err.message


def test_a_list_column_is_an_array(ip, cell):
    ip.user_ns["listy"] = pa.table({"id": [1], "tags": pa.array([["a", "b"]])})
    assert cell("%sql SELECT id, tags[2], cardinality(tags) FROM listy").value.rows() == [(1, "b", 2)]


def test_persist_of_a_mixed_frame_is_a_usage_error_with_the_same_message(ip, cell, session):
    ip.user_ns["mixed"] = pd.DataFrame({"a": [1, "x"]})
    out = cell("%sql --persist mixed", fails=True)
    assert "42804" in str(out.error) and 'column "a" of mixed mixes types' in str(out.error)
    assert "mixed" not in session.registry.active.database.tables()
