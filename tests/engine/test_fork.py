"""fork(): O(1) copies of the whole database, independent afterwards."""
import tracemalloc

import pyarrow as pa
import pytest

import rustmemodb


def big_conn(rows: int):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT, s TEXT)")
    c.register("src", pa.table({"id": pa.array(range(rows), pa.int64()),
                                "v": pa.array([i * 0.5 for i in range(rows)]),
                                "s": pa.array([f"s{i % 100}" for i in range(rows)])}))
    c.execute("INSERT INTO t SELECT * FROM src")
    return c


def test_fork_isolation_both_directions():
    c = big_conn(1000)
    f = c.fork()
    f.execute("DELETE FROM t WHERE id < 10")
    c.execute("UPDATE t SET s = 'main' WHERE id = 500")
    assert c.execute("SELECT count(*) FROM t").fetchone() == (1000,)
    assert f.execute("SELECT count(*) FROM t").fetchone() == (990,)
    assert f.execute("SELECT s FROM t WHERE id = 500").fetchone() == ("s0",)
    f.execute("CREATE TABLE only_in_fork (x INTEGER)")
    with pytest.raises(rustmemodb.Error):
        c.execute("SELECT * FROM only_in_fork")


def test_fork_of_fork_and_tail_sharing():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (x INTEGER)")
    for i in range(5):
        c.execute("INSERT INTO t VALUES (?)", [i])
    f1 = c.fork()
    f2 = c.fork()
    f1.execute("INSERT INTO t VALUES (100)")
    f2.execute("INSERT INTO t VALUES (200)")   # both append to the shared row tail
    c.execute("INSERT INTO t VALUES (300)")
    assert sorted(r[0] for r in f1.execute("SELECT x FROM t")) == [0, 1, 2, 3, 4, 100]
    assert sorted(r[0] for r in f2.execute("SELECT x FROM t")) == [0, 1, 2, 3, 4, 200]
    assert sorted(r[0] for r in c.execute("SELECT x FROM t")) == [0, 1, 2, 3, 4, 300]
    g = f1.fork()
    g.execute("DELETE FROM t")
    assert f1.execute("SELECT count(*) FROM t").fetchone() == (6,)


def test_fork_cost_does_not_grow_with_data():
    """O(1): the new memory a fork takes is tiny and the same at 1k and 200k rows."""
    sizes = {}
    for rows in (1_000, 200_000):
        c = big_conn(rows)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        arrow_before = pa.total_allocated_bytes()
        forks = [c.fork() for _ in range(10)]
        sizes[rows] = (tracemalloc.get_traced_memory()[0] - before) / 10
        tracemalloc.stop()
        assert pa.total_allocated_bytes() <= arrow_before   # no Arrow data copied
        assert len(forks) == 10
    assert sizes[200_000] < 64 * 1024          # well under the 1 MB target
    assert sizes[200_000] < sizes[1_000] * 3 + 4096


def test_fork_sees_only_committed_state():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (x INTEGER)")
    c.execute("BEGIN")
    c.execute("INSERT INTO t VALUES (1)")
    f = c.fork()
    c.execute("COMMIT")
    assert f.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_functions_registered_on_a_fork_stay_there():
    c = rustmemodb.connect()
    f = c.fork()
    f.register_function("twice", lambda x: 2 * x, ["INTEGER"], "INTEGER")
    assert f.execute("SELECT twice(21)").fetchone() == (42,)
    with pytest.raises(rustmemodb.Error):
        c.execute("SELECT twice(21)")
    c.register_function("twice", lambda x: 3 * x, ["INTEGER"], "INTEGER")
    assert c.execute("SELECT twice(21)").fetchone() == (63,)
    assert f.execute("SELECT twice(21)").fetchone() == (42,)
