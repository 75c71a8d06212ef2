"""Session.point_writer: a cached point write's writer does what ``execute`` does for
it in autocommit (same rows, same result, same errors, durable the same way) and
declines (None, nothing changed) everywhere ``execute`` could do otherwise."""
from __future__ import annotations

import pytest
import rustmemodb
from rustmemodb import errors

UPD = "UPDATE t SET v = $1 WHERE id = $2"


def _conn(path=None):
    c = rustmemodb.connect(path, "sync") if path else rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    c.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    return c


def _rows(c):
    return c.execute("SELECT id, v FROM t ORDER BY id").fetchall()


def test_no_writer_before_the_plan_is_cached_or_for_reads():
    c = _conn()
    s = c._session
    assert s.point_writer(UPD) is None                       # not planned yet
    c.execute(UPD, ("x", 1))
    assert s.point_writer(UPD) is not None
    c.execute("SELECT v FROM t WHERE id = $1", (1,))
    assert s.point_writer("SELECT v FROM t WHERE id = $1") is None


def test_writer_declines_what_needs_a_transaction():
    c = _conn()
    c.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0))")
    c.execute("INSERT INTO u VALUES (1, 1)")
    sql = "UPDATE u SET n = $1 WHERE id = $2"
    c.execute(sql, (2, 1))
    write = c._session.point_writer(sql)
    if write is not None:                                    # the CHECK: declined per call
        assert write([-5, 1]) is None and write([3, 1]) is None
    assert c.execute("SELECT n FROM u").fetchall() == [(2,)]
    with pytest.raises(errors.IntegrityError):               # execute's way checks it
        c.execute(sql, (-5, 1))


def test_writer_writes_as_execute_does():
    c = _conn()
    s = c._session
    c.execute(UPD, ("x", 1))
    write = s.point_writer(UPD)
    result = write(["y", 2])
    assert result.kind == "UPDATE" and result.rowcount == 1
    assert write(["z", 9]).rowcount == 0                     # no such row
    assert _rows(c) == [(1, "x"), (2, "y")]
    other = c.database.connect()
    assert other.execute("SELECT v FROM t WHERE id = 2").fetchone() == ("y",)   # published
    with pytest.raises(errors.IntegrityError) as err:        # NOT NULL: nothing changed
        write([None, 1])
    assert err.value.sqlstate == "23502"
    assert _rows(c) == [(1, "x"), (2, "y")]
    with pytest.raises(errors.ProgrammingError):             # a TEXT slot given an int
        write([5, 1])
    assert _rows(c) == [(1, "x"), (2, "y")]


def test_writer_declines_in_a_transaction_read_only_with_temp_tables_and_roles():
    c = _conn()
    s = c._session
    c.execute(UPD, ("x", 1))
    write = s.point_writer(UPD)
    c.execute("BEGIN")
    assert write(["t", 1]) is None                           # execute writes the transaction
    c.execute("ROLLBACK")
    c.execute("SET default_transaction_read_only = on")
    assert write(["r", 1]) is None                           # execute refuses: 25006
    c.execute("SET default_transaction_read_only = off")
    c.execute("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    assert write(["tmp", 1]) is None                         # t is the temporary table
    c.execute("DROP TABLE t")
    c.execute("CREATE ROLE alice")
    s.auth_user = "alice"
    assert write(["role", 1]) is None                        # execute checks privileges
    s.auth_user = None
    assert _rows(c) == [(1, "x"), (2, "b")]
    assert write(["w", 1]).rowcount == 1


def test_writer_goes_stale_after_ddl():
    c = _conn()
    s = c._session
    c.execute(UPD, ("x", 1))
    write = s.point_writer(UPD)
    c.execute("ALTER TABLE t ADD COLUMN w INTEGER")
    assert write(["y", 1]) is None and write.stale
    assert write(["y", 1]) is None                           # for good
    assert _rows(c) == [(1, "x"), (2, "b")]
    c.execute(UPD, ("y", 1))
    assert s.point_writer(UPD)(["z", 1]).rowcount == 1


def test_writer_commits_are_deferred_and_durable(tmp_path):
    """Under sync durability with the wait deferred (the wire server's way) the write
    is logged, invisible to others until finished, and there after reopening."""
    path = str(tmp_path / "db")
    c = _conn(path)
    s = c._session
    db = s.db
    c.execute(UPD, ("x", 1))
    write = s.point_writer(UPD)
    commits = db.deferring_durability()
    try:
        assert write(["deferred", 2]).rowcount == 1
    finally:
        db.stop_deferring()
    assert commits                                           # waits for its fsync
    other = db.connect()
    assert other.execute("SELECT v FROM t WHERE id = 2").fetchone() == ("b",)
    db.finish_commits(commits)
    assert other.execute("SELECT v FROM t WHERE id = 2").fetchone() == ("deferred",)
    other.close()
    c.close()
    again = rustmemodb.connect(path, "sync")
    try:
        assert _rows(again) == [(1, "x"), (2, "deferred")]
    finally:
        again.close()
