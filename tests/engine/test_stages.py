"""Stages that hold (issue 11): binding produces a plan and changes nothing; DDL runs
as operators inside the transaction; the optimizer runs once, on the whole plan."""
import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb.optimize import optimize, registry
from rustmemodb.plan.ddl import DDL_NODES
from rustmemodb.plan.expr import SubqueryExpr
from rustmemodb.plan.walk import expressions, nodes
from rustmemodb.sql.bind.binder import StatementBinder
from rustmemodb.sql.parse import parse_one

DDL = [
    "CREATE TABLE n (id INTEGER PRIMARY KEY, v TEXT CHECK (v <> ''))",
    "CREATE TABLE n AS SELECT id, a FROM t WHERE a > (SELECT min(a) FROM t)",
    "CREATE VIEW w AS SELECT a FROM t",
    "CREATE INDEX t_a_idx ON t (a)",
    "DROP TABLE t CASCADE",
    "DROP VIEW v",
    "DROP INDEX t_b_idx",
    "TRUNCATE t",
    "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 1, ADD CONSTRAINT c_pos CHECK (c > 0), "
    "RENAME COLUMN b TO bb, ALTER COLUMN a TYPE TEXT, RENAME TO t2",
]


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)")
    c.execute("CREATE INDEX t_b_idx ON t (b)")
    # (a view reading t.a would make ALTER COLUMN a TYPE 0A000, as in PostgreSQL)
    c.execute("CREATE VIEW v AS SELECT id, b FROM t")
    c.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, i * 10, i % 3) for i in range(5)])
    return c


@pytest.mark.parametrize("sql", DDL)
def test_binding_ddl_gives_a_plan_and_changes_nothing(conn, sql):
    db = conn.database
    root = db.root
    tables, views = dict(root.tables), dict(root.views)
    bound = StatementBinder(root, db.functions).bind_statement(parse_one(sql))
    assert isinstance(bound.plan, DDL_NODES) and bound.ddl and not bound.cacheable
    assert db.root is root and root.tables == tables and root.views == views
    conn.execute(sql)          # and the same statement runs
    assert db.root is not root


def test_the_binder_never_calls_the_optimizer(conn, monkeypatch):
    def refuse(plan, ctx=None):
        raise AssertionError("optimizer called while binding")
    monkeypatch.setattr(registry, "RULES", (("refuse", refuse),))
    sql = ("WITH w AS (SELECT a FROM t WHERE b = 1) SELECT id FROM t "
           "WHERE a IN (SELECT a FROM w) AND EXISTS (SELECT 1 FROM t AS u WHERE u.id > t.id) "
           "AND a > (SELECT min(a) FROM t)")
    root = conn.database.root
    bound = StatementBinder(root, conn.database.functions).bind_statement(parse_one(sql))
    assert bound.plan is not None


def test_subqueries_and_ctes_are_optimized_with_the_statement(conn):
    rows = conn.execute(
        "WITH w AS (SELECT a FROM t WHERE b = 1) SELECT id FROM t WHERE a IN (SELECT a FROM w) "
        "AND EXISTS (SELECT 1 FROM t AS u WHERE u.id > t.id) ORDER BY id").fetchall()
    assert rows == [(1,)]
    sql = "SELECT id FROM t WHERE a = (SELECT max(a) FROM t AS u WHERE u.b = 2)"
    root = conn.database.root
    bound = StatementBinder(root, conn.database.functions).bind_statement(parse_one(sql))

    def subquery_nodes(plan):
        sub = next(e for e in expressions(plan) if isinstance(e, SubqueryExpr))
        return [type(n).__name__ for n in nodes(sub.plan)]
    assert "LogicalFilter" in subquery_nodes(bound.plan)          # as bound
    assert "LogicalFilter" not in subquery_nodes(optimize(bound.plan, root))   # into its scan


def test_alter_steps_see_the_earlier_steps_and_fail_whole(conn):
    conn.execute("ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 1, ADD CONSTRAINT c_pos CHECK (c > 0)")
    with pytest.raises(errors.IntegrityError):
        conn.execute("INSERT INTO t VALUES (9, 0, 0, -1)")
    with pytest.raises(errors.IntegrityError):   # 23514 on the rows: the whole ALTER undone
        conn.execute("ALTER TABLE t ADD COLUMN d INTEGER DEFAULT -1, "
                     "ADD CONSTRAINT d_pos CHECK (d > 0)")
    assert [c[0] for c in conn.execute("SELECT * FROM t").description] == ["id", "a", "b", "c"]
    with pytest.raises(errors.ProgrammingError):  # 42703 at bind: nothing ran
        conn.execute("ALTER TABLE t ADD COLUMN e INTEGER, DROP COLUMN nope")
    assert "e" not in [c[0] for c in conn.execute("SELECT * FROM t").description]


def test_ddl_in_a_transaction_checks_the_transactions_catalog(conn):
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE x (i INTEGER)")
    with pytest.raises(errors.ProgrammingError):   # 42P07: exists in this transaction
        conn.execute("CREATE TABLE x (i INTEGER)")
    conn.execute("ROLLBACK")
    conn.execute("CREATE TABLE x (i INTEGER)")      # never existed outside it


def test_a_cte_read_twice_is_still_one_cte_after_optimizing(conn):
    # Materialized once per statement, as in PostgreSQL: every read sees the same rows.
    calls = iter(range(1000))
    conn.register_function("tick", lambda: next(calls), [], "INTEGER", volatile=True)
    assert conn.execute("WITH r AS (SELECT tick() AS x) "
                        "SELECT a.x = b.x FROM r AS a, r AS b").fetchall() == [(True,)]
    assert conn.execute("WITH r AS (SELECT tick() AS x) SELECT (SELECT x FROM r) = "
                        "(SELECT x FROM r), (SELECT x FROM r WHERE x >= 0)").fetchall()[0][0]
