"""DDL inside a transaction on a cluster (issue #18): CREATE / DROP / ALTER TABLE after
BEGIN are private to the transaction until COMMIT and gone after ROLLBACK, in the schema
mirror, the placement catalog and on every shard, as in the single engine (PostgreSQL's
semantics). Each script runs on both, two connections each, and every step's outcome
(rows, or the error's SQLSTATE) must be the same."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import cluster

SETUP = ["CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT)",
         "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (6, 'f')"]


def outcome(conn, sql):
    try:
        cur = conn.execute(sql)
    except rustmemodb.Error as exc:
        return ("error", exc.sqlstate)
    rows = cur.fetchall() if cur.description else None
    return ("rows", sorted(rows, key=repr)) if rows is not None else ("ok",)


def run_script(c1, c2, script):
    conns = {1: c1, 2: c2}
    return [(who, sql, outcome(conns[who], sql)) for who, sql in script]


@pytest.fixture
def pair():
    c1 = cluster.connect("local", shards=3)
    for sql in SETUP:
        c1.execute(sql)
    c2 = c1.connect_more()
    yield c1, c2
    c2.close()
    c1.close()


def single_pair():
    c1 = rustmemodb.connect()
    for sql in SETUP:
        c1.execute(sql)
    return c1, c1.database.connect()


def same_as_single(pair, script):
    got = run_script(*pair, script)
    want = run_script(*single_pair(), script)
    assert got == want
    return got


def where(c, name):
    """Where ``name`` is known: the committed mirror, the shared catalog, each shard."""
    return (name in c.cluster.mirrors[c.branch].head.tables,
            name in c.cluster.catalogs[c.branch],
            [name in h.branches[c.branch].head.tables for h in c.cluster.backend.hosts])


NOWHERE = (False, False, [False, False, False])
EVERYWHERE = (True, True, [True, True, True])


def test_create_is_private_until_commit(pair):
    c1, c2 = pair
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT)"),
        (1, "INSERT INTO x VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')"),
        (1, "SELECT * FROM x"),
        (2, "SELECT * FROM x"),
        (2, "INSERT INTO x VALUES (9, 'z')"),
        (2, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'x'"),
    ])
    assert got[4][2] == ("error", "42P01")
    assert "x" in c1.catalog and "x" not in c2.catalog
    assert where(c1, "x") == NOWHERE
    c1.execute("COMMIT")
    assert where(c1, "x") == EVERYWHERE
    assert c2.catalog["x"].key == ["id"]
    assert c2.execute("SELECT count(*), sum(id) FROM x").fetchone() == (4, 10)
    # spread by the key, as an autocommit CREATE would have placed them
    counts = [h.branches["main"].row_count("x") for h in c1.cluster.backend.hosts]
    assert sum(counts) == 4 and max(counts) < 4


def test_rollback_of_create_leaves_nothing(pair):
    c1, c2 = pair
    same_as_single(pair, [
        (1, "BEGIN"),
        (1, "CREATE TABLE x (id INTEGER, v TEXT)"),
        (1, "INSERT INTO x VALUES (1, 'a')"),
        (1, "ROLLBACK"),
        (1, "SELECT * FROM x"),
        (2, "SELECT * FROM x"),
    ])
    assert where(c1, "x") == NOWHERE
    assert "x" not in c1.catalog and "x" not in c1.mirror.database.head.tables
    # the name is free again, with another shape and placement
    c1.execute("CREATE TABLE x (k TEXT, n INTEGER) PARTITION BY HASH (k)")
    assert c1.catalog["x"].columns == ["k", "n"] and c1.catalog["x"].key == ["k"]


def test_partition_clause_inside_a_transaction_is_kept_at_commit(pair):
    c1, c2 = pair
    c1.execute("BEGIN")
    c1.execute("CREATE TABLE x (id INTEGER, k TEXT) PARTITION BY HASH (k)")
    c1.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT) REPLICATED")
    c1.execute("INSERT INTO r VALUES (1, 'one')")
    assert "x" not in c2.catalog and "r" not in c2.catalog
    c1.execute("COMMIT")
    assert c2.catalog["x"].key == ["k"] and c2.catalog["x"].explicit
    assert c2.catalog["r"].replicated
    assert [h.branches["main"].row_count("r") for h in c1.cluster.backend.hosts] == [1, 1, 1]


def test_other_connection_creates_its_own_and_the_later_commit_fails(pair):
    c1, c2 = pair
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT)"),
        (1, "INSERT INTO x VALUES (1, 'a')"),
        (2, "CREATE TABLE x (k TEXT)"),
        (2, "INSERT INTO x VALUES ('z')"),
        (1, "SELECT * FROM x"),
        (1, "COMMIT"),
        (1, "SELECT * FROM x"),
        (2, "SELECT * FROM x"),
    ])
    assert got[6][2] == ("error", "40001")
    assert c1.catalog["x"].columns == ["k"] and not c1.in_transaction
    assert c1.cluster.mirrors["main"].head.tables["x"].schema.names == ["k"]
    assert all(h.branches["main"].head.tables["x"].schema.names == ["k"]
               for h in c1.cluster.backend.hosts)


def test_drop_is_private_until_commit(pair):
    c1, c2 = pair
    key = c1.catalog["t"]
    same_as_single(pair, [
        (1, "BEGIN"),
        (1, "DROP TABLE t"),
        (1, "SELECT * FROM t"),
        (1, "ROLLBACK"),
        (2, "SELECT * FROM t"),
        (1, "BEGIN"),
        (1, "DROP TABLE t"),
        (2, "SELECT * FROM t"),
        (2, "SELECT g FROM t WHERE id = 3"),
    ])
    assert "t" not in c1.catalog and c2.catalog["t"] is key
    assert where(c1, "t") == EVERYWHERE
    c1.execute("COMMIT")
    assert where(c1, "t") == NOWHERE
    assert outcome(c2, "SELECT * FROM t") == ("error", "42P01")


def test_rolled_back_drop_keeps_the_placement(pair):
    c1, _ = pair
    c1.execute("CREATE TABLE p (id INTEGER, k TEXT) PARTITION BY HASH (k)")
    c1.execute("INSERT INTO p VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    c1.execute("BEGIN")
    c1.execute("DROP TABLE p")
    c1.execute("ROLLBACK")
    assert c1.catalog["p"].key == ["k"] and c1.catalog["p"].explicit
    assert c1.execute("SELECT count(*) FROM p WHERE k = 'b'").fetchone() == (1,)


def test_alter_add_column_is_private_until_commit(pair):
    c1, c2 = pair
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "ALTER TABLE t ADD COLUMN n INTEGER DEFAULT 7"),
        (1, "SELECT * FROM t WHERE id < 3"),
        (2, "SELECT * FROM t WHERE id < 3"),
        (2, "SELECT n FROM t"),
        (1, "ROLLBACK"),
        (1, "SELECT * FROM t WHERE id < 3"),
        (1, "BEGIN"),
        (1, "ALTER TABLE t ADD COLUMN n INTEGER DEFAULT 7"),
        (1, "UPDATE t SET n = id * 10 WHERE id > 4"),
        (2, "SELECT * FROM t WHERE id > 4"),
        (1, "COMMIT"),
        (2, "SELECT * FROM t WHERE id > 3"),
    ])
    assert got[4][2] == ("error", "42703")
    assert c2.catalog["t"].columns == ["id", "g", "n"]
    assert c2.catalog["t"].types["n"] == "INTEGER"


def test_rolled_back_alter_leaves_the_shared_entry_alone(pair):
    c1, c2 = pair
    info = c2.catalog["t"]
    c1.execute("BEGIN")
    c1.execute("ALTER TABLE t ADD COLUMN n INTEGER")
    assert c1.catalog["t"].columns == ["id", "g", "n"]
    assert info.columns == ["id", "g"] and c2.catalog["t"] is info
    c1.execute("ROLLBACK")
    assert c1.catalog["t"] is info and info.columns == ["id", "g"]
    assert list(info.types) == ["id", "g"]


def test_a_failing_statement_after_ddl_undoes_it(pair):
    c1, c2 = pair
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT)"),
        (1, "DROP TABLE t"),
        (1, "INSERT INTO x VALUES (1, 'a'), (1, 'b')"),
        (1, "SELECT * FROM x"),
        (1, "COMMIT"),
        (1, "SELECT * FROM x"),
        (2, "SELECT * FROM t WHERE id = 1"),
        (1, "BEGIN"),
        (1, "ALTER TABLE t ADD COLUMN n INTEGER"),
        (1, "SELECT nope FROM t"),
        (1, "ROLLBACK"),
        (1, "SELECT * FROM t WHERE id = 2"),
    ])
    assert got[3][2] == ("error", "23505") and got[4][2] == ("error", "25P02")
    assert where(c1, "x") == NOWHERE and where(c1, "t") == EVERYWHERE
    assert c1.catalog["t"].columns == ["id", "g"]


def test_foreign_key_in_a_transaction_replicates_the_parent_only_at_commit(pair):
    c1, c2 = pair
    c1.execute("BEGIN")
    c1.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, tid INTEGER REFERENCES t (id))")
    c1.execute("INSERT INTO c VALUES (1, 2)")
    assert c1.catalog["t"].replicated and not c2.catalog["t"].replicated
    assert c2.execute("SELECT count(*) FROM t").fetchone() == (6,)
    c1.execute("ROLLBACK")
    assert not c1.catalog["t"].replicated and c1.catalog["t"].key == ["id"]
    assert sum(h.branches["main"].row_count("t") for h in c1.cluster.backend.hosts) == 6
    c1.execute("BEGIN")
    c1.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, tid INTEGER REFERENCES t (id))")
    c1.execute("COMMIT")
    assert c2.catalog["t"].replicated and c2.catalog["c"].replicated
    assert [h.branches["main"].row_count("t") for h in c1.cluster.backend.hosts] == [6, 6, 6]
    assert c2.execute("SELECT count(*) FROM t").fetchone() == (6,)
    with pytest.raises(rustmemodb.Error) as err:
        c2.execute("INSERT INTO c VALUES (5, 99)")
    assert err.value.sqlstate == "23503"


def test_create_table_as_and_views_inside_a_transaction(pair):
    c1, c2 = pair
    same_as_single(pair, [
        (1, "BEGIN"),
        (1, "CREATE TABLE s AS SELECT id, g FROM t WHERE id > 3"),
        (1, "CREATE VIEW v AS SELECT g FROM s"),
        (1, "SELECT * FROM v"),
        (2, "SELECT * FROM s"),
        (2, "SELECT * FROM v"),
        (1, "ROLLBACK"),
        (1, "SELECT * FROM v"),
        (1, "BEGIN"),
        (1, "CREATE TABLE s AS SELECT id, g FROM t WHERE id > 3"),
        (1, "COMMIT"),
        (2, "SELECT * FROM s"),
    ])
    assert where(c1, "s") == EVERYWHERE


def test_a_forked_branch_takes_the_committed_catalog(pair):
    c1, c2 = pair
    c1.execute("BEGIN")
    c1.execute("CREATE TABLE x (id INTEGER PRIMARY KEY)")
    f = c2.fork()
    assert "x" not in f.catalog
    assert "x" not in c1.cluster.catalogs[f.branch]
    c1.execute("ROLLBACK")
    f.close()


def test_a_mirror_that_refuses_the_commit_rolls_the_prepared_shards_back(pair, monkeypatch):
    c1, c2 = pair
    c1.execute("BEGIN")
    c1.execute("CREATE TABLE x (id INTEGER PRIMARY KEY)")
    c1.execute("INSERT INTO x VALUES (1), (2), (3)")
    c1.execute("ALTER TABLE t ADD COLUMN n INTEGER")

    def refuse():
        raise rustmemodb.errors.sql_error("40001", "refused by the test")
    monkeypatch.setattr(c1.mirror, "commit", refuse)
    with pytest.raises(rustmemodb.Error) as err:
        c1.execute("COMMIT")
    assert err.value.sqlstate == "40001" and not c1.in_transaction
    monkeypatch.undo()
    assert where(c1, "x") == NOWHERE
    assert c1.catalog["t"].columns == ["id", "g"]
    assert all(h.branches["main"].head.tables["t"].schema.names == ["id", "g"]
               for h in c1.cluster.backend.hosts)
    assert c1.execute("SELECT count(*) FROM t").fetchone() == (6,)
    c1.execute("CREATE TABLE x (k TEXT)")   # nothing was left prepared or locked
    assert c2.execute("SELECT count(*) FROM x").fetchone() == (0,)


def test_a_durable_cluster_records_the_catalog_at_commit(tmp_path):
    c = cluster.connect("local", shards=3, path=tmp_path / "db")
    c.execute("BEGIN")
    c.execute("CREATE TABLE x (id INTEGER, k TEXT) PARTITION BY HASH (k)")
    c.execute("INSERT INTO x VALUES (1, 'a'), (2, 'b')")
    manifest = (tmp_path / "db" / "cluster.json").read_text()
    assert '"x"' not in manifest
    c.execute("COMMIT")
    c.close()
    again = cluster.connect("local", shards=3, path=tmp_path / "db")
    assert again.catalog["x"].key == ["k"]
    assert again.execute("SELECT count(*) FROM x WHERE k = 'b'").fetchone() == (1,)
    again.close()


def test_a_unique_key_added_in_a_transaction_replicates_only_at_commit(pair):
    c1, c2 = pair
    same_as_single(pair, [
        (1, "BEGIN"),
        (1, "ALTER TABLE t ADD CONSTRAINT tg UNIQUE (g)"),
        (1, "INSERT INTO t VALUES (7, 'a')"),
        (1, "ROLLBACK"),
        (2, "INSERT INTO t VALUES (7, 'a')"),
        (2, "DELETE FROM t WHERE id = 7"),
        (1, "BEGIN"),
        (1, "ALTER TABLE t ADD CONSTRAINT tg UNIQUE (g)"),
    ])
    assert c1.catalog["t"].replicated and not c2.catalog["t"].replicated
    assert c2.catalog["t"].key == ["id"]
    c1.execute("COMMIT")
    assert c2.catalog["t"].replicated
    assert outcome(c2, "INSERT INTO t VALUES (8, 'b')") == ("error", "23505")
    assert [h.branches["main"].row_count("t") for h in c1.cluster.backend.hosts] == [6, 6, 6]
    assert c2.execute("SELECT count(*) FROM t").fetchone() == (6,)


def test_ddl_reads_the_schema_of_the_transactions_snapshot(pair):
    c1, c2 = pair
    got = same_as_single(pair, [
        (1, "BEGIN"),
        (1, "SELECT count(*) FROM t"),
        (2, "CREATE TABLE s (a INTEGER)"),            # after c1's snapshot: not c1's
        (1, "CREATE TABLE s AS SELECT id AS a FROM t"),
        (1, "SELECT * FROM s"),
        (1, "COMMIT"),                                # the other one committed first
        (1, "SELECT * FROM s"),
        (1, "BEGIN"),
        (2, "DROP TABLE s"),
        (1, "SELECT * FROM s"),                       # still in c1's snapshot
        (1, "DROP TABLE s"),
        (1, "COMMIT"),
        (2, "SELECT * FROM s"),
    ])
    assert got[5][2] == ("error", "40001") and got[11][2] == ("error", "40001")
    assert where(c1, "s") == NOWHERE


def test_session_settings_survive_ddl_on_every_shard():
    """A DDL statement commits on the shards through PREPARE, which hands the session on
    to a new connection there: the session's SET TIME ZONE and DateStyle must go along
    (a timestamptz literal inserted after CREATE TABLE was read in UTC, 9 hours off)."""
    from rustmemodb import cluster
    import datetime as dt
    conn = cluster.connect("local", shards=3)
    try:
        conn.execute("SET TIME ZONE 'Asia/Tokyo'")
        conn.execute("SET datestyle = 'ISO, DMY'")
        conn.execute("CREATE TABLE st (id int PRIMARY KEY, d date, t timestamptz)")
        conn.execute("INSERT INTO st VALUES (1, '05/06/2024', '2024-01-01 09:00'), "
                     "(2, '07/06/2024', '2024-01-01 10:00'), (3, '08/06/2024', '2024-01-01 11:00')")
        rows = conn.execute("SELECT id, d, t FROM st ORDER BY id").fetchall()
        assert [r[1] for r in rows] == [dt.date(2024, 6, 5), dt.date(2024, 6, 7),
                                        dt.date(2024, 6, 8)]
        assert [r[2].astimezone(dt.timezone.utc).hour for r in rows] == [0, 1, 2]
        assert conn.execute("SHOW datestyle").fetchone()[0] == "ISO, DMY"
    finally:
        conn.close()
