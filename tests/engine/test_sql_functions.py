"""SQL functions (sql/bind/bind_sql_functions.py) beyond what the .test file shows: they
survive a restart (log replay and checkpoint), a cached plan is replanned when the
function is replaced, a function calling itself is refused rather than expanded forever,
and a body over a table or in another language is a clear 0A000."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors


def test_durable_through_log_and_checkpoint(tmp_path):
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute("CREATE FUNCTION area(w float, h float DEFAULT 1) RETURNS float "
                 "LANGUAGE sql AS 'SELECT w * h'")
    conn.execute("CREATE FUNCTION gone(x int) RETURNS int LANGUAGE sql RETURN x")
    conn.execute("DROP FUNCTION gone(int)")
    conn.close()
    conn = rustmemodb.connect(path)                    # replayed from the log
    assert conn.execute("SELECT area(2, 3), area(4)").fetchall() == [(6.0, 4.0)]
    conn.execute("CHECKPOINT")
    conn.close()
    conn = rustmemodb.connect(path)                    # read from the checkpoint
    assert conn.execute("SELECT area(2, 3)").fetchall() == [(6.0,)]
    with pytest.raises(errors.Error) as info:
        conn.execute("SELECT gone(1)")
    assert info.value.sqlstate == "42883"
    conn.close()


def test_replacing_a_function_replans_cached_statements():
    conn = rustmemodb.connect()
    conn.execute("CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql RETURN x + 1")
    for _ in range(3):
        assert conn.execute("SELECT f(?)", (1,)).fetchall() == [(2,)]
    conn.execute("CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql RETURN x + 100")
    assert conn.execute("SELECT f(?)", (1,)).fetchall() == [(101,)]


def test_a_function_calling_itself_is_refused():
    conn = rustmemodb.connect()
    conn.execute("CREATE FUNCTION r(x int) RETURNS int LANGUAGE sql RETURN x")
    conn.execute("CREATE OR REPLACE FUNCTION r(x int) RETURNS int LANGUAGE sql RETURN r(x)")
    with pytest.raises(errors.Error) as info:
        conn.execute("SELECT r(1)")
    assert info.value.sqlstate == "54001"


@pytest.mark.parametrize("sql", [
    "CREATE FUNCTION p(a int) RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN a; END'",
    "CREATE FUNCTION q(a int) RETURNS int LANGUAGE sql AS 'SELECT a FROM t'",
    "CREATE FUNCTION s(a int) RETURNS SETOF int LANGUAGE sql AS 'SELECT a'",
])
def test_what_is_not_supported_says_so(sql):
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a int)")
    with pytest.raises(errors.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == "0A000"


def test_listed_in_pg_proc_as_language_sql():
    conn = rustmemodb.connect()
    conn.execute("CREATE FUNCTION fa(x int, y int DEFAULT 1) RETURNS int LANGUAGE sql "
                 "IMMUTABLE RETURN x + y")
    assert conn.execute(
        "SELECT p.proname, l.lanname, p.provolatile, p.pronargs, p.pronargdefaults, "
        "p.proargnames, p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.proname = 'fa'").fetchall() == [("fa", "sql", "i", 2, 1, ["x", "y"], "x + y")]


def test_a_check_constraint_may_call_a_sql_function():
    conn = rustmemodb.connect()
    conn.execute("CREATE FUNCTION small(x int) RETURNS boolean LANGUAGE sql RETURN x < 10")
    conn.execute("CREATE TABLE ck (x int CHECK (small(x)))")
    conn.execute("INSERT INTO ck VALUES (5)")
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("INSERT INTO ck VALUES (50)")
    conn.execute("CREATE OR REPLACE FUNCTION small(x int) RETURNS boolean LANGUAGE sql "
                 "RETURN x < 100")
    conn.execute("INSERT INTO ck VALUES (50)")             # the CHECK follows the function
    assert conn.execute("SELECT count(*) FROM ck").fetchall() == [(2,)]
