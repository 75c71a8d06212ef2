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
