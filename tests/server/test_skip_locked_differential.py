"""The job-queue pattern through psycopg, against this server and PostgreSQL 15: workers in
open transactions take rows with ``FOR UPDATE SKIP LOCKED`` and never the same one, and
``NOWAIT`` on a held row is 55P03 (txn/row_claims.py, exec/operators/lock_rows.py)."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")

TAKE = "SELECT id FROM sl_jobs WHERE state = 'new' ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"


def _setup(dsn: str) -> list:
    admin = psycopg.connect(dsn, autocommit=True)
    admin.execute("DROP TABLE IF EXISTS sl_jobs")
    admin.execute("CREATE TABLE sl_jobs (id INTEGER PRIMARY KEY, state TEXT)")
    admin.execute("INSERT INTO sl_jobs SELECT g, 'new' FROM generate_series(1, 5) AS g")
    return [admin] + [psycopg.connect(dsn) for _ in range(2)]     # workers: not autocommit


def _scenario(dsn: str) -> list:
    admin, a, b = _setup(dsn)
    try:
        seen = [a.execute(TAKE, (1,)).fetchall(), b.execute(TAKE, (2,)).fetchall()]
        b.execute("UPDATE sl_jobs SET state = 'done' WHERE id = 2")
        seen.append(a.execute(TAKE, (9,)).fetchall())       # its own row stays visible
        try:
            b.execute("SELECT id FROM sl_jobs WHERE id = 1 FOR UPDATE NOWAIT")
            seen.append("no error")
        except psycopg.errors.LockNotAvailable as exc:
            seen.append(exc.sqlstate)
        b.rollback()
        a.execute("UPDATE sl_jobs SET state = 'done' WHERE id = 1")
        a.commit()
        b.execute("BEGIN")       # a fresh transaction sees job 1 done, 2 back to new
        seen.append(b.execute(TAKE, (9,)).fetchall())
        b.commit()
        seen.append(admin.execute("SELECT id, state FROM sl_jobs ORDER BY id").fetchall())
        return seen
    finally:
        for c in (a, b):
            c.close()
        admin.execute("DROP TABLE sl_jobs")
        admin.close()


def test_queue_workers_as_postgresql(dsn, pg_dsn):
    ours, theirs = _scenario(dsn), _scenario(pg_dsn)
    assert ours == theirs
    assert ours[0] == [(1,)] and ours[1] == [(2,), (3,)]
    assert ours[3] == "55P03"
