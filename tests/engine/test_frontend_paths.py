"""The shortcuts that make a one-off statement cheaper answer as the general way does.

Issue 11 (one-off statements): planning skips optimizer rules that cannot change a plan
(optimize/gates.py), rebuilds the commonest expression nodes directly (plan/expr.py
``transform``), remembers function resolution per registry (exec/functions/registry.py),
keeps one-off plans apart from the plan cache's main map (sql/plan_cache.py) and probes
the stack once per outermost recursive call (deep.py). Each is checked here against the
path it short-cuts: the same plans, results, NULLs, types and errors.
"""
from __future__ import annotations

import sys
import threading

import pytest

import rustmemodb
from rustmemodb import deep, errors
from rustmemodb.exec.functions.registry import FunctionRegistry
from rustmemodb.optimize import gates
from rustmemodb.plan.expr import Call, Case, ColRef, Const, Param, make_call, remap_columns, transform


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, s TEXT)")
    c.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, w INTEGER)")
    c.execute("INSERT INTO a VALUES (1, 1, 1.5, 'x'), (2, 2, NULL, 'y'), (3, 1, -2.0, NULL),"
              " (4, NULL, 0.0, 'x')")
    c.execute("INSERT INTO b VALUES (1, 1, 10), (2, 1, NULL), (3, 3, 30), (4, 9, 40)")
    return c


# Statements whose plans use every gated rule (joins, filters through projections,
# DISTINCT ON, LATERAL, decorrelation) and some that use none.
PLANS = [
    "SELECT id, v FROM a WHERE v > 0 AND g <> 2",
    "SELECT g, count(*), sum(v) FROM a GROUP BY g ORDER BY 1",
    "SELECT a.id, b.w FROM a JOIN b ON a.id = b.a_id WHERE b.w > 5 ORDER BY 1, 2",
    "SELECT a.id, b.w FROM a LEFT JOIN b ON a.id = b.a_id AND b.w IS NOT NULL ORDER BY 1, 2",
    "SELECT * FROM (SELECT id, v * 2 AS x FROM a) s WHERE x > 0 ORDER BY 1",
    "SELECT * FROM (SELECT * FROM a WHERE g = 1) s WHERE v < 10 ORDER BY id",
    "SELECT DISTINCT ON (g) g, id FROM a ORDER BY g, id DESC",
    "SELECT a.id, t.w FROM a, LATERAL (SELECT w FROM b WHERE b.a_id = a.id ORDER BY w LIMIT 1) t"
    " ORDER BY 1",
    "SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id) ORDER BY 1",
    "SELECT id FROM a WHERE id IN (SELECT a_id FROM b WHERE w > 15) ORDER BY 1",
    "SELECT id, (SELECT max(w) FROM b WHERE b.a_id = a.id) FROM a ORDER BY 1",
    "SELECT id, (SELECT count(*) FROM a AS x WHERE x.id < a.id) FROM a ORDER BY 2 DESC",
    "SELECT CASE WHEN v > (SELECT avg(v) FROM a) THEN 'hi' ELSE 'lo' END FROM a ORDER BY id",
    "SELECT a.id FROM a JOIN b ON a.id = b.id JOIN b AS c ON c.id = b.a_id ORDER BY 1",
]


def _explain(c, sql: str) -> list:
    return [r[0] for r in c.execute("EXPLAIN " + sql).fetchall()]


@pytest.mark.parametrize("sql", PLANS)
def test_gated_rules_give_the_plan_and_rows_every_rule_gives(conn, sql, monkeypatch):
    gated = (_explain(conn, sql), conn.execute(sql).fetchall())
    monkeypatch.setattr(gates, "NEEDS", {})        # every rule runs on every plan
    conn.database.plan_cache.clear()
    assert (_explain(conn, sql), conn.execute(sql).fetchall()) == gated


def test_features_see_plan_nodes_only_where_rules_reach():
    from rustmemodb.plan.logical import LogicalFilter, LogicalJoin, LogicalProject, LogicalScan
    s = LogicalScan([("a", "INTEGER")], "t")
    pred = make_call("gt", [ColRef(0, "INTEGER"), Const(1, "INTEGER")])
    plan = LogicalFilter(s.columns, LogicalProject(s.columns, s, [ColRef(0, "INTEGER")]), pred)
    found = gates.features(plan)
    assert {LogicalFilter, LogicalProject, LogicalScan} <= found
    assert ("filter over", LogicalProject) in found and LogicalJoin not in found
    assert gates.runs("pushdown_join_filters", found) and not gates.runs("extract_equi_keys", found)
    assert gates.runs("prune_columns", found)          # not gated: always runs


# ---- transform: the direct rebuild of common nodes ---------------------------------------

def _generic(e, fn):
    """transform as it was for every node: fields rebuilt through dataclasses.replace."""
    import dataclasses
    changes = {}
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if isinstance(v, (ColRef, Const, Param, Call, Case)):
            nv = _generic(v, fn)
            if nv is not v:
                changes[f.name] = nv
        elif isinstance(v, tuple) and v:
            nv = tuple(_generic(x, fn) if isinstance(x, (ColRef, Const, Param, Call, Case))
                       else (tuple(_generic(y, fn) for y in x) if isinstance(x, tuple) else x)
                       for x in v)
            if any(a is not b for a, b in zip(nv, v)):
                changes[f.name] = nv
    if changes:
        e = dataclasses.replace(e, **changes)
    return fn(e)


def _tree():
    a, b = ColRef(0, "INTEGER", "a"), ColRef(2, "INTEGER", "b")
    add = make_call("add", [a, make_call("mul", [b, Const(2, "INTEGER")])])
    cond = make_call("lt", [a, Param(0, "INTEGER")])
    return Case(((cond, add), (make_call("is_null", [b]), Const(None, "INTEGER"))), b, "INTEGER")


@pytest.mark.parametrize("fn", [
    lambda n: ColRef(n.index + 1, n.type, n.name) if isinstance(n, ColRef) else n,
    lambda n: Const(7, "INTEGER") if isinstance(n, Param) else n,
    lambda n: n,
    lambda n: make_call("neg", [n]) if isinstance(n, Call) and n.fn == "mul" else n,
])
def test_transform_rebuilds_as_the_generic_walk(fn):
    e = _tree()
    assert transform(e, fn) == _generic(e, fn)


def test_an_unchanged_tree_is_shared_not_copied():
    e = _tree()
    assert transform(e, lambda n: n) is e
    assert remap_columns(e, lambda c: c) is e
    moved = remap_columns(e, lambda c: ColRef(c.index + 1, c.type, c.name) if c.index == 2 else c)
    assert moved != e and moved.whens[0][0].args[0] is e.whens[0][0].args[0]   # a kept


# ---- function resolution remembered per registry ------------------------------------------

def test_resolution_is_remembered_and_forgotten_when_a_function_is_added():
    reg = FunctionRegistry()
    first = reg.resolve("add", ["INTEGER", "FLOAT"])
    assert reg.resolve("add", ("INTEGER", "FLOAT")) == first and first[1] == "FLOAT"
    with pytest.raises(errors.Error) as e:
        reg.resolve("no_such_fn", ["INTEGER"])
    assert e.value.sqlstate == "42883"
    with pytest.raises(errors.Error):                # errors are not remembered as answers
        reg.resolve("no_such_fn", ["INTEGER"])
    reg.register("no_such_fn", lambda x: x * 2, ["INTEGER"], "INTEGER")
    assert reg.resolve("no_such_fn", ["INTEGER"])[1] == "INTEGER"


def test_a_udf_registered_later_is_found_by_a_statement(conn):
    with pytest.raises(errors.Error):
        conn.execute("SELECT twice(g) FROM a WHERE id = 1").fetchall()
    conn.register_function("twice", lambda x: None if x is None else x * 2, ["INTEGER"], "INTEGER")
    assert conn.execute("SELECT twice(g) FROM a ORDER BY id").fetchall() == \
        [(2,), (4,), (2,), (None,)]


# ---- names resolved on the first try, errors where they were --------------------------------

@pytest.mark.parametrize("sql, state, at", [
    ("SELECT nope FROM a", "42703", 7),
    ("SELECT id FROM a, b", "42702", 7),
    ("SELECT a.id FROM a WHERE x.id = 1", "42P01", 27),
])
def test_column_errors_keep_their_positions(conn, sql, state, at):
    with pytest.raises(errors.Error) as e:
        conn.execute(sql)
    assert e.value.sqlstate == state and e.value.position == at


def test_uncorrelated_and_correlated_subqueries_in_one_statement(conn):
    sql = ("SELECT id, (SELECT count(*) FROM b), (SELECT count(*) FROM b WHERE b.a_id = a.id),"
           " (SELECT sum(w) FROM b WHERE b.w > (SELECT min(v) FROM a AS z WHERE z.id = a.id))"
           " FROM a ORDER BY id")
    assert conn.execute(sql).fetchall() == [(1, 4, 2, 80), (2, 4, 0, None), (3, 4, 1, 80),
                                            (4, 4, 0, 80)]


# ---- the stack probe's budget ---------------------------------------------------------------

@deep.deep
def _where(n: int) -> int:
    return threading.get_ident() if n == 0 else _where(n - 1)


def test_a_shallow_call_runs_in_place_and_leaves_no_budget_behind():
    assert _where(2 * deep.BUDGET_LEVELS) == threading.get_ident()
    assert deep._BUDGET.levels == 0


def test_a_call_from_a_stack_near_the_limit_hops_even_after_shallow_ones():
    assert _where(1) == threading.get_ident()
    here = 0
    f = sys._getframe()
    while f is not None:
        here, f = here + 1, f.f_back
    target = sys.getrecursionlimit() - deep.RESERVE + 20

    def sink(k: int) -> int:
        return _where(0) if k <= 0 else sink(k - 1)
    assert sink(target - here) != threading.get_ident()     # ran on a fresh stack
    assert deep._BUDGET.levels == 0


# ---- prune_columns: small tables keep their columns ---------------------------------------

@pytest.mark.parametrize("sql", PLANS)
def test_plans_over_small_tables_answer_as_pruned_plans(conn, sql, monkeypatch):
    """Plans reading only small tables skip column pruning (they run on the row path);
    their rows are those of the pruned plan, subqueries and joins included."""
    from rustmemodb.optimize import prune_columns
    unpruned = conn.execute(sql).fetchall()
    monkeypatch.setattr(prune_columns, "_only_small_tables", lambda plan, root: False)
    conn.database.plan_cache.clear()
    assert conn.execute(sql).fetchall() == unpruned


def test_a_table_past_the_small_size_is_pruned_again(conn):
    """A scan of a small table keeps every column; once the table has grown past
    ``SMALL_ROWS`` (far less than the plan cache's size drift) the statement is planned
    again and its scan narrowed."""
    from rustmemodb.plan.logical import SMALL_ROWS
    from rustmemodb.exec.row_ops import SMALL_ROWS as ROW_PATH_ROWS
    assert SMALL_ROWS == ROW_PATH_ROWS
    sql = "SELECT v FROM a WHERE g = 1 ORDER BY v"
    before = conn.execute(sql).fetchall()
    plan = conn.database.plan_cache.get(sql).plan
    assert _scan_of(plan).projection is None
    conn.executemany("INSERT INTO a VALUES (?, 7, 1.0, 'z')",
                     [(i,) for i in range(100, 100 + 4 * SMALL_ROWS)])
    assert conn.execute(sql).fetchall() == before
    plan = conn.database.plan_cache.get(sql).plan
    assert _scan_of(plan).projection is not None


def _scan_of(plan):
    from rustmemodb.plan.logical import LogicalScan
    while not isinstance(plan, LogicalScan):
        plan = plan.child
    return plan


# ---- depth_exceeds: one level at a time ----------------------------------------------------

def _depth(e) -> int:
    kids = e.children()
    return 1 + max((_depth(c) for c in kids), default=0)


def test_depth_exceeds_counts_levels_as_a_recursive_count_does():
    from rustmemodb.plan.expr import depth_exceeds
    leaf, other = ColRef(0, "INTEGER"), ColRef(1, "INTEGER")
    trees = [leaf]
    e = leaf
    for _ in range(70):
        e = make_call("add", [e, other])
        trees.append(e)
    trees.append(Case(((trees[3], trees[4]),), trees[1], "INTEGER"))
    trees.append(Case(((trees[3], trees[4]),), None, "INTEGER"))
    trees.append(make_call("add", [trees[2], trees[66]]))
    for t in trees:
        d = _depth(t)
        for limit in (0, 1, 2, 3, 5, 6, d - 1, d, d + 1, 63, 64, 65):
            assert depth_exceeds(t, limit) == (d > limit), (d, limit)


# ---- one walk of the select list (sql/bind/bind_select.py _census) -------------------------

def test_the_select_binders_srf_name_is_bind_arrays():
    from rustmemodb.sql.bind import bind_array, bind_select
    assert bind_select._SRF_NAMES == {bind_array.SRF_ROW}


@pytest.mark.parametrize("sql, expected", [
    ("SELECT unnest(ARRAY[1, 2]) ORDER BY 1", [(1,), (2,)]),
    ("SELECT id, generate_series(1, 2) FROM a WHERE id = 1 ORDER BY 2", [(1, 1), (1, 2)]),
    ("SELECT g, count(*) FROM a GROUP BY g ORDER BY 1", [(1, 2), (2, 1), (None, 1)]),
    ("SELECT id, row_number() OVER (ORDER BY id DESC) FROM a ORDER BY 1",
     [(1, 4), (2, 3), (3, 2), (4, 1)]),
    ("SELECT id FROM a ORDER BY count(*) OVER (), id", [(1,), (2,), (3,), (4,)]),
    ("SELECT count(*) FROM a ORDER BY count(*)", [(4,)]),
])
def test_aggregates_windows_and_srfs_are_still_found(conn, sql, expected):
    assert conn.execute(sql).fetchall() == expected


# ---- case folding with a cache of folded texts (sql/parse.py _fold_case) ---------------------

def test_case_folding_answers_as_translating_each_token(monkeypatch):
    from rustmemodb.sql import parse as P
    sql = ("SELECT A, \"B\", 'Kept', x, X1, aB, 1E5, Ünï, $$Dollar$$, E'Esc' "
           "FROM Tab WHERE Col = 'Q' AND \"MiXed\" > 1")
    want = [t.text if t.token_type in P._KEEP_CASE else t.text.translate(P._ASCII_LOWER)
            for t in P._tokenizer().tokenize(sql)]
    monkeypatch.setattr(P, "_FOLDED_MAX", 3)       # the cache starting over, too
    for _ in range(3):
        assert [t.text for t in P._fold_case(P._tokenizer().tokenize(sql))] == want
    assert len(P._FOLDED) <= 3
