"""INTERVAL values keep their time part through every conversion to Arrow.

Arrow reads an interval object by its ``months``, ``days`` and ``nanoseconds``
attributes; ``types.Interval`` kept microseconds only, so rows converted to Arrow (a
bulk insert, INSERT ... SELECT, a tail frozen into a chunk, a checkpoint) lost their
hours, minutes and seconds without an error. These fail on that code.
"""
from __future__ import annotations

import rustmemodb
from rustmemodb import types

HOUR = types.Interval(0, 0, 3_600_000_000)


def test_bulk_and_insert_select_keep_the_time_part():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE d (id INTEGER, x INTERVAL)")
    c.executemany("INSERT INTO d VALUES (?, ?)", [(i, "1 hour") for i in range(3000)])
    assert c.execute("SELECT x FROM d WHERE id = 5").fetchall() == [(HOUR,)]
    assert c.execute("SELECT count(*) FROM d WHERE x = interval '1 hour'").fetchall() == \
        [(3000,)]
    c.execute("CREATE TABLE e (id INTEGER, x INTERVAL)")
    c.execute("INSERT INTO e VALUES (1, '2 hours 30 minutes 1.5 seconds')")
    c.execute("INSERT INTO e SELECT * FROM e")
    assert {r[0] for r in c.execute("SELECT x::text FROM e").fetchall()} == {"02:30:01.5"}


def test_intervals_survive_a_restart_and_a_checkpoint(tmp_path):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    c.execute("CREATE TABLE d (id INTEGER, x INTERVAL)")
    c.executemany("INSERT INTO d VALUES (?, ?)", [(i, f"{i} minutes") for i in range(1, 2001)])
    c.execute("INSERT INTO d VALUES (0, '1 mon 2 days 03:04:05.000006')")
    c.close()
    again = rustmemodb.connect(path)
    assert again.execute("SELECT x::text FROM d WHERE id IN (0, 90) ORDER BY id").fetchall() == \
        [("1 mon 2 days 03:04:05.000006",), ("01:30:00",)]
    again.execute("CHECKPOINT")
    again.close()
    third = rustmemodb.connect(path)
    assert third.execute("SELECT sum(x)::text FROM d WHERE id BETWEEN 1 AND 60").fetchall() == \
        [("30:30:00",)]


def test_interval_chunks_survive_a_checkpoint(tmp_path):
    """Enough rows to freeze into Arrow chunks, written by a checkpoint and read back."""
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    c.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, x INTERVAL)")
    c.executemany("INSERT INTO d VALUES (?, ?)",
                  [(i, f"{i % 1000} seconds") for i in range(100_000)])
    c.execute("UPDATE d SET x = x + interval '1 day' WHERE id = 7")
    c.execute("CHECKPOINT")
    c.close()
    again = rustmemodb.connect(path)
    assert again.execute("SELECT x::text FROM d WHERE id IN (7, 99999) ORDER BY id").fetchall() \
        == [("1 day 00:00:07",), ("00:16:39",)]
    assert again.execute("SELECT count(*) FROM d WHERE x >= interval '10 minutes'").fetchall() \
        == [(40_001,)]   # 400 values x 100, and id 7 moved to a day


def test_copy_writes_intervals_as_text_and_reads_them_back(tmp_path):
    """COPY TO printed an interval as "MonthDayNano(months=0, ...)" (text, CSV) and
    refused Parquet; every format now round-trips it through its PostgreSQL text."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER, x INTERVAL)")
    c.execute("INSERT INTO t VALUES (1, '1 day 02:00:00'), (2, NULL), "
              "(3, '-1 mons 3 days -00:00:01.5')")
    want = c.execute("SELECT * FROM t ORDER BY id").fetchall()
    for fmt in ("csv", "text", "parquet"):
        path = tmp_path / f"t.{fmt}"
        c.execute(f"COPY t TO '{path}' (FORMAT {fmt})")
        c.execute(f"CREATE TABLE t_{fmt} (id INTEGER, x INTERVAL)")
        c.execute(f"COPY t_{fmt} FROM '{path}' (FORMAT {fmt})")
        assert c.execute(f"SELECT * FROM t_{fmt} ORDER BY id").fetchall() == want, fmt
    assert "1 day 02:00:00" in (tmp_path / "t.csv").read_text()
