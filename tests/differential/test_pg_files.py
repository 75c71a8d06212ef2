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


SAME_BYTES_TABLE = ("(a INT, b TEXT, n NUMERIC(6,2), d DATE, e BOOLEAN, f FLOAT8, "
                    "ts TIMESTAMP, ar INT[], j JSONB)")
SAME_BYTES_ROWS = (
    "INSERT INTO t VALUES (1, 'x,y', 1.50, '2024-01-02', true, 1.5, '2024-01-02 03:04:05.5', "
    "'{1,NULL,3}', '{\"a\": [1, \"x,y\"]}'), "
    "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
    "(3, 'q\"uote', -0.5, '2000-12-31', false, -2e-05, NULL, '{}', '\"s\"'), "
    "(4, E'tab\\there', 0, NULL, NULL, 1e20, NULL, NULL, NULL), "
    "(5, '', 2, NULL, NULL, 1e-7, NULL, NULL, NULL), (6, 'nil', 3, NULL, NULL, "
    "123456789012345.6, NULL, NULL, NULL), (7, E'two\\nlines', 4, NULL, NULL, 0.1, NULL, "
    "NULL, NULL), (8, '\\.', 5, NULL, NULL, 'NaN'::float8, NULL, NULL, NULL)")


@pytest.mark.parametrize("fmt", [
    "(FORMAT csv, HEADER)", "(FORMAT text)", "(FORMAT csv, NULL 'nil', DELIMITER ';')",
    "(FORMAT csv, FORCE_QUOTE *)", "(FORMAT csv, FORCE_QUOTE (b, j), HEADER)",
    "(FORMAT csv, QUOTE '''', ESCAPE '\\')"])
def test_copy_to_writes_the_bytes_postgres_writes(pg, shared_dir, fmt):
    """COPY ... TO: each value its output text (booleans t/f, floats as float8out),
    quoted only where PostgreSQL quotes it (or FORCE_QUOTE asks), NULL never quoted."""
    pg.execute("SET TimeZone = 'UTC'")
    pg.execute("DROP TABLE IF EXISTS t")
    pg.execute(f"CREATE TABLE t {SAME_BYTES_TABLE}")
    pg.execute(SAME_BYTES_ROWS)
    theirs_path = os.path.join(shared_dir, "pg_bytes.dat")
    if os.path.exists(theirs_path):
        os.remove(theirs_path)
    pg.execute(f"COPY t TO '{theirs_path}' {fmt}")
    conn = import_rustmemodb().connect()
    conn.execute(f"CREATE TABLE t {SAME_BYTES_TABLE}")
    conn.execute(SAME_BYTES_ROWS)
    ours_path = os.path.join(shared_dir, "our_bytes.dat")
    conn.execute(f"COPY t TO '{ours_path}' {fmt}")
    with open(theirs_path, "rb") as f:
        theirs = f.read()
    with open(ours_path, "rb") as f:
        ours = f.read()
    assert ours == theirs


def test_force_quote_is_for_copy_to_in_csv(shared_dir):
    rmdb = import_rustmemodb()
    conn = rmdb.connect()
    conn.execute("CREATE TABLE t (a INT, b TEXT)")
    path = os.path.join(shared_dir, "fq.csv")
    with open(path, "w") as f:
        f.write("1,x\n")
    with pytest.raises(rmdb.Error) as e:
        conn.execute(f"COPY t FROM '{path}' (FORMAT csv, FORCE_QUOTE *)")
    assert e.value.sqlstate == "0A000"
    with pytest.raises(rmdb.Error) as e:
        conn.execute(f"COPY t TO '{path}' (FORMAT text, FORCE_QUOTE *)")
    assert e.value.sqlstate == "0A000"
    with pytest.raises(rmdb.Error) as e:
        conn.execute(f"COPY t TO '{path}' (FORMAT csv, FORCE_QUOTE (nosuch))")
    assert e.value.sqlstate == "42703"


FORCE_FILE = 'id,a,b,n\n1,"",x,""\n2,,"",5\n3,NULL,y,\n4,"NULL",,7\n'
FORCED = ["(FORMAT csv, HEADER)", "(FORMAT csv, HEADER, FORCE_NULL (a, b, n))",
          "(FORMAT csv, HEADER, FORCE_NOT_NULL (a))",
          "(FORMAT csv, HEADER, FORCE_NULL (a, n), FORCE_NOT_NULL (a, b))",
          "(FORMAT csv, HEADER, NULL 'NULL', FORCE_NOT_NULL (a), FORCE_NULL (b, n))",
          "(FORMAT csv, HEADER, FORCE_NOT_NULL (n))", "(FORMAT csv, HEADER, FORCE_NULL *)",
          "(FORMAT text, FORCE_NULL (a))", "(FORMAT csv, HEADER, FORCE_NULL (nosuch))"]


@pytest.mark.parametrize("fmt", FORCED)
def test_copy_from_force_null_and_force_not_null_as_postgres(pg, shared_dir, fmt):
    """FORCE_NULL: a quoted value equal to the NULL string is NULL too; FORCE_NOT_NULL: an
    unquoted one is not NULL (CSV, COPY FROM only); same rows or same SQLSTATE."""
    path = os.path.join(shared_dir, "forced.csv")
    with open(path, "w") as f:
        f.write(FORCE_FILE)
    _readable(path)
    rmdb = import_rustmemodb()
    conn = rmdb.connect()
    out = []
    for run in (conn.execute, pg.execute):
        run("DROP TABLE IF EXISTS ft")
        run("CREATE TABLE ft (id INT, a TEXT, b TEXT, n INT)")
        try:
            run(f"COPY ft FROM '{path}' {fmt}")
            out.append([tuple(r) for r in run("SELECT * FROM ft ORDER BY id").fetchall()])
        except Exception as exc:      # noqa: BLE001  (either side's error class)
            out.append(getattr(exc, "sqlstate", None))
    assert out[0] == out[1], f"{fmt}\nours: {out[0]}\nPostgreSQL: {out[1]}"


def test_force_null_is_for_copy_from_in_csv(shared_dir):
    rmdb = import_rustmemodb()
    conn = rmdb.connect()
    conn.execute("CREATE TABLE t (a INT, b TEXT)")
    path = os.path.join(shared_dir, "fn.csv")
    with pytest.raises(rmdb.Error) as e:
        conn.execute(f"COPY t TO '{path}' (FORMAT csv, FORCE_NOT_NULL (b))")
    assert e.value.sqlstate == "0A000"
    with pytest.raises(rmdb.Error) as e:
        conn.execute(f"COPY (SELECT 1) TO '{path}' (FORMAT csv, FORCE_NULL (b))")
    assert e.value.sqlstate == "0A000"
