"""--save / --with snippets: saved queries used like tables, per branch, expanded as CTEs."""

from __future__ import annotations

import pytest

from rustmemodb_lab.snippets import SnippetStore, with_clause


def test_save_runs_and_stores_then_a_query_uses_it_by_name(ip, cell, trades):
    out = cell("%%sql --save big\nSELECT * FROM trades WHERE qty >= 50")
    assert out.value.rows()[0][0] == 1  # it ran: the rows are the cell's value
    assert any("saved snippet big on branch main" in o.get("text/plain", "") for o in out.displayed)
    assert cell("%sql SELECT count(*) FROM big").value.rows() == [(3,)]
    assert cell("%sql SELECT DISTINCT big.sym FROM big JOIN trades USING (id) WHERE trades.px > 10").value.rows() == [("ACME",)]


def test_no_execute_only_saves(cell, trades):
    out = cell("%%sql --save cheap --no-execute\nSELECT * FROM trades WHERE px < 11")
    assert "saved snippet cheap" in repr(out.value)
    assert cell("%sql --with cheap SELECT count(*) FROM trades").value.rows() == [(5,)]
    assert cell("%sql SELECT count(*) FROM cheap").value.rows() == [(2,)]


def test_snippets_use_snippets_and_bind_values_when_used(ip, cell, trades):
    ip.user_ns["min_qty"] = 30
    cell("%%sql --save busy --no-execute\nSELECT * FROM trades WHERE qty >= :min_qty")
    cell("%%sql --save busy_acme --no-execute\nSELECT * FROM busy WHERE sym = 'ACME'")
    assert cell("%sql SELECT count(*) FROM busy_acme").value.rows() == [(2,)]
    ip.user_ns["min_qty"] = 60
    assert cell("%sql SELECT count(*) FROM busy_acme").value.rows() == [(1,)]


def test_a_query_with_its_own_with_clause(cell, trades):
    cell("%%sql --save acme --no-execute\nSELECT * FROM trades WHERE sym = 'ACME'")
    out = cell("%%sql\nWITH x AS (SELECT id FROM acme)\nSELECT count(*) FROM x")
    assert out.value.rows() == [(2,)]


def test_snippets_are_per_branch_and_forks_inherit_them(cell, trades):
    cell("%%sql --save acme --no-execute\nSELECT * FROM trades WHERE sym = 'ACME'")
    cell("%sql --fork exp --checkout exp")
    assert cell("%sql SELECT count(*) FROM acme").value.rows() == [(2,)]
    cell("%%sql --save globex --no-execute\nSELECT * FROM trades WHERE sym = 'GLOBEX'")
    cell("%sql --checkout main")
    assert cell("%sql SELECT * FROM globex", fails=True).error.sqlstate == "42P01"
    err = cell("%sql --with globex SELECT 1", fails=True).error
    assert "no snippet of that name on this branch" in str(err) and "acme" in str(err)


def test_on_branches_expands_each_branch_s_snippets(cell, trades):
    cell("%%sql --save sel --no-execute\nSELECT * FROM trades WHERE sym = 'ACME'")
    cell("%sql --fork b --checkout b")
    cell("%%sql --save sel --no-execute\nSELECT * FROM trades WHERE sym = 'GLOBEX'")
    out = cell("%%sql --on main,b\nSELECT sum(qty) AS q FROM sel")
    panels = dict(out.value.panels)
    assert panels["main"].rows() == [(150,)] and panels["b"].rows() == [(40,)]


def test_a_real_table_wins_over_a_snippet_of_the_same_name(cell, trades):
    cell("%%sql --save trades2 --no-execute\nSELECT 1 AS one")
    cell("%sql CREATE TABLE trades2 AS SELECT * FROM trades")
    assert cell("%sql SELECT count(*) FROM trades2").value.rows() == [(5,)]


def test_errors_inside_the_user_text_keep_their_caret(cell, trades):
    cell("%%sql --save acme --no-execute\nSELECT * FROM trades WHERE sym = 'ACME'")
    err = cell("%sql SELECT nope FROM acme", fails=True).error
    assert err.cell_text[err.cell_position:].startswith("nope")


def test_sqlcmd_snippets_lists_and_deletes(cell, trades):
    cell("%%sql --save acme --no-execute\nSELECT * FROM trades WHERE sym = 'ACME'")
    listing = cell("%sqlcmd snippets").value.to_pandas()
    assert listing["snippet"].tolist() == ["acme"] and "ACME" in listing["query"][0]
    tables = cell("%sqlcmd tables").value.to_pandas()
    assert tables.loc[tables["name"] == "acme", "kind"].tolist() == ["snippet"]
    assert cell("%sqlcmd snippets -d acme").value.to_pandas().empty


@pytest.mark.parametrize(
    ("line", "cell_text", "message"),
    [("--save s", "SELECT 1; SELECT 2", "exactly one query"),
     ("--save s", "CREATE TABLE z (a INTEGER)", "only a query"),
     ("--save 'a b'", "SELECT 1", "must be an SQL identifier"),
     ("--no-execute", "SELECT 1", "--no-execute goes with --save")],
)
def test_save_usage_errors(cell, line, cell_text, message):
    assert message in str(cell(f"%%sql {line}\n{cell_text}", fails=True).error)


def test_cycle_is_reported():
    store = SnippetStore()
    key = ("c", "main")
    store.save(key, "a", "SELECT * FROM b")
    store.save(key, "b", "SELECT * FROM a")
    with pytest.raises(Exception, match="cycle"):
        store.needed(key, "SELECT * FROM a", [], set())


def test_with_clause_merges_into_an_existing_with_and_maps_positions():
    store = SnippetStore()
    key = ("c", "main")
    store.save(key, "s", "SELECT 1 AS x")
    snippets = store.needed(key, "WITH RECURSIVE r AS (SELECT 1) SELECT * FROM s, r", [], set())
    text, mapping = with_clause(snippets, "WITH RECURSIVE r AS (SELECT 1) SELECT * FROM s, r")
    assert text.startswith("WITH RECURSIVE s AS (SELECT 1 AS x),")
    assert text.endswith("r AS (SELECT 1) SELECT * FROM s, r")
    original = "WITH RECURSIVE r AS (SELECT 1) SELECT * FROM s, r"
    assert original[mapping.to_original(text.index("FROM s")):].startswith("FROM s")
