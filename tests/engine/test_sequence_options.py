"""Sequence options (storage/sequence_defs.py) survive what a database goes through:
a crash (the log replayed), a checkpoint and reopen, a fork (each branch draws on its
own) and a merge (the options the source set come across with its values)."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb.branch.merge import merge
from rustmemodb.durability.open import DurableDatabase


@pytest.fixture
def path(tmp_path):
    return tmp_path / "db"


def _make(conn) -> None:
    conn.execute("CREATE SEQUENCE s AS integer START 10 INCREMENT -3 MINVALUE 1 MAXVALUE 10 "
                 "CYCLE")
    conn.execute("CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (START WITH 100 "
                 "INCREMENT BY 10), v text)")
    conn.execute("INSERT INTO t (v) VALUES ('a')")
    conn.execute("SELECT nextval('s'), nextval('s')")        # 10, 7


def _shown(conn) -> list:
    return conn.execute("SELECT sequencename, data_type, start_value, min_value, max_value, "
                        "increment_by, cycle, last_value FROM pg_sequences "
                        "ORDER BY 1").fetchall()


def _next(conn) -> tuple:
    return (conn.execute("SELECT nextval('s')").fetchone()[0],
            conn.execute("INSERT INTO t (v) VALUES ('b') RETURNING id").fetchone()[0])


EXPECTED = [("s", "integer", 10, 1, 10, -3, True, 7),
            ("t_id_seq", "integer", 100, 1, 2147483647, 10, False, 100)]


def test_options_and_state_survive_a_crash(path):
    db = rustmemodb.Database.open(path)
    _make(db.connect())
    assert _shown(db.connect()) == EXPECTED
    assert isinstance(db, DurableDatabase)
    db._abandon()                                  # kill -9: only the log is left
    db = rustmemodb.Database.open(path)
    conn = db.connect()
    assert _shown(conn) == EXPECTED
    assert _next(conn) == (4, 110)
    db.close()


def test_options_survive_a_checkpoint_and_alter(path):
    db = rustmemodb.Database.open(path)
    conn = db.connect()
    _make(conn)
    conn.execute("CHECKPOINT")
    conn.execute("ALTER SEQUENCE s INCREMENT -1 RESTART WITH 2")
    db.close()
    db = rustmemodb.Database.open(path)
    conn = db.connect()
    assert _shown(conn)[0] == ("s", "integer", 10, 1, 10, -1, True, None)
    assert [conn.execute("SELECT nextval('s')").fetchone()[0] for _ in range(3)] == [2, 1, 10]
    conn.execute("CHECKPOINT")
    conn.execute("DROP TABLE t")                   # its identity sequence goes with it
    db.close()
    db = rustmemodb.Database.open(path)
    assert [r[0] for r in _shown(db.connect())] == ["s"]
    db.close()


def test_each_branch_draws_on_its_own():
    main = rustmemodb.connect()
    _make(main)
    fork = main.fork()
    assert _next(fork) == (4, 110)
    assert _next(fork) == (1, 120)
    assert _next(main) == (4, 110)                 # main never saw the fork's draws
    fork.execute("ALTER SEQUENCE s INCREMENT -2")
    assert _shown(main)[0][5] == -3


def test_merge_brings_the_sources_options():
    main = rustmemodb.connect()
    _make(main)
    fork = main.fork()
    fork.execute("ALTER SEQUENCE s MAXVALUE 9 START 9")
    fork.execute("CREATE SEQUENCE n INCREMENT 5")
    fork.execute("SELECT nextval('n')")
    assert merge(fork, main).applied
    assert _shown(main)[0][:5] == ("n", "bigint", 1, 1, 9223372036854775807)
    assert _shown(main)[1][4] == 9
    assert main.execute("SELECT nextval('n')").fetchone() == (6,)


def test_a_failed_nextval_changes_nothing():
    conn = rustmemodb.connect()
    conn.execute("CREATE SEQUENCE m MAXVALUE 3")
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("SELECT nextval('m') FROM generate_series(1, 5)")
    assert info.value.sqlstate == "2200H"
    assert conn.execute("SELECT nextval('m')").fetchone() == (1,)


def test_owner_to_gives_a_sequence_away():
    conn = rustmemodb.connect()
    conn.execute("CREATE ROLE bob")
    conn.execute("CREATE SEQUENCE s")
    conn.execute("ALTER SEQUENCE s OWNER TO bob")
    assert conn.execute("SELECT sequenceowner FROM pg_sequences").fetchall() == [("bob",)]
    conn.execute("CREATE TABLE t (id int)")
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        conn.execute("ALTER SEQUENCE t OWNER TO bob")
    assert info.value.sqlstate == "42809"
    conn.execute("ALTER SEQUENCE IF EXISTS nope OWNER TO bob")
