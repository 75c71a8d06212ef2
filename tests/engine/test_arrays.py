"""Array columns as storage: Arrow list columns that survive pandas, the WAL, checkpoints,
forks and UPDATE; keys on arrays are refused cleanly. (SQL semantics of arrays are in
tests/sql/query/arrays.test, checked on PostgreSQL.)"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import rustmemodb


def make(conn):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER[], s TEXT[], f FLOAT[])")
    conn.execute("INSERT INTO t VALUES (1, ARRAY[1, 2], '{x,NULL}', ARRAY[1.5, 2]), "
                 "(2, NULL, ARRAY[]::TEXT[], '{}')")


WANT = [(1, [1, 2], ["x", None], [1.5, 2.0]), (2, None, [], [])]


def test_arrow_types_and_pandas_round_trip():
    c = rustmemodb.connect()
    make(c)
    table = c.execute("SELECT * FROM t ORDER BY id").arrow()
    assert table.schema.field("a").type == pa.list_(pa.int64())
    assert table.schema.field("s").type == pa.list_(pa.large_string())
    df = c.execute("SELECT * FROM t ORDER BY id").df()
    assert list(df.loc[0, "a"]) == [1, 2] and df.loc[1, "a"] is None
    c.register("frame", pd.DataFrame({"k": [1, 2], "v": [[3, 4], [5]]}))
    assert c.execute("SELECT k, v[2], cardinality(v) FROM frame ORDER BY k").fetchall() == \
        [(1, 4, 2), (2, None, 1)]
    c.execute("CREATE TABLE copied AS SELECT * FROM frame")
    assert c.execute("SELECT v FROM copied ORDER BY k").fetchall() == [([3, 4],), ([5],)]


def test_arrays_survive_wal_and_checkpoint(tmp_path):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    make(c)
    c.close()
    c = rustmemodb.connect(path)          # recovered from the WAL
    assert c.execute("SELECT * FROM t ORDER BY id").fetchall() == WANT
    c.execute("CHECKPOINT")
    c.execute("UPDATE t SET a = a || 3 WHERE id = 1")
    c.close()
    c = rustmemodb.connect(path)          # checkpoint + WAL tail
    assert c.execute("SELECT a FROM t ORDER BY id").fetchall() == [([1, 2, 3],), (None,)]
    c.close()


def test_forks_and_updates_keep_arrays_apart():
    c = rustmemodb.connect()
    make(c)
    fork = c.fork()
    fork.execute("UPDATE t SET s = array_append(s, 'y') WHERE id = 2")
    assert fork.execute("SELECT s FROM t WHERE id = 2").fetchall() == [(["y"],)]
    assert c.execute("SELECT s FROM t WHERE id = 2").fetchall() == [([],)]
    c.execute("ALTER TABLE t ADD COLUMN extra TEXT[]")
    c.execute("UPDATE t SET extra = ARRAY['e'] WHERE id = 1")
    assert c.execute("SELECT extra FROM t ORDER BY id").fetchall() == [(["e"],), (None,)]


@pytest.mark.parametrize("sql", [
    "CREATE INDEX ix ON t (a)",
    "CREATE TABLE k (a INTEGER[] PRIMARY KEY)",
    "CREATE TABLE k (a INTEGER, b TEXT[], UNIQUE (a, b))",
    "ALTER TABLE t ADD CONSTRAINT u UNIQUE (s)",
])
def test_keys_on_arrays_are_refused(sql):
    c = rustmemodb.connect()
    make(c)
    with pytest.raises(rustmemodb.NotSupportedError) as info:
        c.execute(sql)
    assert info.value.sqlstate == "0A000"
    assert c.execute("SELECT count(*) FROM t").fetchall() == [(2,)]


def test_python_lists_bind_to_array_parameters():
    c = rustmemodb.connect()
    make(c)
    c.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (3, [7, None], ["q"], (0.5,)))
    assert c.execute("SELECT a, s, f FROM t WHERE id = 3").fetchall() == \
        [([7, None], ["q"], [0.5])]
    assert c.execute("SELECT id FROM t WHERE id = ANY(?) ORDER BY id", ([2, 3, 9],)).fetchall() \
        == [(2,), (3,)]
    assert c.execute("SELECT id FROM t WHERE id <> ALL($1) ORDER BY id", ([2],)).fetchall() \
        == [(1,), (3,)]
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        c.execute("INSERT INTO t VALUES (?, ?, NULL, NULL)", (4, ["x"]))
    assert info.value.sqlstate == "42804"


@pytest.mark.parametrize("source", ["catalog", "frame"])
def test_array_against_no_rows_is_empty_not_an_error(source):
    """An array broadcast over an empty input (SQLAlchemy's has_table() on a database with
    no tables yet: pg_class JOIN pg_namespace, relkind = ANY(ARRAY[...])): pyarrow cannot
    repeat a list scalar zero times, and that surfaced as 22000."""
    c = rustmemodb.connect()
    if source == "catalog":
        sql = ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
               "WHERE c.relname IN (?::VARCHAR) AND c.relkind = ANY (ARRAY[?::VARCHAR, "
               "?::VARCHAR]) AND n.nspname != ?::VARCHAR")
        params = ("person", "r", "p", "pg_catalog")
    else:
        c.register("frame", pd.DataFrame({"k": pd.Series([], dtype="int64")}))
        sql, params = "SELECT k, ARRAY[k, 1] FROM frame WHERE k = ANY (ARRAY[1, 2])", ()
    assert c.execute(sql, params).fetchall() == []


def test_untyped_parameter_beside_an_array_takes_its_type():
    """``n @> $1`` as drivers send it: the parameter is the array operand's type (was
    42883, no array_contains_all(integer[], unknown))."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (n INTEGER[], t TEXT[])")
    c.execute("INSERT INTO p VALUES (ARRAY[7, 8], ARRAY['a']), (ARRAY[1], ARRAY['b'])")
    assert c.execute("SELECT count(*) FROM p WHERE n @> ?", ([7],)).fetchall() == [(1,)]
    assert c.execute("SELECT count(*) FROM p WHERE n <@ ?", ([1, 7, 8],)).fetchall() == [(2,)]
    assert c.execute("SELECT count(*) FROM p WHERE ? && t", (["b", "z"],)).fetchall() == [(1,)]
