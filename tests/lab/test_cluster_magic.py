"""``%sql --cluster BACKEND --shards N``: the magics on a sharded database."""


def test_cluster_connection_runs_cells_and_forks(cell, session):
    out = cell("%sql --cluster local --shards 3 --alias sharded")
    assert "connected sharded (local cluster, 3 shards)" in repr(out.value)
    assert session.current_name == "sharded"
    cell("%%sql\n"
         "CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x FLOAT);\n"
         "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'a', 4.0), (4, 'c', 1.0)")
    conn = session.registry.active.conn
    assert [h.branches["main"].row_count("t") for h in conn.cluster.backend.hosts].count(0) < 3
    rows = cell("%sql SELECT g, sum(x) FROM t GROUP BY g ORDER BY g").value.rows()
    assert rows == [("a", 5.5), ("b", 2.5), ("c", 1.0)]
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql DELETE FROM t WHERE g = 'a'")
    assert cell("%sql SELECT count(*) FROM t").value.rows() == [(2,)]
    cell("%sql --checkout main")
    assert cell("%sql SELECT count(*) FROM t").value.rows() == [(4,)]


def test_shards_needs_cluster(cell):
    assert "--shards goes with --cluster" in str(cell("%sql --shards 3", fails=True).error)


def test_diff_merge_and_undo_on_a_sharded_branch(cell, session):
    # The rows live on the shards, not in the coordinator's schema mirror: --diff and
    # --merge go through the cluster (cluster/branches.py), the branch tree counts the
    # shards' rows, and --undo (which restores a root) says it cannot reach the shards.
    cell("%sql --cluster local --shards 3 --alias sharded")
    cell("%%sql\n"
         "CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT);\n"
         "INSERT INTO t SELECT i, 'g' || (i % 3) FROM generate_series(1, 30) i")
    assert session.registry.active.table_counts() == {"t": 30}
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql UPDATE t SET g = 'changed' WHERE id <= 4")
    cell("%sql DELETE FROM t WHERE id > 28")
    out = cell("%sql --diff main what_if t")
    assert out.value.engine_diffs["t"].counts == {"added": 0, "removed": 2, "changed": 4}
    assert "changed" in out.html()
    cell("%sql CREATE TABLE k (a INTEGER, b INTEGER)")      # no key: rows matched by identity
    cell("%sql INSERT INTO k SELECT i, i FROM generate_series(1, 9) i")
    cell("%sql UPDATE k SET b = 0 WHERE a = 3")
    whole = cell("%sql --diff main what_if")
    assert set(whole.value.engine_diffs) == {"t", "k"}
    assert "k" in whole.html()
    merged = cell("%sql --merge what_if --into main").value
    assert merged.result.applied
    cell("%sql --checkout main")
    assert cell("%sql SELECT count(*), count(*) FILTER (WHERE g = 'changed') FROM t").value.rows() \
        == [(28, 4)]
    assert session.registry.active.table_counts() == {"k": 9, "t": 28}
    assert "does not reach the shards" in str(cell("%sql --undo", fails=True).error)
