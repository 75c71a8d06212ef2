"""Parameters of every engine type through the drivers that send them differently:
psycopg (text and binary, by the Python value's type), pg8000 (text, with the value's
OID), asyncpg (binary, by the type the server describes), and the ORM on each.

Intervals and arrays were once refused as parameters (``unsupported type oid 1186``,
asyncpg told ``text`` for ``$1::TEXT[]``), and asyncpg could not send an aware datetime
to ``$1::TIMESTAMP WITH TIME ZONE``: SQLAlchemy writes exactly these casts.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import enum
import uuid

import pytest

psycopg = pytest.importorskip("psycopg")

ROW = (dt.timedelta(days=1, hours=2), ["x", None, 'q"', "a,b"], [1, None, -3],
       dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))))
# timestamps are kept in UTC without a zone (README, Known limitations)
WANT = (dt.timedelta(days=1, hours=2), ["x", None, 'q"', "a,b"], [1, None, -3],
        dt.datetime(2024, 1, 1, 10))


@pytest.fixture
def table(engine):
    engine.execute("CREATE TABLE p (d INTERVAL, a TEXT[], n BIGINT[], ts TIMESTAMP)")
    engine.commit()


@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_interval_array_and_zoned_parameters(dsn, table, binary):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("INSERT INTO p VALUES (%s, %s, %s, %s)", ROW, binary=binary)
        c.execute("INSERT INTO p VALUES (%s::INTERVAL, %s::TEXT[], %s, %s::timestamptz)",
                  (dt.timedelta(0), [], [], ROW[3]), binary=binary)
        rows = c.execute("SELECT * FROM p ORDER BY d DESC", binary=binary).fetchall()
        assert rows == [WANT, (dt.timedelta(0), [], [], WANT[3])]
        found = c.execute("SELECT count(*) FROM p WHERE %s = ANY (n) AND d > %s",
                          (-3, dt.timedelta(hours=1)), binary=binary).fetchone()
        assert found == (1,)


@pytest.mark.parametrize("binary", [False, True])
def test_json_and_uuid_arrays_are_sent_once_encoded(dsn, engine, binary):
    """Elements of JSONB[] and UUID[] results were sent as JSON strings of their text (a
    client read '{"a": 1}' as a string, not an object)."""
    engine.execute("CREATE TABLE ja (j JSONB[], u UUID[])")
    engine.execute("INSERT INTO ja VALUES (ARRAY['{\"a\": 1}'::jsonb, '[1]'::jsonb, NULL], "
                   "ARRAY['00000000-0000-0000-0000-000000000002'::uuid])")
    engine.commit()
    with psycopg.connect(dsn) as c:
        row = c.execute("SELECT j, u, j::text FROM ja", binary=binary).fetchone()
    assert row == ([{"a": 1}, [1], None], [uuid.UUID(int=2)], '{"{\\"a\\": 1}",[1],NULL}')


def test_array_operators_with_untyped_parameters(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("INSERT INTO p (a, n) VALUES (%s, %s)", (["x", "y"], [1, 2]))
        assert c.execute("SELECT count(*) FROM p WHERE n @> %s AND a && %s",
                         ([2], ["y", "q"])).fetchone() == (1,)


def test_pg8000_sends_intervals_and_arrays_as_text(server, table):
    pg8000 = pytest.importorskip("pg8000.native")
    c = pg8000.Connection("admin", password="s3cret", host="127.0.0.1", port=server.port,
                          database="main")
    try:
        c.run("INSERT INTO p VALUES (:d, :a, :n, :ts)", d=ROW[0], a=ROW[1], n=ROW[2],
              ts=ROW[3])
        assert [tuple(r) for r in c.run("SELECT * FROM p")] == [WANT]
    finally:
        c.close()


def test_asyncpg_is_told_array_interval_and_timestamptz_parameters(login, table):
    asyncpg = pytest.importorskip("asyncpg")

    async def run():
        c = await asyncpg.connect(**login)
        try:
            stmt = await c.prepare("INSERT INTO p VALUES ($1::INTERVAL, $2::TEXT[], $3, "
                                   "$4::TIMESTAMP WITH TIME ZONE)")
            described = [t.name for t in stmt.get_parameters()]
            await stmt.fetch(*ROW)
            rows = await c.fetch("SELECT * FROM p")
            return described, [tuple(r) for r in rows]
        finally:
            await c.close()

    described, rows = asyncio.run(run())
    assert described == ["interval", "text[]", "int8[]", "timestamptz"]
    assert rows == [WANT]


def test_asyncpg_reads_every_array_type(login, engine):
    """asyncpg decodes only text[] and oid[] without asking the server; any other array
    type sends its type introspection query (a correlated WITH RECURSIVE, ``$1::oid[]``,
    pg_range), whose own columns must then be types it knows."""
    asyncpg = pytest.importorskip("asyncpg")
    engine.execute("CREATE TABLE arr (i BIGINT[], f FLOAT[], b BOOLEAN[], d DATE[], "
                   "u UUID[], j JSONB[])")
    engine.execute("INSERT INTO arr VALUES (ARRAY[1, NULL], ARRAY[1.5], ARRAY[true], "
                   "ARRAY[DATE '2024-01-02'], ARRAY['00000000-0000-0000-0000-000000000001'"
                   "::uuid], ARRAY['{\"a\": 1}'::jsonb])")
    engine.commit()

    async def run():
        c = await asyncpg.connect(**login)
        try:
            row = await c.fetchrow("SELECT * FROM arr")
            await c.execute("INSERT INTO arr (i, f) VALUES ($1, $2)", [7, None], [2.5])
            back = await c.fetchval("SELECT i FROM arr WHERE $1 = ANY (i)", 7)
            return tuple(row), back
        finally:
            await c.close()

    row, back = asyncio.run(run())
    assert row[:4] == ([1, None], [1.5], [True], [dt.date(2024, 1, 2)])
    assert row[4] == [uuid.UUID(int=1)] and row[5] == ['{"a": 1}']
    assert back == [7, None]


def test_malformed_array_and_interval_parameters_are_clear_errors(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as c:
        for sql, value in (("INSERT INTO p (a) VALUES (%s::TEXT[])", "{unclosed"),
                           ("INSERT INTO p (d) VALUES (%s::INTERVAL)", "ten parsecs")):
            with pytest.raises(psycopg.Error) as info:
                c.execute(sql, (value,))
            assert info.value.sqlstate in ("22P02", "22007")
        assert c.execute("SELECT count(*) FROM p").fetchone() == (0,)


class Kind(enum.Enum):
    a = "a"
    b = "b"


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2", "pg8000", "asyncpg"])
def test_orm_types_through_every_driver(login, driver):
    """One mapped class with the column types applications use, written and read back
    through each SQLAlchemy dialect driver (each encodes parameters its own way)."""
    pytest.importorskip(driver)
    sa = pytest.importorskip("sqlalchemy")
    from sqlalchemy.dialects import postgresql as pg
    from sqlalchemy.orm import DeclarativeBase, Session

    class Base(DeclarativeBase):
        pass

    thing = sa.Table(
        "thing", Base.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.Uuid, default=uuid.uuid4),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.Column("flag", sa.Boolean, default=False),
        sa.Column("day", sa.Date),
        sa.Column("doc", pg.JSONB),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("kind", sa.Enum(Kind, native_enum=False)),
        sa.Column("tags", pg.ARRAY(sa.Text)),
        sa.Column("dur", sa.Interval),
        sa.Column("at", sa.DateTime(timezone=True)))
    rows = [dict(id=i, price=decimal.Decimal("1.50") * i, day=dt.date(2024, 1, i),
                 doc={"i": i, "n": [1, None]}, blob=b"\x00\xff", kind=Kind.a if i % 2 else Kind.b,
                 tags=["x", str(i)], dur=dt.timedelta(hours=i),
                 at=dt.datetime(2024, 1, i, tzinfo=dt.timezone.utc)) for i in range(1, 4)]
    url = "postgresql+{driver}://{user}:{password}@{host}:{port}/{database}".format(
        driver=driver, **login)

    def work(conn) -> list:
        Base.metadata.create_all(conn)
        conn.execute(sa.insert(thing), rows)
        out = conn.execute(sa.select(thing.c.kind, sa.func.count(), sa.func.sum(thing.c.price))
                           .group_by(thing.c.kind).order_by(thing.c.kind)).all()
        one = conn.execute(sa.select(thing).where(thing.c.tags.contains(["2"]))).one()
        return [tuple(out), one]

    if driver == "asyncpg":
        from sqlalchemy.ext.asyncio import create_async_engine

        async def run():
            eng = create_async_engine(url)
            try:
                async with eng.begin() as conn:
                    return await conn.run_sync(work)
            finally:
                await eng.dispose()
        grouped, one = asyncio.run(run())
    else:
        eng = sa.create_engine(url)
        try:
            with Session(eng) as s, s.begin():
                grouped, one = work(s.connection())
        finally:
            eng.dispose()
    assert grouped == ((Kind.a, 2, decimal.Decimal("6.00")), (Kind.b, 1, decimal.Decimal("3.00")))
    assert one.price == decimal.Decimal("3.00") and one.day == dt.date(2024, 1, 2)
    assert one.doc == {"i": 2, "n": [1, None]} and one.tags == ["x", "2"]
    assert one.blob == b"\x00\xff" and one.dur == dt.timedelta(hours=2)
    assert isinstance(one.uid, uuid.UUID)
    assert one.at.replace(tzinfo=None) == dt.datetime(2024, 1, 2)
