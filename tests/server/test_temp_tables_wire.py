"""Temporary tables over the wire: each connection has its own (the same name in two
connections names two tables), and a closed connection's are dropped."""
from __future__ import annotations

import time

import pytest

psycopg = pytest.importorskip("psycopg")


def test_temporary_tables_are_per_connection(dsn, engine):
    a, b = psycopg.connect(dsn, autocommit=True), psycopg.connect(dsn, autocommit=True)
    try:
        a.execute("CREATE TEMP TABLE scratch (v TEXT)")
        a.execute("INSERT INTO scratch VALUES ('a')")
        b.execute("CREATE TEMP TABLE scratch (v TEXT)")
        b.execute("INSERT INTO scratch VALUES ('b')")
        assert a.execute("SELECT v FROM scratch").fetchall() == [("a",)]
        assert b.execute("SELECT v FROM scratch").fetchall() == [("b",)]
    finally:
        a.close()
        b.close()
    deadline = time.monotonic() + 5
    while any(".scratch" in n for n in engine._session.db.root.tables) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(".scratch" in n for n in engine._session.db.root.tables)
