"""Bad input, resource limits and branch semantics (issue 10, "Trust").

Every input, however hostile, ends in a result or a PEP 249 error carrying a SQLSTATE;
a failed statement changes nothing; deep or long statements run or fail with 54001;
statement_timeout, max_statement_memory and interrupt() stop statements cleanly.
One test per class of defect, not per example.
"""
import sys
import threading
import time

import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb import statement_limits as limits
from rustmemodb.sql import limits as sql_limits


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a BIGINT, s TEXT, v FLOAT)")
    c.execute("INSERT INTO t VALUES (1, 0, 'x', 1.0), (2, 5, '7', CAST('NaN' AS FLOAT)), (3, NULL, NULL, NULL), "
              "(4, -2, '12', 3.0)")
    return c


def state(c, sql, params=None) -> str:
    with pytest.raises(errors.Error) as e:
        c.execute(sql, params).fetchall()
    return e.value.sqlstate


def at_stack_depth(depth, fn):
    """Run fn with ``depth`` extra Python frames below it (a notebook's stack)."""
    if depth > 0:
        return at_stack_depth(depth - 1, fn)
    return fn()


# ---- long chains and deep nesting ---------------------------------------------------------

def test_flat_and_or_chains_of_10000_terms_execute(conn):
    ors = " OR ".join(f"a = {i}" for i in range(10_000))
    assert conn.execute(f"SELECT count(*) FROM t WHERE {ors}").fetchall() == [(2,)]
    # conjuncts split and re-joined by the optimizer (join pushdown) stay shallow
    ands = " AND ".join(f"t1.a <> {i + 10}" for i in range(10_000))
    assert conn.execute(f"SELECT count(*) FROM t t1 JOIN t t2 ON t1.id = t2.id "
                        f"WHERE {ands}").fetchall() == [(3,)]
    short = " OR ".join(f"a = {i}" for i in range(1, 2_000))
    assert conn.execute(f"SELECT id, {short} FROM t WHERE id < 3 ORDER BY id").fetchall() == \
        [(1, False), (2, True)]


def test_set_operation_chains_of_10000_branches_execute(conn):
    union_all = " UNION ALL ".join(f"SELECT {i}" for i in range(10_000))
    rows = conn.execute(f"SELECT count(*), sum(x) FROM ({union_all}) u(x)").fetchall()
    assert rows == [(10_000, sum(range(10_000)))]
    union = " UNION ".join(f"SELECT {i % 7}" for i in range(2_000)) + " ORDER BY 1 LIMIT 3"
    assert conn.execute(union).fetchall() == [(0,), (1,), (2,)]


def test_a_chain_keeps_its_order_by_and_limit_on_top(conn):
    text = " UNION ALL ".join(f"SELECT {i}" for i in range(100)) + " ORDER BY 1 DESC LIMIT 2"
    assert conn.execute(text).fetchall() == [(99,), (98,)]
    mixed = ("(" + " UNION ALL ".join(f"SELECT {i % 3}" for i in range(50)) + ") EXCEPT SELECT 1 "
             "ORDER BY 1")
    assert conn.execute(mixed).fetchall() == [(0,), (2,)]


def test_redundant_parentheses_1000_deep_execute(conn):
    assert conn.execute("SELECT " + "(" * 1000 + "41 + 1" + ")" * 1000).fetchall() == [(42,)]
    assert conn.execute("SELECT abs" + "(" * 500 + "-3" + ")" * 500).fetchall() == [(3,)]
    # only doubled groups collapse: a row inside a list and quoted text keep theirs
    pad = " AND (1 = 1)" * 60
    assert sql_limits.collapse_parens(f"SELECT 1 WHERE (a, b) IN ((1, 2)){pad}") == \
        f"SELECT 1 WHERE (a, b) IN ((1, 2)){pad}"
    assert sql_limits.collapse_parens(f"SELECT '((x))', ((y)){pad}") == \
        f"SELECT '((x))', ( y ){pad}"


def test_nesting_within_the_documented_depth_executes_even_on_a_deep_stack(conn):
    plus = "SELECT " + "(1 + " * 90 + "1" + ")" * 90
    scalar = "SELECT " + "(SELECT " * 25 + "1" + ")" * 25
    derived = "SELECT * FROM " + "(SELECT * FROM " * 20 + "t" + ") s" * 20 + " ORDER BY id"
    for sql, expect in ((plus, [(91,)]), (scalar, [(1,)])):
        assert at_stack_depth(200, lambda: conn.execute(sql).fetchall()) == expect
    assert len(at_stack_depth(200, lambda: conn.execute(derived).fetchall())) == 4


@pytest.mark.parametrize("sql", [
    "SELECT " + "(1 + " * 1001 + "1" + ")" * 1001,
    "SELECT " + "NOT (" * 1001 + "true" + ")" * 1001,
    "SELECT " + "(SELECT " * 300 + "1" + ")" * 300,
    "SELECT " + "abs(" * 1001 + "1" + ")" * 1001,
    "SELECT " + "- " * 2000 + "1",
    "SELECT " + " + ".join(["1"] * 10_000),
])
def test_nesting_beyond_the_limit_is_54001_at_any_stack_depth(conn, sql):
    for depth in (0, 400):
        with pytest.raises(errors.Error) as e:
            at_stack_depth(depth, lambda: conn.execute(sql))
        assert e.value.sqlstate == "54001", e.value
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]


def test_depth_is_measured_without_recursion():
    import sqlglot
    tree = sqlglot.parse_one("SELECT 1", read="postgres")
    node = tree
    for _ in range(5000):    # deeper than any recursive walk could go
        node = sqlglot.exp.Paren(this=node)
    assert sql_limits.tree_depth(node) > 5000


# ---- exceptions that used to escape ------------------------------------------------------

def test_non_string_statements_are_programming_errors(conn):
    for bad in (None, 42, b"SELECT 1", ["SELECT 1"]):
        with pytest.raises(errors.ProgrammingError) as e:
            conn.execute(bad)
        assert e.value.sqlstate == "42601"
        with pytest.raises(errors.ProgrammingError):
            conn.cursor().executemany(bad, [()])
    assert conn.execute("SELECT 1").fetchall() == [(1,)]


def test_non_sequence_parameters_are_08P01(conn):
    for bad in (5, "ab", object()):
        assert state(conn, "SELECT ?", bad) == "08P01"
    for bad in (None, 5):
        with pytest.raises(errors.ProgrammingError) as e:
            conn.cursor().executemany("SELECT ?", bad)
        assert e.value.sqlstate == "08P01"


def test_unserialisable_json_parameters_are_22P02(conn):
    conn.execute("CREATE TABLE j (id INTEGER PRIMARY KEY, doc JSON)")
    for bad in ({"a": object()}, {"a": float("nan")}, [float("inf")]):
        assert state(conn, "INSERT INTO j VALUES (1, ?)", (bad,)) == "22P02"
    conn.execute("INSERT INTO j VALUES (1, ?)", ({"a": [1, 2.5]},))
    assert conn.execute("SELECT count(*) FROM j").fetchall() == [(1,)]


def test_round_with_extreme_digits(conn):
    conn.execute("UPDATE t SET v = 1e308 WHERE id = 4")
    rows = conn.execute("SELECT round(v, -400), round(v, 400), round(v, 1) FROM t "
                        "WHERE id = 4").fetchall()
    assert rows == [(0.0, 1e308, 1e308)]
    assert conn.execute("SELECT round(1.5::float, 2147483647), round(7, -400)").fetchall() == \
        [(1.5, 0)]


def test_huge_values_fail_before_allocating(conn):
    assert state(conn, "SELECT repeat('x', 10000000000)") == "54000"
    assert state(conn, "SELECT length(repeat(s, 1000000000)) FROM t") == "54000"
    assert state(conn, "SELECT rpad('x', 2000000000)") == "54000"
    assert state(conn, "SELECT count(*) FROM generate_series(1, 1000000000000)") == "53200"
    assert state(conn, "SELECT count(*) FROM generate_series(1000000000000, 1, -1)") == "53200"
    assert conn.execute("SELECT count(*) FROM generate_series(1, 10, 3)").fetchall() == [(4,)]
    assert conn.execute("SELECT count(*) FROM generate_series(10, 1, -4)").fetchall() == [(3,)]


def test_datetime_and_interval_overflow_are_22008(conn):
    for sql in ("SELECT DATE '9999-12-31' + 1", "SELECT DATE '0001-01-01' - 1",
                "SELECT DATE '2020-01-01' + 2147483647",
                "SELECT TIMESTAMP '9999-12-31 23:00' + INTERVAL '2 hours'",
                "SELECT INTERVAL '2147483647 months 1 year'",
                "SELECT INTERVAL '2147483647 days' + INTERVAL '1 day'"):
        assert state(conn, sql) == "22008", sql
    # one field of the input past its range: PostgreSQL 15 says 22015
    assert state(conn, "SELECT INTERVAL '99999999999999 years'") == "22015"


def test_chr_follows_postgresql(conn):
    assert state(conn, "SELECT chr(1114112)") == "54000"
    assert state(conn, "SELECT chr(0)") == "54000"
    assert state(conn, "SELECT chr(55296)") == "54000"
    assert state(conn, "SELECT chr(-1)") == "22023"
    assert conn.execute("SELECT chr(1114111) = chr(1114111), chr(65)").fetchall() == [(True, "A")]


def test_out_of_range_integer_parameters_are_22003_and_never_stored(conn):
    sql = "INSERT INTO t (id, a) VALUES (?, ?)"
    conn.execute(sql, (10, 1))                  # cached plan with exact parameter types
    for bad in ((2 ** 63, 1), (11, -2 ** 63 - 1), (11, 10 ** 30)):
        assert state(conn, sql, bad) == "22003"
    assert state(conn, "SELECT ?", (2 ** 64,)) == "22003"
    assert conn.execute("SELECT ?::float", (2 ** 64,)).fetchall() == [(float(2 ** 64),)]
    conn.execute(sql, (11, 2 ** 63 - 1))
    assert conn.execute("SELECT count(*), max(a) FROM t").fetchall() == [(6, 2 ** 63 - 1)]


def test_lone_surrogates_are_22021_in_text_and_parameters(conn):
    assert state(conn, "SELECT 'a\ud800b'") == "22021"
    assert state(conn, "INSERT INTO t (id, s) VALUES (20, 'b\udfff')") == "22021"
    sql = "INSERT INTO t (id, s) VALUES (?, ?)"
    conn.execute(sql, (21, "ok"))
    assert state(conn, sql, (22, "a\ud800")) == "22021"
    assert state(conn, "SELECT ?", ("\udc80",)) == "22021"
    rows = conn.execute("SELECT id, s FROM t ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 21]
    assert conn.execute("SELECT 'é' || ?", ("ü",)).fetchall() == [("éü",)]


def test_parameter_numbers_beyond_the_statement_are_42P02_at_once(conn):
    assert state(conn, "SELECT $1000000000") == "42P02"
    assert state(conn, "SELECT $0") == "42P02"
    assert state(conn, "SELECT $70000") == "42P02"
    assert state(conn, "SELECT $2", (1,)) == "42P02"
    assert state(conn, "SELECT $1") == "42P02"
    assert conn.execute("SELECT $2, $1", (1, 2)).fetchall() == [(2, 1)]


def test_a_stray_python_exception_becomes_an_internal_error(conn, monkeypatch):
    from rustmemodb.exec.functions import string
    calls = []

    def broken(*args):
        calls.append(args)
        raise ValueError("boom")
    fn = conn.database.functions.lookup("initcap")
    monkeypatch.setattr(fn, "row", broken)
    monkeypatch.setattr(fn, "vector", None)
    with pytest.raises(errors.InternalError) as e:
        conn.execute("SELECT initcap(s) FROM t").fetchall()
    assert e.value.sqlstate == "XX000" and "ValueError" in e.value.message
    assert calls
    assert string is not None
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]


def test_recursion_and_memory_errors_map_to_their_sqlstates():
    from rustmemodb.api.guard import as_db_error
    assert as_db_error(RecursionError()).sqlstate == "54001"
    assert as_db_error(MemoryError()).sqlstate == "53200"
    assert as_db_error(KeyboardInterrupt()).sqlstate == "57014"
    assert as_db_error(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "x")).sqlstate == "22021"
    assert as_db_error(OverflowError("x")).sqlstate == "22003"
    assert isinstance(as_db_error(KeyError("k")), errors.InternalError)


# ---- statement classification ------------------------------------------------------------

def test_leading_comments_do_not_hide_transaction_control(conn):
    conn.execute("/* x */ BEGIN")
    assert conn.in_transaction
    conn.execute("INSERT INTO t (id) VALUES (30)")
    conn.execute("-- note\nCOMMIT")
    assert not conn.in_transaction
    conn.execute("  \n\t-- a\n/* b */  BEGIN")
    conn.execute("INSERT INTO t (id) VALUES (31)")
    conn.execute("SAVEPOINT p")
    conn.execute("INSERT INTO t (id) VALUES (32)")
    conn.execute("/* back */ ROLLBACK TO SAVEPOINT p")
    conn.execute("-- done\n COMMIT")
    assert [r[0] for r in conn.execute("SELECT id FROM t WHERE id >= 30 ORDER BY id")] == [30, 31]
    assert conn.execute("/* plan */ EXPLAIN SELECT 1").fetchall()
    conn.execute("-- set\nSET statement_timeout = 5000")
    assert conn.execute("/* show */ SHOW statement_timeout").fetchall() == [("5s",)]
    assert state(conn, "-- nothing but a comment") == "42601"


# ---- resource limits ------------------------------------------------------------------------

LONG = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


def test_statement_timeout(conn):
    assert conn.execute("SHOW statement_timeout").fetchall() == [("0",)]
    conn.execute("SET statement_timeout = '100ms'")
    assert conn.execute("SHOW statement_timeout").fetchall() == [("100ms",)]
    with pytest.raises(errors.QueryCanceled) as e:
        conn.execute(LONG)
    assert e.value.sqlstate == "57014" and "statement timeout" in e.value.message
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]
    conn.execute("SET statement_timeout = 250")
    assert conn.execute("SHOW statement_timeout").fetchall() == [("250ms",)]
    assert state(conn, "SET statement_timeout = 'later'") == "22023"
    assert state(conn, "SET statement_timeout = '5 fortnights'") == "22023"
    conn.execute("RESET statement_timeout")
    assert conn.execute("SHOW statement_timeout").fetchall() == [("0",)]


def test_statement_timeout_inside_a_transaction_rolls_back_the_statement(conn):
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t (id) VALUES (40)")
    conn.execute("SET statement_timeout = 50")
    with pytest.raises(errors.QueryCanceled):
        conn.execute("INSERT INTO t (id) SELECT n + 100 FROM (" + LONG.replace(
            "SELECT count(*) FROM r", "SELECT n FROM r") + ") x")
    assert state(conn, "SELECT 1") == "25P02"
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]


def test_max_statement_memory(conn):
    conn.execute("SET max_statement_memory = '64MB'")
    assert conn.execute("SHOW max_statement_memory").fetchall() == [("64MB",)]
    for sql in ("SELECT count(*) FROM generate_series(1, 100000000)",
                "SELECT count(*) FROM generate_series(1, 20000) a, generate_series(1, 20000) b",
                "SELECT count(*) FROM generate_series(1, 100000) a JOIN generate_series(1, 100000)"
                " b ON a % 10 = b % 10"):
        with pytest.raises(errors.OperationalError) as e:
            conn.execute(sql)
        assert e.value.sqlstate == "53200" and "64MB" in e.value.detail
    assert conn.execute("SELECT count(*) FROM generate_series(1, 100000) a JOIN "
                        "generate_series(1, 100000) b ON a = b").fetchall() == [(100000,)]
    assert state(conn, "SET max_statement_memory = 'lots'") == "22023"
    conn.execute("SET max_statement_memory = 1024")          # plain numbers are kB
    assert conn.execute("SHOW max_statement_memory").fetchall() == [("1MB",)]
    conn.execute("RESET ALL")
    assert conn.execute("SHOW max_statement_memory").fetchall() == [("0",)]
    assert conn.execute("SELECT count(*) FROM generate_series(1, 10000000)").fetchall() == \
        [(10000000,)]


def _interrupt_soon(conn, delay=0.2):
    def run():
        time.sleep(delay)
        conn.interrupt()
    threading.Thread(target=run, daemon=True).start()


def test_interrupt_stops_execution(conn):
    _interrupt_soon(conn)
    with pytest.raises(errors.QueryCanceled) as e:
        conn.execute(LONG)
    assert "user request" in e.value.message
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]


def test_interrupt_stops_planning(conn):
    # the series is built while binding (constant arguments), in interruptible slices
    _interrupt_soon(conn, 0.05)
    with pytest.raises(errors.QueryCanceled):
        conn.execute("SELECT count(*) FROM generate_series(1, 1500000000)")
    assert conn.execute("SELECT 1").fetchall() == [(1,)]


@pytest.mark.parametrize("shape", ["flat", "deep"])
def test_interrupt_during_the_parse_of_a_huge_statement(conn, shape):
    # sqlglot's compiled parser holds the GIL: the interrupt lands when it returns (the
    # statement is checked right after parsing) or, for deep statements parsed in
    # slices, between slices. Either way: 57014, and the connection is usable.
    if shape == "flat":
        sql = "SELECT count(*) FROM t WHERE " + " OR ".join(f"a = {i}" for i in range(60_000))
    else:
        sql = "SELECT " + ", ".join("1+(" * 900 + str(i) + ")" * 900 for i in range(40))
    _interrupt_soon(conn, 0.05)
    with pytest.raises(errors.QueryCanceled):
        conn.execute(sql).fetchall()
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]


def test_interrupt_stops_row_at_a_time_functions(conn):
    conn.register_function("ident", lambda x: x, ["INTEGER"], "INTEGER")
    _interrupt_soon(conn)
    with pytest.raises(errors.QueryCanceled):
        conn.execute("SELECT sum(ident(a.x)) FROM generate_series(1, 30000000) a(x)")


def test_an_interrupt_before_a_statement_does_not_cancel_it(conn):
    conn.interrupt()
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(4,)]


def test_limits_settings_parse_like_postgresql():
    assert limits.parse_timeout("100") == 100
    assert limits.parse_timeout("1.5s") == 1500
    assert limits.parse_timeout("2min") == 120_000
    assert limits.show_timeout(3_600_000) == "1h"
    assert limits.parse_memory("64MB") == 64 << 20
    assert limits.parse_memory("2GB") == 2 << 30
    assert limits.format_bytes(3 << 29) == "1.5GB"
    assert limits.format_bytes(1536 << 10) == "1.5MB"
    assert limits.format_bytes(10 ** 10).endswith("GB")
    with pytest.raises(errors.Error):
        limits.parse_timeout("-1")


def test_no_process_wide_state_is_changed(conn):
    before = sys.getrecursionlimit(), threading.stack_size()
    conn.execute("SELECT " + "(" * 1000 + "1" + ")" * 1000)
    assert conn.execute("SELECT " + "(1 + " * 1000 + "1" + ")" * 1000).fetchall() == [(1001,)]
    with pytest.raises(errors.Error):
        conn.execute("SELECT " + "(1 + " * 1001 + "1" + ")" * 1001)
    assert (sys.getrecursionlimit(), threading.stack_size()) == before
