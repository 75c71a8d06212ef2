"""Schemas in the notebook: %%sql over qualified tables, the sidebar's snapshot naming
them as SQL does (with their schema), completion after ``schema.``, and a fork/diff of a
schema's table."""
from __future__ import annotations

from IPython.core.completer import provisionalcompleter

from rustmemodb_lab.catalog_snapshot import snapshot


def test_schema_tables_in_cells_sidebar_and_completion(ip, cell, session):
    cell("%%sql\n"
         "CREATE SCHEMA IF NOT EXISTS staging;\n"
         "CREATE TABLE staging.events (id INTEGER PRIMARY KEY, kind TEXT);\n"
         "CREATE TABLE events (id INTEGER PRIMARY KEY);\n"
         "INSERT INTO staging.events VALUES (1, 'click'), (2, 'view')")
    out = cell("%sql SELECT kind FROM staging.events ORDER BY id")
    assert out.value.rows() == [("click",), ("view",)]
    snap = snapshot(session)
    assert snap["schemas"] == ["public", "staging"]
    assert [(t["name"], t["schema"]) for t in snap["tables"]] == \
        [("events", "public"), ("staging.events", "staging")]
    with provisionalcompleter():
        got = [c.text for c in ip.Completer.completions("%%sql\nSELECT * FROM staging.ev",
                                                        len("%%sql\nSELECT * FROM staging.ev"))]
    assert "events" in got


def test_fork_and_diff_of_a_schema_table(cell):
    cell("%%sql\nCREATE SCHEMA s;\nCREATE TABLE s.t (id INTEGER PRIMARY KEY, v TEXT);\n"
         "INSERT INTO s.t VALUES (1, 'a')")
    cell("%sql --fork what_if")
    cell("%sql UPDATE s.t SET v = 'b' WHERE id = 1")
    out = cell("%sql --diff main what_if s.t")
    assert "s.t: +0 added · −0 removed · ~1 changed" in str(out.value)
