"""SAVEPOINT / ROLLBACK TO / RELEASE in a cluster transaction (issue #18: the cluster is
a DB-API connection like the embedded one, and ORMs' nested transactions send these).
Each script runs on a 3-shard local cluster and on the single engine, two connections
each, and every step's outcome (rows, or the error's SQLSTATE) must be the same; then
the shards, the mirror and the placement catalog are checked directly."""
from __future__ import annotations

from .test_ddl_transactions import (EVERYWHERE, NOWHERE, pair, run_script,  # noqa: F401
                                    same_as_single, single_pair, where)


def test_rollback_to_undoes_writes_on_every_shard(pair):
    c1, _ = pair
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "UPDATE t SET g = 'x' WHERE id <= 2"),
        (1, "SAVEPOINT before_bulk"),
        (1, "UPDATE t SET g = 'y'"),
        (1, "INSERT INTO t VALUES (7, 'g'), (8, 'h'), (9, 'i')"),
        (1, "DELETE FROM t WHERE id = 5"),
        (1, "SELECT count(*), count(*) FILTER (WHERE g = 'y') FROM t"),
        (1, "ROLLBACK TO SAVEPOINT before_bulk"),
        (1, "SELECT * FROM t"),
        (1, "INSERT INTO t VALUES (10, 'j')"),
        (2, "SELECT * FROM t"),
        (1, "COMMIT"),
        (2, "SELECT * FROM t"),
    ])
    assert got[6][2] == ("rows", [(8, 5)])
    assert got[-1][2] == ("rows", sorted([(1, "x"), (2, "x"), (3, "c"), (4, "d"), (5, "e"),
                                          (6, "f"), (10, "j")], key=repr))
    assert not c1._savepoints


def test_rollback_to_recovers_a_failed_transaction(pair):
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "INSERT INTO t VALUES (20, 'u')"),
        (1, "SAVEPOINT s"),
        (1, "INSERT INTO t VALUES (21, 'v'), (3, 'dup')"),
        (1, "SELECT count(*) FROM t"),
        (1, "SAVEPOINT t2"),
        (1, "ROLLBACK TO s"),
        (1, "SELECT count(*) FROM t"),
        (1, "INSERT INTO t VALUES (22, 'w')"),
        (1, "COMMIT"),
        (2, "SELECT id FROM t WHERE id >= 20"),
    ])
    assert got[3][2] == ("error", "23505")
    assert got[4][2] == ("error", "25P02") and got[5][2] == ("error", "25P02")
    assert got[-1][2] == ("rows", [(20,), (22,)])


def test_nested_repeated_and_released_savepoints(pair):
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "SAVEPOINT a"),
        (1, "INSERT INTO t VALUES (30, 'a')"),
        (1, "SAVEPOINT B"),
        (1, "INSERT INTO t VALUES (31, 'b')"),
        (1, "SAVEPOINT a"),
        (1, "INSERT INTO t VALUES (32, 'c')"),
        (1, "ROLLBACK TO a"),                 # the newest a
        (1, "SELECT id FROM t WHERE id >= 30"),
        (1, "RELEASE a"),
        (1, "ROLLBACK TO b"),                 # B folded to b
        (1, "SELECT id FROM t WHERE id >= 30"),
        (1, "RELEASE SAVEPOINT a"),           # the older a, and b with it
        (1, "ROLLBACK TO b"),
        (1, "ROLLBACK"),
        (1, "BEGIN"),
        (1, 'SAVEPOINT "Q"'),
        (1, "ROLLBACK TO q"),
        (1, "ROLLBACK"),
        (1, "SAVEPOINT outside"),
        (1, "RELEASE outside"),
        (1, "ROLLBACK TO outside"),
        (1, "BEGIN"),
        (1, "SAVEPOINT a.b"),
        (1, "ROLLBACK"),
        (2, "SELECT count(*) FROM t"),
    ])
    assert got[8][2] == ("rows", [(30,), (31,)])
    assert got[11][2] == ("rows", [(30,)])
    assert got[13][2] == ("error", "3B001")
    assert got[17][2] == ("error", "3B001")
    assert [g[2] for g in got[19:22]] == [("error", "25P01")] * 3
    assert got[23][2] == ("error", "42601")
    assert got[-1][2] == ("rows", [(6,)])


def test_rollback_to_undoes_ddl_in_the_placement_catalog(pair):
    c1, c2 = pair
    first = [
        (1, "BEGIN"),
        (1, "SAVEPOINT before_ddl"),
        (1, "CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT)"),
        (1, "INSERT INTO x VALUES (1, 'a'), (2, 'b'), (3, 'c')"),
        (1, "DROP TABLE t"),
        (1, "SELECT count(*) FROM x"),
        (1, "ROLLBACK TO before_ddl"),
        (1, "SELECT count(*) FROM x"),
        (1, "ROLLBACK TO before_ddl"),
        (1, "SELECT * FROM t WHERE id = 4"),
    ]
    then = [
        (1, "CREATE TABLE y (id INTEGER PRIMARY KEY)"),
        (1, "SAVEPOINT after_y"),
        (1, "ALTER TABLE y ADD COLUMN w TEXT"),
        (1, "INSERT INTO y VALUES (1, 'one'), (2, 'two')"),
        (1, "ROLLBACK TO after_y"),
        (1, "INSERT INTO y VALUES (5), (6), (7)"),
        (1, "COMMIT"),
        (2, "SELECT * FROM y"),
        (2, "SELECT count(*) FROM t"),
    ]
    got = run_script(c1, c2, first)
    assert "x" not in c1.catalog and "t" in c1.catalog     # the DROP is undone too
    got += run_script(c1, c2, then)
    assert got == run_script(*single_pair(), first + then)
    assert got[7][2] == ("error", "42P01") and got[9][2] == ("rows", [(4, "d")])
    assert got[-2][2] == ("rows", [(5,), (6,), (7,)])
    assert where(c1, "x") == NOWHERE
    assert where(c2, "y") == EVERYWHERE
