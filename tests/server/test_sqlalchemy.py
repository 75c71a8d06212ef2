"""SQLAlchemy 2 (psycopg dialect) against the wire server: connect, Core, reflection.

SQLAlchemy's PostgreSQL dialect sends ``select pg_catalog.version()``,
``select current_schema()``, ``show transaction isolation level`` and
``show standard_conforming_strings`` on connect, then reflects tables through
``pg_catalog`` queries (pg_class, pg_namespace, pg_attribute, pg_type,
pg_constraint, pg_index, ``::regclass`` casts, ``format_type``). These tests
use the real dialect, so every query is the one SQLAlchemy really sends.
"""
from __future__ import annotations

import datetime as dt
import enum

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")

from sqlalchemy import (Column, DateTime, Enum, ForeignKey, Integer, MetaData,  # noqa: E402
                        String, Table, create_engine, func, inspect, insert, select, text)
from sqlalchemy.exc import DataError  # noqa: E402
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session, mapped_column,  # noqa: E402
                            relationship)


@pytest.fixture
def sa_engine(login):
    eng = create_engine("postgresql+psycopg://{user}:{password}@{host}:{port}/{database}"
                        .format(**login))
    yield eng
    eng.dispose()


def test_connect_and_select_one(sa_engine):
    with sa_engine.connect() as c:
        assert c.execute(select(1)).scalar() == 1
        assert sa_engine.dialect.server_version_info[:1] == (15,)
        assert c.execute(text("select current_database()")).scalar() == "main"


def test_core_insert_select(sa_engine):
    md = MetaData()
    t = Table("items", md, Column("id", Integer, primary_key=True), Column("name", String))
    with sa_engine.begin() as c:
        t.create(c)
        c.execute(insert(t), [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    with sa_engine.connect() as c:
        rows = c.execute(select(t.c.name).where(t.c.id > 1).order_by(t.c.id)).all()
    assert [r.name for r in rows] == ["b"]


def test_reflection(sa_engine, engine):
    engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score FLOAT)")
    engine.execute("CREATE TABLE u (k TEXT)")
    engine.commit()
    insp = inspect(sa_engine)
    assert insp.get_table_names() == ["t", "u"]
    cols = insp.get_columns("t")
    assert [c["name"] for c in cols] == ["id", "name", "score"]
    assert [c["nullable"] for c in cols] == [False, False, True]
    assert [type(c["type"]).__name__ for c in cols] == ["INTEGER", "TEXT", "DOUBLE_PRECISION"]
    pk = insp.get_pk_constraint("t")
    assert pk["constrained_columns"] == ["id"]
    assert pk["name"] == "t_pkey"
    assert insp.get_pk_constraint("u")["constrained_columns"] == []


def test_reflect_into_metadata(sa_engine, engine):
    engine.execute("CREATE TABLE r (a INTEGER PRIMARY KEY, b TEXT)")
    engine.commit()
    md = MetaData()
    r = Table("r", md, autoload_with=sa_engine)
    assert [c.name for c in r.columns] == ["a", "b"]
    assert [c.name for c in r.primary_key.columns] == ["a"]


def test_reflect_keys_indexes_views(sa_engine, engine):
    engine.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE)")
    engine.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, "
                   "pid INTEGER REFERENCES p(id) ON DELETE CASCADE, n INTEGER CHECK (n > 0))")
    engine.execute("CREATE INDEX c_n ON c (n)")
    engine.execute("CREATE VIEW v AS SELECT id FROM p")
    engine.commit()
    insp = inspect(sa_engine)
    fks = insp.get_foreign_keys("c")
    assert [(f["constrained_columns"], f["referred_table"], f["referred_columns"],
             f["options"].get("ondelete")) for f in fks] == [(["pid"], "p", ["id"], "CASCADE")]
    assert [(u["column_names"]) for u in insp.get_unique_constraints("p")] == [["code"]]
    idx = {i["name"]: (i["column_names"], i["unique"]) for i in insp.get_indexes("c")}
    assert idx == {"c_n": (["n"], False)}
    assert [c["sqltext"] for c in insp.get_check_constraints("c")] == ["n > 0"]
    assert insp.get_view_names() == ["v"]
    assert insp.get_table_names() == ["c", "p"]


def test_reflect_expression_partial_and_covering_indexes(sa_engine, engine):
    """What PostgreSQL 15 answers SQLAlchemy's get_indexes for these indexes (taken from
    a real server): expressions as pg_get_indexdef(oid, n, true) prints them, the
    predicate as pg_get_expr(indpred), INCLUDE columns apart from the key."""
    engine.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT, deleted BOOLEAN, "
                   "a INTEGER, b INTEGER)")
    engine.execute("CREATE UNIQUE INDEX u_lower ON u (lower(email))")
    engine.execute("CREATE UNIQUE INDEX u_live ON u (email) WHERE NOT deleted")
    engine.execute("CREATE INDEX u_cover ON u (email) INCLUDE (id)")
    engine.execute("CREATE INDEX u_mix ON u (a, (a + b), lower(email))")
    engine.commit()
    got = sorted(inspect(sa_engine).get_indexes("u"), key=lambda i: i["name"])
    assert got == [
        {"name": "u_cover", "unique": False, "column_names": ["email"],
         "dialect_options": {"postgresql_include": ["id"]}},
        {"name": "u_live", "unique": True, "column_names": ["email"],
         "dialect_options": {"postgresql_where": "(NOT deleted)", "postgresql_include": []}},
        {"name": "u_lower", "unique": True, "column_names": [None],
         "expressions": ["lower(email)"], "dialect_options": {"postgresql_include": []}},
        {"name": "u_mix", "unique": False, "column_names": ["a", None, None],
         "expressions": ["a", "(a + b)", "lower(email)"],
         "dialect_options": {"postgresql_include": []}}]


def test_asyncpg_dialect_connects_and_reflects(login, engine):
    pytest.importorskip("asyncpg")
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine
    engine.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT)")
    engine.commit()
    url = "postgresql+asyncpg://{user}:{password}@{host}:{port}/{database}".format(**login)

    async def run():
        eng = create_async_engine(url)
        try:
            async with eng.connect() as c:
                one = await c.scalar(select(1))
                cols = await c.run_sync(lambda sc: inspect(sc).get_columns("a"))
                pk = await c.run_sync(lambda sc: inspect(sc).get_pk_constraint("a"))
            return one, cols, pk
        finally:
            await eng.dispose()

    one, cols, pk = asyncio.run(run())
    assert one == 1
    assert [(c["name"], c["nullable"]) for c in cols] == [("id", False), ("name", True)]
    assert pk["constrained_columns"] == ["id"]


def _orm_models():
    """Declarative models as an application writes them: keys, a foreign key with a
    relationship, defaults on both sides, a unique column and an index (their
    annotations are read in this module's namespace)."""
    class Base(DeclarativeBase):
        pass

    class Author(Base):
        __tablename__ = "author"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(200), unique=True)
        created: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
        books: Mapped[list["Book"]] = relationship(back_populates="author",
                                                   cascade="all, delete-orphan")

    class Book(Base):
        __tablename__ = "book"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(100), index=True)
        pages: Mapped[int] = mapped_column(default=100)
        author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
        author: Mapped[Author] = relationship(back_populates="books")

    return Base, Author, Book


def test_orm_create_all_on_an_empty_database_and_round_trip(sa_engine):
    """metadata.create_all() first asks pg_class whether each table exists (an empty
    catalog: that query once failed with 22000), then the ORM's unit of work: SERIAL
    keys returned by INSERT ... RETURNING, a relationship, UPDATE, cascading DELETE."""
    Base, Author, Book = _orm_models()
    Base.metadata.create_all(sa_engine)
    Base.metadata.create_all(sa_engine)          # checkfirst: the tables are found now
    assert sorted(inspect(sa_engine).get_table_names()) == ["author", "book"]
    with Session(sa_engine) as s:
        a = Author(email="ann@example.com", books=[Book(title="One"), Book(title="Two",
                                                                            pages=7)])
        s.add(a)
        s.commit()
        assert a.id is not None and a.created is not None
        assert sorted((b.title, b.pages) for b in a.books) == [("One", 100), ("Two", 7)]
    with Session(sa_engine) as s:
        a = s.scalars(select(Author).where(Author.email == "ann@example.com")).one()
        a.books[0].title = "Uno"
        s.commit()
        titles = s.scalars(select(Book.title).order_by(Book.title)).all()
        assert titles == ["Two", "Uno"]
        s.delete(a)
        s.commit()
        assert s.scalars(select(Book)).all() == []
    Base.metadata.drop_all(sa_engine)
    assert inspect(sa_engine).get_table_names() == []


def test_orm_on_the_asyncpg_dialect(login):
    pytest.importorskip("asyncpg")
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    Base, Author, Book = _orm_models()
    url = "postgresql+asyncpg://{user}:{password}@{host}:{port}/{database}".format(**login)

    async def run():
        eng = create_async_engine(url)
        try:
            async with eng.begin() as c:
                await c.run_sync(Base.metadata.create_all)
            async with AsyncSession(eng) as s:
                s.add(Author(email="bo@example.com", books=[Book(title="Async")]))
                await s.commit()
                return (await s.scalars(select(Book.title))).all()
        finally:
            await eng.dispose()

    assert asyncio.run(run()) == ["Async"]


class Mood(enum.Enum):
    sad = "sad"
    ok = "ok"
    happy = "happy"


def test_orm_enum_column_create_all_reflect_and_drop_all(sa_engine):
    """SQLAlchemy's ``Enum`` on PostgreSQL is a native enum type: create_all checks
    pg_type, sends CREATE TYPE ... AS ENUM, then the table; reflection reads pg_enum;
    drop_all drops the table, then the type."""
    class Base(DeclarativeBase):
        pass

    class Person(Base):
        __tablename__ = "person"
        id: Mapped[int] = mapped_column(primary_key=True)
        mood: Mapped[Mood] = mapped_column(Enum(Mood, name="mood"))

    Base.metadata.create_all(sa_engine)
    Base.metadata.create_all(sa_engine)          # again: sees the type and the table exist
    with Session(sa_engine) as s:
        s.add_all([Person(id=1, mood=Mood.happy), Person(id=2, mood=Mood.sad)])
        s.commit()
        assert s.scalars(select(Person.mood).where(Person.id == 1)).one() is Mood.happy
        s.execute(text("INSERT INTO person VALUES (3, 'ok')"))
        with pytest.raises(DataError):
            s.execute(text("INSERT INTO person VALUES (4, 'angry')"))
    insp = inspect(sa_engine)
    assert insp.get_enums() == [{"name": "mood", "schema": "public", "visible": True,
                                 "labels": ["sad", "ok", "happy"]}]
    col = {c["name"]: c for c in insp.get_columns("person")}["mood"]
    assert type(col["type"]).__name__ == "ENUM" and list(col["type"].enums) == \
        ["sad", "ok", "happy"]
    Base.metadata.drop_all(sa_engine)
    assert inspect(sa_engine).get_enums() == []


def test_datetime_with_timezone_round_trips_aware(sa_engine, engine):
    """DateTime(timezone=True) is TIMESTAMP WITH TIME ZONE: an aware value written reads
    back aware and equal (it read back naive when the engine had no timestamptz)."""
    md = MetaData()
    t = Table("stamps", md, Column("id", Integer, primary_key=True),
              Column("at", DateTime(timezone=True)), Column("plain", DateTime))
    written = dt.datetime(2024, 2, 29, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    with sa_engine.begin() as c:
        t.create(c)
        c.execute(insert(t), [{"id": 1, "at": written, "plain": dt.datetime(2024, 1, 1)}])
    with sa_engine.connect() as c:
        at, plain = c.execute(select(t.c.at, t.c.plain)).one()
        assert at == written and at.tzinfo is not None and plain.tzinfo is None
        assert c.execute(select(t.c.id).where(t.c.at > written - dt.timedelta(minutes=1))
                         ).scalars().all() == [1]
    assert engine.execute("SELECT pg_typeof(at)::text FROM stamps").fetchone()[0] == \
        "timestamp with time zone"


def test_orm_maps_a_class_to_an_updatable_view(sa_engine, engine):
    engine.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                   "active BOOLEAN DEFAULT true)")
    engine.execute("CREATE VIEW active_person AS SELECT id, name FROM person WHERE active "
                   "WITH CHECK OPTION")
    engine.commit()

    class Base(DeclarativeBase):
        pass

    class Person(Base):
        __tablename__ = "active_person"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String)

    with Session(sa_engine) as s:
        s.add_all([Person(id=1, name="ann"), Person(id=2, name="bob")])
        s.commit()
        s.get(Person, 2).name = "robert"
        s.commit()
        s.delete(s.get(Person, 1))
        s.commit()
        assert [(p.id, p.name) for p in s.scalars(select(Person).order_by(Person.id))] == \
            [(2, "robert")]
    assert engine.execute("SELECT id, name, active FROM person").fetchall() == \
        [(2, "robert", True)]
    assert inspect(sa_engine).get_view_names() == ["active_person"]
