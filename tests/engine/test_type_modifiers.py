"""VARCHAR(n), NUMERIC(p, s) and SMALLINT columns through every way rows arrive
(exec/typmods.py).

The SQL side is in tests/sql/foundation/type_modifiers.test (replayed on PostgreSQL);
here: executemany past the tail (the Arrow path), a registered DataFrame, a COPY,
the float8-to-numeric rounding PostgreSQL does through 15 significant digits, the
modifier surviving a restart, and a damaged one on disk being refused.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb.durability.codec import decode_schema, encode
from rustmemodb.exec.typmods import fit_array, fit_numeric
from rustmemodb.storage.schema import Column, TableSchema


def _table(conn):
    conn.execute("CREATE TABLE m (id int PRIMARY KEY, s varchar(4), n numeric(6,2))")


def test_executemany_past_the_tail_rounds_and_refuses_like_single_rows():
    conn = rustmemodb.connect()
    _table(conn)
    conn.executemany("INSERT INTO m VALUES (?, ?, ?)",
                     [(i, f"r{i % 100}", i / 7) for i in range(5000)])
    assert conn.execute("SELECT n FROM m WHERE id = 1").fetchall() == [(Decimal("0.14"),)]
    assert conn.execute("SELECT max(length(s)) FROM m").fetchall() == [(3,)]
    with pytest.raises(errors.DataError) as info:
        conn.executemany("INSERT INTO m VALUES (?, ?, ?)",
                         [(i, "toolong", 1.0) for i in range(10_000, 13_000)])
    assert info.value.sqlstate == "22001"
    with pytest.raises(errors.DataError) as info:
        conn.executemany("INSERT INTO m VALUES (?, ?, ?)",
                         [(i, "ok", 12345.0) for i in range(10_000, 13_000)])
    assert info.value.sqlstate == "22003"
    assert conn.execute("SELECT count(*) FROM m").fetchall() == [(5000,)]


def test_a_registered_dataframe_is_fitted_as_postgresql_fits_float8():
    conn = rustmemodb.connect()
    _table(conn)
    conn.register("df", pd.DataFrame({"id": [1, 2, 3, 4], "s": ["a", "b ", None, "dddd"],
                                      "n": [1.005, 2.675, -1.005, None]}))
    conn.execute("INSERT INTO m SELECT * FROM df")
    # PostgreSQL: 1.005::float8::numeric(6,2) = 1.01 (its 15 significant digits), not
    # the 1.00 that rounding the binary double would give
    assert conn.execute("SELECT n FROM m ORDER BY id").fetchall() == [
        (Decimal("1.01"),), (Decimal("2.68"),), (Decimal("-1.01"),), (None,)]


def test_copy_from_a_file_applies_the_modifiers(tmp_path):
    conn = rustmemodb.connect()
    _table(conn)
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("1\tab\t3.14159\n2\t\\N\t-0.005\n")
    bad.write_text("3\tabcde\t1\n")
    conn.execute(f"COPY m FROM '{good}'")
    assert conn.execute("SELECT s, n FROM m ORDER BY id").fetchall() == [
        ("ab", Decimal("3.14")), (None, Decimal("-0.01"))]
    with pytest.raises(errors.Error) as info:
        conn.execute(f"COPY m FROM '{bad}'")
    assert info.value.sqlstate == "22001"
    assert conn.execute("SELECT count(*) FROM m").fetchall() == [(2,)]


def test_the_modifier_survives_a_restart(tmp_path):
    conn = rustmemodb.connect(str(tmp_path / "db"))
    _table(conn)
    conn.execute("INSERT INTO m VALUES (1, 'abc', 1.234)")
    conn.close()
    again = rustmemodb.connect(str(tmp_path / "db"))
    with pytest.raises(errors.DataError) as info:
        again.execute("INSERT INTO m VALUES (2, 'abcde', 1)")
    assert info.value.sqlstate == "22001"
    again.execute("INSERT INTO m VALUES (2, 'x', 9.999)")
    assert again.execute("SELECT n FROM m ORDER BY id").fetchall() == [(Decimal("1.23"),),
                                                                   (Decimal("10.00"),)]


@pytest.mark.parametrize("typmod", [("varchar", 0), ("numeric", 0, 1), ("numeric", 5),
                                    ("varchar", True), ("char", 3), "varchar(3)", ("int8",),
                                    ("int2", 16), ("float4", None)])
def test_a_damaged_modifier_on_disk_is_refused(typmod):
    schema = TableSchema("t", (Column("a", "TEXT", typmod=("varchar", 3)),), (), (), ())
    data = encode(schema)
    assert decode_schema(data) == schema
    data["columns"]["__tuple__"][0]["typmod"] = encode(typmod)
    with pytest.raises(ValueError):
        decode_schema(data)


def test_the_vector_and_row_paths_round_the_same():
    import numpy as np
    import pyarrow as pa
    values = np.round(np.random.default_rng(7).uniform(-999, 999, 20_000), 3)
    values[:4] = [1.005, 2.675, -1.005, 0.125]
    vector = fit_array(("numeric", 6, 2), pa.array(values)).to_pylist()
    assert vector == [fit_numeric(v, 6, 2) for v in values.tolist()]


def _smallints(conn):
    conn.execute("CREATE TABLE sm (id bigint PRIMARY KEY, s smallint, n numeric, r real)")


def test_smallint_range_on_every_write_path(tmp_path):
    conn = rustmemodb.connect()
    _smallints(conn)
    # executemany past the tail (the Arrow path) and the point path
    conn.executemany("INSERT INTO sm VALUES (?, ?, ?, ?)",
                     [(i, i * 6, 0.5, 1.5) for i in range(5000)])
    for rows in ([(9, 40_000, 1, 1)], [(10_000 + i, 32_768 if i == 2999 else 1, 1, 1)
                                       for i in range(3000)]):
        with pytest.raises(errors.DataError) as info:
            conn.executemany("INSERT INTO sm VALUES (?, ?, ?, ?)", rows)
        assert info.value.sqlstate == "22003"
        assert "smallint out of range" in str(info.value)
    with pytest.raises(errors.DataError):
        conn.execute("INSERT INTO sm VALUES (?, ?, ?, ?)", (99_999, -32_769, 1, 1))
    # a set-based UPDATE and a point UPDATE (autocommit and in a transaction)
    with pytest.raises(errors.DataError):
        conn.execute("UPDATE sm SET s = s * 2")       # 29,994 * 2
    with pytest.raises(errors.DataError):
        conn.execute("UPDATE sm SET s = ? WHERE id = ?", (32_768, 1))
    conn.execute("BEGIN")
    with pytest.raises(errors.DataError):
        conn.execute("UPDATE sm SET s = ? WHERE id = ?", (-40_000, 1))
    conn.execute("ROLLBACK")
    # a registered DataFrame through INSERT ... SELECT, and COPY from a file
    conn.register("df", pd.DataFrame({"id": [20_001, 20_002], "s": [1, 70_000],
                                      "n": [1.0, 2.0], "r": [1.0, 2.0]}))
    with pytest.raises(errors.DataError):
        conn.execute("INSERT INTO sm SELECT * FROM df")
    bad = tmp_path / "bad.txt"
    bad.write_text("30001\t5\t1\t1\n30002\t32768\t1\t1\n")
    with pytest.raises(errors.Error) as info:
        conn.execute(f"COPY sm FROM '{bad}'")
    assert info.value.sqlstate == "22003"
    # nothing of the refused statements was written
    assert conn.execute("SELECT count(*), min(s), max(s) FROM sm").fetchall() == [
        (5000, 0, 29_994)]


def test_alter_column_type_smallint_checks_the_stored_values():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE a (id bigint PRIMARY KEY, v bigint)")
    conn.execute("INSERT INTO a VALUES (1, 5), (2, 100000)")
    with pytest.raises(errors.DataError) as info:
        conn.execute("ALTER TABLE a ALTER COLUMN v TYPE smallint")
    assert info.value.sqlstate == "22003"
    conn.execute("DELETE FROM a WHERE id = 2")
    conn.execute("ALTER TABLE a ALTER COLUMN v TYPE smallint")
    assert conn.execute("SELECT data_type FROM information_schema.columns WHERE "
                        "table_name = 'a' AND column_name = 'v'").fetchall() == [("smallint",)]
    with pytest.raises(errors.DataError):
        conn.execute("INSERT INTO a VALUES (3, 32768)")


def test_declared_types_survive_a_restart(tmp_path):
    conn = rustmemodb.connect(str(tmp_path / "db"))
    _smallints(conn)
    conn.execute("INSERT INTO sm VALUES (1, 7, 2.5, 0.5)")
    conn.close()
    again = rustmemodb.connect(str(tmp_path / "db"))
    assert again.execute("SELECT column_name, data_type FROM information_schema.columns "
                         "WHERE table_name = 'sm' ORDER BY ordinal_position").fetchall() == [
        ("id", "bigint"), ("s", "smallint"), ("n", "numeric"), ("r", "real")]
    with pytest.raises(errors.DataError):
        again.execute("UPDATE sm SET s = 32768")
    assert again.execute("SELECT s, n, r FROM sm").fetchall() == [(7, 2.5, 0.5)]
