"""inet, cidr, macaddr and macaddr8 over the wire: OIDs 869/650/829/774, parameters and
results in text (psycopg hands back ipaddress objects) and binary (asyncpg's codecs),
arrays of them, COPY, and the catalog rows psql's \\d reads. Every expectation here is
what PostgreSQL 15 gives (the file passes unchanged against one)."""
from __future__ import annotations

import asyncio
import ipaddress

import pytest

psycopg = pytest.importorskip("psycopg")

IF, NET, ADDR = ipaddress.ip_interface, ipaddress.ip_network, ipaddress.ip_address
ROWS = [(1, IF("192.168.1.5/24"), NET("10.0.0.0/8"), "08:00:2b:01:02:03",
         "08:00:2b:01:02:03:04:05"),
        (2, ADDR("2001:db8::1"), NET("2001:db8::/32"), "00:00:00:00:00:00", None),
        (3, None, None, None, None)]


@pytest.fixture
def conn(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE na (id BIGINT PRIMARY KEY, a inet, n cidr, m macaddr, "
                  "m8 macaddr8)")
        yield c


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_parameters_and_results_in_both_formats(conn, binary):
    p = "%b" if binary else "%t"
    conn.cursor().executemany(f"INSERT INTO na VALUES ({p}, {p}, {p}, {p}::macaddr, "
                              f"{p}::macaddr8)", ROWS)
    cur = conn.cursor(binary=binary)
    # psycopg has no binary loader for macaddr/macaddr8: it hands back their bytes, as it
    # does from PostgreSQL
    expected = [r[:3] + tuple(bytes.fromhex(m.replace(":", "")) if binary and m else m
                              for m in r[3:]) for r in ROWS]
    assert cur.execute("SELECT * FROM na ORDER BY id").fetchall() == expected
    assert cur.execute(f"SELECT id FROM na WHERE a << {p} ORDER BY id",
                       (NET("192.168.0.0/16"),)).fetchall() == [(1,)]
    desc = cur.execute("SELECT a, n, m, m8 FROM na").description
    assert [d.type_code for d in desc] == [869, 650, 829, 774]


def test_text_forms_and_functions(conn):
    conn.execute("INSERT INTO na VALUES (1, '::ffff:1.2.3.4', '10.1/16', '0800.2b01.0203', "
                 "'08002b0102030405')")
    cur = conn.cursor()
    cur.execute("SELECT a::text, n::text, host(a), abbrev(n), m::text, m8::text FROM na")
    assert cur.fetchone() == ("::ffff:1.2.3.4/128", "10.1.0.0/16", "::ffff:1.2.3.4",
                              "10.1/16", "08:00:2b:01:02:03", "08:00:2b:01:02:03:04:05")
    cur.execute("SELECT ARRAY[inet '10.0.0.1', inet '::1/64'], ARRAY[cidr '10/8']")
    assert cur.fetchone() == ([ADDR("10.0.0.1"), IF("::1/64")], [NET("10.0.0.0/8")])


def test_copy_text_and_binary(conn):
    with conn.cursor().copy("COPY na FROM STDIN") as cp:
        cp.write(b"1\t10.1.2.3/16\t10.1.0.0/16\t08-00-2b-01-02-03\t\\N\n")
    with conn.cursor().copy("COPY na (id, a, n) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "inet", "cidr"])
        cp.write_row(ROWS[1][:3])
    with conn.cursor().copy("COPY na TO STDOUT") as cp:
        text = b"".join(bytes(d) for d in cp)
    assert text == (b"1\t10.1.2.3/16\t10.1.0.0/16\t08:00:2b:01:02:03\t\\N\n"
                    b"2\t2001:db8::1\t2001:db8::/32\t\\N\t\\N\n")
    with conn.cursor(binary=True).copy("COPY na TO STDOUT (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "inet", "cidr", "text", "text"])
        rows = list(cp.rows())
    assert rows[1] == (2, ADDR("2001:db8::1"), NET("2001:db8::/32"), None, None)


def test_catalog_describes_the_columns(conn):
    rows = conn.execute("SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname "
                        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                        "WHERE a.attrelid = 'na'::regclass AND a.attnum > 0 "
                        "ORDER BY a.attnum").fetchall()
    assert rows == [("id", "bigint", "int8"), ("a", "inet", "inet"), ("n", "cidr", "cidr"),
                    ("m", "macaddr", "macaddr"), ("m8", "macaddr8", "macaddr8")]


def test_asyncpg_binary_codecs(conn, login):
    asyncpg = pytest.importorskip("asyncpg")

    async def run():
        a = await asyncpg.connect(**login)
        try:
            await a.execute("INSERT INTO na VALUES (1, '192.168.1.5/24', '10/8', "
                            "'08:00:2b:01:02:03', NULL), (2, '::1', '::/0', NULL, NULL)")
            await a.execute("INSERT INTO na (id, a, n) VALUES ($1, $2, $3)", 3,
                            IF("10.0.0.7/8"), NET("192.168.0.0/16"))
            got = await a.fetch("SELECT id, a, n, m FROM na WHERE a <<= $1 ORDER BY id",
                                NET("0.0.0.0/0"))
            return [tuple(r) for r in got]
        finally:
            await a.close()
    assert asyncio.run(run()) == [(1, IF("192.168.1.5/24"), NET("10.0.0.0/8"),
                                   "08:00:2b:01:02:03"),
                                  (3, IF("10.0.0.7/8"), NET("192.168.0.0/16"), None)]


def test_psql_describe_and_show(login):
    """psql's \\d names the column types as PostgreSQL's does; SELECT prints the text."""
    import os
    import shutil
    import subprocess
    psql = shutil.which("psql") or "/usr/bin/psql"
    if not os.path.exists(psql):
        pytest.skip("psql not installed")
    env = dict(os.environ, PGPASSWORD=login["password"], PGCONNECT_TIMEOUT="10")
    out = subprocess.run(
        [psql, "-X", "-h", "127.0.0.1", "-p", str(login["port"]), "-U", login["user"],
         "-d", "main", "-v", "ON_ERROR_STOP=1", "-c",
         "CREATE TABLE pn (a inet, n cidr NOT NULL, m macaddr, m8 macaddr8)", "-c", r"\d pn",
         "-c", "INSERT INTO pn VALUES ('::ffff:1.2.3.4/120', '10.1/16', '0800.2b01.0203', "
               "'08002b0102030405')", "-At", "-c", "SELECT * FROM pn"],
        capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()     # -At: unaligned, as PostgreSQL 15's psql prints
    assert lines[1:5] == ["a|inet|||", "n|cidr||not null|", "m|macaddr|||", "m8|macaddr8|||"]
    assert lines[-1] == \
        "::ffff:1.2.3.4/120|10.1.0.0/16|08:00:2b:01:02:03|08:00:2b:01:02:03:04:05"


def test_money_in_text_and_binary(conn, login):
    """money (OID 790): psycopg reads it as its text; asyncpg's binary codec as text too
    (it sends and receives the int8 of cents); parameters in either format."""
    conn.execute("CREATE TABLE mo (id BIGINT PRIMARY KEY, amt money)")
    conn.execute("INSERT INTO mo VALUES (1, '$1,234.56'), (2, %s), (3, NULL)", ("-7.5",))
    for binary in (False, True):
        cur = conn.cursor(binary=binary)
        rows = cur.execute("SELECT id, amt FROM mo ORDER BY id").fetchall()
        want = [(1, "$1,234.56"), (2, "-$7.50"), (3, None)] if not binary else \
            [(1, (123456).to_bytes(8, "big", signed=True)),
             (2, (-750).to_bytes(8, "big", signed=True)), (3, None)]
        assert rows == want
        assert cur.description[1].type_code == 790
    asyncpg = pytest.importorskip("asyncpg")

    async def run():
        a = await asyncpg.connect(**login)
        try:
            await a.execute("INSERT INTO mo VALUES ($1, $2)", 4, "$3.25")
            return [tuple(r) for r in await a.fetch(
                "SELECT id, amt, sum(amt) OVER (ORDER BY id) FROM mo WHERE amt > $1 "
                "ORDER BY id", "$0")]
        finally:
            await a.close()
    assert asyncio.run(run()) == [(1, "$1,234.56", "$1,234.56"), (4, "$3.25", "$1,237.81")]


def test_bit_strings_in_text_and_binary(conn, login):
    """bit (1560) and bit varying (1562): text as the bits, binary as varbit_send
    (asyncpg's BitString), parameters both ways."""
    conn.execute("CREATE TABLE bi (id BIGINT PRIMARY KEY, b bit(4), v bit varying(12))")
    conn.execute("INSERT INTO bi VALUES (1, B'1010', B'1'), (2, %s, %s), (3, NULL, NULL)",
                 ("0110", "111000111"))
    cur = conn.cursor()
    assert cur.execute("SELECT id, b, v FROM bi ORDER BY id").fetchall() == \
        [(1, "1010", "1"), (2, "0110", "111000111"), (3, None, None)]
    assert [d.type_code for d in cur.description[1:]] == [1560, 1562]
    asyncpg = pytest.importorskip("asyncpg")
    from asyncpg import BitString

    async def run():
        a = await asyncpg.connect(**login)
        try:
            await a.execute("INSERT INTO bi VALUES ($1, $2, $3)", 4, BitString("1111"),
                            BitString("101010101"))
            return [tuple(r) for r in await a.fetch(
                "SELECT id, b, v, b & $1 FROM bi WHERE v IS NOT NULL ORDER BY id",
                BitString("0011"))]
        finally:
            await a.close()
    got = asyncio.run(run())

    def text(bits):     # asyncpg's as_string() groups the bits by four
        return bits.as_string().replace(" ", "")
    assert [(i, text(b), text(v), text(x)) for i, b, v, x in got] == [
        (1, "1010", "1", "0010"), (2, "0110", "111000111", "0010"),
        (4, "1111", "101010101", "0011")]
