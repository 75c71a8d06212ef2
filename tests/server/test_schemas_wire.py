"""Schemas over the wire: psql's ``\\dn``, ``\\dt s.*`` and ``\\d s.t``, SQLAlchemy's
``schema=`` (DDL, DML and reflection), and a session's own ``search_path``."""
from __future__ import annotations

import os

import pytest

from test_psql import PSQL, psql


def _setup(engine) -> None:
    engine.execute("CREATE SCHEMA staging")
    engine.execute("CREATE TABLE staging.events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL)")
    engine.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, other FLOAT)")
    engine.execute("INSERT INTO staging.events VALUES (1, 'click')")
    engine.commit()


@pytest.mark.skipif(not os.path.exists(PSQL), reason="psql not installed")
def test_psql_lists_schemas_and_their_tables(login, engine):
    _setup(engine)
    out = psql(login, "-At", "-c", "\\dn")
    assert out.returncode == 0, out.stderr
    assert [line.split("|")[0] for line in out.stdout.splitlines()] == ["public", "staging"]
    out = psql(login, "-At", "-c", "\\dt staging.*")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["staging|events|table|admin"] or \
        [line.split("|")[:3] for line in out.stdout.splitlines()] == \
        [["staging", "events", "table"]]
    out = psql(login, "-c", "\\d staging.events")
    assert out.returncode == 0, out.stderr
    assert 'Table "staging.events"' in out.stdout
    assert "kind" in out.stdout and "other" not in out.stdout
    assert '"events_pkey" PRIMARY KEY, btree (id)' in out.stdout


def test_search_path_is_per_session(dsn, engine):
    psycopg = pytest.importorskip("psycopg")
    _setup(engine)
    with psycopg.connect(dsn, autocommit=True) as a, psycopg.connect(dsn, autocommit=True) as b:
        a.execute("SET search_path TO staging, public")
        for _ in range(3):        # cached and prepared plans too: each session its own table
            assert a.execute("SELECT count(*) FROM events WHERE id = %s", (1,),
                             prepare=True).fetchone() == (1,)
            assert b.execute("SELECT count(*) FROM events WHERE id = %s", (1,),
                             prepare=True).fetchone() == (0,)
        assert a.execute("SELECT current_schema()").fetchone() == ("staging",)
        assert b.execute("SELECT current_schema()").fetchone() == ("public",)
        a.execute("CREATE TABLE made_here (x INTEGER)")
        assert b.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging' "
                         "AND tablename = 'made_here'").fetchone() == (1,)


def test_sqlalchemy_schema_argument(login, engine):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    from sqlalchemy import (Column, ForeignKey, Integer, MetaData, String, Table, inspect,
                            insert, select)
    _setup(engine)
    eng = sqlalchemy.create_engine(
        "postgresql+psycopg://{user}:{password}@{host}:{port}/{database}".format(**login))
    try:
        md = MetaData()
        with eng.begin() as c:
            c.execute(sqlalchemy.text("CREATE SCHEMA IF NOT EXISTS mart"))
        dim = Table("dim", md, Column("id", Integer, primary_key=True),
                    Column("name", String(20)), schema="mart")
        fact = Table("fact", md, Column("id", Integer, primary_key=True),
                     Column("dim_id", ForeignKey("mart.dim.id")), schema="mart")
        md.create_all(eng)
        with eng.begin() as c:
            c.execute(insert(dim), [{"id": 1, "name": "a"}])
            c.execute(insert(fact), [{"id": 10, "dim_id": 1}])
            rows = c.execute(select(dim.c.name, fact.c.id).join_from(
                fact, dim, fact.c.dim_id == dim.c.id)).all()
        assert [tuple(r) for r in rows] == [("a", 10)]
        insp = inspect(eng)
        assert {"mart", "public", "staging"} <= set(insp.get_schema_names())
        assert insp.get_table_names(schema="mart") == ["dim", "fact"]
        assert insp.get_table_names(schema="staging") == ["events"]
        assert insp.get_table_names() == ["events"]
        cols = insp.get_columns("events", schema="staging")
        assert [c["name"] for c in cols] == ["id", "kind"]
        assert insp.get_pk_constraint("dim", schema="mart")["constrained_columns"] == ["id"]
        fks = insp.get_foreign_keys("fact", schema="mart")
        assert [(f["referred_schema"], f["referred_table"]) for f in fks] in (
            [("mart", "dim")], [(None, "dim")])
        assert insp.has_table("dim", schema="mart") and not insp.has_table("dim")
        md.drop_all(eng)
        assert inspect(eng).get_table_names(schema="mart") == []   # a new inspector: no cache
    finally:
        eng.dispose()


def test_copy_into_and_out_of_a_schema_table(dsn, engine):
    psycopg = pytest.importorskip("psycopg")
    _setup(engine)
    with psycopg.connect(dsn, autocommit=True) as c:
        with c.cursor().copy("COPY staging.events (id, kind) FROM STDIN") as copy:
            copy.write_row((2, "view"))
        out = []
        with c.cursor().copy("COPY staging.events TO STDOUT") as copy:
            for row in copy.rows():
                out.append(row)
        assert out == [("1", "click"), ("2", "view")]
        assert c.execute("SELECT count(*) FROM events").fetchone() == (0,)
