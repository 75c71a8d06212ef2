"""rustmemodb.cluster on Dask ``distributed`` actors: a 2-worker LocalCluster (one thread
each) hosting 2 shards. Every conformance file (also with every exchange
repartitioned), forks, and worker death."""
from __future__ import annotations

import sys

import pytest

distributed = pytest.importorskip("distributed")

import rustmemodb  # noqa: E402
from rustmemodb import cluster  # noqa: E402

from .conformance import SQL_DIR, ClusterBackend, read_skips, run_on_cluster  # noqa: E402
from .exchange_case import exchange_case  # noqa: E402

# Every conformance file, as on the 3-shard local cluster (test_conformance.py): about
# 60 s for the 95 files on this 2-worker cluster, and 100 s more for the run with every
# exchange repartitioned worker to worker (2-core machine, 2026-12).
FILES = sorted(p.relative_to(SQL_DIR).as_posix() for p in SQL_DIR.rglob("*.test"))


@pytest.fixture(scope="module")
def dask_address():
    # Worker processes are spawned, and spawn reads ``__main__.__spec__``. Earlier tests
    # in the same pytest process start IPython, whose stand-in ``__main__`` module has no
    # such attribute (a real script or kernel has one): give it the value a script has.
    main = sys.modules["__main__"]
    added = not hasattr(main, "__spec__")
    if added:
        main.__spec__ = None
    try:
        yield from _local_cluster()
    finally:
        if added:
            del main.__spec__


def _local_cluster():
    lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40)
    try:
        yield lc.scheduler_address
    finally:
        lc.close()


@pytest.mark.parametrize("rel", FILES)
def test_conformance_on_two_dask_shards(rel, dask_address):
    backend = ClusterBackend("dask", shards=2, address=dask_address)
    report = run_on_cluster(SQL_DIR / rel, backend, read_skips().get(rel, {}))
    if report.failures:
        pytest.fail(report.summary(limit=20), pytrace=False)


@pytest.mark.parametrize("rel", FILES)
def test_conformance_with_every_exchange_repartitioned_on_dask(rel, dask_address):
    backend = ClusterBackend("dask", shards=2, address=dask_address, shuffle="always")
    report = run_on_cluster(SQL_DIR / rel, backend, read_skips().get(rel, {}))
    if report.failures:
        pytest.fail(report.summary(limit=20), pytrace=False)


def test_shards_live_on_different_workers_and_fork(dask_address):
    conn = cluster.connect("dask", shards=2, address=dask_address)
    try:
        b = conn.cluster.backend
        assert b.worker_of(0) != b.worker_of(1)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i / 2) for i in range(100)])
        fork = conn.fork()
        fork.execute("DELETE FROM t WHERE id % 2 = 0")
        assert conn.execute("SELECT count(*), sum(v) FROM t").fetchone() == (100, 2475.0)
        assert fork.execute("SELECT count(*) FROM t").fetchone() == (50,)
        assert conn.cluster.bytes_shipped > 0
        # Repartitioning between the workers: a join off the key, a merge on the shards.
        conn.cluster.always_shuffle, conn.cluster.shuffle_rows = True, 0
        single = rustmemodb.connect()
        single.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT)")
        single.executemany("INSERT INTO t VALUES (?, ?)", [(i, i / 2) for i in range(100)])
        for c in (conn, single):
            c.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, k INTEGER)")
            c.executemany("INSERT INTO u VALUES (?, ?)", [(i, i % 10) for i in range(60)])
        q = "SELECT u.k, count(*), sum(t.v) FROM t JOIN u ON t.id = u.k GROUP BY u.k ORDER BY 1"
        assert conn.execute(q).fetchall() == single.execute(q).fetchall()
        assert conn.last_plan["strategy"] == "shuffle" and conn.last_plan["in_place"] == ["t"]
        q = "SELECT k, count(*) FROM u GROUP BY k ORDER BY k"
        assert conn.execute(q).fetchall() == single.execute(q).fetchall()
        assert conn.last_plan["repartitioned"] == ["k0"]
    finally:
        conn.close()


def test_gathered_writes_and_matviews_on_dask_workers(dask_address):
    """MERGE moving keys between workers, its 23505 changing nothing on either, and a
    materialized view refreshed on both (cluster/gathered.py, cluster/matview.py)."""
    conn = cluster.connect("dask", shards=2, address=dask_address)
    try:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.execute("INSERT INTO t SELECT n, n FROM generate_series(1, 20) n")
        conn.execute("MERGE INTO t USING (SELECT n AS id FROM generate_series(1, 5) n) s "
                     "ON t.id = s.id WHEN MATCHED THEN UPDATE SET id = t.id + 100")
        assert conn.last_plan["shards"] == [0, 1]
        before = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
        assert [r[0] for r in before] == list(range(6, 21)) + list(range(101, 106))
        conn.execute("CREATE TABLE u (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO u SELECT n FROM generate_series(30, 36) n")
        conn.execute("INSERT INTO u VALUES (15)")
        with pytest.raises(rustmemodb.IntegrityError) as e:
            conn.execute("WITH d AS (DELETE FROM u RETURNING id) "
                         "INSERT INTO t SELECT id, 0 FROM d")   # 15 is in t
        assert e.value.sqlstate == "23505"
        assert conn.execute("SELECT * FROM t ORDER BY id").fetchall() == before
        assert conn.execute("SELECT count(*) FROM u").fetchone() == (8,)
        conn.execute("CREATE MATERIALIZED VIEW m AS SELECT v % 2 AS odd, count(*) AS n "
                     "FROM t GROUP BY 1")
        conn.execute("DELETE FROM t WHERE v % 2 = 0")
        conn.execute("REFRESH MATERIALIZED VIEW m")
        assert conn.execute("SELECT * FROM m").fetchall() == [(1, 10)]
    finally:
        conn.close()


def test_exchanges_go_worker_to_worker_with_shards_sharing_a_worker(dask_address):
    # 3 shards on 2 workers: two shards share a worker (one actor thread), so batches
    # go actor to actor across workers and host to host within one.
    conn = cluster.connect("dask", shards=3, address=dask_address, shuffle="always")
    try:
        b = conn.cluster.backend
        assert len({b.worker_of(s) for s in range(3)}) == 2
        through, largest = exchange_case(conn)
        assert largest < 5_000 and through < 20_000   # partials only; a is ~70 KB
    finally:
        conn.close()


def test_what_no_longer_gathers_matches_on_dask(dask_address):
    # Set operations over aggregates and in derived tables, windows over aggregates and
    # with no common PARTITION BY (in stages, worker to worker), a table made REPLICATED,
    # on 3 shards over 2 workers.
    from .test_less_gathered import SET_OPS, STAGED_WINDOWS, WINDOWS, _check, \
        _check_b_made_replicated, _setup, _table_bytes
    c, s = _setup("always", backend="dask", address=dask_address)
    try:
        _check(c, s, [(q, None) for q, _ in SET_OPS + WINDOWS + STAGED_WINDOWS],
               _table_bytes(c, "a"))
        _check_b_made_replicated(c, s)
        q = "INSERT INTO child SELECT g, max(id) FROM b GROUP BY g"
        assert c.execute(q).rowcount == s.execute(q).rowcount
        q = "SELECT * FROM child ORDER BY id"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
    finally:
        c.close()


def test_correlated_subqueries_off_the_key_match_on_dask(dask_address):
    # The outer and inner rows placed by the correlation columns between worker
    # processes (tests/cluster/test_correlated.py), on 3 shards over 2 workers.
    from .test_correlated import CORRELATED, _setup
    from .test_less_gathered import _check, _table_bytes
    c, s = _setup("auto", backend="dask", address=dask_address)
    try:
        _check(c, s, CORRELATED, _table_bytes(c, "l"))
        assert c.last_plan.get("shuffled_bytes", 0) > 0
    finally:
        c.close()


def test_held_ctes_match_on_dask(dask_address):
    # CTEs computed once and held on the shards for their statement
    # (tests/cluster/test_with_queries.py), their rows registered in worker processes.
    from .same_rows import same_rows
    from .test_with_queries import HELD_ON_SHARDS, HELD_RUN_FIRST, _setup
    c, s = _setup(shards=2, backend="dask", address=dask_address)
    try:
        for q in HELD_ON_SHARDS[:2] + HELD_RUN_FIRST[:1] + HELD_RUN_FIRST[2:3]:
            same_rows(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan.get("ctes_held"), q
    finally:
        c.close()


def test_dead_worker_is_08006_not_a_hang():
    lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50)
    try:
        conn = cluster.connect("dask", shards=2, address=lc.scheduler_address, timeout=15)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1), (2), (3), (4)")
        conn.cluster.backend.kill(1)
        with pytest.raises(rustmemodb.OperationalError) as e:
            conn.execute("SELECT count(*) FROM t")
        assert e.value.sqlstate == "08006"
        conn.close()
    finally:
        lc.close()


def test_killed_worker_of_a_durable_shard_restarts_with_its_data(tmp_path):
    lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50)
    try:
        conn = cluster.connect("dask", shards=2, address=lc.scheduler_address, timeout=20,
                               path=tmp_path / "db")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i / 2) for i in range(100)])
        b = conn.cluster.backend
        b.call(1, "fail_next_commit")    # shard 1 prepared, then its worker dies
        with pytest.raises(rustmemodb.OperationalError):
            conn.execute("UPDATE t SET v = v + 1")
        old = b.worker_of(1)
        b.kill(1)
        with pytest.raises(rustmemodb.OperationalError) as e:
            conn.execute("SELECT count(*) FROM t")
        assert e.value.sqlstate == "08006"
        assert conn.restart_shard(1) == []
        assert b.worker_of(1) != old
        assert conn.execute("SELECT count(*), sum(v) FROM t").fetchone() == (100, 2575.0)
        conn.close()
    finally:
        lc.close()


def test_a_script_without_a_main_guard_gets_08001_with_the_fix(tmp_path):
    """Dask spawns its workers by re-running the main script; a script that connects at
    top level cannot start them. The user gets 08001 and a hint naming the fix, not
    Dask's bare "Nanny failed to start"."""
    import subprocess
    script = tmp_path / "unguarded.py"
    script.write_text("from rustmemodb import cluster\n"
                      "conn = cluster.connect('dask', shards=2)\n"
                      "print(conn.execute('SELECT 1').fetchall())\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert done.returncode != 0
    assert "could not start a local Dask cluster" in done.stderr and "(SQLSTATE 08001)" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr and str(script) in done.stderr


def test_plan_split_exchanges_match_on_dask(dask_address):
    # Joins off the partition key repartitioned from the optimized plan, batches going
    # actor to actor between worker processes (3 shards over 2 workers).
    from .test_plan_split import _setup, check_off_key
    c, s = _setup(backend="dask", address=dask_address)
    try:
        check_off_key(c, s)
    finally:
        c.close()
        s.close()


def test_computed_keys_chains_statistics_and_constants_match_on_dask(dask_address):
    # Issue #18's additions to the plan split (test_scaleout.py), batches going actor
    # to actor between worker processes (3 shards over 2 workers).
    from .test_scaleout import _setup, check_scaleout
    c, s = _setup(backend="dask", address=dask_address)
    try:
        check_scaleout(c, s)
    finally:
        c.close()
        s.close()


def test_branch_merge_on_dask_workers(dask_address):
    # cluster/branches.py with the shards in worker processes: dry run, apply, and the
    # barrier released (a write after the merge goes through).
    from rustmemodb.branch.merge import merge as single_merge
    from .test_branch_merge import READS, same_history
    c = cluster.connect("dask", shards=2, address=dask_address)
    try:
        c, c_fork, one, one_fork = same_history(c)
        result, expected = c.merge(c_fork), single_merge(one_fork, one)
        assert result.applied and result.counts == expected.counts
        for sql in READS:
            assert c.execute(sql).fetchall() == one.execute(sql).fetchall(), sql
        c.execute("INSERT INTO t VALUES (5000, 'after', 1)")
        assert c.execute("SELECT v FROM t WHERE id = 5000").fetchone() == ("after",)
    finally:
        c.close()


def test_explain_analyze_of_writes_on_dask_workers(dask_address):
    """EXPLAIN [ANALYZE] of writes run on the shards (issue #18): the broadcast table
    goes actor to actor, a key update's rows move worker to worker, the rows written per
    shard add up to the statement's."""
    conn = cluster.connect("dask", shards=2, address=dask_address)
    try:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.execute("CREATE TABLE o (id INTEGER PRIMARY KEY, w INTEGER)")
        conn.execute("INSERT INTO t SELECT n, n FROM generate_series(1, 40) n")
        conn.execute("INSERT INTO o SELECT n, -n FROM generate_series(1, 10) n")
        before = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
        text = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN UPDATE t SET v = o.w FROM o WHERE t.id = o.id").fetchall())
        assert "broadcast o to every shard, shard to shard (actor to actor)" in text
        assert conn.execute("SELECT * FROM t ORDER BY id").fetchall() == before
        for sql, n in [("UPDATE t SET v = o.w FROM o WHERE t.id = o.id", 10),
                       ("UPDATE t SET id = id + 1000 WHERE v > 30", 10),
                       ("INSERT INTO t SELECT id + 500, w FROM o", 10)]:
            lines = [r[0] for r in conn.execute("EXPLAIN ANALYZE " + sql).fetchall()]
            assert next(ln for ln in lines if ln.startswith("Execution:")).split()[1] == str(n)
            written = [int(ln.split(":")[1].split()[0]) for ln in lines
                       if ln.strip().startswith("shard ") and "rows written" in ln]
            assert sum(written) == n, lines
        assert conn.execute("SELECT count(*), sum(v) FROM t").fetchone() == \
            (50, sum(range(11, 41)) - 55 - 55)
    finally:
        conn.close()


def test_range_windows_and_with_queries_match_on_dask(dask_address):
    # Windows with no PARTITION BY range-partitioned worker to worker, WITH queries
    # inlined or run first, and EXPLAIN ANALYZE's stages from the workers' shards.
    from .test_range_windows import RANGE_WINDOWS
    from .test_range_windows import _same as _same_rows
    from .test_range_windows import _setup as _setup_windows
    from .test_with_queries import RUN_FIRST, SPLIT
    from .test_with_queries import _setup as _setup_with
    c, s = _setup_windows(3, backend="dask", address=dask_address, n=1200)
    try:
        for q in RANGE_WINDOWS[::3]:
            _same_rows(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["windows"].startswith("range-partitioned"), q
            assert c.last_plan["shuffled_bytes"] > 0, q
        lines = [r[0] for r in c.execute("EXPLAIN ANALYZE " + RANGE_WINDOWS[0]).fetchall()]
        assert all(any(ln.strip().startswith(f"shard {i}:") and "exchange" in ln and
                       "partial" in ln for ln in lines) for i in range(3))
    finally:
        c.close()
    c, s = _setup_with(3, backend="dask", address=dask_address)
    try:
        for q in SPLIT[::4] + RUN_FIRST[:1]:
            _same_rows(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert c.last_plan["strategy"] != "gather", q
    finally:
        c.close()
