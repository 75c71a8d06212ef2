"""Functions PostgreSQL users call that sqlglot spells differently or that need the
statement's context: version() (sqlglot's CurrentVersion), pg_sleep() under
statement_timeout and cancel, gen_random_uuid() (sqlglot's Uuid), to_timestamp(n)
(UnixToTime), and a select-list generate_series over timestamps."""
from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    yield c
    c.close()


def test_version_names_postgresql_15(conn):
    (text,), = conn.execute("SELECT version()").fetchall()
    assert text.startswith("PostgreSQL 15")


def test_pg_sleep_returns_null_and_obeys_statement_timeout(conn):
    assert conn.execute("SELECT pg_sleep(0)").fetchall() == [(None,)]
    conn.execute("SET statement_timeout = '50ms'")
    with pytest.raises(errors.Error) as info:
        conn.execute("SELECT pg_sleep(30)")
    assert info.value.sqlstate == "57014"


def test_pg_sleep_is_cancelled_by_interrupt(conn):
    timer = threading.Timer(0.2, conn.interrupt)
    timer.start()
    try:
        with pytest.raises(errors.Error) as info:
            conn.execute("SELECT pg_sleep(30)")
    finally:
        timer.cancel()
    assert info.value.sqlstate == "57014"


def test_gen_random_uuid_differs_per_row(conn):
    rows = conn.execute("SELECT gen_random_uuid() FROM generate_series(1, 50)").fetchall()
    values = {r[0] for r in rows}
    assert len(values) == 50 and all(isinstance(v, uuid.UUID) for v in values)


def test_to_timestamp_of_epoch_seconds(conn):
    # timestamptz, as PostgreSQL's: instants, read back aware
    utc = dt.timezone.utc
    assert conn.execute("SELECT to_timestamp(0), to_timestamp(86400.5)").fetchall() == [
        (dt.datetime(1970, 1, 1, tzinfo=utc),
         dt.datetime(1970, 1, 2, 0, 0, 0, 500000, tzinfo=utc))]


def test_select_list_generate_series_of_timestamps(conn):
    got = conn.execute("SELECT generate_series(timestamp '2024-01-01', timestamp '2024-01-02', "
                       "interval '12 hours')").fetchall()
    assert got == [(dt.datetime(2024, 1, 1),), (dt.datetime(2024, 1, 1, 12),),
                   (dt.datetime(2024, 1, 2),)]
