"""nextval() across transactions (txn/sequence_marks.py): never the same value twice,
as PostgreSQL's, though a sequence's value is committed with the transaction."""
from __future__ import annotations

import threading

import rustmemodb


def _pair():
    db = rustmemodb.connect()
    db.execute("CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT)")
    return db, rustmemodb.connect(db), rustmemodb.connect(db)


def test_open_transactions_draw_different_values_and_both_commit():
    db, a, b = _pair()
    a.execute("BEGIN")
    b.execute("BEGIN")
    assert a.execute("INSERT INTO t (v) VALUES ('a') RETURNING id").fetchall() == [(1,)]
    assert b.execute("INSERT INTO t (v) VALUES ('b') RETURNING id").fetchall() == [(2,)]
    assert a.execute("SELECT nextval('t_id_seq')").fetchall() == [(3,)]
    b.execute("COMMIT")
    a.execute("COMMIT")                  # was 40001: both had drawn 1
    assert db.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [(1, "a"), (2, "b")]
    assert db.execute("SELECT nextval('t_id_seq')").fetchall() == [(4,)]


def test_a_rolled_back_draw_is_skipped_and_lost_after_a_restart_only(tmp_path):
    path = str(tmp_path / "db")
    db = rustmemodb.connect(path, "sync")
    db.execute("CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT)")
    db.execute("BEGIN")
    db.execute("INSERT INTO t (v) VALUES ('gone')")
    db.execute("ROLLBACK")
    assert db.execute("INSERT INTO t (v) VALUES ('x') RETURNING id").fetchall() == [(2,)]
    db.close()
    again = rustmemodb.connect(path, "sync")
    try:       # only committed values count after a restart: all any row holds
        assert again.execute("INSERT INTO t (v) VALUES ('y') RETURNING id").fetchall() == \
            [(3,)]
    finally:
        again.close()


def test_setval_restart_and_recreate_start_draws_from_their_value():
    db, a, b = _pair()
    db.execute("SELECT nextval('t_id_seq') FROM generate_series(1, 5)")
    a.execute("BEGIN")
    a.execute("SELECT setval('t_id_seq', 100)")
    assert a.execute("SELECT nextval('t_id_seq')").fetchall() == [(101,)]
    a.execute("COMMIT")
    assert b.execute("SELECT nextval('t_id_seq')").fetchall() == [(102,)]
    db.execute("ALTER SEQUENCE t_id_seq RESTART WITH 7")
    assert b.execute("SELECT nextval('t_id_seq')").fetchall() == [(7,)]
    db.execute("CREATE SEQUENCE s START 50")
    assert a.execute("SELECT nextval('s')").fetchall() == [(50,)]
    db.execute("DROP SEQUENCE s")
    db.execute("CREATE SEQUENCE s START 10")
    assert b.execute("SELECT nextval('s')").fetchall() == [(10,)]


def test_descending_and_cycling_sequences():
    db, a, b = _pair()
    db.execute("CREATE SEQUENCE down INCREMENT BY -1 START 100 MAXVALUE 100")
    a.execute("BEGIN")
    b.execute("BEGIN")
    assert a.execute("SELECT nextval('down')").fetchall() == [(100,)]
    assert b.execute("SELECT nextval('down')").fetchall() == [(99,)]
    a.execute("COMMIT")
    b.execute("COMMIT")
    assert db.execute("SELECT nextval('down')").fetchall() == [(98,)]
    # CYCLE: per transaction as before (past a wrap "further" has no meaning)
    db.execute("CREATE SEQUENCE ring MAXVALUE 3 CYCLE")
    assert [db.execute("SELECT nextval('ring')").fetchone()[0] for _ in range(4)] == \
        [1, 2, 3, 1]


def test_threads_inserting_in_transactions_never_collide():
    db = rustmemodb.connect()
    db.execute("CREATE TABLE t (id SERIAL PRIMARY KEY, w INTEGER)")
    errors: list = []

    def work(w: int) -> None:
        c = rustmemodb.connect(db)
        try:
            for _ in range(100):
                c.execute("BEGIN")
                c.execute("INSERT INTO t (w) VALUES (?)", (w,))
                c.execute("INSERT INTO t (w) SELECT ? FROM generate_series(1, 3)", (w,))
                c.execute("COMMIT")
        except rustmemodb.Error as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert db.execute("SELECT count(*), count(DISTINCT id) FROM t").fetchone() == (1600, 1600)
