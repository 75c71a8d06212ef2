"""Snapshot isolation between connections of one database; first committer wins."""
import threading

import pytest

import rustmemodb


@pytest.fixture
def db():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)")
    c.execute("INSERT INTO acct VALUES (1, 100), (2, 100), (3, 100)")
    return c.database


def test_reader_keeps_its_snapshot(db):
    a, b = db.connect(), db.connect()
    a.execute("BEGIN")
    assert a.execute("SELECT bal FROM acct WHERE id = 1").fetchone() == (100,)
    b.execute("UPDATE acct SET bal = 50 WHERE id = 1")        # autocommit writer not blocked
    assert a.execute("SELECT bal FROM acct WHERE id = 1").fetchone() == (100,)
    a.execute("COMMIT")
    assert a.execute("SELECT bal FROM acct WHERE id = 1").fetchone() == (50,)


def test_uncommitted_changes_invisible(db):
    a, b = db.connect(), db.connect()
    a.execute("BEGIN")
    a.execute("INSERT INTO acct VALUES (4, 1)")
    assert b.execute("SELECT count(*) FROM acct").fetchone() == (3,)
    a.execute("ROLLBACK")
    assert b.execute("SELECT count(*) FROM acct").fetchone() == (3,)


def test_write_write_conflict_second_committer_fails(db):
    a, b = db.connect(), db.connect()
    a.execute("BEGIN"); b.execute("BEGIN")
    a.execute("UPDATE acct SET bal = bal - 10 WHERE id = 1")
    b.execute("UPDATE acct SET bal = bal - 20 WHERE id = 1")
    a.execute("COMMIT")
    with pytest.raises(rustmemodb.SerializationFailure) as e:
        b.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert a.execute("SELECT bal FROM acct WHERE id = 1").fetchone() == (90,)
    assert not b.in_transaction


def test_non_overlapping_writers_both_commit(db):
    a, b = db.connect(), db.connect()
    a.execute("BEGIN"); b.execute("BEGIN")
    a.execute("UPDATE acct SET bal = 1 WHERE id = 1")
    b.execute("UPDATE acct SET bal = 2 WHERE id = 2")
    b.execute("INSERT INTO acct VALUES (10, 10)")
    a.execute("INSERT INTO acct VALUES (11, 11)")
    a.execute("COMMIT"); b.execute("COMMIT")
    rows = dict(a.execute("SELECT id, bal FROM acct").fetchall())
    assert rows == {1: 1, 2: 2, 3: 100, 10: 10, 11: 11}


def test_same_new_key_conflicts(db):
    a, b = db.connect(), db.connect()
    a.execute("BEGIN"); b.execute("BEGIN")
    a.execute("INSERT INTO acct VALUES (7, 1)")
    b.execute("INSERT INTO acct VALUES (7, 2)")
    a.execute("COMMIT")
    with pytest.raises(rustmemodb.Error) as e:
        b.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert a.execute("SELECT bal FROM acct WHERE id = 7").fetchone() == (1,)


def test_delete_vs_update_conflict(db):
    a, b = db.connect(), db.connect()
    a.execute("BEGIN"); b.execute("BEGIN")
    a.execute("DELETE FROM acct WHERE id = 3")
    b.execute("UPDATE acct SET bal = 0 WHERE id = 3")
    b.execute("COMMIT")
    with pytest.raises(rustmemodb.SerializationFailure):
        a.execute("COMMIT")


def test_ddl_conflicts_with_concurrent_writes(db):
    a, b = db.connect(), db.connect()
    a.execute("BEGIN"); b.execute("BEGIN")
    a.execute("DROP TABLE acct")
    b.execute("INSERT INTO acct VALUES (20, 1)")
    b.execute("COMMIT")
    with pytest.raises(rustmemodb.SerializationFailure):
        a.execute("COMMIT")


def test_concurrent_transfers_preserve_total(db):
    """Threads move money with retries; the total is invariant (no lost updates)."""
    errors = []

    def worker(seed: int) -> None:
        c = db.connect()
        for i in range(60):
            src, dst = (seed + i) % 3 + 1, (seed + i + 1) % 3 + 1
            while True:
                try:
                    c.execute("BEGIN")
                    c.execute("UPDATE acct SET bal = bal - 1 WHERE id = ?", [src])
                    c.execute("UPDATE acct SET bal = bal + 1 WHERE id = ?", [dst])
                    c.execute("COMMIT")
                    break
                except rustmemodb.SerializationFailure:
                    continue
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                    return

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    c = db.connect()
    assert c.execute("SELECT sum(bal) FROM acct").fetchone() == (300,)


def test_lost_update_prevented_interleaving(db):
    """Read-modify-write from two sessions: exactly one wins, no update is lost."""
    a, b = db.connect(), db.connect()
    a.execute("BEGIN"); b.execute("BEGIN")
    va = a.execute("SELECT bal FROM acct WHERE id = 2").fetchone()[0]
    vb = b.execute("SELECT bal FROM acct WHERE id = 2").fetchone()[0]
    a.execute("UPDATE acct SET bal = ? WHERE id = 2", [va + 1])
    b.execute("UPDATE acct SET bal = ? WHERE id = 2", [vb + 1])
    a.execute("COMMIT")
    with pytest.raises(rustmemodb.SerializationFailure):
        b.execute("COMMIT")
    assert a.execute("SELECT bal FROM acct WHERE id = 2").fetchone() == (101,)


def test_many_single_row_inserts_in_a_transaction_roll_back_and_log_exactly(tmp_path):
    """Consecutive single-row INSERTs extend one logged op (no tracked objects per row):
    a failed statement and ROLLBACK TO SAVEPOINT cut exactly their rows from it, a
    concurrent commit rebases it, and the log replays it after a reopen."""
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    other = conn.database.connect()
    conn.execute("BEGIN")
    for i in range(1, 101):
        conn.execute("INSERT INTO t VALUES (?, ?)", (i, f"v{i}"))
    conn.execute("SAVEPOINT s")
    for i in range(101, 151):
        conn.execute("INSERT INTO t VALUES (?, ?)", (i, f"v{i}"))
    conn.execute("ROLLBACK TO SAVEPOINT s")
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("INSERT INTO t VALUES (?, ?), (?, ?)", (151, "x", 5, "dup"))
    conn.execute("ROLLBACK TO SAVEPOINT s")
    for i in range(151, 161):
        conn.execute("INSERT INTO t VALUES (?, ?)", (i, f"v{i}"))
    other.execute("INSERT INTO t VALUES (1000, 'theirs')")   # commits first: ours rebases
    conn.execute("COMMIT")
    want = [(i, f"v{i}") for i in list(range(1, 101)) + list(range(151, 161))] + \
        [(1000, "theirs")]
    assert conn.execute("SELECT id, v FROM t ORDER BY id").fetchall() == want
    conn.close()
    other.close()
    again = rustmemodb.connect(path)
    assert again.execute("SELECT id, v FROM t ORDER BY id").fetchall() == want
    again.close()


def test_many_updates_in_a_transaction_roll_back_and_replay_in_order(tmp_path):
    """UPDATEs of distinct rows extend one logged op and a row updated again starts a
    new one, so rebase and log replay apply each row's versions in order; ROLLBACK TO
    SAVEPOINT cuts exactly the rows updated after it."""
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, 0)", [(i,) for i in range(1, 51)])
    other = conn.database.connect()
    conn.execute("BEGIN")
    for i in range(1, 31):
        conn.execute("UPDATE t SET n = n + 1 WHERE id = ?", (i,))
    conn.execute("SAVEPOINT s")
    for i in range(31, 41):
        conn.execute("UPDATE t SET n = n + 100 WHERE id = ?", (i,))
    conn.execute("ROLLBACK TO SAVEPOINT s")
    for i in range(1, 11):                              # the same rows again
        conn.execute("UPDATE t SET n = n * 10 WHERE id = ?", (i,))
    for i in range(31, 36):                             # rows the savepoint gave back
        conn.execute("UPDATE t SET n = n + 5 WHERE id = ?", (i,))
    other.execute("UPDATE t SET n = 7 WHERE id = 50")  # commits first: ours rebases
    conn.execute("COMMIT")
    want = [(i, 10 if i <= 10 else 1 if i <= 30 else 5 if i <= 35 else 7 if i == 50 else 0)
            for i in range(1, 51)]
    assert conn.execute("SELECT id, n FROM t ORDER BY id").fetchall() == want
    conn.close()
    other.close()
    again = rustmemodb.connect(path)
    assert again.execute("SELECT id, n FROM t ORDER BY id").fetchall() == want
    again.close()
