"""Kernels chosen by size (exec/operators/aggregate.py): GROUP BY one float key through
dictionary codes from FLOAT_KEY_CODES rows on. Results must equal the plain hash path's,
with PostgreSQL's float grouping (one NaN group, -0 = 0, one NULL group)."""
import numpy as np
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.exec.operators import aggregate, join

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


@pytest.fixture(scope="module")
def whole():
    """Float keys without NULL or NaN: whole numbers (with -0.0), a fraction, a wide range."""
    n = 70_000
    rng = np.random.default_rng(5)
    v = np.round(rng.gamma(2.0, 100.0, n), 2)
    b = np.floor(v / 20) - 3
    b[::211] = -0.0
    frac = b.copy()
    frac[7] = 0.5
    wide = b.copy()
    wide[9] = 1e15
    c = rustmemodb.connect()
    c.register("w", pa.table({"b": b, "frac": frac, "wide": wide, "v": v,
                              "i": rng.integers(0, 1000, n)}))
    c.execute("CREATE TABLE wt AS SELECT * FROM w")
    return c


KEYS = ["b", "frac", "wide", "floor(v / 20)", "round(v)", "ceil(b / 3)", "trunc(v, 1)",
        "floor(v / 20) - 3", "round(-v / 7)"]


@pytest.mark.parametrize("key", KEYS)
def test_whole_number_float_keys_match_the_hash_path(whole, key, monkeypatch):
    """A float key of whole numbers groups by integer offsets (one bincount); a fraction
    or a wide range falls back; results equal the hash path's, -0.0 grouped with 0.0."""
    q = f"SELECT {key} AS k, count(*), sum(v), avg(i), sum(i), min(v) FROM wt " \
        "GROUP BY 1 ORDER BY 1"
    fast = _rows(whole, q)
    monkeypatch.setattr(aggregate, "FLOAT_KEY_CODES", 1 << 62)
    slow = _rows(whole, q)
    assert [r[0] for r in fast] == [r[0] for r in slow]
    for f, s in zip(fast, slow):
        assert f[1] == s[1] and f[4] == s[4] and f[5] == s[5]
        assert f[2] == pytest.approx(s[2]) and f[3] == pytest.approx(s[3])
    assert all(type(r[0]) is float for r in fast)
    zeros = sum(1 for r in fast if r[0] == 0)     # -0.0 and 0.0: one group
    assert zeros == 1 if key in ("b", "frac", "wide") else zeros <= 1


@pytest.mark.parametrize("key", KEYS + ["b * 0.5"])
def test_count_only_histograms_match_the_hash_path(whole, key, monkeypatch):
    """count(*) alone is answered from the rows counted per offset, block by block,
    without the per-row offsets; with FILTER and with no aggregate at all too."""
    for q in (f"SELECT {key} AS k, count(*) FROM wt GROUP BY 1 ORDER BY 1",
              f"SELECT {key} AS k, count(*) FILTER (WHERE i > 500), count(*) FROM wt "
              "GROUP BY 1 ORDER BY 1",
              f"SELECT {key} AS k FROM wt GROUP BY 1 ORDER BY 1"):
        fast = _rows(whole, q)
        with monkeypatch.context() as m:
            m.setattr(aggregate, "FLOAT_KEY_CODES", 1 << 62)
            assert fast == _rows(whole, q)
        assert fast


def test_whole_number_key_offsets():
    n = aggregate.FLOAT_KEY_CODES * 3 + 17       # several blocks and a short last one
    k = pa.array(np.arange(n, dtype=float) % 7 - 3.0)
    offsets, lo, top, rows = aggregate._whole_number_key(k, n)
    assert (lo, top) == (-3.0, 6)
    assert offsets.to_numpy().min() == 0
    assert rows.tolist() == np.bincount(offsets.to_numpy()).tolist()
    counted = aggregate._whole_number_key(k, n, integral=True, per_row=False)
    assert counted[0] is None and counted[3].tolist() == rows.tolist()
    halves = aggregate._whole_number_key(pa.array([0.5, 2.5] * (n // 2)), n - n % 2)
    assert halves[1:3] == (0.5, 2)
    wide = aggregate._whole_number_key(pa.array([0.0, 5e5] * (n // 2)), n - n % 2)
    assert wide[3] is None and wide[2] == 500_000      # too many offsets to count by block
    for bad in (pa.array([1e-20, -3.0] * (n // 2)), pa.array([0.5, 0.25] * (n // 2)),
                pa.array([1.0] * (n - 1) + [float("nan")]),
                pa.array([1.0] * (n - 1) + [None], pa.float64()),
                pa.array([0.0] * (n - 1) + [float("inf")]), pa.array([0.0, 1e12] * (n // 2))):
        assert aggregate._whole_number_key(bad, len(bad)) is None


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


@pytest.mark.parametrize("order", ["i % 5 DESC, i", "i % 3, i DESC, s DESC"])
def test_top_k_with_thousands_of_ties_at_the_kth_value(conn, order):
    """~14k-23k rows tie on the first key at the k-th row: the top-k path filters them
    chunk by chunk and select_k's them on every key (no NULL keys here)."""
    full = _rows(conn, f"SELECT i, s FROM t ORDER BY {order}, s")[:25]
    assert _rows(conn, f"SELECT i, s FROM t ORDER BY {order}, s LIMIT 25") == full


def test_take_few_matches_take():
    from rustmemodb.exec.operators.relational import take_few

    t = pa.Table.from_batches(pa.table({"a": np.arange(200_000)}).to_batches(max_chunksize=7000))
    idx = np.array([199_999, 0, 6999, 7000, 12345, 12345])
    assert take_few(t, idx).column(0).to_pylist() == t.take(idx).column(0).to_pylist()


@pytest.mark.parametrize("desc", [True, False])
@pytest.mark.parametrize("shape", ["ascending", "descending", "random", "ties", "int"])
def test_block_threshold_is_reached_by_at_least_k_rows(shape, desc):
    """The top-k threshold from per-block extremes: at least k rows reach it, and it is
    never past the exact k-th value (so the candidates hold the whole top k)."""
    from rustmemodb.exec.operators.relational import THRESHOLD_BLOCK, _block_threshold

    n, k = 50 * THRESHOLD_BLOCK + 77, 25
    rng = np.random.default_rng(7)
    v = {"ascending": np.arange(n, dtype=float), "descending": np.arange(n, 0, -1.0),
         "random": rng.random(n), "ties": np.minimum(rng.random(n), 0.5),
         "int": rng.integers(-5, 5, n)}[shape]
    col = pa.chunked_array([pa.array(v[i:i + 9000]) for i in range(0, n, 9000)])
    t = _block_threshold(col, k, desc).as_py()
    exact = np.sort(v)[::-1][k - 1] if desc else np.sort(v)[k - 1]
    reached = (v >= t) if desc else (v <= t)
    assert reached.sum() >= k
    assert (t <= exact) if desc else (t >= exact)
    assert _block_threshold(pa.array(v[:THRESHOLD_BLOCK * 3]), 4, desc) is None


@pytest.mark.parametrize("order", ["a DESC, b", "a, b DESC", "b DESC, a"])
def test_top_k_on_sorted_and_reversed_columns(order):
    """Sorted input is the worst case for block extremes (every block but the last k
    is far from the top): the LIMIT result must still be the full sort's first rows."""
    n = 300_000
    c = rustmemodb.connect()
    c.register("s", pa.table({"a": np.arange(n, dtype=np.int64),
                              "b": np.arange(n, 0, -1, dtype=np.int64) % 1000 * 0.5}))
    c.execute("CREATE TABLE st AS SELECT * FROM s")
    for table in ("st", "s"):
        full = c.execute(f"SELECT a, b FROM {table} ORDER BY {order}").fetchall()[:12]
        assert c.execute(f"SELECT a, b FROM {table} ORDER BY {order} LIMIT 12").fetchall() \
            == full


JOIN_QUERIES = [
    "SELECT d.cat, count(*), sum(t.i), count(t.v) FROM t JOIN d ON t.i % 40 = d.k "
    "GROUP BY d.cat ORDER BY d.cat",
    "SELECT d.cat, t.s, count(*), avg(t.v) FROM t LEFT JOIN d ON t.i % 50 = d.k "
    "GROUP BY d.cat, t.s ORDER BY d.cat NULLS FIRST, t.s",
    "SELECT d.cat, count(t.i) FROM t RIGHT JOIN d ON t.i = d.k + 1000 "
    "GROUP BY d.cat ORDER BY d.cat NULLS FIRST",
    "SELECT d.cat, count(*) FROM t FULL JOIN d ON t.i % 45 = d.k "
    "GROUP BY d.cat ORDER BY d.cat NULLS FIRST",
    "SELECT d.cat, min(d.cat), count(*) FROM t JOIN d ON t.i % 40 = d.k "   # read as value too
    "GROUP BY d.cat ORDER BY d.cat",
    "SELECT upper(d.cat), count(*) FROM t JOIN d ON t.i % 40 = d.k GROUP BY upper(d.cat) "
    "ORDER BY 1",
    "SELECT d.cat FROM t JOIN d ON t.i % 40 = d.k GROUP BY d.cat HAVING sum(t.i) > 0 "
    "ORDER BY d.cat",
    "SELECT d.k, d.cat, count(*), sum(t.v) FROM t LEFT JOIN d ON t.i % 45 = d.k "   # int key
    "GROUP BY d.k, d.cat ORDER BY d.k NULLS FIRST",
    "SELECT t.s, count(*) FROM t JOIN d ON t.i % 40 = d.k GROUP BY t.s ORDER BY t.s",
]


@pytest.fixture(scope="module")
def with_dim(conn):
    # 42 dimension rows, 5 category values repeated, one NULL category, keys 0..41
    conn.execute("CREATE TABLE d (k INTEGER PRIMARY KEY, cat TEXT)")
    conn.execute("INSERT INTO d SELECT k, CASE WHEN k = 7 THEN NULL ELSE 'c' || (k % 5) END "
                 "FROM generate_series(0, 41) AS g(k)")
    # 40 dimension rows without NULLs: 6 category texts and 4 integers, each repeated
    conn.execute("CREATE TABLE e (k INTEGER PRIMARY KEY, cat TEXT, n BIGINT)")
    conn.execute("INSERT INTO e SELECT k, 'c' || (k % 6), k % 4 - 2 "
                 "FROM generate_series(0, 39) AS g(k)")
    return conn


FOLDED_QUERIES = [
    "SELECT e.cat, count(*), sum(t.i), avg(t.v), count(t.v), sum(t.v) FROM t "
    "JOIN e ON t.i % 40 = e.k GROUP BY e.cat ORDER BY e.cat",
    "SELECT e.cat, count(*) FROM t JOIN e ON t.i % 40 = e.k GROUP BY e.cat ORDER BY e.cat",
    "SELECT e.n, avg(t.i), sum(t.v) FROM t JOIN e ON t.i % 40 = e.k GROUP BY e.n ORDER BY e.n",
]


@pytest.mark.parametrize("query", FOLDED_QUERIES)
def test_dictionary_groups_folded_per_dimension_row(with_dim, query, monkeypatch):
    """Grouping by a join's dictionary-encoded column without NULLs counts and sums per
    dimension row, then adds the rows up per distinct value (fold): the same answers as
    the plain gather, exact integer sums and counts included."""
    folds = []
    real = aggregate.grouped_int_bincount

    def spy(*args, **kw):
        folds.append(kw.get("fold") is not None)
        return real(*args, **kw)
    monkeypatch.setattr(aggregate, "grouped_int_bincount", spy)
    folded = _rows(with_dim, query)
    assert any(folds)
    monkeypatch.setattr(aggregate, "_codable_join_keys", lambda node: frozenset())
    plain = _rows(with_dim, query)
    assert [r[0] for r in folded] == [r[0] for r in plain] and len(folded) > 1
    for f, p in zip(folded, plain):
        assert f == pytest.approx(p)
        assert [type(x) for x in f] == [type(x) for x in p]


@pytest.mark.parametrize("query", JOIN_QUERIES)
def test_join_keys_grouped_by_dictionary_codes_match_plain_gather(with_dim, query, monkeypatch):
    """An aggregate grouping by a small side's text column takes it dictionary-encoded
    from the join (join._gather, aggregate._grouped_by_dictionary); same answers as the
    plain gather, NULL groups (a NULL value, a missing partner) included."""
    coded = _rows(with_dim, query)
    monkeypatch.setattr(aggregate, "_codable_join_keys", lambda node: frozenset())
    assert coded == _rows(with_dim, query)
    assert coded


def test_join_dictionary_groups_by_value_not_by_dimension_row(with_dim):
    got = _rows(with_dim, "SELECT d.cat, count(*) FROM t JOIN d ON t.i % 40 = d.k "
                          "GROUP BY d.cat ORDER BY d.cat NULLS FIRST")
    assert [r[0] for r in got] == [None, "c0", "c1", "c2", "c3", "c4"]
    assert sum(r[1] for r in got) == with_dim.execute(
        "SELECT count(*) FROM t WHERE i % 40 < 42").fetchone()[0]


WINDOW_QUERIES = [
    "SELECT i, s, row_number() OVER (PARTITION BY i ORDER BY s DESC, v) FROM t "
    "WHERE i < 40 ORDER BY 1, 2, 3",
    "SELECT w, rank() OVER (PARTITION BY w % 7 ORDER BY w DESC, dd), "
    "dense_rank() OVER (ORDER BY dd DESC, w) FROM (SELECT i - 250 AS w, "
    "DATE '2020-01-01' + (i % 37) AS dd FROM t) q ORDER BY 1, 2, 3",
    "SELECT i, sum(i) OVER (PARTITION BY i % 3 ORDER BY i DESC ROWS BETWEEN 2 PRECEDING "
    "AND CURRENT ROW) FROM t WHERE i < 100 ORDER BY 1, 2",
]


@pytest.mark.parametrize("query", WINDOW_QUERIES)
def test_window_sort_by_packed_integer_key_matches_arrow_sort(conn, query, monkeypatch):
    """Integer/date PARTITION BY + ORDER BY keys are sorted as one packed int64
    (window._packed_int_key), negative values and DESC included: same answers as
    Arrow's multi-key sort."""
    from rustmemodb.exec.operators import window
    packed = _rows(conn, query)
    monkeypatch.setattr(window, "_packed_int_key", lambda keys: None)
    assert packed == _rows(conn, query)
    assert packed


def test_packed_int_key_orders_like_the_keys():
    from rustmemodb.exec.operators.window import _packed_int_key
    a = pa.array([3, -1, 3, 0, -1, 2**40], pa.int64())
    b = pa.array([1, 5, 0, 5, 4, 1], pa.int64()).cast(pa.int32()).cast(pa.date32())
    packed, spans = _packed_int_key([(a, "ascending", "at_end"), (b, "descending", "at_end")])
    assert spans == [2**40 + 2, 6]
    order = np.argsort(packed, kind="stable").tolist()
    assert order == [1, 4, 3, 0, 2, 5]
    assert _packed_int_key([(pa.array([1, None]), "ascending", "at_end")]) is None
    huge = pa.array([-2**62, 2**62])
    assert _packed_int_key([(huge, "ascending", "at_end")]) is None


@pytest.mark.parametrize("wide", [False, True])
def test_stable_order_is_the_stable_argsort(wide):
    """window.stable_order: the permutation and sorted keys of a stable argsort, by
    value sort with row numbers in the low bits, or (keys too wide for that) by an
    unstable argsort kept only when no two keys are equal."""
    from rustmemodb.exec.operators.window import stable_order
    rng = np.random.default_rng(11)
    for keys in (rng.integers(0, 50, 10_000), rng.permutation(10_000),
                 np.zeros(7, np.int64), np.array([5], np.int64)):
        keys = keys.astype(np.int64) + ((1 << 60) if wide else 0)
        perm, ordered = stable_order(keys)
        want = np.argsort(keys, kind="stable")
        assert perm.tolist() == want.tolist()
        assert ordered.tolist() == keys[want].tolist()


def test_grouped_float_sums_over_many_chunks():
    """GROUP BY a small integer key sums a many-chunk float column chunk by chunk
    (functions/aggregate._bincount_agg): same sums and averages as the definition."""
    n = 200_000
    rng = np.random.default_rng(5)
    k = rng.integers(-3, 9, n)
    f = rng.normal(size=n)
    c = rustmemodb.connect()
    c.execute("CREATE TABLE m (k INTEGER, f FLOAT)")
    c.register("src", pa.Table.from_batches(
        pa.table({"k": k, "f": f}).to_batches(max_chunksize=30_000)))
    c.execute("INSERT INTO m SELECT * FROM src")
    got = c.execute("SELECT k, count(*), sum(f), avg(f) FROM m GROUP BY k ORDER BY k").fetchall()
    assert [g[0] for g in got] == sorted(set(k.tolist()))
    for key, count, total, mean in got:
        sel = f[k == key]
        assert count == len(sel)
        assert total == pytest.approx(sel.sum(), rel=1e-9, abs=1e-9)
        assert mean == pytest.approx(sel.mean(), rel=1e-9, abs=1e-9)


def test_top_k_of_a_float_key_with_nan_and_no_null():
    """NaN sorts above every number (PostgreSQL): the top-k path sees the (is NaN,
    value) key pair, never the raw floats, so NaN rows come first in DESC order."""
    c = rustmemodb.connect()
    n = 80_000
    w = np.arange(n, dtype=float)
    w[[5, 70_000]] = np.nan
    c.execute("CREATE TABLE fw (i INTEGER, w FLOAT)")
    c.register("src", pa.table({"i": np.arange(n), "w": w}))
    c.execute("INSERT INTO fw SELECT * FROM src")
    got = c.execute("SELECT i FROM fw ORDER BY w DESC, i LIMIT 4").fetchall()
    assert got == [(5,), (70_000,), (n - 1,), (n - 2,)]
    assert c.execute("SELECT i FROM fw ORDER BY w, i LIMIT 2").fetchall() == [(0,), (1,)]


DENSE_QUERIES = [
    "SELECT count(*), sum(p.w) FROM t JOIN p ON t.i * 120 = p.k",
    "SELECT t.i, p.w FROM t LEFT JOIN p ON (CASE WHEN t.v IS NULL THEN NULL ELSE t.i * 120 END)"
    " = p.k WHERE t.i < 30 ORDER BY 1, 2 NULLS FIRST",
    "SELECT count(*), count(t.i), count(p.k) FROM t FULL JOIN p ON t.i * 120 - 7 = p.k",
    "SELECT count(*) FROM p WHERE EXISTS (SELECT 1 FROM t WHERE t.i * 120 = p.k)",
    "SELECT count(*) FROM t WHERE t.i * 120 NOT IN (SELECT k FROM p)",
]


@pytest.mark.parametrize("query", DENSE_QUERIES)
def test_dense_join_spanning_the_probe_rows_matches_hashing(conn, query, monkeypatch):
    """A unique integer key whose range exceeds 4x its rows but not the probe side's rows
    (a filtered primary key) is joined by direct addressing (join._dense_pairs): same
    answers as Arrow's hash join, NULL and out-of-range probe keys included."""
    from rustmemodb.exec.operators import join
    if not conn.execute("SELECT count(*) FROM information_schema.tables "
                        "WHERE table_name = 'p'").fetchone()[0]:
        conn.execute("CREATE TABLE p (k INTEGER PRIMARY KEY, w INTEGER)")
        conn.execute("INSERT INTO p SELECT g * 7, g FROM generate_series(0, 8571) AS s(g)")
    dense = _rows(conn, query)
    monkeypatch.setattr(join, "DENSE_PROBE_SPAN", False)
    assert dense == _rows(conn, query)
    assert dense


def test_scan_of_some_columns_of_a_table_with_deletions_patches_and_a_tail():
    """A scan reading some columns selects them before the deletion masks filter
    (storage/scan.py ``columns``): the same rows whatever the table's state."""
    c = rustmemodb.connect()
    n = 150_000
    c.execute("CREATE TABLE sd (id INTEGER PRIMARY KEY, v FLOAT, s TEXT)")
    c.register("src", pa.table({"id": np.arange(n), "v": np.arange(n) * 0.5,
                                "s": [f"s{i % 5}" for i in range(n)]}))
    c.execute("INSERT INTO sd SELECT * FROM src")
    c.execute("DELETE FROM sd WHERE id % 4 = 1")                    # masks on every chunk
    c.execute("UPDATE sd SET v = -1 WHERE id = 8")                  # a patch
    c.execute("INSERT INTO sd VALUES (-1, 100, 'tail'), (-2, 200, NULL)")
    c.execute("DELETE FROM sd WHERE id = -1")                       # a dead tail row
    live = [i for i in range(n) if i % 4 != 1]
    want_v = sum(i * 0.5 for i in live) - 4.0 - 1 + 200
    assert c.execute("SELECT count(*), sum(v) FROM sd").fetchone() == (len(live) + 1, want_v)
    assert c.execute("SELECT s, count(*) FROM sd GROUP BY s ORDER BY s NULLS FIRST"
                     ).fetchall()[:2] == [(None, 1), ("s0", sum(1 for i in live if i % 5 == 0))]
    c.execute("ALTER TABLE sd ADD COLUMN w INTEGER DEFAULT 7")
    c.execute("ALTER TABLE sd DROP COLUMN s")
    assert c.execute("SELECT sum(w), max(v) FROM sd").fetchone() == \
        (7 * (len(live) + 1), (n - 1) * 0.5)
    assert c.execute("SELECT id FROM sd ORDER BY v, id LIMIT 3").fetchall() == \
        [(8,), (0,), (2,)]


def test_every_probe_hit_reads_chunks_and_refuses_holes():
    """A dense join's probe keys are looked up chunk by chunk when every one finds its
    build row; a hole between the smallest and largest probe key, a key out of range or
    a NULL leaves the pairs to the general path (which finds the unmatched rows)."""
    slot = np.array([3, 0, -1, 2, 1], np.int32)            # keys 10..14; 12 has no row
    probe = pa.chunked_array([pa.array([10, 11, 11]), pa.array([10, 11])])
    assert join._every_probe_hit(slot, 10, probe).tolist() == [3, 0, 0, 3, 0]
    assert join._every_probe_hit(slot, 10, pa.chunked_array([pa.array([13, 14, 13])])) \
        .tolist() == [2, 1, 2]
    for bad in ([10, 12], [10, 14], [9, 10], [10, 15], [10, None]):
        assert join._every_probe_hit(slot, 10, pa.chunked_array([pa.array(bad)])) is None
    big = pa.chunked_array([pa.array(np.arange(join.BLOCK_ROWS * 2 + 5) % 2 + 13)])
    hit = join._every_probe_hit(slot, 10, big)
    assert hit.tolist() == np.where(np.arange(len(big)) % 2, 1, 2).tolist()


def test_dense_joins_with_holes_and_misses_match_hashing(conn, monkeypatch):
    """The same answers with the dense lookup as with Arrow's hash join."""
    conn.execute("CREATE TABLE holes AS SELECT k, 'h' || (k % 3) AS h FROM "
                 "generate_series(0, 499) AS g(k) WHERE k % 50 <> 7")
    qs = ["SELECT h.h, count(*), sum(t.i) FROM t JOIN holes h ON t.i = h.k GROUP BY h.h ORDER BY 1",
          "SELECT h.h, count(*) FROM t LEFT JOIN holes h ON t.i = h.k GROUP BY h.h ORDER BY 1 NULLS FIRST",
          "SELECT h.h, count(*) FROM t JOIN holes h ON t.i = h.k + 3 GROUP BY h.h ORDER BY 1"]
    dense = [_rows(conn, q) for q in qs]
    monkeypatch.setattr(join, "_dense_pairs", lambda lk, rk: None)
    assert dense == [_rows(conn, q) for q in qs]
    assert all(dense)
