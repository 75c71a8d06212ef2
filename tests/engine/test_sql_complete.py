"""The SQL completion core (``rustmemodb.sql.complete``) on a real database.

Statements are unfinished on purpose: the completer must read them with a
tolerant tokenizer, never the parser.
"""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb.sql.complete import DatabaseCatalog, complete_sql, current_statement, statement_relations, tokenize


@pytest.fixture
def catalog():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE trades (id INTEGER PRIMARY KEY, sym TEXT, px FLOAT)")
    conn.execute("CREATE TABLE orders (oid INTEGER, sym TEXT, qty INTEGER)")
    conn.execute("CREATE VIEW by_sym AS SELECT sym, count(*) AS n FROM trades GROUP BY sym")
    return DatabaseCatalog(conn.database, {"df_sales": ["region", "amount"]})


def texts(text, catalog, cursor=None):
    found = complete_sql(text, len(text) if cursor is None else cursor, catalog)
    return None if found is None else [c.text for c in found.items]


def test_relations_after_from_join_into_update(catalog):
    assert texts("SELECT * FROM tr", catalog) == ["trades"]
    assert texts("SELECT * FROM ", catalog) == ["by_sym", "df_sales", "information_schema", "orders", "pg_catalog", "trades"]
    assert texts("SELECT * FROM trades t JOIN o", catalog) == ["orders"]
    assert texts("INSERT INTO ", catalog) == ["by_sym", "df_sales", "information_schema", "orders", "pg_catalog", "trades"]
    assert texts("UPDATE or", catalog) == ["orders"]
    assert texts("SELECT * FROM trades, o", catalog) == ["orders"]
    assert texts("SELECT * FROM (SELECT 1) s, tr", catalog) == ["trades"]


def test_kinds_and_fragment_start(catalog):
    found = complete_sql("SELECT * FROM by", 16, catalog)
    assert found.start == 14 and [(c.text, c.kind) for c in found.items] == [("by_sym", "view")]


def test_columns_qualified_by_alias_or_name(catalog):
    assert texts("SELECT t. FROM trades t", catalog, cursor=9) == ["id", "sym", "px"]
    assert texts("SELECT t.s FROM trades AS t", catalog, cursor=10) == ["sym"]
    assert texts("SELECT * FROM trades t JOIN orders o ON o.", catalog) == ["oid", "sym", "qty"]
    assert texts("SELECT * FROM trades t JOIN orders o ON t.id = o.q", catalog) == ["qty"]
    assert texts("SELECT trades. FROM trades", catalog, cursor=14) == ["id", "sym", "px"]
    assert texts("SELECT b. FROM by_sym b", catalog, cursor=9) == ["sym", "n"]  # a view, bound not run
    assert texts("SELECT d.a FROM df_sales d", catalog, cursor=10) == ["amount"]
    assert texts("SELECT x. FROM trades t", catalog, cursor=9) == []


def test_unqualified_names_columns_first_then_functions_and_keywords(catalog):
    got = texts("SELECT * FROM trades WHERE p", catalog)
    assert got[0] == "px"
    assert "power" in got and "PRIMARY" not in got  # lower-case fragment: lower-case keywords
    assert "primary" in got
    got = texts("SELECT SU", catalog)
    assert {"sum", "substr"} <= set(got)  # built-in aggregates are functions too
    assert texts("SEL", catalog) == ["SELECT"]
    got = texts("SELECT a", catalog)
    assert "agg_pack" not in got and "add" not in got and "avg" in got  # operator implementations are not offered
    assert got.count("and") == 1  # the keyword AND, not the function implementing it


def test_no_suggestions_inside_strings_and_comments(catalog):
    assert texts("SELECT 'tr", catalog) is None
    assert texts("SELECT * FROM trades -- fr", catalog) is None
    assert texts("SELECT /* tr", catalog) is None
    assert texts("SELECT 'x' FROM tr", catalog) == ["trades"]


def test_only_the_statement_at_the_cursor_counts(catalog):
    text = "SELECT * FROM orders o; SELECT o. FROM trades o"
    assert texts(text, catalog, cursor=text.index("o. ") + 2) == ["id", "sym", "px"]
    assert current_statement(text, 5) == (0, text.index(";"))


def test_statement_relations_tolerates_unfinished_text():
    tokens = tokenize("SELECT * FROM trades t, orders AS o JOIN \"My T\" m ON m.x = t.")
    assert statement_relations(tokens) == {"trades": "trades", "t": "trades", "orders": "orders",
                                           "o": "orders", "My T": "My T", "m": "My T"}


def test_user_functions_are_completed():
    conn = rustmemodb.connect()
    conn.register_function("shout", lambda s: s.upper(), ["TEXT"], "TEXT")
    assert "shout" in texts("SELECT sh", DatabaseCatalog(conn.database))


def test_the_word_being_typed_is_not_taken_for_an_alias(catalog):
    assert texts("SELECT * FROM trades ORD", catalog) == ["ORDER", "orders"]  # keywords before relations
    assert texts("SELECT * FROM trades t WHER", catalog) == ["WHERE"]


def test_with_queries_are_relations_with_their_output_columns(catalog):
    text = "WITH x AS (SELECT 1 AS a, sym, t.px, count(*) AS n, avg(px) FROM trades t) SELECT * FROM "
    assert texts(text, catalog)[0] == "x"
    text = "WITH x AS (SELECT 1 AS a, sym, t.px, count(*) AS n FROM trades t) SELECT x. FROM x"
    assert texts(text, catalog, cursor=text.index("x. ") + 2) == ["a", "sym", "px", "n"]
    text = "WITH RECURSIVE r(k, v) AS (SELECT 1, 2) SELECT * FROM r WHERE r."
    assert texts(text, catalog) == ["k", "v"]


def test_catalog_schemas_and_their_tables(catalog):
    assert texts("SELECT * FROM inf", catalog) == ["information_schema"]
    assert "columns" in texts("SELECT * FROM information_schema.", catalog)
    assert texts("SELECT * FROM information_schema.columns c WHERE c.table_n", catalog) == ["table_name"]


def test_derived_tables_by_alias(catalog):
    text = "SELECT s. FROM (SELECT sym, max(px) AS top FROM trades GROUP BY sym) AS s"
    assert texts(text, catalog, cursor=9) == ["sym", "top"]
    text = "SELECT * FROM trades t JOIN (SELECT oid, qty FROM orders) o ON o."
    assert texts(text, catalog) == ["oid", "qty"]
    assert texts("SELECT * FROM (SELECT 1 AS one) q, ", catalog)[0] == "by_sym"  # an alias is not a table


def test_names_that_need_quotes_are_inserted_quoted():
    conn = rustmemodb.connect()
    conn.execute('CREATE TABLE "My T" ("Amount" INTEGER, "order" TEXT, plain INTEGER)')
    cat = DatabaseCatalog(conn.database, {"df": ["Order Date", "qty"]})
    assert texts("SELECT * FROM my", cat) == ['"My T"']
    assert texts('SELECT * FROM "My', cat) == ['"My T"']
    assert texts('SELECT * FROM "My T" t WHERE t.', cat) == ['"Amount"', '"order"', "plain"]
    assert texts('SELECT am FROM "My T"', cat, cursor=9) == ['"Amount"']
    # an unclosed quote at the cursor ends there: it does not pair with the next one
    found = complete_sql('SELECT "Am FROM "My T"', 10, cat)
    assert found.start == 7 and [c.text for c in found.items] == ['"Amount"']
    assert texts('SELECT "Ord FROM df', cat, cursor=11) == ['"Order Date"']
