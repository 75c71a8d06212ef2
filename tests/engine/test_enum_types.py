"""Enum types (CREATE TYPE ... AS ENUM, ALTER TYPE, DROP TYPE: sql/bind/bind_enum.py,
exec/operators/enum_types.py, exec/typmods.py): values kept to the labels on every way
rows arrive, the catalogs describe the type as PostgreSQL's do, and the type is durable,
transactional and merged between branches. Expected answers are PostgreSQL 15's
(tests/sql/foundation/enum_types.test and tests/sql/types/enum_order.test replay the SQL
side on a real PostgreSQL)."""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb.branch import merge


def make(c) -> None:
    c.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, m mood NOT NULL)")
    c.execute("INSERT INTO p VALUES (1, 'happy'), (2, 'sad')")


def _state(c, error) -> str:
    with pytest.raises(errors.Error) as info:
        error(c)
    return info.value.sqlstate


def test_every_write_path_keeps_values_to_the_labels():
    c = rustmemodb.connect()
    make(c)
    bad = [lambda c: c.execute("INSERT INTO p VALUES (3, 'meh')"),
           lambda c: c.execute("UPDATE p SET m = 'Happy' WHERE id = 1"),
           lambda c: c.executemany("INSERT INTO p VALUES (?, ?)", [(3, "ok"), (4, "nope")]),
           lambda c: c.execute("INSERT INTO p SELECT 5, 'x'"),
           lambda c: c.execute("INSERT INTO p VALUES (1, 'ok') ON CONFLICT (id) "
                               "DO UPDATE SET m = 'worse'")]
    for write in bad:
        assert _state(c, write) == "22P02"
    with pytest.raises(errors.DataError, match='invalid input value for enum mood: "meh"'):
        c.execute("INSERT INTO p VALUES (3, 'meh')")
    c.register("arrow", pa.table({"id": [7], "m": ["ok"]}))
    c.execute("INSERT INTO p SELECT * FROM arrow")
    c.register("frame", pd.DataFrame({"id": [8, 9], "m": ["sad", "bogus"]}))
    assert _state(c, lambda c: c.execute("INSERT INTO p SELECT * FROM frame")) == "22P02"
    assert c.execute("SELECT id, m FROM p ORDER BY id").fetchall() == \
        [(1, "happy"), (2, "sad"), (7, "ok")]


def test_casts_and_comparisons():
    c = rustmemodb.connect()
    make(c)
    assert c.execute("SELECT 'ok'::mood, CAST(NULL AS mood)").fetchall() == [("ok", None)]
    assert c.execute("SELECT id FROM p WHERE m = 'sad'::mood").fetchall() == [(2,)]
    assert c.execute("SELECT ?::mood", ("happy",)).fetchall() == [("happy",)]
    assert _state(c, lambda c: c.execute("SELECT 'Ok'::mood")) == "22P02"
    assert _state(c, lambda c: c.execute("SELECT ?::mood", ("nope",))) == "22P02"
    assert _state(c, lambda c: c.execute("SELECT 1::mood")) == "42846"
    assert _state(c, lambda c: c.execute("SELECT 'a'::nosuch")) == "42704"


def test_alter_type_add_value_and_rename():
    c = rustmemodb.connect()
    make(c)
    c.execute("ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'")
    c.execute("ALTER TYPE mood ADD VALUE 'great' AFTER 'happy'")
    c.execute("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh'")
    assert c.notices[-1].message == 'enum label "meh" already exists, skipping'
    assert c.execute("SELECT enumlabel FROM pg_enum ORDER BY enumsortorder").fetchall() == \
        [("sad",), ("meh",), ("ok",), ("happy",), ("great",)]
    c.execute("INSERT INTO p VALUES (3, 'meh'), (4, 'great')")
    assert _state(c, lambda c: c.execute("ALTER TYPE mood ADD VALUE 'ok'")) == "42710"
    assert _state(c, lambda c: c.execute("ALTER TYPE mood ADD VALUE 'x' BEFORE 'y'")) == "22023"
    assert _state(c, lambda c: c.execute("ALTER TYPE nosuch ADD VALUE 'x'")) == "42704"
    c.execute("ALTER TYPE mood RENAME TO feeling")
    c.execute("INSERT INTO p VALUES (5, 'ok')")
    assert _state(c, lambda c: c.execute("SELECT 'ok'::mood")) == "42704"
    assert c.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                     "WHERE attrelid = 'p'::regclass AND attname = 'm'").fetchall() == \
        [("feeling",)]
    assert _state(c, lambda c: c.execute(
        "ALTER TYPE feeling RENAME ATTRIBUTE a TO b")) == "42P01"   # not a composite type (as PostgreSQL)


def test_drop_type_and_its_dependents():
    c = rustmemodb.connect()
    make(c)
    with pytest.raises(errors.Error) as info:
        c.execute("DROP TYPE mood")
    assert info.value.sqlstate == "2BP01"
    assert "column m of table p depends on type mood" in str(info.value)
    c.execute("DROP TABLE p")
    c.execute("DROP TYPE mood")
    c.execute("DROP TYPE IF EXISTS mood")
    assert c.notices[-1].message == 'type "mood" does not exist, skipping'
    assert _state(c, lambda c: c.execute("DROP TYPE mood")) == "42704"
    assert _state(c, lambda c: c.execute("CREATE TABLE q (m mood)")) == "42704"
    c.execute("CREATE TABLE text_t (x TEXT)")
    assert _state(c, lambda c: c.execute("CREATE TYPE text AS ENUM ('a')")) == "42710"
    assert _state(c, lambda c: c.execute("CREATE TYPE text_t AS ENUM ('a')")) == "42710"
    # a composite type shares the name space (a table's row type is one already)
    assert _state(c, lambda c: c.execute("CREATE TYPE text_t AS (a int, b int)")) == "42710"


def test_columns_added_or_retyped_to_an_enum():
    c = rustmemodb.connect()
    make(c)
    c.execute("CREATE TABLE notes (id INTEGER, s TEXT)")
    c.execute("INSERT INTO notes VALUES (1, 'ok'), (2, 'nope')")
    assert _state(c, lambda c: c.execute(
        "ALTER TABLE notes ALTER COLUMN s TYPE mood USING s::mood")) == "22P02"
    c.execute("DELETE FROM notes WHERE id = 2")
    c.execute("ALTER TABLE notes ALTER COLUMN s TYPE mood USING s::mood")
    c.execute("ALTER TABLE notes ADD COLUMN extra mood")
    assert _state(c, lambda c: c.execute("UPDATE notes SET extra = 'x'")) == "22P02"
    assert c.execute("SELECT data_type, udt_schema, udt_name FROM information_schema.columns "
                     "WHERE table_name = 'notes' ORDER BY ordinal_position").fetchall() == \
        [("integer", "pg_catalog", "int4"), ("USER-DEFINED", "public", "mood"),
         ("USER-DEFINED", "public", "mood")]


def test_catalog_rows():
    c = rustmemodb.connect()
    make(c)
    rows = c.execute("SELECT t.typname, t.typtype, n.nspname, e.enumlabel "
                     "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                     "JOIN pg_enum e ON e.enumtypid = t.oid "
                     "ORDER BY e.enumsortorder").fetchall()
    assert rows == [("mood", "e", "public", "sad"), ("mood", "e", "public", "ok"),
                    ("mood", "e", "public", "happy")]
    assert c.execute("SELECT format_type(typarray, NULL) FROM pg_type "
                     "WHERE typname = 'mood'").fetchall() == [("mood[]",)]


def test_create_type_is_transactional():
    c = rustmemodb.connect()
    c.execute("BEGIN")
    c.execute("CREATE TYPE t1 AS ENUM ('a')")
    c.execute("CREATE TABLE x (v t1)")
    c.execute("ROLLBACK")
    assert c.execute("SELECT count(*) FROM pg_type WHERE typname = 't1'").fetchall() == [(0,)]
    assert _state(c, lambda c: c.execute("SELECT 'a'::t1")) == "42704"


@pytest.mark.parametrize("checkpoint", [False, True])
def test_enum_types_are_durable(tmp_path, checkpoint):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    make(c)
    c.execute("ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'")
    c.execute("CREATE TYPE spare AS ENUM ('x')")
    c.execute("DROP TYPE spare")
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("INSERT INTO p VALUES (3, 'meh')")
    c.close()
    c = rustmemodb.connect(path)
    assert c.execute("SELECT enumlabel FROM pg_enum ORDER BY enumsortorder").fetchall() == \
        [("sad",), ("meh",), ("ok",), ("happy",)]
    assert c.execute("SELECT m FROM p ORDER BY id").fetchall() == [("happy",), ("sad",), ("meh",)]
    assert _state(c, lambda c: c.execute("INSERT INTO p VALUES (4, 'x')")) == "22P02"
    assert _state(c, lambda c: c.execute("SELECT 'x'::spare")) == "42704"
    c.close()


def test_a_fork_keeps_its_type_until_merged():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE base (id INTEGER PRIMARY KEY)")
    f = c.fork()
    f.execute("CREATE TYPE level AS ENUM ('low', 'high')")
    f.execute("CREATE TABLE alerts (id INTEGER PRIMARY KEY, lvl level)")
    f.execute("INSERT INTO alerts VALUES (1, 'high')")
    assert _state(c, lambda c: c.execute("SELECT 'low'::level")) == "42704"
    assert merge(f, c).applied
    assert c.execute("SELECT 'low'::level").fetchall() == [("low",)]
    assert c.execute("SELECT * FROM alerts").fetchall() == [(1, "high")]
    assert _state(c, lambda c: c.execute("INSERT INTO alerts VALUES (2, 'mid')")) == "22P02"


def test_values_order_by_label_position():
    c = rustmemodb.connect()
    make(c)
    c.execute("INSERT INTO p VALUES (3, 'ok')")
    assert c.execute("SELECT id FROM p ORDER BY m").fetchall() == [(2,), (3,), (1,)]
    assert c.execute("SELECT id FROM p WHERE m > ?", ("ok",)).fetchall() == [(1,)]
    assert c.execute("SELECT max(m), min(m) FROM p").fetchall() == [("happy", "sad")]
    assert _state(c, lambda c: c.execute("SELECT id FROM p WHERE m > ?", ("nope",))) == "22P02"
    c.execute("CREATE TABLE q (t TEXT)")
    assert _state(c, lambda c: c.execute("SELECT 1 FROM p, q WHERE p.m = q.t")) == "42883"
    # the text of a value sorts as text
    assert c.execute("SELECT m::text FROM p ORDER BY 1").fetchall() == \
        [("happy",), ("ok",), ("sad",)]
    # a plain text column of the same name is not taken for the enum one (plan cache,
    # reused bound pieces, function return types)
    c.execute("CREATE TABLE r (id INTEGER, m TEXT)")
    c.execute("INSERT INTO r VALUES (1, 'happy'), (2, 'sad'), (3, 'ok')")
    assert c.execute("SELECT id FROM r ORDER BY m").fetchall() == [(1,), (3,), (2,)]
    assert c.execute("SELECT max(m), coalesce(max(m), 'x') FROM r").fetchall() == \
        [("sad", "sad")]
    assert c.execute("SELECT id FROM r WHERE m > 'ok' ORDER BY id").fetchall() == [(2,)]


@pytest.mark.parametrize("checkpoint", [False, True])
def test_rename_value_relabels_rows_durably(tmp_path, checkpoint):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    make(c)
    c.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, m mood DEFAULT 'sad')")
    c.execute("CREATE INDEX d_m ON d (m)")
    c.execute("INSERT INTO d VALUES (1, 'ok'), (2, 'sad')")
    c.execute("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'")
    assert _state(c, lambda c: c.execute("ALTER TYPE mood RENAME VALUE 'sad' TO 'x'")) == \
        "22023"
    assert _state(c, lambda c: c.execute("ALTER TYPE mood RENAME VALUE 'ok' TO 'happy'")) == \
        "42710"
    assert _state(c, lambda c: c.execute(
        "ALTER TYPE mood RENAME VALUE 'ok' TO '" + "x" * 64 + "'")) == "42602"
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("INSERT INTO d (id) VALUES (3)")      # the DEFAULT names the new label
    c.close()
    c = rustmemodb.connect(path)
    assert c.execute("SELECT id, m FROM p ORDER BY m").fetchall() == [(2, "blue"), (1, "happy")]
    assert c.execute("SELECT id FROM d WHERE m = 'blue' ORDER BY id").fetchall() == \
        [(2,), (3,)]
    assert c.execute("SELECT enumlabel FROM pg_enum ORDER BY enumsortorder").fetchall() == \
        [("blue",), ("ok",), ("happy",)]
    assert _state(c, lambda c: c.execute("SELECT * FROM p WHERE m = 'sad'")) == "22P02"
    assert _state(c, lambda c: c.execute("INSERT INTO p VALUES (9, 'sad')")) == "22P02"
    c.close()


def test_rename_value_is_transactional():
    c = rustmemodb.connect()
    make(c)
    c.execute("BEGIN")
    c.execute("ALTER TYPE mood RENAME VALUE 'happy' TO 'glad'")
    assert c.execute("SELECT m FROM p WHERE id = 1").fetchall() == [("glad",)]
    c.execute("ROLLBACK")
    assert c.execute("SELECT m FROM p WHERE id = 1").fetchall() == [("happy",)]


@pytest.mark.parametrize("checkpoint", [False, True])
def test_drop_type_cascade_drops_the_columns_durably(tmp_path, checkpoint):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    make(c)
    c.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, a mood, note TEXT, b mood)")
    c.execute("CREATE INDEX q_a ON q (a)")
    c.execute("INSERT INTO q VALUES (1, 'ok', 'n', 'sad')")
    c.execute("DROP TYPE mood CASCADE")
    assert c.notices[-1].message == "drop cascades to 3 other objects"
    c.execute("CREATE TYPE solo AS ENUM ('x')")
    c.execute("CREATE TABLE s (id INTEGER, v solo)")
    c.execute("DROP TYPE solo CASCADE")
    assert c.notices[-1].message == "drop cascades to column v of table s"
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("INSERT INTO q VALUES (2, 'm')")
    c.close()
    c = rustmemodb.connect(path)
    assert c.execute("SELECT * FROM q ORDER BY id").fetchall() == [(1, "n"), (2, "m")]
    assert c.execute("SELECT * FROM p ORDER BY id").fetchall() == [(1,), (2,)]
    assert c.execute("SELECT count(*) FROM pg_type WHERE typname IN ('mood', 'solo')"
                     ).fetchall() == [(0,)]
    assert c.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'q_a'"
                     ).fetchall() == [(0,)]
    c.close()


def test_drop_type_cascade_is_transactional():
    c = rustmemodb.connect()
    make(c)
    c.execute("BEGIN")
    c.execute("DROP TYPE mood CASCADE")
    c.execute("ROLLBACK")
    assert c.execute("SELECT m FROM p ORDER BY m").fetchall() == [("sad",), ("happy",)]


def test_a_fork_renames_a_value_and_merges_it():
    c = rustmemodb.connect()
    make(c)
    f = c.fork()
    f.execute("ALTER TYPE mood RENAME VALUE 'happy' TO 'glad'")
    assert c.execute("SELECT m FROM p WHERE id = 1").fetchall() == [("happy",)]
    assert merge(f, c).applied
    assert c.execute("SELECT m FROM p ORDER BY m").fetchall() == [("sad",), ("glad",)]
    assert _state(c, lambda c: c.execute("SELECT 'happy'::mood")) == "22P02"
