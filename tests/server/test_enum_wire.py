"""Enum types over the wire, compared with PostgreSQL 15: values order by label position
in ORDER BY, comparisons with bound parameters and min/max; ALTER TYPE ... RENAME VALUE
relabels the rows; DROP TYPE ... CASCADE drops the columns with PostgreSQL's notice;
text and binary result formats carry the labels (sql/bind/enum_order.py)."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")

SCRIPT = [
    ("CREATE TYPE ew_mood AS ENUM ('sad', 'ok', 'happy')", None),
    ("CREATE TABLE ew_p (id INTEGER PRIMARY KEY, m ew_mood, note TEXT)", None),
    ("INSERT INTO ew_p VALUES (1, 'happy', 'a'), (2, 'sad', 'b'), (3, 'ok', 'c'), "
     "(4, NULL, 'd')", None),
    ("SELECT id, m FROM ew_p ORDER BY m", None),
    ("SELECT id, m FROM ew_p ORDER BY m DESC NULLS LAST", None),
    ("SELECT id FROM ew_p WHERE m > %s ORDER BY id", ("sad",)),
    ("SELECT id FROM ew_p WHERE m BETWEEN %s AND %s ORDER BY id", ("sad", "ok")),
    ("SELECT min(m), max(m) FROM ew_p", None),
    ("ALTER TYPE ew_mood ADD VALUE 'meh' BEFORE 'sad'", None),
    ("INSERT INTO ew_p VALUES (5, 'meh', 'e')", None),
    ("SELECT id, m FROM ew_p ORDER BY m", None),
    ("ALTER TYPE ew_mood RENAME VALUE 'ok' TO 'fine'", None),
    ("SELECT id, m FROM ew_p WHERE m >= 'fine' ORDER BY m", None),
    ("SELECT enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
     "WHERE t.typname = 'ew_mood' ORDER BY enumsortorder", None),
    ("DROP TYPE ew_mood CASCADE", None),
    ("SELECT * FROM ew_p ORDER BY id", None),
    ("DROP TABLE ew_p", None),
]


def _run(dsn: str) -> tuple[list, list]:
    results, notices = [], []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: notices.append((d.severity, d.sqlstate,
                                                          d.message_primary)))
        for sql, params in SCRIPT:
            cur = conn.execute(sql, params)
            results.append(cur.fetchall() if cur.description else cur.statusmessage)
    return results, notices


def test_enum_statements_answer_as_postgresql(dsn, pg_dsn):
    ours, ours_notices = _run(dsn)
    theirs, their_notices = _run(pg_dsn)
    assert ours == theirs
    assert ours_notices == their_notices == [
        ("NOTICE", "00000", "drop cascades to column m of table ew_p")]
    assert ours[3] == [(2, "sad"), (3, "ok"), (1, "happy"), (4, None)]


@pytest.mark.parametrize("binary", [False, True])
def test_enum_labels_in_both_formats(dsn, binary):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TYPE ew_level AS ENUM ('low', 'high')")
        conn.execute("CREATE TABLE ew_l (id INTEGER, v ew_level)")
        try:
            cur = conn.cursor(binary=binary)
            cur.execute("INSERT INTO ew_l VALUES (%s, %s), (%s, %s)", (1, "high", 2, "low"))
            cur.execute("SELECT id, v FROM ew_l WHERE v < %s OR v = %s ORDER BY v",
                        ("high", "high"))
            assert cur.fetchall() == [(2, "low"), (1, "high")]
            with pytest.raises(psycopg.errors.InvalidTextRepresentation):
                cur.execute("SELECT id FROM ew_l WHERE v > %s", ("medium",))
        finally:
            conn.execute("DROP TABLE ew_l")
            conn.execute("DROP TYPE ew_level")
