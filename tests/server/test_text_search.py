"""tsvector and tsquery over the wire (psycopg): columns described with PostgreSQL's OIDs
3614/3615, values in text and in PostgreSQL's binary form, parameters read as the type
their slot takes, COPY in and out, and a GIN-indexed generated column queried with @@."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")

from rustmemodb.textsearch import wire  # noqa: E402


@pytest.fixture
def conn(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT, "
                  "tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED, "
                  "q tsquery)")
        c.execute("CREATE INDEX docs_fts ON docs USING gin (tsv)")
        yield c


def test_columns_read_in_text_and_binary(conn):
    conn.execute("INSERT INTO docs (id, body, q) VALUES (%s, %s, %s), (2, NULL, NULL)",
                 (1, "The quick brown foxes jumped", "fox & !cat"))
    cur = conn.execute("SELECT tsv, q FROM docs ORDER BY id")
    assert [d.type_code for d in cur.description] == [3614, 3615]
    assert cur.fetchall() == [("'brown':3 'fox':4 'jump':5 'quick':2", "'fox' & !'cat'"),
                              (None, None)]
    binary = conn.cursor(binary=True).execute("SELECT tsv, q FROM docs WHERE id = 1").fetchone()
    assert bytes(binary[0]) == wire.tsvector_send("'brown':3 'fox':4 'jump':5 'quick':2")
    assert bytes(binary[1]) == wire.tsquery_send("'fox' & !'cat'")


def test_search_with_parameters(conn):
    conn.cursor().executemany("INSERT INTO docs (id, body) VALUES (%s, %s)",
                              [(1, "Lazy dogs sleep"), (2, "A quick fox"), (3, "Dogs and foxes")])
    rows = conn.execute(
        "SELECT id, ts_rank(tsv, websearch_to_tsquery('english', %s)) FROM docs "
        "WHERE tsv @@ websearch_to_tsquery('english', %s) ORDER BY 2 DESC, id",
        ("dogs -sleep", "dogs -sleep")).fetchall()
    assert rows == [(3, 1e-20)]      # PostgreSQL 15: an AND with no pair of positions
    assert conn.execute("SELECT id FROM docs WHERE tsv @@ %s::tsquery ORDER BY id",
                        ("fox",)).fetchall() == [(2,), (3,)]
    assert conn.execute("SELECT ts_headline('english', body, to_tsquery('english', %s)) "
                        "FROM docs WHERE id = 2", ("fox",)).fetchone() == ("A quick <b>fox</b>",)


def test_copy_in_and_out(conn):
    with conn.cursor().copy("COPY docs (id, body, q) FROM STDIN") as cp:
        cp.write(b"1\tfat cats\t'cat' & 'fat'\n")
    with conn.cursor().copy("COPY docs (id, tsv, q) TO STDOUT") as cp:
        out = b"".join(bytes(d) for d in cp)
    assert out == b"1\t'cat':2 'fat':1\t'cat' & 'fat'\n"


def test_catalog_names_the_types(conn):
    rows = conn.execute("SELECT typname, oid::int FROM pg_type WHERE typname IN "
                        "('tsvector', 'tsquery') ORDER BY typname").fetchall()
    assert rows == [("tsquery", 3615), ("tsvector", 3614)]
    cols = conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = 'docs' ORDER BY ordinal_position").fetchall()
    assert cols[2:] == [("tsv", "tsvector"), ("q", "tsquery")]
