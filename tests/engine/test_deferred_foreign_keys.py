"""DEFERRABLE foreign keys (exec/deferred_checks.py) beyond what tests/sql shows: the
declaration survives the log and a checkpoint, a deferred check still conflicts with a
concurrent removal of the parent key, a failed COMMIT leaves the session usable, and a
wire client's transaction (psycopg, READ COMMITTED by default) commits a child written
before its parent as against PostgreSQL."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors

FK_SQL = ("CREATE TABLE c (id INTEGER PRIMARY KEY, "
          "pid INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)")


def _flags(conn) -> list:
    return conn.execute("SELECT conname, condeferrable, condeferred FROM pg_constraint "
                        "WHERE contype = 'f' ORDER BY conname").fetchall()


def test_deferrability_survives_the_log_and_a_checkpoint(tmp_path):
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path, "sync")
    conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    conn.execute(FK_SQL)
    conn.execute("CREATE TABLE i (id INTEGER, pid INTEGER, CONSTRAINT i_fk FOREIGN KEY (pid) "
                 "REFERENCES p (id) DEFERRABLE)")
    expected = [("c_pid_fkey", True, True), ("i_fk", True, False)]
    assert _flags(conn) == expected
    conn.close()
    again = rustmemodb.connect(path, "sync")          # from the log
    try:
        assert _flags(again) == expected
        again._session.db.checkpoint(force=True)
    finally:
        again.close()
    third = rustmemodb.connect(path, "sync")          # from the checkpoint
    try:
        assert _flags(third) == expected
        third.execute("BEGIN")
        third.execute("INSERT INTO c VALUES (1, 7)")
        third.execute("INSERT INTO p VALUES (7)")
        third.execute("COMMIT")
        assert third.execute("SELECT pid FROM c").fetchall() == [(7,)]
    finally:
        third.close()


def test_a_deferred_check_conflicts_with_a_concurrent_removal_of_its_parent():
    a = rustmemodb.connect()
    a.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    a.execute(FK_SQL)
    a.execute("INSERT INTO p VALUES (1)")
    b = a.database.connect()
    a.execute("BEGIN")
    a.execute("INSERT INTO c VALUES (1, 1)")   # deferred: the parent is read at COMMIT
    b.execute("BEGIN")
    b.execute("DELETE FROM p WHERE id = 1")    # no child visible to b: allowed
    b.execute("COMMIT")
    with pytest.raises(errors.Error) as info:
        a.execute("COMMIT")
    assert info.value.sqlstate in ("23503", "40001")
    assert a.execute("SELECT count(*) FROM c").fetchone() == (0,)


def test_a_failed_commit_rolls_back_and_the_session_goes_on():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    conn.execute(FK_SQL)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO p VALUES (5)")
    conn.execute("INSERT INTO c VALUES (1, 6)")
    with pytest.raises(errors.Error) as info:
        conn.execute("COMMIT")
    assert info.value.sqlstate == "23503"
    assert 'Key (pid)=(6) is not present in table "p"' in str(info.value)
    assert conn.execute("SELECT count(*) FROM p").fetchone() == (0,)
    conn.execute("BEGIN")                       # a new transaction starts clean
    conn.execute("INSERT INTO p VALUES (6)")
    conn.execute("INSERT INTO c VALUES (1, 6)")
    conn.execute("COMMIT")
    assert conn.execute("SELECT id, pid FROM c").fetchall() == [(1, 6)]


def test_statement_that_fails_drops_the_checks_it_deferred():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    conn.execute(FK_SQL)
    conn.execute("INSERT INTO p VALUES (1)")
    conn.execute("INSERT INTO c VALUES (1, 1)")
    conn.execute("BEGIN")
    conn.execute("SAVEPOINT s")
    with pytest.raises(errors.Error):          # (2, 9) deferred, then (1, 9) is a 23505
        conn.execute("INSERT INTO c VALUES (2, 9), (1, 9)")
    conn.execute("ROLLBACK TO SAVEPOINT s")
    conn.execute("COMMIT")                     # nothing of the failed statement is checked


def _wire_script(dsn: str, psycopg) -> list:
    out = []
    with psycopg.connect(dsn) as conn:          # not autocommit: a transaction block
        conn.execute("DROP TABLE IF EXISTS dc")
        conn.execute("DROP TABLE IF EXISTS dp")
        conn.execute("CREATE TABLE dp (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE dc (id INTEGER PRIMARY KEY, pid INTEGER "
                     "REFERENCES dp (id) DEFERRABLE INITIALLY DEFERRED)")
        conn.commit()
        conn.execute("INSERT INTO dc VALUES (%s, %s)", (1, 10))
        conn.execute("INSERT INTO dp VALUES (%s)", (10,))
        conn.commit()
        conn.execute("INSERT INTO dc VALUES (%s, %s)", (2, 11))
        try:
            conn.commit()
        except psycopg.errors.ForeignKeyViolation as exc:
            out.append(("commit refused", exc.sqlstate, exc.diag.message_detail))
        out.append(conn.execute("SELECT id, pid FROM dc ORDER BY id").fetchall())
        conn.commit()
        conn.execute("DROP TABLE dc")
        conn.execute("DROP TABLE dp")
        conn.commit()
    return out


def test_a_wire_client_defers_as_on_postgresql(pg_dsn):
    psycopg = pytest.importorskip("psycopg")
    conn = rustmemodb.connect()
    with rustmemodb.serve(conn, auth="trust") as srv:
        ours = _wire_script(f"host=127.0.0.1 port={srv.port} user=admin dbname=main", psycopg)
    theirs = _wire_script(pg_dsn, psycopg)
    assert ours == theirs
    assert ours[0][:2] == ("commit refused", "23503")


def test_commit_reports_the_earliest_deferred_violation_among_many():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    conn.execute(FK_SQL)
    conn.execute("CREATE TABLE c2 (id INTEGER PRIMARY KEY, pid INTEGER "
                 "REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO c VALUES (?, ?)", [(i, 1000 + i) for i in range(300)])
    conn.execute("INSERT INTO c2 VALUES (1, 5000)")
    conn.execute("INSERT INTO p SELECT 1000 + i FROM generate_series(0, 298) i")
    conn.execute("DELETE FROM c WHERE id < 100")
    with pytest.raises(errors.Error) as info:
        conn.execute("COMMIT")    # c's (299, 1299) was deferred before c2's (1, 5000)
    assert info.value.sqlstate == "23503"
    assert 'Key (pid)=(1299) is not present in table "p"' in str(info.value)
    assert 'table "c"' in str(info.value)
