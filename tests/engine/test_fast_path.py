"""Point statements run on the row fast path: no re-plan, no Arrow operator, same results."""
import pytest

import rustmemodb
from rustmemodb.exec import run as run_module


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, k INTEGER, v FLOAT, s TEXT NOT NULL)")
    c.executemany("INSERT INTO kv VALUES (?, ?, ?, ?)", [(i, i % 10, i / 2, f"r{i}")
                                                        for i in range(300)])
    c.execute("CREATE INDEX kv_k ON kv (k)")
    return c


@pytest.fixture
def no_vector_path(monkeypatch):
    def refuse(node, ctx):
        raise AssertionError(f"generic executor used for {type(node).__name__}")
    monkeypatch.setattr(run_module, "run_plan", refuse)


def test_point_statements_stay_on_the_fast_path(conn, no_vector_path):
    assert conn.execute("SELECT * FROM kv WHERE id = ?", (5,)).fetchall() == [(5, 5, 2.5, "r5")]
    assert conn.execute("SELECT s FROM kv WHERE id = ?", (999,)).fetchall() == []
    conn.execute("UPDATE kv SET v = v + 1, s = 'x' WHERE id = ?", (5,))
    assert conn.execute("SELECT v, s FROM kv WHERE id = $1", (5,)).fetchone() == (3.5, "x")
    cur = conn.execute("DELETE FROM kv WHERE id = ? RETURNING id, s", (5,))
    assert cur.fetchall() == [(5, "x")] and cur.rowcount == 1
    conn.execute("INSERT INTO kv VALUES (?, ?, ?, ?)", (5, 1, 0.0, "back"))
    got = conn.execute("SELECT id FROM kv WHERE k BETWEEN ? AND ? ORDER BY id LIMIT 3",
                       (2, 3)).fetchall()
    assert got == [(2,), (3,), (12,)]


def test_fast_path_errors_are_atomic(conn, no_vector_path):
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("UPDATE kv SET s = NULL WHERE id = ?", (1,))
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("UPDATE kv SET id = 2 WHERE id = ?", (1,))
    assert conn.execute("SELECT * FROM kv WHERE id = ?", (1,)).fetchall() == [(1, 1, 0.5, "r1")]


def test_no_replan_on_repeat(conn):
    cache = conn.database.plan_cache
    conn.execute("SELECT * FROM kv WHERE id = ?", (1,))
    misses = cache.misses
    for i in range(50):
        conn.execute("SELECT * FROM kv WHERE id = ?", (i,))
        conn.execute("UPDATE kv SET v = 1 WHERE id = ?", (i,))
    assert cache.misses - misses <= 1      # the UPDATE's first execution only


def test_fast_path_sees_its_transaction(conn):
    other = conn.database.connect()
    conn.execute("BEGIN")
    conn.execute("UPDATE kv SET s = 'mine' WHERE id = ?", (3,))
    assert conn.execute("SELECT s FROM kv WHERE id = ?", (3,)).fetchone() == ("mine",)
    assert other.execute("SELECT s FROM kv WHERE id = ?", (3,)).fetchone() == ("r3",)
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT s FROM kv WHERE id = ?", (3,)).fetchone() == ("r3",)


def test_big_lookup_falls_back_to_the_vector_path(conn):
    conn.executemany("INSERT INTO kv VALUES (?, 7, 0, 'b')", [(1000 + i,) for i in range(3000)])
    assert conn.execute("SELECT count(*) FROM kv WHERE k = ?", (7,)).fetchone() == (3030,)
    assert len(conn.execute("SELECT id FROM kv WHERE k = ?", (7,)).fetchall()) == 3030


def test_sorting_output_columns_with_nulls_is_the_stable_sort_per_key():
    """ORDER BY output positions over plain values with NULLs among them (sorted per key
    by the columns' item getters: exec/fast_select.py ``sorter``) gives the order of
    stable sorts per key from the last (``_sorted_by``), NULLs placed as each key says,
    in both directions, with ties, NaN and booleans."""
    import random
    from rustmemodb.exec import fast_select
    from rustmemodb.exec.expr.row import compile_row
    from rustmemodb.plan.expr import ColRef

    rng = random.Random(3)
    values = {"int": [0, 1, 2, 3], "text": ["a", "b", "c"], "bool": [False, True],
              "float": [0.5, 1.0, -2.0, float("nan")]}
    for _ in range(3000):
        width = rng.randint(1, 4)
        pool = values[rng.choice(list(values))]
        rows = [tuple(None if rng.random() < 0.2 else rng.choice(pool) for _ in range(width))
                for _ in range(rng.randint(0, 12))]
        desc = rng.random() < 0.5
        keys = [(ColRef(i, "INTEGER", f"c{i}"), desc, rng.random() < 0.5)
                for i in rng.sample(range(width), rng.randint(1, width))]
        expected = list(rows)
        for e, d, nulls_first in reversed(keys):
            expected = fast_select._sorted_by(expected, compile_row(e), [], d, nulls_first)
        got = fast_select.sorter(keys, compile_row)(list(rows), [])
        assert repr(got) == repr(expected), (rows, keys)
