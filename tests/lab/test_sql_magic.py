"""%sql / %%sql on the default in-memory database: statements, results, errors."""

from __future__ import annotations

import sys
import types

import pandas as pd
import pyarrow as pa
import pytest

from rustmemodb_lab.errors import SqlCellError
from rustmemodb_lab.resultset import ResultSet


def test_line_magic_returns_a_result(cell):
    out = cell("%sql SELECT 40 + 2 AS answer")
    assert isinstance(out.value, ResultSet)
    assert out.value.rows() == [(42,)]
    assert out.value.columns == ["answer"]


def test_cell_runs_every_statement_and_returns_the_last(cell, trades):
    out = cell("%%sql\nUPDATE trades SET qty = qty + 1 WHERE sym = 'ACME';\nSELECT sum(qty) AS q FROM trades WHERE sym = 'ACME'")
    assert out.value.rows() == [(152,)]
    assert out.displayed == []  # only the last result is shown


def test_all_shows_each_statement(cell):
    out = cell("%%sql --all\nCREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1), (2);\nSELECT count(*) AS n FROM t")
    shown = [d["text/plain"] for d in out.displayed]
    assert len(shown) == 2
    assert shown[0].startswith("CREATE TABLE")
    assert shown[1].startswith("INSERT") and "2 rows" in shown[1]
    assert out.value.rows() == [(2,)]


def test_result_html_has_types_count_and_time(cell, trades):
    out = cell("%sql SELECT id, sym, px FROM trades ORDER BY id")
    html = out.html()
    for text in ("INTEGER", "TEXT", "FLOAT", "5 rows", " ms", "branch main", "ACME", "<table"):
        assert text in html
    assert out.value._repr_mimebundle_()["text/plain"].splitlines()[0].split() == ["id", "|", "sym", "|", "px"]


def test_displaylimit_truncates_and_reports_the_total(cell, trades):
    cell("%config RustmemodbLab.displaylimit = 2")
    out = cell("%sql SELECT * FROM trades ORDER BY id")
    html = out.html()
    assert "showing 2 of 5 rows" in html
    assert "INITECH" not in html
    assert len(out.value) == 5  # the data itself is not truncated


def test_display_slices_arrow_before_converting(monkeypatch):
    import rustmemodb_lab.render.table as table_module

    big = pa.table({"n": pa.array(range(200_000), pa.int64())})
    seen = []
    real = table_module.rows_of
    monkeypatch.setattr(table_module, "rows_of", lambda t, limit: seen.append(limit) or real(t, limit))
    monkeypatch.setattr(ResultSet, "to_pandas", lambda self: pytest.fail("display converted the whole result"))
    result = ResultSet(big, sql_types=["INTEGER"], displaylimit=3)
    assert "showing 3 of 200,000 rows" in result._repr_html_()
    assert "showing 3 of 200,000 rows" in repr(result)
    assert seen and set(seen) == {3}


def test_statements_without_rows_show_a_status(cell):
    out = cell("%sql CREATE TABLE s (a INTEGER)")
    assert out.value.has_rows is False
    assert "CREATE TABLE" in repr(out.value)
    out = cell("%sql INSERT INTO s VALUES (1), (2), (3)")
    assert "3 rows" in repr(out.value)


def test_feedback_zero_hides_statuses(cell):
    cell("%config RustmemodbLab.feedback = 0")
    assert cell("%sql CREATE TABLE quiet (a INTEGER)").value is None
    assert cell("%sql --fork q").value is None
    assert cell("%sql SELECT 1 AS one").value.rows() == [(1,)]


def test_autopandas_returns_dataframes(cell, trades):
    cell("%config RustmemodbLab.autopandas = True")
    out = cell("%sql SELECT sym, count(*) AS n FROM trades GROUP BY sym ORDER BY sym")
    assert isinstance(out.value, pd.DataFrame)
    assert out.value["n"].tolist() == [2, 2, 1]


def test_config_is_listed_by_the_config_magic(cell):
    out = cell("%config RustmemodbLab")
    assert "displaylimit" in out.stdout and "autopandas" in out.stdout and "feedback" in out.stdout


# -- outputs ---------------------------------------------------------------------

def test_dash_o_stores_a_dataframe(ip, cell, trades):
    cell("%%sql -o top\nSELECT sym, px FROM trades ORDER BY px DESC LIMIT 2")
    top = ip.user_ns["top"]
    assert isinstance(top, pd.DataFrame)
    assert top["sym"].tolist() == ["GLOBEX", "GLOBEX"]


def test_assignment_syntax_line_and_cell(ip, cell, trades):
    cell("%sql n << SELECT count(*) AS n FROM trades")
    assert ip.user_ns["n"]["n"].iloc[0] == 5
    cell("%%sql m <<\nSELECT max(px) AS m FROM trades")
    assert ip.user_ns["m"]["m"].iloc[0] == 21.0


def test_arrow_output(ip, cell, trades):
    cell("%sql --arrow -o t SELECT id FROM trades ORDER BY id")
    assert isinstance(ip.user_ns["t"], pa.Table)
    assert ip.user_ns["t"].column("id").to_pylist() == [1, 2, 3, 4, 5]


def test_polars_output_uses_polars_from_arrow(ip, cell, monkeypatch):
    fake = types.ModuleType("polars")
    fake.from_arrow = lambda table: ("polars-frame", table.num_rows)
    monkeypatch.setitem(sys.modules, "polars", fake)
    monkeypatch.setattr("rustmemodb_lab.run.polars_available", lambda: True)
    cell("%sql --polars -o pl SELECT 1 AS a")
    assert ip.user_ns["pl"] == ("polars-frame", 1)


def test_polars_output_without_polars_is_a_usage_error(cell, monkeypatch):
    monkeypatch.setattr("rustmemodb_lab.run.polars_available", lambda: False)
    out = cell("%sql --polars -o pl SELECT 1", fails=True)
    assert "polars" in str(out.error)


def test_storing_a_statement_without_rows_is_an_error(cell):
    out = cell("%sql -o x CREATE TABLE z (a INTEGER)", fails=True)
    assert "returned no rows" in str(out.error)


# -- variables -------------------------------------------------------------------

def test_brace_interpolation(ip, cell, trades):
    ip.user_ns["table_name"] = "trades"
    assert cell("%sql SELECT count(*) FROM {table_name}").value.rows() == [(5,)]


def test_colon_parameters_are_bound(ip, cell, trades):
    ip.user_ns["wanted"] = "ACME"
    ip.user_ns["min_px"] = 10.75
    out = cell("%%sql\nSELECT id FROM trades WHERE sym = :wanted AND px > :min_px")
    assert out.value.rows() == [(2,)]


def test_bound_parameters_are_never_pasted(ip, cell, trades):
    ip.user_ns["evil"] = "x'; DROP TABLE trades; --"
    assert cell("%sql SELECT count(*) FROM trades WHERE sym = :evil").value.rows() == [(0,)]
    assert cell("%sql SELECT count(*) FROM trades").value.rows() == [(5,)]


def test_undefined_parameter_is_a_usage_error(cell):
    out = cell("%sql SELECT :nowhere", fails=True)
    assert "nowhere" in str(out.error) and "UsageError" in out.stdout


def test_line_magic_sees_function_locals(ip, cell, trades):
    cell("def count_sym(s):\n    r = %sql SELECT count(*) FROM trades WHERE sym = :s\n    return r\n")
    assert cell("count_sym('GLOBEX')").value.rows() == [(2,)]


# -- errors ----------------------------------------------------------------------

FIVE = """\
CREATE TABLE e (id INTEGER PRIMARY KEY, v INTEGER);
INSERT INTO e VALUES (1, 10);
INSERT INTO e VALUES (2, 'twenty');
INSERT INTO e VALUES (3, 30);
SELECT count(*) FROM e"""


def test_error_in_third_of_five_statements(ip, cell):
    out = cell("%%sql\n" + FIVE, fails=True)
    err = out.error
    assert isinstance(err, SqlCellError)
    assert (err.index, err.count) == (2, 5)
    assert err.sqlstate == "42804"
    text = out.stdout
    assert "statement 3 of 5" in text and "42804" in text
    assert "Statements 1-2 ran" in text and "statements 4-5 did not run" in text
    assert "Traceback" not in text  # the SQL error, not the lab's stack
    # statements 1-2 ran, 4-5 did not
    assert cell("%sql SELECT id FROM e ORDER BY id").value.rows() == [(1,)]


def test_error_caret_points_at_the_failing_text(cell):
    out = cell("%%sql\n" + FIVE, fails=True)
    err = out.error
    lines = out.stdout.splitlines()
    source = next(i for i, line in enumerate(lines) if line.startswith("LINE 3:"))
    caret_col = lines[source + 1].index("^")
    assert lines[source][caret_col:].startswith("'twenty'")
    assert err.cell_text[err.cell_position :].startswith("'twenty'")


def test_error_caret_after_a_bound_parameter(ip, cell, trades):
    ip.user_ns["region"] = "ACME"
    out = cell("%%sql\nSELECT * FROM trades\nWHERE sym = :region AND qty = 'many'", fails=True)
    lines = out.stdout.splitlines()
    source = next(i for i, line in enumerate(lines) if line.startswith("LINE 2:"))
    caret_col = lines[source + 1].index("^")
    assert lines[source][caret_col:].startswith("qty = 'many'")


def test_a_pasted_value_cannot_add_a_statement(ip, cell, trades):
    ip.user_ns["evil"] = "1; DROP TABLE trades"
    out = cell("%sql SELECT {evil}", fails=True)
    assert "42601" in out.stdout
    assert cell("%sql SELECT count(*) FROM trades").value.rows() == [(5,)]


def test_jinja_double_braces(ip, cell, trades):
    ip.user_ns["syms"] = ["ACME", "GLOBEX"]
    out = cell("%sql SELECT count(*) FROM trades WHERE sym IN ({{ syms | map('tojson') | join(', ') | replace('\"', \"'\") }})")
    assert out.value.rows() == [(4,)]


def test_error_rolls_back_the_transaction(session, cell):
    cell("%sql CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)")
    cell("%sql INSERT INTO acct VALUES (1, 100)")
    out = cell("%%sql\nBEGIN;\nUPDATE acct SET bal = 0;\nINSERT INTO acct VALUES (1, 5);\nCOMMIT", fails=True)
    assert out.error.sqlstate == "23505"
    assert session.registry.active.conn.in_transaction is False
    assert cell("%sql SELECT bal FROM acct").value.rows() == [(100,)]


def test_unknown_table_error_has_sqlstate(cell):
    out = cell("%sql SELECT * FROM no_such_table", fails=True)
    assert out.error.sqlstate == "42P01"
    assert "no_such_table" in out.stdout


def test_expect_error_shows_the_error_without_raising(cell):
    out = cell("%%sql --expect-error\nSELECT 1;\nSELECT * FROM missing_table")
    assert isinstance(out.value, SqlCellError)
    html = out.html()
    assert "42P01" in html and "statement 2 of 2" in html


def test_expect_error_fails_when_nothing_fails(cell):
    out = cell("%sql --expect-error SELECT 1", fails=True)
    assert "expected to fail" in str(out.error)


def test_bad_option_is_a_usage_error(cell):
    out = cell("%sql --frobnicate SELECT 1", fails=True)
    assert "unrecognized arguments: --frobnicate" in out.stdout
    assert "Traceback" not in out.stdout


def test_help_lists_the_options(ip):
    doc = ip.find_line_magic("sql").__doc__
    for option in ("--fork", "--on", "--diff", "--merge", "--undo", "--explain", "--persist", "--arrow"):
        assert option in doc


def test_feedback_two_shows_every_status(cell):
    cell("%config RustmemodbLab.feedback = 2")
    out = cell("%%sql\nCREATE TABLE loud (a INTEGER);\nINSERT INTO loud VALUES (1);\nSELECT a FROM loud")
    assert [d["text/plain"].split(" · ")[0] for d in out.displayed] == ["CREATE TABLE", "INSERT"]


def test_every_option_has_help(ip):
    from rustmemodb_lab.magic import SqlMagics

    actions = [a for a in SqlMagics.sql.parser._actions if a.option_strings]
    assert len(actions) >= 20
    assert [a.option_strings for a in actions if not (a.help or "").strip()] == []


def test_empty_cell_does_nothing(cell):
    assert cell("%%sql\n-- just a comment\n").value is None
    assert cell("%sql").value is None
