"""Connection.append_rows: storage-form rows into the open transaction, without SQL,
with the table's constraints (used by the persist audit trail)."""
import pytest

import rustmemodb
from rustmemodb import errors


def _conn(db=None):
    conn = (db or rustmemodb.Database()).connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "n INTEGER CHECK (n > 0), u UUID, j JSON)")
    conn.execute("CREATE INDEX t_name ON t (name)")
    return conn


def test_rows_land_in_the_transaction_and_read_back_like_inserted_ones():
    conn = _conn()
    conn.autocommit = False
    conn.execute("SELECT 1")                     # opens the transaction
    uid = "0b7e7e8c-7d2f-4a0e-9a53-8b1f0d6f6c11"
    assert conn.append_rows("t", [(1, "a", 5, uid, '["x", "y"]')])
    conn.execute("INSERT INTO t VALUES (2, 'b', 6, NULL, NULL)")
    conn.commit()
    rows = conn.execute("SELECT id, name, u, j FROM t WHERE name = 'a'").fetchall()
    assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [(1, "a", uid, ["x", "y"])]
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2


@pytest.mark.parametrize("row, state", [((1, None, 1, None, None), "23502"),
                                         ((1, "a", 0, None, None), "23514")])
def test_constraints_hold_and_a_failed_append_leaves_nothing(row, state):
    conn = _conn()
    conn.autocommit = False
    conn.execute("INSERT INTO t VALUES (9, 'z', 1, NULL, NULL)")
    with pytest.raises(errors.Error) as info:
        conn.append_rows("t", [row])
    assert info.value.sqlstate == state
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_unique_key_is_checked():
    conn = _conn()
    conn.execute("INSERT INTO t VALUES (1, 'a', 1, NULL, NULL)")
    conn.autocommit = False
    conn.execute("SELECT 1")
    with pytest.raises(errors.IntegrityError) as info:
        conn.append_rows("t", [(1, "b", 1, None, None)])
    assert info.value.sqlstate == "23505"


def test_without_an_open_transaction_it_declines():
    conn = _conn()
    assert conn.append_rows("t", [(1, "a", 1, None, None)]) is False
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    conn.execute("SET default_transaction_isolation = 'read committed'")
    conn.autocommit = False
    conn.execute("SELECT 1")
    assert conn.append_rows("t", [(1, "a", 1, None, None)]) is False


def test_appended_rows_are_durable(tmp_path):
    db = rustmemodb.Database.open(tmp_path / "db", "sync")
    conn = _conn(db)
    conn.autocommit = False
    conn.execute("SELECT 1")
    assert conn.append_rows("t", [(1, "a", 1, None, '{"k": 1}')])
    conn.commit()
    db.close()
    again = rustmemodb.Database.open(tmp_path / "db", "sync").connect()
    assert again.execute("SELECT id, j FROM t").fetchall() == [(1, {"k": 1})]
