"""Foreign keys ON DELETE / ON UPDATE SET DEFAULT and ON DELETE SET NULL (a) kept on disk.

The SQL side is tests/sql/index/fk_set_default.test (replayed on PostgreSQL 15); here:
the constraint survives a restart (from the log and from a checkpoint) and acts the same
afterwards, a schema written before ``delete_set_columns`` existed still reads, and a
damaged column list on disk is refused.
"""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb.durability.codec import decode_schema, encode
from rustmemodb.storage.schema import Column, ForeignKey, TableSchema

from .restart import reopened


def _make(conn) -> None:
    conn.execute("CREATE SEQUENCE fallback START 100")
    conn.execute("CREATE TABLE p (a int, b int, PRIMARY KEY (a, b))")
    conn.execute("INSERT INTO p VALUES (1, 1), (1, 2), (2, 0), (1, 100), (1, 101)")
    conn.execute("CREATE TABLE c (id int PRIMARY KEY, a int DEFAULT 2, "
                 "b int DEFAULT nextval('fallback'), FOREIGN KEY (a, b) REFERENCES p "
                 "ON DELETE SET DEFAULT (b) ON UPDATE SET DEFAULT)")
    conn.execute("INSERT INTO c VALUES (1, 1, 1), (2, 1, 1), (3, 1, 2)")


def _definition(conn) -> list:
    return conn.execute(
        "SELECT confdeltype, confupdtype, confdelsetcols::text, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE conname = 'c_a_b_fkey'").fetchall()


_EXPECTED = [("d", "d", "{3}", "FOREIGN KEY (a, b) REFERENCES p(a, b) "
              "ON UPDATE SET DEFAULT ON DELETE SET DEFAULT (b)")]


@pytest.mark.parametrize("checkpoint", [False, True])
def test_set_default_survives_a_restart(tmp_path, checkpoint):
    again = reopened(tmp_path / "db", _make, checkpoint)
    assert _definition(again) == _EXPECTED
    # ON DELETE SET DEFAULT (b): only b takes its DEFAULT, one nextval() per row
    again.execute("DELETE FROM p WHERE a = 1 AND b = 1")
    assert again.execute("SELECT * FROM c ORDER BY id").fetchall() == [
        (1, 1, 100), (2, 1, 101), (3, 1, 2)]
    # ON UPDATE SET DEFAULT: every key column takes its DEFAULT; (2, 102) is no parent
    with pytest.raises(rustmemodb.IntegrityError) as info:
        again.execute("UPDATE p SET b = 3 WHERE a = 1 AND b = 2")
    assert info.value.sqlstate == "23503"
    assert again.execute("SELECT * FROM c ORDER BY id").fetchall() == [
        (1, 1, 100), (2, 1, 101), (3, 1, 2)]
    again.close()


def test_a_schema_from_before_the_column_lists_reads():
    schema = TableSchema("c", (Column("a", "INTEGER"), Column("b", "INTEGER")), (), (),
                         (ForeignKey("c_fk", (0, 1), "p", ("a", "b"), "SET DEFAULT",
                                     "SET DEFAULT"),))
    data = encode(schema)
    del data["foreign_keys"]["__tuple__"][0]["delete_set_columns"]
    assert decode_schema(data) == schema


@pytest.mark.parametrize("columns", [(2,), (0, 5), ("b",), [1], (True,)])
def test_a_damaged_column_list_on_disk_is_refused(columns):
    schema = TableSchema("c", (Column("a", "INTEGER"), Column("b", "INTEGER"),
                               Column("x", "INTEGER")), (), (),
                         (ForeignKey("c_fk", (0, 1), "p", ("a", "b"), "SET NULL",
                                     delete_set_columns=(1,)),))
    data = encode(schema)
    assert decode_schema(data) == schema
    data["foreign_keys"]["__tuple__"][0]["delete_set_columns"] = encode(columns)
    with pytest.raises(ValueError):
        decode_schema(data)
