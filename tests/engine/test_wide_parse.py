"""Huge statements are tokenized and parsed in bounded steps (sql/wide.py), so
interrupt() and statement_timeout stop them while they are parsed and planned.

The sliced parse must build exactly the tree a whole parse builds, or decline (the
whole parse then runs and reports errors as usual); the cut sizes are lowered here so
that small statements exercise every path.
"""
import threading
import time

import pytest
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres

import rustmemodb
from rustmemodb import errors
from rustmemodb.sql import parse, wide


@pytest.fixture
def small_cuts(monkeypatch):
    monkeypatch.setattr(wide, "PIECE", 40)
    monkeypatch.setattr(wide, "RUN_TOKENS", 16)
    monkeypatch.setattr(parse, "_WIDE", 50)


def whole(sql):
    tokens = parse._fold_case(parse._tokenizer().tokenize(sql))
    return Postgres().parser().parse(tokens, sql)[0]


SLICED = [
    "SELECT 1 WHERE x IN (" + ", ".join(str(i) for i in range(200)) + ")",
    "INSERT INTO t VALUES " + ",\n".join(f"({i}, 'it''s, {i}', NULL)" for i in range(100)),
    "INSERT INTO t (a, b) VALUES " + ", ".join(f"({i}, ARRAY[{i}, 2])" for i in range(100))
    + " ON CONFLICT (a) DO UPDATE SET b = excluded.b, a = 1 RETURNING a, b",
    "SELECT count(*) FROM (VALUES " + ", ".join(f"({i}, \"Q\", 'x')" for i in range(100))
    + ") v(a, b, c) WHERE a IN (" + ", ".join(f"{i} + 1" for i in range(100)) + ")",
    "SELECT coalesce(" + ", ".join(f"c{i}" for i in range(100)) + ") FROM t",
    "SELECT ARRAY[" + ", ".join(str(i) for i in range(200)) + "] -- a, comment\n, 2",
    "SELECT greatest(" + ", ".join(f"$1 * {i}" for i in range(100)) + ")",
]


@pytest.mark.parametrize("sql", SLICED)
def test_sliced_parse_builds_the_whole_parse_tree(small_cuts, sql, monkeypatch):
    calls = []
    real = wide._Runs._cut
    monkeypatch.setattr(wide._Runs, "_cut", lambda self, f: calls.append(1) or real(self, f))
    tree = parse.parse_one(sql)
    assert calls, "the statement was not sliced"
    assert tree == whole(sql)
    assert tree.sql(dialect="postgres") == whole(sql).sql(dialect="postgres")


@pytest.mark.parametrize("sql", [
    "SELECT 1 WHERE x IN (" + ", ".join(f"{i} y{i}" for i in range(100)) + ")",   # aliases
    "SELECT f(" + ", ".join(str(i) for i in range(100)) + " ORDER BY 1, 2)",
    "SELECT E'a\\'b', " + ", ".join(str(i) for i in range(100)),   # backslash: not cut
    "SELECT $$a, b$$, (" + ", ".join(str(i) for i in range(100)) + ")",
])
def test_what_cannot_be_sliced_parses_as_a_whole(small_cuts, sql):
    try:
        want = ("ok", whole(sql))
    except Exception as exc:   # noqa: BLE001 - compared below
        want = ("error", type(exc).__name__)
    try:
        got = ("ok", parse.parse_one(sql))
    except errors.Error:
        got = ("error", "ParseError")
    assert got == want


def test_syntax_errors_inside_a_sliced_list_report_the_whole_text_position(small_cuts):
    items = [str(i) for i in range(200)]
    items[150] = "1 +"
    sql = "SELECT 1 WHERE x IN (" + ", ".join(items) + ")"
    with pytest.raises(errors.ProgrammingError) as e:
        parse.parse_one(sql)
    assert e.value.sqlstate == "42601"
    assert e.value.position is not None and abs(e.value.position - sql.index("1 +,")) < 8


@pytest.mark.parametrize("sql", [
    "SELECT\n  " + ",\n  ".join(f"'s{i}'" for i in range(60)) + ", nope(",
    # a WHERE chain has no commas: cut before OR / AND, never inside 'x or y', "and",
    # order, android, or a multi-word keyword such as ORDER BY or IS NOT
    "SELECT count(*) FROM t WHERE " + "\n OR ".join(
        f"a = {i} AND \"and\" = 'x or y' aNd android IS NOT NULL" for i in range(60))
    + " ORDER BY a",
])
def test_token_positions_across_pieces(small_cuts, sql):
    tokens = wide.tokenize(sql, parse._tokenizer())
    plain = parse._tokenizer().tokenize(sql)
    assert [(t.token_type, t.text, t.start, t.end, t.line, t.col) for t in tokens] == \
        [(t.token_type, t.text, t.start, t.end, t.line, t.col) for t in plain]


def _huge_values(n=60_000, salt=0):
    return f"SELECT count(*) + {salt} FROM (VALUES " + ", ".join(
        f"({i}, 'x{i}')" for i in range(n)) + ") v(a, b)"


def _whole_parse_seconds(sql):
    t = time.perf_counter()
    whole(sql)
    return time.perf_counter() - t


def test_interrupt_during_the_parse_of_a_megabyte_statement():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a INT)")
    sql = _huge_values()
    assert len(sql) > 1_000_000
    parse_alone = _whole_parse_seconds(sql)     # what one uninterruptible call would take
    threading.Timer(0.05, conn.interrupt).start()
    t = time.perf_counter()
    with pytest.raises(errors.QueryCanceled) as e:
        conn.execute(sql)
    took = time.perf_counter() - t
    assert "user request" in e.value.message
    assert took < parse_alone        # stopped inside the parse, not after it
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    conn.execute("INSERT INTO t VALUES (1)")
    assert conn.execute("SELECT a FROM t").fetchall() == [(1,)]


def test_statement_timeout_covers_parsing_and_planning():
    conn = rustmemodb.connect()
    sql = _huge_values(salt=1)
    parse_alone = _whole_parse_seconds(sql)
    conn.execute("SET statement_timeout = '50ms'")
    t = time.perf_counter()
    with pytest.raises(errors.QueryCanceled) as e:
        conn.execute(sql)
    assert "statement timeout" in e.value.message
    assert time.perf_counter() - t < parse_alone
    conn.execute("RESET statement_timeout")
    assert conn.execute("SELECT 42").fetchall() == [(42,)]


def _or_operands(node, kind=None):
    """The operands of an OR (or AND) chain, whatever its grouping (a sliced run is a
    Paren); AND chains inside are flattened too, so both groupings compare equal."""
    while isinstance(node, exp.Paren) and isinstance(node.this, (exp.Or, exp.And)):
        node = node.this
    kind = kind or type(node)
    if isinstance(node, kind):
        return _or_operands(node.this, kind) + _or_operands(node.expression, kind)
    if isinstance(node, exp.And) and kind is exp.Or:
        return [tuple(_or_operands(node, exp.And))]
    return [node]


OR_CHAINS = [
    "SELECT count(*) FROM t WHERE " + " OR ".join(
        f"(a = {i} AND b <> 'x or y')" for i in range(60)) + " ORDER BY 1",
    "SELECT 1 FROM t WHERE NOT a = 0 OR " + " OR ".join(
        f"a BETWEEN {i} AND {i + 1}" for i in range(60)) + " OR b IS NOT NULL",
    "SELECT (" + " OR ".join(f"a IN ({i}, {i + 1})" for i in range(60)) + ") AS hit, 2 FROM t",
    # AND chains: a BETWEEN's AND is not a separator; ORs between AND runs
    "SELECT 1 FROM t WHERE " + " AND ".join(
        f"a BETWEEN {i} AND {i + 9}" if i % 3 else f"b <> 'and {i}'" for i in range(60)),
    "SELECT 1 FROM t WHERE " + " AND ".join(f"a <> {i}" for i in range(40)) + " OR "
    + " AND ".join(f"NOT b = 'x{i}'" for i in range(40)) + " OR c",
]


def _chain_heads(tree) -> list:
    """The top node of every whole OR/AND chain in ``tree``, in walk order."""
    heads = []
    for node in tree.walk():
        if isinstance(node, (exp.Or, exp.And)):
            parent = node.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if not isinstance(parent, (exp.Or, exp.And)):
                heads.append(node)
    return heads


def _chains(tree) -> list:
    """The operand lists of every whole chain in ``tree``."""
    return [_or_operands(node) for node in _chain_heads(tree)]


def _without_chains(tree):
    """``tree`` with each whole chain replaced by one column (the rest compares as is)."""
    tree = tree.copy()
    for node in _chain_heads(tree):
        node.replace(exp.column("chain"))
    return tree


@pytest.mark.parametrize("sql", OR_CHAINS + [
    "SELECT a OR b AS x, " + " OR ".join(f"c{i}" for i in range(60)) + " FROM t"])
def test_long_or_chains_are_parsed_in_runs_with_the_same_operands(small_cuts, sql, monkeypatch):
    calls = []
    real = wide._Runs._cut_chain
    monkeypatch.setattr(wide._Runs, "_cut_chain",
                        lambda self, f, a: calls.append(a) or real(self, f, a))
    tree, plain = parse.parse_one(sql), whole(sql)
    assert calls, "the chain was not cut"
    assert _chains(tree) == _chains(plain)
    assert sum(len(x) if isinstance(x, tuple) else 1 for c in _chains(tree) for x in c) >= 60
    assert _without_chains(tree) == _without_chains(plain)   # the rest is the same


@pytest.mark.parametrize("sql", [
    "SELECT CASE WHEN " + " OR ".join(f"a = {i} THEN {i} WHEN b = {i}" for i in range(40))
    + " THEN 0 END FROM t",
    "SELECT " + " OR ".join(f"a{i} AS x{i}" for i in range(40)) + " FROM t",
])
def test_or_runs_that_are_not_plain_operands_fall_back_to_the_whole_parse(small_cuts, sql):
    try:
        plain = whole(sql)
    except Exception:                 # not SQL at all: the same error either way
        with pytest.raises(errors.Error):
            parse.parse_one(sql)
        return
    assert parse.parse_one(sql) == plain


@pytest.mark.parametrize("word", ["OR", "AND"])
def test_interrupt_during_the_parse_of_a_megabyte_boolean_chain(word):
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a INT)")
    sql = "SELECT count(*) FROM t WHERE " + f" {word} ".join(
        f"a {'=' if word == 'OR' else '<>'} {i}" for i in range(100_000))
    assert len(sql) > 1_000_000 and "," not in sql
    parse_alone = _whole_parse_seconds(sql)
    threading.Timer(0.05, conn.interrupt).start()
    t = time.perf_counter()
    with pytest.raises(errors.QueryCanceled):
        conn.execute(sql)
    assert time.perf_counter() - t < parse_alone      # stopped inside the parse
