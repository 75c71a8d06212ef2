"""Statements that once ended in an internal error (XX000: a Python exception escaping a
function body or the binder) now answer as PostgreSQL does: a value, or a clear SQLSTATE.
Found by calling every built-in function with arguments of every common type."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE n (x NUMERIC)")
    c.execute("INSERT INTO n VALUES (1.5), (2.25), (NULL)")
    return c


@pytest.mark.parametrize("sql,expected", [
    ("SELECT TRY_CAST(1.5 AS money)", [("$1.50",)]),
    ("SELECT TRY_CAST(1.5 AS integer)", [(2,)]),
    ("SELECT TRY_CAST(x AS money) FROM n ORDER BY x", [("$1.50",), ("$2.25",), (None,)]),
    ("SELECT TRY_CAST(1e30 AS integer)", [(None,)]),
    ("SELECT count(DISTINCT a) FROM (VALUES (ARRAY[1]), (ARRAY[1]), (ARRAY[2])) v(a)", [(2,)]),
    ("SELECT ARRAY[1, NULL] < ARRAY[1, 2]", [(False,)]),
])
def test_values(conn, sql, expected):
    assert conn.execute(sql).fetchall() == expected


@pytest.mark.parametrize("sql,sqlstate", [
    ("SELECT date_part(1, 1)", "42883"),
    ("SELECT date_part(1, DATE '2020-01-01')", "42883"),
    ("SELECT jsonb_exists(1)", "42883"),
    ("SELECT array_position(ARRAY[1, 2], 2, NULL)", "22004"),
])
def test_errors(conn, sql, sqlstate):
    with pytest.raises(errors.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == sqlstate
