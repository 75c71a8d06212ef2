"""Materialized views on a cluster (cluster/matview.py): filled from the cluster's own
query, their rows spread over the shards (none on the coordinator's mirror), REFRESH
atomic on every shard; a failing CREATE or REFRESH changes nothing anywhere."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import cluster


@pytest.fixture
def c():
    conn = cluster.connect("local", shards=3)
    conn.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, g TEXT, v INTEGER)")
    conn.execute("INSERT INTO b SELECT n, chr(97 + n % 5), n FROM generate_series(1, 40) n")
    yield conn
    conn.close()


def shard_rows(conn, name):
    return [h.branches[conn.branch].head.tables[name].to_arrow().num_rows
            for h in conn.cluster.backend.hosts]


def test_create_fills_the_shards_from_the_cluster_query(c):
    c.execute("CREATE MATERIALIZED VIEW m (grp, total) AS SELECT g, sum(v) FROM b GROUP BY g")
    assert sum(shard_rows(c, "m")) == 5 and max(shard_rows(c, "m")) < 5
    assert c.database.head.tables["m"].to_arrow().num_rows == 0   # the mirror: schema only
    assert c.execute("SELECT grp, total FROM m ORDER BY grp").fetchall() == \
        [("a", 180), ("b", 148), ("c", 156), ("d", 164), ("e", 172)]
    c.execute("CREATE MATERIALIZED VIEW n AS SELECT count(*) AS k FROM b")
    assert c.execute("SELECT k FROM n").fetchall() == [(40,)]
    assert c.execute("SELECT relkind FROM pg_class WHERE relname = 'n'").fetchall() == [("m",)]
    c.execute("DELETE FROM b WHERE id > 10")
    assert c.execute("SELECT k FROM n").fetchall() == [(40,)]
    c.execute("REFRESH MATERIALIZED VIEW n")
    assert c.execute("SELECT k FROM n").fetchall() == [(10,)]
    c.execute("REFRESH MATERIALIZED VIEW m")
    assert c.execute("SELECT sum(total) FROM m").fetchall() == [(55,)]
    c.execute("DROP MATERIALIZED VIEW m")
    assert "m" not in c.catalog


def test_refresh_in_a_transaction_is_all_or_nothing(c):
    c.execute("CREATE MATERIALIZED VIEW m AS SELECT g, count(*) AS n FROM b GROUP BY g")
    other = c.connect_more()
    try:
        c.execute("BEGIN")
        c.execute("DELETE FROM b WHERE g IN ('a', 'b')")
        c.execute("REFRESH MATERIALIZED VIEW m")
        assert c.execute("SELECT count(*) FROM m").fetchone() == (3,)
        assert other.execute("SELECT count(*) FROM m").fetchone() == (5,)   # not yet
        c.execute("ROLLBACK")
        assert c.execute("SELECT count(*) FROM m").fetchone() == (5,)
        c.execute("BEGIN")
        c.execute("DELETE FROM b WHERE g = 'a'")
        c.execute("REFRESH MATERIALIZED VIEW m")
        c.execute("COMMIT")
        assert other.execute("SELECT count(*) FROM m").fetchone() == (4,)
    finally:
        other.close()


def test_a_failing_refresh_or_create_changes_nothing(c):
    c.execute("CREATE MATERIALIZED VIEW q AS SELECT g, 1000 / sum(v) AS r FROM b GROUP BY g")
    before = sorted(c.execute("SELECT * FROM q").fetchall())
    counts = shard_rows(c, "q")
    c.execute("UPDATE b SET v = 0 WHERE g = 'c'")
    with pytest.raises(rustmemodb.DataError) as e:
        c.execute("REFRESH MATERIALIZED VIEW q")
    assert e.value.sqlstate == "22012"
    assert sorted(c.execute("SELECT * FROM q").fetchall()) == before
    assert shard_rows(c, "q") == counts
    with pytest.raises(rustmemodb.DataError):
        c.execute("CREATE MATERIALIZED VIEW bad AS SELECT g, 1 / sum(v) FROM b GROUP BY g")
    assert "bad" not in c.catalog
    assert all("bad" not in h.branches["main"].head.tables for h in c.cluster.backend.hosts)
    with pytest.raises(rustmemodb.Error) as e:
        c.execute("INSERT INTO q VALUES ('z', 1)")
    assert e.value.sqlstate == "42809"


def test_concurrent_refreshes_one_fails_with_40001(c):
    c.execute("CREATE MATERIALIZED VIEW m AS SELECT g, count(*) AS n FROM b GROUP BY g")
    other = c.connect_more()
    try:
        c.execute("BEGIN")
        c.execute("REFRESH MATERIALIZED VIEW m")
        other.execute("DELETE FROM b WHERE g = 'a'")
        other.execute("REFRESH MATERIALIZED VIEW m")
        with pytest.raises(rustmemodb.SerializationFailure) as e:
            c.execute("COMMIT")
        assert e.value.sqlstate == "40001"
        assert c.execute("SELECT count(*) FROM m").fetchone() == (4,)
    finally:
        other.close()


def test_privileges_are_checked_before_any_shard_changes(c):
    c.execute("CREATE MATERIALIZED VIEW m AS SELECT sum(v) AS s FROM b")
    c.execute("CREATE ROLE reader")
    c.execute("GRANT SELECT ON b, m TO reader")
    c.execute("SET ROLE reader")
    for sql in ["REFRESH MATERIALIZED VIEW m", "CREATE MATERIALIZED VIEW m2 AS SELECT * FROM b"]:
        with pytest.raises(rustmemodb.Error) as e:
            c.execute(sql)
        assert e.value.sqlstate == "42501", sql
    assert c.execute("SELECT s FROM m").fetchall() == [(820,)]
    c.execute("RESET ROLE")
    assert all("m2" not in h.branches["main"].head.tables for h in c.cluster.backend.hosts)


# ---- the query runs once, over the cluster, as the single engine runs it -------------

def _pair_mv():
    c = cluster.connect("local", shards=3)
    single = rustmemodb.connect()
    for sql in ["CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)",
                "INSERT INTO t VALUES (1, 10), (2, 20)",
                "CREATE TABLE e (id INTEGER)"]:
        c.execute(sql)
        single.execute(sql)
    return c, single


def _both(c, single, sql):
    got, want = c.execute(sql), single.execute(sql)
    assert got.rowcount == want.rowcount, sql
    return got, want


@pytest.mark.parametrize("query", [
    "SELECT 1 / count(*) AS r FROM t",                       # fails over no rows
    "SELECT 100 / (count(*) - 1) AS r, sum(v) AS s FROM t",  # fails over one shard's rows
    "SELECT id, 60 / (SELECT count(*) FROM t) AS share FROM t",
    "SELECT 1 / (SELECT count(*) FROM t WHERE id < 3) AS k",
])
def test_a_view_whose_query_fails_on_part_of_the_rows_matches_the_single_engine(query):
    c, single = _pair_mv()
    try:
        for sql in [f"CREATE MATERIALIZED VIEW m AS {query}",
                    "INSERT INTO t VALUES (3, 30)",
                    "REFRESH MATERIALIZED VIEW m"]:
            _both(c, single, sql)
            q = "SELECT * FROM m ORDER BY 1"
            assert c.execute(q).fetchall() == single.execute(q).fetchall(), sql
        assert c.database.head.tables["m"].to_arrow().num_rows == 0   # mirror: schema only
        for sql in ["DELETE FROM t WHERE id > 1", "REFRESH MATERIALIZED VIEW m",
                    "DELETE FROM t", "REFRESH MATERIALIZED VIEW m"]:
            try:
                single.execute(sql)
            except rustmemodb.Error as e:   # the cluster fails the same way, changing nothing
                with pytest.raises(rustmemodb.Error) as e2:
                    c.execute(sql)
                assert e2.value.sqlstate == e.sqlstate, sql
            else:
                c.execute(sql)
            q = "SELECT * FROM m ORDER BY 1"
            assert c.execute(q).fetchall() == single.execute(q).fetchall(), sql
    finally:
        c.close()


def test_a_plain_select_failing_over_no_rows_matches_the_single_engine():
    c, single = _pair_mv()
    try:
        for sql in ["SELECT 1 / count(*) FROM t", "SELECT sum(v) / (count(*) - 1) FROM t"]:
            assert c.execute(sql).fetchall() == single.execute(sql).fetchall()
    finally:
        c.close()


def test_the_views_errors_and_if_not_exists_are_the_engines():
    c, single = _pair_mv()
    try:
        c.execute("CREATE MATERIALIZED VIEW m AS SELECT 1 / count(*) AS r FROM t")
        c.execute("CREATE MATERIALIZED VIEW IF NOT EXISTS m AS SELECT 1 / count(*) AS r FROM e")
        assert c.execute("SELECT * FROM m").fetchall() == [(0,)]
        with pytest.raises(rustmemodb.Error) as e:
            c.execute("CREATE MATERIALIZED VIEW m AS SELECT 1 AS r")
        assert e.value.sqlstate == "42P07"
        with pytest.raises(rustmemodb.Error) as e:
            c.execute("CREATE MATERIALIZED VIEW m2 (a, b) AS SELECT 1 / count(*) FROM e")
        assert e.value.sqlstate == "42601"
        with pytest.raises(rustmemodb.DataError) as e:   # fails over the cluster: nothing made
            c.execute("CREATE MATERIALIZED VIEW m3 AS SELECT 1 / count(*) AS r FROM e")
        assert e.value.sqlstate == "22012"
        assert "m3" not in c.catalog
        assert all("m3" not in h.branches["main"].head.tables for h in c.cluster.backend.hosts)
        c.execute("BEGIN")
        c.execute("CREATE MATERIALIZED VIEW m4 AS SELECT count(*) AS n FROM t")
        assert c.execute("SELECT n FROM m4").fetchall() == [(2,)]
        c.execute("ROLLBACK")
        assert "m4" not in c.catalog
    finally:
        c.close()
