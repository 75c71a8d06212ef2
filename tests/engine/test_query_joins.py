"""Joins: hash, dense-key, residual conditions on outer joins, cross, semi/anti, NULL keys."""
import pytest

import rustmemodb


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE l (id INTEGER, k INTEGER, s TEXT)")
    c.execute("CREATE TABLE r (k INTEGER, v TEXT)")
    c.execute("INSERT INTO l VALUES (1, 1, 'a'), (2, 2, 'b'), (3, NULL, 'c'), (4, 9, 'd')")
    c.execute("INSERT INTO r VALUES (1, 'x'), (1, 'y'), (2, 'z'), (NULL, 'n'), (7, 'w')")
    return c


def rows(conn, sql):
    return sorted(conn.execute(sql).fetchall(), key=repr)


def test_inner_hash_join_with_duplicates(conn):
    assert rows(conn, "SELECT l.id, r.v FROM l JOIN r ON l.k = r.k") == \
        [(1, "x"), (1, "y"), (2, "z")]


def test_left_join_residual_keeps_preserved_rows(conn):
    got = rows(conn, "SELECT l.id, r.v FROM l LEFT JOIN r ON l.k = r.k AND r.v <> 'x'")
    assert got == sorted([(1, "y"), (2, "z"), (3, None), (4, None)], key=repr)


def test_full_join_null_keys_never_match(conn):
    got = rows(conn, "SELECT l.id, r.v FROM l FULL JOIN r ON l.k = r.k")
    assert (3, None) in got and (None, "n") in got and (None, "w") in got
    assert len(got) == 7


def test_right_join(conn):
    got = rows(conn, "SELECT l.id, r.v FROM l RIGHT JOIN r ON l.k = r.k")
    assert len(got) == 5 and (None, "w") in got


def test_cross_and_comma_join(conn):
    assert conn.execute("SELECT count(*) FROM l CROSS JOIN r").fetchall() == [(20,)]
    assert rows(conn, "SELECT l.id FROM l, r WHERE l.k = r.k AND r.v = 'z'") == [(2,)]


def test_theta_join(conn):
    got = rows(conn, "SELECT l.id, r.k FROM l JOIN r ON l.k > r.k")
    assert got == sorted([(2, 1), (2, 1), (4, 1), (4, 1), (4, 2), (4, 7)], key=repr)


def test_join_empty_side(conn):
    conn.execute("CREATE TABLE e (k INTEGER)")
    assert rows(conn, "SELECT l.id FROM l JOIN e ON l.k = e.k") == []
    assert len(rows(conn, "SELECT l.id, e.k FROM l LEFT JOIN e ON l.k = e.k")) == 4


def test_int_float_keys(conn):
    conn.execute("CREATE TABLE f (x FLOAT)")
    conn.execute("INSERT INTO f VALUES (1.0), (2.5)")
    assert rows(conn, "SELECT l.id FROM l JOIN f ON l.k = f.x") == [(1,)]


def test_dense_key_join_matches_hash_join():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, name TEXT)")
    c.execute("CREATE TABLE f (did INTEGER)")
    c.execute("INSERT INTO d SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(a, b)")
    c.execute("INSERT INTO f VALUES (1), (1), (3), (NULL), (5), (-1)")
    got = sorted(c.execute("SELECT f.did, d.name FROM f JOIN d ON f.did = d.id").fetchall())
    assert got == [(1, "a"), (1, "a"), (3, "c")]


def test_pruned_columns_give_same_answers():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE w (a INTEGER, b TEXT, c FLOAT, d INTEGER)")
    c.execute("INSERT INTO w VALUES (1, 'x', 1.5, 10), (2, 'y', 2.5, 20), (3, NULL, NULL, 30)")
    plan = "\n".join(r[0] for r in c.execute("EXPLAIN SELECT sum(c) FROM w WHERE d > 5").fetchall())
    assert "Seq Scan" in plan
    assert c.execute("SELECT sum(c) FROM w WHERE d > 5").fetchall() == [(4.0,)]
    got = c.execute("SELECT x.b, y.d FROM w x JOIN w y ON x.a = y.a - 1 ORDER BY 1").fetchall()
    assert got == [("x", 20), ("y", 30)]
    got = c.execute("SELECT b, rank() OVER (ORDER BY c DESC) FROM w ORDER BY a").fetchall()
    assert got == [("x", 3), ("y", 2), (None, 1)]


def test_top_k_with_and_without_nulls():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE k (v INTEGER, i INTEGER)")
    c.executemany("INSERT INTO k VALUES (?, ?)", [(i % 50, i) for i in range(400)])
    got = c.execute("SELECT v, i FROM k ORDER BY v DESC, i LIMIT 3").fetchall()
    assert got == [(49, 49), (49, 99), (49, 149)]
    c.execute("INSERT INTO k VALUES (NULL, 1000)")
    assert c.execute("SELECT v FROM k ORDER BY v DESC LIMIT 1").fetchall() == [(None,)]


def test_natural_join_uses_common_columns(conn):
    conn.execute("CREATE TABLE r2 (k INTEGER, w TEXT)")
    conn.execute("INSERT INTO r2 VALUES (1, 'q'), (5, 'z')")
    assert rows(conn, "SELECT * FROM r NATURAL JOIN r2") == [(1, "x", "q"), (1, "y", "q")]
    assert len(rows(conn, "SELECT * FROM r NATURAL FULL JOIN r2")) == 6


def test_generate_series_in_from(conn):
    got = rows(conn, "SELECT l.id, g FROM l JOIN generate_series(1, 3) g ON g = l.id")
    assert got == [(1, 1), (2, 2), (3, 3)]
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT * FROM generate_series(1, 5, 0)")
    assert info.value.sqlstate == "22023"


@pytest.mark.parametrize("order", ["v DESC, i", "v, i DESC", "f DESC, i", "f, i"])
def test_top_k_matches_full_sort(order):
    import random
    rnd = random.Random(3)
    c = rustmemodb.connect()
    c.execute("CREATE TABLE big (v INTEGER, f FLOAT, i INTEGER)")
    c.executemany("INSERT INTO big VALUES (?, ?, ?)",
                  [(rnd.randint(0, 30), rnd.choice([0.5, 1.5, 2.5, rnd.random()]), i)
                   for i in range(2000)])
    full = c.execute(f"SELECT v, f, i FROM big ORDER BY {order}").fetchall()
    assert c.execute(f"SELECT v, f, i FROM big ORDER BY {order} LIMIT 7").fetchall() == full[:7]
