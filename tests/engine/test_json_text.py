"""json (``types.JSONT``: the text as written) beside jsonb (``types.JSON``: normalized)
in the engine: storage and the DB-API, the log and checkpoints, and databases written
before json had a type of its own.

Before json was its own type every JSON column, declared json or jsonb, was stored as
engine type ``JSON`` in jsonb's canonical text; the schema records the engine type and
not the declared name, so such a column opens as jsonb (what it behaved as) and a json
column made now records ``JSONT``.
"""
from __future__ import annotations

import json

import pytest

import rustmemodb
from rustmemodb import errors, types
from rustmemodb.durability.open import DurableDatabase

DOC = '{"b": 1,  "a": [1, 2], "b": 3}'


def _texts(conn) -> list:
    return conn.execute("SELECT id, j::text, jb::text FROM t ORDER BY id").fetchall()


def test_json_keeps_text_and_jsonb_normalizes_in_memory():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER, j JSON, jb JSONB)")
    conn.execute(f"INSERT INTO t VALUES (1, '{DOC}', '{DOC}')")
    conn.execute("INSERT INTO t VALUES (2, ?, ?)", ({"z": 1, "a": 2}, {"z": 1, "a": 2}))
    assert _texts(conn) == [(1, DOC, '{"a": [1, 2], "b": 3}'),
                            (2, '{"z": 1, "a": 2}', '{"a": 2, "z": 1}')]
    cur = conn.execute("SELECT j, jb FROM t ORDER BY id")
    # the DB-API returns parsed documents for both, as psycopg does
    assert cur.fetchall() == [({"b": 3, "a": [1, 2]}, {"a": [1, 2], "b": 3}),
                              ({"z": 1, "a": 2}, {"a": 2, "z": 1})]
    assert [d[1] for d in cur.description] == [types.JSONT, types.JSON]
    table = conn.execute("SELECT j FROM t ORDER BY id").fetch_arrow_table()
    assert table.column(0).to_pylist() == [DOC, '{"z": 1, "a": 2}']   # Arrow: the text


def test_invalid_json_is_refused_and_changes_nothing():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER, j JSON)")
    for bad in ("{", "NaN", "[1,]", "{'a': 1}"):
        with pytest.raises(errors.Error) as exc:
            conn.execute("INSERT INTO t VALUES (1, ?)", (bad,))
        assert exc.value.sqlstate == "22P02"
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.parametrize("how", ["close", "crash"])
def test_json_text_survives_reopen(tmp_path, how):
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    conn.execute("CREATE TABLE t (id INTEGER, j JSON, jb JSONB)")
    conn.execute(f"INSERT INTO t VALUES (1, '{DOC}', '{DOC}')")
    conn.execute("UPDATE t SET j = '[ 1,2 ]' WHERE id = 1")
    before = _texts(conn)
    if how == "close":
        db.close()            # a checkpoint holds the rows
    else:
        assert isinstance(db, DurableDatabase)
        db._abandon()         # only the log holds them
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    assert _texts(conn) == before
    assert db.root.tables["t"].schema.columns[1].type == types.JSONT
    assert db.root.tables["t"].schema.columns[2].type == types.JSON
    db.close()


def test_a_database_from_before_json_text_opens_its_columns_as_jsonb(tmp_path):
    """A JSON column as every one was stored before (engine type JSON, canonical text):
    the checkpoint's schema says JSON, and it opens as jsonb with its documents."""
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    conn.execute("CREATE TABLE t (id INTEGER, doc JSONB)")
    conn.execute(f"INSERT INTO t VALUES (1, '{DOC}')")
    db.close()
    manifests = sorted(path.glob("manifest-*.json"))
    assert '"JSON"' in manifests[-1].read_text() and '"JSONT"' not in \
        manifests[-1].read_text()
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    assert conn.execute("SELECT doc::text, pg_typeof(doc)::text FROM t").fetchone() == \
        ('{"a": [1, 2], "b": 3}', "jsonb")
    # still comparable, as jsonb is
    assert conn.execute("SELECT count(*) FROM t WHERE doc = '{\"b\": 3, \"a\": [1, 2]}'"
                        ).fetchone() == (1,)
    db.close()


def test_json_columns_in_pandas_are_text():
    pd = pytest.importorskip("pandas")
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER, j JSON)")
    conn.execute(f"INSERT INTO t VALUES (1, '{DOC}')")
    df = conn.execute("SELECT j FROM t").df()
    assert isinstance(df, pd.DataFrame)
    assert json.loads(df["j"][0]) == json.loads(DOC) and df["j"][0] == DOC
