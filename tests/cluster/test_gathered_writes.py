"""Writes the per-shard plans do not cover (cluster/gathered.py): MERGE, data-modifying
WITH, partition-key updates that read other tables or return rows, ON CONFLICT DO
UPDATE of the partition key. Each is computed over the gathered rows and applied as
row changes in one 2PC: results equal to the single engine's, every row on the shard
of its key afterwards, and a failure (23505, 21000, 40001) changes nothing anywhere."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.partition import shard_of_key

SETUP = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x INTEGER)",
    "CREATE TABLE src (id INTEGER, x INTEGER)",
    "CREATE TABLE archive (id INTEGER, g TEXT)",
    "INSERT INTO t SELECT n, chr(97 + n % 4), n * 10 FROM generate_series(1, 30) n",
    "INSERT INTO src VALUES (2, 200), (3, NULL), (5, 500), (40, 4000), (41, -1)",
]


def both():
    c = cluster.connect("local", shards=3)
    single = rustmemodb.connect()
    for sql in SETUP:
        c.execute(sql)
        single.execute(sql)
    return c, single


@pytest.fixture
def pair():
    c, single = both()
    yield c, single
    c.close()


def same(c, single, sql):
    got = c.execute(sql)
    want = single.execute(sql)
    assert (got.rowcount, sorted(got.fetchall() if got.description else [])) == \
        (want.rowcount, sorted(want.fetchall() if want.description else [])), sql
    return got


def table_rows(conn, table, order="1, 2"):
    return conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


def assert_placed(c, table, key_cols):
    """Every row of ``table`` sits on the shard its key hashes to, and only there."""
    for s, host in enumerate(c.cluster.backend.hosts):
        data = host.branches[c.branch].head.tables[table].to_arrow()
        cols = [data.column(k).to_pylist() for k in key_cols]
        for key in zip(*cols):
            assert shard_of_key(key, c.shards) == s, (table, key, s)


def snapshot(c):
    return {name: table_rows(c, name) for name in ("t", "src", "archive")}


def test_merge_matches_the_single_engine_and_moves_keys(pair):
    c, single = pair
    same(c, single, "MERGE INTO t USING src s ON t.id = s.id "
                    "WHEN MATCHED AND s.x IS NULL THEN DELETE "
                    "WHEN MATCHED THEN UPDATE SET x = s.x, g = t.g || '!' "
                    "WHEN NOT MATCHED AND s.x < 0 THEN DO NOTHING "
                    "WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'new', s.x)")
    assert c.last_plan["strategy"] == "gathered write"
    # a MERGE that changes the partition key: each row deleted on its old shard and
    # inserted on the shard of its new key, in one transaction
    c.execute("MERGE INTO t USING (SELECT id FROM src WHERE x > 100) s "
              "ON t.id = s.id WHEN MATCHED THEN UPDATE SET id = t.id + 100")
    assert len(c.last_plan["shards"]) > 1
    single.execute("MERGE INTO t USING (SELECT id FROM src WHERE x > 100) s "
                   "ON t.id = s.id WHEN MATCHED THEN UPDATE SET id = t.id + 100")
    assert table_rows(c, "t") == table_rows(single, "t")
    assert_placed(c, "t", ["id"])


def test_merge_errors_change_nothing_on_any_shard(pair):
    c, single = pair
    before = snapshot(c)
    with pytest.raises(rustmemodb.IntegrityError) as e:   # moves 5 onto 6
        c.execute("MERGE INTO t USING (VALUES (2, 1), (5, 1)) s(id, k) ON t.id = s.id "
                  "WHEN MATCHED THEN UPDATE SET id = t.id + k")
    assert e.value.sqlstate == "23505"
    with pytest.raises(rustmemodb.Error) as e:    # one target row, two source rows
        c.execute("MERGE INTO t USING (VALUES (1, 5), (1, 6), (7, 1)) AS s(id, v) "
                  "ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = s.v")
    assert e.value.sqlstate == "21000"
    assert snapshot(c) == before
    assert_placed(c, "t", ["id"])


def test_data_modifying_with_matches_the_single_engine(pair):
    c, single = pair
    same(c, single, "WITH d AS (DELETE FROM t WHERE id % 7 = 0 RETURNING id, g) "
                    "INSERT INTO archive SELECT * FROM d RETURNING *")
    same(c, single, "WITH u AS (UPDATE t SET x = -x WHERE g = 'b' RETURNING id, x) "
                    "SELECT count(*), sum(x) FROM u")
    same(c, single, "WITH m AS (UPDATE t SET id = id + 1000 WHERE id < 4 RETURNING *) "
                    "SELECT id, g FROM m")
    same(c, single, "WITH i AS (INSERT INTO t VALUES (100, 'z', 1), (101, 'z', 2) "
                    "RETURNING id) SELECT (SELECT count(*) FROM t), sum(id) FROM i")
    for name in ("t", "archive"):
        assert table_rows(c, name) == table_rows(single, name)
    assert_placed(c, "t", ["id"])
    assert_placed(c, "archive", ["id", "g"])   # keyless: placed by the whole row


def test_data_modifying_with_conflict_leaves_every_shard_as_it_was(pair):
    c, _ = pair
    before = snapshot(c)
    with pytest.raises(rustmemodb.IntegrityError) as e:
        c.execute("WITH d AS (DELETE FROM src RETURNING id, x) "
                  "INSERT INTO t SELECT id, 'n', x FROM d")   # 2, 3, 5 are in t
    assert e.value.sqlstate == "23505"
    assert snapshot(c) == before


def test_key_update_reading_another_table_and_returning(pair):
    c, single = pair
    same(c, single, "UPDATE t SET id = t.id + s.x FROM src s "
                    "WHERE t.id = s.id AND s.x > 100 RETURNING t.id, t.g")
    same(c, single, "UPDATE t SET id = id * 100 WHERE id BETWEEN 10 AND 12 RETURNING id, x")
    assert table_rows(c, "t") == table_rows(single, "t")
    assert_placed(c, "t", ["id"])
    before = snapshot(c)
    with pytest.raises(rustmemodb.IntegrityError) as e:   # 13 -> 14 collides
        c.execute("UPDATE t SET id = t.id + 1 FROM src s WHERE t.id BETWEEN 13 AND 20 "
                  "AND s.id = 40")
    assert e.value.sqlstate == "23505"
    assert snapshot(c) == before


def test_on_conflict_do_update_of_the_key(pair):
    c, single = pair
    same(c, single, "INSERT INTO t VALUES (1, 'q', 0), (2, 'q', 0), (77, 'q', 7) "
                    "ON CONFLICT (id) DO UPDATE SET id = t.id + 500 RETURNING id, g")
    assert table_rows(c, "t") == table_rows(single, "t")
    assert_placed(c, "t", ["id"])
    before = snapshot(c)
    with pytest.raises(rustmemodb.IntegrityError) as e:
        c.execute("INSERT INTO t VALUES (3, 'q', 0) ON CONFLICT (id) DO UPDATE SET id = 4")
    assert e.value.sqlstate == "23505"
    assert snapshot(c) == before


def test_a_concurrent_change_fails_the_commit_with_40001_and_nothing_applies(pair):
    c, _ = pair
    other = c.connect_more()
    try:
        before = snapshot(c)
        c.execute("BEGIN")
        c.execute("MERGE INTO t USING src s ON t.id = s.id "
                  "WHEN MATCHED THEN UPDATE SET id = t.id + 1000 "
                  "WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'n', s.x)")
        other.execute("UPDATE t SET x = 0 WHERE id = 2")   # a row the MERGE moved
        with pytest.raises(rustmemodb.SerializationFailure) as e:
            c.execute("COMMIT")
        assert e.value.sqlstate == "40001"
        after = snapshot(c)
        before["t"] = [(i, g, 0 if i == 2 else x) for i, g, x in before["t"]]
        assert after == before   # the other's change only: none of the MERGE's
        assert_placed(c, "t", ["id"])
    finally:
        other.close()


def test_gathered_writes_inside_a_transaction_roll_back(pair):
    c, _ = pair
    before = snapshot(c)
    c.execute("BEGIN")
    c.execute("WITH d AS (DELETE FROM t RETURNING id, g) INSERT INTO archive SELECT * FROM d")
    assert c.execute("SELECT count(*) FROM archive").fetchone() == (30,)
    c.execute("MERGE INTO t USING src s ON t.id = s.id "
              "WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'n', s.x)")
    assert c.execute("SELECT count(*) FROM t").fetchone() == (5,)
    c.execute("ROLLBACK")
    assert snapshot(c) == before


def test_replicated_target_keeps_equal_copies():
    c = cluster.connect("local", shards=3)
    single = rustmemodb.connect()
    try:
        for sql in ["CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT) REPLICATED",
                    "INSERT INTO r SELECT n, 'v' || n FROM generate_series(1, 12) n",
                    "INSERT INTO r VALUES (50, 'v1')"]:
            c.execute(sql)
            single.execute(sql.replace(" REPLICATED", ""))
        same(c, single, "MERGE INTO r USING (VALUES (1, 'a'), (2, NULL), (99, 'z')) s(id, v) "
                        "ON r.id = s.id WHEN MATCHED AND s.v IS NULL THEN DELETE "
                        "WHEN MATCHED THEN UPDATE SET v = s.v, id = r.id + 200 "
                        "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v)")
        copies = [sorted(h.branches["main"].head.tables["r"].to_arrow().to_pylist(),
                         key=lambda r: r["id"]) for h in c.cluster.backend.hosts]
        assert copies[0] == copies[1] == copies[2]
        assert table_rows(c, "r") == table_rows(single, "r")
    finally:
        c.close()


def test_foreign_keys_are_checked_over_the_gathered_rows():
    c = cluster.connect("local", shards=3)
    try:
        c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
        c.execute("CREATE TABLE ch (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id))")
        c.execute("INSERT INTO p VALUES (1), (2), (3)")
        c.execute("INSERT INTO ch VALUES (10, 1), (11, 2)")
        with pytest.raises(rustmemodb.IntegrityError) as e:
            c.execute("WITH d AS (DELETE FROM p WHERE id < 3 RETURNING id) SELECT count(*) FROM d")
        assert e.value.sqlstate == "23503"
        assert c.execute("SELECT count(*) FROM p").fetchone() == (3,)
        got = c.execute("WITH d AS (DELETE FROM p WHERE id = 3 RETURNING id) SELECT * FROM d")
        assert got.fetchall() == [(3,)]
        assert c.execute("SELECT id FROM p ORDER BY id").fetchall() == [(1,), (2,)]
    finally:
        c.close()


def test_parameters_are_written_in(pair):
    c, single = pair
    sql = "MERGE INTO t USING (SELECT CAST(? AS INTEGER) AS id, CAST(? AS INTEGER) AS x) s ON t.id = s.id " \
          "WHEN MATCHED THEN UPDATE SET x = s.x WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'p', s.x)"
    for params in ([3, 33], [300, 1]):
        c.execute(sql, params)
        single.execute(sql, params)
    assert table_rows(c, "t") == table_rows(single, "t")


def test_privileges_are_checked_before_anything_runs(pair):
    c, _ = pair
    before = snapshot(c)
    c.execute("CREATE ROLE reader")
    c.execute("GRANT SELECT ON t, src, archive TO reader")
    c.execute("SET ROLE reader")
    for sql in ["MERGE INTO t USING src s ON t.id = s.id WHEN MATCHED THEN DELETE",
                "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d",
                "UPDATE t SET id = t.id + 100 FROM src s WHERE t.id = s.id"]:
        with pytest.raises(rustmemodb.Error) as e:
            c.execute(sql)
        assert e.value.sqlstate == "42501", sql
    c.execute("RESET ROLE")
    assert snapshot(c) == before


def test_explain_names_the_gathered_write_and_analyze_runs_it(pair):
    c, single = pair
    sql = "MERGE INTO t USING src s ON t.id = s.id WHEN MATCHED THEN DELETE"
    plan = [r[0] for r in c.execute("EXPLAIN " + sql).fetchall()]
    assert plan[0].startswith("Distributed plan: gathered write")
    assert "gather the rows of t, src the statement can touch" in plan[2]
    assert c.execute("SELECT count(*) FROM t").fetchone() == (30,)   # not run
    plan = [r[0] for r in c.execute("EXPLAIN ANALYZE " + sql).fetchall()]
    assert plan[-1].startswith("Execution: 3 rows")
    assert plan[-1].endswith("narrowed: {'t': '5 keys'}")
    single.execute(sql)
    assert table_rows(c, "t") == table_rows(single, "t")


def test_replicated_keyless_rows_with_duplicates_and_json():
    c = cluster.connect("local", shards=3)
    single = rustmemodb.connect()
    try:
        for sql in ["CREATE TABLE r (a INTEGER, doc JSONB, f FLOAT) REPLICATED",
                    "INSERT INTO r VALUES (1, '{\"k\": [1, 2]}', CAST('NaN' AS FLOAT)), "
                    "(1, '{\"k\": [1, 2]}', CAST('NaN' AS FLOAT)), "
                    "(2, '{\"k\": 3}', 0.5), (3, NULL, NULL)"]:
            c.execute(sql)
            single.execute(sql.replace(" REPLICATED", ""))
        same(c, single, "WITH u AS (UPDATE r SET f = 1.5 WHERE a = 1 RETURNING a, f) "
                        "SELECT count(*), sum(f) FROM u")
        same(c, single, "MERGE INTO r USING (VALUES (2, 20), (3, 30), (9, 90)) s(a, b) "
                        "ON r.a = s.a WHEN MATCHED AND s.a = 2 THEN DELETE "
                        "WHEN MATCHED THEN UPDATE SET a = s.b "
                        "WHEN NOT MATCHED THEN INSERT VALUES (s.a, CAST('{}' AS JSONB), 2.0)")
        copies = [sorted(map(str, h.branches["main"].head.tables["r"].to_arrow().to_pylist()))
                  for h in c.cluster.backend.hosts]
        assert copies[0] == copies[1] == copies[2] and len(copies[0]) == 4
        q = "SELECT a, CAST(doc AS TEXT), f FROM r ORDER BY a, f"
        assert c.execute(q).fetchall() == single.execute(q).fetchall()
    finally:
        c.close()


# ---- narrowed gathers: only the rows a statement can touch reach the coordinator ----

def _big_pair(rows=3000):
    c = cluster.connect("local", shards=3)
    single = rustmemodb.connect()
    for sql in ["CREATE TABLE big (id INTEGER PRIMARY KEY, g TEXT, x INTEGER)",
                f"INSERT INTO big SELECT n, 'g' || (n % 7), n FROM generate_series(1, {rows}) n",
                "CREATE TABLE s2 (id INTEGER, x INTEGER, tag TEXT)",
                "INSERT INTO s2 SELECT n * 37 % 4000, n, chr(97 + n % 3) "
                "FROM generate_series(1, 40) n",
                "INSERT INTO s2 VALUES (NULL, 5, 'a')",
                "CREATE TABLE log (id INTEGER, g TEXT)"]:
        c.execute(sql)
        single.execute(sql)
    return c, single


def _shipped(c, sql):
    before = c.cluster.bytes_shipped
    got = c.execute(sql)
    return got, c.cluster.bytes_shipped - before


def _whole(c, table):
    return sum(len(h.scan(c.sid, table, True)[3]) for h in c.cluster.backend.hosts)


@pytest.mark.parametrize("sql", [
    "MERGE INTO big USING s2 s ON big.id = s.id "
    "WHEN MATCHED AND s.tag = 'a' THEN DELETE "
    "WHEN MATCHED THEN UPDATE SET x = big.x + s.x, g = s.tag "
    "WHEN NOT MATCHED AND s.id IS NOT NULL THEN INSERT VALUES (s.id, s.tag, s.x)",
    # a source reading the target itself, computed first over the cluster
    "MERGE INTO big AS b USING (SELECT id + 1 AS id, x FROM big WHERE id % 500 = 0) AS s "
    "ON b.id = s.id WHEN MATCHED THEN UPDATE SET x = -s.x",
    # two key columns, one an expression of the source; a key move
    "MERGE INTO big USING (SELECT id, tag FROM s2) s(k, t) ON s.k + 1 = big.id AND big.g = "
    "'g' || ((s.k + 1) % 7) WHEN MATCHED THEN UPDATE SET id = big.id + 100000",
    "UPDATE big SET id = id + 50000 WHERE id BETWEEN 100 AND 120 RETURNING id, x",
    "WITH d AS (DELETE FROM big WHERE x % 1000 = 3 RETURNING id, g) "
    "INSERT INTO log SELECT * FROM d RETURNING *",
    "INSERT INTO big VALUES (5, 'u', 1), (6000, 'u', 2) "
    "ON CONFLICT (id) DO UPDATE SET id = big.id + 70000 RETURNING id, g",
    # a source reading cluster tables (the target too), computed first over the cluster
    "INSERT INTO big SELECT s.id, s.tag, s.x + (SELECT count(*) FROM big) FROM s2 s "
    "WHERE s.id IS NOT NULL ON CONFLICT (id) DO UPDATE SET id = big.id + 90000, "
    "x = excluded.x RETURNING id, x",
    # UPDATE ... FROM with no term on the target's own columns: a semi-join on the keys
    # of the source, computed first over the cluster
    "UPDATE big SET id = big.id + 100000 FROM s2 s WHERE big.id = s.id",
    "UPDATE big SET id = big.id + 100000, g = s.tag FROM s2 s WHERE s.id = big.id "
    "AND s.x > 10 RETURNING big.id, s.tag",
    "UPDATE big SET id = big.id + 100000 FROM (SELECT id + 1 AS id, x FROM big "
    "WHERE id % 500 = 0) s WHERE big.id = s.id RETURNING big.id, s.x",
    "UPDATE big b SET id = b.id + 100000 FROM (SELECT id, tag FROM s2) s(k, t) "
    "WHERE s.k + 1 = b.id AND b.g = 'g' || ((s.k + 1) % 7) AND s.t <> 'c' RETURNING b.id, s.t",
    "UPDATE big SET id = big.id + 100000 FROM (VALUES (3, 'q'), (9, 'r'), (NULL, 's')) "
    "v(k, w) WHERE big.id = v.k AND big.x > 4 RETURNING *",
    "UPDATE big SET id = big.id + 100000 FROM s2 WHERE big.id = s2.id AND big.x % 2 = 0 "
    "RETURNING big.id",
    # UPDATE ... FROM a join, DELETE ... USING (in a data-modifying WITH): the keys of the
    # joined sources computed first over the cluster, as for one source
    "UPDATE big SET id = big.id + 100000 FROM s2 s JOIN (VALUES ('a'), ('b')) v(tag) "
    "ON v.tag = s.tag WHERE big.id = s.id RETURNING big.id, v.tag",
    "UPDATE big b SET id = b.id + 100000 FROM s2 s, s2 t2 WHERE b.id = s.id + 1 "
    "AND t2.x = s.x + 1 AND t2.tag = 'b' AND b.x > 3",
    "WITH d AS (DELETE FROM big USING s2 s WHERE big.id = s.id AND s.tag <> 'c' "
    "RETURNING big.id, big.g) INSERT INTO log SELECT * FROM d RETURNING *",
    "WITH d AS (DELETE FROM big USING s2 s JOIN s2 t2 ON t2.x = s.x + 1 "
    "WHERE big.id = s.id AND t2.tag = 'a' RETURNING big.id, big.g) "
    "INSERT INTO log SELECT * FROM d",
    "UPDATE big SET id = big.id + 100000 FROM s2 s JOIN log l ON l.id = s.id "
    "WHERE big.id = s.id",
])
def test_narrowed_gathers_match_the_single_engine_and_ship_little(sql):
    c, single = _big_pair()
    try:
        whole = _whole(c, "big")
        got, shipped = _shipped(c, sql)
        want = single.execute(sql)
        assert (got.rowcount, sorted(got.fetchall() if got.description else [])) == \
            (want.rowcount, sorted(want.fetchall() if want.description else []))
        assert "big" in c.last_plan["narrowed"], c.last_plan
        assert shipped < whole / 5, (shipped, whole)
        for name in ("big", "log"):
            assert table_rows(c, name) == table_rows(single, name)
        assert_placed(c, "big", ["id"])
    finally:
        c.close()


def test_narrowed_gathers_still_find_conflicts_with_rows_not_gathered():
    c, single = _big_pair()
    try:
        before = table_rows(c, "big")
        for sql in ["MERGE INTO big USING (VALUES (10, 1)) s(id, d) ON big.id = s.id "
                    "WHEN MATCHED THEN UPDATE SET id = big.id + s.d",     # onto 11
                    "MERGE INTO big USING (VALUES (9000, 1)) s(id, d) ON big.id = s.id "
                    "WHEN NOT MATCHED THEN INSERT VALUES (s.id - 8000, 'n', 0)",   # 1000
                    "UPDATE big SET id = id + 1 WHERE id = 20 RETURNING id",
                    "WITH i AS (INSERT INTO big VALUES (30, 'd', 0) RETURNING id) "
                    "SELECT * FROM i",
                    "INSERT INTO big VALUES (40, 'u', 1) ON CONFLICT (id) DO UPDATE SET id = 41",
                    "UPDATE big SET id = big.id + 1 FROM (VALUES (50)) s(k) "
                    "WHERE big.id = s.k RETURNING big.id",                  # onto 51
                    "UPDATE big SET id = big.id + s.x FROM s2 s WHERE big.id = s.id "
                    "AND s.x = 1"]:                                        # 37 onto 38
            with pytest.raises(rustmemodb.IntegrityError) as e:
                c.execute(sql)
            assert e.value.sqlstate == "23505", sql
            with pytest.raises(rustmemodb.IntegrityError):
                single.execute(sql)
        assert table_rows(c, "big") == before
    finally:
        c.close()


def test_a_table_read_elsewhere_in_the_statement_is_gathered_whole():
    c, single = _big_pair(300)
    try:
        sql = ("MERGE INTO big USING s2 s ON big.id = s.id WHEN MATCHED THEN "
               "UPDATE SET x = (SELECT max(x) FROM big)")
        same(c, single, sql)
        assert "big" not in c.last_plan["narrowed"]
        assert table_rows(c, "big") == table_rows(single, "big")
    finally:
        c.close()


@pytest.mark.parametrize("sql", [
    # no equality of a target column with the source: every row may match
    "UPDATE big SET id = big.id + 100000 FROM s2 s WHERE big.id < s.id AND s.x = 3",
    "UPDATE big SET id = big.id + 100000 FROM s2 s JOIN log l ON l.id = s.id "
    "WHERE big.id < s.id",
    # a source reading a WITH query (not a query of its own over the cluster)
    "WITH w AS (SELECT id FROM s2) , d AS (DELETE FROM big USING w WHERE big.id = w.id "
    "RETURNING big.id, big.g) INSERT INTO log SELECT * FROM d",
])
def test_update_from_without_usable_keys_gathers_the_target_whole(sql):
    c, single = _big_pair(300)
    try:
        same(c, single, sql)
        assert "big" not in c.last_plan["narrowed"], c.last_plan
        assert table_rows(c, "big") == table_rows(single, "big")
        assert_placed(c, "big", ["id"])
    finally:
        c.close()


def test_explain_analyze_of_a_key_update_from_shows_the_narrowed_gather():
    import re
    c, single = _big_pair()
    try:
        whole = _whole(c, "big")
        sql = "UPDATE big SET id = big.id + 100000 FROM s2 s WHERE big.id = s.id"
        plan = [r[0] for r in c.execute("EXPLAIN " + sql).fetchall()]
        assert plan[0].startswith("Distributed plan: gathered write")
        assert table_rows(c, "big") == table_rows(single, "big")   # not run
        plan = [r[0] for r in c.execute("EXPLAIN ANALYZE " + sql).fetchall()]
        single.execute(sql)
        assert plan[-1].startswith("Execution: 40 rows")
        assert plan[-1].endswith("narrowed: {'big': '41 keys'}")
        shipped = int(re.search(r"(\d+) bytes shipped", plan[-1]).group(1))
        assert shipped < whole / 5, (shipped, whole)
        assert table_rows(c, "big") == table_rows(single, "big")
        assert_placed(c, "big", ["id"])
    finally:
        c.close()


@pytest.mark.parametrize("ddl", [
    "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT, f FLOAT)",
    "CREATE TABLE r (id INTEGER, v TEXT, f FLOAT)",      # keyless: found by a column
])
def test_a_replicated_targets_copies_are_changed_without_reading_them_whole(ddl):
    c = cluster.connect("local", shards=3)
    single = rustmemodb.connect()
    try:
        for sql in [ddl + " REPLICATED",
                    "INSERT INTO r SELECT n, 'v' || (n % 9), CAST('NaN' AS FLOAT) "
                    "FROM generate_series(1, 3000) n"]:
            c.execute(sql)
            single.execute(sql.replace(" REPLICATED", ""))
        whole = len(c.cluster.backend.hosts[0].scan(c.sid, "r", True)[3])
        for sql in ["MERGE INTO r USING (VALUES (1, 'a'), (2, NULL), (9999, 'z')) s(id, v) "
                    "ON r.id = s.id WHEN MATCHED AND s.v IS NULL THEN DELETE "
                    "WHEN MATCHED THEN UPDATE SET v = s.v, id = r.id + 5000 "
                    "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, 1.5)",
                    "WITH d AS (DELETE FROM r WHERE id BETWEEN 10 AND 12 RETURNING *) "
                    "SELECT count(*) FROM d"]:
            got, shipped = _shipped(c, sql)
            want = single.execute(sql)
            assert got.rowcount == want.rowcount, sql
            if want.description:
                assert sorted(got.fetchall()) == sorted(want.fetchall()), sql
            assert "r" in c.last_plan["narrowed"], c.last_plan
            assert shipped < whole / 5, (sql, shipped, whole)
        copies = [sorted(map(str, h.branches["main"].head.tables["r"].to_arrow().to_pylist()))
                  for h in c.cluster.backend.hosts]
        assert copies[0] == copies[1] == copies[2]
        assert [tuple(map(str, r)) for r in table_rows(c, "r")] == \
            [tuple(map(str, r)) for r in table_rows(single, "r")]   # (NaN: as text)
    finally:
        c.close()
