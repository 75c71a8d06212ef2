"""COPY FROM STDIN into a table with generated columns: without a column list the client
sends every column but the generated ones, which the server computes (as PostgreSQL)."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")


def test_copy_in_computes_generated_columns(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE gcopy (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) "
                     "STORED)")
        with conn.cursor().copy("COPY gcopy FROM STDIN") as cp:
            cp.write(b"1\n2\n")
        with conn.cursor().copy("COPY gcopy (a) FROM STDIN (FORMAT CSV)") as cp:
            cp.write(b"3\n")
        assert conn.execute("SELECT a, b FROM gcopy ORDER BY a").fetchall() == [
            (1, 2), (2, 4), (3, 6)]
