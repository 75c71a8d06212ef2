"""The network address types through the embedded API: what a cursor returns
(ipaddress objects, as psycopg), what df() hands out (PostgreSQL's text; arrow() the
stored keys),
parameters given as ipaddress objects, a 23505 naming the key in its text form, forks,
and the storage keys' order (netaddr.py) against PostgreSQL's network_cmp rule."""
from __future__ import annotations

import ipaddress
import itertools

import pytest

import rustmemodb
from rustmemodb import netaddr

IF, NET, ADDR = ipaddress.ip_interface, ipaddress.ip_network, ipaddress.ip_address


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE h (id INTEGER PRIMARY KEY, a inet UNIQUE, n cidr, m macaddr)")
    c.execute("INSERT INTO h VALUES (1, '10.0.0.1/8', '10/8', '0800.2b01.0203'), "
              "(2, '::1', '::/0', NULL), (3, NULL, NULL, NULL)")
    yield c
    c.close()


def test_cursor_values_are_ipaddress_objects(conn):
    rows = conn.execute("SELECT a, n, m FROM h ORDER BY id").fetchall()
    assert rows == [(IF("10.0.0.1/8"), NET("10.0.0.0/8"), "08:00:2b:01:02:03"),
                    (ADDR("::1"), NET("::/0"), None), (None, None, None)]


def test_pandas_gets_postgresql_text_and_arrow_the_keys(conn):
    frame = conn.execute("SELECT a, n FROM h WHERE id < 3 ORDER BY id").df()
    assert list(frame["a"]) == ["10.0.0.1/8", "::1"]
    assert list(frame["n"]) == ["10.0.0.0/8", "::/0"]
    # arrow() hands out the stored keys: they sort and join as the addresses do
    table = conn.execute("SELECT a FROM h ORDER BY id").arrow()
    assert table.column("a").to_pylist() == [netaddr.parse_inet("10.0.0.1/8"),
                                             netaddr.parse_inet("::1"), None]
    frame = conn.execute("SELECT a, m FROM h WHERE id = 1").df()
    assert list(frame["a"]) == ["10.0.0.1/8"] and list(frame["m"]) == ["08:00:2b:01:02:03"]


def test_parameters_are_ipaddress_objects_or_text(conn):
    conn.execute("INSERT INTO h VALUES (4, ?, ?, ?)",
                 (IF("192.168.1.5/24"), NET("192.168.0.0/16"), "08-00-2b-01-02-04"))
    assert conn.execute("SELECT id FROM h WHERE a << ? ORDER BY id",
                        (NET("192.168.0.0/16"),)).fetchall() == [(4,)]
    # an interface given for a cidr slot: its network (PostgreSQL's inet -> cidr cast)
    conn.execute("UPDATE h SET n = ? WHERE id = 4", (IF("172.16.5.4/12"),))
    assert conn.execute("SELECT n FROM h WHERE id = 4").fetchone() == (NET("172.16.0.0/12"),)
    assert conn.execute("SELECT id FROM h WHERE m = ?", ("0800.2b01.0204",)).fetchall() == [(4,)]


def test_unique_violation_shows_the_address(conn):
    with pytest.raises(rustmemodb.IntegrityError) as info:
        conn.execute("INSERT INTO h VALUES (9, '10.0.0.1/8')")
    assert info.value.sqlstate == "23505"
    assert "Key (a)=(10.0.0.1/8) already exists." in str(info.value)


def test_bad_input_changes_nothing(conn):
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("INSERT INTO h VALUES (9, '10.0.0.9'), (10, '10.0.0.300')")
    assert info.value.sqlstate == "22P02"
    assert 'invalid input syntax for type inet: "10.0.0.300"' in str(info.value)
    assert conn.execute("SELECT count(*) FROM h").fetchone() == (3,)


def test_fork_is_independent(conn):
    fork = conn.fork()
    fork.execute("UPDATE h SET a = a + 1 WHERE id = 1")
    assert fork.execute("SELECT a FROM h WHERE id = 1").fetchone() == (IF("10.0.0.2/8"),)
    assert conn.execute("SELECT a FROM h WHERE id = 1").fetchone() == (IF("10.0.0.1/8"),)


def _pg_cmp(a: bytes, b: bytes) -> int:
    """PostgreSQL's network_cmp_internal, written as network.c has it."""
    fa, ba, xa = netaddr.split_key(a)
    fb, bb, xb = netaddr.split_key(b)
    if fa != fb:
        return fa - fb
    n = len(xa) * 8
    ia, ib = int.from_bytes(xa, "big"), int.from_bytes(xb, "big")
    common = min(ba, bb)
    pa, pb = ia >> (n - common), ib >> (n - common)
    if pa != pb:
        return -1 if pa < pb else 1
    if ba != bb:
        return ba - bb
    return (ia > ib) - (ia < ib)


def test_key_order_is_network_cmp():
    texts = ["10.0.0.0/8", "10.0.0.1/8", "10.0.0.0/16", "10.1.0.0/16", "9.255.0.0/16",
             "10.128.0.0/8", "0.0.0.0/0", "255.255.255.255", "10.0.0.1", "::/0", "::1",
             "2001:db8::/32", "2001:db8::1/64", "::ffff:1.2.3.4", "10.0.0.0/7"]
    keys = [netaddr.parse_inet(t) for t in texts]
    for a, b in itertools.product(keys, keys):
        want = _pg_cmp(a, b)
        got = (a > b) - (a < b)
        assert (want > 0) - (want < 0) == got, (netaddr.inet_text(a), netaddr.inet_text(b))
