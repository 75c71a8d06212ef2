"""Range types over the wire, compared with PostgreSQL 15: psycopg writes and reads
``psycopg.types.range.Range`` in text and binary formats and gets the same rows from
both servers; asyncpg (binary throughout) writes and reads ``asyncpg.Range``; the
catalog rows drivers introspect (pg_type typtype 'r', pg_range) answer as PostgreSQL's."""
from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

psycopg = pytest.importorskip("psycopg")
from psycopg.types.range import Range  # noqa: E402

UTC = dt.timezone.utc
ROWS = [
    (1, Range(1, 5), Range(Decimal("1.5"), Decimal("2.5"), "[]"),
     Range(dt.date(2020, 1, 1), dt.date(2020, 2, 1)),
     Range(dt.datetime(2020, 1, 1, 10), dt.datetime(2020, 1, 1, 12, 30)),
     Range(dt.datetime(2020, 1, 1, 10, tzinfo=UTC), None)),
    (2, Range(empty=True), Range(None, Decimal("3"), "(]"),
     Range(dt.date(2020, 1, 15), None, "(]"), None,
     Range(None, dt.datetime(2021, 6, 1, tzinfo=UTC), "()")),
    (3, Range(3, 9, "(]"), None, None, Range(None, None), None),
]
QUERIES = [
    ("SELECT * FROM rw ORDER BY id", None),
    ("SELECT id FROM rw ORDER BY r, id", None),
    ("SELECT id FROM rw WHERE r @> %s::int ORDER BY id", (4,)),
    ("SELECT id FROM rw WHERE r @> %s ORDER BY id", (Range(2, 3),)),
    ("SELECT id FROM rw WHERE r && %s ORDER BY id", (Range(4, 6),)),
    ("SELECT id FROM rw WHERE d @> %s::date ORDER BY id", (dt.date(2020, 1, 20),)),
    ("SELECT r + %s, r * %s FROM rw WHERE id = 1", (Range(5, 7), Range(3, 10))),
    ("SELECT lower(r), upper(r), isempty(r), lower_inc(n), upper_inf(z) FROM rw ORDER BY id",
     None),
    ("SELECT r::text, n::text, d::text, t::text, z::text FROM rw ORDER BY id", None),
    ("SELECT int4range(1, 10, '[]'), daterange('2020-01-01', '2020-01-05')", None),
    ("SELECT ARRAY[int4range(1, 3), 'empty'::int4range, NULL]", None),
    ("SELECT %s::int4range[]", ([Range(1, 2), Range(empty=True)],)),
    ("SELECT typname, typtype, typcategory FROM pg_type WHERE oid IN "
     "(3904, 3906, 3908, 3910, 3912, 3926) ORDER BY oid", None),
    ("SELECT rngtypid, rngsubtype FROM pg_range ORDER BY rngtypid", None),
    ("SELECT format_type(3912, NULL), pg_typeof(r)::text FROM rw WHERE id = 1", None),
]


def _run(dsn: str, binary: bool) -> list:
    out = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        cur = conn.cursor(binary=binary)
        cur.execute("CREATE TABLE rw (id INTEGER PRIMARY KEY, r int4range, n numrange, "
                    "d daterange, t tsrange, z tstzrange)")
        try:
            cur.executemany("INSERT INTO rw VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
            for sql, params in QUERIES:
                cur.execute(sql, params)
                out.append(cur.fetchall())
            with pytest.raises(psycopg.errors.DataException) as info:
                cur.execute("SELECT %s::int4range + %s::int4range", ("[1,2)", "[5,6)"))
            out.append(info.value.sqlstate)
            with pytest.raises(psycopg.errors.InvalidTextRepresentation):
                cur.execute("SELECT %s::int4range", ("[1,2",))
        finally:
            conn.execute("DROP TABLE rw")
    return out


@pytest.mark.parametrize("binary", [False, True])
def test_ranges_answer_as_postgresql(dsn, pg_dsn, binary):
    ours = _run(dsn, binary)
    theirs = _run(pg_dsn, binary)
    assert ours == theirs
    assert ours[0][1][1] == Range(empty=True)
    assert ours[0][2][1] == Range(4, 10)          # (3,9] is canonical [4,10)
    assert ours[-1] == "22000"


def test_asyncpg_reads_and_writes_ranges(login):
    asyncpg = pytest.importorskip("asyncpg")

    async def main():
        conn = await asyncpg.connect(**login)
        try:
            await conn.execute("CREATE TABLE ar (id INTEGER PRIMARY KEY, r int4range, "
                               "n numrange, d daterange, z tstzrange)")
            await conn.execute(
                "INSERT INTO ar VALUES ($1, $2, $3, $4, $5)", 1,
                asyncpg.Range(1, 5, upper_inc=True), asyncpg.Range(Decimal("0.5"), None),
                asyncpg.Range(dt.date(2020, 1, 1), dt.date(2020, 1, 31)),
                asyncpg.Range(dt.datetime(2020, 1, 1, tzinfo=UTC),
                              dt.datetime(2020, 1, 2, tzinfo=UTC)))
            await conn.execute("INSERT INTO ar VALUES (2, 'empty', NULL, NULL, NULL)")
            rows = await conn.fetch("SELECT * FROM ar ORDER BY r")
            hit = await conn.fetchval("SELECT id FROM ar WHERE r @> $1::int", 5)
            overlap = await conn.fetchval("SELECT count(*) FROM ar WHERE d && $1",
                                          asyncpg.Range(dt.date(2020, 1, 30), None))
            return rows, hit, overlap
        finally:
            await conn.close()
    rows, hit, overlap = asyncio.run(main())
    assert [r["id"] for r in rows] == [2, 1]
    assert rows[0]["r"].isempty
    first = rows[1]
    assert (first["r"].lower, first["r"].upper, first["r"].lower_inc, first["r"].upper_inc) \
        == (1, 6, True, False)
    assert first["n"].lower == Decimal("0.5") and first["n"].upper is None
    assert first["d"].upper == dt.date(2020, 1, 31)
    assert first["z"].lower == dt.datetime(2020, 1, 1, tzinfo=UTC)
    assert (hit, overlap) == (1, 1)
