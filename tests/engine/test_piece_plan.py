"""One-table SELECTs planned from their pieces' plans (sql/piece_plan.py, issue 11).

A session plans each select item and condition once (as ``SELECT item FROM source``,
``SELECT 1 FROM source WHERE cond``) and assembles the plan of a statement of
sql/pieces.py's shape from those. Differential tests: over the SQLite-style corpus and
every sqllogictest file, a session planning from pieces answers exactly as one that
never does (values, their Python types, column names and types, row order, errors
with SQLSTATE, message and position), and over the corpus the plans are the ones the
normal path makes. Then the cases where a piece's plan must not be used again: catalog
changes, functions, temporary tables, transactions, forks, privileges, table sizes.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import rustmemodb
from rustmemodb import errors
from rustmemodb.sql import params as placeholders
from rustmemodb.sql import piece_plan

from bench.frontend import corpus

from .test_pieces import statement_blocks

SQL_TESTS = Path(__file__).resolve().parents[1] / "sql"


class _Never:
    """A session's piece plans that never plan: the normal path for every statement."""
    hits = 0

    def prepare(self, session, ph, root):
        return None


class _Always(piece_plan.PiecePlans):
    """Piece plans that plan a piece on its first sighting (the session's own wait for a
    second one would leave most statements of a test file to the normal path)."""
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        self.seen = _Everything()


class _Everything(dict):
    def __contains__(self, key) -> bool:
        return True


def _connect(mode: str):
    conn = rustmemodb.connect()
    if mode == "never":
        conn._session._piece_plans = _Never()
    elif mode == "always":
        conn._session._piece_plans = _Always()
    return conn


def _outcome(conn, sql: str):
    try:
        cur = conn.execute(sql)
        if cur.description is None:
            return None
        rows = cur.fetchall()
        # repr: NaN equals itself there, and 1 and 1.0 or True differ
        return ([(d[0], d[1]) for d in cur.description], repr(rows))
    except errors.Error as exc:
        return (type(exc).__name__, exc.sqlstate, str(exc), exc.position)


def _outcomes(statements, mode: str):
    conn = _connect(mode)
    return [_outcome(conn, sql) for sql in statements], conn


# ---- differential -----------------------------------------------------------------------

def test_the_corpus_answers_as_planned_whole():
    statements = corpus(1000)
    got, conn = _outcomes(statements, "default")
    assert conn._session._piece_plans.hits > 600
    assert got == _outcomes(statements, "never")[0]


def test_the_corpus_plans_are_the_normal_paths():
    conn = _connect("always")
    session = conn._session
    taken = joined = 0
    for sql in corpus(1000):
        if not sql.startswith("SELECT"):
            conn.execute(sql)
            continue
        ph = placeholders.normalize(sql)
        root = session.db.root
        hits = session._piece_plans.hits
        fast = session._bind(ph, root)
        if session._piece_plans.hits == hits:
            continue
        taken += 1
        normal = session._bind(ph, root, from_pieces=False)
        if "LogicalJoin" in repr(normal.plan):
            # a correlated EXISTS conjunct: a semi-join there, a subquery per row here
            # (the answers are compared by the test above)
            joined += 1
            continue
        # by repr: a subquery expression compares by identity, and the normal path's
        # may be another object (an optimized copy) of the same
        assert repr(fast.plan) == repr(normal.plan), sql
        # (a piece reused by the binder's memo does not note the functions it calls)
        assert {d[:2] for d in fast.bound.deps} >= {d[:2] for d in normal.bound.deps}, sql
        assert set(fast.bound.privileges) == set(normal.bound.privileges), sql
        assert fast.bound.nested == normal.bound.nested, sql
    assert taken > 800 and joined > 20


def _test_files() -> list[Path]:
    return sorted(SQL_TESTS.rglob("*.test"))


def test_the_sqllogictest_files_answer_as_planned_whole():
    taken = 0
    for path in _test_files():
        statements = statement_blocks(path)
        got, conn = _outcomes(statements, "always")
        taken += conn._session._piece_plans.hits
        want = _outcomes(statements, "never")[0]
        for sql, g, w in zip(statements, got, want):
            assert g == w, f"{path.name}: {sql}"
    assert taken > 40


# ---- when a piece's plan is planned again ------------------------------------------------

SETUP = [
    "CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER)",
    "INSERT INTO t VALUES (1, 2, 3), (2, 1, 5), (3, NULL, 4), (4, 4, NULL), (NULL, 3, 1)",
    "CREATE TABLE u (k INTEGER, v TEXT)",
    "INSERT INTO u VALUES (1, 'x'), (2, 'y'), (5, NULL)",
]
QUERIES = [
    "SELECT a, b + 1 FROM t WHERE a > 1 OR c < 4 ORDER BY 1",
    "SELECT b + 1, abs(c - 4) FROM t WHERE c < 4 AND a > 1 ORDER BY 2 DESC, 1",
    "SELECT a, (SELECT count(*) FROM u WHERE u.k < t.a) FROM t WHERE a > 1 ORDER BY 1",
    "SELECT abs(c - 4), a FROM t WHERE a > 1 ORDER BY 1 NULLS FIRST, 2",
]


def _planned(changes=(), mode: str = "default"):
    """A connection that answered QUERIES twice (its pieces planned), then ``changes``."""
    conn = _connect(mode)
    for s in SETUP:
        conn.execute(s)
    for _ in range(2):
        for q in QUERIES:
            conn.execute(q).fetchall()
    for s in changes:
        conn.execute(s)
    return conn


def _fresh(changes=()):
    conn = _connect("never")
    for s in [*SETUP, *changes]:
        conn.execute(s)
    return conn


def test_pieces_are_planned_on_their_second_sighting():
    conn = _connect("default")
    for s in SETUP:
        conn.execute(s)
    conn.execute(QUERIES[0]).fetchall()
    plans = conn._session._piece_plans
    assert plans.hits == 0 and not plans.entries
    conn.execute("SELECT b + 1, a FROM t WHERE c < 4 OR a > 1 ORDER BY 2").fetchall()
    assert plans.hits == 1
    assert len(plans.entries) == 4


def test_the_one_piece_a_statement_lacks_is_planned_on_its_first_sighting():
    conn = _planned()
    plans = conn._session._piece_plans
    hits = plans.hits
    one_new = "SELECT a, c * 3 FROM t WHERE a > 1 OR c < 4 ORDER BY 1"
    assert _outcome(conn, one_new) == _outcome(_fresh(), one_new)
    assert plans.hits == hits + 1



def test_new_pieces_wait_for_a_second_sighting_until_pieces_repeat():
    conn = _connect("default")
    for s in SETUP:
        conn.execute(s)
    # a session whose statements bring new pieces each time plans none of them
    items = [f"{x} {op} {y}" for x in "abc" for y in "abc" if x != y for op in "+-*"]
    conds = [f"{x} {op} {y}" for x in "abc" for y in "abc" if x != y
             for op in ("<", ">", "<=", ">=", "<>")]
    fresh = _fresh()
    for i in range(len(items) // 2):
        sql = f"SELECT {items[2 * i]}, {items[2 * i + 1]} FROM t WHERE {conds[i]} ORDER BY 1"
        assert _outcome(conn, sql) == _outcome(fresh, sql)
    plans = conn._session._piece_plans
    assert plans.hits == 0 and not plans.entries
    # once its statements bring pieces seen before, a statement's new pieces are
    # planned on their first sighting
    conn = _planned()
    plans = conn._session._piece_plans
    hits = plans.hits
    two_new = "SELECT a, c * 5, b * 7 FROM t WHERE a > 1 ORDER BY 1"
    assert _outcome(conn, two_new) == _outcome(_fresh(), two_new)
    assert plans.hits == hits + 1


def test_a_plan_from_pieces_is_made_only_when_read():
    conn = _planned()
    session = conn._session
    plans = session._piece_plans
    hits = plans.hits
    sql = "SELECT b + 1, a FROM t WHERE a > 1 AND c < 4 OR a > 1 ORDER BY 2 DESC, 1"
    assert _outcome(conn, sql) == _outcome(_fresh(), sql)
    assert plans.hits == hits + 1
    prepared = session.db.plan_cache.get(sql)
    assert prepared is not None and prepared.pieces is not None
    assert prepared._lazy._plan is None        # its rows came from the pieces' values
    plan = prepared.plan
    assert plan is not None and prepared.bound.plan is plan and prepared.plan is plan
    normal = session._bind(placeholders.normalize(sql), session.db.root, from_pieces=False)
    assert repr(plan) == repr(normal.plan)
    assert _outcome(conn, sql) == _outcome(_fresh(), sql)     # the same text: by text


@pytest.mark.parametrize("changes", [
    ["ALTER TABLE t ALTER COLUMN b TYPE FLOAT"],
    ["ALTER TABLE t RENAME COLUMN b TO bb", "ALTER TABLE t RENAME COLUMN c TO b",
     "ALTER TABLE t RENAME COLUMN bb TO c"],
    ["ALTER TABLE t ADD COLUMN d INTEGER", "UPDATE t SET d = 7"],
    ["DROP TABLE t", "CREATE TABLE t (c TEXT, b INTEGER, a INTEGER)",
     "INSERT INTO t VALUES ('x', 1, 2), ('y', NULL, 3)"],
    ["DROP TABLE u", "CREATE TABLE u (k FLOAT, v TEXT)", "INSERT INTO u VALUES (1.5, 'z')"],
    ["CREATE FUNCTION abs(x INTEGER) RETURNS INTEGER LANGUAGE sql AS 'SELECT x + 1000'"],
    ["INSERT INTO u VALUES (0, 'w')", "DELETE FROM t WHERE a = 2"],
    ["CREATE INDEX t_a ON t (a)"],
    ["SET search_path TO public"],
])
def test_changes_answer_as_a_fresh_session(changes):
    conn = _planned(changes)
    fresh = _fresh(changes)
    for q in QUERIES:
        assert _outcome(conn, q) == _outcome(fresh, q), q


def test_a_dropped_table_is_an_error_again():
    conn = _planned(["DROP TABLE u"])
    got = _outcome(conn, QUERIES[2])
    assert got == _outcome(_fresh(["DROP TABLE u"]), QUERIES[2])
    assert got[1] == "42P01"


def test_a_python_function_registered_later_is_used():
    conn = _planned()
    sql = "SELECT a, twice(b) FROM t WHERE a > 1 ORDER BY 1"
    with pytest.raises(errors.Error):
        conn.execute(sql)
    conn.register_function("twice", lambda x: x * 2, ["INTEGER"], "INTEGER")
    assert conn.execute(sql).fetchall() == [(2, 2), (3, None), (4, 8)]
    assert conn.execute(sql).fetchall() == [(2, 2), (3, None), (4, 8)]


def test_a_redefined_python_function_is_used():
    conn = _connect("always")
    for s in SETUP:
        conn.execute(s)
    conn.register_function("f", lambda x: x + 1, ["INTEGER"], "INTEGER")
    sql = "SELECT f(a), b FROM t WHERE a > 2 ORDER BY 1"
    assert conn.execute(sql).fetchall() == [(4, None), (5, 4)]
    conn.register_function("f", lambda x: x - 1, ["INTEGER"], "INTEGER")
    assert conn.execute(sql + ", 2").fetchall() == [(2, None), (3, 4)]


def test_a_temporary_table_shadows_the_table():
    conn = _planned(["CREATE TEMP TABLE t (a INTEGER, b INTEGER, c INTEGER)",
                     "INSERT INTO t VALUES (9, 9, 0)"])
    assert conn.execute(QUERIES[0]).fetchall() == [(9, 10)]
    conn.execute("DROP TABLE t")
    assert _outcome(conn, QUERIES[0]) == _outcome(_fresh(), QUERIES[0])


def test_a_transaction_sees_its_own_schema_and_rolls_it_back():
    conn = _planned()
    fresh = _fresh()
    conn.execute("BEGIN")
    conn.execute("ALTER TABLE t ALTER COLUMN b TYPE FLOAT")
    inside = _outcome(conn, QUERIES[0])
    assert inside[0] == [("a", "INTEGER"), ("?column?", "FLOAT")]
    conn.execute("ROLLBACK")
    assert _outcome(conn, QUERIES[0]) == _outcome(fresh, QUERIES[0])


def test_a_fork_changed_apart_answers_for_its_own_catalog():
    conn = _planned()
    fork = conn.fork()
    for q in QUERIES:
        fork.execute(q).fetchall()
    fork.execute("ALTER TABLE t ALTER COLUMN a TYPE FLOAT")
    for q in QUERIES:
        assert _outcome(fork, q) == _outcome(_fresh(["ALTER TABLE t ALTER COLUMN a TYPE FLOAT"]), q)
        assert _outcome(conn, q) == _outcome(_fresh(), q)


def test_privileges_of_every_piece_are_checked():
    conn = _planned()
    conn.execute("CREATE ROLE reader LOGIN PASSWORD 'pw'")
    conn.execute("GRANT SELECT ON t TO reader")
    conn.execute("SET ROLE reader")
    got = _outcome(conn, QUERIES[2])      # its subquery reads u
    assert got[1] == "42501"
    assert _outcome(conn, QUERIES[0]) == _outcome(_fresh(), QUERIES[0])


def test_a_table_grown_past_the_row_path_answers_alike():
    grow = ["INSERT INTO t SELECT g, g % 7, g % 5 FROM generate_series(10, 400) AS g"]
    conn = _planned(grow)
    fresh = _fresh(grow)
    for q in QUERIES:
        assert _outcome(conn, q) == _outcome(fresh, q), q


@pytest.mark.parametrize("sql", [
    "SELECT count(*) FROM t WHERE a > 1 ORDER BY 1",           # an aggregate
    "SELECT a, row_number() OVER () FROM t ORDER BY 1",        # a window
    "SELECT a, now() IS NOT NULL FROM t WHERE a > 1 ORDER BY 1",   # reads the clock
    "SELECT a, random() < 2 FROM t WHERE a > 1 ORDER BY 1",    # volatile
    "SELECT a FROM t WHERE a > 1 ORDER BY b",                  # ORDER BY a name
    "SELECT a FROM t WHERE a > 1 ORDER BY 3",                  # out of range: 42P10
    "SELECT a FROM t WHERE 1 = 1 ORDER BY 1",                  # folded to TRUE
    "SELECT a, nope FROM t ORDER BY 1",                        # 42703 with its position
    "SELECT a, b FROM t WHERE a + 'x' > 1 ORDER BY 1",         # a type error
    "SELECT a FROM t WHERE a > 1 ORDER BY 1 LIMIT 2",
])
def test_pieces_planned_otherwise_take_the_normal_path(sql):
    conn = _planned(mode="always")
    plans = conn._session._piece_plans
    hits = plans.hits
    twice = [_outcome(conn, sql), _outcome(conn, sql.replace("SELECT ", "SELECT  ", 1))]
    assert plans.hits == hits
    fresh = _fresh()
    assert twice[0] == _outcome(fresh, sql)


EXISTS = "SELECT a, b FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.a) ORDER BY 1"


def test_a_correlated_exists_conjunct_is_planned_as_a_subquery_on_small_tables():
    conn = _planned(mode="always")
    plans = conn._session._piece_plans
    hits = plans.hits
    assert _outcome(conn, EXISTS) == _outcome(_fresh(), EXISTS)
    assert plans.hits == hits + 1
    grow = ["INSERT INTO t SELECT g, g % 7, g % 5 FROM generate_series(10, 400) AS g"]
    for s in grow:
        conn.execute(s)
    assert _outcome(conn, EXISTS + ", 2") == _outcome(_fresh(grow), EXISTS + ", 2")
    assert plans.hits == hits + 1      # past the row path's size: the normal path


@pytest.mark.parametrize("sql", [
    "SELECT a, 10 / (a - 1) FROM t WHERE a > 1 ORDER BY 1",          # 0 on a row left out
    "SELECT a FROM t WHERE a <> 1 AND 10 / (a - 1) > 2 ORDER BY 1",   # AND guards it
    "SELECT a FROM t WHERE a = 1 OR 10 / (a - 1) > 2 ORDER BY 1",     # OR guards it
    "SELECT a, 10 / (a - 1) FROM t ORDER BY 1",                       # 22012 for real
    "SELECT a, b * 9223372036854775807 FROM t WHERE b < 2 ORDER BY 1",   # 22003 for real
])
def test_a_piece_that_fails_on_rows_a_statement_skips_answers_as_compiled(sql):
    conn = _planned(mode="always")
    plans = conn._session._piece_plans
    hits = plans.hits
    for _ in range(2):      # its values are kept as failed: the same answer again
        assert _outcome(conn, sql) == _outcome(_fresh(), sql), sql
    assert plans.hits == hits + 1


def test_values_follow_the_rows_of_the_statements_snapshot():
    conn = _planned()
    fresh = _fresh()
    conn.execute("BEGIN")
    conn.execute("INSERT INTO t VALUES (7, 0, 9)")
    fresh.execute("INSERT INTO t VALUES (7, 0, 9)")
    for q in QUERIES:
        assert _outcome(conn, q) == _outcome(fresh, q), q
    conn.execute("ROLLBACK")
    fresh.execute("DELETE FROM t WHERE a = 7")
    for q in QUERIES:
        assert _outcome(conn, q) == _outcome(fresh, q), q
    other = rustmemodb.connect(conn)       # another session of the same database
    other.execute("UPDATE t SET b = b + 100 WHERE a = 3")
    fresh.execute("UPDATE t SET b = b + 100 WHERE a = 3")
    for q in QUERIES:
        assert _outcome(conn, q) == _outcome(fresh, q), q


def test_statements_planned_from_pieces_leave_no_cyclic_garbage():
    """A one-off statement's plan is freed by reference counting, not left to the cyclic
    collector (its fast path must not refer back to it): a file of such statements
    would otherwise pay for full collections of the process's heap."""
    import gc
    import itertools
    conn = _planned(mode="always")
    items = ["a", "b + 1", "abs(c - 4)", "a * 2"]
    texts = [f"SELECT {', '.join(p)} FROM t WHERE {w} ORDER BY 1"
             for p in itertools.permutations(items, 3)
             for w in ("a > 1 OR c < 4", "c < 4 AND a > 1")]
    for sql in texts[:4]:
        conn.execute(sql).fetchall()
    plans = conn._session._piece_plans
    hits = plans.hits
    gc.collect()
    gc.disable()
    try:
        for sql in texts[4:]:
            conn.execute(sql).fetchall()
        found = gc.collect()
    finally:
        gc.enable()
    assert plans.hits - hits == len(texts) - 4
    assert found < len(texts) - 4


def test_entries_are_bounded(monkeypatch):
    monkeypatch.setattr(piece_plan, "MAX_ENTRIES", 8)
    conn = _planned(mode="always")
    for i in range(40):
        conn.execute(f"SELECT a + {i}, b FROM t WHERE c > {i % 3} ORDER BY 1, 2").fetchall()
    plans = conn._session._piece_plans
    assert len(plans.entries) <= 8
    assert conn.execute("SELECT a + 7, b FROM t WHERE c > 1 ORDER BY 1, 2").fetchall() == \
        _fresh().execute("SELECT a + 7, b FROM t WHERE c > 1 ORDER BY 1, 2").fetchall()


# Sort columns holding NULLs, NaN, text and booleans, in each direction and NULL placement:
# the piece rows sort by what the pieces' values over the table hold (exec/piece_rows.py
# ``_kind``), the normal path by what the output rows hold.
_SORT_SETUP = [
    "CREATE TABLE s (i INTEGER, f FLOAT, t TEXT, b BOOLEAN)",
    "INSERT INTO s VALUES (3, 1.5, 'b', true), (1, NULL, 'a', false), (2, 2.5, NULL, true),"
    " (NULL, 0.5, 'c', NULL), (1, 1.5, 'a', true), (3, CAST('NaN' AS FLOAT), 'b', false), (2, -1.0, 'd', true)",
]
_SORT_ITEMS = ["i", "f", "t", "b", "i + 1", "f * 2", "coalesce(i, 0)", "t || 'x'"]
_SORT_CONDS = ["", " WHERE i > 1", " WHERE f < 2", " WHERE f = f", " WHERE i IS NOT NULL",
               " WHERE f > 1 OR i = 1"]
_SORT_ORDERS = ["1", "1, 2", "2, 1", "1 DESC, 2 DESC", "1 NULLS FIRST, 2", "2 DESC NULLS LAST",
                "1 DESC, 2", "2, 1 DESC NULLS LAST"]


def test_sorts_over_nulls_nans_and_types_answer_as_planned_whole():
    statements = [f"SELECT {a}, {b} FROM s{w} ORDER BY {o}"
                  for a in _SORT_ITEMS for b in _SORT_ITEMS if a != b
                  for w in _SORT_CONDS[::3 if a < b else 2] for o in _SORT_ORDERS]
    conn, fresh = _connect("always"), _connect("never")
    for s in _SORT_SETUP:
        conn.execute(s)
        fresh.execute(s)
    hits = conn._session._piece_plans.hits
    for sql in statements:
        assert _outcome(conn, sql) == _outcome(fresh, sql), sql
    assert conn._session._piece_plans.hits - hits > len(statements) // 2
