"""EXPLAIN output shape: text tree, JSON (node/details/est_rows/children), ANALYZE stats."""
import json

import pytest

import rustmemodb


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, k INTEGER, v FLOAT, s TEXT)")
    c.executemany("INSERT INTO kv VALUES (?, ?, ?, ?)", [(i, i % 100, i / 2, f"r{i}")
                                                        for i in range(2000)])
    c.execute("CREATE INDEX kv_k ON kv (k)")
    return c


def lines(conn, sql, params=None):
    return [r[0] for r in conn.execute(sql, params).fetchall()]


def tree(conn, sql, params=None):
    return json.loads(conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0])


OLTP = {
    "SELECT * FROM kv WHERE id = ?": "kv_pkey",
    "UPDATE kv SET v = v + 1 WHERE id = ?": "kv_pkey",
    "DELETE FROM kv WHERE id = ?": "kv_pkey",
    "SELECT id, v FROM kv WHERE k BETWEEN ? AND ?": "kv_k",
    # the primary key's ordered twin serves ranges and ORDER BY ... LIMIT
    "SELECT * FROM kv WHERE id BETWEEN ? AND ?": "kv_pkey",
    "SELECT * FROM kv WHERE id > ? AND id < ? ORDER BY id": "kv_pkey",
    "SELECT * FROM kv ORDER BY id DESC LIMIT ?": "kv_pkey",
}


@pytest.mark.parametrize("sql,index", OLTP.items())
def test_oltp_statements_use_their_index(conn, sql, index):
    params = (1,) * sql.count("?")
    text = "\n".join(lines(conn, "EXPLAIN " + sql, params))
    assert f"Index Scan using {index} on kv" in text
    scans = [n for n in _walk(tree(conn, sql, params)) if n["node"] == "Index Scan"]
    assert scans and scans[0]["index"] == index and scans[0]["est_rows"] >= 1


def test_text_is_an_indented_tree_with_estimates(conn):
    out = lines(conn, "EXPLAIN SELECT k, count(*) FROM kv WHERE v > 10 GROUP BY k ORDER BY k")
    assert out[0].startswith("Sort")
    assert all("[rows=" in line for line in out)
    assert [line.startswith("->") or line.lstrip().startswith("->") for line in out[1:]]
    depths = [len(line) - len(line.lstrip()) for line in out[1:]]
    assert depths == sorted(depths)                      # a chain: each child deeper
    assert any("Seq Scan on kv" in line for line in out)


def test_json_keys(conn):
    t = tree(conn, "SELECT * FROM kv WHERE id = 3")
    for node in _walk(t):
        assert {"node", "details", "est_rows", "children"} <= set(node)
        assert isinstance(node["children"], list)
    assert t["node"] == "Project" and t["children"][0]["node"] == "Index Scan"
    assert t["children"][0]["est_rows"] == 1


def test_analyze_adds_measurements_and_runs_the_statement(conn):
    t = json.loads(conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) UPDATE kv SET v = 0 "
                                "WHERE id = 7").fetchone()[0])
    for node in _walk(t):
        assert {"actual_rows", "loops", "time_ms", "self_ms"} <= set(node)
        assert node["self_ms"] <= node["time_ms"] + 1e-9
    assert t["children"][0]["actual_rows"] == 1
    assert conn.execute("SELECT v FROM kv WHERE id = 7").fetchone() == (0.0,)
    text = lines(conn, "EXPLAIN ANALYZE SELECT id FROM kv WHERE k = 3")
    assert "actual rows=20" in "\n".join(text)


def test_order_limit_plan(conn):
    text = "\n".join(lines(conn, "EXPLAIN SELECT id FROM kv ORDER BY k DESC LIMIT 3"))
    assert "Index Scan using kv_k on kv order desc limit 3" in text


def _walk(node):
    yield node
    for c in node["children"]:
        yield from _walk(c)
