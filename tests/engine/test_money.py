"""money through the embedded API: a cursor returns its text (as psycopg does), df()
too, arrow() the int64 cents; a text parameter is read as money input; bad input is
22P02 and changes nothing; numbers store through PostgreSQL's assignment casts."""
from __future__ import annotations

import pytest

import rustmemodb


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, amt money)")
    c.execute("INSERT INTO m VALUES (1, '$1,234.56'), (2, 7), (3, 2.345), (4, NULL)")
    yield c
    c.close()


def test_forms_out(conn):
    sql = "SELECT amt FROM m ORDER BY id"
    assert conn.execute(sql).fetchall() == [("$1,234.56",), ("$7.00",), ("$2.35",), (None,)]
    assert conn.execute(sql).arrow().column(0).to_pylist() == [123456, 700, 235, None]
    assert list(conn.execute(sql + " LIMIT 3").df()["amt"]) == ["$1,234.56", "$7.00", "$2.35"]


def test_parameters_and_errors(conn):
    conn.execute("INSERT INTO m VALUES (5, ?)", ("(12.50)",))
    assert conn.execute("SELECT id FROM m WHERE amt < ?", ("$0",)).fetchall() == [(5,)]
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("INSERT INTO m VALUES (6, '$1'), (7, 'lots')")
    assert info.value.sqlstate == "22P02"
    assert 'invalid input syntax for type money: "lots"' in str(info.value)
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("UPDATE m SET amt = amt * 1e20")
    assert info.value.sqlstate == "22003"
    assert conn.execute("SELECT count(*), sum(amt) FROM m").fetchone() == (5, "$1,231.41")
