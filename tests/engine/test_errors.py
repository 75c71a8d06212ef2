"""Errors carry SQLSTATE, message, hint and position; failed statements change nothing."""
import pytest

import rustmemodb


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, "
              "email TEXT UNIQUE)")
    c.execute("INSERT INTO users VALUES (1, 'ada', 36, 'a@x')")
    return c


def error_of(conn, sql, params=None):
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute(sql, params)
    return e.value


@pytest.mark.parametrize("sql,state,cls", [
    ("INSERT INTO users (id, name, age) VALUES (2, 'b', 'thirty')", "42804", rustmemodb.ProgrammingError),
    ("INSERT INTO users VALUES (1, 'dup', 1, 'z')", "23505", rustmemodb.IntegrityError),
    ("INSERT INTO users (id, name) VALUES (3, NULL)", "23502", rustmemodb.IntegrityError),
    ("SELECT * FROM missing", "42P01", rustmemodb.ProgrammingError),
    ("SELECT nope FROM users", "42703", rustmemodb.ProgrammingError),
    ("SELEC 1", "42601", rustmemodb.ProgrammingError),
    ("SELECT 1 / 0", "22012", rustmemodb.DataError),
    ("SELECT 9223372036854775807 + 1", "22003", rustmemodb.DataError),
    ("CREATE TABLE users (x INTEGER)", "42P07", rustmemodb.ProgrammingError),
])
def test_sqlstates(conn, sql, state, cls):
    err = error_of(conn, sql)
    assert err.sqlstate == state
    assert isinstance(err, cls)
    assert err.message


def test_type_mismatch_names_column_and_types(conn):
    err = error_of(conn, "INSERT INTO users (id, name, age) VALUES (2, 'b', 'thirty')")
    assert "age" in err.message and "INTEGER" in err.message and "TEXT" in err.message
    assert err.hint
    assert err.position == len("INSERT INTO users (id, name, age) VALUES (2, 'b', ")


def test_syntax_error_position(conn):
    err = error_of(conn, "SELECT * FROM users WHERE")
    assert err.position is not None


def test_unknown_column_hint(conn):
    err = error_of(conn, "SELECT nmae FROM users")
    assert "name" in (err.hint or "")
    assert err.position == 7


def test_failed_statements_change_nothing(conn):
    before = conn.execute("SELECT * FROM users ORDER BY id").fetchall()
    for sql in ["INSERT INTO users VALUES (2, 'b', 1, 'b@x'), (1, 'dup', 1, 'c@x')",
                "INSERT INTO users VALUES (5, 'e', 1, 'a@x')",
                "UPDATE users SET name = NULL",
                "INSERT INTO users (id, name, age) VALUES (9, 'z', 1 / 0)"]:
        error_of(conn, sql)
        assert conn.execute("SELECT * FROM users ORDER BY id").fetchall() == before


def test_error_inside_transaction_aborts_it(conn):
    conn.execute("BEGIN")
    conn.execute("INSERT INTO users VALUES (2, 'b', 1, 'b@x')")
    error_of(conn, "SELECT nope FROM users")
    assert error_of(conn, "SELECT 1").sqlstate == "25P02"
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (1,)


def test_error_str_mentions_sqlstate(conn):
    err = error_of(conn, "SELECT * FROM missing")
    assert "42P01" in str(err)


def test_position_inside_explain_counts_from_statement_start(conn):
    sql = "EXPLAIN (FORMAT JSON) SELECT nope FROM users"
    err = error_of(conn, sql)
    assert err.position == sql.index("nope")
