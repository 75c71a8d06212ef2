"""COPY and read_csv against PostgreSQL: files written by one side are read by the other.

Random tables (text with commas, quotes, backslashes, tabs, newlines, empty strings and
NULLs; integers; floats) go both ways, in CSV (with a header) and in PostgreSQL's
text format:

* rustmemodb ``COPY t TO`` a file, PostgreSQL ``COPY t FROM`` it: same rows;
* PostgreSQL ``COPY t TO`` a file, rustmemodb ``COPY t FROM`` it and
  ``read_csv`` it: same rows;
* a value that does not fit its column is ``22P02`` on both.

PostgreSQL reads and writes server-side files as its own user, so this needs the
session's throwaway server on this machine (skipped with an external DSN).
"""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pg_server

from .backends import import_rustmemodb, rows_equal
from .sqlgen import literal
from .test_pg_features import _normalize

EXAMPLES = max(5, int(os.environ.get("DIFFERENTIAL_EXAMPLES", "60")) // 4)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

TEXTS = st.one_of(st.none(), st.sampled_from(
    ["", "a", "b,c", 'q"t', "back\\slash", "tab\there", "new\nline", " sp ", "NULL", "\\N",
     "semi;colon", "x y"]))
INTS = st.one_of(st.none(), st.integers(-10**12, 10**12))
FLOATS = st.one_of(st.none(), st.sampled_from([-1.5, 0.0, 0.1, 2.5, 1e20, -3.25e-7]))
ROWS = st.lists(st.tuples(st.integers(0, 10**6), TEXTS, INTS, FLOATS), max_size=10,
                unique_by=lambda r: r[0])
COLUMNS = "(id BIGINT, s TEXT, n BIGINT, f FLOAT)"
PG_COLUMNS = '(id BIGINT, s TEXT COLLATE "C", n BIGINT, f DOUBLE PRECISION)'
FORMATS = ["(FORMAT csv, HEADER)", "(FORMAT text)", "(FORMAT csv, DELIMITER ';')"]


@pytest.fixture(scope="module")
def shared_dir():
    if pg_server.external_dsn():
        pytest.skip("server-side COPY needs the local throwaway PostgreSQL")
    path = tempfile.mkdtemp(prefix="rmdb-copy-", dir="/tmp")
    os.chmod(path, 0o777)          # the server (another user) writes and reads here
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def pg(pg_dsn):
    import psycopg  # noqa: PLC0415
    conn = psycopg.connect(pg_dsn, autocommit=True)
    yield conn
    conn.close()


def _insert(rows) -> list[str]:
    if not rows:
        return []
    values = ", ".join("(" + ", ".join(literal(v) for v in r) + ")" for r in rows)
    return [f"INSERT INTO t VALUES {values}"]


def _pg_table(pg, rows) -> None:
    pg.execute("DROP TABLE IF EXISTS t")
    pg.execute(f"CREATE TABLE t {PG_COLUMNS}")
    for sql in _insert(rows):
        pg.execute(sql)


def _ours(rows):
    conn = import_rustmemodb().connect()
    conn.execute(f"CREATE TABLE t {COLUMNS}")
    for sql in _insert(rows):
        conn.execute(sql)
    return conn


def _pg_rows(pg):
    return [tuple(_normalize(v) for v in r) for r in pg.execute("SELECT * FROM t").fetchall()]


def _readable(path: str) -> None:
    os.chmod(path, 0o666)


@SETTINGS
@given(ROWS, st.sampled_from(FORMATS))
def test_postgres_reads_what_copy_to_writes(pg, shared_dir, rows, fmt):
    conn = _ours(rows)
    path = os.path.join(shared_dir, "ours.dat")
    conn.execute(f"COPY t TO '{path}' {fmt}")
    _readable(path)
    pg.execute("DROP TABLE IF EXISTS t")
    pg.execute(f"CREATE TABLE t {PG_COLUMNS}")
    pg.execute(f"COPY t FROM '{path}' {fmt}")
    ours = conn.execute("SELECT * FROM t").fetchall()
    theirs = _pg_rows(pg)
    assert rows_equal(ours, theirs, False), f"{fmt}\nours: {ours}\nPostgreSQL: {theirs}"


@SETTINGS
@given(ROWS, st.sampled_from(FORMATS))
def test_copy_from_reads_what_postgres_writes(pg, shared_dir, rows, fmt):
    _pg_table(pg, rows)
    path = os.path.join(shared_dir, "theirs.dat")
    if os.path.exists(path):
        os.remove(path)
    pg.execute(f"COPY t TO '{path}' {fmt}")
    theirs = _pg_rows(pg)
    conn = import_rustmemodb().connect()
    conn.execute(f"CREATE TABLE t {COLUMNS}")
    conn.execute(f"COPY t FROM '{path}' {fmt}")
    ours = conn.execute("SELECT * FROM t").fetchall()
    assert rows_equal(ours, theirs, False), f"{fmt}\nours: {ours}\nPostgreSQL: {theirs}"
    if fmt == "(FORMAT csv, HEADER)":
        read = conn.execute(f"SELECT id, s, n, f FROM read_csv('{path}', columns = "
                            "ARRAY['id BIGINT', 's TEXT', 'n BIGINT', 'f FLOAT'])").fetchall()
        assert rows_equal(read, theirs, False), f"read_csv\nours: {read}\nPostgreSQL: {theirs}"


def test_a_value_that_does_not_fit_is_22p02_on_both(pg, shared_dir):
    path = os.path.join(shared_dir, "bad.csv")
    with open(path, "w") as f:
        f.write("1,a,2,0.5\n2,b,x7,1.5\n")
    _readable(path)
    import psycopg  # noqa: PLC0415
    pg.execute("DROP TABLE IF EXISTS t")
    pg.execute(f"CREATE TABLE t {PG_COLUMNS}")
    with pytest.raises(psycopg.Error) as theirs:
        pg.execute(f"COPY t FROM '{path}' (FORMAT csv)")
    conn = _ours([])
    rmdb = import_rustmemodb()
    with pytest.raises(rmdb.Error) as ours:
        conn.execute(f"COPY t FROM '{path}' (FORMAT csv)")
    assert ours.value.sqlstate == theirs.value.sqlstate == "22P02"
    assert "line 2" in str(ours.value) and "line 2" in str(theirs.value)
