"""Which error a multi-row INSERT breaking several constraints reports: PostgreSQL inserts
row by row (NOT NULL, CHECK, then the unique indexes), so a key taken by an earlier row
is the error before a later row's CHECK. Expected SQLSTATEs checked on PostgreSQL 15.
(tests/sql/index/insert_error_order.test has the cases a cluster orders alike.)"""
from __future__ import annotations

import pytest

import rustmemodb

SETUP = ("CREATE TABLE q (id INTEGER PRIMARY KEY, v INTEGER CHECK (v >= 0), "
         "w INTEGER CHECK (w < 10), s TEXT NOT NULL)", "INSERT INTO q VALUES (1, 1, 1, 'a')")


@pytest.mark.parametrize("sql, state", [
    ("INSERT INTO q VALUES (2, 1, 1, 'b'), (1, 1, 1, 'c'), (3, -1, 1, 'd')", "23505"),
    ("INSERT INTO q VALUES (2, 1, 1, 'b'), (2, 1, 1, 'c'), (4, 1, 1, NULL)", "23505"),
    ("INSERT INTO q VALUES (2, 1, 1, 'b'), (3, 1, 11, 'c'), (4, -1, 1, 'd')", "23514"),
    ("INSERT INTO q VALUES (5, 1, 1, NULL), (1, 1, 1, 'x')", "23502"),
    ("INSERT INTO q SELECT g, CASE WHEN g = 4 THEN -1 ELSE 1 END, 1, 'z' "
     "FROM generate_series(0, 5) g", "23505"),
    ("INSERT INTO q SELECT g, CASE WHEN g = 3 THEN -1 ELSE 1 END, 1, 'z' "
     "FROM generate_series(2, 5) g", "23514"),
])
def test_first_failing_row_decides(sql: str, state: str) -> None:
    conn = rustmemodb.connect()
    for s in SETUP:
        conn.execute(s)
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == state
    assert conn.execute("SELECT count(*) FROM q").fetchall() == [(1,)]


def test_the_first_failing_rows_check_is_named() -> None:
    conn = rustmemodb.connect()
    for s in SETUP:
        conn.execute(s)
    with pytest.raises(rustmemodb.Error) as info:      # row 2 breaks w, row 3 breaks v
        conn.execute("INSERT INTO q VALUES (2, 1, 1, 'b'), (3, 1, 11, 'c'), (4, -1, 1, 'd')")
    assert "q_w_check" in str(info.value)
