"""pg_get_viewdef as PostgreSQL 15 prints a view (catalog/pg_viewdef.py), embedded: the
expected texts are PostgreSQL 15's for the same views (tests/server/
test_catalog_differential.py compares them with a live server); a shape the printer
does not know is shown as written rather than guessed."""
from __future__ import annotations

import pytest

import rustmemodb


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE b (id bigint PRIMARY KEY, name text, qty bigint, price numeric, "
              "flag boolean)")
    c.execute("CREATE TABLE f (id bigint, bid bigint)")
    yield c
    c.close()


def _defs(conn, view: str) -> tuple[str, str]:
    return conn.execute(f"SELECT pg_get_viewdef('{view}'::regclass, true), "
                        f"pg_get_viewdef('{view}'::regclass)").fetchone()


def test_join_view_pretty_and_not(conn):
    conn.execute("CREATE VIEW v AS SELECT b.id, f.id AS fid FROM b JOIN f ON f.bid = b.id "
                 "WHERE name = 'x' OR qty > 1 AND NOT flag")
    pretty, plain = _defs(conn, "v")
    assert pretty == (" SELECT b.id,\n    f.id AS fid\n   FROM b\n     JOIN f ON f.bid = b.id\n"
                      "  WHERE b.name = 'x'::text OR b.qty > 1 AND NOT b.flag;")
    assert plain == (" SELECT b.id,\n    f.id AS fid\n   FROM (b\n     JOIN f ON ((f.bid = b.id)))\n"
                     "  WHERE ((b.name = 'x'::text) OR ((b.qty > 1) AND (NOT b.flag)));")


def test_star_and_aggregates(conn):
    conn.execute("CREATE VIEW s AS SELECT * FROM f")
    conn.execute("CREATE VIEW g AS SELECT name, max(qty), count(*) AS n FROM b GROUP BY name "
                 "ORDER BY name DESC")
    assert _defs(conn, "s")[0] == " SELECT f.id,\n    f.bid\n   FROM f;"
    assert _defs(conn, "g")[0] == (" SELECT b.name,\n    max(b.qty) AS max,\n    count(*) AS n\n"
                                   "   FROM b\n  GROUP BY b.name\n  ORDER BY b.name DESC;")


def test_parentheses_where_postgresql_puts_them(conn):
    """ruleutils.c's isSimpleNode: arithmetic under a comparison, an OR under AND, an IS
    NULL under an operator are parenthesized; (a - b) - c is not, a - (b - c) is."""
    conn.execute("CREATE VIEW p AS SELECT (qty + 1) * 2 AS a, qty - (id - 1) AS b2 FROM b "
                 "WHERE NOT qty IS NULL AND (qty IS NULL) = flag OR (id = 1 OR qty = 2) "
                 "AND name IS NOT NULL AND qty + 1 > 0")
    assert _defs(conn, "p")[0] == (
        " SELECT (b.qty + 1) * 2 AS a,\n    b.qty - (b.id - 1) AS b2\n   FROM b\n"
        "  WHERE NOT b.qty IS NULL AND (b.qty IS NULL) = b.flag OR (b.id = 1 OR b.qty = 2) "
        "AND b.name IS NOT NULL AND (b.qty + 1) > 0;")


@pytest.mark.parametrize("query", [
    "SELECT id FROM b WHERE id IN (SELECT bid FROM f)",     # a subquery
    "SELECT id FROM b WHERE price > qty",                   # PostgreSQL converts qty
    "SELECT CASE WHEN flag THEN 1 ELSE 2 END AS c FROM b",  # CASE
])
def test_other_shapes_are_shown_as_written(conn, query):
    conn.execute(f"CREATE VIEW o AS {query}")
    pretty, plain = _defs(conn, "o")
    assert pretty == plain and pretty.startswith(" SELECT ") and pretty.endswith(";")
    assert "\n" not in pretty       # not the line layout: the stored text
