"""Generated columns through every way rows arrive (exec/generated.py): executemany, a
bulk INSERT ... SELECT from Arrow (the columnar path), a set-based UPDATE; they survive
a restart; MERGE computes them too, and ALTER TABLE ... ADD COLUMN ... GENERATED computes
them for the rows already stored."""
from __future__ import annotations

import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb import errors

DDL = ("CREATE TABLE g (id INTEGER PRIMARY KEY, price FLOAT, qty INTEGER, "
       "total FLOAT GENERATED ALWAYS AS (price * qty) STORED)")


def test_every_insert_and_update_path_computes_them(tmp_path):
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute(DDL)
    conn.executemany("INSERT INTO g (id, price, qty) VALUES (?, ?, ?)",
                     [(i, 1.5, i) for i in range(100)])
    conn.register("src", pa.table({"id": pa.array(range(100, 20100)),
                                   "price": pa.array([2.0] * 20000),
                                   "qty": pa.array(range(20000))}))
    conn.execute("INSERT INTO g (id, price, qty) SELECT id, price, qty FROM src")
    conn.execute("UPDATE g SET qty = qty + 1 WHERE id % 2 = 0")
    wrong = "SELECT count(*) FROM g WHERE total IS DISTINCT FROM price * qty"
    assert conn.execute(wrong).fetchall() == [(0,)]
    assert conn.execute("SELECT total FROM g WHERE id = 4").fetchall() == [(7.5,)]
    conn.close()
    conn = rustmemodb.connect(path)                 # the definition is durable
    conn.execute("INSERT INTO g (id, price, qty) VALUES (-1, 3.0, 3)")
    assert conn.execute("SELECT total FROM g WHERE id = -1").fetchall() == [(9.0,)]
    assert conn.execute(wrong).fetchall() == [(0,)]
    conn.close()


def test_alter_table_add_column_computes_them_for_stored_rows(tmp_path):
    path = str(tmp_path / "db")
    conn = rustmemodb.connect(path)
    conn.execute("CREATE TABLE ga (id INTEGER PRIMARY KEY, a INTEGER)")
    conn.executemany("INSERT INTO ga VALUES (?, ?)", [(i, i) for i in range(5000)])
    conn.execute("DELETE FROM ga WHERE id % 7 = 0")
    conn.execute("ALTER TABLE ga ADD COLUMN b INTEGER GENERATED ALWAYS AS (a * 10) STORED")
    conn.execute("INSERT INTO ga (id, a) VALUES (-1, NULL)")
    wrong = "SELECT count(*) FROM ga WHERE b IS DISTINCT FROM a * 10"
    assert conn.execute(wrong).fetchall() == [(0,)]
    conn.close()
    conn = rustmemodb.connect(path)
    assert conn.execute(wrong).fetchall() == [(0,)]
    conn.close()


def test_copy_from_a_file_fills_the_other_columns(tmp_path):
    conn = rustmemodb.connect(file_root=str(tmp_path))
    conn.execute("CREATE TABLE gc (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED)")
    (tmp_path / "rows.csv").write_text("5\n6\n")
    conn.execute("COPY gc FROM 'rows.csv' (FORMAT csv)")
    assert conn.execute("SELECT a, b FROM gc ORDER BY a").fetchall() == [(5, 10), (6, 12)]


def test_merge_computes_them_and_refuses_writing_them():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE gm (id INTEGER PRIMARY KEY, a INTEGER, "
                 "b INTEGER GENERATED ALWAYS AS (a * 2) STORED)")
    conn.execute("INSERT INTO gm (id, a) VALUES (1, 1), (2, 2)")
    conn.execute("MERGE INTO gm USING (VALUES (1, 10), (3, 30)) s(id, a) ON gm.id = s.id "
                 "WHEN MATCHED THEN UPDATE SET a = s.a "
                 "WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.a)")
    assert conn.execute("SELECT * FROM gm ORDER BY id").fetchall() == [
        (1, 10, 20), (2, 2, 4), (3, 30, 60)]
    for sql in ("MERGE INTO gm USING (VALUES (1, 10)) s(id, a) ON gm.id = s.id "
                "WHEN MATCHED THEN UPDATE SET b = 1",
                "MERGE INTO gm USING (VALUES (9, 10)) s(id, a) ON gm.id = s.id "
                "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.a, 5)"):
        with pytest.raises(errors.Error) as info:
            conn.execute(sql)
        assert info.value.sqlstate == "428C9"
