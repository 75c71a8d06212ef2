"""Functions and aggregates: NULL/empty corner cases, vectorised vs row paths, UDFs, PREPARE."""
import datetime as dt

import pyarrow as pa
from decimal import Decimal

import pytest

import rustmemodb


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (g INTEGER, x INTEGER, f FLOAT, s TEXT, d DATE, ts TIMESTAMP)")
    c.execute("INSERT INTO t VALUES (1, 1, 0.5, 'ab', '2024-01-31', '2024-01-31 10:00:00'), "
              "(1, NULL, 2.5, NULL, NULL, NULL), (2, -3, -1.5, 'xyz', '2023-12-01', "
              "'2023-12-01 00:00:01')")
    return c


def one(conn, sql):
    return conn.execute(sql).fetchall()


def test_round_modes(conn):
    assert one(conn, "SELECT round(f) FROM t ORDER BY g, x") == [(0.0,), (2.0,), (-2.0,)]
    # numeric literals round as numeric (half away from zero), exactly
    assert one(conn, "SELECT round(2.345, 2), round(-2.5, 0), round(15, -1)") == \
        [(Decimal("2.35"), Decimal("-3"), 20)]


def test_domain_errors(conn):
    for sql, state in (("SELECT ln(0)", "2201E"), ("SELECT sqrt(-4.0)", "2201F"),
                       ("SELECT power(0, -1)", "2201F"), ("SELECT substring('a', 1, -1)", "22011")):
        with pytest.raises(rustmemodb.Error) as info:
            conn.execute(sql)
        assert info.value.sqlstate == state, sql


def test_string_functions_vector_path(conn):
    got = one(conn, "SELECT substring(s, 2), left(s, -1), right(s, 1), lpad(s, 4, '*'), "
                    "replace(s, 'b', 'B'), strpos(s, 'y'), upper(trim(BOTH 'x' FROM s)) "
                    "FROM t ORDER BY g, x")
    assert got == [("b", "a", "b", "**ab", "aB", 0, "AB"),
                   (None, None, None, None, None, None, None),
                   ("yz", "xy", "z", "*xyz", "xyz", 2, "YZ")]


def test_dates_vectorised(conn):
    got = one(conn, "SELECT d + 1, d - DATE '2024-01-01', ts + INTERVAL '1 day', "
                    "ts - INTERVAL '1 month', EXTRACT(DOW FROM d), date_trunc('week', ts) "
                    "FROM t WHERE g = 1 AND x = 1")
    assert got == [(dt.date(2024, 2, 1), 30, dt.datetime(2024, 2, 1, 10),
                    dt.datetime(2023, 12, 31, 10), 3, dt.datetime(2024, 1, 29))]
    assert one(conn, "SELECT age(TIMESTAMP '2024-03-15', TIMESTAMP '2023-01-10')")[0][0] \
        is not None


def test_json(conn):
    got = one(conn, """SELECT '{"a": [1, {"b": null}]}'::JSON -> 'a' -> 1 ->> 'b',
                              '{"a": [1, 2]}'::JSON #> '{a,1}', jsonb_typeof('[1]'::JSON),
                              json_build_object('k', 1, 'v', 'x')""")
    assert got == [(None, 2, "array", {"k": 1, "v": "x"})]


def test_aggregates_empty_and_null(conn):
    assert one(conn, "SELECT string_agg(s, ','), bool_and(x > 0), sum(x), count(x), "
                     "avg(f), stddev(f) FROM t WHERE g > 5") == [(None, None, None, 0, None, None)]
    assert one(conn, "SELECT g, string_agg(s, '|' ORDER BY x DESC NULLS FIRST) FROM t "
                     "GROUP BY g ORDER BY g") == [(1, "ab"), (2, "xyz")]
    assert one(conn, "SELECT count(*) FILTER (WHERE x IS NULL), sum(x) FILTER (WHERE g = 2) "
                     "FROM t") == [(1, -3)]
    # array_agg keeps NULL inputs; dates survive its ORDER BY packing
    assert one(conn, "SELECT g, array_agg(x ORDER BY f DESC) FROM t GROUP BY g ORDER BY g") == \
        [(1, [None, 1]), (2, [-3])]
    import datetime
    assert one(conn, "SELECT array_agg(d ORDER BY x NULLS FIRST) FROM t") == \
        [([None, datetime.date(2023, 12, 1), datetime.date(2024, 1, 31)],)]


def test_udfs_row_vector_and_aggregate(conn):
    conn.register_function("twice", lambda v: v * 2, ["INTEGER"], "INTEGER")
    conn.register_function("vplus", lambda a: pa.compute.add(a, 1), ["INTEGER"], "INTEGER",
                           vectorized=True)
    conn.register_aggregate("prod", lambda vals: __import__("math").prod(
        v for v in vals if v is not None), ["INTEGER"], "INTEGER")
    assert one(conn, "SELECT twice(x), vplus(x) FROM t ORDER BY g, x") == \
        [(2, 2), (None, None), (-6, -2)]
    assert one(conn, "SELECT g, prod(x) FROM t GROUP BY g ORDER BY g") == [(1, 1), (2, -3)]


def test_prepare_execute_deallocate(conn):
    conn.execute("PREPARE q AS SELECT count(*) FROM t WHERE g = $1")
    assert one(conn, "EXECUTE q(1)") == [(2,)]
    assert one(conn, "EXECUTE q(2)") == [(1,)]
    conn.execute("DEALLOCATE q")
    with pytest.raises(rustmemodb.Error):
        conn.execute("EXECUTE q(1)")


def test_count_distinct_by_codes_matches_definition():
    import random
    rnd = random.Random(5)
    c = rustmemodb.connect()
    c.execute("CREATE TABLE cd (g TEXT, h INTEGER, x INTEGER, s TEXT, d DATE)")
    rows = [(rnd.choice(["a", "b", None]), rnd.choice([1, 2, None]), rnd.choice([1, 2, 3, None]),
             rnd.choice(["p", "q", None]), rnd.choice([dt.date(2024, 1, 1), None]))
            for _ in range(300)]
    c.executemany("INSERT INTO cd VALUES (?, ?, ?, ?, ?)", rows)
    got = c.execute("SELECT g, h, count(DISTINCT x), count(DISTINCT s), count(DISTINCT d), "
                    "count(*) FROM cd GROUP BY g, h").fetchall()
    want = {}
    for g, h, x, s, d in rows:
        e = want.setdefault((g, h), [set(), set(), set(), 0])
        for i, v in enumerate((x, s, d)):
            if v is not None:
                e[i].add(v)
        e[3] += 1
    assert sorted(got, key=repr) == sorted(
        [(g, h, len(a), len(b), len(c_), n) for (g, h), (a, b, c_, n) in want.items()], key=repr)


def test_int_key_bincount_grouping_matches_definition():
    import random
    rnd = random.Random(9)
    c = rustmemodb.connect()
    c.execute("CREATE TABLE gb (k INTEGER, x INTEGER, f FLOAT)")
    rows = [(rnd.randint(-5, 40), rnd.choice([None, rnd.randint(-9, 9)]),
             rnd.choice([None, rnd.random()])) for _ in range(500)]
    c.executemany("INSERT INTO gb VALUES (?, ?, ?)", rows)
    got = c.execute("SELECT k, count(*), count(x), sum(x), avg(x), sum(f) FROM gb GROUP BY k "
                    "ORDER BY k").fetchall()
    want = {}
    for k, x, f in rows:
        e = want.setdefault(k, [0, [], []])
        e[0] += 1
        if x is not None:
            e[1].append(x)
        if f is not None:
            e[2].append(f)
    expect = [(k, n, len(xs), sum(xs) if xs else None, sum(xs) / len(xs) if xs else None,
               sum(fs) if fs else None) for k, (n, xs, fs) in sorted(want.items())]
    for g, w in zip(got, expect):
        assert g[:4] == w[:4]
        assert (g[4] is None and w[4] is None) or abs(float(g[4]) - w[4]) < 1e-9
        assert (g[5] is None and w[5] is None) or abs(g[5] - w[5]) < 1e-9
    assert len(got) == len(expect)
    c.execute("INSERT INTO gb VALUES (NULL, 1, 1.0)")
    assert c.execute("SELECT count(*) FROM gb WHERE k IS NULL GROUP BY k").fetchall() == [(1,)]
    with pytest.raises(rustmemodb.Error) as info:   # overflow still detected (Arrow path)
        c.execute("INSERT INTO gb VALUES (1, 9223372036854775807, 0), (1, 9223372036854775807, 0)")
        c.execute("SELECT k, sum(x) FROM gb GROUP BY k").fetchall()
    assert info.value.sqlstate == "22003"


def test_random_is_per_row_and_in_range():
    """random() (sqlglot 30 reads it as Rand; it was 42883): one value per row, in [0, 1)."""
    import rustmemodb
    c = rustmemodb.connect()
    c.execute("CREATE TABLE r (x INTEGER)")
    c.execute("INSERT INTO r SELECT g FROM generate_series(1, 500) g")
    assert c.execute("SELECT count(DISTINCT random()) FROM r").fetchone() == (500,)
    lo, hi = c.execute("SELECT min(v), max(v) FROM (SELECT random() AS v FROM r) s").fetchone()
    assert 0.0 <= lo < hi < 1.0
    assert c.execute("SELECT random() BETWEEN 0 AND 1").fetchone() == (True,)


def test_setseed_replays_this_sessions_random_only():
    """setseed(x) seeds the session's own random(): the same seed replays the same values
    (a seeded sample in a notebook), another session's random() is not touched, and x
    outside [-1, 1] is PostgreSQL's 22023."""
    import rustmemodb
    db = rustmemodb.Database()
    a, b = rustmemodb.connect(db), rustmemodb.connect(db)
    a.execute("CREATE TABLE s AS SELECT g FROM generate_series(1, 50) g")

    def sample():
        a.execute("SELECT setseed(0.25)")
        return a.execute("SELECT g FROM s ORDER BY random() LIMIT 5").fetchall()
    first = sample()
    b.execute("SELECT random()")                  # the other session draws meanwhile
    assert sample() == first
    a.execute("SELECT setseed(-0.5)")
    assert a.execute("SELECT g FROM s ORDER BY random() LIMIT 5").fetchall() != first
    with pytest.raises(rustmemodb.DataError) as info:
        a.execute("SELECT setseed(2)")
    assert info.value.sqlstate == "22023"
