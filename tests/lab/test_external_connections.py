"""Connection strings through SQLAlchemy, and --import into a branch through Arrow."""

from __future__ import annotations

import sqlite3

import pytest

from rustmemodb_lab.connections import default_name, display_url


@pytest.fixture
def sqlite_file(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, city TEXT, amount REAL, note TEXT)")
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, NULL)",
                       [(1, "Oslo", 10.5), (2, "Rome", 20.0), (3, "Oslo", 7.25)])
    return path


def test_sqlite_url_opens_and_runs_sql_with_bound_values(ip, cell, session, sqlite_file):
    out = cell(f"%sql sqlite:///{sqlite_file}")
    assert "connected shop" in repr(out.value) and "sqlite through SQLAlchemy" in repr(out.value)
    assert session.current_name == "shop" and session.current_external is not None
    ip.user_ns["town"] = "Oslo"
    out = cell("%sql SELECT id, amount FROM orders WHERE city = :town ORDER BY id")
    assert out.value.rows() == [(1, 10.5), (3, 7.25)] and out.value.sql_types == ["INTEGER", "FLOAT"]
    ip.user_ns["t"] = "orders"
    assert cell("%sql SELECT count(*) FROM {{ t }}").value.rows() == [(3,)]


def test_url_with_sql_on_the_same_line_and_alias(cell, session, sqlite_file):
    out = cell(f"%sql --alias shop2 sqlite:///{sqlite_file} SELECT count(*) AS n FROM orders")
    assert out.value.rows() == [(3,)]
    assert session.current_name == "shop2"


def test_cell_magic_with_a_url_on_its_line(cell, session, sqlite_file):
    out = cell(f"%%sql sqlite:///{sqlite_file}\nSELECT count(*) AS n FROM orders;\nSELECT max(amount) FROM orders")
    assert out.value.rows() == [(20.0,)] and session.current_name == "shop"


def test_same_url_again_switches_instead_of_reopening(cell, session, sqlite_file):
    cell(f"%sql sqlite:///{sqlite_file}")
    cell("%sql --connection default")
    cell(f"%sql sqlite:///{sqlite_file}")
    assert list(session.external) == ["shop"] and session.current_name == "shop"


def test_duckdb_in_memory_keeps_its_state_between_cells(cell):
    pytest.importorskip("duckdb_engine")
    cell("%sql duckdb://")
    cell("%%sql\nCREATE TABLE t AS SELECT * FROM range(5) r(x);\nINSERT INTO t VALUES (10)")
    assert cell("%sql SELECT sum(x) AS s FROM t").value.rows() == [(20,)]


def test_driver_errors_are_sql_errors_with_the_connection(cell, sqlite_file):
    cell(f"%sql sqlite:///{sqlite_file}")
    out = cell("%sql SELECT nope FROM orders", fails=True)
    assert "no such column: nope" in out.stdout and "on connection shop (sqlite)" in out.stdout
    assert "Traceback" not in out.stdout
    assert cell("%sql SELECT 1 AS ok").value.rows() == [(1,)]  # still usable


@pytest.mark.parametrize("option", ["--fork x", "--checkout main", "--branches", "--undo", "--diff main x",
                                    "--merge x", "--persist df", "--on main SELECT 1", "--explain SELECT 1"])
def test_branch_options_refuse_politely_on_other_connections(cell, sqlite_file, option):
    cell(f"%sql sqlite:///{sqlite_file}")
    out = cell(f"%sql {option}", fails=True)
    message = str(out.error)
    assert "works on rustmemodb connections only" in message and "shop is sqlite" in message
    assert "%sql --connection default" in message


def test_back_to_rustmemodb_when_the_first_connection_was_a_url(cell, session, sqlite_file):
    cell(f"%sql sqlite:///{sqlite_file}")
    cell("%sql --connection default")
    assert cell("%sql SELECT 2 AS two").value.rows() == [(2,)]
    assert session.current_external is None


def test_connections_listing_shows_urls_without_passwords(cell, sqlite_file):
    cell(f"%sql sqlite:///{sqlite_file}")
    rows = cell("%sql --connections").value.to_pandas()
    assert "shop" in set(rows["connection"]) and rows.loc[rows["connection"] == "shop", "current"].item()
    assert display_url("postgresql://me:secret@host/db") == "postgresql://me:***@host/db"


def test_duckdb_catalog_and_import(cell, session):
    pytest.importorskip("duckdb_engine")
    cell("%sql duckdb://")
    cell("%sql CREATE TABLE d (id INTEGER PRIMARY KEY, name VARCHAR, score DOUBLE)")
    cell("%sql INSERT INTO d VALUES (1, 'a', 0.5), (2, NULL, 1.5)")
    assert cell("%sqlcmd tables").value.rows() == [("d",)]
    cols = cell("%sqlcmd columns -t d").value.to_pandas()
    assert cols["name"].tolist() == ["id", "name", "score"] and cols["nullable"].tolist()[1]
    cell("%sql --connection default --import duckdb d")
    assert cell("%sql SELECT sum(score) FROM d").value.rows() == [(2.0,)]


def test_tables_on_an_external_connection(cell, sqlite_file):
    cell(f"%sql sqlite:///{sqlite_file}")
    assert cell("%sql --tables").value.rows() == [("orders",)]
    cols = cell("%sqlcmd columns -t orders").value.to_pandas()
    assert list(cols["name"]) == ["id", "city", "amount", "note"] and cols["primary_key"].tolist()[0]


def test_import_copies_a_table_into_the_current_branch(cell, session, sqlite_file):
    out = cell(f"%sql --import sqlite:///{sqlite_file} orders")
    assert "imported orders from shop as orders (3 rows) on branch main" in repr(out.value)
    assert session.current_external is None and not session.external  # a URL is opened only for the copy
    result = cell("%sql SELECT city, sum(amount) AS total, count(note) AS notes FROM orders GROUP BY city ORDER BY city")
    assert result.value.rows() == [("Oslo", 17.75, 0), ("Rome", 20.0, 0)]
    cols = cell("%sqlcmd columns -t orders").value.to_pandas()
    assert cols["type"].tolist() == ["INTEGER", "TEXT", "FLOAT", "TEXT"]
    assert cols["primary_key"].tolist() == [True, False, False, False]  # the key came along
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql DELETE FROM orders WHERE city = 'Rome'")
    assert cell("%sql --checkout main").error is None
    assert cell("%sql SELECT count(*) FROM orders").value.rows() == [(3,)]


def test_import_from_an_open_connection_with_a_new_name(cell, session, sqlite_file):
    cell(f"%sql sqlite:///{sqlite_file}")
    out = cell("%sql --import shop orders AS shop_orders", fails=True)
    assert "run %sql --connection default --import shop TABLE" in str(out.error)
    cell("%sql --connection default --import shop orders AS shop_orders")
    assert cell("%sql SELECT count(*) FROM shop_orders").value.rows() == [(3,)]


@pytest.mark.parametrize(
    ("line", "message"),
    [("--import sqlite:///x.db", "--import URL TABLE [AS NAME]"),
     ("--import nowhere t", "needs a connection string or an open connection"),
     ("nosuchdriver://x", "no SQLAlchemy driver")],
)
def test_import_and_url_usage_errors(cell, line, message):
    assert message in str(cell(f"%sql {line}", fails=True).error)


def test_a_missing_table_to_import_is_a_clear_error(cell, sqlite_file):
    err = cell(f"%sql --import sqlite:///{sqlite_file} nope", fails=True).error
    assert "cannot read 'nope'" in str(err)


def test_default_names():
    assert default_name("sqlite:////tmp/my-data.sqlite3") == "my_data"
    assert default_name("duckdb://") == "duckdb"
    assert default_name("postgresql+psycopg://u@h:5432/sales") == "sales"
    assert default_name("sqlite://") == "sqlite"


# -- a real PostgreSQL (the session's pg_url, tests/conftest.py), when its binaries are installed --

def test_postgresql_url_runs_sql_and_imports(ip, cell, session, pg_url):
    out = cell(f"%sql {pg_url}")
    assert "postgresql through SQLAlchemy" in repr(out.value)
    cell("%%sql\nDROP TABLE IF EXISTS sales;\nCREATE TABLE sales (id int PRIMARY KEY, region text, amount numeric(8,2), at date);\n"
         "INSERT INTO sales VALUES (1, 'north', 10.50, '2024-01-02'), (2, 'south', 3.25, NULL)")
    ip.user_ns["region"] = "north"
    assert cell("%sql SELECT id FROM sales WHERE region = :region").value.rows() == [(1,)]
    err = cell("%sql SELECT * FROM nope", fails=True).error
    assert err.sqlstate == "42P01"
    prof = cell("%sqlcmd profile -t sales").value.profile_frame()  # computed by PostgreSQL
    assert prof.loc["count", "amount"] == 2 and float(prof.loc["max", "amount"]) == 10.5
    assert cell("%sqlplot bar -t sales -c region").value.data["counts"] == [1, 1]
    cell("%sql --connection default")
    cell(f"%sql --import {session.external[next(iter(session.external))].name} sales")
    result = cell("%sql SELECT region, amount, at FROM sales ORDER BY id").value
    assert result.rows()[0][0] == "north" and float(result.rows()[0][1]) == 10.5 and result.rows()[1][2] is None
