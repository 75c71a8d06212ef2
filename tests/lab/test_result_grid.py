"""The result grid's kernel side: the MIME bundle of a result and the pages the grid asks for.

The browser half (scrolling a million rows) is in tests/browser/test_labextension.py;
here the bundle's shape and the ``page`` answers are checked against the data: plain
slices, sorting and filtering run as SQL, a filtered total, and the errors a grid shows.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from rustmemodb_lab.render import grid
from rustmemodb_lab.resultset import ResultSet


@pytest.fixture
def big() -> pa.Table:
    n = 10_000
    return pa.table({"id": pa.array(range(n), pa.int64()),
                     "city": pa.array([["Oslo", "Rome", "Lima", None][i % 4] for i in range(n)], pa.string())})


def test_a_result_with_rows_carries_the_grid_type_beside_html_and_text(big):
    result = ResultSet(big, sql_types=["BIGINT", "TEXT"], sql="SELECT * FROM t", branch="main", elapsed=0.002)
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", grid.MIME}
    data = bundle[grid.MIME]
    assert data["columns"] == ["id", "city"] and data["types"] == ["BIGINT", "TEXT"]
    assert data["total"] == 10_000 and len(data["rows"]) == grid.FIRST_PAGE
    assert data["rows"][3] == [3, None]
    assert data["branch"] == "main"
    status = ResultSet(None, statement_type="CREATE TABLE")._repr_mimebundle_()
    assert grid.MIME not in status


def test_pages_beyond_the_first(big):
    key = grid.bundle(big, ["BIGINT", "TEXT"])["id"]
    reply = grid.page({"id": key, "offset": 9_990, "limit": 100})
    assert reply["total"] == 10_000
    assert [r[0] for r in reply["rows"]] == list(range(9_990, 10_000))


def test_sort_and_filter_run_as_sql(big):
    key = grid.bundle(big, ["BIGINT", "TEXT"])["id"]
    desc = grid.page({"id": key, "offset": 0, "limit": 3, "sort": [{"column": "id", "desc": True}]})
    assert [r[0] for r in desc["rows"]] == [9_999, 9_998, 9_997]
    rome = grid.page({"id": key, "offset": 10, "limit": 2, "filter": {"city": "ro"},
                      "sort": [{"column": "id", "desc": False}]})
    assert rome["total"] == 2_500
    assert rome["rows"] == [[41, "Rome"], [45, "Rome"]]
    # NULL cities never match a filter
    assert grid.page({"id": key, "limit": 1, "filter": {"city": "null"}})["total"] == 0


def test_unknown_columns_and_forgotten_results_are_errors(big):
    key = grid.bundle(big, ["BIGINT", "TEXT"])["id"]
    with pytest.raises(KeyError, match="no column"):
        grid.page({"id": key, "sort": [{"column": "nope"}]})
    with pytest.raises(LookupError, match="no longer in the kernel"):
        grid.page({"id": "0" * 32})
    store = grid.ResultStore(keep=2)
    first = store.add(big)
    store.add(big)
    store.add(big)
    assert store.get(first) is None


def test_values_are_json_safe():
    table = pa.table({"d": [dt.date(2024, 1, 2)], "f": [float("nan")], "b": [b"\x01"]})
    assert grid.json_rows(table) == [["2024-01-02", "nan", "\\x01"]]
