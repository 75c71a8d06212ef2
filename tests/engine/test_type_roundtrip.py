"""Every column type through every way rows arrive and every way they are kept.

A value is inserted as a literal, as a parameter, by a bulk ``executemany`` (the
Arrow path), copied by INSERT ... SELECT and rewritten by UPDATE; the database is
closed and reopened (log replay), checkpointed and reopened again (chunks read back).
Each time, every stored value must come back equal to what went in. (INTERVAL lost
its time part on the Arrow path and could not be logged; this is the test that
would have said so.)
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import uuid

import pytest

import rustmemodb
from rustmemodb import types

VALUES = {
    "INTEGER": [0, -7, 2 ** 31 - 1],        # int4: stored as int64, 32 bits checked
    "BIGINT": [0, -7, 2 ** 62],
    "FLOAT": [0.5, -1e300, 3.0],
    "TEXT": ["", "héllo", "a'b"],
    "BOOLEAN": [True, False, True],
    "TIMESTAMP": [dt.datetime(2024, 2, 29, 23, 59, 59, 123456), dt.datetime(1970, 1, 1),
                  dt.datetime(9999, 12, 31)],
    "DATE": [dt.date(2024, 2, 29), dt.date(1, 1, 1), dt.date(2000, 1, 1)],
    "UUID": [str(uuid.UUID(int=1)), str(uuid.UUID(int=2 ** 127)), str(uuid.UUID(int=3))],
    "JSON": ['{"a": [1, 2]}', "[]", '"x"'],
    "INTERVAL": [types.Interval(1, 2, 3_000_004), types.Interval(0, 0, 3_600_000_000),
                 types.Interval(-1, -3, -5)],
    "TIME": [dt.time(0, 0), dt.time(23, 59, 59, 999999), dt.time(12, 30, 0, 5)],
    "BYTEA": [b"", b"\x00\xff\\x", bytes(range(256))],
    "TIME[]": [[dt.time(1, 2)], [None], []],
    "INTEGER[]": [[1, None, 3], [], [2]],
    "TEXT[]": [["a", "b"], [None], []],
    "DATE[]": [[dt.date(2024, 1, 1)], [], [None, dt.date(1999, 12, 31)]],
    "INET": [ipaddress.ip_interface("192.168.1.5/24"), ipaddress.ip_address("::1"),
             ipaddress.ip_interface("2001:db8::7/64")],
    "CIDR": [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::/0"),
             ipaddress.ip_network("192.168.0.0/24")],
    "MACADDR": ["08:00:2b:01:02:03", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"],
    "MACADDR8": ["08:00:2b:01:02:03:04:05", "00:00:00:00:00:00:00:00",
                 "08:00:2b:ff:fe:01:02:03"],
    "INET[]": [[ipaddress.ip_address("10.0.0.1"), None], [], [ipaddress.ip_interface("::1/64")]],
    "MONEY": ["$1,234.56", "-$0.01", "$92,233,720,368,547,758.07"],
    "BIT VARYING(70)": ["1010", "", "1" * 70],
}
BULK = 3000        # rows enough for the executemany Arrow path and frozen chunks


def _stored(conn, t):
    return conn.execute("SELECT id, v FROM t ORDER BY id").fetchall()


def _normal(v):
    """JSON comes back in its canonical text (compare documents, not spelling), a UUID as
    uuid.UUID (compare its text)."""
    import json
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, str) and v[:1] in "{[\"":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


@pytest.mark.parametrize("sql_type", list(VALUES))
def test_values_come_back_through_every_path(tmp_path, sql_type):
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, v {sql_type})")
    a, b, c = VALUES[sql_type]
    conn.execute("INSERT INTO t VALUES (1, ?)", (a,))                         # parameter
    conn.execute("INSERT INTO t VALUES (2, NULL)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(10 + i, b) for i in range(BULK)])
    conn.execute("INSERT INTO t SELECT id + 100000, v FROM t WHERE id IN (1, 10)")  # copy
    conn.execute("UPDATE t SET v = ? WHERE id = 2", (c,))                       # rewrite
    conn.execute("UPDATE t SET v = (SELECT v FROM t WHERE id = 1) WHERE id = 11")
    want = {1: a, 2: c, 11: a, 100001: a, 100010: b}
    want.update({10 + i: b for i in range(BULK) if 10 + i not in want})

    def check(conn):
        got = dict(_stored(conn, "t"))
        assert len(got) == len(want)
        for k, v in want.items():
            assert _normal(got[k]) == _normal(v), (sql_type, k, got[k], v)

    check(conn)
    conn.close()
    conn = rustmemodb.connect(path)         # log replay
    check(conn)
    conn.execute("CHECKPOINT")
    conn.close()
    conn = rustmemodb.connect(path)         # checkpointed chunks
    check(conn)
    conn.close()
