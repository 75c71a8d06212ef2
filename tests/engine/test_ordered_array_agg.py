"""array_agg(x ORDER BY ...) on Arrow's path (exec/operators/aggregate.Ordered: ranks
grouped, then one lexsort) gives PostgreSQL's order: NULLs last ascending and first
descending unless told, NaN above every number, ties in input order, several keys,
FILTER, and NULL for a group whose rows are all filtered out. Checked against the same
order computed in Python, on enough rows to take the vectorised path."""
from __future__ import annotations

import math
import random

import pytest

import rustmemodb

N = 6000


def _rows():
    rng = random.Random(11)
    out = []
    for i in range(N):
        k = rng.choice([None, float("nan"), -1.5, 0.0, 2.0, 3.25]) if i % 7 else None
        out.append((i % 5, i, k, rng.choice([None, "a", "b", "c"])))
    return out


@pytest.fixture(scope="module")
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (g INTEGER, i INTEGER, k FLOAT, s TEXT)")
    c.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", _rows())
    return c


def _key(v, desc, nulls_first):
    """PostgreSQL's order for one float key as a tuple sorting ascending."""
    if v is None:
        return (0 if nulls_first else 2, 0)
    rank = math.inf if v != v else v
    return (1, -rank if desc else rank)


def _expected(rows, keys, keep=lambda r: True):
    groups: dict = {}
    for r in rows:
        if keep(r):
            groups.setdefault(r[0], []).append(r)
    return {g: [r[1] for r in sorted(rs, key=lambda r: tuple(k(r) for k in keys))]
            for g, rs in groups.items()}


@pytest.mark.parametrize("order, keys", [
    ("k", [lambda r: _key(r[2], False, False)]),
    ("k DESC", [lambda r: _key(r[2], True, True)]),
    ("k DESC NULLS LAST", [lambda r: _key(r[2], True, False)]),
    ("k NULLS FIRST", [lambda r: _key(r[2], False, True)]),
    ("s DESC, k", [lambda r: (0 if r[3] is None else 1, "" if r[3] is None else
                               "".join(chr(255 - ord(c)) for c in r[3])),
                   lambda r: _key(r[2], False, False)]),
])
def test_grouped_order_matches_postgresql(conn, order, keys):
    got = dict(conn.execute(f"SELECT g, array_agg(i ORDER BY {order}) FROM t GROUP BY g"
                            ).fetchall())
    assert got == _expected(_rows(), keys)


def test_filter_and_a_whole_table(conn):
    keys = [lambda r: _key(r[2], True, True)]
    got = dict(conn.execute("SELECT g, array_agg(i ORDER BY k DESC) FILTER (WHERE s = 'a') "
                            "FROM t GROUP BY g").fetchall())
    assert got == _expected(_rows(), keys, keep=lambda r: r[3] == "a")
    whole = conn.execute("SELECT array_agg(i ORDER BY k, i DESC) FROM t").fetchone()[0]
    assert whole == [r[1] for r in sorted(_rows(), key=lambda r: (_key(r[2], False, False),
                                                                    -r[1]))]


def test_a_group_with_every_row_filtered_out_is_null(conn):
    got = dict(conn.execute("SELECT g, array_agg(i ORDER BY k) FILTER (WHERE g = 1) FROM t "
                            "GROUP BY g").fetchall())
    assert got[0] is None and got[1] is not None
    assert conn.execute("SELECT array_agg(i ORDER BY k) FROM t WHERE false").fetchone() == (None,)


def test_string_agg_in_order_skips_nulls(conn):
    rows = _rows()
    got = dict(conn.execute("SELECT g, string_agg(s, ',' ORDER BY k DESC, i) FROM t GROUP BY g"
                            ).fetchall())
    want = {}
    for g in {r[0] for r in rows}:
        kept = sorted((r for r in rows if r[0] == g and r[3] is not None),
                      key=lambda r: (_key(r[2], True, True), r[1]))
        want[g] = ",".join(r[3] for r in kept)
    assert got == want
    assert conn.execute("SELECT string_agg(s, ',' ORDER BY k) FILTER (WHERE s = 'zz') FROM t"
                        ).fetchone() == (None,)
