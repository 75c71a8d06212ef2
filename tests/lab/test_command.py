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
    assert cmd.sql == "SELECT * FROM trades WHERE j = '{\"k\": 1}' AND a = '{{a,b}}'"


def test_brace_interpolation_leaves_unknown_names_and_escapes():
    assert p("SELECT '{nope}', '{{t}}'", t="x").sql == "SELECT '{nope}', '{t}'"


def test_colon_params_are_bound_not_pasted():
    cmd = p("SELECT * FROM t WHERE sym = :sym AND px > :px AND x::INTEGER = 1 AND ':no' = ':no'", sym="A'; DROP TABLE t; --", px=3)
    stmt = cmd.statements[0]
    assert stmt.params == {"sym": "A'; DROP TABLE t; --", "px": 3}
    assert ":sym" in stmt.text and "DROP" not in stmt.text


def test_params_are_per_statement():
    cmd = p("", "SELECT :a; SELECT 1; SELECT :b", a=1, b=2)
    assert [s.params for s in cmd.statements] == [{"a": 1}, None, {"b": 2}]


def test_numpy_scalars_become_python_values():
    np = pytest.importorskip("numpy")
    cmd = p("SELECT :n", n=np.int64(7))
    assert type(cmd.statements[0].params["n"]) is int


def test_local_scope_wins_over_user_namespace():
    cmd = parse(PARSER, "SELECT :x, {y}", None, Namespace({"x": 1, "y": "1"}, {"x": 2, "y": "2"}))
    assert cmd.statements[0].params == {"x": 2} and cmd.sql == "SELECT :x, 2"


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
