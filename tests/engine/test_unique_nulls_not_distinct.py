"""UNIQUE NULLS NOT DISTINCT: kept on disk, across transactions, and beside ordinary keys.

The SQL side is tests/sql/index/unique_nulls_not_distinct.test (replayed on PostgreSQL
15); here: the constraints and indexes survive a restart (from the log and from a
checkpoint) and still refuse a second NULL key, a schema written before the flag
existed reads as NULLS DISTINCT, two transactions inserting the same NULL key conflict,
and the storage index holds a NULL part as ``NULL_KEY`` only when asked to.
"""
from __future__ import annotations

import pickle

import pytest

import rustmemodb
from rustmemodb.durability.codec import decode_schema, encode
from rustmemodb.storage.index import NULL_KEY, NullsEqualUniqueIndex, UniqueIndex
from rustmemodb.storage.schema import Column, IndexDef, TableSchema, UniqueConstraint

from .restart import reopened


def _make(conn) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int UNIQUE NULLS NOT DISTINCT, "
                 "b int, c text, d text)")
    conn.execute("CREATE UNIQUE INDEX t_bc ON t (b, c) NULLS NOT DISTINCT")
    conn.execute("CREATE UNIQUE INDEX t_lower ON t (lower(d)) NULLS NOT DISTINCT WHERE id > 0")
    conn.execute("INSERT INTO t VALUES (1, NULL, NULL, NULL, 'q'), (2, 2, 1, 'x', NULL)")


@pytest.mark.parametrize("checkpoint", [False, True])
def test_the_keys_survive_a_restart(tmp_path, checkpoint):
    again = reopened(tmp_path / "db", _make, checkpoint)
    assert again.execute(
        "SELECT indexrelid::regclass::text, indnullsnotdistinct FROM pg_index "
        "WHERE indrelid = 't'::regclass ORDER BY 1").fetchall() == [
        ("t_a_key", True), ("t_bc", True), ("t_lower", True), ("t_pkey", False)]
    for row, name in (("(3, NULL, 5, 'y', 'r')", "t_a_key"),
                      ("(3, 3, NULL, NULL, 's')", "t_bc"), ("(3, 3, 9, 'z', NULL)", "t_lower")):
        with pytest.raises(rustmemodb.IntegrityError) as info:
            again.execute(f"INSERT INTO t VALUES {row}")
        assert info.value.sqlstate == "23505" and name in str(info.value)
    again.execute("INSERT INTO t VALUES (3, 3, 1, 'y', 'k')")
    assert again.execute("SELECT count(*) FROM t").fetchone() == (3,)
    again.close()


def test_a_schema_from_before_the_flag_reads_as_nulls_distinct():
    schema = TableSchema("t", (Column("a", "INTEGER"),),
                         (UniqueConstraint("t_a_key", (0,)),), (), (),
                         (IndexDef("t_i", (0,), True),))
    data = encode(schema)
    del data["uniques"]["__tuple__"][0]["nulls_not_distinct"]
    del data["indexes"]["__tuple__"][0]["nulls_not_distinct"]
    assert decode_schema(data) == schema
    data["uniques"]["__tuple__"][0]["nulls_not_distinct"] = "yes"
    with pytest.raises(ValueError):
        decode_schema(data)


def test_concurrent_null_keys_conflict_only_under_nulls_not_distinct():
    a = rustmemodb.connect()
    a.execute("CREATE TABLE t (a int UNIQUE NULLS NOT DISTINCT, b int UNIQUE)")
    b = a.database.connect()
    for mine, theirs, fails in (("(NULL, 1)", "(NULL, 2)", True),
                                ("(5, NULL)", "(6, NULL)", False)):
        for conn in (a, b):
            conn.execute("BEGIN")
            conn.execute("SELECT 1")
        a.execute(f"INSERT INTO t VALUES {mine}")
        b.execute(f"INSERT INTO t VALUES {theirs}")
        a.execute("COMMIT")
        if fails:
            with pytest.raises(rustmemodb.OperationalError) as info:
                b.execute("COMMIT")
            assert info.value.sqlstate == "40001"
        else:
            b.execute("COMMIT")
    assert a.execute("SELECT * FROM t ORDER BY a, b").fetchall() == [
        (5, None), (6, None), (None, 1)]


def test_only_the_nulls_equal_index_holds_null_keys():
    plain = UniqueIndex("p", (0, 1))
    equal = NullsEqualUniqueIndex("e", (0, 1))
    assert plain.stored_key((None, 1)) is None
    assert equal.stored_key((None, 1)) == (NULL_KEY, 1)
    index, dup = NullsEqualUniqueIndex.build("e", (0,), [None, 1, None], [0, 1, 2])
    assert dup is NULL_KEY and type(index) is NullsEqualUniqueIndex
    assert index.get(None) is None          # a probe with a NULL finds nothing
    assert pickle.loads(pickle.dumps(NULL_KEY)) is NULL_KEY
