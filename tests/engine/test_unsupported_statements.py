"""Statements the engine does not implement are refused by name (0A000) before sqlglot
sees them: sqlglot would read them as an opaque Command and write a warning to the host
process's log, and the user would get a misleading syntax error. ANALYZE is accepted,
as VACUUM is: there is nothing for either to do."""
from __future__ import annotations

import logging

import pytest

import rustmemodb
from rustmemodb import errors

REFUSED = [
    ("ALTER DOMAIN posint OWNER TO someone", "ALTER DOMAIN ... OWNER TO"),
    ("create extension if not exists pgcrypto", "CREATE EXTENSION"),
    ("CREATE POLICY p ON t USING (true)", "CREATE POLICY"),
    ("CREATE AGGREGATE a (int) (sfunc = f, stype = int)", "CREATE AGGREGATE"),
    ("CREATE STATISTICS s ON a, b FROM t", "CREATE STATISTICS"),
    ("CREATE OR REPLACE RULE r AS ON INSERT TO t DO NOTHING", "CREATE RULE"),
    ("CREATE COLLATION c (locale = 'C')", "CREATE COLLATION"),
    ("CREATE TEXT SEARCH CONFIGURATION c (COPY = english)", "CREATE TEXT SEARCH"),
    ("ALTER TABLE t ENABLE ROW LEVEL SECURITY", "ALTER TABLE ... ENABLE ROW LEVEL SECURITY"),
    ("ALTER TABLE ONLY public.t CLUSTER ON t_a", "ALTER TABLE ... CLUSTER ON"),
    ("ALTER TABLE t SET SCHEMA reports", "ALTER TABLE ... SET SCHEMA"),
    ("LOCK TABLE t IN EXCLUSIVE MODE", "statement LOCK"),
    ("DECLARE c CURSOR FOR SELECT 1", "statement DECLARE"),
    ("FETCH 10 FROM c", "statement FETCH"),
    ("close c", "statement CLOSE"),
    ("ALTER TYPE mood OWNER TO someone", "ALTER TYPE ... OWNER"),
    ("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"),
    ("ALTER TABLE t ALTER COLUMN a SET STATISTICS 100",
     "ALTER TABLE ... ALTER COLUMN A SET STATISTICS"),
    ("PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION"),
    ("ALTER INDEX i SET TABLESPACE x", "ALTER INDEX ... SET TABLESPACE"),
    ("COMMIT PREPARED 'x'", "COMMIT PREPARED"),
    ("ROLLBACK PREPARED 'x'", "ROLLBACK PREPARED"),
]


def test_commit_prepared_leaves_the_open_transaction_alone() -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a INTEGER)")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(errors.Error):
        conn.execute("COMMIT PREPARED 'x'")    # it used to commit this transaction
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.parametrize("sql,what", REFUSED)
def test_refused_by_name_without_a_log_warning(sql: str, what: str, caplog) -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a INTEGER)")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(errors.Error) as info:
            conn.execute(sql)
    assert info.value.sqlstate == "0A000"
    assert str(info.value).startswith(f"{what} is not supported")
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]
    # nothing changed: the table is still there and writable
    conn.execute("INSERT INTO t VALUES (1)")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_tables_named_like_those_objects_are_still_tables() -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE domain (a INTEGER)")
    conn.execute("CREATE INDEX statistics_i ON domain (a)")
    assert conn.execute("SELECT count(*) FROM domain").fetchone() == (0,)


@pytest.mark.parametrize("sql", ["ANALYZE", "analyze verbose t", "ANALYSE t", "VACUUM t"])
def test_analyze_and_vacuum_are_accepted(sql: str) -> None:
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a INTEGER)")
    assert conn.execute(sql).description is None
