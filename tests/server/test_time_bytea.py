"""TIME and BYTEA over the wire: parameters in text and binary form (psycopg, asyncpg),
results in both formats, and COPY in text, CSV and binary, each checked against the
forms PostgreSQL uses (tests/server/test_differential.py compares the output bytes)."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

psycopg = pytest.importorskip("psycopg")

ROWS = [(1, dt.time(1, 2, 3, 4), b"\x00\xff\\x"), (2, dt.time(0, 0), b""), (3, None, None)]


@pytest.fixture
def conn(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE tb (id INTEGER PRIMARY KEY, t TIME, b BYTEA)")
        yield c


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_parameters_and_results_in_both_formats(conn, binary):
    placeholder = "%b" if binary else "%t"
    conn.cursor().executemany(f"INSERT INTO tb VALUES ({placeholder}, {placeholder}, "
                              f"{placeholder})", ROWS)
    cur = conn.cursor(binary=binary)
    assert cur.execute("SELECT * FROM tb ORDER BY id").fetchall() == ROWS
    assert cur.execute(f"SELECT id FROM tb WHERE b = {placeholder} AND t < {placeholder}",
                       (b"\x00\xff\\x", dt.time(2))).fetchall() == [(1,)]


def test_copy_text_csv_and_binary(conn):
    with conn.cursor().copy("COPY tb FROM STDIN") as cp:
        cp.write_row(ROWS[0])
    with conn.cursor().copy("COPY tb FROM STDIN (FORMAT CSV)") as cp:
        cp.write(b"2,00:00:00,\\x\n")
    with conn.cursor().copy("COPY tb FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int4", "time", "bytea"])     # id INTEGER: int4, as PostgreSQL reads it
        cp.write_row(ROWS[2])
    assert conn.execute("SELECT * FROM tb ORDER BY id").fetchall() == ROWS
    with conn.cursor().copy("COPY tb TO STDOUT") as cp:
        text = b"".join(bytes(d) for d in cp)
    # PostgreSQL's text COPY doubles the backslash of bytea's \x form
    assert text == (b"1\t01:02:03.000004\t\\\\x00ff5c78\n2\t00:00:00\t\\\\x\n3\t\\N\t\\N\n")
    with conn.cursor().copy("COPY tb TO STDOUT (FORMAT CSV)") as cp:
        csv = b"".join(bytes(d) for d in cp)
    assert csv == b"1,01:02:03.000004,\\x00ff5c78\n2,00:00:00,\\x\n3,,\n"


def test_asyncpg_binary_codecs(conn, login):
    asyncpg = pytest.importorskip("asyncpg")

    async def run():
        a = await asyncpg.connect(**login)
        try:
            await a.executemany("INSERT INTO tb VALUES ($1, $2, $3)", ROWS)
            got = await a.fetch("SELECT id, t, b FROM tb WHERE b = $1 OR t = $2 ORDER BY id",
                                b"", dt.time(1, 2, 3, 4))
            return [tuple(r) for r in got]
        finally:
            await a.close()
    assert asyncio.run(run()) == ROWS[:2]

