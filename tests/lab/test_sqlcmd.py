"""%sqlcmd tables / columns / profile / explore: jupysql's helpers, computed in the engine."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rustmemodb_lab.source import Source


def test_tables_lists_tables_views_and_row_counts(cell, trades):
    cell("%sql CREATE VIEW acme AS SELECT * FROM trades WHERE sym = 'ACME'")
    listing = cell("%sqlcmd tables").value.to_arrow()
    assert listing.to_pylist() == [
        {"name": "trades", "kind": "table", "rows": 5},
        {"name": "acme", "kind": "view", "rows": None},
    ]


def test_columns_with_types_keys_and_defaults(cell):
    cell("%sql CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x', score FLOAT)")
    cols = cell("%sqlcmd columns -t p").value.to_arrow()
    assert cols.to_pylist() == [
        {"name": "id", "type": "INTEGER", "nullable": False, "default": None, "primary_key": True},
        {"name": "name", "type": "TEXT", "nullable": False, "default": "'x'", "primary_key": False},
        {"name": "score", "type": "FLOAT", "nullable": True, "default": None, "primary_key": False},
    ]


def test_columns_of_a_dataframe_variable(ip, cell):
    ip.user_ns["df_x"] = pd.DataFrame({"a": [1], "b": ["q"]})
    cols = cell("%sqlcmd columns -t df_x").value.to_pandas()
    assert cols[["name", "type"]].values.tolist() == [["a", "INTEGER"], ["b", "TEXT"]]


def test_profile_matches_pandas(ip, cell):
    df = pd.DataFrame({
        "n": [1, 2, 2, None, 5, 2],
        "s": ["a", "b", "b", None, None, "c"],
        "f": [0.5, 1.5, None, 2.5, 3.5, 3.5],
    })
    df["n"] = df["n"].astype("Int64")
    ip.user_ns["df_p"] = df
    cell("%sql --persist df_p")
    out = cell("%sqlcmd profile -t df_p -o prof")
    prof = ip.user_ns["prof"]
    assert list(prof.index) == ["count", "nulls", "distinct", "min", "max", "mean", "std", "top", "freq"]
    for col in ("n", "f"):
        series = df[col].astype("float64")
        assert prof.loc["count", col] == series.count()
        assert prof.loc["nulls", col] == series.isna().sum()
        assert prof.loc["distinct", col] == series.nunique()
        assert prof.loc["min", col] == series.min() and prof.loc["max", col] == series.max()
        assert math.isclose(prof.loc["mean", col], series.mean())
        assert math.isclose(prof.loc["std", col], series.std())  # sample std, as pandas
    assert prof.loc["top", "n"] == "2" and prof.loc["freq", "n"] == 3
    assert prof.loc["top", "s"] == "b" and prof.loc["freq", "s"] == 2
    assert prof.loc["mean", "s"] is None and prof.loc["min", "s"] == "a"
    html = out.value._repr_html_()
    assert "distinct" in html and "rmdb-table" in html


def test_profile_runs_two_queries_whatever_the_width(ip, cell, monkeypatch):
    ip.user_ns["wide"] = pd.DataFrame({f"c{i}": range(100) for i in range(12)})
    seen = []
    original = Source.query
    monkeypatch.setattr(Source, "query", lambda self, sql: seen.append(sql) or original(self, sql))
    cell("%sqlcmd profile -t wide")
    assert len(seen) == 2
    assert all(sql.count("FROM") >= 1 for sql in seen)


def test_profile_of_a_snippet_and_a_missing_table(cell, trades):
    cell("%%sql --save acme --no-execute\nSELECT * FROM trades WHERE sym = 'ACME'")
    prof = cell("%sqlcmd profile -t acme").value.profile_frame()
    assert prof.loc["count", "id"] == 2
    err = cell("%sqlcmd profile -t nope", fails=True).error
    assert err.sqlstate == "42P01"


def test_explore_pages_with_limit_offset(ip, cell, monkeypatch):
    cell("%%sql\nCREATE TABLE seq (n INTEGER);\nINSERT INTO seq SELECT * FROM generate_series(1, 23)")
    seen = []
    original = Source.query
    monkeypatch.setattr(Source, "query", lambda self, sql: seen.append(sql) or original(self, sql))
    grid = cell("%sqlcmd explore -t seq --page-size 10").value
    assert grid.total == 23 and grid.pages == 3
    assert grid.current.rows() == [(n,) for n in range(1, 11)]
    assert grid.buttons["previous"].disabled and not grid.buttons["next"].disabled
    grid.buttons["next"].click()
    grid.buttons["next"].click()
    assert grid.current.rows() == [(21,), (22,), (23,)]
    assert "rows 21–23 of 23" in grid.label.value and grid.buttons["next"].disabled
    grid.buttons["first"].click()
    assert grid.page == 0
    assert [s for s in seen if "LIMIT" in s] == [
        'SELECT * FROM "seq" LIMIT 10 OFFSET 0', 'SELECT * FROM "seq" LIMIT 10 OFFSET 10',
        'SELECT * FROM "seq" LIMIT 10 OFFSET 20', 'SELECT * FROM "seq" LIMIT 10 OFFSET 0']
    bundle = grid._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "rmdb-table" in bundle["text/html"]


def test_explore_stays_on_its_branch(cell, trades):
    grid = cell("%sqlcmd explore -t trades").value
    cell("%sql --fork b --checkout b")
    cell("%sql DELETE FROM trades")
    grid.show(0)
    assert len(grid.current.rows()) == 5


@pytest.mark.parametrize(
    ("line", "message"),
    [("", "the following arguments are required"), ("bogus", "invalid choice"),
     ("columns", "needs a table"), ("explore -t x --page-size 0", "at least 1"),
     ("profile -t 'x", "No closing quotation")],
)
def test_usage_errors(cell, line, message):
    assert message in str(cell(f"%sqlcmd {line}", fails=True).error)


def test_profile_of_text_search_columns(cell):
    cell("%%sql\nCREATE TABLE docs (id INTEGER, body TEXT, "
         "tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED);\n"
         "INSERT INTO docs (id, body) VALUES (1, 'fat cats'), (2, 'lazy dogs'), (3, NULL)")
    prof = cell("%sqlcmd profile -t docs").value.profile_frame()
    # no min/max of a tsvector (PostgreSQL has none): counted, not ordered
    assert prof.loc["count", "tsv"] == 2 and prof.loc["min", "tsv"] is None
