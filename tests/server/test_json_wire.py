"""json and jsonb over the wire, compared with PostgreSQL 15: a json column is OID 114
and its text is sent as written (text and binary formats), jsonb is OID 3802 in its
normalized text; psycopg parses both into Python objects; json parameters (psycopg's
Json) keep their text; SQLAlchemy's JSON and JSONB columns round-trip."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")
from psycopg.types.json import Json, Jsonb  # noqa: E402

DOC = '{"b": 1,  "a": [1, 2], "b": 3}'


def _fetch(dsn: str, binary: bool) -> tuple[list, list, list]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS jw_t")
        conn.execute("CREATE TABLE jw_t (id INTEGER, j JSON, jb JSONB)")
        try:
            conn.execute("INSERT INTO jw_t VALUES (1, %s, %s), (2, NULL, NULL)",
                         (DOC, DOC))
            conn.execute("INSERT INTO jw_t VALUES (3, %s, %s)",
                         (Json({"z": 1, "a": 2}), Jsonb({"z": 1, "a": 2})))
            cur = conn.cursor(binary=binary)
            cur.execute("SELECT j, jb, j::text, jb::text, j -> 'a', json_build_object('k', j) "
                        "FROM jw_t ORDER BY id")
            oids = [d.type_code for d in cur.description]
            rows = cur.fetchall()
            texts = conn.execute("SELECT j::text FROM jw_t WHERE id = 3").fetchall()
            return oids, rows, texts
        finally:
            conn.execute("DROP TABLE jw_t")


@pytest.mark.parametrize("binary", [False, True])
def test_json_and_jsonb_answer_as_postgresql(dsn, pg_dsn, binary):
    ours, theirs = _fetch(dsn, binary), _fetch(pg_dsn, binary)
    assert ours == theirs
    oids, rows, texts = ours
    assert oids == [114, 3802, 25, 25, 114, 114]
    assert rows[0][2] == DOC and rows[0][3] == '{"a": [1, 2], "b": 3}'
    assert rows[0][0] == {"b": 3, "a": [1, 2]}          # psycopg parses json too
    assert texts == [('{"z": 1, "a": 2}',)]              # Json(...) kept as sent


def test_json_equality_is_refused_as_in_postgresql(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedFunction):
            conn.execute("SELECT '{}'::json = '{}'::json")


def test_sqlalchemy_json_and_jsonb_columns(login):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
    from sqlalchemy.dialects.postgresql import JSON, JSONB

    engine = create_engine("postgresql+psycopg://{user}:{password}@{host}:{port}/{database}"
                           .format(**login))
    meta = MetaData()
    t = Table("jw_sa", meta, Column("id", Integer, primary_key=True), Column("j", JSON),
              Column("jb", JSONB))
    try:
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(t), [{"id": 1, "j": {"z": [1], "a": None},
                                      "jb": {"z": [1], "a": None}}])
            row = conn.execute(select(t.c.j, t.c.jb)).one()
            text = conn.execute(sqlalchemy.text("SELECT j::text, jb::text FROM jw_sa")).one()
            kinds = conn.execute(sqlalchemy.text(
                "SELECT data_type FROM information_schema.columns WHERE table_name = 'jw_sa' "
                "ORDER BY ordinal_position")).all()
        assert tuple(row) == ({"z": [1], "a": None}, {"z": [1], "a": None})
        assert tuple(text) == ('{"z": [1], "a": null}', '{"a": null, "z": [1]}')
        assert [r[0] for r in kinds][1:] == ["json", "jsonb"]
    finally:
        meta.drop_all(engine)
        engine.dispose()


NUMBERS = "SELECT '[1.50, 12345678901234567890.123, 1e2, -0.0, {\"b\": 1.0E+2}]'::jsonb, " \
          "jsonb_build_object('n', 1.50::numeric), array['[2.50]'::jsonb]"


def _raw_numbers(dsn: str, binary: bool) -> list:
    """jsonb's text as the wire carries it (psycopg's parser replaced by the identity)."""
    from psycopg.types.json import set_json_loads
    with psycopg.connect(dsn, autocommit=True) as conn:
        set_json_loads(lambda s: s if isinstance(s, str) else bytes(s).decode(), conn)
        return conn.cursor(binary=binary).execute(NUMBERS).fetchall()


@pytest.mark.parametrize("binary", [False, True])
def test_jsonb_numbers_travel_as_postgresql_writes_them(dsn, pg_dsn, binary):
    ours = _raw_numbers(dsn, binary)
    assert ours == _raw_numbers(pg_dsn, binary)
    assert ours[0][0] == '[1.50, 12345678901234567890.123, 100, 0.0, {"b": 100}]'
    assert ours[0][1] == '{"n": 1.50}' and ours[0][2] == ['[2.50]']
