"""Composite types (composite.py) across the engine's layers: the DB-API's ``Record``
values, the ordered bytes' round trip and order on random values, a composite column
surviving a crash (the log) and a reopen (the checkpoint), a fork, and a branch merge of
the type's definition."""
from __future__ import annotations

import datetime as dt
import random

import pytest

import rustmemodb
from rustmemodb import composite, errors
from rustmemodb.durability.open import DurableDatabase

PAIR = composite.record_type("pair", [("a", "INTEGER"), ("b", "TEXT")])


def test_dbapi_returns_records_with_field_values_and_text():
    c = rustmemodb.connect()
    c.execute("CREATE TYPE pair AS (a int, b text)")
    c.execute("CREATE TABLE t (p pair)")
    c.execute("INSERT INTO t VALUES (ROW(1, 'a b')), (NULL), ('(,)')")
    rows = [r[0] for r in c.execute("SELECT p FROM t ORDER BY p").fetchall()]
    assert rows[0] == (1, "a b") and str(rows[0]) == '(1,"a b")'
    assert rows[1] == (None, None) and str(rows[1]) == "(,)"
    assert rows[2] is None


def _sort_key(values):
    """PostgreSQL's record_cmp: field by field, NULL after every value."""
    return tuple((1, 0) if v is None else (0, v) for v in values)


@pytest.mark.parametrize("seed", range(3))
def test_bytes_round_trip_and_order_as_record_cmp(seed):
    rnd = random.Random(seed)
    t = composite.record_type("r", [("i", "INTEGER"), ("f", "FLOAT"), ("s", "TEXT"),
                                    ("d", "DATE"), ("b", "BOOLEAN")])
    words = ["", "a", "ab", "a\x00", "b", "é", "a b"]

    def field(kind):
        if rnd.random() < 0.2:
            return None
        return {"i": lambda: rnd.randint(-2 ** 63, 2 ** 63 - 1),
                "f": lambda: rnd.choice([-1e300, -1.5, -0.0, 0.0, 2.5, 1e300]),
                "s": lambda: rnd.choice(words),
                "d": lambda: dt.date(2000, 1, 1) + dt.timedelta(days=rnd.randint(-9999, 9999)),
                "b": lambda: rnd.random() < 0.5}[kind]()
    values = [tuple(field(k) for k in "ifsdb") for _ in range(300)]
    for v in values:
        assert composite.decode(t, composite.encode(t, v)) == tuple(
            0.0 if x == 0.0 and isinstance(x, float) else x for x in v)
    by_bytes = sorted(values, key=lambda v: composite.encode(t, v))
    assert [_sort_key(v) for v in by_bytes] == sorted(_sort_key(v) for v in values)


def test_record_text_in_and_out():
    data = composite.parse_record(PAIR, '(1,"a ""q"" \\\\ (x),y")', lambda _t, s: (
        int(s) if _t == "INTEGER" else s))
    assert composite.decode(PAIR, data) == (1, 'a "q" \\ (x),y')
    assert composite.format_record(PAIR, data) == '(1,"a ""q"" \\\\ (x),y")'
    with pytest.raises(errors.Error) as info:
        composite.split_record("(1,2")
    assert info.value.sqlstate == "22P02"


def test_composite_column_survives_crash_and_reopen(tmp_path):
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path)
    conn = db.connect()
    conn.execute("CREATE TYPE pair AS (a int, b text)")
    conn.execute("CREATE TYPE nest AS (p pair, n float8)")
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, p pair, n nest)")
    conn.execute("INSERT INTO t VALUES (1, ROW(1, 'x'), ROW(ROW(2, 'y')::pair, 1.5)), "
                 "(2, '(,\"\")', NULL)")
    conn.execute("UPDATE t SET p = ROW((p).a + 1, 'z') WHERE id = 1")
    query = "SELECT id, p::text, n::text, (n).p FROM t ORDER BY id"
    before = conn.execute(query).fetchall()
    assert before == [(1, "(2,z)", '("(2,y)",1.5)', (2, "y")), (2, '(,"")', None, None)]
    assert isinstance(db, DurableDatabase)
    db._abandon()                                    # kill -9: the log replays
    db = rustmemodb.Database.open(path)
    assert db.connect().execute(query).fetchall() == before
    db.close()                                       # a checkpoint holds the types
    db = rustmemodb.Database.open(path)
    conn = db.connect()
    assert conn.execute(query).fetchall() == before
    with pytest.raises(errors.Error) as info:
        conn.execute("DROP TYPE pair")
    assert info.value.sqlstate == "2BP01"
    conn.execute("DROP TABLE t")
    conn.execute("DROP TYPE nest")
    conn.execute("DROP TYPE pair")
    db._abandon()
    db = rustmemodb.Database.open(path)
    with pytest.raises(errors.Error) as info:
        db.connect().execute("SELECT '(1,x)'::pair")
    assert info.value.sqlstate == "42704"
    db.close()


def test_fork_and_merge_carry_the_type():
    c = rustmemodb.connect()
    c.execute("CREATE TYPE pair AS (a int, b text)")
    c.execute("CREATE TABLE t (p pair)")
    c.execute("INSERT INTO t VALUES ('(1,x)')")
    db = c.database
    fork = db.fork()
    f = fork.connect()
    f.execute("CREATE TYPE other AS (z date)")
    f.execute("INSERT INTO t VALUES (ROW(2, 'y'))")
    assert [str(r[0]) for r in f.execute("SELECT p FROM t ORDER BY p").fetchall()] == \
        ["(1,x)", "(2,y)"]
    assert [str(r[0]) for r in c.execute("SELECT p FROM t").fetchall()] == ["(1,x)"]
    with pytest.raises(errors.Error):
        c.execute("SELECT '(2020-01-01)'::other")


def test_alter_type_rewrites_values_durably(tmp_path):
    """ALTER TYPE ... ADD / DROP ATTRIBUTE rewrites the stored values (a new table
    version, logged whole): a crash and a reopen read them under the new fields."""
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path)
    conn = db.connect()
    conn.execute("CREATE TYPE pair AS (a int, b text)")
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, p pair)")
    conn.execute("CREATE INDEX t_p ON t (p)")
    conn.execute("INSERT INTO t VALUES (1, ROW(2, 'x')), (2, ROW(1, 'y'))")
    conn.execute("ALTER TYPE pair ADD ATTRIBUTE c float8")
    conn.execute("ALTER TYPE pair DROP ATTRIBUTE b")
    conn.execute("ALTER TYPE pair RENAME ATTRIBUTE a TO aa")
    conn.execute("INSERT INTO t VALUES (3, '(0,1.5)')")
    query = "SELECT id, p::text, (p).aa FROM t WHERE p >= '(0,0)'::pair ORDER BY p"
    before = conn.execute(query).fetchall()
    assert before == [(3, "(0,1.5)", 0), (2, "(1,)", 1), (1, "(2,)", 2)]
    db._abandon()
    db = rustmemodb.Database.open(path)
    assert db.connect().execute(query).fetchall() == before
    db.close()
    db = rustmemodb.Database.open(path)
    assert db.connect().execute(query).fetchall() == before
    db.close()


def test_branch_merge_brings_a_composite_type_and_its_column():
    """A composite type a fork created comes across a three-way merge with the table
    holding values of it; one both sides defined differently is a conflict."""
    from rustmemodb.branch import merge
    main = rustmemodb.connect()
    main.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    fork = main.fork()
    fork.execute("CREATE TYPE pair AS (a int, b text)")
    fork.execute("CREATE TABLE u (id int PRIMARY KEY, p pair)")
    fork.execute("INSERT INTO u VALUES (1, ROW(1, 'x'))")
    assert merge(fork, main).applied
    assert [str(r[0]) for r in main.execute("SELECT p FROM u").fetchall()] == ["(1,x)"]
    assert main.execute("SELECT ('(2,y)'::pair).b").fetchall() == [("y",)]
    other = main.fork()
    other.execute("CREATE TYPE q AS (z int)")
    main.execute("CREATE TYPE q AS (z text)")
    result = merge(other, main, strategy="theirs")
    assert not result.applied
    assert [(c["table"], c["column"]) for c in result.conflicts.to_pylist()] == [("q", "type")]
