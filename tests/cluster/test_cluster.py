"""rustmemodb.cluster on in-process shards: placement, routing, split plans, forks at one
cut, two-phase commit with a shard failing between prepare and commit, dead workers."""
from __future__ import annotations

import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb import cluster


@pytest.fixture
def conn():
    c = cluster.connect("local", shards=3)
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x FLOAT)")
    c.executemany("INSERT INTO t VALUES (?, ?, ?)",
                  [(i, "abcd"[i % 4], float(i % 17)) for i in range(200)])
    yield c
    c.close()


def rows_on_shards(c, table="t"):
    return [h.branches[c.branch].row_count(table) for h in c.cluster.backend.hosts]


def test_rows_are_spread_by_the_primary_key(conn):
    counts = rows_on_shards(conn)
    assert sum(counts) == 200 and all(n > 40 for n in counts)
    assert conn.catalog["t"].key == ["id"]


def test_aggregates_match_the_single_engine(conn):
    single = rustmemodb.connect()
    single.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x FLOAT)")
    single.executemany("INSERT INTO t VALUES (?, ?, ?)",
                       [(i, "abcd"[i % 4], float(i % 17)) for i in range(200)])
    for q in ["SELECT g, count(*), sum(x), avg(x), min(x), max(x), count(DISTINCT x) "
              "FROM t GROUP BY g ORDER BY g",
              "SELECT var_pop(x), var_samp(x) FROM t",
              "SELECT g, avg(x) AS a FROM t WHERE id > 20 GROUP BY g HAVING count(*) > 10 "
              "ORDER BY a DESC, g LIMIT 2",
              "SELECT id, x FROM t ORDER BY x DESC, id LIMIT 5 OFFSET 3"]:
        got = conn.execute(q).fetchall()
        want = single.execute(q).fetchall()
        assert len(got) == len(want)
        for a, b in zip(got, want):
            for u, v in zip(a, b):
                assert u == (pytest.approx(v, rel=1e-12) if isinstance(v, float) else v), q
        assert conn.last_plan["strategy"] == "split", q
    assert conn.execute("SELECT stddev(x) FROM t").fetchone()[0] == pytest.approx(
        single.execute("SELECT stddev(x) FROM t").fetchone()[0], rel=1e-12)


def test_partials_are_small_not_the_table(conn):
    conn.execute("SELECT g, sum(x) FROM t GROUP BY g").fetchall()
    assert conn.last_plan["partial_rows"] == [4, 4, 4]   # one row per group and shard
    conn.execute("SELECT id FROM t ORDER BY x DESC LIMIT 3").fetchall()
    assert conn.last_plan["kind"] == "top-k"


def test_point_statements_go_to_one_shard(conn):
    assert conn.execute("SELECT g FROM t WHERE id = 42").fetchall() == [("c",)]
    assert conn.last_plan["strategy"] == "routed"
    assert conn.execute("SELECT g FROM t WHERE id = ?", [43]).fetchall() == [("d",)]
    assert conn.last_plan["strategy"] == "routed"
    assert conn.execute("UPDATE t SET x = -1 WHERE id = 42").rowcount == 1
    assert conn.execute("SELECT x FROM t WHERE id = 42").fetchone() == (-1.0,)


def test_partition_by_hash_and_replicated_clauses():
    c = cluster.connect("local", shards=2)
    try:
        c.execute("CREATE TABLE e (id INTEGER, dept INTEGER, v FLOAT) PARTITION BY HASH (dept)")
        c.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, name TEXT) REPLICATED")
        assert c.catalog["e"].key == ["dept"] and c.catalog["d"].replicated
        c.execute("INSERT INTO d VALUES (1, 'eng'), (2, 'ops')")
        c.execute("INSERT INTO e VALUES (1, 1, 10), (2, 1, 20), (3, 2, 5)")
        assert rows_on_shards(c, "d") == [2, 2]
        counts = rows_on_shards(c, "e")
        assert sorted(counts) in ([0, 3], [1, 2])   # all of a dept on one shard
        got = c.execute("SELECT d.name, sum(e.v) FROM e JOIN d ON e.dept = d.id "
                        "GROUP BY d.name ORDER BY 1").fetchall()
        assert got == [("eng", 30.0), ("ops", 5.0)]
        assert c.last_plan["strategy"] == "split"   # the join with d stays local
        with pytest.raises(rustmemodb.NotSupportedError) as e:
            c.execute("CREATE TABLE bad (id INTEGER PRIMARY KEY, k INTEGER) "
                      "PARTITION BY HASH (k)")
        assert e.value.sqlstate == "0A000"
    finally:
        c.close()


def test_unique_violation_and_atomic_multi_shard_insert(conn):
    with pytest.raises(rustmemodb.IntegrityError) as e:
        conn.execute("INSERT INTO t VALUES (1000, 'z', 0), (1001, 'z', 0), (5, 'dup', 0)")
    assert e.value.sqlstate == "23505"
    assert conn.execute("SELECT count(*) FROM t WHERE g = 'z'").fetchone() == (0,)


def test_update_of_the_key_moves_the_row(conn):
    conn.execute("UPDATE t SET id = id + 1000 WHERE id < 10")
    assert conn.execute("SELECT count(*) FROM t WHERE id >= 1000").fetchone() == (10,)
    assert conn.execute("SELECT g FROM t WHERE id = 1003").fetchone() == ("d",)
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("UPDATE t SET id = 50 WHERE id = 51")


def test_transaction_spanning_shards_commits_or_rolls_back_whole(conn):
    conn.execute("BEGIN")
    conn.execute("DELETE FROM t WHERE id < 100")
    conn.execute("INSERT INTO t VALUES (500, 'n', 1), (501, 'n', 2), (502, 'n', 3)")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (103,)
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (200,)
    conn.execute("BEGIN")
    conn.execute("DELETE FROM t WHERE id < 100")
    conn.execute("COMMIT")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (100,)


def test_write_conflict_across_connections_is_40001(conn):
    other = conn.connect_more()
    conn.execute("BEGIN")
    other.execute("BEGIN")
    conn.execute("UPDATE t SET x = 1 WHERE id IN (150, 151, 152)")
    other.execute("UPDATE t SET x = 2 WHERE id IN (150, 151, 152)")
    conn.execute("COMMIT")
    with pytest.raises(rustmemodb.SerializationFailure) as e:
        other.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert conn.execute("SELECT DISTINCT x FROM t WHERE id IN (150, 151, 152)").fetchall() \
        == [(1.0,)]
    other.close()


def test_shard_failing_between_prepare_and_commit_is_in_doubt_then_recovered(conn):
    hosts = conn.cluster.backend.hosts
    ids = [i for i in range(300, 330)]
    hosts[1].fail_next_commit()
    with pytest.raises(rustmemodb.OperationalError) as e:
        conn.executemany("INSERT INTO t VALUES (?, 'p', 0)", [(i,) for i in ids])
    assert e.value.sqlstate == "08006" and "doubt" in e.value.message
    assert conn.cluster.in_doubt and conn.cluster.in_doubt[0][1] == 1
    seen = conn.connect_more().execute("SELECT count(*) FROM t WHERE g = 'p'").fetchone()[0]
    assert 0 < seen < 30   # shards 0 and 2 committed, shard 1 is prepared
    assert conn.recover() == []
    assert conn.execute("SELECT count(*) FROM t WHERE g = 'p'").fetchone() == (30,)
    conn.execute("INSERT INTO t VALUES (900, 'after', 0), (901, 'after', 0)")   # gates free
    assert conn.execute("SELECT count(*) FROM t WHERE g = 'after'").fetchone() == (2,)


def test_prepare_refused_rolls_back_every_shard(conn):
    other = conn.connect_more()
    conn.execute("BEGIN")
    conn.execute("UPDATE t SET x = 77")         # every shard written
    other.execute("UPDATE t SET x = 8 WHERE id = 199")   # commits first on one shard
    with pytest.raises(rustmemodb.SerializationFailure):
        conn.execute("COMMIT")
    assert conn.execute("SELECT count(*) FROM t WHERE x = 77").fetchone() == (0,)
    other.close()


def test_dead_worker_is_a_clear_08_error_not_a_hang(conn):
    conn.cluster.backend.kill(2)
    with pytest.raises(rustmemodb.OperationalError) as e:
        conn.execute("SELECT count(*) FROM t")
    assert e.value.sqlstate == "08006"
    conn.cluster.backend.revive(2)


def test_fork_is_isolated_and_taken_at_one_cut(conn):
    fork = conn.fork()
    conn.execute("DELETE FROM t WHERE id < 50")
    fork.execute("UPDATE t SET g = 'forked' WHERE id >= 190")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (150,)
    assert fork.execute("SELECT count(*) FROM t").fetchone() == (200,)
    assert conn.execute("SELECT count(*) FROM t WHERE g = 'forked'").fetchone() == (0,)
    assert fork.execute("SELECT count(*) FROM t WHERE g = 'forked'").fetchone() == (10,)
    diff = fork.diff(conn, "t")
    counts = {c: diff.column("_change").to_pylist().count(c) for c in ("added", "removed",
                                                                         "changed")}
    assert counts == {"added": 0, "removed": 50, "changed": 10}   # fork -> main
    fork.close()


def test_fork_waits_for_a_prepared_commit(conn):
    # The barrier takes every shard's commit gate: a fork never sees half a commit.
    conn.cluster.backend.hosts[0].fail_next_commit()
    with pytest.raises(rustmemodb.OperationalError):
        conn.execute("UPDATE t SET x = 99")
    backend = conn.cluster.backend
    import rustmemodb.cluster.shard as shard_mod
    old = shard_mod.GATE_TIMEOUT
    shard_mod.GATE_TIMEOUT = 0.2
    try:
        with pytest.raises(rustmemodb.Error):
            conn.fork()             # shard 0 still holds the prepared transaction
    finally:
        shard_mod.GATE_TIMEOUT = old
    conn.recover()
    fork = conn.fork()
    assert fork.execute("SELECT count(*) FROM t WHERE x = 99").fetchone() == (200,)
    assert backend.hosts[0]._gate.acquire(blocking=False)
    backend.hosts[0]._gate.release()
    fork.close()


def test_explain_shows_the_distributed_plan(conn):
    lines = [r[0] for r in conn.execute(
        "EXPLAIN SELECT g, avg(x) FROM t GROUP BY g").fetchall()]
    text = "\n".join(lines)
    assert "split" in lines[0] and "Merge on coordinator" in text
    assert "Partial on each shard" in text and "Exchange" in text
    assert "HashAggregate" in text   # shard 0's own plan of the partial
    analyzed = [r[0] for r in conn.execute(
        "EXPLAIN ANALYZE SELECT g, avg(x) FROM t GROUP BY g").fetchall()]
    assert any("bytes shipped" in ln for ln in analyzed)
    assert any(ln.strip().startswith("shard 2:") and "ms of work" in ln for ln in analyzed)
    routed = [r[0] for r in conn.execute("EXPLAIN SELECT * FROM t WHERE id = 3").fetchall()]
    assert "routed" in routed[0]


def test_load_arrow_routes_rows(conn):
    data = pa.table({"id": pa.array(range(1000, 1600)), "g": pa.array(["q"] * 600),
                     "x": pa.array([0.5] * 600)})
    assert conn.load_arrow("t", data) == 600
    assert conn.execute("SELECT count(*), sum(x) FROM t WHERE g = 'q'").fetchone() == (600, 300.0)
    with pytest.raises(rustmemodb.IntegrityError):
        conn.load_arrow("t", data.slice(0, 5))


def test_errors_come_from_the_engine_before_any_shard(conn):
    with pytest.raises(rustmemodb.ProgrammingError) as e:
        conn.execute("SELECT nope FROM t")
    assert e.value.sqlstate == "42703"
    with pytest.raises(rustmemodb.ProgrammingError) as e:
        conn.execute("SELEC 1")
    assert e.value.sqlstate == "42601"


def _pair(n_a=600, n_b=500, **kw):
    c = cluster.connect("local", shards=3, **kw)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT)")
        x.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, g INTEGER, name TEXT)")
        x.executemany("INSERT INTO a VALUES (?, ?, ?)",
                      [(i, i % 13, i * 0.5) for i in range(n_a)])
        x.executemany("INSERT INTO b VALUES (?, ?, ?)",
                      [(i, i % 17, f"n{i % 5}") for i in range(n_b)])
    return c, s


def test_join_off_the_partition_key_repartitions_both_sides():
    c, s = _pair()
    try:
        for q in ["SELECT a.g, count(*), sum(v) FROM a JOIN b ON a.g = b.g GROUP BY a.g "
                  "ORDER BY a.g",
                  "SELECT b.name, count(*), avg(v) FROM a JOIN b ON a.g = b.g WHERE v > 10 "
                  "GROUP BY b.name ORDER BY 1",
                  "SELECT a.id, b.id FROM a LEFT JOIN b ON a.g = b.g WHERE a.id < 20 "
                  "ORDER BY 1, 2",
                  "SELECT count(*), count(a.id), count(b.id) FROM a FULL JOIN b ON a.g = b.id",
                  "SELECT a.id, b.name FROM a, b WHERE a.g = b.g AND b.id < 30 "
                  "ORDER BY 1, 2 LIMIT 7",
                  "SELECT * FROM a JOIN b ON a.g = b.g WHERE a.id < 9 ORDER BY a.id, b.id"]:
            before = c.cluster.bytes_shipped
            assert c.execute(q).fetchall() == s.execute(q).fetchall(), q
            plan = c.last_plan
            assert plan["strategy"] == "shuffle", q
            moved = ["a"] if "= b.id" in q else ["a", "b"]   # b.id: b is placed by it
            assert [t for t, _, _ in plan["exchanges"]] == moved, q
            # Each side moves only the rows whose key hashes to another shard, never a
            # whole table to one place (rows: all but this shard's share).
            assert 0 < plan["shuffled_bytes"] <= c.cluster.bytes_shipped - before
        q = "SELECT b.name, count(*), sum(a.v) FROM a JOIN b ON a.id = b.g GROUP BY 1 ORDER BY 1"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        plan = c.last_plan   # a is placed by id already: only b moves
        assert plan["in_place"] == ["a"] and [t for t, _, _ in plan["exchanges"]] == ["b"]
        c.execute("SELECT a.id FROM a JOIN b ON a.g = b.g WHERE a.v < 3").fetchall()
        scans = [scan for _, _, scan in c.last_plan["exchanges"]]
        assert "WHERE" in scans[0] and '"name"' not in scans[1]   # pushdown, pruning
        text = "\n".join(r[0] for r in c.execute(
            "EXPLAIN ANALYZE SELECT b.name, count(*) FROM a JOIN b ON a.g = b.g "
            "GROUP BY b.name").fetchall())
        assert "Exchange: repartition a by hash(g)" in text
        assert "bytes shipped between shards" in text
    finally:
        c.close()


def test_small_side_is_broadcast_instead():
    c, s = _pair(n_b=20)
    try:
        q = "SELECT a.g, count(*) FROM a JOIN b ON a.g = b.g GROUP BY a.g ORDER BY 1"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        assert c.last_plan["strategy"] == "broadcast"
    finally:
        c.close()


def test_big_grouped_partials_merge_on_the_shards():
    c, s = _pair(shuffle_rows=50)
    try:
        for q in ["SELECT id % 200 AS k, count(*), avg(v), stddev(v), count(DISTINCT g) "
                  "FROM a GROUP BY 1 HAVING count(*) > 2 ORDER BY 4 DESC, 1 LIMIT 5",
                  "SELECT g, id % 100, sum(v) FROM a GROUP BY 1, 2 ORDER BY 1, 2"]:
            got, want = c.execute(q).fetchall(), s.execute(q).fetchall()
            assert len(got) == len(want)
            for x, y in zip(got, want):
                assert x == pytest.approx(y, rel=1e-12), q
            plan = c.last_plan
            assert plan["repartitioned"] == ["k0"] or plan["repartitioned"] == ["k0", "k1"]
            assert sum(plan["merge_rows"]) >= 5
        c.execute("SELECT g, sum(v) FROM a GROUP BY g").fetchall()
        assert "repartitioned" not in c.last_plan   # 13 groups: merged on the coordinator
    finally:
        c.close()


def test_relation_sizes_are_the_sums_over_the_shards(conn):
    got = conn.execute("SELECT pg_table_size('t'::regclass), "
                       "pg_size_pretty(pg_total_relation_size('t'::regclass))").fetchone()
    per_shard = [h.sessions[conn.sid].execute("SELECT pg_table_size('t'::regclass)")
                 .fetchone()[0] for h in conn.cluster.backend.hosts]
    assert all(n > 0 for n in per_shard) and got[0] == sum(per_shard)
    assert got[1].endswith(("bytes", "kB", "MB"))


def test_serial_numbers_come_from_the_coordinator_once():
    """A SERIAL column's numbers are drawn on the coordinator: rows inserted together
    land on different shards but never share a number (each shard drawing its own gave
    1, 1, 1), and nextval / setval continue the same sequence."""
    c = cluster.connect(backend="local", shards=3)
    c.execute("CREATE TABLE s (id serial PRIMARY KEY, v text)")
    assert c.execute("INSERT INTO s (v) VALUES ('a') RETURNING id").fetchall() == [(1,)]
    assert c.execute("INSERT INTO s (v) VALUES ('c'), ('d'), ('e') RETURNING id"
                     ).fetchall() == [(2,), (3,), (4,)]
    c.executemany("INSERT INTO s (v) VALUES (?)", [("f",), ("g",)])
    c.execute("INSERT INTO s (v) SELECT 'x' || n FROM generate_series(1, 5) n")
    ids = [r[0] for r in c.execute("SELECT id FROM s ORDER BY id").fetchall()]
    assert ids == list(range(1, 12))
    assert len([s for s in range(3) if rows_on_shards(c, "s")[s]]) > 1
    assert c.execute("SELECT nextval('s_id_seq')").fetchall() == [(12,)]
    c.execute("SELECT setval('s_id_seq', 100)")
    assert c.execute("INSERT INTO s (v) VALUES ('h') RETURNING id").fetchall() == [(101,)]


def test_delete_by_key_writes_only_its_shard():
    from rustmemodb.cluster.partition import shard_of_key
    c = cluster.connect("local", shards=3)
    try:
        c.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)")
        c.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 30) AS s(g)")
        c.execute("BEGIN")
        assert c.execute("DELETE FROM t WHERE k = 7").rowcount == 1
        assert c.written == {shard_of_key((7,), 3)}   # not a broadcast to every shard
        c.execute("COMMIT")
        assert c.execute("SELECT count(*) FROM t").fetchone() == (29,)
    finally:
        c.close()


@pytest.mark.parametrize("sql", [
    "WITH x AS (SELECT k FROM t) INSERT INTO o SELECT k, 1 FROM x",
    "WITH x AS (SELECT k, v FROM t WHERE v > 2) INSERT INTO o SELECT k + 100, v FROM x",
    "WITH x AS (SELECT max(k) AS a FROM t) INSERT INTO t VALUES ((SELECT a FROM x) + 1, 9)",
])
def test_with_insert_reads_the_whole_cluster(sql):
    """WITH ... INSERT: the CTEs read every shard's rows (sqlglot 30 keeps the WITH as
    ``with_``: it was run on one shard's rows, or over the empty schema mirror)."""
    c = cluster.connect("local", shards=3)
    single = rustmemodb.connect()
    try:
        for stmt in ["CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)",
                     "CREATE TABLE o (k INTEGER PRIMARY KEY, v INTEGER)",
                     "INSERT INTO t SELECT g, g % 5 FROM generate_series(1, 30) AS s(g)"]:
            c.execute(stmt)
            single.execute(stmt)
        assert c.execute(sql).rowcount == single.execute(sql).rowcount
        for name in ("t", "o"):
            q = f"SELECT * FROM {name} ORDER BY k"
            assert c.execute(q).fetchall() == single.execute(q).fetchall()
    finally:
        c.close()


def test_schemas_are_refused_and_change_nothing(conn):
    for sql in ("CREATE SCHEMA s", "/* c */ drop schema if exists s", "ALTER SCHEMA s OWNER TO x"):
        with pytest.raises(rustmemodb.Error) as e:
            conn.execute(sql)
        assert e.value.sqlstate == "0A000", sql
    assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 's'").fetchone() == (0,)


def test_unique_expression_index_is_enforced_or_refused():
    """A unique index on lower(email) keeps equal keys apart when rows are placed by email:
    with an explicit PARTITION BY HASH it is refused (0A000, as PostgreSQL refuses a
    unique index without the partition columns), without one the table is REPLICATED and
    every shard enforces it; a partial unique index on the partition column works."""
    c = cluster.connect("local", shards=3)
    try:
        c.execute("CREATE TABLE u (id INTEGER, email TEXT, deleted BOOLEAN) "
                  "PARTITION BY HASH (email)")
        with pytest.raises(rustmemodb.NotSupportedError):
            c.execute("CREATE UNIQUE INDEX ul ON u (lower(email))")
        c.execute("CREATE UNIQUE INDEX ue ON u (email) WHERE NOT deleted")
        c.execute("INSERT INTO u VALUES (1, 'a', false), (2, 'a', true), (3, 'b', false)")
        with pytest.raises(rustmemodb.IntegrityError):
            c.execute("INSERT INTO u VALUES (4, 'a', false)")
        c.execute("CREATE TABLE w (id INTEGER PRIMARY KEY, email TEXT)")
        c.execute("INSERT INTO w SELECT g, 'E' || g FROM generate_series(1, 30) g")
        c.execute("CREATE UNIQUE INDEX wl ON w (lower(email))")
        with pytest.raises(rustmemodb.IntegrityError):
            c.execute("INSERT INTO w VALUES (100, 'e7')")
        assert c.execute("SELECT id FROM w WHERE lower(email) = 'e7'").fetchall() == [(7,)]
    finally:
        c.close()


def test_listen_notify_are_refused(conn):
    """A cluster has no channel its sessions share: LISTEN/UNLISTEN/NOTIFY are
    a clear 0A000 (tests/sql/foundation/listen_notify.test is skipped whole for it)."""
    for sql in ("LISTEN jobs", "UNLISTEN *", "NOTIFY jobs, 'x'"):
        with pytest.raises(rustmemodb.Error) as e:
            conn.execute(sql)
        assert e.value.sqlstate == "0A000", sql


def test_shard_ids_agree_with_shard_of_key_for_large_keys_beside_nulls():
    """A key column with NULLs was hashed through numpy's float64 form, which rounds keys
    past 2**53 (a timetz is stored as one): the same key went to another shard than
    where a batch without NULLs sent it, and a repartitioned GROUP BY split its group."""
    from rustmemodb.cluster.partition import shard_ids, shard_of_key
    keys = [12268208128050399, None, -5, 2 ** 62 + 1, 2 ** 53 + 1, 0]
    table = pa.table({"k": pa.array(keys, pa.int64())})
    for shards in (2, 3, 7):
        assert list(shard_ids(table, [0], shards)) == [shard_of_key((k,), shards) for k in keys]
        without_nulls = pa.table({"k": pa.array([k for k in keys if k is not None], pa.int64())})
        assert list(shard_ids(without_nulls, [0], shards)) == [
            shard_of_key((k,), shards) for k in keys if k is not None]


def test_role_survives_a_distributed_write():
    """A write on several shards commits by prepare/commit, after which each shard's
    session goes on in a successor connection: with the same role, so the next
    statement is still checked for it (it was run as the implicit superuser)."""
    c = cluster.connect("local", shards=3)
    try:
        for sql in ("CREATE ROLE cl_r", "CREATE TABLE t (id INTEGER, v INTEGER)",
                    "INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)",
                    "GRANT SELECT, UPDATE ON t TO cl_r", "SET ROLE cl_r",
                    "UPDATE t SET v = v + 1"):
            c.execute(sql)
        with pytest.raises(rustmemodb.Error) as info:
            c.execute("INSERT INTO t VALUES (4, 4)")
        assert info.value.sqlstate == "42501"
        assert c.execute("SELECT current_user").fetchall() == [("cl_r",)]
    finally:
        c.close()
