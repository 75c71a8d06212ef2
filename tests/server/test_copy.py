"""COPY FROM STDIN / TO STDOUT over the wire, checked against PostgreSQL 15 where it runs.

Every scenario runs the same statements on the rustmemodb server and on the throwaway
PostgreSQL (``pg_dsn``) and compares what the client sees: rows, the bytes of COPY TO,
SQLSTATEs and the CONTEXT line naming the bad line.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import shutil
import subprocess
import uuid

import pytest

psycopg = pytest.importorskip("psycopg")

COLUMNS = ("id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, born DATE, "
           "seen TIMESTAMP, ok BOOLEAN, key UUID, doc JSONB")


@pytest.fixture
def ours(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def theirs(pg_dsn, request):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def both(ours, theirs, request):
    """(ours, theirs) with a fresh table named after the test on each."""
    name = "copy_" + request.node.name.split("[")[0][5:][:40]
    for conn in (ours, theirs):
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE TABLE {name} ({COLUMNS})")
    yield ours, theirs, name
    theirs.execute(f"DROP TABLE IF EXISTS {name}")


def _copy_in(conn, sql, data):
    with conn.cursor() as cur:
        with cur.copy(sql) as cp:
            for chunk in data if isinstance(data, list) else [data]:
                cp.write(chunk)
        return cur.statusmessage


def _copy_out(conn, sql) -> bytes:
    with conn.cursor() as cur:
        with cur.copy(sql) as cp:
            return b"".join(bytes(b) for b in cp)


def _rows(conn, table):
    return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def _error(conn, sql, data):
    with pytest.raises(psycopg.Error) as info:
        _copy_in(conn, sql, data)
    return info.value.diag.sqlstate, info.value.diag.message_primary, info.value.diag.context


TEXT_DATA = ("1\tada\t1.5\t1815-12-10\t2024-05-06 07:08:09.1234\tt\t"
             "12345678-1234-5678-1234-567812345678\t{\"b\": [1, 2], \"a\": null}\n"
             "2\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
             "3\ttab\\there\\nnew\\\\line\t-0.25\t2000-02-29\t2000-01-01 00:00:00\tf\t\\N\t[]\n"
             "4\t\\101\\x42C\t1e20\t\\N\t\\N\tTRUE\t\\N\t\"s\"\n")


def test_text_in_and_out(both):
    ours, theirs, t = both
    for conn in (ours, theirs):
        # CopyData split at arbitrary places, as clients stream files
        assert _copy_in(conn, f"COPY {t} FROM STDIN",
                        [TEXT_DATA[:7], TEXT_DATA[7:100], TEXT_DATA[100:]]) == "COPY 4"
    assert _rows(ours, t) == _rows(theirs, t)
    assert _rows(ours, t)[2][1] == "tab\there\nnew\\line"
    sql = f"COPY {t} TO STDOUT"
    assert _copy_out(ours, sql) == _copy_out(theirs, sql)


def test_csv_options_in_and_out(both):
    ours, theirs, t = both
    data = ("id;name;score;ok\n"
            "1;\"semi;colon\";1;true\n"
            "2;\"multi\nline \"\"quoted\"\"\";NA;NA\n"
            "3;\"NA\";2.5;false\n"
            "4;;NA;NA\n")
    sql = (f"COPY {t} (id, name, score, ok) FROM STDIN WITH (FORMAT csv, HEADER true, "
           "DELIMITER ';', NULL 'NA')")
    for conn in (ours, theirs):
        assert _copy_in(conn, sql, data) == "COPY 4"
    assert _rows(ours, t) == _rows(theirs, t)
    assert _rows(ours, t)[2][1] == "NA" and _rows(ours, t)[1][2] is None
    for out in (f"COPY {t} TO STDOUT WITH (FORMAT csv, HEADER)",
                f"COPY {t} (id, name) TO STDOUT WITH (FORMAT csv, DELIMITER '|', NULL 'N/A', "
                "QUOTE '''', FORCE_QUOTE (name))",
                f"COPY (SELECT id, name, score * 2 AS twice FROM {t} WHERE id > 1 ORDER BY id) "
                "TO STDOUT CSV HEADER",
                f"COPY {t} TO STDOUT WITH (FORMAT text, DELIMITER ',', NULL '')"):
        assert _copy_out(ours, out) == _copy_out(theirs, out), out


def test_csv_quotes_end_marker_only_alone_on_its_line(both):
    """PostgreSQL quotes a CSV value \\. only where it would stand alone on a line (a one-column
    row), where it would read as the end of the data; elsewhere it is written bare, also
    with ESCAPE '\\', and reads back as itself."""
    ours, theirs, t = both
    for conn in (ours, theirs):
        conn.execute(f"INSERT INTO {t} (id, name) VALUES (1, '\\.'), (2, '\\.x'), (3, 'a\\.')")
    for out in (f"COPY {t} (id, name) TO STDOUT WITH (FORMAT csv)",
                f"COPY {t} (id, name) TO STDOUT WITH (FORMAT csv, ESCAPE '\\')",
                f"COPY {t} (name) TO STDOUT WITH (FORMAT csv)",
                f"COPY (SELECT name FROM {t} ORDER BY id) TO STDOUT WITH (FORMAT csv, ESCAPE '\\')"):
        assert _copy_out(ours, out) == _copy_out(theirs, out), out
    assert _copy_out(ours, f"COPY {t} (id, name) TO STDOUT WITH (FORMAT csv)") == \
        b"1,\\.\n2,\\.x\n3,a\\.\n"
    assert _copy_out(ours, f"COPY {t} (name) TO STDOUT WITH (FORMAT csv)").startswith(b'"\\."\n')


def test_legacy_option_syntax(both):
    ours, theirs, t = both
    sql = f"COPY {t} (id, name) FROM STDIN WITH CSV HEADER DELIMITER AS '|' QUOTE AS '\"'"
    for conn in (ours, theirs):
        assert _copy_in(conn, sql, "id|name\n1|\"a|b\"\n2|c\n") == "COPY 2"
    assert _rows(ours, t) == _rows(theirs, t)


def test_column_list_fills_defaults(ours):
    ours.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, n TEXT DEFAULT 'dflt', m INTEGER)")
    assert _copy_in(ours, "COPY d (m, id) FROM STDIN", "7\t1\n8\t2\n") == "COPY 2"
    assert ours.execute("SELECT * FROM d ORDER BY id").fetchall() == [(1, "dflt", 7),
                                                                       (2, "dflt", 8)]


@pytest.mark.parametrize("data, sqlstate", [
    ("1\tx\t1\n2\ty\tabc\n3\tz\t3\n", "22P02"),       # not a number on line 2
    ("1\tx\t1\n2\ty\n", "22P04"),                      # missing data for column "score"
    ("1\tx\t1\t4\n", "22P04"),                         # extra data after last expected column
    ("1\tx\t1\n1\ty\t2\n", "23505"),                   # duplicate key: the whole COPY fails
])
def test_bad_rows_fail_the_whole_copy(both, data, sqlstate):
    ours, theirs, t = both
    sql = f"COPY {t} (id, name, score) FROM STDIN"
    mine, ref = _error(ours, sql, data), _error(theirs, sql, data)
    assert mine[0] == ref[0] == sqlstate
    assert mine[1] == ref[1]
    if sqlstate != "23505":
        assert mine[2] == ref[2]                      # CONTEXT: COPY t, line N, ...
        assert "line " in mine[2]
    assert _rows(ours, t) == _rows(theirs, t) == []


def test_bad_row_after_many_chunks_leaves_nothing(ours):
    from rustmemodb.server import copy
    ours.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v FLOAT)")
    n = copy.CHUNK_ROWS * 2 + 10
    data = "".join(f"{i}\t{i / 2}\n" for i in range(n)) + "oops\t1\n"
    state, message, context = _error(ours, "COPY big FROM STDIN", data)
    assert state == "22P02" and f"line {n + 1}" in context, context
    assert ours.execute("SELECT count(*) FROM big").fetchone() == (0,)
    assert _copy_in(ours, "COPY big FROM STDIN", data[:-len("oops\t1\n")]) == f"COPY {n}"
    assert ours.execute("SELECT count(*), sum(id) FROM big").fetchone() == (n, n * (n - 1) // 2)


def test_copy_fail_rolls_back(both):
    ours, theirs, t = both
    for conn in (ours, theirs):
        with pytest.raises(RuntimeError):
            with conn.cursor() as cur:
                with cur.copy(f"COPY {t} (id) FROM STDIN") as cp:
                    cp.write("1\n2\n")
                    raise RuntimeError("client gave up")   # psycopg sends CopyFail
        assert _rows(conn, t) == []
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_failed_copy_fails_the_transaction(both):
    ours, theirs, t = both
    for conn in (ours, theirs):
        conn.autocommit = False
        conn.execute(f"INSERT INTO {t} (id) VALUES (100)")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            _copy_in(conn, f"COPY {t} (id) FROM STDIN", "1\nx\n")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        conn.autocommit = True
        assert _rows(conn, t) == []


def test_copy_inside_transaction_commits_with_it(ours):
    ours.execute("CREATE TABLE tx (id INTEGER)")
    with ours.transaction():
        _copy_in(ours, "COPY tx FROM STDIN", "1\n2\n")
        assert ours.execute("SELECT count(*) FROM tx").fetchone() == (2,)
    assert ours.execute("SELECT count(*) FROM tx").fetchone() == (2,)


def test_binary_format_round_trip(both):
    ours, theirs, t = both
    rows = [(1, "ada", 1.5, dt.date(2020, 1, 2), dt.datetime(2021, 3, 4, 5, 6, 7, 890000), True,
             uuid.UUID(int=7), None), (2, None, None, None, None, None, None, None)]
    types_ = ["int8", "text", "float8", "date", "timestamp", "bool", "uuid", "jsonb"]
    for conn in (ours, theirs):
        with conn.cursor() as cur:
            with cur.copy(f"COPY {t} FROM STDIN (FORMAT binary)") as cp:
                cp.set_types(types_)
                for row in rows:
                    cp.write_row(row)
    assert _rows(ours, t) == _rows(theirs, t) == rows
    out = {}
    for label, conn in (("ours", ours), ("theirs", theirs)):
        with conn.cursor() as cur:
            with cur.copy(f"COPY (SELECT * FROM {t} ORDER BY id) TO STDOUT (FORMAT binary)") \
                    as cp:
                cp.set_types(types_)
                out[label] = list(cp.rows())
    assert out["ours"] == out["theirs"] == rows


def test_write_row_text_and_read_rows(ours):
    ours.execute("CREATE TABLE w (id INTEGER, name TEXT, doc JSONB)")
    with ours.cursor() as cur:
        with cur.copy("COPY w (id, name) FROM STDIN") as cp:
            for i in range(5):
                cp.write_row((i, f"n\t{i}" if i % 2 else None))
        with cur.copy("COPY w (id, name) TO STDOUT") as cp:
            got = list(cp.rows())
    assert got == [(str(i), f"n\t{i}" if i % 2 else None) for i in range(5)]


def test_statement_errors(ours):
    ours.execute("CREATE TABLE e (id INTEGER)")
    with pytest.raises(psycopg.errors.UndefinedTable):
        _copy_in(ours, "COPY nope FROM STDIN", "1\n")
    with pytest.raises(psycopg.errors.UndefinedColumn):
        _copy_in(ours, "COPY e (nope) FROM STDIN", "1\n")
    with pytest.raises(psycopg.errors.SyntaxError):
        _copy_in(ours, "COPY e FROM STDIN WITH (BOGUS 1)", "1\n")
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        _copy_in(ours, "COPY e FROM STDIN WITH (FORMAT text, QUOTE '\"')", "1\n")
    # the session is fine afterwards
    assert ours.execute("SELECT count(*) FROM e").fetchone() == (0,)


def test_copy_in_a_multi_statement_query(ours):
    """psql sends ``\\copy``-free scripts as one Query; COPY may sit in the middle."""
    ours.execute("CREATE TABLE m (id INTEGER)")
    with ours.cursor() as cur:
        with cur.copy("COPY m TO STDOUT") as cp:
            assert list(cp) == []


# ---- psql ----------------------------------------------------------------------------------

PSQL = shutil.which("psql")


@pytest.mark.skipif(PSQL is None, reason="psql not installed")
def test_psql_backslash_copy(login, engine, tmp_path):
    engine.execute("CREATE TABLE pc (id INTEGER PRIMARY KEY, name TEXT, score FLOAT)")
    engine.commit()
    src = tmp_path / "in.csv"
    src.write_text("id,name,score\n1,ada,1.5\n2,\"b,c\",\n")
    dst = tmp_path / "out.txt"
    env = dict(os.environ, PGPASSWORD=login["password"])
    out = subprocess.run(
        [PSQL, "-X", "-h", "127.0.0.1", "-p", str(login["port"]), "-U", login["user"], "-d",
         "main", "-v", "ON_ERROR_STOP=1",
         "-c", f"\\copy pc from '{src}' with (format csv, header)",
         "-c", f"\\copy pc to '{dst}'",
         "-c", "\\copy (select name from pc order by id) to stdout csv"],
        capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "COPY 2\nCOPY 2\nada\n\"b,c\"\n", out.stdout   # as psql prints it
    assert dst.read_text() == "1\tada\t1.5\n2\tb,c\t\\N\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("3,x,1\n4,y,zz\n")
    out = subprocess.run(
        [PSQL, "-X", "-h", "127.0.0.1", "-p", str(login["port"]), "-U", login["user"], "-d",
         "main", "-c", f"\\copy pc from '{bad}' csv"],
        capture_output=True, text=True, env=env, timeout=60)
    assert "invalid input syntax for type double precision: \"zz\"" in out.stderr
    assert "CONTEXT:  COPY pc, line 2, column score: \"zz\"" in out.stderr
    assert engine.execute("SELECT count(*) FROM pc").fetchone() == (2,)


# ---- asyncpg -------------------------------------------------------------------------------

def test_asyncpg_copy(login):
    asyncpg = pytest.importorskip("asyncpg")

    async def go():
        conn = await asyncpg.connect(**login)
        try:
            await conn.execute("CREATE TABLE ac (id INTEGER PRIMARY KEY, name TEXT, "
                               "score FLOAT, born DATE)")
            tag = await conn.copy_records_to_table(        # binary COPY FROM STDIN
                "ac", records=[(1, "a", 1.5, dt.date(2020, 1, 1)), (2, None, None, None)])
            assert tag == "COPY 2"
            tag = await conn.copy_to_table("ac", source=io.BytesIO(b"3,c,2.5,2021-02-03\n"),
                                           format="csv")
            assert tag == "COPY 1"
            buf = io.BytesIO()
            await conn.copy_from_table("ac", output=buf, format="csv", header=True)
            assert buf.getvalue() == (b"id,name,score,born\n1,a,1.5,2020-01-01\n2,,,\n"
                                      b"3,c,2.5,2021-02-03\n")
            buf = io.BytesIO()
            await conn.copy_from_query("SELECT id FROM ac WHERE id > 1 ORDER BY id", output=buf)
            assert buf.getvalue() == b"2\n3\n"
        finally:
            await conn.close()
    asyncio.run(go())


# ---- the sub-protocol, raw -----------------------------------------------------------------

@pytest.fixture
def raw(engine):
    import rustmemodb
    from tests.server.test_protocol import Raw
    engine.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, name TEXT)")
    engine.commit()
    with rustmemodb.serve(engine, auth="trust") as srv:
        client = Raw(srv.port)
        yield client
        client.close()


def _fields(body: bytes) -> dict:
    from tests.server.test_protocol import fields
    return fields(body)


def test_raw_copy_fail_is_57014_and_rolls_back(raw, engine):
    from tests.server.test_protocol import cstr, msg
    raw.send(msg(b"Q", cstr("COPY r FROM STDIN")))
    kind, body = raw.read()
    assert kind == b"G" and body == b"\x00\x00\x02\x00\x00\x00\x00"     # text, 2 columns
    raw.send(msg(b"d", b"1\ta\n") + msg(b"H") + msg(b"f", cstr("user pressed ^C")))
    got = raw.until(b"Z")
    assert [k for k, _ in got] == [b"E", b"Z"] and got[-1][1] == b"I"
    err = _fields(got[0][1])
    assert err["C"] == "57014" and err["M"] == "COPY from stdin failed: user pressed ^C"
    assert engine.execute("SELECT count(*) FROM r").fetchone() == (0,)


def test_raw_copy_over_extended_query(raw, engine):
    from tests.server.test_protocol import cstr, msg
    raw.send(msg(b"P", cstr("") + cstr("COPY r FROM STDIN (FORMAT csv)") + b"\x00\x00")
             + msg(b"B", cstr("") + cstr("") + b"\x00\x00\x00\x00\x00\x00")
             + msg(b"D", b"P" + cstr("")) + msg(b"E", cstr("") + b"\x00\x00\x00\x00")
             + msg(b"S"))
    kinds = []
    while True:
        kind, body = raw.read()
        kinds.append(kind)
        if kind == b"G":
            break
    assert kinds == [b"1", b"2", b"n", b"G"]
    # the Sync sent with Execute was ignored during copy-in; libpq sends one after CopyDone
    raw.send(msg(b"d", b"1,a\n2,") + msg(b"d", b"b\n") + msg(b"c") + msg(b"S"))
    got = raw.until(b"Z")
    assert [k for k, _ in got] == [b"C", b"Z"] and got[0][1] == cstr("COPY 2")
    raw.send(msg(b"Q", cstr("COPY (SELECT name FROM r ORDER BY id) TO STDOUT")))
    got = raw.until(b"Z")
    assert [k for k, _ in got] == [b"H", b"d", b"d", b"c", b"C", b"Z"]
    assert [b for k, b in got if k == b"d"] == [b"a\n", b"b\n"]


def test_raw_unexpected_message_during_copy(raw, engine):
    from tests.server.test_protocol import cstr, msg
    raw.send(msg(b"Q", cstr("COPY r FROM STDIN")))
    assert raw.read()[0] == b"G"
    raw.send(msg(b"d", b"5\tx\n") + msg(b"Q", cstr("SELECT 1")))
    got = raw.until(b"Z")
    assert _fields(got[0][1])["C"] == "08P01"
    raw.send(msg(b"Q", cstr("SELECT count(*) FROM r")))       # the session still serves
    got = raw.until(b"Z")
    assert [b for k, b in got if k == b"D"] == [b"\x00\x01\x00\x00\x00\x010"]


def test_arrays_and_intervals(ours, theirs):
    for conn in (ours, theirs):
        conn.execute("DROP TABLE IF EXISTS copy_arr")
        conn.execute("CREATE TABLE copy_arr (id BIGINT, xs BIGINT[], ts TEXT[], iv INTERVAL)")
        _copy_in(conn, "COPY copy_arr FROM STDIN",
                 '1\t{1,2,NULL}\t{a,"b c"}\t1 day 02:00:00\n2\t\\N\t{}\t\\N\n')
    assert _rows(ours, "copy_arr") == _rows(theirs, "copy_arr")
    for sql in ("COPY copy_arr TO STDOUT", "COPY copy_arr TO STDOUT (FORMAT csv)"):
        assert _copy_out(ours, sql) == _copy_out(theirs, sql)
    theirs.execute("DROP TABLE copy_arr")
