"""psycopg 3 against the wire server: text and binary, prepared, transactions, errors."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
import uuid

import pytest

psycopg = pytest.importorskip("psycopg")
from psycopg.types.json import Jsonb  # noqa: E402


@pytest.fixture
def pg(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def _table(pg):
    pg.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, born DATE, "
               "seen TIMESTAMP, key UUID, doc JSONB, ok BOOLEAN)")


ROW = (1, "ada", 2.5, dt.date(1815, 12, 10), dt.datetime(2024, 5, 6, 7, 8, 9, 123400),
       uuid.UUID("12345678-1234-5678-1234-567812345678"), {"a": [1, 2], "b": None}, True)


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip_every_type(pg, binary):
    _table(pg)
    cur = pg.cursor(binary=binary)
    cur.execute("INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                ROW[:6] + (Jsonb(ROW[6]), ROW[7]))
    assert cur.statusmessage == "INSERT 0 1"
    cur.execute("INSERT INTO t (id) VALUES (2)")
    cur.execute("SELECT * FROM t ORDER BY id")
    assert cur.fetchall() == [ROW, (2,) + (None,) * 7]
    assert cur.statusmessage == "SELECT 2"
    assert [d.name for d in cur.description] == ["id", "name", "score", "born", "seen", "key",
                                                  "doc", "ok"]
    assert [d.type_code for d in cur.description] == [23, 25, 701, 1082, 1114, 2950, 3802, 16]


def test_interval_and_float_text_forms(pg):
    row = pg.execute("SELECT interval '1 day 2 hours', 1.0::float, 0.1::float + 0.2, "
                     "1e20::float, 0.1 + 0.2").fetchone()
    # float8 keeps its binary noise; the literals alone are numeric, exact (PostgreSQL's)
    assert row == (dt.timedelta(days=1, hours=2), 1.0, 0.30000000000000004, 1e20,
                   Decimal("0.3"))
    text = pg.cursor(binary=False)
    text.execute("SELECT 1.0::float::text, interval '1 day 2 hours'")
    assert text.pgresult.get_value(0, 1) == b"1 day 02:00:00"


def test_parameters_inferred_from_context(pg):
    _table(pg)
    # Strings go as OID 0 (unknown); the server reads them as the column's type.
    pg.execute("INSERT INTO t (id, born, seen, key, ok) VALUES (%s, %s, %s, %s, %s)",
               (5, "2020-02-03", "2020-02-03 04:05:06", "12345678-1234-5678-1234-567812345678",
                True))
    assert pg.execute("SELECT born, seen, key FROM t WHERE id = %s", (5,)).fetchone() == (
        dt.date(2020, 2, 3), dt.datetime(2020, 2, 3, 4, 5, 6), ROW[5])


def test_update_delete_tags(pg):
    _table(pg)
    pg.cursor().executemany("INSERT INTO t (id, name) VALUES (%s, %s)",
                            [(i, f"n{i}") for i in range(10)])
    assert pg.execute("SELECT count(*) FROM t").fetchone() == (10,)
    cur = pg.execute("UPDATE t SET name = 'x' WHERE id < 3")
    assert cur.statusmessage == "UPDATE 3" and cur.rowcount == 3
    cur = pg.execute("DELETE FROM t WHERE id >= 8")
    assert cur.statusmessage == "DELETE 2"
    assert pg.execute("SELECT count(*) FROM t WHERE name = 'x'").fetchone() == (3,)


def test_prepared_statements(pg):
    _table(pg)
    for i in range(7):
        pg.execute("INSERT INTO t (id, name) VALUES (%s, %s)", (i, f"n{i}"), prepare=True)
    cur = pg.cursor()
    for i in range(7):
        cur.execute("SELECT name FROM t WHERE id = %s", (i,), prepare=True)
        assert cur.fetchone() == (f"n{i}",)
    assert pg.prepared_max is None or pg.prepared_max > 0


def test_transactions_and_status(dsn):
    with psycopg.connect(dsn) as conn:           # psycopg default: implicit BEGIN
        conn.execute("CREATE TABLE a (x INTEGER)")
        conn.commit()
        conn.execute("INSERT INTO a VALUES (1)")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM a").fetchone() == (0,)
        conn.execute("INSERT INTO a VALUES (2)")
        conn.commit()
        assert conn.execute("SELECT x FROM a").fetchall() == [(2,)]


def test_errors_carry_sqlstate_and_failed_transaction(dsn):
    with psycopg.connect(dsn) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable) as info:
            conn.execute("SELECT * FROM missing")
        assert info.value.sqlstate == "42P01"
        assert info.value.diag.statement_position == "15"
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.execute("CREATE TABLE u (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO u VALUES (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO u VALUES (%s)", (1,), prepare=True)
        conn.rollback()                          # psycopg sends DEALLOCATE ALL here
        conn.execute("CREATE TABLE v (id INTEGER)")
        conn.execute("INSERT INTO v VALUES (%s)", (1,), prepare=True)
        conn.commit()
        assert conn.execute("SELECT count(*) FROM v").fetchone() == (1,)


def test_multi_statement_query_and_empty_query(pg):
    pg.execute("CREATE TABLE m (x INTEGER); INSERT INTO m VALUES (1), (2); "
               "UPDATE m SET x = x + 1")
    cur = pg.cursor()
    cur.execute("SELECT x FROM m ORDER BY x; SELECT count(*) FROM m")
    assert cur.fetchall() == [(2,), (3,)]
    assert cur.nextset() and cur.fetchall() == [(2,)]
    cur.execute("  ")
    assert cur.pgresult.status == psycopg.pq.ExecStatus.EMPTY_QUERY


def test_multi_statement_query_is_one_implicit_transaction(pg):
    pg.execute("CREATE TABLE s (x INTEGER)")
    with pytest.raises(psycopg.errors.DivisionByZero) as info:
        pg.execute("INSERT INTO s VALUES (1); SELECT 1 / 0; INSERT INTO s VALUES (2)")
    assert pg.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert pg.execute("SELECT count(*) FROM s").fetchall() == [(0,)]   # all or nothing
    pg.execute("INSERT INTO s VALUES (1); INSERT INTO s VALUES (2)")
    assert pg.execute("SELECT count(*) FROM s").fetchall() == [(2,)]
    # Explicit transaction control inside the string is honoured as written.
    pg.execute("INSERT INTO s VALUES (3); BEGIN; INSERT INTO s VALUES (4); ROLLBACK")
    assert pg.execute("SELECT count(*) FROM s").fetchall() == [(3,)]
    with pytest.raises(psycopg.errors.UndefinedTable) as info:
        pg.execute("SELECT 1; SELECT * FROM nope")
    assert info.value.diag.statement_position == "25"


def test_executemany_pipeline(pg):
    pg.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, v TEXT)")
    with pg.cursor() as cur:
        cur.executemany("INSERT INTO e VALUES (%s, %s)", [(i, str(i)) for i in range(200)])
        assert cur.rowcount == 200
    assert pg.execute("SELECT count(*), max(v) FROM e").fetchone() == (200, "99")


def test_returning(pg):
    pg.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT)")
    cur = pg.execute("INSERT INTO r VALUES (%s, %s) RETURNING id, v", (7, "seven"))
    assert cur.fetchall() == [(7, "seven")] and cur.statusmessage == "INSERT 0 1"


def test_parameter_status(pg):
    assert pg.info.server_version >= 150000
    assert pg.info.parameter_status("integer_datetimes") == b"on" or \
        pg.info.parameter_status("integer_datetimes") == "on"
    assert pg.info.encoding == "utf-8"


def test_branch_by_database_name(engine):
    import rustmemodb
    engine.execute("CREATE TABLE b (x INTEGER)")
    engine.execute("INSERT INTO b VALUES (1)")
    fork = engine.fork()
    fork.execute("INSERT INTO b VALUES (2)")
    with rustmemodb.serve(engine, users={"u": "p"}, branches={"what_if": fork}) as srv:
        base = f"host=127.0.0.1 port={srv.port} user=u password=p"
        with psycopg.connect(base + " dbname=main") as c:
            assert c.execute("SELECT count(*) FROM b").fetchone() == (1,)
        with psycopg.connect(base + " dbname=what_if", autocommit=True) as c:
            assert c.execute("SELECT count(*) FROM b").fetchone() == (2,)
            c.execute("INSERT INTO b VALUES (3)")
        assert fork.execute("SELECT count(*) FROM b").fetchone() == (3,)
        with pytest.raises(psycopg.OperationalError, match="does not exist"):
            psycopg.connect(base + " dbname=nosuch")


def test_read_only_transactions(dsn):
    """psycopg's ``read_only`` opens BEGIN READ ONLY: a write in it is 25006, also a
    prepared point UPDATE (the server's fast path); reads go on."""
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE ro (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.execute("INSERT INTO ro VALUES (1, 1)")
        conn.commit()
        conn.read_only = True
        assert conn.execute("SELECT v FROM ro WHERE id = %s", (1,)).fetchone() == (1,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("UPDATE ro SET v = 5 WHERE id = %s", (1,), prepare=True)
        conn.rollback()
        conn.read_only = False
        conn.execute("UPDATE ro SET v = 6 WHERE id = %s", (1,))
        conn.commit()
        assert conn.execute("SELECT v FROM ro").fetchall() == [(6,)]


def test_discard_all_resets_what_a_pool_hands_on(dsn):
    """pgbouncer's server_reset_query: temporary tables, settings, server-side prepared
    statements and held cursors are gone afterwards; tables stay."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x INTEGER)")
        conn.execute("CREATE TEMP TABLE scratch (y INTEGER)")
        conn.execute("SET search_path = elsewhere, public")
        conn.execute("SELECT count(*) FROM kept WHERE x = %s", (1,), prepare=True)
        conn.execute("DECLARE held CURSOR WITH HOLD FOR SELECT 1")
        conn.execute("DISCARD ALL")
        conn.prepared_max = 0      # psycopg forgets its own list of prepared names
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM scratch")
        assert conn.execute("SHOW search_path").fetchone() == ('"$user", public',)
        with pytest.raises(psycopg.errors.InvalidCursorName):
            conn.execute("FETCH 1 FROM held")
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)


def test_writes_through_an_updatable_view(pg):
    pg.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT, bal INTEGER DEFAULT 1)")
    pg.execute("CREATE VIEW pos AS SELECT id, owner AS who, bal FROM acct WHERE bal > 0 "
               "WITH CHECK OPTION")
    for binary in (False, True):          # parameters, prepared, binary results
        cur = pg.cursor(binary=binary)
        cur.execute("INSERT INTO pos (id, who) VALUES (%s, %s) RETURNING *",
                    (1 + binary, "ann"), prepare=True)
        assert cur.fetchall() == [(1 + binary, "ann", 1)]
        assert cur.statusmessage == "INSERT 0 1"
    cur = pg.cursor()
    cur.execute("UPDATE pos SET bal = bal + %s WHERE who = %s", (5, "ann"))
    assert cur.statusmessage == "UPDATE 2"
    with pytest.raises(psycopg.errors.lookup("44000")) as info:
        pg.execute("UPDATE pos SET bal = -1 WHERE id = %s", (1,))
    assert info.value.diag.message_primary == 'new row violates check option for view "pos"'
    assert info.value.diag.message_detail == "Failing row contains (1, ann, -1)."
    pg.execute("CREATE VIEW n AS SELECT id, bal * 2 AS b2 FROM acct")
    with pytest.raises(psycopg.errors.lookup("0A000")) as info:
        pg.execute("UPDATE n SET b2 = 1")
    assert info.value.diag.message_detail == ("View columns that are not columns of their "
                                              "base relation are not updatable.")
    cur.execute("DELETE FROM pos WHERE id = 2")
    assert cur.statusmessage == "DELETE 1"
    assert pg.execute("SELECT id, owner, bal FROM acct").fetchall() == [(1, "ann", 6)]
