"""%sql --serve: the notebook's branches reachable from a real PostgreSQL client."""

from __future__ import annotations

import re

import psycopg
import pytest


def _dsn(out) -> str:
    match = re.search(r"postgresql://\S+", repr(out.value))
    assert match, repr(out.value)
    return match.group(0)


def test_serve_main_and_a_branch_forked_later(cell, session):
    cell("%sql CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    cell("%sql INSERT INTO t VALUES (1, 'main')")
    dsn = _dsn(cell("%sql --serve"))
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:   # the current branch: main
            assert conn.execute("SELECT v FROM t").fetchall() == [("main",)]
        # A fork made after the server started is served under its name.
        cell("%sql --fork what_if")
        cell("%sql --checkout what_if")
        cell("%sql UPDATE t SET v = 'what_if'")
        branch_dsn = dsn.rsplit("/", 1)[0] + "/what_if"
        with psycopg.connect(branch_dsn, connect_timeout=5) as conn:
            assert conn.execute("SELECT v FROM t").fetchall() == [("what_if",)]
            conn.execute("INSERT INTO t VALUES (2, 'from psql')")
        # A client's commit is the branch's commit: the notebook sees it.
        assert cell("%sql SELECT count(*) FROM t").value.rows() == [(2,)]
        cell("%sql --checkout main")
        assert cell("%sql SELECT count(*) FROM t").value.rows() == [(1,)]
        # Asking again reports the running server instead of starting another.
        assert "already serving" in repr(cell("%sql --serve").value)
    finally:
        out = cell("%sql --serve stop")
    assert "stopped serving default" in repr(out.value)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)


def test_serve_needs_the_password_and_knows_no_unknown_branch(cell):
    dsn = _dsn(cell("%sql --serve 0"))
    try:
        wrong = re.sub(r"lab:[^@]+@", "lab:wrong@", dsn)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(wrong, connect_timeout=5)
        with pytest.raises(psycopg.OperationalError, match='database "nope" does not exist'):
            psycopg.connect(dsn.rsplit("/", 1)[0] + "/nope", connect_timeout=5)
    finally:
        cell("%sql --serve stop")


def test_serve_refuses_a_bad_port(cell):
    assert "port number" in str(cell("%sql --serve=http", fails=True).error)
    assert "between 0 and 65535" in str(cell("%sql --serve 70000", fails=True).error)
    assert "no server is running" in repr(cell("%sql --serve stop").value)
