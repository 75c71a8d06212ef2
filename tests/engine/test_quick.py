"""sql/quick.py: the hand-written recognizer for the simplest statement shapes must build
exactly what sqlglot + the binder build (same plan, literal slots, dependencies and
privileges), and decline everything else, which then gets the binder's own answer."""
import json
import subprocess
import sys

from decimal import Decimal

import pytest

import rustmemodb
from rustmemodb.sql import params as placeholders
from rustmemodb.sql.bind.binder import StatementBinder
from rustmemodb.sql.literals import shape_of, tag_slots
from rustmemodb.sql.parse import parse_one
from rustmemodb.sql.quick import recognize

SETUP = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score FLOAT, ok BOOLEAN, "
    "day DATE)",
    "CREATE TABLE plain (a INTEGER, b TEXT)",
    "CREATE TABLE withdef (a INTEGER, b TEXT DEFAULT 'x')",
    "CREATE VIEW v AS SELECT id FROM t",
    "CREATE TABLE ch (id INTEGER PRIMARY KEY, tid INTEGER REFERENCES t(id), "
    "v INTEGER CHECK (v > 0))",
    "CREATE UNIQUE INDEX ch_v ON ch (v)",
]

RECOGNIZED = [
    # constants
    "SELECT 1", "select 1", "SELECT 1;", "  SELECT 1 ;  ", "SELECT 1\n", "SELECT 007",
    "SELECT 9223372036854775807", "SELECT 2.5", "SELECT 10.25, 3", "SELECT ''",
    "SELECT 'abc'", "SELECT 'a b,c'", "SELECT NULL", "SELECT TRUE, false, Null",
    "SELECT 1 AS x", "SELECT 1 as Foo, 'a' AS bar_2, NULL AS n", "SELECT 1 AS x, 2 AS x",
    "SELECT 1,2,3", "SELECT 1 , 'x' , 2.0",
    # point and whole-table SELECTs
    "SELECT * FROM t", "SELECT * FROM t WHERE id = 1", "select * from T where ID = 42;",
    "SELECT name FROM t WHERE id = 3", "SELECT name, id, name FROM t",
    "SELECT * FROM t WHERE name = 'ada'", "SELECT id FROM t WHERE score = 2.5",
    "SELECT ok FROM t WHERE ok = TRUE", "SELECT a FROM plain WHERE a = 0", "SELECT * FROM plain",
    # INSERT ... VALUES
    "INSERT INTO t VALUES (1, 'a', 2.5, TRUE, NULL)",
    "INSERT INTO t VALUES (1, 'a', 2, false, NULL), (2, 'b', NULL, NULL, NULL)",
    "insert into T (name, id) values ('x', 7)", "INSERT INTO t (id, name, score) VALUES (1, '', 3)",
    "INSERT INTO plain VALUES (1, 'a')", "INSERT INTO plain (b) VALUES ('only b')",
    "INSERT INTO plain VALUES (NULL, NULL);", "INSERT INTO plain (a) VALUES (1), (2), (3)",
    "INSERT INTO ch VALUES (1, 1, 5)", "INSERT INTO ch (id, v) VALUES (2, 3)",
    "SELECT * FROM ch WHERE tid = 1", "SELECT id FROM ch WHERE v = 3",
    # CREATE TABLE
    "CREATE TABLE n (id INTEGER PRIMARY KEY, name TEXT)",
    "create table n (a int, b bigint, c int8, d int4, e text, f varchar, g float, h float8, "
    "i real, j boolean, k bool, l date, m timestamp)",
    "CREATE TABLE n (id INTEGER NOT NULL PRIMARY KEY, v TEXT NOT NULL)",
    "CREATE TABLE n (a TEXT, b INTEGER PRIMARY KEY NOT NULL);",
]

DECLINED = [
    # constants the ordinary path reads
    "SELECT", "SELECT 1,", "SELECT 1 x", "SELECT -1", "SELECT 1.5e3", "SELECT .5",
    "SELECT 5.", "SELECT 1_000", "SELECT 'it''s'", "SELECT E'a'", "SELECT 'a\\b'",
    "SELECT 1 AS from", "SELECT 1 AS select", "SELECT 1 AS \"X\"", "SELECT 1 + 1",
    "SELECT 1; SELECT 2", "SELECT 1 -- note", "SELECT 'é'", "SELECT 9223372036854775808",
    "SELECT $1", "SELECT 1x", "SELECT 0x1F", "SELECT TRUEX", "/* c */ SELECT 1", "SELECT (1)",
    # SELECT ... FROM shapes the binder owns
    "SELECT * FROM missing", "SELECT * FROM v", "SELECT nope FROM t", "SELECT * FROM t WHERE nope = 1",
    "SELECT * FROM t WHERE id = '1'", "SELECT * FROM t WHERE score = 1", "SELECT * FROM t WHERE id = NULL",
    "SELECT * FROM t WHERE day = '2024-01-01'", "SELECT * FROM t WHERE id = $1",
    "SELECT * FROM t WHERE id > 1", "SELECT * FROM t WHERE 1 = id", "SELECT t.id FROM t",
    "SELECT * FROM t AS x", "SELECT * FROM t x", "SELECT * FROM t ORDER BY id",
    "SELECT * FROM t WHERE id = 1 AND name = 'a'", "SELECT * FROM \"t\"", "SELECT * FROM public.t",
    "SELECT id, * FROM t", "SELECT count(*) FROM t", "SELECT * FROM t LIMIT 1",
    # INSERT shapes the binder owns
    "INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES ('1', 'a', 2.5, TRUE, NULL)",
    "INSERT INTO t VALUES (1, 'a', 2.5, TRUE, '2024-01-01')", "INSERT INTO t (id) VALUES (1)",
    "INSERT INTO t VALUES (1, NULL, 2.5, TRUE, NULL)", "INSERT INTO t VALUES (1, 'a', 2.5, 1, NULL)",
    "INSERT INTO plain (a, a) VALUES (1, 2)", "INSERT INTO plain (c) VALUES (1)",
    "INSERT INTO withdef (a) VALUES (1)", "INSERT INTO missing VALUES (1)",
    "INSERT INTO plain VALUES (1, 'a') RETURNING a", "INSERT INTO plain SELECT 1, 'a'",
    "INSERT INTO plain VALUES (1, 'a') ON CONFLICT DO NOTHING", "INSERT INTO plain VALUES (-1, 'a')",
    "INSERT INTO plain VALUES (?, ?)", "INSERT INTO v VALUES (1)", "INSERT INTO plain VALUES (1.5, 'a')",
    # CREATE TABLE shapes the binder owns
    "CREATE TABLE t (id INTEGER)", "CREATE TABLE v (id INTEGER)", "CREATE TABLE n ()",
    "CREATE TABLE n (a INTEGER, a TEXT)", "CREATE TABLE n (a INTEGER PRIMARY KEY, b INTEGER PRIMARY KEY)",
    "CREATE TABLE n (a INTEGER UNIQUE)", "CREATE TABLE n (a INTEGER DEFAULT 1)",
    "CREATE TABLE n (a SERIAL)", "CREATE TABLE n (a VARCHAR(10))", "CREATE TABLE n (a DOUBLE PRECISION)",
    "CREATE TABLE n (a INTEGER, PRIMARY KEY (a))", "CREATE TABLE IF NOT EXISTS n (a INTEGER)",
    "CREATE TEMP TABLE n (a INTEGER)", "CREATE TABLE n (a INTEGER CHECK (a > 0))",
    "CREATE TABLE n (a INTEGER NOT NULL NOT NULL)", "CREATE TABLE n (a INTEGER NULL)",
    "CREATE TABLE n AS SELECT 1", "CREATE TABLE n (a INTEGER[])", "CREATE TABLE n (a UUID)",
    "CREATE TABLE n (select INTEGER)", "CREATE TABLE \"N\" (a INTEGER)",
]


@pytest.fixture(scope="module")
def db():
    conn = rustmemodb.connect()
    for sql in SETUP:
        conn.execute(sql)
    return conn.database


def _binder_bound(sql: str, db):
    shape = shape_of(sql)
    ast = parse_one(sql)
    tags = tag_slots(shape, ast)
    bound = StatementBinder(db.root, db.functions, None, tags).bind_statement(ast)
    return bound, tags


def _same_literals(a, b) -> None:
    """Consts compare with their slots; also check the types Python sees (1 vs 1.0)."""
    from rustmemodb.plan.expr import Const
    from rustmemodb.plan.walk import expressions
    got = [(type(e.value), e.value, e.slot) for e in expressions(a) if isinstance(e, Const)]
    want = [(type(e.value), e.value, e.slot) for e in expressions(b) if isinstance(e, Const)]
    assert got == want


@pytest.mark.parametrize("sql", RECOGNIZED)
def test_recognized_statements_bind_as_the_binder_binds_them(sql, db):
    ph = placeholders.normalize(sql)
    shape = shape_of(ph.sql)
    got = recognize(ph.sql, shape, db.root, db.functions)
    assert got is not None
    bound, tags = got
    want, want_tags = _binder_bound(ph.sql, db)
    assert bound.plan == want.plan
    _same_literals(bound.plan, want.plan)
    assert tags == want_tags
    for field in ("kind", "param_types", "cacheable", "returns_rows", "cast_slots", "nested",
                  "privileges", "ddl_objects"):
        assert getattr(bound, field) == getattr(want, field), field
    assert [(k, n, o) for k, n, o in bound.deps] == [(k, n, o) for k, n, o in want.deps]
    calls = [e for e in _exprs(bound.plan) if type(e).__name__ == "Call"]
    wanted = [e for e in _exprs(want.plan) if type(e).__name__ == "Call"]
    assert [c.impl for c in calls] == [c.impl for c in wanted]   # the same function body


def _exprs(plan):
    from rustmemodb.plan.walk import expressions
    return list(expressions(plan))


@pytest.mark.parametrize("sql", DECLINED)
def test_anything_else_takes_the_ordinary_way(sql, db):
    ph = placeholders.normalize(sql)
    assert recognize(ph.sql, shape_of(ph.sql), db.root, db.functions) is None


def test_results_and_errors_match_the_ordinary_path():
    conn = rustmemodb.connect()
    cur = conn.execute("SELECT 1 AS a, 'x', 2.5, NULL, TRUE")
    assert cur.fetchall() == [(1, "x", Decimal("2.5"), None, True)]
    assert [d[:2] for d in cur.description] == [
        ("a", "INTEGER"), ("?column?", "TEXT"), ("?column?", "NUMERIC"), ("?column?", "TEXT"),
        ("?column?", "BOOLEAN")]
    assert conn.execute("SELECT 7 AS a, 'y', 0.5, NULL, TRUE").fetchall() == [
        (7, "y", Decimal("0.5"), None, True)]
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score FLOAT)")
    assert conn.execute("INSERT INTO t VALUES (1, 'a', 2), (2, 'b', NULL)").rowcount == 2
    for i in range(3, 8):       # the shape's plan serves from the second text on
        conn.execute(f"INSERT INTO t (name, id) VALUES ('n{i}', {i})")
    assert conn.execute("SELECT * FROM t WHERE id = 1").fetchall() == [(1, "a", 2.0)]
    assert conn.execute("SELECT name FROM t WHERE id = 6").fetchall() == [("n6",)]
    assert conn.execute("SELECT score, id FROM t WHERE name = 'b'").fetchall() == [(None, 2)]
    assert len(conn.execute("SELECT * FROM t").fetchall()) == 7
    with pytest.raises(rustmemodb.IntegrityError) as info:        # raised by the executor
        conn.execute("INSERT INTO t VALUES (1, 'again', 0.5)")
    assert info.value.sqlstate == "23505"
    with pytest.raises(rustmemodb.ProgrammingError) as info:      # declined: 42P07 as ever
        conn.execute("CREATE TABLE t (id INTEGER)")
    assert info.value.sqlstate == "42P07"
    # past bigint a literal is numeric, as in PostgreSQL
    assert conn.execute("SELECT 9223372036854775808").fetchall() == \
        [(Decimal("9223372036854775808"),)]
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute("SELECT 9223372036854775807 + 1")
    assert info.value.sqlstate == "22003"
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        conn.execute("SELECT nope FROM t WHERE id = 1")
    assert info.value.sqlstate == "42703" and info.value.position is not None
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        conn.execute("INSERT INTO t VALUES ('1', 'a', 2)")
    assert info.value.sqlstate == "42804"
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        conn.execute("SELECT 1 +")
    assert info.value.sqlstate == "42601"


def test_roles_check_recognized_statements():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE ROLE reader LOGIN PASSWORD 'pw'")
    other = rustmemodb.connect(conn.database, user="reader", password="pw")
    for sql in ("SELECT * FROM t WHERE id = 1", "INSERT INTO t VALUES (1, 'a')",
                "CREATE TABLE u (id INTEGER)"):
        with pytest.raises(rustmemodb.ProgrammingError) as info:
            other.execute(sql)
        assert info.value.sqlstate == "42501", sql


def test_a_first_session_in_a_fresh_process_loads_neither_sqlglot_nor_the_binder():
    code = ("import json, sys, rustmemodb\n"
            "c = rustmemodb.connect()\n"
            "assert c.execute('SELECT 1').fetchall() == [(1,)]\n"
            "first = sorted(m for m in ('sqlglot', 'pyarrow', 'numpy') if m in sys.modules)\n"
            "c.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)')\n"
            "c.execute(\"INSERT INTO t VALUES (1, 'a'), (2, 'b')\")\n"
            "assert c.execute('SELECT * FROM t WHERE id = 2').fetchall() == [(2, 'b')]\n"
            "then = sorted(m for m in ('sqlglot', 'rustmemodb.sql.bind.binder', 'pyarrow', "
            "'numpy') "
            "if m in sys.modules)\n"
            "print(json.dumps([first, then]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == [[], []]


@pytest.mark.parametrize("call, expected", [
    ("stddev_samp(x::float)", 1.0),
    ("string_agg(x::text, ',' ORDER BY x)", "1,2,3"),
    ("array_agg(x ORDER BY x)", [1, 2, 3]),
    ("mode() WITHIN GROUP (ORDER BY x)", 1),
    ("bool_and(x > 0)", True),
    ("median(x)", 2.0),
])
def test_an_extended_aggregate_as_a_fresh_process_first_function(call, expected):
    # The built-in functions load on first use and extend the aggregate table then:
    # binding must load them before deciding that an aggregate does not exist.
    code = ("import json, rustmemodb\n"
            "c = rustmemodb.connect()\n"
            "c.execute('CREATE TABLE t (x INTEGER)')\n"
            "c.execute('INSERT INTO t VALUES (1), (2), (3)')\n"
            f"print(json.dumps(c.execute({f'SELECT {call} FROM t'!r}).fetchall()[0][0]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == expected
