"""Database.subscribe: called after each commit, outside the lock, cancellable, weak."""
import gc
import threading

from rustmemodb import Database


def _db():
    db = Database()
    conn = db.connect()
    conn.execute("CREATE TABLE a (x INTEGER)")
    conn.execute("CREATE TABLE b (x INTEGER)")
    return db, conn


def test_callback_gets_old_new_root_and_changed_tables():
    db, conn = _db()
    seen = []
    db.subscribe(lambda old, new, tables: seen.append((old, new, tables)))
    before = db.root
    conn.execute("INSERT INTO a VALUES (1)")
    assert len(seen) == 1
    old, new, tables = seen[0]
    assert old is before and new is db.root
    assert tables == frozenset({"a"})
    assert new.version == old.version + 1


def test_read_only_statements_do_not_notify():
    db, conn = _db()
    seen = []
    db.subscribe(lambda *a: seen.append(a))
    conn.execute("SELECT * FROM a").fetchall()
    assert seen == []


def test_multi_table_transaction_reports_both_tables_once():
    db, conn = _db()
    seen = []
    db.subscribe(lambda o, n, t: seen.append(t))
    conn.autocommit = False
    conn.execute("INSERT INTO a VALUES (1)")
    conn.execute("INSERT INTO b VALUES (2)")
    assert seen == []                      # nothing before the commit
    conn.commit()
    assert seen == [frozenset({"a", "b"})]


def test_callback_runs_outside_commit_lock_and_may_commit():
    db, conn = _db()
    other = db.connect()
    seen = []

    def cb(old, new, tables):
        assert not db._commit_lock.locked()
        seen.append(tables)
        if "a" in tables:                  # a re-entrant commit must not deadlock
            other.execute("INSERT INTO b VALUES (9)")

    db.subscribe(cb)
    conn.execute("INSERT INTO a VALUES (1)")
    assert seen == [frozenset({"a"}), frozenset({"b"})]


def test_cancel_stops_calls_and_is_idempotent():
    db, conn = _db()
    seen = []
    sub = db.subscribe(lambda *a: seen.append(1))
    conn.execute("INSERT INTO a VALUES (1)")
    sub.cancel()
    sub.cancel()
    conn.execute("INSERT INTO a VALUES (2)")
    assert seen == [1]
    assert not db._subscribers


def test_bound_method_of_dead_object_is_dropped():
    db, conn = _db()
    calls = []

    class View:
        def on_commit(self, old, new, tables):
            calls.append(tables)

    view = View()
    sub = db.subscribe(view.on_commit)
    conn.execute("INSERT INTO a VALUES (1)")
    assert len(calls) == 1
    del view
    gc.collect()
    conn.execute("INSERT INTO a VALUES (2)")
    assert len(calls) == 1
    assert not sub.active and not db._subscribers


def test_failing_subscriber_does_not_break_commit_or_others(caplog):
    db, conn = _db()
    seen = []

    def bad(*a):
        raise RuntimeError("boom")

    db.subscribe(bad)
    db.subscribe(lambda o, n, t: seen.append(t))
    conn.execute("INSERT INTO a VALUES (1)")
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (1,)
    assert seen == [frozenset({"a"})]
    assert "boom" in caplog.text


def test_restore_notifies_with_the_tables_that_differ():
    db, conn = _db()
    start = db.root
    conn.execute("INSERT INTO a VALUES (1)")
    seen = []
    db.subscribe(lambda o, n, t: seen.append(t))
    db.restore(start)
    assert seen == [frozenset({"a"})]


def test_commits_from_threads_each_notify_once_in_version_order():
    db, conn = _db()
    seen = []
    lock = threading.Lock()

    def cb(old, new, tables):
        with lock:
            seen.append(new.version)

    db.subscribe(cb)
    n_threads, per_thread = 4, 25

    def work(k):
        c = db.connect()
        for i in range(per_thread):
            c.execute("INSERT INTO a VALUES (?)", (k * 1000 + i,))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == n_threads * per_thread
    assert len(set(seen)) == len(seen)     # each commit once, each with its own version
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (n_threads * per_thread,)


def test_durable_sync_commit_notifies_after_the_root_is_published(tmp_path):
    db = Database.open(tmp_path / "db", durability="sync")
    try:
        conn = db.connect()
        conn.execute("CREATE TABLE a (x INTEGER)")
        seen = []

        def cb(old, new, tables):
            seen.append((tables, db.root.version >= new.version))

        db.subscribe(cb)
        conn.execute("INSERT INTO a VALUES (1)")
        assert seen == [(frozenset({"a"}), True)]     # visible to others when told
    finally:
        db.close()
