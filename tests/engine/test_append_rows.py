"""Connection.append_rows: storage-form rows into the open transaction, without SQL,
with the table's constraints (used by the persist audit trail)."""
import pytest

import rustmemodb
from rustmemodb import errors

COLS = ("id", "name", "n", "u", "j")


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
    uid = "0b7e7e8c-7d2f-4a0e-9a53-8b1f0d6f6c11"  # a str for a UUID column, as a parameter may be
    assert conn.append_rows("t", COLS, [(1, "a", 5, uid, '["x", "y"]')])
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
        conn.append_rows("t", COLS, [row])
    assert info.value.sqlstate == state
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_unique_key_is_checked():
    conn = _conn()
    conn.execute("INSERT INTO t VALUES (1, 'a', 1, NULL, NULL)")
    conn.autocommit = False
    conn.execute("SELECT 1")
    with pytest.raises(errors.IntegrityError) as info:
        conn.append_rows("t", COLS, [(1, "b", 1, None, None)])
    assert info.value.sqlstate == "23505"


def test_autocommit_and_read_committed_decline():
    conn = _conn()
    assert conn.append_rows("t", COLS, [(1, "a", 1, None, None)]) is False
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    conn.execute("SET default_transaction_isolation = 'read committed'")
    conn.autocommit = False
    conn.execute("SELECT 1")
    assert conn.append_rows("t", COLS, [(1, "a", 1, None, None)]) is False


def test_appended_rows_are_durable(tmp_path):
    db = rustmemodb.Database.open(tmp_path / "db", "sync")
    conn = _conn(db)
    conn.autocommit = False
    conn.execute("SELECT 1")
    assert conn.append_rows("t", COLS, [(1, "a", 1, None, '{"k": 1}')])
    conn.commit()
    db.close()
    again = rustmemodb.Database.open(tmp_path / "db", "sync").connect()
    assert again.execute("SELECT id, j FROM t").fetchall() == [(1, {"k": 1})]


def test_it_opens_the_implicit_transaction_and_a_failed_one_stays_failed():
    conn = _conn()
    conn.autocommit = False
    assert conn.append_rows("t", COLS, [(1, "a", 1, None, None)])
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    with pytest.raises(errors.Error):
        conn.execute("SELECT 1/0")
    with pytest.raises(errors.Error) as info:
        conn.append_rows("t", COLS, [(1, "a", 1, None, None)])
    assert info.value.sqlstate == "25P02"


def test_other_columns_decline_and_values_convert_like_parameters():
    import uuid
    conn = _conn()
    conn.autocommit = False
    assert conn.append_rows("t", ("id", "name"), [(1, "a")]) is False
    assert conn.append_rows("t", COLS[::-1], [(None, None, 1, "a", 1)]) is False
    uid = uuid.uuid4()
    assert conn.append_rows("t", COLS, [(1, "a", 1, uid, {"b": [1, 2]})])
    with pytest.raises(errors.Error) as info:
        conn.append_rows("t", COLS, [(2, 5, 1, None, None)])
    assert info.value.sqlstate == "42804"
    conn.rollback()
    assert conn.append_rows("t", COLS, [(1, "a", 1, uid, {"b": [1, 2]})])
    conn.commit()
    assert conn.execute("SELECT u, j FROM t").fetchall() == [(uid, {"b": [1, 2]})]


def test_append_batches_are_one_statement_and_stored_columns_skip_conversion():
    conn = _conn()
    conn.execute("CREATE TABLE log (id INTEGER NOT NULL, note TEXT)")
    conn.autocommit = False
    conn.execute("SELECT 1")
    uid = "0b7e7e8c-7d2f-4a0e-9a53-8b1f0d6f6c11"
    # stored positions 3 and 4: the UUID as its text, the JSON as canonical text
    assert conn.append([("t", COLS, [(1, "a", 1, uid, '{"k": [1, 2]}')], (3, 4)),
                        ("log", ("id", "note"), [(1, "made a")], None)])
    # a failure in the second batch undoes the first too (one statement)
    with pytest.raises(errors.Error) as info:
        conn.append([("t", COLS, [(2, "b", 1, None, None)], None),
                     ("log", ("id", "note"), [(None, "no id")], None)])
    assert info.value.sqlstate == "23502"
    conn.rollback()      # the statement failed: the transaction is aborted
    # unstored positions still convert (and check) like parameters
    conn.execute("SELECT 1")
    with pytest.raises(errors.Error) as info:
        conn.append([("t", COLS, [(3, 7, 1, None, None)], (3, 4))])
    assert info.value.sqlstate == "42804"
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    conn.execute("SELECT 1")
    assert conn.append([("t", COLS, [(1, "a", 1, uid, '{"k": [1, 2]}')], (3, 4)),
                        ("log", ("id", "note"), [(1, "made a")], None)])
    conn.commit()
    import uuid
    assert conn.execute("SELECT id, u, j FROM t").fetchall() == [(1, uuid.UUID(uid),
                                                                  {"k": [1, 2]})]
    assert conn.execute("SELECT * FROM log").fetchall() == [(1, "made a")]
    # a batch of unknown columns declines the whole call
    conn.execute("SELECT 1")
    assert conn.append([("log", ("id", "note"), [(2, "x")], None),
                        ("t", ("id",), [(5,)], None)]) is False
    conn.commit()
    assert conn.execute("SELECT count(*) FROM log").fetchone()[0] == 1
