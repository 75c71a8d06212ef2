"""Renderers on their own: escaping, NULLs, numbers, text tables, errors, diffs."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from rustmemodb_lab.errors import SqlCellError
from rustmemodb_lab.render.diff import TableDiff, diff_html
from rustmemodb_lab.render.error import caret_lines
from rustmemodb_lab.render.html import format_value
from rustmemodb_lab.render.side_by_side import differing_cells
from rustmemodb_lab.resultset import ResultSet


def test_html_escapes_values_and_names():
    rs = ResultSet(pa.table({"<b>": ["<script>alert(1)</script>"]}), sql_types=["TEXT"])
    html = rs._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_nulls_numbers_and_types():
    rs = ResultSet(pa.table({"n": [1, None], "s": ["x", None]}), sql_types=["INTEGER", "TEXT"])
    html = rs._repr_html_()
    assert html.count(">NULL<") == 2
    assert "text-align:right" in html
    assert "INTEGER" in html and "TEXT" in html
    assert repr(rs).splitlines()[-1] == "(2 rows)"


def test_value_formatting():
    assert format_value(True) == "true"
    assert format_value(None) == "NULL"
    assert format_value(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05"
    assert format_value({"a": [1, 2]}) == '{"a":[1,2]}'
    assert format_value(float("nan")) == "NaN"


def test_long_text_is_clipped_with_a_tooltip():
    rs = ResultSet(pa.table({"t": ["x" * 500]}), sql_types=["TEXT"])
    html = rs._repr_html_()
    assert "x" * 199 + "…" in html and 'title="' in html


def test_empty_result():
    rs = ResultSet(pa.table({"a": pa.array([], pa.int64())}), sql_types=["INTEGER"])
    assert "0 rows" in rs._repr_html_() and len(rs) == 0


def test_caret_lines_handle_long_lines_and_tabs():
    source, caret, line = caret_lines("a\n\tSELECT  bad", 11)
    assert line == 2 and source == "LINE 2: \tSELECT  bad"
    assert caret == " " * len("LINE 2: ") + "\t" + " " * 8 + "^"
    long = "x" * 300 + "HERE" + "y" * 300
    source, caret, _ = caret_lines(long, 300)
    assert source.index("HERE") == caret.index("^")


def _error(**kw):
    fields = dict(error=Exception("x"), sqlstate="42804", message="bad type", hint="use CAST",
                  error_class="ProgrammingError", statement_text="SELECT 'a' + 1", cell_text="SELECT 'a' + 1",
                  index=0, count=1, cell_position=7, branch="main", rolled_back=True)
    fields.update(kw)
    return SqlCellError(**fields)


def test_error_text_and_html():
    err = _error()
    text = str(err)
    assert text.splitlines()[0] == "ProgrammingError: [42804] bad type"
    assert "HINT:  use CAST" in text and "^" in text
    assert err._render_traceback_() == text.splitlines()
    assert "42804" in err._repr_html_() and "use CAST" in err._repr_html_()


def test_error_without_position_shows_the_statement():
    text = str(_error(cell_position=None))
    assert "SELECT 'a' + 1" in text and "^" not in text


def test_side_by_side_marks_differences_positionally():
    a = pa.table({"x": [1, 2], "y": ["a", "b"]})
    b = pa.table({"x": [1, 3], "y": ["a", "b"]})
    c = pa.table({"x": [1, 2, 9], "y": ["a", "b", "c"]})
    assert differing_cells([a, b, c], None) == [set(), {(1, 0)}, {(2, 0), (2, 1)}]


def test_diff_grid_groups_rows_and_highlights_changed_cells():
    schema = pa.schema([("id", pa.int64()), ("v", pa.string())])
    d = TableDiff(
        table="t",
        added=pa.table({"id": [3], "v": ["new"]}, schema=schema),
        removed=pa.table({"id": [1], "v": ["gone"]}, schema=schema),
        changed_before=pa.table({"id": [2], "v": ["old"]}, schema=schema),
        changed_after=pa.table({"id": [2], "v": ["upd"]}, schema=schema),
        key_columns=["id"],
        counts={"added": 1, "removed": 1, "changed": 1},
    )
    html = diff_html(d, limit=10)
    assert "+1 added · −1 removed · ~1 changed" in html
    assert html.count("rmdb-diff-cell") == 1  # only v of the changed row
    assert "old" in html and "upd" in html and ">key<" in html
    assert html.index("rmdb-diff-removed") < html.index("rmdb-diff-added") < html.index("rmdb-diff-changed")


def test_diff_grid_counts_rows_beyond_the_limit():
    schema = pa.schema([("id", pa.int64())])
    empty = pa.table({"id": pa.array([], pa.int64())})
    d = TableDiff("t", pa.table({"id": list(range(50))}, schema=schema), empty, empty, empty, ["id"], {})
    html = diff_html(d, limit=5)
    assert "… 45 more added rows" in html
