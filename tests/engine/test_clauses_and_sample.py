"""Clauses the engine does not run are 0A000 (never dropped), and sampling is real.

Covers sql/bind/check_clauses.py (one allow-list per sqlglot node type) and
TABLESAMPLE / USING SAMPLE (sql/bind/bind_sample.py, exec/operators/sample.py).
PostgreSQL-checkable cases live in tests/sql/query/tablesample.test and
tests/sql/query/clauses.test.
"""
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.sql.bind import check_clauses


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t AS SELECT g AS a, g % 7 AS b FROM generate_series(1, 1000) g")
    c.execute("CREATE TABLE u (a INTEGER, c TEXT)")
    c.execute("INSERT INTO u VALUES (1, 'x'), (2, 'y')")
    return c


def rows(conn, sql, params=None):
    return conn.execute(sql, params).fetchall()


@pytest.mark.parametrize("sql, named", [
    ("SELECT count(*) FROM t FOR UPDATE", "FOR UPDATE with aggregate"),
    ("SELECT DISTINCT a FROM t FOR SHARE", "FOR SHARE with DISTINCT"),
    ("SELECT a FROM t CONNECT BY PRIOR a = b", "CONNECT BY"),
    ("SELECT a FROM t CLUSTER BY a", "CLUSTER BY"),
    ("SELECT a FROM t DISTRIBUTE BY a", "DISTRIBUTE BY"),
    ("SELECT a FROM t SORT BY a", "SORT BY"),
    ("SELECT a FROM t ORDER BY a WITH FILL", "WITH FILL"),
    ("SELECT * INTO x FROM t", "SELECT ... INTO"),
    ("SELECT * FROM t LEFT SEMI JOIN u ON true", "LEFT SEMI JOIN"),
    ("SELECT * FROM t ASOF JOIN u ON true", "ASOF"),
    ("SELECT a FROM t ORDER BY a FETCH FIRST 2 PERCENT ROWS ONLY", "PERCENT"),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
     "SEARCH DEPTH FIRST BY n SET o SELECT * FROM r", "SEARCH"),
    ("DELETE FROM t TABLESAMPLE BERNOULLI (10)", "TABLESAMPLE"),
    ("SELECT first_value(a) IGNORE NULLS OVER (ORDER BY a) FROM t", "IGNORE NULLS"),
    ("CREATE TEMP TABLE tt (a INTEGER) ON COMMIT DROP", "ON COMMIT DROP"),
    ("CREATE TABLE tt (a INTEGER) PARTITION BY RANGE (a)", "PARTITION BY"),
    ("CREATE TABLE tt (b INTEGER) INHERITS (t)", "INHERITS"),
    ("CREATE TABLE tt (a INTEGER) WITH (autovacuum_enabled = false)", "storage parameters"),
    ("CREATE TABLE tt (a TEXT COLLATE \"de_DE\")", "collation"),
    ("CREATE INDEX ON t USING brin (a)", "index method brin"),
    ("SELECT * FROM db.public.t", "cross-database"),
    ("DO $$ BEGIN PERFORM 1; END $$", "statement DO"),
    ("CALL proc()", "statement CALL"),
])
def test_unimplemented_clause_is_0a000_naming_it(conn, sql, named):
    before = rows(conn, "SELECT count(*), sum(a) FROM t")
    with pytest.raises(rustmemodb.NotSupportedError) as info:
        conn.execute(sql)
    assert info.value.sqlstate == "0A000"
    assert named in str(info.value)
    assert rows(conn, "SELECT count(*), sum(a) FROM t") == before


def test_unlogged_table_is_a_durable_table(conn, tmp_path):
    """UNLOGGED promises speed and gives up crash safety; here the table keeps both
    (pgbench -i --unlogged-tables, fixtures that ask for it): nothing is lost."""
    db = tmp_path / "db"
    c = rustmemodb.connect(str(db))
    c.execute("CREATE UNLOGGED TABLE u (a INTEGER PRIMARY KEY)")
    c.execute("INSERT INTO u VALUES (1), (2)")
    c.close()
    c = rustmemodb.connect(str(db))
    assert rows(c, "SELECT a FROM u ORDER BY a") == [(1,), (2,)]
    c.close()


def test_fillfactor_is_accepted_and_checked(conn):
    """How full heap pages are packed means nothing here; pgbench -i sets it."""
    conn.execute("CREATE TABLE ff (a INTEGER) WITH (fillfactor = 70)")
    assert rows(conn, "SELECT count(*) FROM ff") == [(0,)]
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("CREATE TABLE ff2 (a INTEGER) WITH (fillfactor = 5)")
    assert info.value.sqlstate == "22023"


def test_every_checked_node_type_has_an_allow_list_of_real_args():
    # an allow-list naming an arg sqlglot does not have would hide a typo
    for cls, allowed in check_clauses.HANDLED.items():
        assert set(allowed) <= set(cls.arg_types) | {"joins", "this"}, cls.__name__


def test_clauses_that_used_to_be_dropped_now_run(conn):
    assert rows(conn, "(SELECT a FROM t WHERE a < 4) ORDER BY a DESC LIMIT 2") == [(3,), (2,)]
    assert rows(conn, "SELECT a FROM t ORDER BY a FETCH FIRST 2 ROWS ONLY") == [(1,), (2,)]
    assert rows(conn, "SELECT a FROM t ORDER BY a DESC FETCH FIRST ROW ONLY") == [(1000,)]
    assert rows(conn, "SELECT t.a, u.c FROM (t JOIN u ON t.a = u.a) ORDER BY 1") == \
        [(1, "x"), (2, "y")]


def test_using_sample_rows_is_exact_and_percent_is_sampled(conn):
    assert rows(conn, "SELECT count(*) FROM t USING SAMPLE 10 ROWS") == [(10,)]
    assert rows(conn, "SELECT count(*) FROM t USING SAMPLE 5000 ROWS") == [(1000,)]
    n = rows(conn, "SELECT count(*) FROM t USING SAMPLE 20 PERCENT (bernoulli, 4)")[0][0]
    assert 100 <= n <= 300
    again = rows(conn, "SELECT count(*) FROM t USING SAMPLE 20 PERCENT (bernoulli, 4)")[0][0]
    assert again == n
    # applied to the FROM result before WHERE, as DuckDB does
    assert rows(conn, "SELECT count(*) FROM t USING SAMPLE 10 ROWS WHERE a < 0") == [(0,)]


def test_using_sample_with_no_unit_is_rows_as_in_duckdb(conn):
    # sqlglot read a bare number as a percentage: USING SAMPLE 2 gave 2% (often 0 rows)
    assert rows(conn, "SELECT count(*) FROM t USING SAMPLE 7") == [(7,)]
    assert rows(conn, "SELECT count(*) FROM t USING SAMPLE 7 (reservoir, 3)") == [(7,)]
    n = rows(conn, "SELECT count(*) FROM t USING SAMPLE 7% (bernoulli)")[0][0]
    assert 20 <= n <= 150    # 7% of 1,000 rows, a method without a seed
    assert rows(conn, "SELECT sample FROM (SELECT 1 AS sample) s USING SAMPLE 1") == [(1,)]


def test_reservoir_sample_keeps_distinct_table_rows_in_order(conn):
    got = [r[0] for r in rows(conn, "SELECT a FROM t TABLESAMPLE RESERVOIR (50 ROWS) "
                                    "REPEATABLE (3)")]
    assert len(got) == 50 == len(set(got)) and got == sorted(got)
    assert set(got) <= set(range(1, 1001))


def test_sample_size_and_seed_as_parameters(conn):
    sql = "SELECT count(*) FROM t TABLESAMPLE BERNOULLI ($1) REPEATABLE ($2)"
    assert rows(conn, sql, (100, 1)) == [(1000,)]
    assert rows(conn, sql, (0.0, 1)) == [(0,)]
    a, b = rows(conn, sql, (30, 8)), rows(conn, sql, (30, 8))
    assert a == b
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute(sql, (30, None))
    assert info.value.sqlstate == "2202G"
    with pytest.raises(rustmemodb.DataError) as info:
        conn.execute(sql, (None, 1))
    assert info.value.sqlstate == "2202H"


def test_system_sample_takes_whole_blocks(conn):
    from rustmemodb.exec.operators.sample import BLOCK_ROWS
    got = [r[0] for r in rows(conn, "SELECT a FROM t TABLESAMPLE SYSTEM (50) REPEATABLE (2)")]
    blocks = {(a - 1) // BLOCK_ROWS for a in got}
    expected = [a for a in range(1, 1001) if (a - 1) // BLOCK_ROWS in blocks]
    assert got == expected


def test_sampling_a_registered_arrow_table(conn):
    conn.register("arrow_t", pa.table({"v": list(range(500))}))
    assert rows(conn, "SELECT count(*) FROM arrow_t TABLESAMPLE BERNOULLI (100)") == [(500,)]
    assert rows(conn, "SELECT count(*) FROM arrow_t USING SAMPLE 7 ROWS") == [(7,)]


def test_explain_shows_the_sample(conn):
    plan = "\n".join(r[0] for r in rows(conn, "EXPLAIN SELECT a FROM t TABLESAMPLE "
                                               "BERNOULLI (5) REPEATABLE (1) WHERE b = 1"))
    assert "Sample" in plan and "bernoulli" in plan


def test_ddl_options_without_meaning_here_still_run(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER)")
    conn.execute('CREATE TABLE c (s TEXT COLLATE "C")')
    conn.execute("CREATE INDEX CONCURRENTLY ta ON t (a DESC NULLS FIRST)")
    conn.execute("CREATE INDEX tb ON t USING hash (b)")
    conn.execute("DROP INDEX CONCURRENTLY ta")
    conn.execute("ALTER TABLE t ADD COLUMN IF NOT EXISTS c INTEGER")
    assert rows(conn, "SELECT count(*) FROM t") == [(1000,)]


@pytest.mark.parametrize("sql, state", [
    ("INSERT INTO information_schema.tables VALUES (1)", "42809"),
    ("DROP TABLE information_schema.columns", "42809"),
    ("INSERT INTO nope.t VALUES (1)", "3F000"),
    ("CREATE TABLE nope.x (a INTEGER)", "3F000"),
    ("UPDATE nope.t SET a = 1", "3F000"),
    ("SELECT * FROM nope.t", "42P01"),
])
def test_schema_qualifiers_are_never_dropped(conn, sql, state):
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == state
    conn.execute("INSERT INTO public.u VALUES (9, 'z')")
    assert rows(conn, "SELECT count(*) FROM public.u") == [(3,)]


@pytest.mark.parametrize("sql", [
    "SELECT count(DISTINCT a, b) FROM t",
    "SELECT max(a, b) FROM t",
    "SELECT min(a, b, a) FROM t",
    "SELECT count(*, a) FROM t",
    "SELECT string_agg(c, ',', 'x') FROM u",
    "SELECT max(a, b) OVER () FROM t",
])
def test_extra_aggregate_arguments_are_42883_not_dropped(conn, sql):
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == "42883"


def test_collate_c_is_accepted_and_others_refused(conn):
    assert rows(conn, 'SELECT c COLLATE "C" FROM u ORDER BY c COLLATE "POSIX" DESC') == \
        [("y",), ("x",)]
    with pytest.raises(rustmemodb.NotSupportedError) as info:
        conn.execute('SELECT c FROM u ORDER BY c COLLATE "de_DE"')
    assert "de_DE" in str(info.value)


def test_commands_sqlglot_cannot_read_log_nothing(conn, caplog):
    """sqlglot logs a warning for statements it reads as opaque commands; the engine
    refuses those first, so a notebook's output shows the error and no log line."""
    import logging
    with caplog.at_level(logging.WARNING):
        for sql in ("DO $$ BEGIN END $$", "CALL proc()", "REFRESH MATERIALIZED VIEW nope",
                    "CREATE TEMP TABLE oc (x INTEGER) ON COMMIT DROP"):
            with pytest.raises(rustmemodb.Error):
                conn.execute(sql)
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]
