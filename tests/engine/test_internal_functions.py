"""The binder's helper functions (plan/internal_functions.py): not callable by the names
SQL writes, reachable in the internal schema the engine spells them with, and rendered
in that schema for a cluster's shards."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb.cluster.render import render
from rustmemodb.exec.functions.registry import FunctionRegistry
from rustmemodb.plan import logical as L
from rustmemodb.plan.expr import ColRef, Const, make_call
from rustmemodb.plan.internal_functions import INTERNAL_NAMES, INTERNAL_SCHEMA


def test_every_internal_name_is_a_registered_function_and_unlisted():
    registry = FunctionRegistry()
    for name in INTERNAL_NAMES:
        assert registry.lookup(name).name == name      # KeyError: a stale entry
    assert not INTERNAL_NAMES & set(registry.names())   # completion, pg_proc, privileges


def test_pg_proc_does_not_list_helpers():
    conn = rustmemodb.connect()
    rows = conn.execute("SELECT proname FROM pg_proc WHERE proname IN "
                        "('record_make', 'add', 'agg_pack', 'upper')").fetchall()
    assert rows == [("upper",)]


def test_a_helper_by_its_name_is_42883_with_postgres_hint():
    conn = rustmemodb.connect()
    with pytest.raises(errors.Error) as info:
        conn.execute("SELECT record_make(1, 'a')")
    assert info.value.sqlstate == "42883"
    assert "function record_make(integer, unknown) does not exist" in str(info.value)
    assert "explicit type casts" in info.value.hint


def test_the_internal_schema_reaches_a_helper():
    conn = rustmemodb.connect()
    assert conn.execute(f"SELECT {INTERNAL_SCHEMA}.add(1, 2)").fetchall() == [(3,)]
    with pytest.raises(errors.Error) as info:
        conn.execute(f"SELECT {INTERNAL_SCHEMA}.upper('a')")
    assert info.value.sqlstate == "42883"


def test_a_user_function_of_a_helpers_name_is_callable():
    conn = rustmemodb.connect()
    conn.register_function("record_make", lambda x: x + 1, ["INTEGER"], "INTEGER")
    assert conn.execute("SELECT record_make(1)").fetchall() == [(2,)]


def test_render_qualifies_helpers_and_the_shard_binds_them():
    scan = L.LogicalScan([("a", "INTEGER")], "t", projection=[0])
    fitted = make_call("int4_fit", [ColRef(0, "INTEGER")])
    sql = render(L.LogicalProject([("x", "INTEGER")], scan, [fitted]), lambda t: ["a"], ["x"])
    assert f"{INTERNAL_SCHEMA}.int4_fit(" in sql
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (a INTEGER)")
    conn.execute("INSERT INTO t VALUES (7)")
    assert conn.execute(sql).fetchall() == [(7,)]
    upper = make_call("upper", [Const("a", "TEXT")])
    plain = render(L.LogicalProject([("u", "TEXT")], scan, [upper]), lambda t: ["a"], ["u"])
    assert "upper(" in plain and INTERNAL_SCHEMA not in plain
