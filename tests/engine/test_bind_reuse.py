"""Bound select items and conditions reused across a session's statements (issue 11).

sql/bind/reuse.py keeps what a session bound for a whole select item or WHERE
condition and hands it back when a later statement writes the same piece over the
same columns. Each case here checks that a piece reused, and one that must not be,
answers as a fresh connection binding it for the first time does.
"""
from __future__ import annotations

import pytest
import rustmemodb
from rustmemodb import errors
from rustmemodb.sql.bind import reuse
from rustmemodb.sql.parse import parse_one


def _connect():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER, b INTEGER, s TEXT, f FLOAT)")
    c.execute("INSERT INTO t VALUES (1, 2, 'x', 1.5), (3, 1, 'it''s', NULL), "
              "(NULL, 5, '-- no', -0.5), (4, 4, '/* c */', 2.0)")
    return c


def _fresh(sql: str) -> list:
    return _connect().execute(sql).fetchall()


def _memo(c):
    return c._session._expr_memo


def _key(sql: str):
    return reuse.piece_key(parse_one(sql).expressions[0])


@pytest.fixture()
def conn():
    return _connect()


def test_a_repeated_piece_is_reused_and_answers_alike(conn):
    first = conn.execute("SELECT a + b * 2 FROM t ORDER BY 1").fetchall()
    hits = _memo(conn).hits
    again = conn.execute("SELECT a + b * 2, s FROM t ORDER BY 1").fetchall()
    assert _memo(conn).hits > hits
    assert [r[0] for r in again] == [r[0] for r in first]
    assert again == _fresh("SELECT a + b * 2, s FROM t ORDER BY 1")


@pytest.mark.parametrize("pieces", [
    ("a = 1", "a = '1'", "a = 1.0", "a = 1e0"),                 # literal types
    ("s = 'x'", "s = 'X'", "s = 'x '", "s = 'it''s'"),          # string texts
    ("a", "\"a\"", "t.a"),                                      # quoting, qualification
    ("s = '-- no'", "s = '/* c */'"),                           # comment-like strings
    ("a - b", "b - a", "a + b", "(a + b)", "a + (b)"),
    ("a < b", "a <= b", "a > b", "NOT a > b", "a IS NULL", "a IS NOT NULL"),
    ("a BETWEEN 1 AND 3", "a NOT BETWEEN 1 AND 3", "a BETWEEN 1 AND 4"),
])
def test_pieces_written_differently_have_different_keys(pieces):
    keys = [_key(f"SELECT {p} FROM t") for p in pieces]
    distinct = {k for k in keys if k is not None}
    # "a" and "\"a\"" are one column but written differently: separate entries are fine,
    # a shared one would be wrong only for pieces that bind differently.
    assert len(distinct) == len([k for k in keys if k is not None])


def test_keys_ignore_positions_only():
    assert _key("SELECT a+b FROM t") == _key("SELECT   a + b FROM t") is not None
    assert _key("SELECT a + 1 FROM t") != _key("SELECT a + '1' FROM t")


@pytest.mark.parametrize("sql", [
    "SELECT a = 1 FROM t",
    "SELECT (SELECT max(b) FROM t) FROM t",
    "SELECT a::text FROM t",
    "SELECT upper(s) FROM t",
    "SELECT $1 FROM t",
    "SELECT current_user FROM t",
    "SELECT count(*) FILTER (WHERE a > 1) FROM t",
    "SELECT sum(a) OVER () FROM t",
    "SELECT string_agg(s, ',') FROM t",
    "SELECT count(*) FROM t",
    "SELECT sum(DISTINCT a + 1) FROM t",
])
def test_only_pure_pieces_have_keys(sql):
    expected_key = sql in ("SELECT a = 1 FROM t", "SELECT count(*) FROM t",
                           "SELECT sum(DISTINCT a + 1) FROM t")
    assert (_key(sql) is not None) == expected_key


@pytest.mark.parametrize("sql", [
    "SELECT count(*), sum(a), avg(f), min(s), max(b) FROM t",
    "SELECT b, count(*), sum(a + 1) FROM t GROUP BY b ORDER BY 1",
    "SELECT count(DISTINCT b), count(b), sum(DISTINCT b) FROM t",
    "SELECT a + b, count(*) FROM t GROUP BY a + b ORDER BY 1",
    "SELECT sum(a) FROM t HAVING sum(a) > 1",
    "SELECT count(*) FILTER (WHERE a > 1), count(*) FROM t",
])
def test_reused_aggregates_answer_as_fresh_binding(conn, sql):
    conn.execute("SELECT count(*), sum(a), avg(f), count(b), sum(a + 1) FROM t").fetchall()
    for _ in range(2):
        assert conn.execute(sql).fetchall() == _fresh(sql)


def test_an_aggregate_where_none_is_allowed_is_refused_every_time(conn):
    conn.execute("SELECT sum(a) FROM t").fetchall()
    for _ in range(2):
        with pytest.raises(errors.Error) as info:
            conn.execute("SELECT a FROM t WHERE sum(a) > 1").fetchall()
        assert info.value.sqlstate == "42803"


@pytest.mark.parametrize("sql", [
    "SELECT a = 1 FROM t ORDER BY 1",
    "SELECT s FROM t WHERE s = 'it''s'",
    "SELECT s FROM t WHERE s = '-- no' OR a = 1 ORDER BY 1",
    "SELECT s FROM t WHERE s = '/* c */' ORDER BY 1",
    "SELECT a + 1, a + 1.5, a || 'z' FROM t ORDER BY 1",
    "SELECT CASE WHEN a < b THEN 'lt' ELSE 'ge' END FROM t ORDER BY 1",
    "SELECT coalesce(a, b, 0), abs(f) FROM t ORDER BY 1, 2",
    "SELECT a FROM t WHERE (a > 1 AND b < 5) OR a IS NULL ORDER BY 1",
    "SELECT -f, -a FROM t ORDER BY 1",
])
def test_reused_pieces_answer_as_fresh_binding(conn, sql):
    # every piece of the corpus-like statements bound once, then each statement again
    for other in ("SELECT a = 1, s = 'x', a + 1, abs(f), coalesce(a, b, 0) FROM t",
                  "SELECT -f, -a, a || 'z', a + 1.5 FROM t WHERE a > 1 AND b < 5"):
        conn.execute(other).fetchall()
    assert conn.execute(sql).fetchall() == _fresh(sql)
    assert conn.execute(sql).fetchall() == _fresh(sql)


def test_literals_of_different_types_are_not_confused(conn):
    assert conn.execute("SELECT a + 1 FROM t ORDER BY 1").fetchall() == \
        [(2,), (4,), (5,), (None,)]
    with pytest.raises(errors.Error) as info:
        conn.execute("SELECT a + '1' FROM t").fetchall()
    assert info.value.sqlstate in ("42883", "42804", "22P02")
    assert conn.execute("SELECT a + 1.0 FROM t ORDER BY 1").fetchall() == \
        [(2.0,), (4.0,), (5.0,), (None,)]


def test_ddl_changing_a_column_type_binds_again(conn):
    assert conn.execute("SELECT a / 2 FROM t ORDER BY 1").fetchall() == \
        [(0,), (1,), (2,), (None,)]
    conn.execute("ALTER TABLE t ALTER COLUMN a TYPE FLOAT")
    assert conn.execute("SELECT a / 2 FROM t ORDER BY 1").fetchall() == \
        [(0.5,), (1.5,), (2.0,), (None,)]


def test_a_table_dropped_and_made_again_binds_again(conn):
    conn.execute("SELECT a + b FROM t").fetchall()
    conn.execute("DROP TABLE t")
    conn.execute("CREATE TABLE t (a TEXT, b TEXT)")
    conn.execute("INSERT INTO t VALUES ('x', 'y')")
    with pytest.raises(errors.Error):
        conn.execute("SELECT a + b FROM t").fetchall()
    assert conn.execute("SELECT a || b FROM t").fetchall() == [("xy",)]


def test_create_function_shadowing_a_builtin_empties_the_memo(conn):
    assert conn.execute("SELECT abs(f) FROM t WHERE a = 1").fetchall() == [(1.5,)]
    conn.execute("CREATE FUNCTION abs(x float) RETURNS float LANGUAGE sql RETURN x + 100")
    # the same text (the plan cache) and another holding the same piece (the memo)
    for sql in ("SELECT abs(f) FROM t WHERE a = 1", "SELECT abs(f), a FROM t WHERE a = 1"):
        assert conn.execute(sql).fetchall() == _fresh_with_function(sql)
    assert conn.execute("SELECT abs(f) FROM t WHERE a = 1").fetchall() == [(101.5,)]


def test_a_plan_made_with_a_reused_piece_is_stale_once_create_function_shadows_it(conn):
    # the piece abs(f) is bound by the first statement; the second reuses it, and its
    # plan (cached on the second run) must depend on abs as if bound afresh
    conn.execute("SELECT abs(f), b FROM t WHERE a > 0 ORDER BY 1").fetchall()
    sql = "SELECT abs(f), a FROM t WHERE a = 1"
    for _ in range(2):
        assert conn.execute(sql).fetchall() == [(1.5, 1)]
    conn.execute("CREATE FUNCTION abs(x float) RETURNS float LANGUAGE sql RETURN x + 100")
    assert conn.execute(sql).fetchall() == _fresh_with_function(sql) == [(101.5, 1)]


def _fresh_with_function(sql: str) -> list:
    c = _connect()
    c.execute("CREATE FUNCTION abs(x float) RETURNS float LANGUAGE sql RETURN x + 100")
    return c.execute(sql).fetchall()


def test_a_registered_udf_changes_the_registry_version(conn):
    conn.execute("SELECT a + b FROM t").fetchall()
    before = _memo(conn).stamp
    conn.register_function("twice", lambda x: 2 * x, ["INTEGER"], "INTEGER")
    conn.execute("SELECT a + b FROM t").fetchall()
    assert _memo(conn).stamp != before
    assert conn.execute("SELECT twice(a) FROM t WHERE a = 3").fetchall() == [(6,)]


def test_search_path_and_settings_do_not_change_answers(conn):
    sql = "SELECT a + b, s = 'x' FROM t ORDER BY 1"
    before = conn.execute(sql).fetchall()
    conn.execute("SET search_path = public")
    conn.execute("SET TimeZone = 'Europe/Paris'")
    assert conn.execute(sql).fetchall() == before == _fresh(sql)


def test_outer_references_are_not_reused(conn):
    # the same text is an outer reference inside a subquery and a plain column outside
    sql = ("SELECT a, (SELECT count(*) FROM t AS x WHERE x.b < b) FROM t ORDER BY 1")
    conn.execute("SELECT b FROM t").fetchall()
    assert conn.execute(sql).fetchall() == _fresh(sql)
    assert conn.execute(sql).fetchall() == _fresh(sql)


def test_other_tables_with_other_types_bind_their_own(conn):
    conn.execute("CREATE TABLE u (a TEXT, b TEXT)")
    conn.execute("INSERT INTO u VALUES ('p', 'q')")
    assert conn.execute("SELECT a FROM t WHERE a = 1").fetchall() == [(1,)]
    assert conn.execute("SELECT a FROM u").fetchall() == [("p",)]
    with pytest.raises(errors.Error):
        conn.execute("SELECT a FROM u WHERE a = 1").fetchall()


def test_the_memo_is_bounded(conn, monkeypatch):
    monkeypatch.setattr(reuse, "MAX_ENTRIES", 8)
    for i in range(40):
        conn.execute(f"SELECT a + {i} FROM t").fetchall()
    assert len(_memo(conn).entries) <= 8
    assert conn.execute("SELECT a + 7 FROM t WHERE a = 1").fetchall() == [(8,)]


def test_reused_pieces_reuse_their_row_closures(conn):
    conn.execute("SELECT a + b * 2 FROM t").fetchall()
    memo = _memo(conn)
    closures = dict(memo.row_fns)
    assert closures
    assert conn.execute("SELECT a + b * 2, s FROM t ORDER BY 1").fetchall() == \
        _fresh("SELECT a + b * 2, s FROM t ORDER BY 1")
    kept = [k for k in closures if k in memo.row_fns and memo.row_fns[k] is closures[k]]
    assert kept, "the piece's closure was compiled again"


def test_closures_of_subqueries_are_kept_per_slot_count(conn):
    # a subquery's closure reads its outer values after the statement's own slots: kept
    # under the number of slots (and the tables too big for the row path), not the id alone
    sql = "SELECT a, (SELECT count(*) FROM t AS x WHERE x.b < t.b) FROM t ORDER BY 1"
    conn.execute("SELECT a FROM t").fetchall()
    assert conn.execute(sql).fetchall() == _fresh(sql)
    from rustmemodb.plan.expr import has_subquery
    kept = [k for k, (e, _) in _memo(conn).row_fns.items() if has_subquery(e)]
    assert kept and all(type(k) is tuple and k[1] == 0 for k in kept)
    assert conn.execute(sql + " LIMIT 9").fetchall() == _fresh(sql)


def test_new_combinations_of_known_conditions_reuse_their_sides(conn):
    conn.execute("SELECT a FROM t WHERE a > b").fetchall()
    conn.execute("SELECT a FROM t WHERE s IS NOT NULL").fetchall()
    memo = _memo(conn)
    hits = memo.hits
    for sql in ("SELECT a FROM t WHERE a > b AND s IS NOT NULL ORDER BY 1",
                "SELECT a FROM t WHERE (a > b) OR s IS NOT NULL ORDER BY 1",
                "SELECT a FROM t WHERE s IS NOT NULL AND (a > b OR a IS NULL) ORDER BY 1",
                ("SELECT a FROM t WHERE a > b AND EXISTS (SELECT 1 FROM t AS x WHERE x.a < t.b)"
                 " ORDER BY 1")):
        assert conn.execute(sql).fetchall() == _fresh(sql)
        assert conn.execute(sql).fetchall() == _fresh(sql)
    assert memo.hits >= hits + 4


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t WHERE (a > 1 AND b < 5) OR (a IS NULL AND b = 5) ORDER BY 1",
    "SELECT a FROM t WHERE NOT (a > 1 OR b IS NULL) ORDER BY 1",
    "SELECT a FROM t WHERE a / (b - 4) > 0 OR b = 4 ORDER BY 1",      # never divides by 0
    "SELECT a FROM t WHERE b = 4 OR a / (b - 4) > 0 ORDER BY 1",
    "SELECT a FROM t WHERE (a, b) = (1, 2) OR a = 3 ORDER BY 1",
])
def test_three_valued_and_lazy_logic_of_reused_sides(conn, sql):
    for warm in ("SELECT a FROM t WHERE a > 1", "SELECT a FROM t WHERE b < 5",
                 "SELECT a FROM t WHERE a IS NULL", "SELECT a FROM t WHERE b = 4"):
        conn.execute(warm).fetchall()
    for _ in range(2):
        try:
            got = conn.execute(sql).fetchall()
        except errors.Error as exc:
            with pytest.raises(type(exc)):
                _fresh(sql)
        else:
            assert got == _fresh(sql)


def test_piece_keys_and_censuses_are_remembered_per_object(conn):
    # the pieces of sql/pieces.py are the same node objects statement after statement:
    # each is keyed once, and each bound piece handed out again is censused once
    conn.execute("SELECT a + b * 2, s FROM t WHERE a > b ORDER BY 1").fetchall()
    memo = _memo(conn)
    assert memo.keys and memo.census
    keys, census = dict(memo.keys), dict(memo.census)
    sql = "SELECT s, a + b * 2 FROM t WHERE a > b OR b > 3 ORDER BY 2"
    assert conn.execute(sql).fetchall() == _fresh(sql)
    assert any(k in memo.keys and memo.keys[k] is keys[k] for k in keys)
    assert any(k in memo.census and memo.census[k] is census[k] for k in census)


@pytest.mark.parametrize("sql", [
    "a > b AND b > 1", "a > b OR (b > 1 AND s = 'x')", "(a IS NULL)",
    "a > b OR EXISTS (SELECT 1 FROM t AS x WHERE x.b < t.b)",
    "(SELECT count(*) FROM t AS x WHERE x.a > t.a) > 1 AND a < 3 OR b = 2",
    "a > b AND f(a) > 1", "a > $1 OR b > 1", "((a + 1) > b) AND (SELECT max(a) FROM t) > 0",
])
def test_an_and_or_is_keyed_from_its_sides_as_when_walked_whole(sql):
    """ExprMemo.key_of keys an AND/OR/bracket from its sides' remembered keys: the key
    piece_key or catalog_key makes walking the whole condition (None where they give
    none), whether the sides were keyed before or not."""
    cond = parse_one(f"SELECT 1 FROM t WHERE {sql}").args["where"].this
    whole = reuse.piece_key(cond)
    if whole is None:
        whole = reuse.catalog_key(cond)
    memo = reuse.ExprMemo()
    assert memo.key_of(cond) == whole
    for side in cond.iter_expressions():
        memo.key_of(side)
    fresh = reuse.ExprMemo()
    for side in cond.iter_expressions():
        fresh.key_of(side)
    assert fresh.key_of(cond) == whole
