"""Durable shards (``cluster.connect(..., path=DIR)``): each shard a file-backed Database
under one epoch manifest; a killed worker restarted recovers its shard; prepared
two-phase-commit state survives the kill and is resolved by the coordinator's decision
(commit when it was recorded, abort when it never was); a whole cluster reopens."""
from __future__ import annotations

import json
import os

import pytest

import rustmemodb
from rustmemodb import cluster


@pytest.fixture
def conn(tmp_path):
    c = cluster.connect("local", shards=3, path=tmp_path / "db")
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x FLOAT)")
    c.execute("CREATE TABLE dim (id INTEGER PRIMARY KEY, name TEXT) REPLICATED")
    c.executemany("INSERT INTO t VALUES (?, ?, ?)",
                  [(i, "abcd"[i % 4], float(i)) for i in range(100)])
    c.execute("INSERT INTO dim VALUES (1, 'one'), (2, 'two')")
    yield c
    if not c.closed:
        c.close()


def test_killed_worker_restarts_with_its_shard_intact(conn):
    conn.execute("UPDATE t SET x = -1 WHERE id < 10")
    conn.cluster.backend.kill(1)
    with pytest.raises(rustmemodb.OperationalError) as e:
        conn.execute("SELECT count(*) FROM t")
    assert e.value.sqlstate == "08006"
    assert conn.restart_shard(1) == []
    assert conn.execute("SELECT count(*), sum(x) FROM t").fetchone() == (
        100, float(sum(range(10, 100)) - 10))
    conn.execute("INSERT INTO t VALUES (500, 'z', 5)")   # the restarted shard takes writes
    assert conn.execute("SELECT x FROM t WHERE id = 500").fetchone() == (5.0,)


def test_checkpoint_records_one_epoch_for_all_shards(conn, tmp_path):
    conn.execute("CHECKPOINT")
    info = conn.checkpoint()
    manifest = json.loads((tmp_path / "db" / "cluster.json").read_text())
    assert manifest["epoch"] == info["epoch"] == 2
    assert len(manifest["checkpoints"]) == 3
    assert manifest["catalog"]["t"]["key"] == ["id"] and manifest["catalog"]["dim"]["replicated"]
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute("BEGIN")
        conn.execute("CHECKPOINT")
    assert e.value.sqlstate == "25001"
    conn.execute("ROLLBACK")


def test_prepared_commit_survives_the_kill_and_is_committed(conn, tmp_path):
    hosts = conn.cluster.backend.hosts
    hosts[2].fail_next_commit()     # shard 2 prepared, then dies before committing
    with pytest.raises(rustmemodb.OperationalError) as e:
        conn.executemany("INSERT INTO t VALUES (?, 'p', 0)", [(i,) for i in range(300, 330)])
    assert e.value.sqlstate == "08006"
    gid = conn.cluster.in_doubt[0][0]
    assert os.listdir(tmp_path / "db" / "shard-2" / "prepared") == [f"{gid}.rec"]
    assert os.listdir(tmp_path / "db" / "decisions") == [gid]
    conn.cluster.backend.kill(2)
    assert conn.restart_shard(2) == []
    assert conn.execute("SELECT count(*) FROM t WHERE g = 'p'").fetchone() == (30,)
    assert os.listdir(tmp_path / "db" / "shard-2" / "prepared") == []
    assert os.listdir(tmp_path / "db" / "decisions") == []
    conn.execute("INSERT INTO t VALUES (900, 'after', 0)")   # the gate is free again
    conn.close()
    again = cluster.connect("local", shards=3, path=tmp_path / "db")
    assert again.execute("SELECT count(*) FROM t WHERE g = 'p'").fetchone() == (30,)
    again.close()


def test_prepared_without_a_decision_is_rolled_back(conn, tmp_path):
    b = conn.cluster.backend
    conn.execute("BEGIN")
    conn.execute("UPDATE t SET x = 1000")          # every shard written
    for s in range(3):                              # prepared everywhere; the
        assert b.call(s, "prepare", conn.sid, "gid-undecided")[0] == "ok"   # coordinator dies
    assert (tmp_path / "db" / "shard-1" / "prepared" / "gid-undecided.rec").exists()
    b.kill(1)
    conn.in_txn = False
    conn.restart_shard(1)                           # presumed abort: no decision on disk
    assert conn.execute("SELECT count(*) FROM t WHERE x = 1000").fetchone() == (0,)
    assert not (tmp_path / "db" / "shard-1" / "prepared" / "gid-undecided.rec").exists()
    for s in (0, 2):   # live prepared parts elsewhere are left to their owner: abort them
        assert b.call(s, "abort_prepared", "gid-undecided") == ("ok",)
    conn.execute("UPDATE t SET x = 7 WHERE id < 10")   # no gate left held anywhere
    assert conn.execute("SELECT count(*) FROM t WHERE x = 7").fetchone() == (10,)


def test_the_whole_cluster_reopens(conn, tmp_path):
    conn.execute("CREATE VIEW v AS SELECT g, count(*) AS n FROM t GROUP BY g")
    conn.close()
    again = cluster.connect("local", shards=3, path=tmp_path / "db")
    try:
        assert again.execute("SELECT count(*), sum(x) FROM t").fetchone() == (100, 4950.0)
        assert again.execute("SELECT name FROM dim ORDER BY id").fetchall() == [
            ("one",), ("two",)]
        assert again.execute("SELECT n FROM v WHERE g = 'a'").fetchone() == (25,)
        assert again.catalog["dim"].replicated and again.catalog["t"].key == ["id"]
        with pytest.raises(rustmemodb.Error) as e:
            cluster.connect("local", shards=2, path=tmp_path / "db")
        assert e.value.sqlstate == "22023"
    finally:
        again.close()


def test_gathered_writes_and_matviews_survive_a_reopen(tmp_path):
    """MERGE moving keys between shards and a refreshed materialized view: their row
    changes (deletes by shard row id, refills) are logged like any write."""
    c = cluster.connect("local", shards=3, path=tmp_path / "db")
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x INTEGER)")
    c.execute("INSERT INTO t SELECT n, chr(97 + n % 3), n FROM generate_series(1, 30) n")
    c.execute("MERGE INTO t USING (SELECT n AS id FROM generate_series(1, 10) n) s "
              "ON t.id = s.id WHEN MATCHED THEN UPDATE SET id = t.id + 100")
    c.execute("CREATE MATERIALIZED VIEW m AS SELECT g, sum(x) AS s FROM t GROUP BY g")
    c.execute("DELETE FROM t WHERE id > 100")
    c.execute("REFRESH MATERIALIZED VIEW m")
    rows = c.execute("SELECT * FROM t ORDER BY id").fetchall()
    view = c.execute("SELECT * FROM m ORDER BY g").fetchall()
    c.close()
    c = cluster.connect("local", shards=3, path=tmp_path / "db")
    try:
        assert c.execute("SELECT * FROM t ORDER BY id").fetchall() == rows
        assert c.execute("SELECT * FROM m ORDER BY g").fetchall() == view == \
            [("a", 147), ("b", 123), ("c", 140)]
    finally:
        c.close()
