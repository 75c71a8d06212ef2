"""numeric through the embedded API: the stored key orders as the numbers do (NaN above
+Infinity, equal numbers apart only by their scale), a cursor returns ``decimal.Decimal``
with the value's scale (as psycopg does), Decimal and float parameters, df() holds exact
Decimals, bad input changes nothing, no process-wide decimal state is touched, the
columns survive the WAL, a checkpoint and a reopen, and a database whose NUMERIC columns
were stored as float8 (before NUMERIC was exact) still opens and works as before."""
from __future__ import annotations

import decimal
import random
from decimal import Decimal

import pytest

import rustmemodb
from rustmemodb import numeric, types


def _order(d: Decimal) -> tuple:
    """PostgreSQL's numeric order, apart from the key: -Infinity < numbers < +Infinity <
    NaN."""
    if d.is_nan():
        return (3, 0)
    if d.is_infinite():
        return (0, 0) if d < 0 else (2, 0)
    return (1, d)


def test_key_order_is_numeric_order():
    rng = random.Random(7)
    values = [Decimal(f"{rng.choice('-+')}{rng.randint(0, 10 ** rng.randint(0, 25))}"
                      f"E{rng.randint(-30, 30)}") for _ in range(2000)]
    values += [Decimal(x) for x in ("0", "0.00", "-0.5", "NaN", "Infinity", "-Infinity",
                                    "1.1", "1.10", "1e400", "-1e-400")]
    keys = [numeric.encode(numeric.as_decimal(v)) for v in values]
    by_key = sorted(range(len(values)), key=lambda i: keys[i])
    ranks = [_order(numeric.as_decimal(values[i])) for i in by_key]
    assert ranks == sorted(ranks)
    for v, k in zip(values, keys):
        d = numeric.as_decimal(v)
        assert numeric.valid(k)
        back = numeric.decode(k)
        assert (back.is_nan() and d.is_nan()) or (back == d and
                                                  numeric.scale_of(back) == numeric.scale_of(d))
    # equal numbers share the key's value part whatever their scale
    assert numeric.value_part(numeric.of_python(Decimal("1.1"))) == \
        numeric.value_part(numeric.of_python(Decimal("1.100")))
    assert not numeric.valid(b"\x03\x00") and not numeric.valid(b"garbage!")


def test_process_decimal_context_is_untouched():
    before = decimal.getcontext().copy()
    c = rustmemodb.connect()
    c.execute("SELECT 1 / 3::numeric, sqrt(2::numeric), exp(1.5), ln(7.0), power(2.5, 0.5), "
              "round(1e40 / 7, 3)").fetchall()
    after = decimal.getcontext()
    assert (after.prec, after.rounding, after.Emax, after.Emin) == \
        (before.prec, before.rounding, before.Emax, before.Emin)


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, p numeric(10, 2), q numeric)")
    yield c
    c.close()


def test_db_api_values_and_parameters(conn):
    conn.execute("INSERT INTO m VALUES (?, ?, ?)", (1, Decimal("1.1"), Decimal("1.10")))
    conn.execute("INSERT INTO m VALUES (?, ?, ?)", (2, 2.205, 3))       # float: 15 digits
    conn.execute("INSERT INTO m VALUES (?, ?, ?)", (3, None, Decimal("NaN")))
    rows = conn.execute("SELECT id, p, q FROM m ORDER BY id").fetchall()
    assert rows[:2] == [(1, Decimal("1.10"), Decimal("1.10")), (2, Decimal("2.21"), Decimal("3"))]
    assert [str(v) for v in rows[0][1:]] == ["1.10", "1.10"]
    assert rows[2][1] is None and rows[2][2].is_nan()
    assert conn.execute("SELECT id FROM m WHERE p = ?", (Decimal("1.1"),)).fetchall() == [(1,)]
    assert conn.execute("SELECT id FROM m WHERE p > ?", (2,)).fetchall() == [(2,)]
    assert conn.execute("SELECT sum(p), avg(p) FROM m").fetchone() == \
        (Decimal("3.31"), Decimal("1.6550000000000000"))
    assert conn.execute("SELECT ? + 0.5", (2 ** 64,)).fetchone() == \
        (Decimal("18446744073709551616.5"),)
    assert conn.execute("SELECT ?::float8 + 0.5", (Decimal("0.25"),)).fetchone() == (0.75,)
    assert [d[1] for d in conn.execute("SELECT p, q, p + 1, avg(id) FROM m GROUP BY p, q")
            .description] == ["NUMERIC"] * 4


def test_dataframe_holds_exact_decimals(conn):
    pytest.importorskip("pandas")
    conn.execute("INSERT INTO m VALUES (1, 1.1, 1.5), (2, 2.2, 1.25), (3, NULL, NULL)")
    df = conn.execute("SELECT p, q, p + q AS s FROM m ORDER BY id").df()
    assert df["p"].tolist()[:2] == [Decimal("1.10"), Decimal("2.20")]
    assert df["s"].tolist()[:2] == [Decimal("2.60"), Decimal("3.45")]
    assert df["p"].tolist()[2] is None
    # NaN and Infinity have no Arrow decimal: such a column is numeric_out's text
    assert conn.execute("SELECT 'NaN'::numeric AS x UNION ALL SELECT 1.5").df()["x"] \
        .tolist() == ["NaN", "1.5"]


def test_bad_input_changes_nothing(conn):
    conn.execute("INSERT INTO m VALUES (1, 1.1, 1)")
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("INSERT INTO m VALUES (2, 1.5, 1), (3, 123456789.125, 1)")
    assert info.value.sqlstate == "22003"
    assert "precision 10, scale 2 must round to an absolute value less than 10^8" in \
        str(info.value.detail)
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("UPDATE m SET q = 'x1'::numeric")
    assert info.value.sqlstate == "22P02"
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("UPDATE m SET q = q / 0")
    assert info.value.sqlstate == "22012"
    assert conn.execute("SELECT id, p, q FROM m").fetchall() == [(1, Decimal("1.10"),
                                                                   Decimal("1"))]


@pytest.mark.parametrize("checkpoint", [False, True])
def test_survives_reopen(tmp_path, checkpoint):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    c.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, p numeric(12, 3), q numeric)")
    c.execute("INSERT INTO m VALUES (1, 1.5, 0.1), (2, -2, 'NaN'::numeric), "
              "(3, 123456789.0005, 12345678901234567890.123456789)")
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("INSERT INTO m VALUES (4, 0, '-Infinity'::numeric)")
    c.execute("UPDATE m SET q = q + 1 WHERE id = 1")
    c.close()
    c = rustmemodb.connect(path)
    assert [(i, str(p), str(q)) for i, p, q in
            c.execute("SELECT id, p, q FROM m ORDER BY id").fetchall()] == [
        (1, "1.500", "1.1"), (2, "-2.000", "NaN"),
        (3, "123456789.001", "12345678901234567890.123456789"), (4, "0.000", "-Infinity")]
    assert c.execute("SELECT id FROM m ORDER BY q, id").fetchall() == [(4,), (1,), (3,), (2,)]
    assert c.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                     "attrelid = 'm'::regclass AND attname = 'p'").fetchone() == \
        ("numeric(12,3)",)
    c.close()


def test_database_with_float_numeric_columns_still_opens(tmp_path, monkeypatch):
    """Before NUMERIC was exact, ``numeric(10,2)`` was stored as a float8 column with the
    typmod; such a database opens and keeps working as it did (values are float8)."""
    path = str(tmp_path / "old")
    with monkeypatch.context() as m:        # write it as the engine did then
        m.setitem(types._ALIASES, "NUMERIC", types.FLOAT)
        m.setitem(types._ALIASES, "DECIMAL", types.FLOAT)
        c = rustmemodb.connect(path)
        c.execute("CREATE TABLE legacy (id INTEGER PRIMARY KEY, p NUMERIC(10, 2))")
        c.execute("INSERT INTO legacy VALUES (1, 1.005::float8), (2, 2.5::float8)")
        c.execute("CHECKPOINT")
        c.execute("INSERT INTO legacy VALUES (3, 3.333::float8)")
        c.close()
    c = rustmemodb.connect(path)
    assert c.execute("SELECT id, p FROM legacy ORDER BY id").fetchall() == [
        (1, 1.01), (2, 2.5), (3, 3.33)]
    c.execute("INSERT INTO legacy VALUES (4, 4.125)")         # the typmod still rounds
    assert c.execute("SELECT p, p + 0.1 FROM legacy WHERE id = 4").fetchone() == \
        (4.13, 4.13 + 0.1)                                     # float8, as before
    assert c.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                     "attrelid = 'legacy'::regclass AND attname = 'p'").fetchone() == \
        ("numeric(10,2)",)
    c.close()


def _chunk_types(conn, table: str, column: int) -> set:
    return {str(c.batch.column(column).type) for c in conn.database.root.tables[table].chunks}


def _free_table(c):
    """An unconstrained numeric column filled four ways: an Arrow load of one scale
    (decimal128 chunks), CREATE TABLE AS of a computed value, executemany of Decimals of
    one scale and of several (keys)."""
    import pyarrow as pa
    c.execute("CREATE TABLE f (id bigint, x numeric)")
    c.register("src", pa.table({"id": pa.array(range(10_000), pa.int64()),
                                "x": pa.array([Decimal(i).scaleb(-2) for i in range(10_000)],
                                              pa.decimal128(12, 2))}))
    c.execute("INSERT INTO f SELECT * FROM src")
    c.unregister("src")
    c.execute("CREATE TABLE g AS SELECT id, x * 3 AS y FROM f")
    cur = c.cursor()
    cur.executemany("INSERT INTO f VALUES (%s, %s)",
                    [(10_000 + i, Decimal(i).scaleb(-3)) for i in range(5000)])
    cur.executemany("INSERT INTO f VALUES (%s, %s)",
                    [(20_000 + i, Decimal(i) / 8) for i in range(5000)] + [(30_000, None)])
    c.commit()


def _free_state(c) -> list:
    return [c.execute(q).fetchall() for q in (
        "SELECT count(*), sum(x), avg(x), min(x), max(x) FROM f",
        "SELECT x::text FROM f WHERE id IN (1, 10, 10001, 20001, 20002, 20004, 30000) "
        "ORDER BY id",
        "SELECT sum(y), max(y * 2 + 1)::text, min(y)::text FROM g",
        "SELECT id % 3, sum(x), max(x)::text FROM f GROUP BY 1 ORDER BY 1")]


def test_unconstrained_columns_hold_loads_as_decimal128(conn):
    """A load of one scale is stored as decimal128 chunks (the vector form), rows of
    several scales as keys (small chunks merged with them too); all print every value
    with its own scale."""
    _free_table(conn)
    assert _chunk_types(conn, "f", 1) == {"binary"}          # merged: scales 2, 3, mixed
    assert {t.split(",")[1] for t in _chunk_types(conn, "g", 1)} == {" 2)"}
    conn.execute("CREATE TABLE h (x numeric)")
    conn.execute("INSERT INTO h SELECT y FROM g")
    assert {t.split(",")[1] for t in _chunk_types(conn, "h", 0)} == {" 2)"}
    state = _free_state(conn)
    assert state[1] == [("0.01",), ("0.10",), ("0.001",), ("0.125",), ("0.25",), ("0.5",),
                        (None,)]
    assert state[0][0][1] == sum(Decimal(i).scaleb(-2) for i in range(10_000)) + \
        sum(Decimal(i).scaleb(-3) for i in range(5000)) + \
        sum(Decimal(i) / 8 for i in range(5000))
    # a scan of the loaded rows alone stays decimal128: out through Arrow as such
    out = conn.execute("SELECT y FROM g").arrow()
    assert str(out.schema.field(0).type).startswith("decimal128(")


@pytest.mark.parametrize("checkpoint", [False, True])
def test_unconstrained_decimal128_chunks_survive_reopen(tmp_path, checkpoint):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    _free_table(c)
    c.execute("UPDATE f SET x = 2.5 WHERE id = 3")          # another scale in a chunk
    c.execute("DELETE FROM f WHERE id % 7 = 0")
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("UPDATE f SET x = x * 2 WHERE id = 5")
    before = _free_state(c)
    c.close()
    c = rustmemodb.connect(path)
    assert _free_state(c) == before
    assert c.execute("SELECT x::text FROM f WHERE id IN (3, 5) ORDER BY id").fetchall() == \
        [("2.5",), ("0.10",)]
    c.close()


def test_unique_index_over_decimal128_chunks(conn):
    """An index over an unconstrained column built after a load of decimal128 chunks
    takes its keys in one form with the rows that follow: duplicates are found and a
    deleted key can come back."""
    _free_table(conn)
    conn.execute("CREATE TABLE k AS SELECT id, y AS x FROM g")
    assert {t.split(",")[1] for t in _chunk_types(conn, "k", 1)} == {" 2)"}
    conn.execute("CREATE UNIQUE INDEX k_x ON k (x)")
    assert _chunk_types(conn, "k", 1) == {"binary"}
    with pytest.raises(rustmemodb.IntegrityError) as info:
        conn.execute("INSERT INTO k VALUES (99999, 0.15)")
    assert info.value.sqlstate == "23505"
    conn.execute("DELETE FROM k WHERE id = 5")
    conn.execute("INSERT INTO k VALUES (99999, 0.15)")
    assert conn.execute("SELECT count(*), max(id) FROM k WHERE x = 0.15").fetchone() == \
        (1, 99999)
    conn.execute("CREATE TABLE k2 AS SELECT id, y AS x FROM g")      # a load after the index
    conn.execute("CREATE UNIQUE INDEX k2_x ON k2 (x)")
    with pytest.raises(rustmemodb.IntegrityError):
        conn.execute("INSERT INTO k2 SELECT id, y FROM g WHERE id < 5000")


def test_vector_add_sub_min_max_match_decimals(conn):
    """``x + c``, ``c - x``, ``x * c`` and min/max over decimal128 chunks (numpy on the
    scaled integers, bounded by the declared precision) give what Decimal arithmetic
    gives, NULLs kept, and fall back exactly where 18 digits do not suffice."""
    rng = random.Random(7)
    values = [None if rng.random() < 0.1 else Decimal(rng.randint(-10 ** 9, 10 ** 9)).scaleb(-2)
              for _ in range(6000)]
    conn.execute("CREATE TABLE v (x numeric(11, 2))")
    conn.cursor().executemany("INSERT INTO v VALUES (%s)", [(v,) for v in values])
    conn.execute("CREATE TABLE w AS SELECT x * 1 AS x FROM v")      # unconstrained, scale 2
    present = [v for v in values if v is not None]
    for table in ("v", "w"):
        got = conn.execute(f"SELECT max(x * 2 + 1), min(0.125 - x), max(x - 3), "
                           f"min(x + 99999999999999.5), sum(x * 3 - 1), "
                           f"max(x * 99999999999999 + 1) FROM {table}").fetchone()
        assert got == (max(present) * 2 + 1, min(Decimal("0.125") - v for v in present),
                       max(present) - 3, min(present) + Decimal("99999999999999.5"),
                       sum(v * 3 - 1 for v in present),
                       max(present) * 99999999999999 + 1)
        assert [str(v) for v in got[:2]] == [str(max(present) * 2 + 1),
                                             str(min(Decimal("0.125") - v for v in present))]
    assert conn.execute("SELECT count(*) FROM w WHERE x + 1 IS NULL").fetchone() == \
        (values.count(None),)


def test_rows_inserted_one_by_one_freeze_to_decimal128_when_one_scale(conn):
    """A frozen tail of an unconstrained column whose rows show one scale becomes a
    decimal128 chunk; rows of several scales, and an indexed column, stay keys."""
    for i in range(5000):
        if i == 0:
            conn.execute("CREATE TABLE r (id bigint, x numeric, y numeric, z numeric)")
            conn.execute("CREATE INDEX r_z ON r (z)")
        conn.execute("INSERT INTO r VALUES (%s, %s, %s, %s)",
                     (i, Decimal(i).scaleb(-2), Decimal(i) / 8, Decimal(i).scaleb(-1)))
    version = conn.database.root.tables["r"]
    assert version.chunks, "the tail froze"
    forms = [{str(c.batch.column(j).type) for c in version.chunks} for j in (1, 2, 3)]
    assert all(t.startswith("decimal128(") and t.endswith(", 2)") for t in forms[0])
    assert forms[1] == {"binary"} and forms[2] == {"binary"}
    assert conn.execute("SELECT sum(x), max(y)::text, min(z)::text, count(*) FROM r "
                        "WHERE id % 2 = 1").fetchone() == (
        sum(Decimal(i).scaleb(-2) for i in range(1, 5000, 2)), "624.875", "0.1", 2500)
    assert conn.execute("SELECT x::text, y::text FROM r WHERE id IN (3, 4) ORDER BY id"
                        ).fetchall() == [("0.03", "0.375"), ("0.04", "0.5")]


def test_unique_index_holds_numeric_parts_as_numbers():
    """The index converts a NUMERIC key part (a storage key or a Decimal) to one hash key
    per number: 2.5 and 2.50 are one key, every NaN is one key; other parts and other
    indexes (bytea keys are bytes too) keep their values as they are."""
    from rustmemodb.storage.index import UniqueIndex
    index = UniqueIndex("k", (0, 1), decimal_parts=(0,))
    index = index.with_changes({(numeric.encode(Decimal("2.5")), b"a"): 1,
                                (numeric.encode(Decimal("NaN")), b"a"): 2}, ())
    assert index.get((numeric.encode(Decimal("2.50")), b"a")) == 1
    assert index.get((Decimal("2.500"), b"a")) == 1
    assert index.get((Decimal("NaN"), b"a")) == 2
    assert index.get((Decimal("2.5"), b"b")) is None
    assert index.key_of((numeric.encode(Decimal("2.50")), b"a")) == (Decimal("2.5"), b"a")
    gone = index.with_changes({}, [(numeric.encode(Decimal("2.50000")), b"a")])
    assert gone.get((Decimal("2.5"), b"a")) is None and gone.get((Decimal("NaN"), b"a")) == 2
    plain = UniqueIndex("b", (0,)).with_changes({numeric.encode(Decimal("2.5")): 1}, ())
    assert plain.get(numeric.encode(Decimal("2.50"))) is None
    built, dup = UniqueIndex.build("k", (0,), [numeric.encode(Decimal("1.0")), Decimal("1")],
                                   [1, 2], decimal_parts=(0,))
    assert dup == Decimal("1")


@pytest.mark.parametrize("checkpoint", [False, True])
def test_unique_numeric_keys_compare_numbers_on_every_path(tmp_path, checkpoint):
    """executemany of Decimals, an Arrow load of one scale (decimal128 chunks) and a
    reopened database (indexes rebuilt from the rows) all refuse a number already held
    at another scale (23505) and change nothing; bytea keys stay bytes."""
    import pyarrow as pa
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    c.execute("CREATE TABLE u (x numeric PRIMARY KEY, b bytea UNIQUE)")
    c.executemany("INSERT INTO u VALUES (?, ?)", [(Decimal(i) / 100, bytes([i // 256, i % 256]))
                                                  for i in range(1, 301)])
    c.register("load", pa.table({"x": pa.array([Decimal(f"{i}.000") for i in range(1, 11)],
                                               pa.decimal128(10, 3))}))
    with pytest.raises(rustmemodb.IntegrityError) as info:
        c.execute("INSERT INTO u (x) SELECT x FROM load")      # 1.000 is held as 1.00
    assert info.value.sqlstate == "23505"
    c.execute("INSERT INTO u (x) SELECT x + 100 FROM load")
    with pytest.raises(rustmemodb.IntegrityError):
        c.executemany("INSERT INTO u (x) VALUES (?)", [(Decimal("500"),), (Decimal("500.0"),)])
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("INSERT INTO u (x) VALUES (110.0)")
    if checkpoint:
        c.execute("CHECKPOINT")
    c.close()
    c = rustmemodb.connect(path)
    for dup in ("0.5", "2.500", "105"):
        with pytest.raises(rustmemodb.IntegrityError) as info:
            c.execute(f"INSERT INTO u (x) VALUES ({dup})")
        assert info.value.sqlstate == "23505"
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute("INSERT INTO u (x, b) VALUES (0.506, '\\x0101')")    # 257's bytes
    c.execute("INSERT INTO u (x, b) VALUES (0.505, '\\x0901')")
    assert c.execute("SELECT count(*), sum(x) FROM u").fetchone() == (
        311, sum(Decimal(i) / 100 for i in range(1, 301)) + sum(range(101, 111)) +
        Decimal("0.505"))
    c.close()


def _exact_sum(values) -> Decimal:
    total = Decimal(0)
    for v in values:
        total = numeric.CTX.add(total, v)
    return total


@pytest.mark.parametrize("digits", [6, 17, 30])
def test_mixed_scale_column_computes_as_numerics(digits):
    """A column of many display scales (stored as keys) sums, groups and computes in
    numpy (numeric_arrays.keys_vector / keys_of_scaled) where values fit, by rows where
    not (30 digits), and gives the exact numbers and scales either way: sum at the
    largest scale of its values (per group), x * 2 + 1 and x * 1.5 at each row's own."""
    rng = random.Random(digits)
    values = [Decimal(rng.randint(-10 ** digits, 10 ** digits)).scaleb(
        -rng.randint(0, 9), context=numeric.CTX) for _ in range(9000)] + [Decimal("0.000"), Decimal("-5"), None]
    c = rustmemodb.connect()
    c.execute("CREATE TABLE m (k bigint, x numeric)")
    c.executemany("INSERT INTO m VALUES (?, ?)", [(i % 5, v) for i, v in enumerate(values)])
    given = [v for v in values if v is not None]
    total, count = c.execute("SELECT sum(x), count(x) FROM m").fetchone()
    assert total == _exact_sum(given) and count == len(given)
    assert numeric.scale_of(total) == max(numeric.scale_of(v) for v in given)
    (avg,) = c.execute("SELECT avg(x) FROM m").fetchone()
    assert avg == numeric.div(total, Decimal(count))
    lo, hi = c.execute("SELECT min(x), max(x) FROM m").fetchone()
    written = {numeric.encode(v) for v in given}       # each value keeps its own scale
    assert (lo, hi) == (min(given), max(given))
    assert numeric.encode(lo) in written and numeric.encode(hi) in written
    for k, s in c.execute("SELECT k, sum(x) FROM m GROUP BY k").fetchall():
        mine = [v for i, v in enumerate(values) if i % 5 == k and v is not None]
        assert s == _exact_sum(mine) and str(s) == str(s.quantize(Decimal(1).scaleb(
            -max(numeric.scale_of(v) for v in mine)), context=numeric.CTX))
    def at(d, scale):       # PostgreSQL's result scale (+ -: the larger, *: the sum)
        return d.quantize(Decimal(1).scaleb(-scale), context=numeric.CTX)

    def twice_plus_one(v):
        return at(numeric.CTX.add(numeric.CTX.multiply(v, 2), 1), numeric.scale_of(v))
    got = c.execute("SELECT x * 2 + 1, x * 1.5, x - x FROM m").fetchall()
    for v, (a, b, z) in zip(values, got):
        if v is None:
            assert (a, b, z) == (None, None, None)
            continue
        # (same number and display scale: the storage key holds both)
        assert numeric.encode(a) == numeric.encode(twice_plus_one(v))
        assert numeric.encode(b) == numeric.encode(at(numeric.CTX.multiply(v, Decimal("1.5")),
                                                      numeric.scale_of(v) + 1))
        assert numeric.encode(z) == numeric.encode(at(Decimal(0), numeric.scale_of(v)))
    (top,) = c.execute("SELECT max(x * 2 + 1) FROM m").fetchone()
    assert top == max(map(twice_plus_one, given))
    c.execute("INSERT INTO m VALUES (9, 'NaN'::numeric)")
    assert [str(v) for v in c.execute("SELECT sum(x), max(x * 2) FROM m").fetchone()] == \
        ["NaN", "NaN"]
    c.close()
