"""DESCRIBE, SHOW TABLES and SUMMARIZE (describe.py): the catalog questions a notebook asks
first, over tables, views, registered DataFrames and queries alike."""
from __future__ import annotations

import pandas as pd
import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'q', "
              "x DOUBLE PRECISION, d DATE, n NUMERIC(10,2), v VARCHAR(5) UNIQUE)")
    c.execute("INSERT INTO t VALUES (1, 'x', 1.5, '2024-01-01', 1.25, 'ab'), "
              "(2, 'y', NULL, '2024-02-01', 2.5, 'cd'), (3, 'x', 4.0, NULL, 3, NULL), "
              "(4, 'z', 2.5, '2024-03-01', 4, 'ef')")
    c.execute("CREATE VIEW vw AS SELECT a, b FROM t WHERE a > 1")
    return c


def _rows(conn, sql):
    cur = conn.execute(sql)
    return [d[0] for d in cur.description], cur.fetchall()


def test_describe_a_table(conn):
    names, rows = _rows(conn, "DESCRIBE t")
    assert names == ["column_name", "column_type", "null", "key", "default", "extra"]
    assert rows == [("a", "integer", "NO", "PRI", None, None),
                    ("b", "text", "NO", None, "'q'", None),
                    ("x", "double precision", "YES", None, None, None),
                    ("d", "date", "YES", None, None, None),
                    ("n", "numeric(10,2)", "YES", None, None, None),
                    ("v", "character varying(5)", "YES", "UNI", None, None)]
    assert _rows(conn, "SHOW t") == (names, rows)           # DuckDB's SHOW <table>
    assert _rows(conn, "desc T;")[1] == rows                 # folded like any name


def test_describe_views_frames_and_queries(conn):
    conn.register("frame", pd.DataFrame({"k": [1, 2], "s": ["u", "v"]}))
    assert [r[:2] for r in _rows(conn, "DESCRIBE vw")[1]] == [("a", "bigint"), ("b", "text")]
    assert [r[:2] for r in _rows(conn, "DESCRIBE frame")[1]] == [("k", "bigint"), ("s", "text")]
    assert [r[:3] for r in _rows(conn, "DESCRIBE SELECT a, x * 2 AS y FROM t")[1]] == [
        ("a", "bigint", "YES"), ("y", "double precision", "YES")]


def test_show_tables_lists_what_a_query_can_name(conn):
    conn.register("frame", pd.DataFrame({"k": [1]}))
    assert _rows(conn, "SHOW TABLES") == (["name"], [("frame",), ("t",), ("vw",)])


def test_summarize_profiles_every_column(conn):
    names, rows = _rows(conn, "SUMMARIZE t")
    assert names == ["column_name", "column_type", "min", "max", "approx_unique", "avg", "std",
                     "q25", "q50", "q75", "count", "null_percentage"]
    by = {r[0]: r for r in rows}
    assert [r[0] for r in rows] == ["a", "b", "x", "d", "n", "v"]
    assert by["a"] == ("a", "integer", "1", "4", 4, "2.5", by["a"][6], "1.75", "2.5", "3.25", 4,
                       0.0)
    assert float(by["a"][6]) == pytest.approx(1.2909944487358056)
    assert by["x"][2:5] == ("1.5", "4", 3) and by["x"][11] == 25.0
    assert by["b"][2:5] == ("x", "z", 3) and by["b"][5] is None      # no mean of text
    assert by["d"][2:4] == ("2024-01-01", "2024-03-01") and by["d"][11] == 25.0
    assert by["n"][1] == "numeric(10,2)"
    assert by["v"][10:] == (4, 25.0)
    # a query, and no rows at all
    assert _rows(conn, "SUMMARIZE SELECT a FROM t WHERE a > 2")[1][0][2:5] == ("3", "4", 2)
    empty = _rows(conn, "SUMMARIZE SELECT a FROM t WHERE false")[1]
    assert empty == [("a", "bigint", None, None, 0, None, None, None, None, None, 0, 0.0)]


def test_answers_agree_with_the_aggregates(conn):
    stats = conn.execute("SELECT min(x), max(x), avg(x), count(x) FROM t").fetchone()
    row = [r for r in _rows(conn, "SUMMARIZE t")[1] if r[0] == "x"][0]
    assert (float(row[2]), float(row[3]), float(row[5]), row[10] - 1) == stats


@pytest.mark.parametrize("sql, sqlstate", [
    ("DESCRIBE nope", "42P01"),
    ("SUMMARIZE nope", "42P01"),
    ("DESCRIBE", "42601"),
    ("DESCRIBE t u", "42601"),
    ("SHOW nope", "42704"),              # neither a setting nor a relation
])
def test_errors(conn, sql, sqlstate):
    with pytest.raises(errors.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == sqlstate


def test_describe_respects_privileges():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE secret (a INTEGER)")
    conn.execute("CREATE ROLE reader LOGIN PASSWORD 'pw'")
    conn.execute("SET ROLE reader")
    with pytest.raises(errors.Error) as info:
        conn.execute("SUMMARIZE secret")
    assert info.value.sqlstate == "42501"
