"""Kernels chosen by size (exec/operators/aggregate.py): GROUP BY one float key through
dictionary codes from FLOAT_KEY_CODES rows on. Results must equal the plain hash path's,
with PostgreSQL's float grouping (one NaN group, -0 = 0, one NULL group)."""
import numpy as np
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.exec.operators import aggregate

QUERIES = [
    "SELECT x, count(*), count(v), sum(v), avg(v), min(v), max(v) FROM t GROUP BY x ORDER BY x",
    "SELECT floor(v / 20) AS b, count(*) FROM t GROUP BY floor(v / 20) ORDER BY b",
    "SELECT x, count(DISTINCT i), sum(i) FROM t GROUP BY x ORDER BY x",
    "SELECT x, string_agg(DISTINCT s, ',' ORDER BY s) FROM t WHERE i < 50 GROUP BY x ORDER BY x",
    "SELECT x FROM t GROUP BY x HAVING count(*) > 10 ORDER BY x NULLS FIRST",
]


@pytest.fixture(scope="module")
def conn():
    n = 70_000
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, n).astype(float)
    x[::97] = np.nan
    x[1::89] = -0.0
    xs = [None if i % 101 == 0 else float(v) for i, v in enumerate(x)]
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (x FLOAT, v FLOAT, i INTEGER, s TEXT)")
    c.register("src", pa.table({
        "x": pa.array(xs, pa.float64()),
        "v": pa.array([None if i % 13 == 0 else float(i % 1000) for i in range(n)]),
        "i": pa.array(rng.integers(0, 500, n)),
        "s": [f"s{i % 7}" for i in range(n)]}))
    c.execute("INSERT INTO t SELECT * FROM src")
    return c


def _rows(c, q):
    out = []
    for r in c.execute(q).fetchall():
        out.append(tuple("NaN" if isinstance(v, float) and v != v else v for v in r))
    return out


@pytest.mark.parametrize("query", QUERIES)
def test_float_key_codes_match_the_hash_path(conn, query, monkeypatch):
    coded = _rows(conn, query)
    monkeypatch.setattr(aggregate, "FLOAT_KEY_CODES", 1 << 62)
    assert coded == _rows(conn, query)
    assert coded


def test_float_groups_follow_postgresql(conn):
    keys = [r[0] for r in _rows(conn, "SELECT x FROM t GROUP BY x ORDER BY x")]
    assert keys == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, "NaN", None]


@pytest.mark.parametrize("order", [
    "v DESC, i", "v, i DESC", "i DESC, v", "x DESC, i, v", "i, x NULLS FIRST, v",
])
def test_top_k_over_many_chunks_equals_a_full_sort(conn, order):
    """ORDER BY ... LIMIT takes the top-k path (select_k on the first key, ties kept,
    rows sliced out of their chunks); its rows must be the full sort's first ones."""
    # many ties on every key; x has NULL and NaN (the top-k path steps aside for them)
    full = _rows(conn, f"SELECT i, v, x, s FROM t ORDER BY {order}, s")[:25]
    assert _rows(conn, f"SELECT i, v, x, s FROM t ORDER BY {order}, s LIMIT 25") == full
    assert _rows(conn, f"SELECT i, v, x, s FROM t ORDER BY {order}, s LIMIT 5 OFFSET 20") == \
        full[20:25]


def test_take_few_matches_take():
    from rustmemodb.exec.operators.relational import take_few

    t = pa.Table.from_batches(pa.table({"a": np.arange(200_000)}).to_batches(max_chunksize=7000))
    idx = np.array([199_999, 0, 6999, 7000, 12345, 12345])
    assert take_few(t, idx).column(0).to_pylist() == t.take(idx).column(0).to_pylist()
