"""Magic syntax → Command, without running anything: options, <<, {var}, :var."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from rustmemodb_lab import sqltext
from rustmemodb_lab.command import Namespace, parse, split_options
from rustmemodb_lab.magic import SqlMagics

PARSER = SqlMagics.sql.parser


def p(line: str, cell: str | None = None, **ns):
    return parse(PARSER, line, cell, Namespace(ns))


@pytest.mark.parametrize(
    ("line", "tokens", "rest"),
    [
        ("SELECT 1", [], "SELECT 1"),
        ("--on main,exp SELECT 'a  b'", ["--on", "main,exp"], "SELECT 'a  b'"),
        ("-o out --arrow SELECT \"x\" FROM t", ["-o", "out", "--arrow"], 'SELECT "x" FROM t'),
        ("--diff main exp trades", ["--diff", "main", "exp", "trades"], ""),
        ("--fork a --checkout a", ["--fork", "a", "--checkout", "a"], ""),
        ('--connect "my file.db"', ["--connect", "my file.db"], ""),
        ("--merge exp --into main --theirs", ["--merge", "exp", "--into", "main", "--theirs"], ""),
    ],
)
def test_split_options_stops_at_the_sql(line, tokens, rest):
    assert split_options(PARSER, line) == (tokens, rest)


def test_line_sql_keeps_quotes_and_spacing():
    cmd = p("SELECT 'it''s', \"Col\"  FROM t")
    assert cmd.sql == "SELECT 'it''s', \"Col\"  FROM t"
    assert [s.text for s in cmd.statements] == ["SELECT 'it''s', \"Col\"  FROM t"]


def test_cell_options_and_multiple_statements():
    cmd = p("--all -o res", "CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1);\nSELECT * FROM t;\n")
    assert cmd.show_all and cmd.output == "res"
    assert [s.index for s in cmd.statements] == [0, 1, 2]
    assert cmd.statements[2].text.startswith("SELECT")
    assert cmd.sql[cmd.statements[1].offset :].startswith("INSERT")


def test_semicolons_inside_literals_do_not_split():
    cmd = p("", "SELECT ';' AS a; SELECT $$x;y$$ -- ; not here\n")
    assert len(cmd.statements) == 2


@pytest.mark.parametrize(
    ("line", "cell", "output", "sql"),
    [
        ("top << SELECT 1", None, "top", "SELECT 1"),
        ("top <<", "SELECT 2", "top", "SELECT 2"),
        ("--arrow top << SELECT 3", None, "top", "SELECT 3"),
    ],
)
def test_assignment(line, cell, output, sql):
    cmd = p(line, cell)
    assert (cmd.output, cmd.sql.strip()) == (output, sql)


def test_output_formats():
    assert p("-o x SELECT 1").output_format == "pandas"
    assert p("-o x --arrow SELECT 1").output_format == "arrow"
    assert p("-o x --polars SELECT 1").output_format == "polars"


def test_brace_interpolation_pastes_text():
    cmd = p("SELECT * FROM {table} WHERE j = '{\"k\": 1}' AND a = '{{a,b}}'", table="trades")
    assert cmd.statements[0].text == "SELECT * FROM trades WHERE j = '{\"k\": 1}' AND a = '{{a,b}}'"
    assert cmd.sql == "SELECT * FROM {table} WHERE j = '{\"k\": 1}' AND a = '{{a,b}}'"  # as written


def test_brace_interpolation_leaves_unknown_names_and_array_literals():
    cmd = p("SELECT '{nope}', '{{1,2},{3,4}}'::INTEGER[]", t="x")
    assert cmd.statements[0].text == "SELECT '{nope}', '{{1,2},{3,4}}'::INTEGER[]"


def test_double_braces_are_jinja_values_as_in_jupysql():
    cmd = p("SELECT * FROM {{ table }} WHERE sym = '{{sym}}' AND n IN ({{ ids | join(', ') }})",
            table="trades", sym="ACME", ids=[1, 2])
    assert cmd.statements[0].text == "SELECT * FROM trades WHERE sym = 'ACME' AND n IN (1, 2)"


def test_double_braces_with_an_undefined_name_say_so():
    with pytest.raises(UsageError, match="'nope' is undefined"):
        p("SELECT {{ nope }}")


def test_jinja_blocks_are_refused_with_a_message():
    with pytest.raises(UsageError, match="Jinja statements"):
        p("SELECT 1 {% if x %} + 1 {% endif %}", x=True)


@pytest.mark.parametrize("syntax", ["{v}", "{{ v }}"])
def test_a_pasted_value_never_adds_a_statement(syntax):
    cmd = p(f"SELECT {syntax}", v="1; DROP TABLE t")
    assert len(cmd.statements) == 1
    assert cmd.statements[0].text == "SELECT 1; DROP TABLE t"  # the engine refuses two statements


def test_statements_are_split_before_values_are_pasted():
    cmd = p("", "SELECT {a}; SELECT '{b}'", a="x", b="y;z")
    assert [s.text for s in cmd.statements] == ["SELECT x", "SELECT 'y;z'"]


def test_colon_params_are_bound_not_pasted():
    cmd = p("SELECT * FROM t WHERE sym = :sym AND px > :px AND x::INTEGER = 1 AND ':no' = ':no'", sym="A'; DROP TABLE t; --", px=3)
    stmt = cmd.statements[0]
    assert stmt.params == {"sym": "A'; DROP TABLE t; --", "px": 3}
    assert stmt.values == ["A'; DROP TABLE t; --", 3]
    assert "sym = $1 AND px > $2" in stmt.text and "DROP" not in stmt.text
    assert ":sym" in stmt.named_text and "':no' = ':no'" in stmt.text


def test_a_repeated_param_uses_one_slot():
    stmt = p("SELECT :a + :b + :a", a=1, b=2).statements[0]
    assert stmt.text == "SELECT $1 + $2 + $1" and stmt.values == [1, 2]


@pytest.mark.parametrize(
    ("cell", "blamed"),
    [
        ("SELECT * FROM t WHERE region = :region AND nope = 1", "nope"),
        ("SELECT {cols} FROM t WHERE region = :region AND nope = 1", "nope"),
        ("SELECT {{ cols }} FROM t WHERE a = :a AND b = :bb AND nope = 1", "nope"),
        ("SELECT 1;\n  SELECT :region, {cols}, :x, nope", "nope"),
    ],
)
def test_error_positions_map_back_to_the_text_as_written(cell, blamed):
    cmd = p("", cell, region="north", cols="aaaaaaaaaaaaaa, b", a=1, bb=2, x=3)
    stmt = cmd.statements[-1]
    sent = stmt.text.index("nope")
    assert cmd.sql[stmt.cell_position(sent):].startswith(blamed)


def test_a_position_inside_a_replacement_points_at_what_was_written():
    cmd = p("SELECT :region + 1", region="north")
    stmt = cmd.statements[0]
    assert cmd.sql[stmt.cell_position(stmt.text.index("$1")) :].startswith(":region")


def test_params_are_per_statement():
    cmd = p("", "SELECT :a; SELECT 1; SELECT :b", a=1, b=2)
    assert [s.params for s in cmd.statements] == [{"a": 1}, None, {"b": 2}]


def test_numpy_scalars_become_python_values():
    np = pytest.importorskip("numpy")
    cmd = p("SELECT :n", n=np.int64(7))
    assert type(cmd.statements[0].params["n"]) is int


def test_local_scope_wins_over_user_namespace():
    cmd = parse(PARSER, "SELECT :x, {y}", None, Namespace({"x": 1, "y": "1"}, {"x": 2, "y": "2"}))
    assert cmd.statements[0].params == {"x": 2} and cmd.statements[0].text == "SELECT $1, 2"


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("--bogus", None, "unrecognized arguments"),
        ("SELECT :missing", None, ":missing has no value"),
        ("--diff main", None, "--diff takes two branches"),
        ("--diff a b c d", None, "--diff takes two branches"),
        ("--arrow --polars -o x SELECT 1", None, "choose one of --arrow and --polars"),
        ("--merge a --ours --theirs", None, "choose one of --ours and --theirs"),
        ("--into main", None, "go with --merge"),
        ("--on main,exp", None, "--on needs SQL"),
        ("--on ,", "SELECT 1", "--on needs branch names"),
        ("--explain", None, "--explain needs SQL"),
        ("-o out", None, "-o / << needs a query"),
        ("-o out top <<", "SELECT 1", "not both"),
        ("--alias x", None, "--alias goes with --connect"),
        ("SELECT 1", "SELECT 2", "unexpected text on the %%sql line"),
    ],
)
def test_usage_errors(line, cell, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("|", r"\|")):
        p(line, cell)


def test_find_params_skips_literals_comments_and_casts():
    sql = "SELECT :a, ':b', \"c:d\", x::int, $$ :e $$, E'\\' :f' /* :g */ -- :h\n, :i"
    assert [prm.name for prm in sqltext.find_params(sql)] == ["a", "i"]


def test_leading_keywords_and_trivia():
    assert sqltext.leading_keywords("/* c */ -- x\n  explain (analyze) select", 3) == ["EXPLAIN", "ANALYZE", "SELECT"]
    assert sqltext.skip_leading_trivia("  -- x\n/* y */ SELECT") == 15


def test_statement_position_maps_through_rewrites():
    from rustmemodb_lab.command import Statement

    stmt = Statement("EXPLAIN ANALYZE SELECT nope", offset=10, index=0)
    rewritten = stmt.rewritten("EXPLAIN (ANALYZE, FORMAT JSON) ", len("EXPLAIN ANALYZE "))
    pos = rewritten.text.index("nope")
    assert rewritten.cell_position(pos) == 10 + stmt.text.index("nope")
    assert rewritten.cell_position(None) is None


def test_a_connection_string_is_split_off_and_interpolated():
    cmd = p("sqlite:///{path} SELECT 1", path="/tmp/x.db")
    assert cmd.connect_url == "sqlite:////tmp/x.db" and [s.text for s in cmd.statements] == ["SELECT 1"]
    assert p("--alias d duckdb://").connect_url == "duckdb://"
    assert p("SELECT 'postgresql://x'").connect_url is None
