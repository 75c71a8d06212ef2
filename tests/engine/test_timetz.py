"""timetz through the embedded API: the stored int64 key sorts as PostgreSQL's timetz_cmp
(the UTC instant, then the zone), a cursor returns aware ``datetime.time`` values (as
psycopg does), an aware time parameter is a timetz, df() shows the text, bad input
changes nothing, and the columns survive the WAL, a checkpoint and a reopen."""
from __future__ import annotations

import datetime as dt
import random

import pytest

import rustmemodb
from rustmemodb import timetz


def tz(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


def _pg_order(key: int) -> tuple:
    """timetz_cmp's order, computed apart from the key: UTC instant, then zone west."""
    micros, east = timetz.decode(key)
    return micros - east * 1_000_000, -east


def test_key_order_is_timetz_order():
    rng = random.Random(7)
    keys = [timetz.encode(rng.randrange(86_400_000_000),
                          rng.choice([-57599, -12600, -3600, 0, 3600, 7200, 19800, 57599]))
            for _ in range(2000)]
    assert sorted(keys) == sorted(keys, key=_pg_order)
    for key in keys:
        assert timetz.valid(key) and timetz.encode(*timetz.decode(key)) == key
    # the same instant in two zones: not equal, the zone further west sorts after
    assert timetz.parse("12:00+02") < timetz.parse("10:00+00") < timetz.parse("09:00-01")


def test_text_forms():
    assert timetz.format(timetz.parse("12:34:56.5-03:30")) == "12:34:56.5-03:30"
    assert timetz.format(timetz.parse(" 1:02 pm EST ")) == "13:02:00-05"
    assert timetz.format(timetz.parse("12:00+02:30:15")) == "12:00:00+02:30:15"


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE z (id INTEGER PRIMARY KEY, t timetz)")
    c.execute("INSERT INTO z VALUES (1, '12:00+02'), (2, '10:00-01'), (3, NULL)")
    yield c
    c.close()


def test_db_api_values_and_parameters(conn):
    assert conn.execute("SELECT t FROM z ORDER BY id").fetchall() == [
        (dt.time(12, 0, tzinfo=tz(2)),), (dt.time(10, 0, tzinfo=tz(-1)),), (None,)]
    conn.execute("INSERT INTO z VALUES (4, ?)", (dt.time(9, 30, 15, 250, tzinfo=tz(5.5)),))
    assert conn.execute("SELECT t::text FROM z WHERE id = 4").fetchone() == \
        ("09:30:15.00025+05:30",)
    assert conn.execute("SELECT id FROM z WHERE t = ?",
                        (dt.time(12, 0, tzinfo=tz(2)),)).fetchall() == [(1,)]
    assert conn.execute("SELECT id FROM z WHERE t < ? ORDER BY id",
                        (dt.time(11, 0, tzinfo=tz(0)),)).fetchall() == [(1,), (4,)]
    assert list(conn.execute("SELECT t FROM z ORDER BY t LIMIT 2").df()["t"]) == \
        ["09:30:15.00025+05:30", "12:00:00+02"]


def test_time_and_timetz_parameters_cross_over(conn):
    """An aware time into a time column drops its zone (it was accepted so before timetz
    existed); a naive time into a timetz takes the session zone's offset."""
    conn.execute("CREATE TABLE tt (a time, b timetz)")
    conn.execute("INSERT INTO tt VALUES (?, ?)", (dt.time(1, 0, tzinfo=tz(3)), dt.time(2, 0)))
    assert conn.execute("SELECT a, b::text FROM tt").fetchone() == \
        (dt.time(1, 0), "02:00:00+00")


def test_bad_input_changes_nothing(conn):
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("INSERT INTO z VALUES (5, '11:00+01'), (6, '11:00 Europe/Paris')")
    assert info.value.sqlstate == "22007"
    assert 'invalid input syntax for type time with time zone: "11:00 Europe/Paris"' \
        in str(info.value)
    assert conn.execute("SELECT count(*) FROM z").fetchone() == (3,)


@pytest.mark.parametrize("checkpoint", [False, True])
def test_survives_reopen(tmp_path, checkpoint):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    c.execute("CREATE TABLE z (id INTEGER PRIMARY KEY, t time(1) with time zone)")
    c.execute("CREATE UNIQUE INDEX z_t ON z (t)")
    c.execute("INSERT INTO z VALUES (1, '12:00:00.25+02'), (2, '23:59:59.9-15:59')")
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("INSERT INTO z VALUES (3, '00:00+00')")
    c.close()
    c = rustmemodb.connect(path)
    assert c.execute("SELECT id, t::text FROM z ORDER BY t").fetchall() == [
        (3, "00:00:00+00"), (1, "12:00:00.3+02"), (2, "23:59:59.9-15:59")]
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("INSERT INTO z VALUES (4, '12:00:00.3+02')")
    assert c.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                     "attrelid = 'z'::regclass AND attname = 't'").fetchone() == \
        ("time(1) with time zone",)
    c.close()
