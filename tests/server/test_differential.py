"""The same client conversations with the rustmemodb server and with PostgreSQL 15,
compared byte for byte where the protocol fixes the bytes: value formats (text and
binary), command tags, error fields, transaction status, row limits, ParameterStatus."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")
from psycopg import pq  # noqa: E402


@pytest.fixture
def pair(dsn, pg_dsn):
    conns = [psycopg.connect(dsn, autocommit=True), psycopg.connect(pg_dsn, autocommit=True)]
    for c in conns:
        c.execute("DROP TABLE IF EXISTS diff_t")
    yield conns
    conns[1].execute("DROP TABLE IF EXISTS diff_t")
    for c in conns:
        c.close()


VALUES = ("SELECT 42::bigint, -1.5::float8, 1e20::float8, 0.1::float8, 'tab\tx'::text, true, "
          "'1815-12-10'::date, '2024-05-06 07:08:09.1234'::timestamp, "
          "'12345678-1234-5678-1234-567812345678'::uuid, '{\"b\": [1, null], \"a\": \"x\"}'::jsonb, "
          "interval '1 year 2 months 3 days 04:05:06.5', ARRAY[1, 2, NULL]::bigint[], "
          "ARRAY['a', 'b c', NULL]::text[], NULL::text, '12:34:56.789'::time, "
          "'00:00'::time, '\\x00ff41'::bytea, ''::bytea, "
          "to_tsvector('english', 'The quick brown foxes'), $$b:2,1A a 'c d':3$$::tsvector, "
          "'a & !(b:* | c:AB) <2> d'::tsquery, ''::tsquery")


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_value_formats_byte_for_byte(pair, binary):
    results = []
    for conn in pair:
        cur = conn.cursor(binary=binary)
        cur.execute(VALUES)
        res = cur.pgresult
        results.append(([res.ftype(i) for i in range(res.nfields)],
                        [res.get_value(0, i) for i in range(res.nfields)]))
    assert results[0] == results[1]


INFINITIES = ("SELECT 'infinity'::date, '-infinity'::date, 'infinity'::timestamp, "
              "'-infinity'::timestamp, 'infinity'::timestamptz, '-infinity'::timestamptz, "
              "ARRAY['infinity'::date, '2020-01-01'], ARRAY['-infinity'::timestamp]")


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_infinity_bytes_and_psycopg_behaviour(pair, binary):
    """PostgreSQL sends ``infinity`` as text, INT32/INT64 max/min in binary; psycopg
    refuses to load them (DataError: no Python date so large) from either server, and
    takes them as text parameters."""
    results = []
    for conn in pair:
        cur = conn.cursor(binary=binary)
        cur.execute(INFINITIES)
        res = cur.pgresult
        results.append(([res.ftype(i) for i in range(res.nfields)],
                        [res.get_value(0, i) for i in range(res.nfields)]))
        with pytest.raises(psycopg.DataError):
            cur.fetchone()
        placeholder = "%b" if binary else "%t"
        got = conn.cursor(binary=binary).execute(
            f"SELECT {placeholder}::date > DATE '9999-12-31', "
            f"isfinite({placeholder}::timestamptz)", ("infinity", "-infinity")).fetchone()
        assert got == (True, False)
    assert results[0] == results[1]


def test_infinity_through_copy(pair):
    """COPY FROM reads infinity in text and binary; COPY TO writes PostgreSQL's bytes."""
    outs = []
    for conn in pair:
        conn.execute("CREATE TABLE diff_t (id BIGINT PRIMARY KEY, d DATE, t TIMESTAMP, "
                     "z TIMESTAMPTZ)")
        with conn.cursor().copy("COPY diff_t FROM STDIN") as cp:
            cp.write(b"1\tinfinity\t-infinity\tinfinity\n2\t2020-01-01\t\\N\t-infinity\n")
        got = {}
        for fmt in ("", " (FORMAT BINARY)", " (FORMAT CSV)"):
            with conn.cursor().copy(f"COPY (SELECT * FROM diff_t ORDER BY id) TO STDOUT{fmt}"
                                    ) as cp:
                got[fmt] = b"".join(bytes(chunk) for chunk in cp)
        outs.append(got)
        conn.execute("DROP TABLE diff_t")
    assert outs[0] == outs[1]


def test_command_tags(pair):
    script = ["CREATE TABLE diff_t (id BIGINT PRIMARY KEY, v TEXT)",
              "INSERT INTO diff_t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
              "UPDATE diff_t SET v = 'x' WHERE id < 3",
              "DELETE FROM diff_t WHERE id = 3",
              "SELECT * FROM diff_t",
              "INSERT INTO diff_t VALUES (9, 'z') RETURNING id",
              "BEGIN", "SAVEPOINT s", "RELEASE SAVEPOINT s", "COMMIT",
              "DROP TABLE diff_t"]
    tags = [[conn.execute(sql).statusmessage for sql in script] for conn in pair]
    assert tags[0] == tags[1]


@pytest.mark.parametrize("sql, same_text", [
    ("SELECT * FROM diff_missing", True),
    ("SELECT 1/0", True),
    ("SELECT nope FROM (SELECT 1 AS a) s", True),
    ("INSERT INTO diff_t VALUES (1, 'dup')", True),
    # the engine's parser (sqlglot) words syntax errors and places cast errors its own way
    ("SELEC 1", False),
    ("SELECT 'abc'::bigint", False),
])
def test_error_fields(pair, sql, same_text):
    got = []
    for conn in pair:
        conn.execute("DROP TABLE IF EXISTS diff_t")
        conn.execute("CREATE TABLE diff_t (id BIGINT PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO diff_t VALUES (1, 'a')")
        with pytest.raises(psycopg.Error) as info:
            conn.execute(sql)
        d = info.value.diag
        got.append((d.severity, d.sqlstate, d.message_primary, d.statement_position)
                   if same_text else (d.severity, d.sqlstate))
    assert got[0] == got[1]


def test_transaction_status_sequence(pair):
    seqs = []
    for conn in pair:
        seq = [conn.info.transaction_status]
        conn.execute("BEGIN")
        seq.append(conn.info.transaction_status)
        with pytest.raises(psycopg.Error):
            conn.execute("SELECT * FROM diff_missing")
        seq.append(conn.info.transaction_status)
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.execute("ROLLBACK")
        seq.append(conn.info.transaction_status)
        seqs.append(seq)
    assert seqs[0] == seqs[1] == [pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS,
                                  pq.TransactionStatus.INERROR, pq.TransactionStatus.IDLE]


def test_multi_statement_query_is_atomic(pair):
    out = []
    for conn in pair:
        conn.execute("CREATE TABLE diff_t (id BIGINT PRIMARY KEY, v TEXT)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO diff_t VALUES (1, 'a'); INSERT INTO diff_t VALUES (1, 'b')")
        out.append(conn.execute("SELECT count(*) FROM diff_t").fetchone())
    assert out[0] == out[1] == (0,)


def test_row_limit_portal_suspended(login, pg_dsn):
    """asyncpg's cursor fetches with Execute row limits (PortalSuspended in between)."""
    asyncpg = pytest.importorskip("asyncpg")
    import asyncio

    async def fetch(**kw):
        conn = await asyncpg.connect(**kw)
        try:
            async with conn.transaction():
                return [r[0] async for r in conn.cursor(
                    "SELECT i::bigint FROM generate_series(1, 10) i ORDER BY i", prefetch=3)]
        finally:
            await conn.close()
    ours = asyncio.run(fetch(**login))
    theirs = asyncio.run(fetch(dsn=_as_url(pg_dsn)))
    assert ours == theirs == list(range(1, 11))


def _as_url(dsn: str) -> str:
    import pg_server
    return pg_server.as_url(dsn)


def test_parameter_status(pair):
    keys = ("client_encoding", "DateStyle", "integer_datetimes", "standard_conforming_strings",
            "IntervalStyle", "server_encoding")
    status = [{k: conn.info.parameter_status(k) for k in keys} for conn in pair]
    assert status[0] == status[1]
    assert [conn.info.server_version // 10000 for conn in pair] == [15, 15]


def test_jsonb_question_mark_operator_and_placeholders(pair):
    """psql users write jsonb's ``doc ? 'key'``; clients send $n parameters beside it."""
    answers = []
    for conn in pair:
        conn.execute("CREATE TABLE diff_t (id bigint, doc jsonb)")
        conn.execute("""INSERT INTO diff_t VALUES (1, '{"a": 1}'), (2, '["a", "b"]'), (3, '{}')""")
        answers.append((
            conn.execute("SELECT id, doc ? 'a', doc ?| ARRAY['b'] FROM diff_t ORDER BY id")
                .fetchall(),
            conn.execute("SELECT id FROM diff_t WHERE doc ? %s AND id > %s ORDER BY id",
                         ("a", 0)).fetchall()))
    assert answers[0] == answers[1]
    assert answers[0][1] == [(1,), (2,)]


def test_row_description_names_each_columns_table_and_attnum(pair):
    """RowDescription's table oid and column number (what pgjdbc's getTableName and
    isNullable read): a column passed straight from a table names it, anything computed
    (an expression, an aggregate, a set operation) names none, as in PostgreSQL."""
    queries = ["SELECT * FROM diff_t", "SELECT v, id, id + 1 AS x, 3 AS c FROM diff_t "
               "WHERE id > 0 ORDER BY v LIMIT 5", "SELECT a.v, b.id FROM diff_t a "
               "LEFT JOIN diff_t b ON a.id = b.id", "SELECT count(*), v FROM diff_t GROUP BY v",
               "SELECT DISTINCT v FROM diff_t", "SELECT id FROM diff_t UNION SELECT 1"]
    seen = []
    for conn in pair:
        conn.execute("CREATE TABLE diff_t (id bigint PRIMARY KEY, v text)")
        oid = conn.execute("SELECT oid::bigint FROM pg_class WHERE relname = 'diff_t'"
                           ).fetchone()[0]
        out = []
        for sql in queries:
            cur = conn.cursor()
            cur.execute(sql, prepare=True)
            res = cur.pgresult
            out.append([(res.fname(i), "diff_t" if res.ftable(i) == oid else res.ftable(i),
                         res.ftablecol(i)) for i in range(res.nfields)])
        seen.append(out)
        conn.execute("DROP TABLE diff_t")
    assert seen[0] == seen[1]
    assert seen[0][1] == [(b"v", "diff_t", 2), (b"id", "diff_t", 1), (b"x", 0, 0), (b"c", 0, 0)]
