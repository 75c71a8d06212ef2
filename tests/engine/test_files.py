"""Files from SQL: read_csv / read_parquet / read_json, COPY ... FROM / TO, the file root.

Expected values are written out by hand from the files the tests create; the
PostgreSQL comparison of COPY lives in tests/differential/test_pg_files.py.
"""
from __future__ import annotations

import datetime as dt
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rustmemodb


@pytest.fixture()
def files(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text("id,name,score,day\n1,ann,1.5,2024-01-02\n"
                                    '2,"bob, jr",,2024-02-03\n3,,3,\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.csv").write_text("id,name,score,day\n4,dan,4.5,2024-03-04\n")
    (tmp_path / "semi.txt").write_text("x;y\n1;a\n2;b\n")
    (tmp_path / "bad.csv").write_text("id,name\n1,x\n2,y\nzz,w\n")
    (tmp_path / "rows.json").write_text('{"k": 1, "v": "x"}\n{"k": 2, "v": null}\n')
    (tmp_path / "array.json").write_text('[{"k": 3, "v": "y"}]')
    pq.write_table(pa.table({"k": pa.array([1, 2], pa.int32()), "s": ["p", None]}),
                   tmp_path / "p.parquet")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rows(conn, sql):
    return conn.execute(sql).fetchall()


def test_read_csv_infers_types_and_reads_quotes_and_nulls(files):
    c = rustmemodb.connect()
    assert rows(c, "SELECT * FROM read_csv('a.csv') ORDER BY id") == [
        (1, "ann", 1.5, dt.date(2024, 1, 2)), (2, "bob, jr", None, dt.date(2024, 2, 3)),
        (3, None, 3.0, None)]
    cur = c.execute("SELECT * FROM read_csv('a.csv')")
    assert [d[0] for d in cur.description] == ["id", "name", "score", "day"]


def test_read_csv_options_and_globs(files):
    c = rustmemodb.connect()
    assert rows(c, "SELECT * FROM read_csv('semi.txt', delim = ';')") == [(1, "a"), (2, "b")]
    assert rows(c, "SELECT column1, column2 FROM read_csv('semi.txt', delim := ';', "
                   "header = false, skip = 1)") == [(1, "a"), (2, "b")]
    assert rows(c, "SELECT n, s FROM read_csv('a.csv', columns = ARRAY['i INTEGER', 'n TEXT', "
                   "'s FLOAT', 'd DATE']) WHERE i = 2") == [("bob, jr", None)]
    assert rows(c, "SELECT id FROM read_csv('**/[ab].csv') ORDER BY id") == \
        [(1,), (2,), (3,), (4,)]
    assert rows(c, "SELECT count(*) FROM read_csv(ARRAY['a.csv', 'sub/b.csv'])") == [(4,)]
    # joins with tables, and with an alias
    c.execute("CREATE TABLE names (id INTEGER, tag TEXT)")
    c.execute("INSERT INTO names VALUES (1, 'one'), (4, 'four')")
    assert rows(c, "SELECT f.name, n.tag FROM read_csv('**/[ab].csv') AS f JOIN names n "
                   "ON n.id = f.id WHERE f.id <> 0 ORDER BY 1") == [("ann", "one"), ("dan", "four")]


def test_a_quoted_file_name_in_from_reads_the_file(files):
    c = rustmemodb.connect()
    assert rows(c, "SELECT count(*), sum(id) FROM 'a.csv'") == [(3, 6)]
    assert rows(c, "SELECT f.id FROM 'sub/*.csv' AS f") == [(4,)]
    assert rows(c, "SELECT k FROM 'rows.json' ORDER BY k") == [(1,), (2,)]
    assert rows(c, "SELECT count(*) FROM 'p.parquet'") == [(2,)]
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("SELECT * FROM 'nothing.csv'")
    assert info.value.sqlstate == "58P01"
    with pytest.raises(rustmemodb.Error) as info:        # not a file name: a missing table
        c.execute('SELECT * FROM "plain"')
    assert info.value.sqlstate == "42P01"


def test_a_value_that_does_not_fit_is_22p02_naming_the_line(files):
    c = rustmemodb.connect()
    with pytest.raises(rustmemodb.DataError) as info:
        c.execute("SELECT * FROM read_csv('bad.csv', columns = ARRAY['id INTEGER', 'name TEXT'])")
    assert info.value.sqlstate == "22P02"
    assert "line 4" in str(info.value) and '"zz"' in str(info.value)
    c.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    with pytest.raises(rustmemodb.DataError) as info:
        c.execute("COPY t FROM 'bad.csv' (FORMAT csv, HEADER)")
    assert info.value.sqlstate == "22P02" and "line 4" in str(info.value)
    assert rows(c, "SELECT count(*) FROM t") == [(0,)]      # a failed COPY changes nothing


def test_read_parquet_and_json(files):
    c = rustmemodb.connect()
    assert rows(c, "SELECT k, s FROM read_parquet('p.parquet') ORDER BY k") == [(1, "p"), (2, None)]
    assert rows(c, "SELECT * FROM read_json('rows.json') ORDER BY k") == [(1, "x"), (2, None)]
    assert rows(c, "SELECT * FROM read_json('array.json')") == [(3, "y")]
    # lists of scalars are arrays; objects (and lists of them) are JSON documents
    (files / "nested.json").write_text('{"id": 1, "tags": ["a", "b"], "meta": {"k": 1}}\n'
                                       '{"id": 2, "tags": null, "meta": null}\n')
    assert rows(c, "SELECT id, tags[2], meta->>'k' FROM read_json('nested.json') ORDER BY id") \
        == [(1, "b", "1"), (2, None, None)]


def test_copy_round_trips_through_every_format(files):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, day DATE, "
              "tags TEXT[], ok BOOLEAN)")
    c.execute("INSERT INTO t VALUES (1, 'ann', 1.5, '2024-01-02', ARRAY['a', 'b c'], true), "
              "(2, 'bob, \"jr\"', NULL, NULL, NULL, false), (3, '', 3.0, '2024-03-04', '{}', NULL)")
    want = rows(c, "SELECT * FROM t ORDER BY id")
    for fmt, opts in (("csv", ", HEADER"), ("csv", ""), ("text", ""), ("parquet", "")):
        name = f"out_{fmt}{len(opts)}.{fmt}"
        assert c.execute(f"COPY t TO '{name}' (FORMAT {fmt}{opts})").rowcount == 3
        c.execute("CREATE TABLE back (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, day DATE, "
                  "tags TEXT[], ok BOOLEAN)")
        assert c.execute(f"COPY back FROM '{name}' (FORMAT {fmt}{opts})").rowcount == 3
        assert rows(c, "SELECT * FROM back ORDER BY id") == want, (fmt, opts)
        c.execute("DROP TABLE back")
    # a query, a column list, JSON lines
    c.execute("COPY (SELECT id, name FROM t WHERE id > 1 ORDER BY id) TO 'q.json' (FORMAT json)")
    lines = [json.loads(x) for x in (files / "q.json").read_text().splitlines()]
    assert lines == [{"id": 2, "name": 'bob, "jr"'}, {"id": 3, "name": ""}]
    c.execute("CREATE TABLE part (id INTEGER, name TEXT, extra TEXT DEFAULT 'd')")
    c.execute("COPY part (id, name) FROM 'semi.txt' (FORMAT csv, HEADER, DELIMITER ';')")
    assert rows(c, "SELECT id, name, extra FROM part ORDER BY id") == [(1, "a", "d"), (2, "b", "d")]
    with pytest.raises(rustmemodb.DataError) as info:      # file columns map by position
        c.execute("COPY part (name, id) FROM 'semi.txt' (FORMAT csv, HEADER, DELIMITER ';')")
    assert info.value.sqlstate == "22P02"


def test_copy_from_a_text_file_reads_every_escape_as_copy_from_stdin(files):
    """Text format's backslash escapes, octal and hex ones too, as COPY FROM STDIN (and
    PostgreSQL) reads them: one decoder serves both (exec/files.py)."""
    (files / "esc.txt").write_text("1\t\\101\\x42\\tC\\\\\\,\n2\t\\N\n")
    c = rustmemodb.connect()
    c.execute("CREATE TABLE e (id INTEGER, s TEXT)")
    assert c.execute("COPY e FROM 'esc.txt'").rowcount == 2
    assert rows(c, "SELECT id, s FROM e ORDER BY id") == [(1, "AB\tC\\,"), (2, None)]


def test_copy_from_keeps_constraints(files):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    (files / "dup.csv").write_text("1,a\n1,b\n")
    with pytest.raises(rustmemodb.IntegrityError) as info:
        c.execute("COPY t FROM 'dup.csv' (FORMAT csv)")
    assert info.value.sqlstate == "23505"
    (files / "nul.csv").write_text("1,\n")
    with pytest.raises(rustmemodb.IntegrityError) as info:
        c.execute("COPY t FROM 'nul.csv' (FORMAT csv)")
    assert info.value.sqlstate == "23502"
    assert rows(c, "SELECT count(*) FROM t") == [(0,)]


def test_copy_from_column_list_is_checked_like_insert(files):
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    (files / "one.csv").write_text("1,a\n")
    for cols, state in (("(id, id)", "42701"), ("(id, nope)", "42703")):
        with pytest.raises(rustmemodb.ProgrammingError) as info:
            c.execute(f"COPY t {cols} FROM 'one.csv' (FORMAT csv)")
        assert info.value.sqlstate == state
    (files / "swapped.csv").write_text("a,1\n")
    c.execute("COPY t (name, id) FROM 'swapped.csv' (FORMAT csv)")   # file columns by list
    assert rows(c, "SELECT id, name FROM t") == [(1, "a")]


def test_paths_stay_inside_the_file_root(files):
    inner = files / "sub"
    c = rustmemodb.connect(file_root=str(inner))
    assert rows(c, "SELECT id FROM read_csv('b.csv')") == [(4,)]     # relative to the root
    for sql in ("SELECT * FROM read_csv('../a.csv')",
                f"SELECT * FROM read_csv('{files / 'a.csv'}')",
                "COPY (SELECT 1) TO '../out.csv'"):
        with pytest.raises(rustmemodb.Error) as info:
            c.execute(sql)
        assert info.value.sqlstate == "42501", sql
    os.symlink(files / "a.csv", inner / "link.csv")
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("SELECT * FROM read_csv('link.csv')")
    assert info.value.sqlstate == "42501"
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("SET file_root = '..'")
    assert info.value.sqlstate == "42501"
    (inner / "deeper").mkdir()
    c.execute("SET file_root = 'deeper'")                # narrowing is allowed
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("SELECT * FROM read_csv('../b.csv')")
    assert info.value.sqlstate == "42501"


def test_missing_files_and_bad_options(files):
    c = rustmemodb.connect()
    for sql, state in (("SELECT * FROM read_csv('nope.csv')", "58P01"),
                       ("SELECT * FROM read_csv('nothing/*.csv')", "58P01"),
                       ("SELECT * FROM read_csv('a.csv', colour = 'red')", "22023"),
                       ("SELECT * FROM read_csv('a.csv', header = 'yes')", "42804"),
                       ("COPY nope FROM 'a.csv'", "42P01"),
                       ("COPY (SELECT 1) TO 'x.bin' (FORMAT binary)", "0A000")):
        with pytest.raises(rustmemodb.Error) as info:
            c.execute(sql)
        assert info.value.sqlstate == state, sql


def test_copy_from_is_durable(files):
    c = rustmemodb.connect(str(files / "db"))
    c.execute("CREATE TABLE t (id INTEGER, name TEXT, score FLOAT, day DATE)")
    c.execute("COPY t FROM 'a.csv' (FORMAT csv, HEADER)")
    c.close()
    c = rustmemodb.connect(str(files / "db"))
    assert rows(c, "SELECT id, name FROM t ORDER BY id") == [(1, "ann"), (2, "bob, jr"), (3, None)]
    c.close()
