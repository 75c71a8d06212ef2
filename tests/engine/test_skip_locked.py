"""SELECT ... FOR UPDATE SKIP LOCKED and NOWAIT (txn/row_claims.py,
exec/operators/lock_rows.py): the job-queue pattern. Workers in open transactions each
take the first row nobody else holds; NOWAIT fails with 55P03 on a held row instead of
waiting. Expected behaviour as PostgreSQL 15's (its answers were checked by hand on a
throwaway server; the wire test runs the same through psycopg)."""
from __future__ import annotations

import threading

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def queue(tmp_path):
    path = str(tmp_path / "db")
    main = rustmemodb.connect(path)
    main.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT, worker TEXT)")
    main.executemany("INSERT INTO jobs VALUES (?, 'new', NULL)", [(i,) for i in range(1, 7)])
    conns = [rustmemodb.connect(path) for _ in range(3)]
    yield main, conns
    for c in conns + [main]:
        c.close()


TAKE = "SELECT id FROM jobs WHERE state = 'new' ORDER BY id LIMIT {n} FOR UPDATE SKIP LOCKED"


def test_workers_take_different_rows(queue):
    _, (a, b, c) = queue
    for w in (a, b, c):
        w.execute("BEGIN")
    assert a.execute(TAKE.format(n=1)).fetchall() == [(1,)]
    assert b.execute(TAKE.format(n=1)).fetchall() == [(2,)]
    assert c.execute(TAKE.format(n=2)).fetchall() == [(3,), (4,)]
    # only the rows returned are locked: LIMIT 1 left 2.. free for the others
    assert a.execute(TAKE.format(n=10)).fetchall() == [(1,), (5,), (6,)]


def test_claims_end_with_the_transaction(queue):
    main, (a, b, _) = queue
    a.execute("BEGIN")
    b.execute("BEGIN")
    assert a.execute(TAKE.format(n=1)).fetchall() == [(1,)]
    a.execute("ROLLBACK")
    assert b.execute(TAKE.format(n=1)).fetchall() == [(1,)]
    b.execute("UPDATE jobs SET state = 'done' WHERE id = 1")
    b.execute("COMMIT")
    a.execute("BEGIN")
    assert a.execute(TAKE.format(n=1)).fetchall() == [(2,)]
    a.execute("COMMIT")
    assert main.execute("SELECT id, state FROM jobs WHERE state <> 'new'").fetchall() == \
        [(1, "done")]


def test_rows_changed_by_an_open_transaction_are_skipped(queue):
    _, (a, b, _) = queue
    a.execute("BEGIN")
    a.execute("UPDATE jobs SET worker = 'a' WHERE id IN (1, 2)")
    a.execute("DELETE FROM jobs WHERE id = 3")
    b.execute("BEGIN")
    assert b.execute(TAKE.format(n=1)).fetchall() == [(4,)]


def test_share_locks_skip_only_exclusive_claims(queue):
    _, (a, b, c) = queue
    for w in (a, b, c):
        w.execute("BEGIN")
    a.execute("SELECT id FROM jobs WHERE id = 1 FOR SHARE")
    b.execute("SELECT id FROM jobs WHERE id = 2 FOR UPDATE")
    assert c.execute("SELECT id FROM jobs WHERE id <= 3 ORDER BY id "
                     "FOR SHARE SKIP LOCKED").fetchall() == [(1,), (3,)]
    assert c.execute("SELECT id FROM jobs WHERE id <= 3 ORDER BY id "
                     "FOR UPDATE SKIP LOCKED").fetchall() == [(3,)]


def test_own_claims_and_other_columns(queue):
    _, (a, _, _) = queue
    a.execute("BEGIN")
    a.execute("UPDATE jobs SET worker = 'a' WHERE id = 1")
    rows = a.execute("SELECT id, worker, state FROM jobs ORDER BY id LIMIT 2 "
                     "FOR UPDATE SKIP LOCKED").fetchall()
    assert rows == [(1, "a", "new"), (2, None, "new")]       # its own changes are not skipped
    cur = a.execute("SELECT * FROM jobs WHERE id = 3 FOR UPDATE SKIP LOCKED")
    assert [d[0] for d in cur.description] == ["id", "state", "worker"]   # no _rowid


def test_nowait_fails_on_a_held_row_and_passes_otherwise(queue):
    _, (a, b, _) = queue
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("SELECT * FROM jobs WHERE id = 1 FOR UPDATE")
    assert b.execute("SELECT id FROM jobs WHERE id = 2 FOR UPDATE NOWAIT").fetchall() == [(2,)]
    with pytest.raises(errors.Error) as info:
        b.execute("SELECT id FROM jobs WHERE id <= 2 FOR UPDATE NOWAIT")
    assert info.value.sqlstate == "55P03"
    assert 'relation "jobs"' in str(info.value)
    b.execute("ROLLBACK")
    a.execute("COMMIT")
    b.execute("BEGIN")
    assert b.execute("SELECT id FROM jobs WHERE id = 1 FOR UPDATE NOWAIT").fetchall() == [(1,)]


def test_autocommit_skip_locked_sees_open_claims(queue):
    main, (a, _, _) = queue
    a.execute("BEGIN")
    a.execute(TAKE.format(n=2))
    assert main.execute(TAKE.format(n=1)).fetchall() == [(3,)]


def test_update_with_a_skip_locked_subquery(queue):
    main, (a, b, _) = queue
    a.execute("BEGIN")
    a.execute(TAKE.format(n=1))
    claim = ("UPDATE jobs SET state = 'running', worker = 'b' WHERE id = "
             f"({TAKE.format(n=1)}) RETURNING id")
    b.execute("BEGIN")
    assert b.execute(claim).fetchall() == [(2,)]
    b.execute("COMMIT")
    a.execute("COMMIT")


def test_unsupported_shapes_are_clear_errors(queue):
    main, _ = queue
    with pytest.raises(errors.NotSupportedError):
        main.execute("SELECT x.a FROM jobs AS x(a, b, c) FOR UPDATE SKIP LOCKED")
    with pytest.raises(errors.NotSupportedError):
        main.execute("SELECT count(*) FROM jobs FOR UPDATE SKIP LOCKED")


@pytest.mark.parametrize("slow_log", [False, True])
def test_concurrent_workers_process_each_job_once(tmp_path, monkeypatch, slow_log):
    """Four threads drain a 200-job queue: every job done exactly once, and no worker's
    commit fails, because no two ever claimed the same row. ``slow_log``: every commit
    takes a while to log (inside the commit lock, where it has left the open
    transactions and is not in the commit log yet: a claimer must not miss it there)."""
    if slow_log:
        import time
        from rustmemodb.database import Database
        stamp = Database._stamp_and_log

        def slowly(self, *args):
            time.sleep(0.0005)
            return stamp(self, *args)
        monkeypatch.setattr(Database, "_stamp_and_log", slowly)
    path = str(tmp_path / "db")
    main = rustmemodb.connect(path)
    main.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT, worker INTEGER)")
    main.executemany("INSERT INTO jobs VALUES (?, 'new', NULL)", [(i,) for i in range(200)])
    failures: list = []

    def work(n: int) -> None:
        conn = rustmemodb.connect(path)
        try:
            while True:
                conn.execute("BEGIN")
                got = conn.execute(TAKE.format(n=1)).fetchall()
                if not got:
                    conn.execute("ROLLBACK")
                    return
                conn.execute("UPDATE jobs SET state = 'done', worker = ? WHERE id = ?",
                             (n, got[0][0]))
                conn.execute("COMMIT")
        except errors.Error as exc:         # pragma: no cover - the failure under test
            failures.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert main.execute("SELECT count(*), count(DISTINCT id) FROM jobs "
                        "WHERE state = 'done'").fetchall() == [(200, 200)]
    main.close()
