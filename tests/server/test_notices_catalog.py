"""NoticeResponse, idle_in_transaction_session_timeout and psql's catalog commands
(``\\d+``, ``\\df``, ``\\x``...), compared with PostgreSQL 15 where the output can match."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

psycopg = pytest.importorskip("psycopg")
PSQL = shutil.which("psql")
USER = "admin"     # the server fixture's superuser (conftest.py), made on PostgreSQL too


def _notices_of(dsn, statements):
    got = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: got.append((d.severity, d.sqlstate, d.message_primary)))
        for sql in statements:
            conn.execute(sql)
    return got


NOTICE_SCRIPT = [
    "DROP TABLE IF EXISTS nt_missing",
    "CREATE TABLE nt_t (id BIGINT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS nt_t (id BIGINT)",
    "CREATE INDEX IF NOT EXISTS nt_t_pkey ON nt_t (id)",
    "DROP INDEX IF EXISTS nt_nope",
    "DROP VIEW IF EXISTS nt_v",
    "ALTER TABLE IF EXISTS nt_gone ADD COLUMN x TEXT",
    "COMMIT",
    "ROLLBACK",
    "BEGIN",
    "BEGIN",
    "COMMIT",
    "DROP TABLE IF EXISTS nt_t, nt_other",
]


def test_notices_match_postgresql(dsn, pg_dsn):
    ours = _notices_of(dsn, NOTICE_SCRIPT)
    theirs = _notices_of(pg_dsn, NOTICE_SCRIPT)
    assert ours == theirs
    assert ("NOTICE", "00000", 'table "nt_missing" does not exist, skipping') in ours


def test_notices_in_extended_protocol_and_embedded(dsn, engine):
    got = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: got.append(d.message_primary))
        conn.execute("DROP TABLE IF EXISTS %s" % "gone", prepare=True)
    assert got == ['table "gone" does not exist, skipping']
    engine.execute("DROP TABLE IF EXISTS gone2")
    assert [str(n) for n in engine.notices] == ['NOTICE:  table "gone2" does not exist, skipping']


def test_commit_of_failed_transaction_is_tagged_rollback(dsn):
    with psycopg.connect(dsn) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM nope")
        cur = conn.execute("COMMIT")
        assert cur.statusmessage == "ROLLBACK"


def test_idle_in_transaction_timeout(dsn, engine):
    engine.execute("CREATE TABLE idle (x INTEGER)")
    engine.commit()
    conn = psycopg.connect(dsn)
    conn.execute("SET idle_in_transaction_session_timeout = '200ms'")
    assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone() == ("200ms",)
    conn.commit()
    conn.execute("INSERT INTO idle VALUES (1)")         # a transaction is now open
    time.sleep(0.7)
    with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout) as info:
        conn.execute("SELECT 1")
    assert "idle-in-transaction timeout" in str(info.value)
    assert conn.closed or conn.broken
    assert engine.execute("SELECT count(*) FROM idle").fetchone() == (0,)   # rolled back


def test_idle_outside_a_transaction_is_not_limited(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET idle_in_transaction_session_timeout = 100")
        time.sleep(0.4)
        assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SET idle_in_transaction_session_timeout = 'soon'")


# ---- psql ----------------------------------------------------------------------------------

def _psql(conninfo: str, *commands: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    args = [PSQL, "-X", "-v", "ON_ERROR_STOP=1", conninfo]
    for c in commands:
        args += ["-c", c]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def ours_psql(login):
    info = f"host=127.0.0.1 port={login['port']} user={login['user']} dbname=main"
    return lambda *cmds: _psql(info, *cmds, password=login["password"])


@pytest.fixture
def theirs_psql(pg_dsn):
    """psql on PostgreSQL as a superuser named like ours (``admin``), so owners print
    the same."""
    made = _psql(pg_dsn, "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                         f"'{USER}') THEN CREATE ROLE {USER} SUPERUSER LOGIN; END IF; END$$")
    assert made.returncode == 0, made.stderr
    info = " ".join(part for part in pg_dsn.split() if not part.startswith("user=")) \
        + f" user={USER}"
    return lambda *cmds: _psql(info, *cmds)


pytestmark = pytest.mark.skipif(PSQL is None, reason="psql not installed")

# code and price: psql shows the type modifiers as PostgreSQL does (their values stay
# NULL, since NUMERIC values print as float8 here)
DDL = ("CREATE TABLE cat_t (id BIGINT PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x', "
       "score DOUBLE PRECISION, born DATE, code VARCHAR(8), price NUMERIC(10,2), "
       "n BIGINT GENERATED ALWAYS AS IDENTITY)")


@pytest.fixture
def cat_tables(ours_psql, theirs_psql):
    for run in (ours_psql, theirs_psql):
        out = run("DROP TABLE IF EXISTS cat_t", DDL, "CREATE INDEX cat_t_name ON cat_t (name)",
                  "INSERT INTO cat_t VALUES (1, 'ada', 1.5, '1815-12-10'), (2, 'bob', NULL, NULL)")
        assert out.returncode == 0, out.stderr
    yield
    theirs_psql("DROP TABLE IF EXISTS cat_t")


@pytest.mark.parametrize("command", [
    "\\d+ cat_t",
    "\\d cat_t",
    "\\x\n SELECT * FROM cat_t ORDER BY id",
    "\\df initcap",
    "\\df starts_with",
    "\\dt cat_t",
    "\\di cat_t*",
])
def test_psql_output_matches_postgresql(cat_tables, ours_psql, theirs_psql, command):
    cmds = command.split("\n ")
    ours, theirs = ours_psql(*cmds), theirs_psql(*cmds)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout


def _without_size(text: str) -> list:
    """psql's listing as rows of stripped cells, the Size column left out: a table's
    size is the storage engine's own (PostgreSQL's 8 kB pages; our memory), and its
    width shifts the alignment of the whole table."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = next((i for i, line in enumerate(lines)
                   if "Size" in (c.strip() for c in line.split("|"))), None)
    assert header is not None, text
    k = [c.strip() for c in lines[header].split("|")].index("Size")
    out = []
    for i, line in enumerate(lines):
        if i == header + 1:
            continue                     # the ---+--- rule under the header
        cells = [c.strip() for c in line.split("|")]
        if i >= header and len(cells) > k:
            del cells[k]
        out.append(cells)
    return out


@pytest.mark.parametrize("command", ["\\dt+ cat_t", "\\di+ cat_t*"])
def test_psql_plus_listings_match_postgresql(cat_tables, ours_psql, theirs_psql, command):
    """\\dt+ and \\di+ as PostgreSQL prints them (persistence, access method,
    description), sizes aside."""
    for run in (ours_psql, theirs_psql):
        assert run(*COMMENTS).returncode == 0
    ours, theirs = ours_psql(command), theirs_psql(command)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert _without_size(ours.stdout) == _without_size(theirs.stdout)
    assert "by name" in ours.stdout or "people we know" in ours.stdout


COMMENTS = ("COMMENT ON TABLE cat_t IS 'people we know'",
            "COMMENT ON COLUMN cat_t.name IS 'what they are called'",
            "COMMENT ON COLUMN public.cat_t.score IS 'it''s a score'",
            "COMMENT ON INDEX cat_t_name IS 'by name'",
            "COMMENT ON COLUMN cat_t.born IS 'dropped again'",
            "COMMENT ON COLUMN cat_t.born IS NULL")


@pytest.mark.parametrize("command", [
    "\\d+ cat_t",
    "SELECT obj_description('cat_t'::regclass, 'pg_class'), "
    "obj_description('cat_t_name'::regclass), col_description('cat_t'::regclass, 2), "
    "col_description('cat_t'::regclass, 4)",
    "SELECT d.objsubid, d.description FROM pg_description d "
    "WHERE d.objoid = 'cat_t'::regclass ORDER BY 1",
])
def test_comments_show_as_in_postgresql(cat_tables, ours_psql, theirs_psql, command):
    for run in (ours_psql, theirs_psql):
        out = run(*COMMENTS)
        assert out.returncode == 0, out.stderr
    ours, theirs = ours_psql(command), theirs_psql(command)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert "people we know" in ours.stdout or "what they are called" in ours.stdout


def test_psql_df_lists_user_functions(engine, ours_psql):
    engine.register_function("double_it", lambda x: 2 * x, ["INTEGER"], "INTEGER")
    out = ours_psql("\\df")
    assert out.returncode == 0, out.stderr
    assert " public | double_it | bigint           | bigint              | func" in out.stdout
    out = ours_psql("\\df+ double_it")
    assert "python" in out.stdout and "immutable" in out.stdout


def test_psql_prints_notices(ours_psql):
    out = ours_psql("DROP TABLE IF EXISTS never_there")
    assert out.returncode == 0
    assert 'NOTICE:  table "never_there" does not exist, skipping' in out.stderr


def test_pg_proc_from_sql(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT p.proname, p.prokind, pg_get_function_result(p.oid), "
                            "pg_get_function_arguments(p.oid) FROM pg_proc p JOIN pg_namespace n "
                            "ON n.oid = p.pronamespace WHERE n.nspname = 'pg_catalog' AND "
                            "p.proname IN ('upper', 'sum') ORDER BY 1, 4").fetchall()
    assert rows == [("sum", "a", "bigint", "bigint"),
                    ("sum", "a", "double precision", "double precision"),
                    ("sum", "a", "interval", "interval"),
                    ("upper", "f", "text", "text")]
