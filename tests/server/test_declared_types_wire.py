"""numeric / real / varchar / char(n) columns over the wire: described as numeric (OID
1700, printed to the column's scale), float4 (700), varchar (1043) and bpchar (1042), as
PostgreSQL does, though stored as float8 / float8 / text / padded text (server/pgtypes.py
``declared_type``).

Differential: the same statements through psycopg 3 (text and binary, simple and
extended protocol, prepared point reads, RETURNING, binary COPY both ways) and asyncpg
against this server and a throwaway PostgreSQL 15 must give the same descriptions and
the same Python values (Decimal for numeric, the float4 value for real).
"""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from rustmemodb.server import pgtypes

psycopg = pytest.importorskip("psycopg")

TABLE = "declared_wire"
CREATE = (f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, a numeric(10,2), b numeric, "
          f"c real, d varchar(10), e numeric(5,0))")
ROWS = ("(1, 4.5, 4.5, 5.5, 'x', 3), (2, -0.001, 1e20, 1234567, 'y', -0), "
        "(3, 0, 0.00000015, 0.1, NULL, 12345), (4, NULL, 5, 1e-5, 'z', NULL), "
        "(5, 12345678.12, 'NaN'::numeric, 123456, 'w', 1), (6, -7.25, -0.5, -2.5, '', -99)")
QUERY = f"SELECT a, b, c, d, e FROM {TABLE} ORDER BY id"


def _described(cur) -> list:
    return [(d.name, d.type_code, d.internal_size) for d in cur.description]


def _comparable(rows) -> list:
    # Decimal('NaN') != itself: compared by its text
    return [tuple(str(v) if isinstance(v, Decimal) and v.is_nan() else v for v in row)
            for row in rows]


def _psycopg_scenario(dsn: str) -> list:
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(CREATE)
        conn.execute(f"INSERT INTO {TABLE} VALUES {ROWS}")
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            cur.execute(QUERY)                                  # simple protocol
            out.append((binary, _described(cur), _comparable(cur.fetchall())))
            cur.execute(QUERY + " LIMIT %s", (10,))             # extended protocol
            out.append((binary, _described(cur), _comparable(cur.fetchall())))
            for _ in range(3):                                  # prepared point reads
                cur.execute(f"SELECT a, c, d FROM {TABLE} WHERE id = %s", (1,), prepare=True)
                out.append((binary, _described(cur), cur.fetchall()))
            cur.execute(f"UPDATE {TABLE} SET a = a + 1 WHERE id = %s RETURNING id, a, c", (6,))
            out.append((binary, [d[:2] for d in _described(cur)], cur.fetchall()))
        cur = conn.cursor()
        with cur.copy(f"COPY {TABLE} (id, a, b, c, d) FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(["int8", "numeric", "numeric", "float4", "varchar"])
            copy.write_row((7, Decimal("-12.5"), Decimal("0.001"), 2.5, "copied"))
        with cur.copy(f"COPY (SELECT a, b, c, d FROM {TABLE} WHERE id IN (1, 7) ORDER BY id) "
                      f"TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["numeric", "numeric", "float4", "varchar"])
            out.append(("copy", list(copy.rows())))
        conn.execute(f"DROP TABLE {TABLE}")
    return out


def _asyncpg_scenario(url: str) -> list:
    asyncpg = pytest.importorskip("asyncpg")

    async def run() -> list:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            await conn.execute(CREATE)
            await conn.execute(f"INSERT INTO {TABLE} VALUES {ROWS}")
            rows = [tuple(r) for r in await conn.fetch(QUERY)]
            stmt = await conn.prepare(f"SELECT a, b, c, d FROM {TABLE} WHERE id = $1")
            types = [(a.name, a.type.name) for a in stmt.get_attributes()]
            point = tuple(await stmt.fetchrow(6))
            await conn.execute(f"DROP TABLE {TABLE}")
            return [_comparable(rows), types, point]
        finally:
            await conn.close()
    return asyncio.run(run())


def test_psycopg_sees_numeric_real_and_varchar_as_postgresql(engine, dsn, pg_dsn):
    ours, theirs = _psycopg_scenario(dsn), _psycopg_scenario(pg_dsn)
    assert ours == theirs
    first = ours[0]
    assert [d[1] for d in first[1]] == [pgtypes.NUMERIC, pgtypes.NUMERIC, pgtypes.FLOAT4,
                                        pgtypes.VARCHAR, pgtypes.NUMERIC]
    assert first[2][0] == (Decimal("4.50"), Decimal("4.5"), 5.5, "x", Decimal("3"))


def test_asyncpg_sees_numeric_real_and_varchar_as_postgresql(engine, server, pg_url):
    from tests.server.conftest import PASSWORD, USER
    ours = _asyncpg_scenario(f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{server.port}/main")
    assert ours == _asyncpg_scenario(pg_url)
    assert ours[1] == [("a", "numeric"), ("b", "numeric"), ("c", "float4"), ("d", "varchar")]


def test_expressions_over_declared_columns_keep_postgresql_types(engine, dsn):
    """A numeric expression stays numeric (exact, PostgreSQL's scale rules: 1.25 * 2 is
    2.50); real + integer is float8, as PostgreSQL resolves it (float48pl)."""
    engine.execute("CREATE TABLE m (a numeric(6,2), c real)")
    engine.execute("INSERT INTO m VALUES (1.25, 0.5)")
    engine.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute("SELECT a, a * 2 AS x, c, c + 1 AS y FROM m")
        assert [d.type_code for d in cur.description] == [pgtypes.NUMERIC, pgtypes.NUMERIC,
                                                          pgtypes.FLOAT4, pgtypes.FLOAT8]
        rows = cur.fetchall()
        assert rows == [(Decimal("1.25"), Decimal("2.50"), 0.5, 1.5)]
        assert str(rows[0][1]) == "2.50"


@pytest.mark.parametrize("text", ["0", "4.50", "-4.50", "0.05", "12345.6", "0.00000015",
                                  "100000000000000000000", "-0.0001", "NaN", "Infinity",
                                  "-Infinity", "9999.9999", "10000"])
def test_numeric_send_reads_back_as_written(text):
    """numeric_send's base-10000 form, read back by the server's own binary numeric
    reader and by the Decimal of its digits: the same number and display scale."""
    data = pgtypes.numeric_send(text)
    ndigits, weight, sign, dscale = __import__("struct").unpack_from("!hhHH", data)
    if text in ("NaN", "Infinity", "-Infinity"):
        assert sign == {"NaN": 0xC000, "Infinity": 0xD000, "-Infinity": 0xF000}[text]
        return
    assert dscale == len(text.partition(".")[2])
    digits = __import__("struct").unpack_from(f"!{ndigits}H", data, 8)
    value = sum(Decimal(d) * Decimal(10000) ** (weight - i) for i, d in enumerate(digits))
    assert (-value if sign == 0x4000 else value) == Decimal(text)
    assert all(0 <= d < 10000 for d in digits) and (not digits or digits[0] and digits[-1])


def _bpchar_scenario(dsn: str) -> list:
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bpchar_wire")
        conn.execute("CREATE TABLE bpchar_wire (id bigint PRIMARY KEY, c char(4), k character)")
        conn.execute("INSERT INTO bpchar_wire VALUES (1, 'ab', 'x'), (2, NULL, 'y')")
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            cur.execute("SELECT c, k, c::text, 'q'::char(3) FROM bpchar_wire ORDER BY id")
            out.append((binary, _described(cur), cur.fetchall()))
            cur.execute("SELECT id FROM bpchar_wire WHERE c = %s", ("ab",))   # padded
            out.append((binary, cur.fetchall()))
        conn.execute("DROP TABLE bpchar_wire")
    return out


def test_psycopg_sees_char_columns_as_postgresql(engine, dsn, pg_dsn):
    """character(n): described as bpchar (1042), its values blank-padded; a parameter
    beside it compares without the blanks (sql/bind/bpchar.py)."""
    ours, theirs = _bpchar_scenario(dsn), _bpchar_scenario(pg_dsn)
    assert ours == theirs
    assert [d[1] for d in ours[0][1]] == [pgtypes.BPCHAR, pgtypes.BPCHAR, pgtypes.TEXT,
                                          pgtypes.BPCHAR]
    assert ours[0][2][0] == ("ab  ", "x", "ab", "q  ")
