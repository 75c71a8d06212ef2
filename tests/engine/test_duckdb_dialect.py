"""DuckDB habits in notebooks, answered as DuckDB answers them (DuckDB runs the same
statements on the same rows here: a differential test)."""
from __future__ import annotations

import pytest

from .duckdb_pair import assert_same, loaded_pair

duckdb = pytest.importorskip("duckdb")

ROWS = [("a", "x", 1), ("a", "y", 2), ("b", "x", 3), ("b", None, None), (None, "z", 5)]


@pytest.fixture(scope="module")
def both():
    return loaded_pair(duckdb, {"CREATE TABLE t (g TEXT, h TEXT, v INTEGER)": ROWS})


@pytest.mark.parametrize("sql", [
    "SELECT g, sum(v) FROM t GROUP BY ALL ORDER BY g NULLS LAST",
    "SELECT g, h, count(*) AS n, sum(v) * 2 FROM t GROUP BY ALL ORDER BY g NULLS LAST, "
    "h NULLS LAST",
    "SELECT upper(g) AS big, max(v) FROM t GROUP BY ALL ORDER BY 1 NULLS LAST",
    "SELECT sum(v), count(*) FROM t GROUP BY ALL",
    "SELECT coalesce(g, '?') || h AS k, avg(v) FROM t GROUP BY ALL ORDER BY 1 NULLS LAST",
])
def test_group_by_all(both, sql):
    assert_same(both, sql)
