"""Single-row INSERTs of an explicit transaction are checked at once and applied in runs
(txn/transaction.py ``insert_row_deferred``): nothing about them may be observable but
their speed. Every reader of the transaction's state sees each row inserted so far;
UNIQUE errors come from the statement that breaks the key; statement rollback,
savepoints, commit, the log and concurrent commits behave as with rows applied one by
one."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER UNIQUE, v TEXT)")
    c.execute("CREATE INDEX t_v ON t (v)")
    c.execute("INSERT INTO t VALUES (1, 10, 'a')")
    return c


def ins(c, *row):
    c.execute("INSERT INTO t VALUES (?, ?, ?)", row)


def ids(c):
    return [r[0] for r in c.execute("SELECT id FROM t ORDER BY id").fetchall()]


def test_every_read_in_the_transaction_sees_the_rows_inserted_so_far(conn):
    conn.execute("BEGIN")
    ins(conn, 2, 20, "b")
    ins(conn, 3, 30, "c")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (3,)
    assert conn.execute("SELECT id FROM t WHERE id = 3").fetchone() == (3,)       # point path
    assert conn.execute("SELECT id FROM t WHERE v = 'b'").fetchone() == (2,)      # ordered index
    ins(conn, 4, 40, "d")
    conn.execute("UPDATE t SET v = 'z' WHERE id = 4")
    ins(conn, 5, 50, "e")
    assert conn.execute("SELECT id, v FROM t WHERE id >= 4 ORDER BY id").fetchall() == \
        [(4, "z"), (5, "e")]
    ins(conn, 6, 60, "f")
    assert conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 't'"
                        ).fetchone() == (1,)
    assert ids(conn) == [1, 2, 3, 4, 5, 6]
    other = conn.database.connect()
    assert ids(other) == [1]                                     # nothing visible outside
    conn.execute("COMMIT")
    assert ids(other) == [1, 2, 3, 4, 5, 6]


def test_a_taken_key_fails_its_own_statement_against_the_table_and_the_pending_rows(conn):
    conn.execute("BEGIN")
    ins(conn, 2, 20, "b")
    with pytest.raises(errors.IntegrityError) as e:
        ins(conn, 2, 21, "x")                    # the primary key of a pending row
    assert e.value.sqlstate == "23505"
    conn.execute("ROLLBACK")
    conn.execute("BEGIN")
    ins(conn, 2, 20, "b")
    with pytest.raises(errors.IntegrityError):
        ins(conn, 3, 10, "x")                    # the UNIQUE k of a committed row
    conn.execute("ROLLBACK")
    assert ids(conn) == [1]


def test_a_null_unique_key_never_collides(conn):
    conn.execute("BEGIN")
    ins(conn, 2, None, "b")
    ins(conn, 3, None, "c")
    conn.execute("COMMIT")
    assert ids(conn) == [1, 2, 3]


def test_savepoints_keep_the_rows_before_them_and_free_the_keys_after(conn):
    conn.execute("BEGIN")
    ins(conn, 2, 20, "b")
    conn.execute("SAVEPOINT s")
    ins(conn, 3, 30, "c")
    ins(conn, 4, 40, "d")
    conn.execute("ROLLBACK TO SAVEPOINT s")
    ins(conn, 3, 31, "c2")                       # key 3 is free again
    conn.execute("SAVEPOINT s2")
    ins(conn, 5, 50, "e")
    assert ids(conn) == [1, 2, 3, 5]             # the read applies the pending rows
    ins(conn, 6, 60, "f")
    conn.execute("ROLLBACK TO SAVEPOINT s2")     # rows applied since the mark: undone
    assert ids(conn) == [1, 2, 3]
    ins(conn, 5, 51, "e2")
    conn.execute("COMMIT")
    assert conn.execute("SELECT id, k FROM t ORDER BY id").fetchall() == \
        [(1, 10), (2, 20), (3, 31), (5, 51)]


def test_a_failed_statement_aborts_the_transaction_and_rollback_drops_pending_rows(conn):
    conn.execute("BEGIN")
    ins(conn, 2, 20, "b")
    with pytest.raises(errors.Error):
        conn.execute("SELECT 1 / 0")
    with pytest.raises(errors.Error) as e:
        ins(conn, 3, 30, "c")
    assert e.value.sqlstate == "25P02"
    conn.execute("ROLLBACK")
    assert ids(conn) == [1]


def test_a_run_of_inserts_is_one_logged_op_with_one_by_one_rowids(conn):
    conn.execute("BEGIN")
    for i in range(2, 8):
        ins(conn, i, i * 10, f"v{i}")
    txn = conn._session.txn
    assert len(txn._pending.rows) == 6           # checked, not yet applied
    ops = txn.ops
    assert txn._pending is None
    assert len(ops) == 1 and [r[0] for r in ops[0].rows] == list(range(2, 8))
    assert ops[0].rowids == list(range(ops[0].rowids[0], ops[0].rowids[0] + 6))
    conn.execute("COMMIT")


def test_inserts_into_two_tables_keep_their_order(conn):
    conn.execute("CREATE TABLE u (id INTEGER PRIMARY KEY)")
    conn.execute("BEGIN")
    ins(conn, 2, 20, "b")
    conn.execute("INSERT INTO u VALUES (?)", (1,))
    ins(conn, 3, 30, "c")
    conn.execute("INSERT INTO u VALUES (?)", (2,))
    conn.execute("COMMIT")
    assert ids(conn) == [1, 2, 3]
    assert conn.execute("SELECT id FROM u ORDER BY id").fetchall() == [(1,), (2,)]


def test_concurrent_commits_of_one_key_let_one_win(conn):
    a, b = conn, conn.database.connect()
    a.execute("BEGIN")
    b.execute("BEGIN")
    ins(a, 7, 70, "a")
    ins(b, 7, 71, "b")
    b.execute("COMMIT")
    with pytest.raises(errors.Error) as e:
        a.execute("COMMIT")
    assert e.value.sqlstate in ("23505", "40001")
    assert conn.execute("SELECT k FROM t WHERE id = 7").fetchone() == (71,)


def test_pending_rows_are_durable_once_committed(tmp_path):
    path = tmp_path / "db"
    c = rustmemodb.connect(str(path))
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    c.execute("BEGIN")
    for i in range(100):
        c.execute("INSERT INTO t VALUES (?, ?)", (i, f"v{i}"))
    c.execute("COMMIT")
    c.execute("BEGIN")
    c.execute("INSERT INTO t VALUES (?, ?)", (1000, "lost"))
    c.close()                                    # open transaction: rolled back
    again = rustmemodb.connect(str(path))
    assert again.execute("SELECT count(*), max(id) FROM t").fetchone() == (100, 99)
    again.close()
