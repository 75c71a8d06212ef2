"""sql/quick.py: the hand-written recognizer for SELECT of constants must build exactly
what sqlglot + the binder build (same plan, same literal slots), and decline the rest."""
import json
import subprocess
import sys

import pytest

import rustmemodb
from rustmemodb.sql import params as placeholders
from rustmemodb.sql.bind.binder import StatementBinder
from rustmemodb.sql.literals import shape_of, tag_slots
from rustmemodb.sql.parse import parse_one
from rustmemodb.sql.quick import recognize

RECOGNIZED = [
    "SELECT 1", "select 1", "SELECT 1;", "  SELECT 1 ;  ", "SELECT 1\n", "SELECT 007",
    "SELECT 9223372036854775807", "SELECT 2.5", "SELECT 10.25, 3", "SELECT ''",
    "SELECT 'abc'", "SELECT 'a b,c'", "SELECT NULL", "SELECT TRUE, false, Null",
    "SELECT 1 AS x", "SELECT 1 as Foo, 'a' AS bar_2, NULL AS n", "SELECT 1 AS x, 2 AS x",
    "SELECT 1,2,3", "SELECT 1 , 'x' , 2.0",
]

DECLINED = [
    "SELECT", "SELECT 1,", "SELECT 1 x", "SELECT -1", "SELECT 1.5e3", "SELECT .5",
    "SELECT 5.", "SELECT 1_000", "SELECT 'it''s'", "SELECT E'a'", "SELECT 'a\\b'",
    "SELECT 1 AS from", "SELECT 1 AS select", "SELECT 1 AS \"X\"", "SELECT 1 + 1",
    "SELECT 1; SELECT 2", "SELECT 1 FROM t", "SELECT 1 -- note", "SELECT 'é'",
    "SELECT 9223372036854775808", "SELECT $1", "SELECT 1x", "SELECT 0x1F", "SELECT TRUEX",
    "INSERT INTO t VALUES (1)", "/* c */ SELECT 1", "SELECT (1)",
]


def _binder_bound(sql: str, root, functions):
    shape = shape_of(sql)
    ast = parse_one(sql)
    tags = tag_slots(shape, ast)
    bound = StatementBinder(root, functions, None, tags).bind_statement(ast)
    return bound, tags


@pytest.mark.parametrize("sql", RECOGNIZED)
def test_recognized_statements_bind_as_the_binder_binds_them(sql):
    db = rustmemodb.Database()
    ph = placeholders.normalize(sql)
    got = recognize(ph.sql, shape_of(ph.sql))
    assert got is not None
    bound, tags = got
    want, want_tags = _binder_bound(ph.sql, db.root, db.functions)
    assert bound.plan == want.plan            # Consts compare with their literal slots
    assert tags == want_tags
    for field in ("kind", "param_types", "deps", "cacheable", "returns_rows", "cast_slots",
                  "nested", "privileges", "ddl_objects"):
        assert getattr(bound, field) == getattr(want, field), field


@pytest.mark.parametrize("sql", DECLINED)
def test_anything_else_takes_the_ordinary_way(sql):
    ph = placeholders.normalize(sql)
    assert recognize(ph.sql, shape_of(ph.sql)) is None


def test_results_and_errors_match_the_ordinary_path():
    conn = rustmemodb.connect()
    cur = conn.execute("SELECT 1 AS a, 'x', 2.5, NULL, TRUE")
    assert cur.fetchall() == [(1, "x", 2.5, None, True)]
    assert [d[:2] for d in cur.description] == [
        ("a", "INTEGER"), ("?column?", "TEXT"), ("?column?", "FLOAT"), ("?column?", "TEXT"),
        ("?column?", "BOOLEAN")]
    # a text of the same shape reuses the plan with its own literals
    assert conn.execute("SELECT 7 AS a, 'y', 0.5, NULL, TRUE").fetchall() == [
        (7, "y", 0.5, None, True)]
    with pytest.raises(rustmemodb.DataError) as info:   # declined: the binder's error
        conn.execute("SELECT 9223372036854775808")
    assert info.value.sqlstate == "22003"
    with pytest.raises(rustmemodb.ProgrammingError) as info:
        conn.execute("SELECT 1 +")
    assert info.value.sqlstate == "42601"


def test_select_of_constants_in_a_fresh_process_loads_neither_sqlglot_nor_pyarrow():
    code = ("import json, sys, rustmemodb\n"
            "c = rustmemodb.connect()\n"
            "assert c.execute('SELECT 1').fetchall() == [(1,)]\n"
            "print(json.dumps(sorted(m for m in ('sqlglot', 'pyarrow', 'numpy') "
            "if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []
