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
