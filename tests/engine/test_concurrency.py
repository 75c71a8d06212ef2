"""Concurrency (issue 10): a shared connection, foreign keys against a concurrent parent
delete, and concurrent inserts of unique keys with a NULL part."""
import threading

import pytest

import rustmemodb
from rustmemodb import errors


def test_two_threads_share_one_connection_inside_a_transaction():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who INTEGER)")
    n = 20_000
    failures = []

    def worker(who: int) -> None:
        try:
            conn.execute("BEGIN")
            for i in range(n):
                conn.execute("INSERT INTO t VALUES ($1, $2)", (who * n + i, who))
            conn.execute("COMMIT")
        except Exception as exc:   # noqa: BLE001 - any failure fails the test below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    conn.commit()
    check = conn.database.connect()
    assert check.execute("SELECT who, count(*) FROM t GROUP BY who ORDER BY who").fetchall() \
        == [(0, n), (1, n)]


def _parent_child(action: str):
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, note TEXT)")
    conn.execute(f"CREATE TABLE c (id INTEGER PRIMARY KEY, "
                 f"pid INTEGER REFERENCES p (id) ON DELETE {action})")
    conn.execute("INSERT INTO p VALUES (1, 'a'), (2, 'b')")
    return conn, conn.database.connect()


def _orphans(conn) -> int:
    return conn.execute("SELECT count(*) FROM c WHERE pid NOT IN (SELECT id FROM p)").fetchone()[0]


def _commit(conn) -> str:
    try:
        conn.execute("COMMIT")
        return "ok"
    except errors.Error as exc:
        return exc.sqlstate


@pytest.mark.parametrize("action", ["RESTRICT", "NO ACTION", "CASCADE"])
@pytest.mark.parametrize("child_commits_first", [True, False])
def test_child_insert_and_parent_delete_never_leave_an_orphan(action, child_commits_first):
    child, parent = _parent_child(action)
    child.execute("BEGIN")
    child.execute("INSERT INTO c VALUES (10, 1)")
    parent.execute("BEGIN")
    parent.execute("DELETE FROM p WHERE id = 1")
    first, second = (child, parent) if child_commits_first else (parent, child)
    assert _commit(first) == "ok"
    assert _commit(second) == "40001"
    assert _orphans(child) == 0


@pytest.mark.parametrize("action", ["RESTRICT", "CASCADE"])
def test_autocommit_parent_delete_rerun_sees_the_new_child(action):
    """The delete loses to the child's commit, is re-run, and then either refuses
    (23503) or cascades to the new child: never an orphan."""
    child, parent = _parent_child(action)
    child.execute("BEGIN")
    child.execute("INSERT INTO c VALUES (10, 1)")
    calls = []

    def commit_child() -> int:
        if not calls:
            child.execute("COMMIT")
        calls.append(1)
        return 1

    parent.register_function("commit_child", commit_child, [], "INTEGER", volatile=True)
    if action == "RESTRICT":
        with pytest.raises(errors.IntegrityError) as info:
            parent.execute("DELETE FROM p WHERE id = commit_child()")
        assert info.value.sqlstate == "23503"
        assert child.execute("SELECT count(*) FROM c").fetchone() == (1,)
    else:
        parent.execute("DELETE FROM p WHERE id = commit_child()")
        assert child.execute("SELECT count(*) FROM c").fetchone() == (0,)
    assert len(calls) == 4   # evaluated per row of p (two), in two runs
    assert _orphans(child) == 0


def test_parent_key_change_conflicts_but_other_parent_updates_do_not():
    child, parent = _parent_child("RESTRICT")
    child.execute("BEGIN")
    child.execute("INSERT INTO c VALUES (10, 1)")
    parent.execute("UPDATE p SET note = 'changed' WHERE id = 1")   # key untouched
    assert _commit(child) == "ok"
    child.execute("BEGIN")
    child.execute("INSERT INTO c VALUES (11, 2)")
    parent.execute("BEGIN")
    parent.execute("UPDATE p SET id = 3 WHERE id = 2")
    assert _commit(parent) == "ok"
    assert _commit(child) == "40001"
    assert _orphans(child) == 0


def test_two_child_inserts_under_one_parent_both_commit():
    a, b = _parent_child("RESTRICT")
    a.execute("BEGIN")
    a.execute("INSERT INTO c VALUES (10, 1)")
    b.execute("BEGIN")
    b.execute("INSERT INTO c VALUES (11, 1)")
    assert _commit(a) == "ok"
    assert _commit(b) == "ok"


def test_concurrent_inserts_of_a_key_with_a_null_part_both_commit():
    a = rustmemodb.connect()
    a.execute("CREATE TABLE k (a INTEGER, b INTEGER, UNIQUE (a, b))")
    b = a.database.connect()
    a.execute("BEGIN")
    a.execute("INSERT INTO k VALUES (1, NULL)")
    b.execute("BEGIN")
    b.execute("INSERT INTO k VALUES (1, NULL)")
    assert _commit(a) == "ok"
    assert _commit(b) == "ok"
    assert a.execute("SELECT count(*) FROM k").fetchone() == (2,)
    # a full key still conflicts
    a.execute("BEGIN")
    a.execute("INSERT INTO k VALUES (2, 2)")
    b.execute("BEGIN")
    b.execute("INSERT INTO k VALUES (2, 2)")
    assert _commit(a) == "ok"
    assert _commit(b) == "40001"


@pytest.mark.parametrize("action", ["RESTRICT", "CASCADE"])
def test_threads_inserting_children_and_deleting_parents_leave_no_orphan(action):
    import random
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    conn.execute(f"CREATE TABLE c (id INTEGER PRIMARY KEY, "
                 f"pid INTEGER REFERENCES p (id) ON DELETE {action})")
    conn.executemany("INSERT INTO p VALUES ($1)", [(i,) for i in range(400)])
    db = conn.database
    unexpected = []

    def children(t: int) -> None:
        c = db.connect()
        rnd = random.Random(t)
        for i in range(1500):
            try:
                if i % 3 == 0:
                    c.execute("BEGIN")
                    c.execute("INSERT INTO c VALUES ($1, $2)", (t * 100_000 + i, rnd.randrange(400)))
                    c.execute("COMMIT")
                else:
                    c.execute("INSERT INTO c VALUES ($1, $2)", (t * 100_000 + i, rnd.randrange(400)))
            except errors.Error as exc:
                if exc.sqlstate not in ("23503", "40001"):
                    unexpected.append(exc)
                if c.in_transaction:
                    c.execute("ROLLBACK")

    def parents(t: int) -> None:
        c = db.connect()
        rnd = random.Random(t)
        for _ in range(300):
            try:
                c.execute("DELETE FROM p WHERE id = $1", (rnd.randrange(400),))
            except errors.Error as exc:
                if exc.sqlstate != "23503":
                    unexpected.append(exc)

    threads = [threading.Thread(target=children, args=(t,)) for t in range(3)] + \
        [threading.Thread(target=parents, args=(t,)) for t in range(10, 12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert unexpected == []
    assert _orphans(conn) == 0


@pytest.mark.parametrize("change", ["DELETE FROM p WHERE x = 2.500",
                                    "UPDATE p SET x = 9 WHERE x = 2.5"])
@pytest.mark.parametrize("child_commits_first", [True, False])
def test_numeric_parent_key_of_another_scale_conflicts(change, child_commits_first):
    """A child row of 2.50 relies on the parent key 2.5: the keys a check relied on and
    the keys a parent change removed compare numbers, not display scales."""
    child = rustmemodb.connect()
    child.execute("CREATE TABLE p (x numeric PRIMARY KEY)")
    child.execute("CREATE TABLE c (x numeric REFERENCES p (x))")
    child.execute("INSERT INTO p VALUES (2.5), (3)")
    parent = child.database.connect()
    child.execute("BEGIN")
    child.execute("INSERT INTO c VALUES (2.50)")
    parent.execute("BEGIN")
    parent.execute(change)
    first, second = (child, parent) if child_commits_first else (parent, child)
    assert _commit(first) == "ok"
    assert _commit(second) == "40001"
    assert child.execute("SELECT count(*) FROM c WHERE NOT EXISTS "
                         "(SELECT 1 FROM p WHERE p.x = c.x)").fetchone()[0] == 0
