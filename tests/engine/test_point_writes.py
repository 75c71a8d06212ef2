"""Point writes by primary key: ``UPDATE t SET ... WHERE pk = $1`` and ``DELETE FROM t
WHERE pk = $1``, run by their own runners (exec/fast_update.py ``_point_update``,
exec/fast_delete.py ``_point_delete``) and, in autocommit, in a transaction that is
never registered (Database.commit_point). Every semantic those shortcuts touch is
checked here against what the general path guarantees: failed statements change
nothing and give the right SQLSTATE, concurrent writers conflict as before, savepoints,
forks, durability, RETURNING, key changes and no-op updates."""
from __future__ import annotations

import threading

import pytest
import rustmemodb
from rustmemodb.database import Database

UPD = "UPDATE t SET v = v + 1 WHERE id = ?"
DEL = "DELETE FROM t WHERE id = ?"


def table(conn=None, rows: int = 5):
    conn = conn or rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v FLOAT NOT NULL, "
                 "s TEXT UNIQUE, CHECK (v < 1000))")
    conn.execute("CREATE INDEX t_k ON t (k)")
    for i in range(1, rows + 1):
        conn.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (i, i * 10, float(i), f"s{i}"))
    return conn


def rows(conn, name: str = "t"):
    return conn.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall()


def test_the_statements_take_the_point_runners():
    c = table()
    c.execute(UPD, (1,))
    c.execute(DEL, (2,))
    from rustmemodb.exec.fast_update import point_key
    for sql in (UPD, DEL):
        prepared = c.database.plan_cache.get(sql)
        assert prepared is not None and prepared.fast is not None
        assert point_key(prepared.plan.source) is not None
    assert rows(c)[:2] == [(1, 10, 2.0, "s1"), (3, 30, 3.0, "s3")]


# ---- constraint violations: the right SQLSTATE, no change --------------------------------

@pytest.mark.parametrize("sql, params, state", [
    ("UPDATE t SET v = NULL WHERE id = ?", (1,), "23502"),
    ("UPDATE t SET v = 5000 WHERE id = ?", (1,), "23514"),
    ("UPDATE t SET s = 's2' WHERE id = ?", (1,), "23505"),
    ("UPDATE t SET id = 2 WHERE id = ?", (1,), "23505"),
    ("UPDATE t SET v = 'x' WHERE id = ?", (1,), "42804"),
])
def test_a_violating_update_changes_nothing(sql, params, state):
    c = table()
    before, root = rows(c), c.database.root
    with pytest.raises(rustmemodb.Error) as e:
        c.execute(sql, params)
    assert e.value.sqlstate == state
    assert rows(c) == before
    assert c.database.root is root           # nothing published
    assert c.execute("SELECT id FROM t WHERE s = 's1'").fetchall() == [(1,)]


def test_violations_inside_a_transaction_fail_it_and_roll_back_whole():
    c = table()
    before = rows(c)
    c.execute("BEGIN")
    c.execute(UPD, (3,))
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("UPDATE t SET v = NULL WHERE id = ?", (1,))
    with pytest.raises(rustmemodb.Error) as e:
        c.execute(UPD, (2,))
    assert e.value.sqlstate == "25P02"
    c.execute("ROLLBACK")
    assert rows(c) == before


def test_foreign_keys_both_ways():
    c = table()
    c.execute("CREATE TABLE ch (id INTEGER PRIMARY KEY, p INTEGER REFERENCES t(id), "
              "q INTEGER REFERENCES t(id) ON DELETE CASCADE)")
    c.execute("INSERT INTO ch VALUES (1, 1, 2), (2, NULL, 3)")
    before, children = rows(c), rows(c, "ch")
    for sql, params in [("UPDATE ch SET p = 99 WHERE id = ?", (1,)),   # child: no parent
                        ("UPDATE t SET id = 50 WHERE id = ?", (1,)),   # parent key in use
                        ("DELETE FROM t WHERE id = ?", (1,))]:         # parent in use
        with pytest.raises(rustmemodb.IntegrityError) as e:
            c.execute(sql, params)
        assert e.value.sqlstate == "23503"
        assert rows(c) == before and rows(c, "ch") == children
    c.execute("UPDATE ch SET p = 4 WHERE id = ?", (1,))               # to a real parent
    c.execute("UPDATE t SET id = 40 WHERE id = ?", (5,))               # unreferenced key
    assert c.execute("DELETE FROM t WHERE id = ?", (3,)).rowcount == 1  # cascades
    assert rows(c, "ch") == [(1, 4, 2)]
    assert [r[0] for r in rows(c)] == [1, 2, 4, 40]


def test_a_self_referencing_cascade():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, up INTEGER REFERENCES n(id) "
              "ON DELETE CASCADE ON UPDATE CASCADE)")
    c.execute("INSERT INTO n VALUES (1, NULL), (2, 1), (3, 2)")
    assert c.execute("UPDATE n SET id = 10 WHERE id = ?", (1,)).rowcount == 1
    assert rows(c, "n") == [(2, 10), (3, 2), (10, None)]
    assert c.execute("DELETE FROM n WHERE id = ? RETURNING id", (10,)).fetchall() == [(10,)]
    assert rows(c, "n") == []


# ---- keys, no-ops, RETURNING ----------------------------------------------------------------

def test_update_of_the_key_itself_moves_every_index():
    c = table()
    assert c.execute("UPDATE t SET id = 100, k = 7 WHERE id = ?", (2,)).rowcount == 1
    assert c.execute("SELECT v FROM t WHERE id = 100").fetchall() == [(2.0,)]
    assert c.execute("SELECT v FROM t WHERE id = 2").fetchall() == []
    assert c.execute("SELECT id FROM t WHERE k = 7").fetchall() == [(100,)]
    assert c.execute("SELECT id FROM t WHERE k = 20").fetchall() == []
    c.execute("INSERT INTO t VALUES (2, 0, 0.5, 'again')")             # the old key is free
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("INSERT INTO t VALUES (100, 0, 0.5, 'taken')")


def test_an_update_that_changes_nothing_and_one_that_finds_nothing():
    c = table()
    before = rows(c)
    assert c.execute("UPDATE t SET v = v WHERE id = ?", (1,)).rowcount == 1
    assert rows(c) == before
    root = c.database.root
    assert c.execute(UPD, (99,)).rowcount == 0
    assert c.execute(DEL, (99,)).rowcount == 0
    assert c.execute("UPDATE t SET v = 1 WHERE id = ?", (None,)).rowcount == 0
    assert c.database.root is root           # nothing to commit, nothing published
    assert rows(c) == before


def test_returning():
    c = table()
    assert c.execute("UPDATE t SET v = v * 2 WHERE id = ? RETURNING id, v, s",
                     (3,)).fetchall() == [(3, 6.0, "s3")]
    assert c.execute("UPDATE t SET v = 1 WHERE id = ? RETURNING *", (42,)).fetchall() == []
    assert c.execute("DELETE FROM t WHERE id = ? RETURNING s, v + 1",
                     (3,)).fetchall() == [("s3", 7.0)]
    assert c.execute("DELETE FROM t WHERE id = ? RETURNING *", (3,)).fetchall() == []


def test_rows_of_the_tail_and_of_chunks_and_patched_rows():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT NOT NULL)")
    c.execute("INSERT INTO t SELECT i, 0.0 FROM generate_series(1, 3000) AS g(i)")  # chunk
    c.execute("INSERT INTO t VALUES (5000, 0.0)")                                   # tail
    for key in (1, 2999, 5000, 1, 5000):
        c.execute("UPDATE t SET v = v + 1 WHERE id = ?", (key,))
    assert c.execute("SELECT id, v FROM t WHERE v > 0 ORDER BY id").fetchall() == \
        [(1, 2.0), (2999, 1.0), (5000, 2.0)]
    for key in (1, 5000, 2):                  # patched chunk row, patched tail row, plain
        assert c.execute(DEL, (key,)).rowcount == 1
    assert c.execute("SELECT count(*), sum(v) FROM t").fetchone() == (2998, 1.0)
    assert c.execute("SELECT id FROM t WHERE id IN (1, 2, 5000)").fetchall() == []


# ---- transactions, savepoints, concurrency -----------------------------------------------

def test_savepoints():
    c = table()
    c.execute("BEGIN")
    c.execute(UPD, (1,))
    c.execute("SAVEPOINT a")
    c.execute(UPD, (1,))
    c.execute(UPD, (2,))
    c.execute(DEL, (3,))
    c.execute("ROLLBACK TO SAVEPOINT a")
    c.execute(UPD, (4,))
    c.execute("COMMIT")
    assert [(r[0], r[2]) for r in rows(c)] == [(1, 2.0), (2, 2.0), (3, 3.0), (4, 5.0),
                                                (5, 5.0)]


def test_an_open_transaction_conflicts_with_an_autocommit_write_of_the_same_row():
    db = Database()
    a, b = db.connect(), db.connect()
    table(a)
    a.execute("BEGIN")
    a.execute(UPD, (1,))
    b.execute(UPD, (1,))                       # autocommit, commits first
    with pytest.raises(rustmemodb.Error) as e:
        a.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert rows(b)[0][2] == 2.0

    a.execute("BEGIN")                         # the snapshot is taken before b's delete
    a.execute("SELECT * FROM t")
    b.execute(DEL, (2,))
    a.execute(UPD, (2,))                       # the row still exists in a's snapshot
    with pytest.raises(rustmemodb.Error) as e:
        a.execute("COMMIT")
    assert e.value.sqlstate == "40001"


def test_an_open_transaction_keeps_rows_an_autocommit_write_did_not_touch():
    db = Database()
    a, b = db.connect(), db.connect()
    table(a)
    a.execute("BEGIN")
    a.execute(UPD, (1,))
    b.execute(UPD, (2,))
    b.execute(DEL, (3,))
    assert rows(a)[1][2] == 2.0 and len(rows(a)) == 5       # a's snapshot
    a.execute("COMMIT")                                      # rebased, no conflict
    assert [(r[0], r[2]) for r in rows(b)] == [(1, 2.0), (2, 3.0), (4, 4.0), (5, 5.0)]


def test_losing_the_race_runs_the_statement_again_on_the_newest_root(monkeypatch):
    """A commit lands between the point write's snapshot and its publication: nothing
    of the first run is published, the statement runs again and both changes stay."""
    db = Database()
    a, b = db.connect(), db.connect()
    table(a)
    original = Database.commit_point
    raced = []

    def racing(self, txn):
        if not raced:
            raced.append(True)
            b.execute("UPDATE t SET v = v + 100 WHERE id = ?", (1,))   # b: a plain write
        return original(self, txn)

    monkeypatch.setattr(Database, "commit_point", racing)
    assert a.execute(UPD, (1,)).rowcount == 1
    assert raced and rows(a)[0][2] == 102.0
    assert a.execute(DEL, (1,)).rowcount == 1
    assert [r[0] for r in rows(b)] == [2, 3, 4, 5]


def test_threads_of_autocommit_increments_lose_nothing():
    db = Database()
    table(db.connect(), rows=2)
    errors = []

    def work():
        conn = db.connect()
        try:
            for _ in range(200):      # v stays under the CHECK's 1000
                conn.execute(UPD, (1,))
                conn.execute("UPDATE t SET v = v + 1 WHERE id = ?", (2,))
        except rustmemodb.Error as exc:     # pragma: no cover - shown by the assert
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [r[2] for r in rows(db.connect())] == [801.0, 802.0]


def test_subscribers_hear_of_each_point_write():
    c = table()
    seen = []
    sub = c.database.subscribe(lambda old, new, changed: seen.append(
        (sorted(changed), changed.rowids("t"))))
    rowid = c.database.root.tables["t"].indexes["t_pkey"].get(1)
    c.execute(UPD, (1,))
    c.execute(DEL, (1,))
    sub.cancel()
    assert seen == [(["t"], frozenset({rowid})), (["t"], frozenset({rowid}))]


# ---- forks and durability ---------------------------------------------------------------

def test_forks_do_not_see_each_others_point_writes():
    main = table()
    fork = main.fork()
    main.execute(UPD, (1,))
    fork.execute(DEL, (1,))
    fork.execute("UPDATE t SET v = 50 WHERE id = ?", (2,))
    main.execute(DEL, (3,))
    assert [(r[0], r[2]) for r in rows(main)] == [(1, 2.0), (2, 2.0), (4, 4.0), (5, 5.0)]
    assert [(r[0], r[2]) for r in rows(fork)] == [(2, 50.0), (3, 3.0), (4, 4.0), (5, 5.0)]


@pytest.mark.parametrize("mode", ["sync", "async", "none"])
def test_point_writes_survive_a_reopen(tmp_path, mode):
    path = tmp_path / "db"
    db = Database.open(path, durability=mode)
    c = table(db.connect())
    c.execute(UPD, (1,))
    c.execute("UPDATE t SET id = 20, s = 'moved' WHERE id = ?", (2,))
    c.execute(DEL, (3,))
    c.execute("BEGIN")
    c.execute(UPD, (4,))
    c.execute(DEL, (5,))
    c.execute("COMMIT")
    expected = rows(c)
    db.close()
    db = Database.open(path, durability=mode)
    assert rows(db.connect()) == expected
    assert db.connect().execute("SELECT id FROM t WHERE s = 'moved'").fetchall() == [(20,)]
    db.close()


def test_point_writes_replay_from_the_log_after_a_crash(tmp_path):
    path = tmp_path / "db"
    db = Database.open(path, durability="sync")
    c = table(db.connect())
    c.execute("CHECKPOINT")
    c.execute(UPD, (1,))
    c.execute(DEL, (2,))
    c.execute("UPDATE t SET id = 30 WHERE id = ?", (3,))
    expected = rows(c)
    db._abandon()                             # kill -9: only the log has them
    db = Database.open(path, durability="sync")
    assert db.recovery["replayed"] == 3
    assert rows(db.connect()) == expected
    db.close()


def test_a_deferred_point_write_behind_a_pending_commit_stays_unregistered(tmp_path,
                                                                          monkeypatch):
    """Sync durability, the wire server's loop deferring its durability wait: a point
    write while an earlier commit still waits for its fsync starts, unregistered, from
    that commit (no registered transaction), and its deferred list makes the caller
    wait for the earlier commit too. Without deferral it declines as before."""
    c = table(rustmemodb.connect(str(tmp_path / "db"), "sync"))
    db = c.database
    s = c._session
    c.execute(UPD, (1,))                             # plan cached
    first = db.deferring_durability()
    s.execute(UPD, (1,))
    db.stop_deferring()
    assert len(first) == 1 and db._pending           # logged, not yet durable
    assert db.unregistered() is None                 # not deferring: declines
    begun = []
    original = Database.begin
    monkeypatch.setattr(Database, "begin",
                        lambda self, *a, **k: begun.append(1) or original(self, *a, **k))
    second = db.deferring_durability()
    assert s.execute(UPD, (1,)).rowcount == 1
    db.stop_deferring()
    assert not begun                                 # the unregistered way
    assert [e[1] for e in second][0] == first[0][1]  # waits for the pending commit too
    assert second[-1][1] > first[0][1]
    assert rows(c)[0][2] == 2.0                      # neither published yet
    db.finish_commits(first + second)
    assert rows(c)[0][2] == 4.0
    c.close()


# ---- the direct way: no transaction at all (Database.commit_change) ---------------------
# A table with nothing to check but NOT NULL and no foreign key pointing at it: an
# autocommit point UPDATE is computed from the committed root (exec/fast_update.py
# ``direct``) and published as one new root, unless a log, a subscriber or an open
# transaction needs the Transaction that ``commit_point`` publishes.

def plain(conn=None, rows: int = 5):
    conn = conn or rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v FLOAT NOT NULL, "
                 "s TEXT UNIQUE)")
    conn.execute("CREATE INDEX t_k ON t (k)")
    for i in range(1, rows + 1):
        conn.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (i, i * 10, float(i), f"s{i}"))
    return conn


def no_transactions(monkeypatch):
    """Make any point write that still takes a transaction fail the test."""
    def refuse(self, txn):
        raise AssertionError("a transaction was committed")
    monkeypatch.setattr(Database, "commit_point", refuse)


def test_a_plain_point_update_publishes_one_numbered_root(monkeypatch):
    c = plain()
    no_transactions(monkeypatch)
    root = c.database.root
    assert c.execute(UPD, (1,)).rowcount == 1
    new = c.database.root
    assert new.version == root.version + 1 and new.catalog_version == root.catalog_version
    assert new.tables["t"] is not root.tables["t"]
    assert root.tables["t"].row(root.tables["t"].indexes["t_pkey"].get(1))[2] == 1.0
    assert rows(c)[0] == (1, 10, 2.0, "s1")


def test_direct_updates_of_indexed_columns_keep_every_index_right(monkeypatch):
    c = plain()
    no_transactions(monkeypatch)
    assert c.execute("UPDATE t SET k = ? WHERE id = ?", (7, 2)).rowcount == 1
    assert c.execute("SELECT id FROM t WHERE k = 7").fetchall() == [(2,)]
    assert c.execute("SELECT id FROM t WHERE k = 20").fetchall() == []
    assert c.execute("SELECT id FROM t WHERE k BETWEEN 5 AND 25 ORDER BY k").fetchall() \
        == [(2,), (1,)]
    assert c.execute("UPDATE t SET id = 100, s = 'moved' WHERE id = ?", (3,)).rowcount == 1
    assert c.execute("SELECT k FROM t WHERE id = 100").fetchall() == [(30,)]
    assert c.execute("SELECT id FROM t WHERE s = 'moved'").fetchall() == [(100,)]
    assert c.execute("SELECT * FROM t WHERE id = 3").fetchall() == []
    assert c.execute("SELECT * FROM t WHERE s = 's3'").fetchall() == []
    monkeypatch.undo()                                            # (an INSERT commits one)
    c.execute("INSERT INTO t VALUES (3, 0, 0.5, 's3')")          # both old keys are free
    no_transactions(monkeypatch)
    for sql, state in (("UPDATE t SET s = 's1' WHERE id = ?", "23505"),
                       ("UPDATE t SET id = 1 WHERE id = ?", "23505"),
                       ("UPDATE t SET v = NULL WHERE id = ?", "23502")):
        root = c.database.root
        with pytest.raises(rustmemodb.Error) as e:
            c.execute(sql, (4,))
        assert e.value.sqlstate == state
        assert c.database.root is root                          # nothing published
    assert rows(c) == [(1, 10, 1.0, "s1"), (2, 7, 2.0, "s2"), (3, 0, 0.5, "s3"),
                       (4, 40, 4.0, "s4"), (5, 50, 5.0, "s5"), (100, 30, 3.0, "moved")]


def test_a_direct_write_conflicts_with_an_open_transaction_as_before():
    db = Database()
    a, b = db.connect(), db.connect()
    plain(a)
    a.execute("BEGIN")
    a.execute(UPD, (1,))
    b.execute(UPD, (1,))            # autocommit: commits first (a is open: remembered)
    b.execute(UPD, (2,))
    with pytest.raises(rustmemodb.Error) as e:
        a.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert [r[2] for r in rows(b)][:2] == [2.0, 3.0]
    a.execute("BEGIN")
    a.execute(UPD, (3,))
    b.execute(UPD, (4,))            # another row: a rebases over it
    assert rows(a)[3][2] == 4.0     # a's snapshot does not see b's write
    a.execute("COMMIT")
    assert [r[2] for r in rows(b)] == [2.0, 3.0, 4.0, 5.0, 5.0]


def test_a_direct_write_that_loses_the_race_runs_again(monkeypatch):
    db = Database()
    a, b = db.connect(), db.connect()
    plain(a)
    original = Database.commit_change
    raced = []

    def racing(self, *args):
        if not raced:
            raced.append(True)
            b.execute("UPDATE t SET v = v + 100 WHERE id = ?", (1,))
        return original(self, *args)

    monkeypatch.setattr(Database, "commit_change", racing)
    assert a.execute(UPD, (1,)).rowcount == 1
    assert raced and rows(a)[0][2] == 102.0
    root = db.root
    change = ("update", 1, (1, 1, 1.0, "x"))
    assert original(db, root, "t", root.tables["t"], change) is not None
    assert original(db, root, "t", root.tables["t"], change) is None    # a stale snapshot


def test_a_fork_taken_before_a_direct_write_does_not_see_it(monkeypatch):
    main = plain()
    fork = main.fork()
    no_transactions(monkeypatch)
    main.execute(UPD, (1,))
    fork.execute("UPDATE t SET v = 50 WHERE id = ?", (2,))
    assert [r[2] for r in rows(main)] == [2.0, 2.0, 3.0, 4.0, 5.0]
    assert [r[2] for r in rows(fork)] == [1.0, 50.0, 3.0, 4.0, 5.0]


def test_direct_writes_with_a_subscriber_and_with_a_log(tmp_path):
    c = plain()
    seen = []
    sub = c.database.subscribe(lambda old, new, changed: seen.append(changed.rowids("t")))
    rowid = c.database.root.tables["t"].indexes["t_pkey"].get(1)
    c.execute(UPD, (1,))
    sub.cancel()
    assert seen == [frozenset({rowid})]
    db = Database.open(tmp_path / "db", durability="sync")
    c = plain(db.connect())
    c.execute(UPD, (1,))
    c.execute("UPDATE t SET k = 0 WHERE id = ?", (2,))
    expected = rows(c)
    db.close()
    db = Database.open(tmp_path / "db", durability="sync")
    assert rows(db.connect()) == expected
    assert db.connect().execute("SELECT id FROM t WHERE k = 0").fetchall() == [(2,)]
    db.close()


def test_threads_of_direct_increments_lose_nothing():
    db = Database()
    plain(db.connect(), rows=2)

    def work():
        conn = db.connect()
        for _ in range(300):
            conn.execute(UPD, (1,))
            conn.execute("UPDATE t SET v = v + 1 WHERE id = ?", (2,))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r[2] for r in rows(db.connect())] == [1201.0, 1202.0]


def test_direct_deletes(monkeypatch):
    db = Database()
    a, b = db.connect(), db.connect()
    plain(a)
    fork = a.fork()
    no_transactions(monkeypatch)
    assert b.execute(DEL, (2,)).rowcount == 1
    assert b.execute(DEL, (2,)).rowcount == 0
    assert a.execute("SELECT * FROM t WHERE s = 's2'").fetchall() == []
    assert a.execute("SELECT * FROM t WHERE k = 20").fetchall() == []
    assert [r[0] for r in rows(fork)] == [1, 2, 3, 4, 5]       # forked before the delete
    assert b.execute("DELETE FROM t WHERE id = ? RETURNING s, v", (3,)).fetchall() \
        == [("s3", 3.0)]
    monkeypatch.undo()
    b.execute("INSERT INTO t VALUES (2, 20, 0.5, 's2')")       # its keys are free again
    a.execute("BEGIN")
    a.execute(UPD, (1,))
    b.execute(DEL, (1,))                                        # a is open: remembered
    with pytest.raises(rustmemodb.Error) as e:
        a.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert [r[0] for r in rows(b)] == [2, 4, 5]


def test_a_referenced_table_is_written_the_general_way():
    c = plain()
    c.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, "
              "t_id INTEGER REFERENCES t (id) ON DELETE CASCADE)")
    c.execute("INSERT INTO child VALUES (1, 1), (2, 2)")
    assert c.execute(DEL, (1,)).rowcount == 1
    assert c.execute("SELECT id FROM child").fetchall() == [(2,)]
    with pytest.raises(rustmemodb.Error) as e:
        c.execute("UPDATE t SET id = 9 WHERE id = ?", (2,))
    assert e.value.sqlstate == "23503"
    assert [r[0] for r in rows(c)] == [2, 3, 4, 5]


def test_direct_inserts(monkeypatch, tmp_path):
    db = Database()
    a, b = db.connect(), db.connect()
    plain(a)
    fork = a.fork()
    no_transactions(monkeypatch)
    ins = "INSERT INTO t VALUES (?, ?, ?, ?)"
    root = db.root
    assert b.execute(ins, (6, 60, 6.0, "s6")).rowcount == 1
    assert db.root.version == root.version + 1
    for params, state in (((6, 0, 0.0, "new"), "23505"), ((7, 0, 0.0, "s1"), "23505"),
                          ((7, 0, None, "new"), "23502")):
        root = db.root
        with pytest.raises(rustmemodb.Error) as e:
            b.execute(ins, params)
        assert e.value.sqlstate == state
        assert db.root is root
    assert a.execute("SELECT id FROM t WHERE k = 60").fetchall() == [(6,)]
    assert a.execute("SELECT id FROM t WHERE s = 's6'").fetchall() == [(6,)]
    assert [r[0] for r in rows(fork)] == [1, 2, 3, 4, 5]
    monkeypatch.undo()
    a.execute("BEGIN")
    a.execute(ins, (8, 80, 8.0, "s8"))
    b.execute(ins, (8, 81, 8.1, "other"))     # a is open: remembered, its key conflicts
    with pytest.raises(rustmemodb.Error) as e:
        a.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert rows(b)[-1] == (8, 81, 8.1, "other")
    db = Database.open(tmp_path / "db", durability="sync")
    c = plain(db.connect())
    c.execute(ins, (9, 90, 9.0, "s9"))
    expected = rows(c)
    db.close()
    db = Database.open(tmp_path / "db", durability="sync")
    assert rows(db.connect()) == expected
    db.close()


@pytest.mark.parametrize("make", [plain, table])
def test_inserts_inside_a_transaction_are_checked_as_before(make):
    c = make()
    ins = "INSERT INTO t VALUES (?, ?, ?, ?)"
    cases = [((7, 0, None, "x"), "23502"), ((1, 0, 1.0, "x"), "23505"),
             ((7, 0, 1.0, "s1"), "23505")]
    if make is table:
        cases.append(((7, 0, 5000.0, "x"), "23514"))
    for params, state in cases:
        c.execute("BEGIN")
        c.execute(ins, (6, 60, 6.0, "s6"))
        with pytest.raises(rustmemodb.Error) as e:
            c.execute(ins, params)
        assert e.value.sqlstate == state
        c.execute("ROLLBACK")
    c.execute("BEGIN")
    c.execute(ins, (6, 60, 6.0, "s6"))
    c.execute(ins, (7, 70, 7.0, "s7"))
    c.execute("COMMIT")
    assert [r[0] for r in rows(c)] == [1, 2, 3, 4, 5, 6, 7]
    assert c.execute("SELECT id FROM t WHERE k = 70").fetchall() == [(7,)]


def test_a_deferred_direct_write_behind_a_pending_commit(tmp_path, monkeypatch):
    """Sync durability, the caller deferring its durability wait (the wire server's
    loop): a direct point write while an earlier commit still waits for its fsync is
    computed from that commit's root (Database.point_base), with no transaction, and
    the caller's deferred list waits for the earlier commit too, also when nothing
    matched (its "UPDATE 0" was read from the pending commit's state). Without
    deferral nothing is computed from a root that is not durable yet."""
    c = plain(rustmemodb.connect(str(tmp_path / "db"), "sync"))
    db = c.database
    s = c._session
    c.execute(UPD, (1,))                             # plan cached
    first = db.deferring_durability()
    s.execute(UPD, (1,))
    db.stop_deferring()
    assert len(first) == 1 and db._pending           # logged, not yet durable
    assert db.point_base() is None                   # not deferring: nothing to start from
    direct = []
    original = Database.commit_change
    monkeypatch.setattr(Database, "commit_change", lambda self, *a: direct.append(1)
                        or original(self, *a))
    second = db.deferring_durability()
    assert s.execute(UPD, (1,)).rowcount == 1        # on top of the pending commit
    assert s.execute(UPD, (99,)).rowcount == 0       # no row: nothing logged
    db.stop_deferring()
    assert len(direct) == 1
    assert second[0][1] == first[0][1] and second[1][1] > first[0][1]
    assert second[-1][1] == first[0][1] or second[-1][1] == second[1][1]
    assert rows(c)[0][2] == 2.0                      # neither published yet
    db.finish_commits(first + second)
    assert rows(c)[0][2] == 4.0
    c.close()
    reopened = rustmemodb.connect(str(tmp_path / "db"), "sync")
    assert rows(reopened)[0][2] == 4.0
    reopened.close()
