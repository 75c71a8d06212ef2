"""More real clients of the wire server: psycopg2, pg8000, pgjdbc (Java) and pgbench."""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import rustmemodb

HERE = Path(__file__).resolve().parent
JAR = Path.home() / ".m2/repository/org/postgresql/postgresql/42.7.13/postgresql-42.7.13.jar"


# ---- psycopg2 ------------------------------------------------------------------------------

@pytest.fixture
def pg2(login):
    psycopg2 = pytest.importorskip("psycopg2")
    conn = psycopg2.connect(host=login["host"], port=login["port"], user=login["user"],
                            password=login["password"], dbname=login["database"])
    yield conn
    conn.close()


def test_psycopg2_types_transactions_copy_notices(pg2):
    import psycopg2
    import psycopg2.extras
    psycopg2.extras.register_uuid()
    cur = pg2.cursor()
    cur.execute("CREATE TABLE p2 (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, born DATE, "
                "seen TIMESTAMP, ok BOOLEAN, key UUID, doc JSONB)")
    pg2.commit()
    row = (1, "ada", 1.5, dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4, 5, 600000), True,
           uuid.UUID(int=5), {"a": [1, None]})
    cur.execute("INSERT INTO p2 VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                row[:7] + (psycopg2.extras.Json(row[7]),))
    cur.executemany("INSERT INTO p2 (id, name) VALUES (%s, %s)", [(i, f"n{i}") for i in range(2, 6)])
    pg2.rollback()                                    # psycopg2 opened a transaction: undone
    cur.execute("SELECT count(*) FROM p2")
    assert cur.fetchone() == (0,)
    cur.execute("INSERT INTO p2 VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                row[:7] + (psycopg2.extras.Json(row[7]),))
    pg2.commit()
    cur.execute("SELECT * FROM p2")
    assert cur.fetchall() == [row]
    assert cur.description[0].type_code == 23       # id INTEGER: int4, as PostgreSQL
    cur.copy_expert("COPY p2 (id, name) FROM STDIN WITH CSV", io.StringIO("10,x\n11,\"y,z\"\n"))
    pg2.commit()
    out = io.StringIO()
    cur.copy_expert("COPY (SELECT id, name FROM p2 WHERE id >= 10 ORDER BY id) TO STDOUT CSV",
                    out)
    assert out.getvalue() == '10,x\n11,"y,z"\n'
    cur.execute("DROP TABLE IF EXISTS nope")
    assert pg2.notices[-1] == 'NOTICE:  table "nope" does not exist, skipping\n'
    with pytest.raises(psycopg2.errors.UniqueViolation):
        cur.execute("INSERT INTO p2 (id) VALUES (1)")
    pg2.rollback()
    with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
        cur.copy_expert("COPY p2 (id) FROM STDIN", io.StringIO("12\nbad\n"))
    pg2.rollback()
    cur.execute("SELECT count(*) FROM p2")
    assert cur.fetchone() == (3,)


# ---- pg8000 --------------------------------------------------------------------------------

def test_pg8000_dbapi_and_native(login, engine):
    pg8000 = pytest.importorskip("pg8000")
    import pg8000.native
    engine.execute("CREATE TABLE p8 (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, born DATE, "
                   "seen TIMESTAMP, ok BOOLEAN, key UUID, doc JSONB)")
    engine.commit()
    conn = pg8000.dbapi.connect(host=login["host"], port=login["port"], user=login["user"],
                                password=login["password"], database=login["database"])
    try:
        cur = conn.cursor()
        row = [1, "ada", 1.5, dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4, 5), False,
               uuid.UUID(int=9), {"k": "v"}]
        cur.execute("INSERT INTO p8 VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", row)
        conn.commit()
        cur.execute("SELECT * FROM p8 WHERE id = %s", (1,))
        assert [list(r) for r in cur.fetchall()] == [row]
        with pytest.raises(pg8000.dbapi.DatabaseError) as info:
            cur.execute("SELECT * FROM nope")
        assert info.value.args[0]["C"] == "42P01"
        conn.rollback()
    finally:
        conn.close()
    native = pg8000.native.Connection(login["user"], host=login["host"], port=login["port"],
                                      password=login["password"], database=login["database"])
    try:
        assert native.run("SELECT name FROM p8 WHERE id = :id", id=1) == [["ada"]]
        native.run("DROP TABLE IF EXISTS gone")
        assert any(n[b"M"] == b'table "gone" does not exist, skipping' for n in native.notices)
    finally:
        native.close()


# ---- pgjdbc --------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("java") is None or not JAR.exists(),
                    reason="Java 17 or the pgjdbc 42.7.13 jar is missing")
@pytest.mark.timeout(300)
def test_pgjdbc(login):
    url = f"jdbc:postgresql://{login['host']}:{login['port']}/{login['database']}"
    out = subprocess.run(["java", "-cp", str(JAR), str(HERE / "jdbc" / "JdbcCheck.java"), url,
                          login["user"], login["password"]],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert out.stdout.rstrip().endswith("ALL OK")
    assert "ok batch update" in out.stdout and "ok getColumns" in out.stdout


# ---- pgbench -------------------------------------------------------------------------------

PGBENCH = shutil.which("pgbench")


def _pgbench(login, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PGPASSWORD=login["password"])
    return subprocess.run([PGBENCH, "-h", login["host"], "-p", str(login["port"]),
                           "-U", login["user"], *args, login["database"]],
                          capture_output=True, text=True, env=env, timeout=240)


@pytest.mark.skipif(PGBENCH is None, reason="pgbench not installed")
@pytest.mark.timeout(300)
def test_pgbench_custom_script(login, engine, tmp_path):
    engine.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    engine.execute("INSERT INTO kv SELECT i, 0 FROM generate_series(1, 1000) i")
    engine.commit()
    script = tmp_path / "mix.sql"
    script.write_text("\\set k random(1, 1000)\n"
                      "SELECT v FROM kv WHERE k = :k;\n"
                      "UPDATE kv SET v = v + 1 WHERE k = :k;\n")
    for mode in ("simple", "extended", "prepared"):
        out = _pgbench(login, "-n", "-f", str(script), "-c", "4", "-t", "50", "-M", mode)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "number of transactions actually processed: 200/200" in out.stdout, out.stdout
        assert "number of failed transactions: 0" in out.stdout, out.stdout
    assert engine.execute("SELECT sum(v) FROM kv").fetchone() == (600,)


@pytest.mark.skipif(PGBENCH is None, reason="pgbench not installed")
@pytest.mark.timeout(300)
def test_pgbench_init_and_select_only(login, engine):
    out = _pgbench(login, "-i", "-s", "1")           # DDL with fillfactor, COPY FROM STDIN
    assert out.returncode == 0, out.stderr[-2000:]
    assert engine.execute("SELECT count(*) FROM pgbench_accounts").fetchone() == (100000,)
    assert engine.execute("SELECT count(*), sum(bbalance) FROM pgbench_branches").fetchone() \
        == (1, 0)
    for mode in ("simple", "prepared"):
        out = _pgbench(login, "-n", "-S", "-M", mode, "-c", "2", "-t", "100")
        assert out.returncode == 0, out.stderr[-2000:]
        assert "number of failed transactions: 0" in out.stdout, out.stdout
    # TPC-B: 4 clients update the one branch row in transactions of the default
    # isolation, READ COMMITTED as in PostgreSQL: none fails, none needs a retry
    # (pgbench's default, no --max-tries); the one that loses a race runs again
    out = _pgbench(login, "-n", "-c", "4", "-j", "2", "-t", "25")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "number of failed transactions: 0" in out.stdout, out.stdout
    assert engine.execute("SELECT count(*) FROM pgbench_history").fetchone() == (100,)
    assert engine.execute("SELECT sum(delta) FROM pgbench_history").fetchone() == \
        engine.execute("SELECT sum(bbalance) FROM pgbench_branches").fetchone()


@pytest.mark.skipif(PGBENCH is None, reason="pgbench not installed")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("fsync", ["process", "uring", False])
def test_pgbench_tpcb_on_a_durable_database(tmp_path, fsync):
    """pgbench's default TPC-B script, 4 clients, on a database with sync durability:
    the clients' READ COMMITTED transactions that lose the race on the one branch row
    run again after the commits still waiting for their fsync (on the loop and on the
    worker threads alike), so none fails and none is retried; what was acknowledged is
    there after reopening."""
    conn = rustmemodb.connect(str(tmp_path / "db"), "sync")
    try:
        with rustmemodb.serve(conn, users={"bench": "pw"}, fsync_helper=fsync) as srv:
            login = {"host": "127.0.0.1", "port": srv.port, "user": "bench",
                     "password": "pw", "database": "main"}
            out = _pgbench(login, "-i", "-s", "1")
            assert out.returncode == 0, out.stderr[-2000:]
            for mode in ("prepared", "simple"):
                out = _pgbench(login, "-n", "-c", "4", "-j", "2", "-t", "150", "-M", mode)
                assert out.returncode == 0, out.stderr[-2000:]
                assert "number of failed transactions: 0" in out.stdout, out.stdout
                assert "actually processed: 600/600" in out.stdout, out.stdout
    finally:
        conn.close()
    again = rustmemodb.connect(str(tmp_path / "db"), "sync")
    try:
        assert again.execute("SELECT count(*) FROM pgbench_history").fetchone() == (1200,)
        assert again.execute("SELECT sum(delta) FROM pgbench_history").fetchone() == \
            again.execute("SELECT sum(bbalance) FROM pgbench_branches").fetchone() == \
            again.execute("SELECT sum(abalance) FROM pgbench_accounts").fetchone()
    finally:
        again.close()
