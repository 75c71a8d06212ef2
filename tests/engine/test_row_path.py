"""The row path for small inputs (exec/row_ops.py): filter, GROUP BY, join, DISTINCT
and sort over Python tuples when the tables are small. Each query's answer is
compared with the vectorised path's (the same statement once the tables have grown
past SMALL_ROWS rows of which the extra ones are filtered out), and the row path is
checked to be the one that ran."""
import math

import pytest

import rustmemodb
from rustmemodb.exec.expr import row
from rustmemodb.exec.functions.registry import ScalarFunction
from rustmemodb.exec.row_ops import SMALL_ROWS
from rustmemodb.plan.expr import Call, ColRef, Const, Param

QUERIES = [
    "SELECT id, v FROM a WHERE v > 1.5 AND g <> 1 AND id < 1000 ORDER BY id",
    "SELECT g, count(*), count(v), sum(v), avg(v), min(s), max(s) FROM a WHERE id < 1000 "
    "GROUP BY g ORDER BY g NULLS FIRST",
    "SELECT count(*), sum(id), min(v), max(v) FROM a WHERE id < 1000",
    "SELECT count(*), sum(id) FROM a WHERE id < 0",
    "SELECT a.id, b.name FROM a JOIN b ON a.g = b.id WHERE a.id < 1000 ORDER BY 1, 2",
    "SELECT a.id, b.name FROM a LEFT JOIN b ON a.g = b.id AND b.name <> 'n2' "
    "WHERE a.id < 1000 ORDER BY 1, 2",
    "SELECT b.id, a.id FROM a RIGHT JOIN b ON a.g = b.id AND a.id < 1000 ORDER BY 1, 2 NULLS FIRST",
    "SELECT DISTINCT g FROM a WHERE id < 1000 ORDER BY 1 NULLS FIRST",
    "SELECT f, count(*) FROM a WHERE id < 1000 GROUP BY f ORDER BY f",
    "SELECT a.id, b.id FROM a, b WHERE a.id < b.id AND a.id < 3 ORDER BY 1, 2",
    "SELECT 1 + 2, 'x' || 'y'",
    # subqueries the optimizer leaves in place run per outer row on the row path
    "SELECT id, (SELECT count(*) FROM a AS x WHERE x.v < a.v AND x.id < 1000) FROM a "
    "WHERE id < 1000 ORDER BY 1",
    "SELECT id FROM a WHERE EXISTS (SELECT 1 FROM a AS x WHERE x.v > a.v + 3 AND x.id < 1000) "
    "AND id < 1000 ORDER BY 1",
    "SELECT id, CASE WHEN v > (SELECT avg(v) FROM a WHERE id < 1000) THEN 1 ELSE 0 END FROM a "
    "WHERE id < 1000 ORDER BY 1",
    "SELECT id FROM a WHERE g IN (SELECT id FROM b WHERE name <> 'n1') AND id < 1000 ORDER BY 1",
    "SELECT id FROM a WHERE g NOT IN (SELECT g FROM a AS x WHERE x.id > a.id AND x.id < 1000) "
    "AND id < 1000 ORDER BY 1",
]


def _db(extra: int = 0):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, s TEXT, f FLOAT)")
    c.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, name TEXT)")
    floats = [0.0, -0.0, float("nan"), float("nan"), 1.0, None, 2.5, -0.0, 1.0, float("inf")]
    c.executemany("INSERT INTO a VALUES (?, ?, ?, ?, ?)",
                  [(i, None if i == 4 else i % 3, i * 0.75, f"s{9 - i}", floats[i]) for i in range(10)])
    c.executemany("INSERT INTO b VALUES (?, ?)", [(i, f"n{i}") for i in range(4)])
    if extra:
        c.executemany("INSERT INTO a VALUES (?, ?, ?, ?, ?)",
                      [(1000 + i, 1, 1.0, "z", 1.0) for i in range(extra)])
    return c


def _same(x, y):
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1, x) == math.copysign(1, y)) \
            or abs(x - y) < 1e-9
    return x == y


@pytest.mark.parametrize("sql", QUERIES)
def test_small_tables_answer_like_the_vectorised_path(sql):
    small, big = _db(), _db(extra=SMALL_ROWS + 10)
    got = small.execute(sql).fetchall()
    assert small.database.plan_cache.get(sql).fast is not None
    want = big.execute(sql).fetchall()
    assert len(got) == len(want)
    for r, w in zip(got, want):
        assert all(_same(x, y) for x, y in zip(r, w)), (r, w)


def test_a_scalar_subquery_of_several_rows_is_still_21000():
    c = _db()
    with pytest.raises(rustmemodb.Error) as exc:
        c.execute("SELECT id, (SELECT x.id FROM a AS x WHERE x.g = a.g) FROM a").fetchall()
    assert exc.value.sqlstate == "21000"


def test_an_int64_overflow_is_still_an_error():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE o (x BIGINT)")
    c.executemany("INSERT INTO o VALUES (?)", [(2**62,), (2**62,)])
    with pytest.raises(rustmemodb.Error) as exc:
        c.execute("SELECT sum(x) FROM o").fetchall()
    assert exc.value.sqlstate == "22003"


def test_a_growing_table_leaves_the_row_path():
    c = _db()
    sql = "SELECT g, count(*) FROM a GROUP BY g ORDER BY g NULLS FIRST"
    assert c.execute(sql).fetchall() == [(None, 1), (0, 4), (1, 2), (2, 3)]
    c.executemany("INSERT INTO a VALUES (?, 1, 1.0, 'z', 1.0)", [(100 + i,) for i in range(SMALL_ROWS)])
    assert c.execute(sql).fetchall() == [(None, 1), (0, 4), (1, 2 + SMALL_ROWS), (2, 3)]


def test_two_argument_leaf_calls_answer_as_the_general_closures():
    """A strict call over a column and a column, constant or parameter is compiled to one
    closure (exec/expr/row._leaf_call2); it answers as nested closures do, NULLs
    included, whichever side they are on."""
    calls = []

    def body(x, y):
        calls.append((x, y))
        return (x, y)

    fn = ScalarFunction("f", None, None, body)
    a, b = ColRef(0, "INTEGER"), ColRef(1, "INTEGER")
    shapes = [(a, b), (b, a), (a, Const(7, "INTEGER")), (a, Const(None, "INTEGER")),
              (a, Param(0, "INTEGER")), (Const(7, "INTEGER"), b), (Const(None, "INTEGER"), b),
              (a, a)]
    for left, right in shapes:
        call = Call("f", (left, right), "INTEGER", fn)
        leaf = row._leaf_call2(body, left, right)
        assert leaf is not None
        l_fn, r_fn = row.compile_row(left), row.compile_row(right)

        def nested(r, p):
            x = l_fn(r, p)
            if x is None:
                return None
            y = r_fn(r, p)
            return None if y is None else body(x, y)
        for values in [(1, 2), (None, 2), (1, None), (None, None)]:
            for params in ([5], [None]):
                calls.clear()
                want = nested(values, params)
                want_calls = list(calls)
                calls.clear()
                assert leaf(values, params) == want
                assert calls == want_calls
                assert row.compile_row(call)(values, params) == want
    # anything else takes the general way
    assert row._leaf_call2(body, Call("f", (a, b), "INTEGER", fn), a) is None
    assert row._leaf_call2(body, Param(0, "INTEGER"), a) is None
