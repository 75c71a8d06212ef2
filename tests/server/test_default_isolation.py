"""The isolation of a wire client's transactions: PostgreSQL's READ COMMITTED unless the
client (SET, the startup packet, its role) or the server (``default_isolation``,
``--default-isolation``) says otherwise; the embedded API keeps REPEATABLE READ.

What it changes for a client: the most common concurrent pattern (psycopg's default
transactions incrementing a hot row from several connections) commits every
transaction, as against PostgreSQL 15 (checked side by side), where under REPEATABLE
READ about half fail with 40001.
"""
from __future__ import annotations

import random
import threading

import psycopg
import pytest

import rustmemodb
from rustmemodb.server.__main__ import build_parser

USER, PASSWORD = "admin", "s3cret"          # as tests/server/conftest.py serves


def _show(dsn: str, **kwargs) -> tuple[str, str]:
    with psycopg.connect(dsn, **kwargs) as conn:
        return (conn.execute("SHOW default_transaction_isolation").fetchone()[0],
                conn.execute("SHOW transaction_isolation").fetchone()[0])


def test_a_client_starts_in_read_committed_as_against_postgresql(dsn, pg_dsn):
    assert _show(dsn) == _show(pg_dsn) == ("read committed", "read committed")
    rr = "-c default_transaction_isolation=repeatable\\ read"
    assert _show(dsn, options=rr) == _show(pg_dsn, options=rr) == \
        ("repeatable read", "repeatable read")


def test_set_reset_and_set_to_default(dsn, pg_dsn):
    def steps(target: str) -> list:
        out = []
        with psycopg.connect(target, autocommit=True) as conn:
            for sql in ("SET default_transaction_isolation = 'repeatable read'",
                        "RESET default_transaction_isolation",
                        "SET default_transaction_isolation = 'serializable'",
                        "SET default_transaction_isolation TO DEFAULT",
                        "BEGIN ISOLATION LEVEL REPEATABLE READ"):
                conn.execute(sql)
                out.append((conn.execute("SHOW default_transaction_isolation").fetchone()[0],
                            conn.execute("SHOW transaction_isolation").fetchone()[0]))
            conn.execute("ROLLBACK")
        return out
    assert steps(dsn) == steps(pg_dsn)


def _hot_counter(dsn: str, threads: int = 8, each: int = 40, keys: int = 3,
                 keep: bool = False) -> tuple:
    """``threads`` connections in psycopg's default mode (a transaction per statement
    until commit) increment random rows of ``keys``: (failures, sum of the rows); the
    table is dropped after unless ``keep``."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS hot")
        conn.execute("CREATE TABLE hot (id int PRIMARY KEY, n int NOT NULL)")
        conn.execute(f"INSERT INTO hot SELECT g, 0 FROM generate_series(1, {keys}) g")
    failures: list[str] = []

    def work(seed: int) -> None:
        pick = random.Random(seed)
        with psycopg.connect(dsn) as conn:
            for _ in range(each):
                try:
                    conn.execute("UPDATE hot SET n = n + 1 WHERE id = %s",
                                 (pick.randint(1, keys),))
                    conn.commit()
                except psycopg.Error as exc:
                    failures.append(exc.sqlstate)
                    conn.rollback()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    with psycopg.connect(dsn, autocommit=True) as conn:
        total = conn.execute("SELECT sum(n) FROM hot").fetchone()[0]
        if not keep:
            conn.execute("DROP TABLE hot")
    return failures, total


def test_concurrent_increments_of_a_hot_row_all_commit(dsn, pg_dsn):
    assert _hot_counter(dsn) == _hot_counter(pg_dsn) == ([], 8 * 40)


def test_the_server_can_default_to_repeatable_read(engine):
    with rustmemodb.serve(engine, users={USER: PASSWORD},
                          default_isolation="repeatable read") as srv:
        dsn = f"host=127.0.0.1 port={srv.port} user={USER} password={PASSWORD} dbname=main"
        assert _show(dsn) == ("repeatable read", "repeatable read")
        failures, total = _hot_counter(dsn)
        assert failures and set(failures) == {"40001"}       # first committer wins
        assert total == 8 * 40 - len(failures)                # the losers changed nothing


def test_the_embedded_default_stays_repeatable_read(engine, dsn):
    assert _show(dsn)[0] == "read committed"                  # a client of the same data
    assert engine.execute("SHOW default_transaction_isolation").fetchone() == \
        ("repeatable read",)


def test_bad_default_isolation_is_refused(engine):
    with pytest.raises(rustmemodb.errors.Error) as info:
        rustmemodb.serve(engine, users={USER: PASSWORD}, default_isolation="snapshot")
    assert info.value.sqlstate == "22023"
    args = build_parser().parse_args(["--default-isolation", "repeatable read"])
    assert args.default_isolation == "repeatable read"
    assert build_parser().parse_args([]).default_isolation == "read committed"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--default-isolation", "snapshot"])


def test_a_rerun_that_would_tell_the_client_otherwise_fails(dsn):
    """A READ COMMITTED transaction that loses a write race runs again on the newest
    data; it commits only if every statement returns what it returned the first time
    (row counts, RETURNING rows). A counter's RETURNING or a serial id drawn again
    would differ from what the client already holds: 40001, nothing committed."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("CREATE TABLE c (id int PRIMARY KEY, n int NOT NULL)")
        admin.execute("CREATE TABLE parent (id serial PRIMARY KEY, note text)")
        admin.execute("INSERT INTO c VALUES (1, 0), (2, 0)")
        with psycopg.connect(dsn) as a:
            # no RETURNING: the re-run's effect is what PostgreSQL's waiting UPDATE does
            a.execute("UPDATE c SET n = n + 1 WHERE id = 1")
            admin.execute("UPDATE c SET n = n + 10 WHERE id = 1")
            a.commit()
            assert admin.execute("SELECT n FROM c WHERE id = 1").fetchone() == (11,)
            # RETURNING told the client 12; the re-run would return 112
            assert a.execute("UPDATE c SET n = n + 1 WHERE id = 1 RETURNING n"
                             ).fetchone() == (12,)
            admin.execute("UPDATE c SET n = n + 100 WHERE id = 1")
            with pytest.raises(psycopg.errors.SerializationFailure) as info:
                a.commit()
            assert "returned other rows" in info.value.diag.message_detail
            assert admin.execute("SELECT n FROM c WHERE id = 1").fetchone() == (111,)
            # a serial id the client holds, in a transaction that also loses a race
            (pid,) = a.execute("INSERT INTO parent (note) VALUES ('x') RETURNING id"
                               ).fetchone()
            a.execute("UPDATE c SET n = n + 1 WHERE id = 2")
            admin.execute("UPDATE c SET n = n + 1 WHERE id = 2")
            with pytest.raises(psycopg.errors.SerializationFailure):
                a.commit()
            assert admin.execute("SELECT count(*) FROM parent").fetchone() == (0,)
            assert admin.execute("SELECT n FROM c WHERE id = 2").fetchone() == (1,)
            assert pid >= 1


@pytest.mark.parametrize("fsync", ["process", "uring", False])
def test_hot_row_increments_on_a_durable_database_all_commit(tmp_path, fsync):
    """With sync durability a commit is published only once its fsync returned; a READ
    COMMITTED transaction that loses to one still waiting runs again after it (its
    commit then waits for that fsync too) instead of failing on it over and over."""
    conn = rustmemodb.connect(str(tmp_path / "db"), "sync")
    try:
        with rustmemodb.serve(conn, users={USER: PASSWORD}, fsync_helper=fsync) as srv:
            dsn = f"host=127.0.0.1 port={srv.port} user={USER} password={PASSWORD} dbname=main"
            assert _hot_counter(dsn, threads=6, each=30, keys=1, keep=True) == ([], 6 * 30)
    finally:
        conn.close()
    again = rustmemodb.connect(str(tmp_path / "db"), "sync")
    try:                                   # every acknowledged increment is durable
        assert again.execute("SELECT n FROM hot").fetchall() == [(6 * 30,)]
    finally:
        again.close()
