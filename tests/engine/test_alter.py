"""ALTER TABLE: transactional, column-wise, invisible to forks and snapshots that did not run it."""
import pyarrow as pa
import pytest

import rustmemodb


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, s TEXT)")
    c.register("src", pa.table({"id": list(range(70_000)), "a": list(range(70_000)),
                                "s": ["x"] * 70_000}))
    c.execute("INSERT INTO t SELECT * FROM src")
    c.execute("INSERT INTO t VALUES (-1, NULL, 'tail')")    # a row in the tail too
    c.execute("DELETE FROM t WHERE id = 5")
    return c


def test_add_column_backfills_by_column_and_shares_buffers(conn):
    old = conn.database.root.tables["t"]
    conn.execute("ALTER TABLE t ADD COLUMN flag BOOLEAN DEFAULT true")
    new = conn.database.root.tables["t"]
    assert conn.execute("SELECT count(*) FROM t WHERE flag").fetchone() == (70_000,)
    # untouched column buffers are shared, not copied
    assert new.chunks[0].batch.column(1).buffers()[1].address == \
        old.chunks[0].batch.column(1).buffers()[1].address
    assert new.indexes["t_pkey"].base is old.indexes["t_pkey"].base


def test_alter_is_transactional_and_fork_local(conn):
    fork = conn.database.fork().connect()
    conn.execute("BEGIN")
    conn.execute("ALTER TABLE t ADD COLUMN b INTEGER DEFAULT 7")
    conn.execute("ALTER TABLE t RENAME COLUMN a TO aa")
    other = conn.database.connect()
    assert [d[0] for d in other.execute("SELECT * FROM t LIMIT 1").description] == ["id", "a", "s"]
    conn.execute("ROLLBACK")
    assert [d[0] for d in conn.execute("SELECT * FROM t LIMIT 1").description] == ["id", "a", "s"]
    conn.execute("ALTER TABLE t DROP COLUMN s")
    assert [d[0] for d in fork.execute("SELECT * FROM t LIMIT 1").description] == ["id", "a", "s"]
    assert fork.database.root.tables["t"] is not conn.database.root.tables["t"]


def test_alter_type_and_constraints(conn):
    conn.execute("ALTER TABLE t ALTER COLUMN a TYPE FLOAT")
    assert conn.execute("SELECT a FROM t WHERE id = 3").fetchone() == (3.0,)
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute("ALTER TABLE t ALTER COLUMN s TYPE INTEGER")
    assert e.value.sqlstate == "42804"
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute("ALTER TABLE t ALTER COLUMN a SET NOT NULL")
    assert e.value.sqlstate == "23502"
    conn.execute("ALTER TABLE t ALTER COLUMN a SET DEFAULT 1.5")
    conn.execute("INSERT INTO t (id, s) VALUES (100000, 'd')")
    assert conn.execute("SELECT a FROM t WHERE id = 100000").fetchone() == (1.5,)
    conn.execute("ALTER TABLE t ADD CONSTRAINT a_small CHECK (a < 1000000)")
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute("INSERT INTO t VALUES (100001, 2000000, 'x')")
    assert e.value.sqlstate == "23514"
    conn.execute("ALTER TABLE t RENAME TO u")
    assert conn.execute("SELECT count(*) FROM u WHERE a >= 0").fetchone() == (69_999 + 1,)


def test_rename_table_moves_foreign_keys():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    c.execute("CREATE TABLE k (pid INTEGER REFERENCES p (id))")
    c.execute("INSERT INTO p VALUES (1)")
    c.execute("ALTER TABLE p RENAME TO q")
    c.execute("ALTER TABLE q RENAME COLUMN id TO qid")
    c.execute("INSERT INTO k VALUES (1)")
    with pytest.raises(rustmemodb.Error) as e:
        c.execute("INSERT INTO k VALUES (2)")
    assert e.value.sqlstate == "23503" and '"q"' in (e.value.detail or "")
