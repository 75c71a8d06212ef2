"""Join order: inner joins of three or more tables start from the smallest, joined
along their keys; the columns and the answer stay those of the FROM order."""
import pytest

import rustmemodb
from rustmemodb.optimize import registry


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, mid_id INTEGER, v INTEGER)")
    c.execute("CREATE TABLE mid (id INTEGER PRIMARY KEY, small_id INTEGER, w TEXT)")
    c.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, tag TEXT)")
    c.execute("INSERT INTO big SELECT i, i % 500, i FROM generate_series(1, 20000) AS s(i)")
    c.execute("INSERT INTO mid SELECT i, i % 20, 'w' || i FROM generate_series(0, 499) AS s(i)")
    c.execute("INSERT INTO small SELECT i, 't' || i FROM generate_series(0, 19) AS s(i)")
    return c


QUERY = ("SELECT * FROM big, mid, small WHERE big.mid_id = mid.id AND mid.small_id = small.id "
         "AND small.tag = 't3'")


def scans(conn, sql):
    return [line.split(" on ")[1].split()[0] for line in
            (r[0] for r in conn.execute("EXPLAIN " + sql).fetchall()) if "Scan on" in line]


def test_smallest_relation_first_along_the_keys(conn):
    assert scans(conn, QUERY) == ["small", "mid", "big"]


def test_columns_and_rows_are_those_of_the_from_order(conn, monkeypatch):
    cur = conn.execute(QUERY)
    names = [d[0] for d in cur.description]
    got = sorted(cur.fetchall())
    assert names == ["id", "mid_id", "v", "id", "small_id", "w", "id", "tag"]
    monkeypatch.setattr(registry, "RULES",
                        tuple(r for r in registry.RULES if r[0] != "reorder_joins"))
    plain = conn.database.fork().connect()          # a fresh plan cache entry: same text
    want = sorted(plain.execute(QUERY + " ").fetchall())
    assert got == want and len(got) == 20000 // 20


def test_a_good_from_order_is_kept(conn):
    sql = ("SELECT count(*) FROM small JOIN mid ON mid.small_id = small.id "
           "JOIN big ON big.mid_id = mid.id WHERE small.tag = 't3'")
    assert scans(conn, sql) == ["small", "mid", "big"]
    assert conn.execute(sql).fetchone() == (1000,)


def test_outer_joins_keep_their_place(conn):
    sql = ("SELECT count(*) FROM big LEFT JOIN mid ON big.mid_id = mid.id "
           "LEFT JOIN small ON mid.small_id = small.id AND small.tag = 't3'")
    assert scans(conn, sql) == ["big", "mid", "small"]
    assert conn.execute(sql).fetchone() == (20000,)


def test_a_cached_plan_is_redone_when_its_tables_grow():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER)")
    c.execute("CREATE INDEX t_k ON t (k)")
    sql = "SELECT id FROM t WHERE k BETWEEN 5 AND 6"
    plan = lambda: "\n".join(r[0] for r in c.execute("EXPLAIN " + sql).fetchall())  # noqa: E731
    c.execute(sql)                                   # cached while the table is empty
    first = c.database.plan_cache.get(sql)
    c.execute("INSERT INTO t SELECT i, i % 1000 FROM generate_series(1, 50000) AS s(i)")
    assert c.execute(sql).fetchall() and c.database.plan_cache.get(sql) is not first
    assert "Index Scan using t_k" in plan()
    again = c.database.plan_cache.get(sql)
    c.execute("INSERT INTO t VALUES (50001, 5)")     # a small change keeps the plan
    c.execute(sql)
    assert c.database.plan_cache.get(sql) is again
