"""Output column names PostgreSQL gives expressions written with keywords rather than as
calls (its grammar turns them into calls): checked against PostgreSQL 15 by hand."""
from __future__ import annotations

import rustmemodb


def test_keyword_expressions_are_named_as_postgresql_names_them():
    conn = rustmemodb.connect()
    cur = conn.execute(
        "SELECT (DATE '2024-01-01', DATE '2024-02-01') OVERLAPS (DATE '2024-01-15', "
        "DATE '2024-03-01'), TIMESTAMP '2024-01-01' AT TIME ZONE 'UTC', position('a' IN 'ba'), "
        "1 + 1")
    assert [d[0] for d in cur.description] == ["overlaps", "timezone", "position", "?column?"]
    assert cur.fetchall()[0][0] is True
