"""'now', 'today' ... read as dates/timestamps are the time of each execution (PostgreSQL
re-reads them in every simple query): the plan cache must not replay the first one."""
from __future__ import annotations

import datetime
import time

import rustmemodb


def test_now_literal_is_each_executions_transaction_time() -> None:
    conn = rustmemodb.connect()
    seen = set()
    for _ in range(3):
        same, value = conn.execute("SELECT 'now'::timestamptz = now(), "
                                   "'now'::timestamptz").fetchone()
        assert same is True
        seen.add(value)
        time.sleep(0.01)
    assert len(seen) == 3
    conn.execute("BEGIN")
    first = conn.execute("SELECT 'now'::timestamp").fetchone()[0]
    time.sleep(0.01)
    assert conn.execute("SELECT 'now'::timestamp").fetchone()[0] == first   # one transaction
    conn.execute("COMMIT")
    assert conn.execute("SELECT 'today'::date = current_date, 'tomorrow'::date - 1 = "
                        "current_date").fetchone() == (True, True)


def test_datestyle_order_is_per_session_even_through_the_shared_plan_cache():
    """Two sessions of one database run the same text: a plan that folded a date read
    in one session's DateStyle order must not serve the other."""
    db = rustmemodb.Database()
    dmy, mdy = db.connect(), db.connect()
    dmy.execute("SET datestyle = 'ISO, DMY'")
    sql = "SELECT '01/03/2024'::date"
    for _ in range(3):                      # cached after the first run of each
        assert dmy.execute(sql).fetchone()[0] == datetime.date(2024, 3, 1)
        assert mdy.execute(sql).fetchone()[0] == datetime.date(2024, 1, 3)
