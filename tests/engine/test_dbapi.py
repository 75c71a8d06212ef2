"""PEP 249 surface: module attributes, cursors, fetching, parameters, transactions API."""
import datetime as dt
import uuid

import pyarrow as pa
import pytest

import rustmemodb


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, d DATE)")
    c.execute("INSERT INTO t VALUES (1, 'ada', 1.5, '2024-01-02'), (2, 'bob', NULL, NULL), "
              "(3, 'cy', 3.0, '2024-03-04')")
    return c


def test_module_attributes():
    assert rustmemodb.apilevel == "2.0"
    assert rustmemodb.threadsafety in (1, 2, 3)
    assert rustmemodb.paramstyle in ("qmark", "numeric", "named", "format", "pyformat")
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
                 "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
                 "NotSupportedError"):
        assert issubclass(getattr(rustmemodb, name), Exception)
    assert issubclass(rustmemodb.IntegrityError, rustmemodb.DatabaseError)
    assert issubclass(rustmemodb.DatabaseError, rustmemodb.Error)


def test_fetch_family(conn):
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM t ORDER BY id")
    assert cur.description[0][0] == "id" and cur.description[1][1] == "TEXT"
    assert cur.fetchone() == (1, "ada")
    assert cur.fetchmany(1) == [(2, "bob")]
    assert cur.fetchall() == [(3, "cy")]
    assert cur.fetchone() is None
    assert list(conn.execute("SELECT id FROM t ORDER BY id")) == [(1,), (2,), (3,)]


def test_rowcount_and_description_for_dml(conn):
    cur = conn.execute("UPDATE t SET score = 0 WHERE id > 1")
    assert cur.rowcount == 2
    assert cur.description is None
    with pytest.raises(rustmemodb.ProgrammingError):
        cur.fetchall()
    assert conn.execute("DELETE FROM t WHERE id = 99").rowcount == 0


def test_paramstyles(conn):
    q = "SELECT name FROM t WHERE id = {}"
    assert conn.execute(q.format("?"), [1]).fetchall() == [("ada",)]
    assert conn.execute(q.format("$1"), (2,)).fetchall() == [("bob",)]
    assert conn.execute(q.format(":id"), {"id": 3}).fetchall() == [("cy",)]
    with pytest.raises(rustmemodb.ProgrammingError):
        conn.execute(q.format("?"), [])
    with pytest.raises(rustmemodb.ProgrammingError):
        conn.execute(q.format(":id"), {"other": 1})


def test_parameter_types_are_strict(conn):
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute("INSERT INTO t (id, name) VALUES (?, ?)", ["10", "x"])
    assert e.value.sqlstate == "42804"
    conn.execute("INSERT INTO t (id, score, d) VALUES (?, ?, ?)", [10, 2, dt.date(2020, 1, 1)])
    assert conn.execute("SELECT score, d FROM t WHERE id = 10").fetchall() == \
        [(2.0, dt.date(2020, 1, 1))]


def test_cached_plan_still_checks_and_converts_every_parameter(conn):
    """The cached-plan shortcut for exactly typed parameters must not skip any check."""
    sql = "INSERT INTO t (id, name, score) VALUES (?, ?, ?)"
    conn.execute(sql, (10, "a", 1.5))                      # cached, exact types
    conn.execute(sql, [11, None, 2])                       # NULL and int -> FLOAT
    for bad, state in [((12, "b"), "08P01"), ((12, "b", 1.0, 4), "08P01"),
                       ((True, "b", 1.0), "42804"), (("12", "b", 1.0), "42804"),
                       ({"id": 12}, "08P01")]:
        with pytest.raises(rustmemodb.Error) as e:
            conn.execute(sql, bad)
        assert e.value.sqlstate == state, bad
    assert conn.execute("SELECT id, name, score FROM t WHERE id >= 10 ORDER BY id").fetchall() \
        == [(10, "a", 1.5), (11, None, 2.0)]
    assert isinstance(conn.execute("SELECT score FROM t WHERE id = 11").fetchone()[0], float)


def test_executemany(conn):
    cur = conn.executemany("INSERT INTO t (id, name) VALUES (?, ?)", [(i, f"n{i}") for i in range(10, 20)])
    assert cur.rowcount == 10
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (13,)


def test_arrow_and_pandas(conn):
    table = conn.execute("SELECT id, name, score FROM t ORDER BY id").arrow()
    assert isinstance(table, pa.Table)
    assert table.schema.field("id").type == pa.int64()
    df = conn.execute("SELECT * FROM t ORDER BY id").df()
    assert list(df["name"]) == ["ada", "bob", "cy"]


def test_register_and_insert_select():
    c = rustmemodb.connect()
    src = pa.table({"a": pa.array(range(10000), pa.int32()), "b": [f"x{i}" for i in range(10000)]})
    c.register("src", src)
    c.execute("CREATE TABLE dst (a INTEGER, b TEXT)")
    assert c.execute("INSERT INTO dst SELECT * FROM src").rowcount == 10000
    assert c.execute("SELECT count(*), sum(a) FROM dst").fetchone() == (10000, sum(range(10000)))
    import pandas as pd
    c.register("pdf", pd.DataFrame({"x": [1, 2, 3]}))
    assert c.execute("SELECT sum(x) FROM pdf").fetchone() == (6,)


def test_uuid_and_json_round_trip():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE j (id UUID PRIMARY KEY, doc JSON)")
    u = uuid.uuid4()
    c.execute("INSERT INTO j VALUES (?, ?)", [u, {"a": [1, 2]}])
    assert c.execute("SELECT id, doc FROM j").fetchone() == (u, {"a": [1, 2]})


def test_autocommit_default_and_pep249_mode():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE a (x INTEGER)")
    other = c.database.connect()
    c.execute("INSERT INTO a VALUES (1)")
    assert other.execute("SELECT count(*) FROM a").fetchone() == (1,)   # autocommit
    c.commit()                                                          # no-op
    c.autocommit = False
    c.execute("INSERT INTO a VALUES (2)")
    assert c.in_transaction
    assert other.execute("SELECT count(*) FROM a").fetchone() == (1,)
    c.rollback()
    assert c.execute("SELECT count(*) FROM a").fetchone() == (1,)
    c.execute("INSERT INTO a VALUES (3)")
    c.commit()
    assert other.execute("SELECT count(*) FROM a").fetchone() == (2,)


def test_context_manager_commits_or_rolls_back():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE a (x INTEGER)")
    c.autocommit = False
    with c:
        c.execute("INSERT INTO a VALUES (1)")
    with pytest.raises(ZeroDivisionError):
        with c:
            c.execute("INSERT INTO a VALUES (2)")
            1 / 0
    assert c.execute("SELECT x FROM a").fetchall() == [(1,)]


def test_closed_connection_and_cursor():
    c = rustmemodb.connect()
    cur = c.cursor()
    cur.close()
    with pytest.raises(rustmemodb.InterfaceError):
        cur.execute("SELECT 1")
    c.close()
    with pytest.raises(rustmemodb.InterfaceError):
        c.execute("SELECT 1")


def test_split_statements_keeps_offsets():
    sql = "SELECT 1; SELECT ';' -- c;\n; INSERT INTO t VALUES ($$a;b$$)"
    parts = rustmemodb.split_statements(sql)
    assert [p[0] for p in parts] == ["SELECT 1", "SELECT ';' -- c;", "INSERT INTO t VALUES ($$a;b$$)"]
    assert all(sql[off:].startswith(text) for text, off in parts)


def test_udf_register_function():
    c = rustmemodb.connect()
    c.register_function("scramble", lambda s: s[::-1], ["TEXT"], "TEXT")
    assert c.execute("SELECT scramble('hello')").fetchone() == ("olleh",)
    with pytest.raises(rustmemodb.Error) as e:
        c.execute("SELECT scramble(1)")
    assert e.value.sqlstate == "42883"


def test_functions_added_to_one_database_stay_its_own():
    """The built-ins are shared by every database until one adds a function (and copies
    them): what one adds, overriding a built-in's name or not, no other database sees."""
    from rustmemodb.exec.functions import registry
    a, b = rustmemodb.connect(), rustmemodb.connect()
    assert a.execute("SELECT abs(-2), upper('x')").fetchall() == [(2, "X")]
    assert a.database.functions._maps is b.database.functions._load()
    a.register_function("scramble", lambda s: s[::-1], ["TEXT"], "TEXT")
    a.register_function("upper", lambda s: "up:" + s, ["TEXT"], "TEXT")
    a.register_aggregate("total", lambda vs: sum(v for v in vs if v is not None),
                         ["INTEGER"], "INTEGER")
    assert a.execute("SELECT scramble('ab'), upper('x')").fetchall() == [("ba", "up:x")]
    assert a.execute("SELECT total(x) FROM (VALUES (1), (2)) AS v(x)").fetchall() == [(3,)]
    assert b.execute("SELECT upper('x')").fetchall() == [("X",)]
    for sql in ("SELECT scramble('ab')", "SELECT total(x) FROM (VALUES (1)) AS v(x)"):
        with pytest.raises(rustmemodb.Error) as e:
            b.execute(sql)
        assert e.value.sqlstate == "42883"
    c = rustmemodb.connect()
    assert c.execute("SELECT upper('x')").fetchall() == [("X",)]
    assert "scramble" not in registry._BUILTINS[0] and "total" not in registry._BUILTINS[1]


def test_serial_columns_draw_from_their_sequence():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE s (id SERIAL PRIMARY KEY, v TEXT)")
    c.execute("INSERT INTO s (v) VALUES ('a'), ('b')")
    assert c.execute("INSERT INTO s (v) VALUES ('c') RETURNING id").fetchall() == [(3,)]
    c.execute("BEGIN")
    c.execute("INSERT INTO s (v) VALUES ('rolled back')")
    c.execute("ROLLBACK")
    # as PostgreSQL's nextval(): a value drawn by a rolled-back transaction is skipped
    assert c.execute("INSERT INTO s (v) VALUES ('d') RETURNING id").fetchall() == [(5,)]
    with pytest.raises(rustmemodb.Error) as e:
        c.execute("SELECT nextval('missing_seq')")
    assert e.value.sqlstate == "42P01"


@pytest.mark.parametrize("script", [
    "BEGIN; DROP TABLE keep; COMMIT", "COMMIT; DROP TABLE keep", "ROLLBACK; DROP TABLE keep;",
    "SET work_mem = '4MB'; DROP TABLE keep", "SHOW search_path; DROP TABLE keep",
    "START TRANSACTION; DROP TABLE keep", "SAVEPOINT s; DROP TABLE keep",
    "EXPLAIN SELECT 1; DROP TABLE keep"])
def test_a_utility_statement_with_more_after_it_runs_nothing(script):
    """``COMMIT; DROP TABLE t`` in one execute() ran the COMMIT and dropped the rest
    unseen (BEGIN read it as transaction options): now 42601 and nothing runs."""
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE keep (a INTEGER)")
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        conn.execute(script)
    assert info.value.sqlstate == "42601"
    assert "several statements" in str(info.value)
    assert conn.execute("SELECT count(*) FROM keep").fetchall() == [(0,)]
    conn.executescript(script.replace("DROP TABLE keep", "INSERT INTO keep VALUES (1)")
                       .replace("SAVEPOINT s;", "BEGIN; SAVEPOINT s;"))
    conn.execute("COMMIT")
    assert conn.execute("SELECT count(*) FROM keep").fetchall() == [(1,)]
