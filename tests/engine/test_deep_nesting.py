"""Deep statements execute without touching the recursion limit (issue 10).

Statements nested up to ``sql/limits.MAX_NESTING`` (1,000) levels -- parenthesised
arithmetic, nested CASE, nested calls with one or several arguments, NOT, unary minus --
and queries nested up to ``MAX_QUERY_NESTING`` (200) levels execute and give the right
answer, also when the caller's stack is already deep (a notebook cell); one level more
is 54001. Slicing the parse (sql/outline.py) builds the tree sqlglot builds from the
whole text; the fresh-stack hop (deep.py) returns results, raises errors and carries the
statement's context variables as a direct call does.
"""
import contextvars
import sys

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import rustmemodb
from rustmemodb import deep, errors
from rustmemodb.sql import limits, outline
from rustmemodb.sql.parse import DIALECT, _fold_case

N = limits.MAX_NESTING
Q = limits.MAX_QUERY_NESTING


@pytest.fixture(scope="module")
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (x INTEGER)")
    c.execute("INSERT INTO t VALUES (1), (-2)")
    return c


def at_stack_depth(depth, fn):
    if depth > 0:
        return at_stack_depth(depth - 1, fn)
    return fn()


# (statement at nesting n, expected rows at n = MAX_NESTING)
KINDS = {
    "arithmetic": (lambda n: "SELECT " + "1+(" * n + "1" + ")" * n, [(N + 1,)]),
    "left-deep arithmetic": (lambda n: "SELECT " + "(" * n + "1" + "+1)" * n, [(N + 1,)]),
    "case": (lambda n: "SELECT " + "CASE WHEN x > 0 THEN " * n + "x" + " ELSE -x END" * n
             + " FROM t ORDER BY 1", [(1,), (2,)]),
    "calls": (lambda n: "SELECT " + "abs(" * n + "x" + ")" * n + " FROM t ORDER BY 1",
              [(1,), (2,)]),
    "calls with several arguments": (
        lambda n: "SELECT " + "coalesce(NULL, " * n + "x" + ")" * n + " FROM t ORDER BY 1",
        [(-2,), (1,)]),
    "not": (lambda n: "SELECT " + "NOT (" * n + "x > 0" + ")" * n + " FROM t ORDER BY 1",
            [(False,), (True,)]),
    "unary minus": (lambda n: "SELECT " + "-(" * n + "x" + ")" * n + " FROM t ORDER BY 1",
                    [(-2,), (1,)]),
    "case with lists": (lambda n: "SELECT " + "CASE WHEN x IN (1, 2) THEN greatest(0, " * (n // 2)
                        + "x" + ") ELSE 7 END" * (n // 2) + " FROM t ORDER BY 1",
                        [(1,), (7,)]),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_nesting_to_the_documented_depth_executes(conn, kind):
    make, expect = KINDS[kind]
    assert conn.execute(make(N)).fetchall() == expect


@pytest.mark.parametrize("kind", ["arithmetic", "case", "calls", "calls with several arguments"])
def test_deep_nesting_executes_from_a_notebook_deep_stack(conn, kind):
    make, expect = KINDS[kind]
    for depth in (60, 400):
        assert at_stack_depth(depth, lambda: conn.execute(make(N)).fetchall()) == expect


@pytest.mark.parametrize("kind", list(KINDS))
def test_one_level_beyond_is_54001(conn, kind):
    make, _ = KINDS[kind]
    n = N + 1 if kind != "case with lists" else N + 2
    with pytest.raises(errors.Error) as e:
        conn.execute(make(n))
    assert e.value.sqlstate == "54001"
    assert "1000" in str(e.value)
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(2,)]


def test_queries_nest_to_their_documented_depth(conn):
    scalar = lambda n: "SELECT " + "(SELECT " * n + "1" + ")" * n
    derived = lambda n: "SELECT * FROM " + "(SELECT * FROM " * n + "t" + ") s" * n + " ORDER BY 1"
    assert conn.execute(scalar(Q)).fetchall() == [(1,)]
    assert conn.execute(derived(Q)).fetchall() == [(-2,), (1,)]
    for sql in (scalar(Q + 1), derived(Q + 1)):
        with pytest.raises(errors.Error) as e:
            conn.execute(sql)
        assert e.value.sqlstate == "54001"
        assert str(Q) in str(e.value)


def test_nesting_without_brackets_is_54001_not_recursion_error(conn):
    sql = "SELECT " + "- " * 3000 + "1"
    with pytest.raises(errors.Error) as e:
        at_stack_depth(100, lambda: conn.execute(sql))
    assert e.value.sqlstate == "54001"


@pytest.mark.parametrize("n", [3, 4, 1000, 3001])
def test_runs_of_not_of_any_length_execute(conn, n):
    """NOT NOT x is x on booleans and NULL alike; a run keeps its parity."""
    rows = at_stack_depth(100, lambda: conn.execute(
        "SELECT x, " + "NOT " * n + "(x > 0) FROM t ORDER BY x").fetchall())
    assert rows == [(-2, n % 2 == 1), (1, n % 2 == 0)]
    assert conn.execute("SELECT count(*) FROM t WHERE " + "NOT " * n + "x IS NULL"
                        ).fetchone() == ((2 if n % 2 else 0),)
    with pytest.raises(errors.Error) as e:        # the operand is still type-checked
        conn.execute("SELECT " + "NOT " * n + "5")
    assert e.value.sqlstate == "42804"


def test_unbalanced_deep_brackets_are_syntax_errors(conn):
    for sql in ("SELECT " + "1+(" * 500 + "1" + ")" * 499,
                "SELECT " + "1+(" * 499 + "1" + ")" * 500,
                "SELECT " + "CASE WHEN true THEN " * 300 + "1" + " END" * 299):
        with pytest.raises(errors.Error) as e:
            conn.execute(sql)
        assert e.value.sqlstate == "42601"


# ---- slicing builds the same tree ------------------------------------------------------------

def _tokens(sql):
    return _fold_case(DIALECT.tokenizer().tokenize(sql))


_LEAVES = ["x", "1", "'a'", "NULL", "t.x", "$1"]
# Every bracket form the slicer cuts or must leave alone; "{}" is the inner expression.
_FORMS = [
    "({})", "1 + ({})", "abs({})", "coalesce(x, {}, 2)", "CASE WHEN x > 0 THEN {} ELSE 0 END",
    "CASE {} WHEN 1 THEN 2 END", "(SELECT {})", "x IN (1, {})", "x IN (SELECT {} FROM t)",
    "EXISTS (SELECT {})", "CAST(({}) AS text)", "position('a' IN ({})::text)",
    "count(DISTINCT ({}))", "NOT ({})", "greatest({}, (x))", "({}, 1)",
]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.integers(0, len(_FORMS) - 1), min_size=outline.SLICE + 1, max_size=180),
       st.integers(0, len(_LEAVES) - 1))
def test_sliced_parse_builds_the_tree_sqlglot_builds(forms, leaf):
    text = _LEAVES[leaf]
    for i in forms:
        text = _FORMS[i].replace("{}", text)
    sql = f"SELECT {text}, 5 FROM t WHERE x > 0"
    try:
        whole = DIALECT.parser().parse(_tokens(sql), sql)[0]
    except RecursionError:
        return   # deeper than sqlglot parses whole: nothing to compare with
    sliced = outline.parse_sliced(_tokens(sql), sql, DIALECT.parser)
    assert sliced is not None or any(_FORMS[i].startswith(("x IN (SELECT", "EXISTS")) for i in forms)
    if sliced is not None:
        assert sliced.sql(dialect="postgres") == whole.sql(dialect="postgres")
        # one shape may differ: sqlglot reads a parenthesised subquery inside further
        # parentheses sometimes as Subquery(Subquery(q)), the slicer as Paren(Subquery(q))
        # -- the same value, the same SQL text
        assert _shape(sliced) == _shape(whole)


def _shape(tree) -> str:
    from sqlglot import exp
    tree = tree.copy()
    for node in list(tree.find_all(exp.Subquery)):
        if isinstance(node.this, exp.Subquery) and not any(
                v for k, v in node.args.items() if k != "this"):
            node.replace(exp.Paren(this=node.this))
    return repr(tree)


def test_slicing_keeps_token_positions_for_error_messages(conn):
    sql = "SELECT " + "1+(" * 300 + "nosuchcolumn" + ")" * 300
    with pytest.raises(errors.Error) as e:
        conn.execute(sql)
    assert e.value.sqlstate == "42703"
    assert getattr(e.value, "position", None) in (None, sql.index("nosuchcolumn"))


# ---- the fresh-stack hop ----------------------------------------------------------------------

_VAR = contextvars.ContextVar("test_deep_var", default=None)


@deep.deep
def _count_down(n):
    return _VAR.get() if n == 0 else _count_down(n - 1)


@deep.deep
def _fail_at(n):
    if n == 0:
        raise errors.sql_error("57014", "canceling statement due to user request")
    return _fail_at(n - 1)


def test_recursion_far_beyond_the_limit_with_context_and_errors():
    limit = sys.getrecursionlimit()
    token = _VAR.set("mine")
    try:
        assert _count_down(sys.getrecursionlimit() * 5) == "mine"
        with pytest.raises(errors.Error) as e:
            _fail_at(sys.getrecursionlimit() * 3)
        assert e.value.sqlstate == "57014"
    finally:
        _VAR.reset(token)
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t WHERE a = 1 AND b = 2 OR c = 3 " + "AND d = 4 " * 10,
    "SELECT a FROM t WHERE " + " AND ".join(f"c{i} = {i}" for i in range(limits.BALANCE_FROM)),
    " UNION ".join(f"SELECT {i}" for i in range(limits.BALANCE_FROM + 2)),
    "SELECT band, orange, 'and or and' FROM t WHERE x = 1 " + "OR y = 2 " * 13,
])
def test_balancing_skipped_only_where_it_would_change_nothing(sql):
    # balance(tree, sql) may skip its walks on a text too short to be too deep and with
    # too few chain words: the tree must then be exactly what the full walk leaves.
    def parsed():
        tokens = _fold_case(DIALECT.tokenizer().tokenize(sql))
        return DIALECT.parser().parse(tokens, sql)[0]
    assert limits.balance(parsed(), sql) == limits.balance(parsed())
