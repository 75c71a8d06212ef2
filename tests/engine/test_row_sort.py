"""The row path's ORDER BY (exec/fast_select.py ``_sorted_by``): values computed once
and sorted by the list's own item lookup must order rows exactly as the per-row key
(``_sort_key``) does: NULLs first or last and kept in their order, NaN above every
number, stable for equal values, ascending and descending."""
from __future__ import annotations

import random

import pytest
import rustmemodb
from rustmemodb.exec import fast_select


def _reference(rows, fn, desc, nulls_first):
    null_high = nulls_first == desc
    return sorted(rows, key=lambda r: fast_select._sort_key(fn(r, None), null_high),
                  reverse=desc)


@pytest.mark.parametrize("seed", range(40))
def test_sorted_by_orders_as_the_per_row_key(seed):
    rng = random.Random(seed)
    pool = [None, 1, 2, 2, 3, -1, 0] if seed % 3 else [None, 1.5, float("nan"), 2.0, -0.0, 0.0, 7.25]
    rows = [(rng.choice(pool), i) for i in range(rng.randrange(0, 30))]
    fn = lambda r, p: r[0]
    for desc in (False, True):
        for nulls_first in (False, True):
            got = fast_select._sorted_by(rows, fn, None, desc, nulls_first)
            assert got == _reference(rows, fn, desc, nulls_first), (desc, nulls_first)


def test_order_by_through_the_row_path():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER, b TEXT, f FLOAT)")
    c.execute("INSERT INTO t VALUES (2, 'x', 1.0), (NULL, 'y', NULL), (1, NULL, 'NaN'::float), "
              "(2, 'a', -1.0), (NULL, 'b', 2.0), (3, 'y', 'NaN'::float)")
    assert c.execute("SELECT a, b FROM t ORDER BY 1, 2 DESC").fetchall() == [
        (1, None), (2, "x"), (2, "a"), (3, "y"), (None, "y"), (None, "b")]
    assert c.execute("SELECT a, b FROM t ORDER BY 1 DESC NULLS LAST, 2 NULLS FIRST").fetchall() \
        == [(3, "y"), (2, "a"), (2, "x"), (1, None), (None, "b"), (None, "y")]
    got = [r[0] for r in c.execute("SELECT f FROM t ORDER BY 1").fetchall()]
    assert got[:3] == [-1.0, 1.0, 2.0] and all(v != v for v in got[3:5]) and got[5] is None
    got = [r[0] for r in c.execute("SELECT f, a FROM t ORDER BY 1 DESC, 2").fetchall()]
    assert got[0] is None and got[1] != got[1] and got[2] != got[2] and got[3:] == [2.0, 1.0, -1.0]


@pytest.mark.parametrize("seed", range(60))
def test_one_sort_by_output_columns_orders_as_a_sort_per_key(seed, monkeypatch):
    """ORDER BY output columns in one direction sorts once by the columns together
    (``_sort``): the order of a stable sort per key from the last, whatever the columns
    hold (NULLs and NaN send it the per-key way)."""
    from rustmemodb.plan import logical as L
    from rustmemodb.plan.expr import ColRef
    rng = random.Random(seed)
    pools = [[1, 2, 2, 3], ["a", "b", "B", "a"], [1.5, -0.0, 0.0, 2.0], [True, False],
             [1, None, 2], [1.0, float("nan"), 0.5]]
    width = rng.randrange(1, 4)
    cols = [rng.choice(pools[:4] if seed % 2 else pools) for _ in range(width)]
    rows = [tuple(rng.choice(p) for p in cols) + (i,) for i in range(rng.randrange(0, 25))]
    desc = bool(seed % 3 == 0)
    keys = [(ColRef(j, "INTEGER"), desc, desc) for j in rng.sample(range(width), width)]
    node = L.LogicalSort([("c", "INTEGER")] * (width + 1), None, keys)
    env = type("Env", (), {"row_fn": lambda self, e: (lambda r, p, i=e.index: r[i])})()
    monkeypatch.setattr(fast_select, "compile_rows", lambda n, e: (lambda ctx: list(rows)))
    sort = fast_select._sort(node, env)
    ctx = type("Ctx", (), {"params": None})()
    want = list(rows)
    for e, d, nf in reversed(keys):
        want = fast_select._sorted_by(want, lambda r, p, i=e.index: r[i], None, d, nf)
    assert sort(ctx) == want
