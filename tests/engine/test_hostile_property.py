"""Property tests: hostile SQL text and parameters never escape as Python exceptions.

hypothesis generates statements from random tokens (keywords, operators, brackets,
huge numbers, odd unicode, lone surrogates, NUL, comments, placeholders), deeply nested
and very long expressions, and parameter lists of the wrong length and of every type.
Whatever happens, only PEP 249 errors with a SQLSTATE leave the API, and afterwards the
connection still works and a canary table the statements never name is unchanged.
"""
import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rustmemodb
from rustmemodb import errors

CANARY = [(1, "one", 1.5), (2, None, float("nan")), (3, "drei ü", None)]


@pytest.fixture(scope="module")
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE canary (id INTEGER PRIMARY KEY, name TEXT, x FLOAT)")
    c.executemany("INSERT INTO canary VALUES (?, ?, ?)", CANARY)
    c.execute("CREATE TABLE s (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c FLOAT, d DATE)")
    c.execute("INSERT INTO s VALUES (1, 0, 'x', 0.0, DATE '2020-01-01'), "
              "(2, 7, NULL, CAST('NaN' AS FLOAT), NULL), (3, NULL, 'ü', -1.5, DATE '9999-12-31')")
    return c


def canary_rows(c):
    return c.execute("SELECT id, name, x FROM canary ORDER BY id").fetchall()


def same_rows(a, b) -> bool:
    def norm(rows):
        return [tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in r)
                for r in rows]
    return norm(a) == norm(b)


def run_hostile(c, sql, params):
    try:
        cur = c.execute(sql, params)
        if cur.description is not None:
            cur.fetchall()
            cur.arrow()
    except errors.Error as exc:
        assert isinstance(exc.sqlstate, str) and len(exc.sqlstate) == 5, exc
        # "internal error" is the guard's last resort: a bug, not an answer
        assert exc.sqlstate != "XX000", exc
    finally:
        if c.in_transaction:
            c.rollback()
        c.execute("RESET ALL")
    assert c.execute("SELECT 1").fetchall() == [(1,)]
    assert same_rows(canary_rows(c), CANARY)


# ---- strategies ------------------------------------------------------------------------------

WORDS = ["SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "CASE", "WHEN", "THEN", "ELSE", "END",
         "UNION", "ALL", "INTERSECT", "EXCEPT", "ORDER", "BY", "LIMIT", "OFFSET", "GROUP",
         "HAVING", "AS", "IN", "IS", "NULL", "TRUE", "FALSE", "BETWEEN", "LIKE", "CAST",
         "INTEGER", "FLOAT", "TEXT", "DATE", "INTERVAL", "TIMESTAMP", "DISTINCT", "EXISTS",
         "JOIN", "ON", "LEFT", "WITH", "RECURSIVE", "VALUES", "INSERT", "INTO", "UPDATE", "SET",
         "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "SHOW", "EXPLAIN", "s", "a", "b",
         "c", "d", "id", "coalesce", "nullif", "repeat", "chr", "abs", "generate_series",
         "length", "substr", "lpad", "count", "sum", "max", "min", "avg", "row_number", "OVER"]
SYMBOLS = ["(", ")", ",", "+", "-", "*", "/", "%", "=", "<>", "<", ">=", "||", "::", ";", ".",
           "?", "$1", "$2", "$0", "$99999999999", ":x", "%s", "[", "]", "'", '"', "$$"]
NUMBERS = st.one_of(
    st.integers(-2 ** 70, 2 ** 70).map(str),
    st.sampled_from(["1e400", "-1e400", "0.0", "1e-400", "9223372036854775807",
                     "-9223372036854775808", "9223372036854775808", "1000000000000",
                     "10000000000", "2147483648", "0x10", "1_000", ".5", "5."]))
ODD_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF,
                                          blacklist_categories=()), max_size=12)
STRINGS = st.one_of(
    ODD_TEXT.map(lambda t: "'" + t.replace("'", "''") + "'"),
    st.sampled_from(["'\ud800'", "'a\udfffb'", "'\x00'", "'NaN'", "'Infinity'", "'9999-12-31'",
                     "'99999999999999 years'", "'2147483647 days'", "E'\\\\x'", "''",
                     "'%'", "U&'\\0041'", "$$x$$", "'-- not a comment'"]))
COMMENTS = st.sampled_from(["-- c\n", "/* c */", "/* (( */", "--", "/*", "*/"])

TOKEN = st.one_of(st.sampled_from(WORDS), st.sampled_from(SYMBOLS), NUMBERS, STRINGS, COMMENTS)


@st.composite
def random_tokens(draw):
    return " ".join(draw(st.lists(TOKEN, min_size=1, max_size=30)))


ATOMS = st.one_of(st.sampled_from(["a", "c", "1", "0", "NULL", "id", "$1", "?", "b",
                                   "(a / 0)", "(100 / a)", "1e308 * 10", "repeat(b, a)",
                                   "CAST(b AS INTEGER)", "d + 1", "chr(a * 1000000)"]),
                  NUMBERS)


@st.composite
def deep_expressions(draw):
    depth = draw(st.sampled_from([1, 10, 50, 99, 150, 500, 1200, 3000]))
    shape = draw(st.sampled_from(["(", "(1 + ", "NOT (", "abs(", "- ", "(SELECT ",
                                  "coalesce(NULL, ", "CASE WHEN a = 0 THEN 0 ELSE "]))
    atom = draw(ATOMS)
    close = {"(": ")", "(1 + ": ")", "NOT (": ")", "abs(": ")", "- ": "",
             "(SELECT ": ")", "coalesce(NULL, ": ")", "CASE WHEN a = 0 THEN 0 ELSE ": " END"}
    body = shape * depth + atom + close[shape] * depth
    return draw(st.sampled_from([f"SELECT {body}", f"SELECT {body} FROM s",
                                 f"SELECT id FROM s WHERE {body} IS NULL"]))


@st.composite
def long_chains(draw):
    n = draw(st.sampled_from([2, 17, 300, 3000]))
    op = draw(st.sampled_from([" OR ", " AND ", " UNION ALL ", " UNION ", " INTERSECT ",
                               " EXCEPT ", " + ", " || "]))
    atom = draw(ATOMS)
    if op.strip() in ("UNION ALL", "UNION", "INTERSECT", "EXCEPT"):
        return op.join(f"SELECT {atom}" for _ in range(n))
    return "SELECT id FROM s WHERE " + op.join(f"({atom} = {i})" for i in range(n))


PARAM = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 80, 2 ** 80),
    st.floats(allow_nan=True, allow_infinity=True), ODD_TEXT,
    st.sampled_from(["\ud800", "a\udfff", "\x00", "9999-12-31", "NaN", "1e400"]),
    st.binary(max_size=8), st.dates(), st.datetimes(),
    st.sampled_from([dt.date.max, dt.datetime.min, dt.timedelta(days=999999999),
                     dt.timedelta(microseconds=-1), [1, [2]], {"k": float("nan")}, object(),
                     b"\xff", bytearray(b"x"), 1 + 2j, Ellipsis]))
PARAMS = st.one_of(st.none(), st.lists(PARAM, max_size=4), st.lists(PARAM, max_size=4).map(tuple),
                   st.dictionaries(st.sampled_from(["x", "y"]), PARAM, max_size=2),
                   PARAM)

STATEMENTS = st.one_of(random_tokens(), deep_expressions(), long_chains(),
                       st.sampled_from([
                           "SELECT $1", "SELECT ?", "SELECT :x", "SELECT %s",
                           "SELECT $1::integer + 1", "SELECT $1 || 'x'", "SELECT d + $1 FROM s",
                           "INSERT INTO s (id, a, b) VALUES ($1, $2, $3)",
                           "UPDATE s SET b = $1 WHERE id = 1", "SELECT * FROM s WHERE a = $1",
                           "SELECT repeat('ab', $1)", "SELECT chr($1)",
                           "SELECT count(*) FROM generate_series(1, $1)",
                           "SET statement_timeout = $1", "SELECT $1000000000",
                       ]))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(sql=STATEMENTS, params=PARAMS)
def test_hostile_statements_only_raise_dbapi_errors(conn, sql, params):
    run_hostile(conn, sql, params)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sql=st.one_of(random_tokens(), deep_expressions()))
def test_hostile_statements_inside_a_transaction_leave_it_usable(conn, sql):
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM canary").fetchall()
    try:
        conn.execute(sql).fetchall()
    except errors.Error:
        pass
    finally:
        conn.rollback()
    assert not conn.in_transaction
    assert same_rows(canary_rows(conn), CANARY)
