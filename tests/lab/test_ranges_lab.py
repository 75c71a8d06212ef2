"""Range columns in the notebook: results, ``-o`` DataFrames and the HTML grid show
PostgreSQL's text (``[1,5)``, ``empty``), not the ordered bytes ranges are stored as."""

from __future__ import annotations


def test_range_results_read_as_postgresql_text(ip, cell):
    cell("%%sql\nCREATE TABLE stays (id INTEGER, nights daterange, seats int4range);\n"
         "INSERT INTO stays VALUES (1, '[2020-01-01,2020-01-05)', '(1,5]'), (2, NULL, 'empty')")
    out = cell("%sql -o stays_df SELECT id, nights, seats FROM stays ORDER BY seats")
    assert out.value.rows() == [(2, None, "empty"), (1, "[2020-01-01,2020-01-05)", "[2,6)")]
    frame = ip.user_ns["stays_df"]
    assert list(frame["seats"]) == ["empty", "[2,6)"]
    assert "[2020-01-01,2020-01-05)" in cell("%sql SELECT nights FROM stays WHERE id = 1").html()
