"""SELECT ... FOR UPDATE / FOR SHARE (sql/bind/bind_locks.py, exec/operators/lock_rows.py):
the rows a transaction locked count as written when transactions commit, so a concurrent
change of one of them and the locker cannot both commit -- whichever commits second gets
40001, as snapshot isolation's first committer wins. The classic case it exists for: a
decision written elsewhere (row B) from a row read (row A) while another transaction
changes A."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def pair(tmp_path):
    path = str(tmp_path / "db")
    a, b = rustmemodb.connect(path), rustmemodb.connect(path)
    a.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)")
    a.execute("INSERT INTO acct VALUES (1, 100), (2, 50)")
    a.execute("CREATE TABLE audit (id INTEGER, note TEXT)")
    yield a, b
    a.close()
    b.close()


def _fails_to_commit(conn) -> str:
    with pytest.raises(errors.Error) as info:
        conn.execute("COMMIT")
    return info.value.sqlstate


def test_locker_loses_when_the_locked_row_changed_first(pair):
    a, b = pair
    a.execute("BEGIN")
    b.execute("BEGIN")
    assert a.execute("SELECT bal FROM acct WHERE id = 1 FOR UPDATE").fetchall() == [(100,)]
    b.execute("UPDATE acct SET bal = 0 WHERE id = 1")
    b.execute("COMMIT")
    a.execute("INSERT INTO audit VALUES (1, 'balance was 100')")
    assert _fails_to_commit(a) == "40001"
    assert a.execute("SELECT count(*) FROM audit").fetchall() == [(0,)]


def test_writer_loses_when_the_locker_committed_first(pair):
    a, b = pair
    a.execute("BEGIN")
    b.execute("BEGIN")
    b.execute("SELECT 1")                                  # b's snapshot is taken now
    a.execute("SELECT * FROM acct WHERE id = 2 FOR UPDATE")
    a.execute("INSERT INTO audit VALUES (2, 'x')")
    a.execute("COMMIT")
    b.execute("UPDATE acct SET bal = 1 WHERE id = 2")
    assert _fails_to_commit(b) == "40001"


def test_unlocked_rows_and_lock_only_transactions_commit(pair):
    a, b = pair
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("SELECT * FROM acct WHERE id = 1 FOR SHARE")
    b.execute("UPDATE acct SET bal = 7 WHERE id = 2")      # not a locked row
    b.execute("COMMIT")
    a.execute("COMMIT")                                     # locked, wrote nothing
    assert a.execute("SELECT bal FROM acct ORDER BY id").fetchall() == [(100,), (7,)]


def test_locks_write_nothing_to_the_log(pair, tmp_path):
    a, _ = pair
    wal = tmp_path / "db" / "wal"
    before = sum(f.stat().st_size for f in wal.iterdir())
    a.execute("BEGIN")
    a.execute("SELECT * FROM acct FOR UPDATE")
    a.execute("COMMIT")
    assert sum(f.stat().st_size for f in wal.iterdir()) == before


def test_autocommit_for_update_just_reads(pair):
    a, _ = pair
    assert a.execute("SELECT id FROM acct WHERE bal > 60 FOR UPDATE NOWAIT").fetchall() == [(1,)]
