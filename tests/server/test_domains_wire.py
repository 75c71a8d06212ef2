"""Domains over the wire: psycopg sees a domain column as its base type (RowDescription
carries the base type's oid, as PostgreSQL sends it) and gets PostgreSQL's SQLSTATEs and
words for a violation; psql's \\dD lists domains and \\d shows a column's domain."""
from __future__ import annotations

import os
import shutil
import subprocess

import psycopg
import pytest

PSQL = shutil.which("psql") or "/usr/bin/psql"


def psql(login, *args):
    env = dict(os.environ, PGPASSWORD=login["password"], PGCONNECT_TIMEOUT="10")
    env.pop("PGSERVICE", None)
    return subprocess.run([PSQL, "-X", "-h", "127.0.0.1", "-p", str(login["port"]), "-U",
                           login["user"], "-d", "main", "-v", "ON_ERROR_STOP=1", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def _make(engine) -> None:
    engine.execute("CREATE DOMAIN posint AS bigint CHECK (VALUE > 0)")
    engine.execute("CREATE DOMAIN code AS varchar(3) NOT NULL DEFAULT 'abc'")
    engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n posint, c code)")
    engine.execute("INSERT INTO t (id, n) VALUES (1, 5)")
    engine.commit()


def test_psycopg_reads_the_base_type_and_gets_the_violations(engine, dsn):
    _make(engine)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE b (n bigint, c varchar(3))")
        base = [d.type_code for d in conn.execute("SELECT n, c FROM b").description]
        cur = conn.execute("SELECT n, c FROM t")
        assert [d.type_code for d in cur.description] == base
        assert base[0] == 20                    # int8, not the domain's oid
        assert cur.fetchall() == [(5, "abc")]
        with pytest.raises(psycopg.errors.CheckViolation,
                           match='value for domain posint violates check constraint '
                                 '"posint_check"'):
            conn.execute("INSERT INTO t (id, n) VALUES (%s, %s)", (2, -1))
        with pytest.raises(psycopg.errors.NotNullViolation,
                           match="domain code does not allow null values"):
            conn.execute("INSERT INTO t (id, c) VALUES (%s, %s)", (2, None))
        conn.execute("INSERT INTO t (id, n) VALUES (%s, %s)", (2, 7))
        assert conn.execute("SELECT %s::posint", (3,)).fetchall() == [(3,)]


@pytest.mark.skipif(not os.path.exists(PSQL), reason="psql not installed")
def test_psql_lists_domains(engine, login):
    _make(engine)
    out = psql(login, "-c", "\\dD")
    assert out.returncode == 0, out.stderr
    assert "List of domains" in out.stdout
    lines = out.stdout.splitlines()
    code = next(line for line in lines if " code " in line)
    assert "character varying(3)" in code and "not null" in code and "'abc'" in code
    posint = next(line for line in lines if " posint " in line)
    assert "CHECK" in posint and "VALUE > 0" in posint
    described = psql(login, "-c", "\\d t")
    assert described.returncode == 0, described.stderr
    assert " posint " in described.stdout and " code " in described.stdout


def test_sqlalchemy_reflects_domains(engine, server):
    sa = pytest.importorskip("sqlalchemy")
    _make(engine)
    eng = sa.create_engine(f"postgresql+psycopg://admin:s3cret@127.0.0.1:{server.port}/main")
    try:
        insp = sa.inspect(eng)
        domains = {d["name"]: d for d in insp.get_domains()}
        assert domains["posint"]["type"] == "bigint" and domains["posint"]["nullable"]
        assert domains["posint"]["constraints"] == [{"name": "posint_check",
                                                     "check": "VALUE > 0"}]
        assert domains["code"]["type"] == "character varying"
        assert not domains["code"]["nullable"] and domains["code"]["default"] == "'abc'"
        columns = {c["name"]: c["type"] for c in insp.get_columns("t")}
        assert columns["n"].name == "posint" and columns["c"].name == "code"
    finally:
        eng.dispose()
