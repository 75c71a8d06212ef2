"""The plan cache by statement shape (sql/literals.py, sql/plan_cache.py).

Literals are lifted into parameter slots so that texts differing only in their
literals share one plan. Each case runs a statement on a connection whose cache
holds the plan made for *another* literal of the same shape, and compares the
answer with a fresh plan of the same text.
"""
from __future__ import annotations

import datetime as dt

import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb.sql import params as placeholders
from rustmemodb.sql.literals import shape_of


def _db():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v FLOAT, s TEXT, d DATE)")
    c.execute("CREATE INDEX t_k ON t (k)")
    c.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                  [(i, i % 7, i / 4, f"s{i % 5}'x", dt.date(2024, 1, 1 + i % 28))
                   for i in range(1, 201)])
    return c


@pytest.fixture(scope="module")
def warm():
    return _db()


def _fresh(sql):
    c = _db()
    c.database.plan_cache.clear()
    return c.execute(sql).fetchall()


# (statement planned first, statement then served from the cache)
PAIRS = [
    ("SELECT * FROM t WHERE id = 5", "SELECT * FROM t WHERE id = 6"),
    ("SELECT s FROM t WHERE k = 3 AND v > 10.5 ORDER BY id", "SELECT s FROM t WHERE k = 4 AND v > 20.25 ORDER BY id"),
    ("SELECT k, count(*) FROM t GROUP BY 1 ORDER BY 1", "SELECT k, count(*) FROM t GROUP BY 1 ORDER BY 2, 1"),
    ("SELECT k, s FROM t GROUP BY 1, 2 ORDER BY 1, 2", "SELECT k, s FROM t GROUP BY 2, 1 ORDER BY 2, 1"),
    ("SELECT id FROM t ORDER BY v DESC LIMIT 3", "SELECT id FROM t ORDER BY v DESC LIMIT 5"),
    ("SELECT id FROM t ORDER BY id LIMIT 3 OFFSET 2", "SELECT id FROM t ORDER BY id LIMIT 3 OFFSET 7"),
    ("SELECT count(*) FROM t WHERE d <= '2024-01-10'", "SELECT count(*) FROM t WHERE d <= '2024-01-20'"),
    ("SELECT count(*) FROM t WHERE d < DATE '2024-01-10'", "SELECT count(*) FROM t WHERE d < DATE '2024-01-03'"),
    ("SELECT count(*) FROM t WHERE d > '2024-01-01'::date + INTERVAL '3 days'",
     "SELECT count(*) FROM t WHERE d > '2024-01-01'::date + INTERVAL '9 days'"),
    ("SELECT k + 1, count(*) FROM t GROUP BY k + 1 ORDER BY 1", "SELECT k + 2, count(*) FROM t GROUP BY k + 2 ORDER BY 1"),
    ("SELECT s FROM t WHERE s = 's1''x' ORDER BY id LIMIT 2", "SELECT s FROM t WHERE s = 's2''x' ORDER BY id LIMIT 2"),
    ("SELECT id FROM t WHERE s LIKE 's1%' AND id < 30 ORDER BY id", "SELECT id FROM t WHERE s LIKE 's3%' AND id < 30 ORDER BY id"),
    ("SELECT id FROM t WHERE k IN (1, 2) AND id < 20 ORDER BY id", "SELECT id FROM t WHERE k IN (5, 6) AND id < 20 ORDER BY id"),
    ("SELECT CASE WHEN v > 10 THEN 'big' ELSE 'small' END, count(*) FROM t GROUP BY 1 ORDER BY 1",
     "SELECT CASE WHEN v > 30 THEN 'large' ELSE 'tiny' END, count(*) FROM t GROUP BY 1 ORDER BY 1"),
    ("SELECT id * 2, v + 1 FROM t WHERE id BETWEEN 3 AND 5 ORDER BY 1", "SELECT id * 3, v + 2 FROM t WHERE id BETWEEN 7 AND 9 ORDER BY 1"),
    ("SELECT id FROM t WHERE v = 2 ORDER BY id", "SELECT id FROM t WHERE v = 3 ORDER BY id"),
    ("SELECT id FROM t WHERE k > -1 AND id < 4 ORDER BY id", "SELECT id FROM t WHERE k > -3 AND id < 4 ORDER BY id"),
    ("SELECT 1 + 2, 'a' || 'b'", "SELECT 3 + 4, 'c' || 'd'"),
    ("SELECT substr(s, 1, 2) FROM t WHERE id = 1", "SELECT substr(s, 2, 3) FROM t WHERE id = 1"),
    ("SELECT round(v, 1) FROM t WHERE id = 7", "SELECT round(v, 0) FROM t WHERE id = 7"),
    ("SELECT id FROM t WHERE id = 2 /* it's */ OR id = 3 ORDER BY 1", "SELECT id FROM t WHERE id = 4 /* it's */ OR id = 5 ORDER BY 1"),
    ("SELECT id FROM t WHERE id IN (SELECT id FROM t WHERE k = 1) AND id < 30 ORDER BY 1",
     "SELECT id FROM t WHERE id IN (SELECT id FROM t WHERE k = 2) AND id < 30 ORDER BY 1"),
    ("SELECT sum(v) OVER (ORDER BY id ROWS 1 PRECEDING) FROM t WHERE id < 5 ORDER BY id",
     "SELECT sum(v) OVER (ORDER BY id ROWS 2 PRECEDING) FROM t WHERE id < 5 ORDER BY id"),
    ("SELECT E'a\\tb', 'x'", "SELECT E'c\\td', 'y'"),
    ("SELECT generate_series FROM generate_series(1, 3)", "SELECT generate_series FROM generate_series(2, 5)"),
    # functions and casts of literals, folded when bound, evaluated again per text
    ("SELECT md5(5::text), 5::float / 2, 7::text || 'x'", "SELECT md5(6::text), 9::float / 2, 0::text || 'y'"),
    ("SELECT id FROM t WHERE s = upper('s1''x') OR s = lower('S1''X') ORDER BY id LIMIT 3",
     "SELECT id FROM t WHERE s = upper('s2''x') OR s = lower('S2''X') ORDER BY id LIMIT 3"),
    ("SELECT id FROM t WHERE id > 5 + 0 AND id > 3 + 0 AND id < 9 ORDER BY id",
     "SELECT id FROM t WHERE id > 1 + 0 AND id > 7 + 0 AND id < 9 ORDER BY id"),
    ("SELECT lower('A'), lower('A') || 'b'", "SELECT lower('C'), lower('D') || 'e'"),
]


def _seen_before(conn, sql: str) -> None:
    """Mark the shape of ``sql`` as seen, so ``sql`` itself is planned with its literals
    lifted (a shape's first text keeps them: sql/plan_cache.py)."""
    ph = placeholders.normalize(sql)
    conn.database.plan_cache.first_sighting(shape_of(ph.sql, ph.names))


@pytest.mark.parametrize("first, second", PAIRS)
def test_a_shape_shares_its_plan_only_where_the_answer_cannot_change(warm, first, second):
    _seen_before(warm, first)
    warm.execute(first).fetchall()
    assert warm.execute(second).fetchall() == _fresh(second)
    assert warm.execute(first).fetchall() == _fresh(first)


def test_a_literal_inside_a_folded_call_or_cast_is_lifted():
    """``md5(42::text)`` is folded when bound; the cached plan remembers the call and
    runs it for the next text's literal (pgbench's UPDATE, psycopg2's inlined values)."""
    c = _db()
    cache = c.database.plan_cache
    for i in range(1, 4):
        c.execute(f"UPDATE t SET s = md5({i}::text) WHERE id = {i}")
    misses, hits = cache.misses, cache.hits
    for i in range(4, 40):
        c.execute(f"UPDATE t SET s = md5({i}::text) WHERE id = {i}")
    assert cache.misses == misses and cache.hits - hits == 36
    assert c.execute("SELECT count(*) FROM t WHERE id < 40 AND s = md5(id::text)"
                     ).fetchone() == (39,)


def test_literals_that_differ_are_different_expressions(warm):
    warm.execute("SELECT k + 1 FROM t GROUP BY k + 1 ORDER BY 1").fetchall()
    with pytest.raises(rustmemodb.ProgrammingError) as exc:
        warm.execute("SELECT k + 1 FROM t GROUP BY k + 2 ORDER BY 1")
    assert exc.value.sqlstate == "42803"


def test_a_fresh_literal_reuses_the_plan():
    c = _db()
    cache = c.database.plan_cache
    c.execute("SELECT * FROM t WHERE id = 1").fetchall()
    misses = cache.misses
    for i in range(2, 50):
        assert c.execute(f"SELECT s FROM t WHERE id = {i}").fetchone() is not None or i > 200
        c.execute(f"UPDATE t SET v = {i}.5 WHERE id = {i}")
        c.execute(f"INSERT INTO t VALUES ({1000 + i}, {i}, 0.5, 'n{i}', '2024-02-0{i % 9 + 1}')")
    # two plans per statement shape: its first text keeps its literals, the second's plan
    # has them lifted and serves every later text of the shape
    assert cache.misses - misses <= 6
    assert c.execute("SELECT v FROM t WHERE id = 7").fetchone() == (7.5,)
    assert c.execute("SELECT d FROM t WHERE id = 1007").fetchone() == (dt.date(2024, 2, 8),)


def test_a_lifted_literal_is_checked_like_a_literal():
    c = _db()
    assert c.execute("SELECT count(*) FROM t WHERE d = '2024-01-05'").fetchone() == (8,)
    with pytest.raises(rustmemodb.DataError) as bad_date:
        c.execute("SELECT count(*) FROM t WHERE d = '2024-13-05'")
    # past bigint a literal is numeric (PostgreSQL's): no row equals it, cached or not
    assert c.execute("SELECT count(*) FROM t WHERE k = 99999999999999999999").fetchone() == \
        (0,)
    c2 = _db()
    c2.database.plan_cache.clear()
    with pytest.raises(rustmemodb.DataError) as bad_date_fresh:
        c2.execute("SELECT count(*) FROM t WHERE d = '2024-13-05'")
    assert bad_date.value.sqlstate == bad_date_fresh.value.sqlstate
    with pytest.raises(errors.Error) as quoted_number:
        c.execute("SELECT count(*) FROM t WHERE k = '5'")
    assert quoted_number.value.sqlstate == "42804"


def test_a_shape_is_lifted_from_its_second_text_on():
    c = _db()
    cache = c.database.plan_cache
    c.execute("SELECT s FROM t WHERE id = 1").fetchall()
    assert cache.by_shape(shape_of("SELECT s FROM t WHERE id = 1")) is None   # kept its literal
    c.execute("SELECT s FROM t WHERE id = 2").fetchall()
    misses = cache.misses
    for i in range(3, 20):
        assert c.execute(f"SELECT s FROM t WHERE id = {i}").fetchall() == \
            _fresh(f"SELECT s FROM t WHERE id = {i}")
    assert cache.misses == misses
    assert c.execute("SELECT s FROM t WHERE id = 1").fetchall() == \
        _fresh("SELECT s FROM t WHERE id = 1")


def test_shapes_distinguish_literal_kinds_and_skip_quoted_text():
    a, b = shape_of("SELECT 1, 1.5, 'x' FROM t1 WHERE c = $1"), shape_of("SELECT 2, 2.5, 'y' FROM t1 WHERE c = $1")
    assert a.key == b.key and a.values() == ("1", "1.5", "'x'")
    assert shape_of("SELECT 1").key != shape_of("SELECT 1.0").key != shape_of("SELECT '1'").key
    s = shape_of("SELECT \"a'b\", E'q', $$x 'y'$$ -- '3'\n, x2 FROM t")
    assert s.literals == ()


@pytest.mark.parametrize("sql", [
    "SELECT a+b*2, 7 FROM t1 WHERE c>12 ORDER BY 1, 2",       # integers only
    "SELECT 1.5, 2, .5, 3e5, 1.e3, 10 FROM t",                # floats among them
    "SELECT x1, t2.y3 FROM t2 WHERE z = 00012",               # digits inside names
    "SELECT a FROM t",                                        # none
    "SELECT 'x', 4 FROM t",                                   # a string: the full scan
])
def test_a_shapes_literals_are_its_numbers_where_they_stand(sql):
    shape = shape_of(sql)
    assert shape.has_literals == bool(shape.literals)
    assert shape.values() == tuple(raw for _, _, raw in shape.literals)
    key = sql
    for start, kind, raw in reversed(shape.literals):
        assert sql[start:start + len(raw)] == raw
        assert kind == ("s" if raw[0] == "'" else "i" if raw.isdigit() else "f")
        key = key[:start] + "\x00" + kind + key[start + len(raw):]
    assert shape.key == key
    # listed lazily or not, the same shape
    assert shape_of(sql) == shape and shape_of(sql).values() == shape.values()


def test_explain_shows_the_literals():
    c = _db()
    c.execute("SELECT id FROM t WHERE k = 3").fetchall()
    plan = "\n".join(r[0] for r in c.execute("EXPLAIN SELECT id FROM t WHERE k = 4").fetchall())
    assert "4" in plan and "$" not in plan


def test_the_cache_evicts_the_least_recently_used():
    from rustmemodb.sql import plan_cache
    c = _db()
    cache = c.database.plan_cache
    old, plan_cache._MAX_ENTRIES = plan_cache._MAX_ENTRIES, 3
    try:
        for col in ("id", "k", "v"):                     # each seen twice: kept
            c.execute(f"SELECT {col} FROM t WHERE id = 1")
            c.execute(f"SELECT {col} FROM t WHERE id = 1")
        c.execute("SELECT id FROM t WHERE id = 1")       # used again: stays
        c.execute("SELECT s FROM t WHERE id = 1")
        c.execute("SELECT s FROM t WHERE id = 1")        # evicts the k query
        assert cache.get("SELECT id FROM t WHERE id = 1") is not None
        assert cache.get("SELECT k FROM t WHERE id = 1") is None
    finally:
        plan_cache._MAX_ENTRIES = old


def test_one_off_plans_are_held_only_among_the_last_few():
    from rustmemodb.sql import plan_cache
    c = _db()
    cache = c.database.plan_cache
    texts = [f"SELECT id, k * 2 AS x{i} FROM t ORDER BY 1 LIMIT 2" for i in range(40)]
    for sql in texts:
        c.execute(sql).fetchall()
    assert len(cache._texts) == 0 and len(cache._once) == plan_cache._ONCE_ENTRIES
    assert cache.get(texts[0]) is None and cache.get(texts[-1]) is not None
    hits = cache.hits
    assert c.execute(texts[-1]).fetchall() == _fresh(texts[-1])    # a second sighting hits
    assert cache.hits == hits + 1 and texts[-1] in cache._texts      # and is kept from now on
    assert c.execute(texts[0]).fetchall() == _fresh(texts[0])      # planned again
    assert cache.hits == hits + 1 and texts[0] in cache._texts       # and kept: seen twice


def test_a_text_seen_again_after_its_plan_left_keeps_its_literals():
    """A file of one-off statements run a second time on the same connection: each text
    repeats (its plan has left ``_once``), not its shape with new literals, so it is
    planned with its literals as constants again (lifting them went through the whole
    parse and the optimizer: the second run took ~12x the first) and kept by text."""
    from rustmemodb.sql import plan_cache
    c = _db()
    cache = c.database.plan_cache
    texts = [f"SELECT id, k * {i} AS x{i} FROM t WHERE k > {i % 5} ORDER BY 1 LIMIT 3"
             for i in range(2 * plan_cache._ONCE_ENTRIES)]     # shapes of their own
    for sql in texts:
        c.execute(sql).fetchall()
    assert cache.get(texts[0]) is None                  # left the few one-off plans
    for sql in texts:
        assert c.execute(sql).fetchall() == _fresh(sql)
        ph = placeholders.normalize(sql)
        assert cache.by_shape(shape_of(ph.sql, ph.names)) is None    # nothing lifted
        assert sql in cache._texts                      # kept from its second sighting
    hits = cache.hits
    for sql in texts:
        c.execute(sql).fetchall()
    assert cache.hits == hits + len(texts)
    # a new text of a shape seen before is still lifted (its plan then serves the shape)
    other = "SELECT id, k * 5 AS x2 FROM t WHERE k > 4 ORDER BY 1 LIMIT 3"
    assert c.execute(other).fetchall() == _fresh(other)
    ph = placeholders.normalize(other)
    assert cache.by_shape(shape_of(ph.sql, ph.names)) is not None


def test_statements_used_in_rotation_stay_cached():
    from rustmemodb.sql import plan_cache
    c = _db()
    cache = c.database.plan_cache
    texts = [f"SELECT id, k AS c{i} FROM t WHERE id = $1"     # no literal: no shape
             for i in range(2 * plan_cache._ONCE_ENTRIES)]
    for _ in range(2):                                  # the second round plans again, once
        for sql in texts:
            c.execute(sql, (5,)).fetchall()
    hits = cache.hits
    for sql in texts:
        assert c.execute(sql, (5,)).fetchall() == [(5, 5)]
    assert cache.hits == hits + len(texts)


def test_literals_of_a_view_or_a_default_are_not_the_statements():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE w (x INTEGER, y INTEGER DEFAULT 7)")
    c.execute("INSERT INTO w VALUES (1, 7), (2, 8), (7, 7)")
    # the view's literal 7 stands at the same offset as the query's literal 7
    c.execute("CREATE VIEW vv AS SELECT x FROM w WHERE y = 7")
    q = "SELECT x FROM vv WHERE x =7"
    assert shape_of(q).literals[0][0] == "SELECT x FROM w WHERE y = 7".index("7")
    assert c.execute(q).fetchall() == [(7,)]
    assert c.execute("SELECT x FROM vv WHERE x =1").fetchall() == [(1,)]
    c.execute("INSERT INTO w (x) VALUES (3)")
    c.execute("INSERT INTO w (x) VALUES (4)")
    assert c.execute("SELECT x, y FROM w WHERE x > 2 ORDER BY x").fetchall() == [(3, 7), (4, 7), (7, 7)]


def test_an_integer_parameter_past_int64_is_22003():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("INSERT INTO p VALUES (?, ?)", (1, 2))          # cached, exact types
    with pytest.raises(rustmemodb.DataError) as exc:
        c.execute("INSERT INTO p VALUES (?, ?)", (2, 2**70))
    assert exc.value.sqlstate == "22003"
    assert c.execute("SELECT count(*) FROM p").fetchone() == (1,)


def test_named_placeholders_are_part_of_the_shape():
    c = _db()
    assert c.execute("SELECT s FROM t WHERE id = :a AND k = 3", {"a": 3}).fetchall() == [("s3'x",)]
    assert c.execute("SELECT s FROM t WHERE id = :b AND k = 4", {"b": 4}).fetchall() == [("s4'x",)]


def test_shape_of_quote_free_texts_as_the_full_scan(monkeypatch):
    """A text with no quote, dollar or comment takes a numbers-only scan: the same
    shape and literals as the full scan, over random texts of SQL-ish atoms."""
    import random

    from rustmemodb.sql import literals

    atoms = ["SELECT", " ", "a1", "x.y", "1", "1.5", ".5", "1e10", "2E-3", "12.", "$1", "t2",
             "_9", "(", ")", ",", "=", "-", "/", "3.4.5", "e5", "1x", "x1.2", "\n", "é",
             "9" * 20, ".", "a.1", "1.a", "$", "'", '"', "--c\n", "/*c*/", "E'x'"]
    rng = random.Random(14)
    texts = ["".join(rng.choice(atoms) for _ in range(rng.randrange(1, 12)))
             for _ in range(20000)]
    fast = [literals.shape_of(t) for t in texts]
    monkeypatch.setattr(literals, "_plain", lambda sql: False)   # always the full scan
    assert [literals.shape_of(t) for t in texts] == fast


def test_create_function_shadowing_a_builtin_plans_again():
    """A plan that called a built-in is stale once CREATE FUNCTION gives that name a SQL
    function (which the binder inlines instead); DROP FUNCTION makes it stale again."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE f (a INTEGER, x FLOAT)")
    c.execute("INSERT INTO f VALUES (1, -1.5)")
    sql = "SELECT abs(x) FROM f WHERE a = 1"
    assert c.execute(sql).fetchall() == [(1.5,)]
    assert c.execute(sql).fetchall() == [(1.5,)]       # cached by text
    c.execute("CREATE FUNCTION abs(v float) RETURNS float LANGUAGE sql RETURN v + 100")
    assert c.execute(sql).fetchall() == [(98.5,)]
    c.execute("DROP FUNCTION abs")
    assert c.execute(sql).fetchall() == [(1.5,)]


def test_a_short_plain_shape_is_the_long_scan():
    """A short text without quotes gets its shape in one substitution; a long one is
    scanned literal by literal: the same key and literals."""
    from rustmemodb.sql import literals
    sql = "SELECT a + 1.5, b * 2 FROM t WHERE c > 1e3 AND d = 7 ORDER BY 1"
    s = shape_of(sql)
    assert s.key == \
        "SELECT a + \x00f, b * \x00i FROM t WHERE c > \x00f AND d = \x00i ORDER BY \x00i"
    assert s.literals == ((sql.index("1.5"), "f", "1.5"), (sql.index("2"), "i", "2"),
                          (sql.index("1e3"), "f", "1e3"), (sql.index("7"), "i", "7"),
                          (len(sql) - 1, "i", "1"))
    pad = " " * literals._SHORT_TEXT
    long = shape_of(sql + pad)
    assert long.key == s.key + pad and long.literals == s.literals
    assert long.values() == s.values() == ("1.5", "2", "1e3", "7", "1")
    none = shape_of("SELECT a FROM t1")
    assert none.literals == () and none.key == "SELECT a FROM t1"
