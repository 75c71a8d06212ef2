"""now() and its kin keep PostgreSQL's meaning: the transaction's time, one value for
every row of a statement and every statement of an explicit transaction, while
statement_timestamp() moves per statement and clock_timestamp() per call."""
from __future__ import annotations

import time

import rustmemodb


def _conn():
    conn = rustmemodb.connect()
    conn.autocommit = True
    return conn


def test_one_now_for_every_row_of_a_statement() -> None:
    conn = _conn()
    rows = conn.execute("SELECT now(), current_timestamp, localtimestamp, "
                        "transaction_timestamp() FROM generate_series(1, 5000)").fetchall()
    # now() is a timestamptz, localtimestamp its wall clock in the session's zone (UTC)
    assert len({v.replace(tzinfo=None) for row in rows for v in row}) == 1
    assert all(row[0].tzinfo is not None and row[2].tzinfo is None for row in rows[:3])


def test_now_is_fixed_for_an_explicit_transaction_and_moves_after_it() -> None:
    conn = _conn()
    conn.execute("CREATE TABLE t (a TIMESTAMP)")
    conn.execute("BEGIN")
    first_now, first_stmt = conn.execute("SELECT now(), statement_timestamp()").fetchone()
    time.sleep(0.005)
    second_now, second_stmt = conn.execute("SELECT now(), statement_timestamp()").fetchone()
    conn.execute("INSERT INTO t VALUES (now())")
    conn.execute("COMMIT")
    assert second_now == first_now
    assert second_stmt > first_stmt
    # stored into a timestamp column: the UTC session's wall clock
    assert conn.execute("SELECT a FROM t").fetchone()[0] == first_now.replace(tzinfo=None)
    time.sleep(0.005)
    assert conn.execute("SELECT now()").fetchone()[0] > first_now


def test_now_moves_between_autocommit_statements_and_clock_timestamp_runs() -> None:
    conn = _conn()
    a = conn.execute("SELECT now()").fetchone()[0]
    time.sleep(0.005)
    b, clock = conn.execute("SELECT now(), clock_timestamp()").fetchone()
    assert b > a
    assert clock >= b


def test_a_rolled_back_transaction_releases_its_time() -> None:
    conn = _conn()
    conn.execute("BEGIN")
    inside = conn.execute("SELECT now()").fetchone()[0]
    conn.execute("ROLLBACK")
    time.sleep(0.005)
    assert conn.execute("SELECT now()").fetchone()[0] > inside


def test_dbapi_implicit_transaction_keeps_one_now_until_commit() -> None:
    conn = rustmemodb.connect()          # autocommit off: the first statement opens one
    conn.autocommit = False
    a = conn.execute("SELECT now()").fetchone()[0]
    time.sleep(0.005)
    assert conn.execute("SELECT now()").fetchone()[0] == a
    conn.commit()
    time.sleep(0.005)
    assert conn.execute("SELECT now()").fetchone()[0] > a
