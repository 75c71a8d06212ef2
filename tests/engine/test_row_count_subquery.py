"""``(SELECT count(*) FROM t AS x WHERE x.col OP outer.col)`` on the row path by binary
search (exec/row_ops.py ``_counting``): the same answers as the scan per outer row,
with NULLs, duplicates, NaN, each operator and either side written first."""
from __future__ import annotations

import pytest
import rustmemodb
from rustmemodb.exec import row_ops


def _connect():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER, b INTEGER, f FLOAT, g FLOAT)")
    c.execute("INSERT INTO t VALUES (1, 5, 1.5, 0.5), (2, 5, NULL, 2.5), (3, NULL, 2.5, 2.5), "
              "(4, 7, -1.0, NULL), (5, 2, 2.5, 9.0), (6, 2, 0.0, -0.0), (7, 9, 3.0, 3.0)")
    return c


QUERIES = [f"SELECT a, (SELECT count(*) FROM t AS x WHERE {cond}) FROM t ORDER BY 1"
           for cond in ("x.b < t.b", "x.b <= t.b", "x.b > t.b", "x.b >= t.b",
                        "t.b < x.b", "t.b >= x.b", "x.f < t.f", "x.f >= t.f", "t.g > x.g",
                        "x.g <= t.g", "x.b > t.b AND x.f < t.f", "x.f >= t.g AND t.b < x.b",
                        "x.a < t.a AND x.b >= t.b AND x.g > t.f",
                        "x.b <= t.b AND x.a > t.a AND x.b > t.a")]


@pytest.mark.parametrize("sql", QUERIES)
def test_counts_match_the_scan(sql, monkeypatch):
    fast = _connect().execute(sql).fetchall()
    monkeypatch.setattr(row_ops, "_counting", lambda expr, corr, general: None)
    assert fast == _connect().execute(sql).fetchall()


def test_the_shape_is_recognized():
    calls = []
    real = row_ops._counting

    def spy(expr, corr, general):
        out = real(expr, corr, general)
        calls.append(out is not None)
        return out
    from unittest import mock
    with mock.patch.object(row_ops, "_counting", spy):
        _connect().execute(QUERIES[0]).fetchall()
        _connect().execute("SELECT a, (SELECT count(*) FROM t AS x WHERE x.b < t.b "
                           "AND x.a > 1) FROM t").fetchall()
        _connect().execute("SELECT a, (SELECT count(x.b) FROM t AS x WHERE x.b < t.b) "
                           "FROM t").fetchall()
        _connect().execute("SELECT a, (SELECT count(*) FROM t AS x WHERE x.f < t.b) "
                           "FROM t").fetchall()
        _connect().execute("SELECT a, (SELECT count(*) FROM t AS x WHERE x.b < t.b "
                           "AND x.f > t.g) FROM t").fetchall()
        _connect().execute("SELECT a, (SELECT count(*) FROM t AS x WHERE x.b < t.b "
                           "OR x.f > t.g) FROM t").fetchall()
    assert calls == [True, False, False, False, True, False]


@pytest.mark.parametrize("sql", [
    "SELECT a, (SELECT count(*) FROM t AS x WHERE x.f < t.f) FROM t ORDER BY 1",
    "SELECT a, (SELECT count(*) FROM t AS x WHERE x.f > t.f) FROM t ORDER BY 1",
    "SELECT a, (SELECT count(*) FROM t AS x WHERE x.b > t.b AND x.f < t.f) FROM t ORDER BY 1",
    "SELECT a, (SELECT count(*) FROM t AS x WHERE x.f > t.f AND x.b < t.b) FROM t ORDER BY 1",
])
def test_nan_answers_as_the_scan(sql, monkeypatch):
    def with_nan():
        c = _connect()
        c.execute("INSERT INTO t VALUES (8, 1, 'NaN'::float, 1.0)")
        return c.execute(sql).fetchall()
    fast = with_nan()
    monkeypatch.setattr(row_ops, "_counting", lambda expr, corr, general: None)
    assert fast == with_nan()


def test_a_table_versions_rows_are_shared_but_never_handed_out():
    # row_ops.table_rows keeps a small version's rows (weakly, per version): a result
    # list changed by its reader must not change the next scan's rows
    c = _connect()
    first = c.execute("SELECT * FROM t").fetchall()
    first.clear()
    assert len(c.execute("SELECT * FROM t").fetchall()) == 7
    c.execute("INSERT INTO t VALUES (8, 8, 8.0, 8.0)")          # a new version
    assert len(c.execute("SELECT * FROM t").fetchall()) == 8
    c.execute("DELETE FROM t WHERE a < 3")
    assert sorted(r[0] for r in c.execute("SELECT * FROM t").fetchall()) == [3, 4, 5, 6, 7, 8]


def test_the_rows_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(row_ops, "_ROWS_MAX", 3)
    c = _connect()
    for i in range(10):
        c.execute(f"INSERT INTO t VALUES ({10 + i}, 1, 1.0, 1.0)")
        assert len(c.execute("SELECT * FROM t WHERE b = 1").fetchall()) == i + 1
    assert len(row_ops._ROWS) <= 3


EXISTS_QUERIES = [
    f"SELECT a FROM t WHERE {neg}EXISTS (SELECT 1 FROM t AS x WHERE {cond}) OR a > 6 ORDER BY 1"
    for neg in ("", "NOT ") for cond in ("x.b < t.b", "x.f >= t.f", "t.g > x.g",
                                          "x.b > t.b AND x.f < t.f")] + [
    "SELECT a, EXISTS (SELECT 1, 2 FROM t AS x WHERE x.b > t.b) FROM t ORDER BY 1",
    "SELECT a, NOT EXISTS (SELECT 1 FROM t AS x WHERE x.b > t.b) FROM t ORDER BY 1",
]


@pytest.mark.parametrize("sql", EXISTS_QUERIES)
def test_exists_matches_the_scan(sql, monkeypatch):
    fast = _connect().execute(sql).fetchall()
    monkeypatch.setattr(row_ops, "_existing", lambda expr, corr, general: None)
    assert fast == _connect().execute(sql).fetchall()


def test_exists_over_an_evaluated_select_list_is_left_to_the_scan():
    seen = []
    real = row_ops._existing

    def spy(expr, corr, general):
        out = real(expr, corr, general)
        seen.append(out is not None)
        return out
    from unittest import mock
    with mock.patch.object(row_ops, "_existing", spy):
        _connect().execute("SELECT a, EXISTS (SELECT 1 FROM t AS x WHERE x.b > t.b) "
                           "FROM t").fetchall()
        _connect().execute("SELECT a, EXISTS (SELECT x.a + 1 FROM t AS x WHERE x.b > t.b) "
                           "FROM t").fetchall()
    assert seen == [True, False]
