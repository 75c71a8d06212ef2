"""DISCARD ALL returns a session to how it started, as a connection pool expects before
handing it to someone else (utility._discard): its temporary tables, settings, role,
SQL-level prepared statements and currval are gone; the database is untouched."""
from __future__ import annotations

import pytest

import rustmemodb


def test_discard_all_resets_the_session_not_the_database():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE kept (x INTEGER)")
    conn.execute("INSERT INTO kept VALUES (1)")
    conn.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS y")
    conn.execute("CREATE SEQUENCE s")
    conn.execute("SELECT nextval('s')")
    conn.execute("SET search_path = elsewhere, public")
    conn.execute("PREPARE q AS SELECT count(*) FROM kept")
    assert conn.execute("EXECUTE q").fetchall() == [(1,)]
    assert conn.execute("DISCARD ALL").rowcount in (-1, 0)
    with pytest.raises(rustmemodb.Error) as exc:
        conn.execute("EXECUTE q")
    assert exc.value.sqlstate == "26000"
    with pytest.raises(rustmemodb.Error) as exc:
        conn.execute("SELECT * FROM scratch")
    assert exc.value.sqlstate == "42P01"
    with pytest.raises(rustmemodb.Error) as exc:
        conn.execute("SELECT currval('s')")
    assert exc.value.sqlstate == "55000"
    assert conn.execute("SHOW search_path").fetchall() == [('"$user", public',)]
    assert conn.execute("SELECT x FROM kept").fetchall() == [(1,)]
    assert conn.execute("SELECT nextval('s')").fetchall() == [(2,)]


def test_discard_temp_inside_a_transaction_is_undone_by_rollback():
    conn = rustmemodb.connect()
    conn.execute("CREATE TEMP TABLE t (x INTEGER)")
    conn.execute("BEGIN")
    conn.execute("DISCARD TEMP")
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
