"""The demo notebooks, executed headless in a real kernel (nbclient), outputs asserted.

Each notebook runs top to bottom in a fresh ``python3`` kernel from this
environment, exactly as ``make demo`` does. Cells are found by their tag
(``metadata.tags``), so editing prose or adding cells does not break the
tests; what a tagged cell must show is asserted on its outputs: the HTML a
front-end renders, the text/plain fallback, and for the branch tree the
widget state nbclient stores in the notebook's metadata.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def execute(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "engine"), os.environ.get("PYTHONPATH")]))
    client.execute(env={**os.environ, "PYTHONPATH": pythonpath})
    nbformat.write(nb, tmp_path / name)  # kept for inspection when a test fails
    return nb


def by_tag(nb: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}"
    return cells[0]


def html(cell: nbformat.NotebookNode) -> str:
    return "\n".join(o["data"].get("text/html", "") for o in cell.outputs if "data" in o)


def text(cell: nbformat.NotebookNode) -> str:
    # stdout is one text even when the kernel sent it in pieces (a display update from a
    # background thread can land between two writes of one print): joined as written
    stream = "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream")
    parts = ([stream] if stream else []) + [
        o["data"].get("text/plain", "") for o in cell.outputs if "data" in o]
    return "\n".join(parts)


def assert_no_errors(nb: nbformat.NotebookNode) -> None:
    errors = [(c.get("id"), o.get("ename"), o.get("evalue")) for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if o["output_type"] == "error"]
    assert errors == []


def widget_models(nb: nbformat.NotebookNode) -> list[dict]:
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return [m["state"] for m in state.get("state", {}).values()]


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    return execute("00-tour.ipynb", tmp_path_factory.mktemp("executed"))


@pytest.fixture(scope="module")
def branching(tmp_path_factory):
    return execute("01-branching.ipynb", tmp_path_factory.mktemp("executed"))


@pytest.fixture(scope="module")
def explain(tmp_path_factory):
    return execute("02-explain.ipynb", tmp_path_factory.mktemp("executed"))


# -- 00-tour ---------------------------------------------------------------------------

def test_tour_runs_without_errors(tour):
    assert_no_errors(tour)


def test_tour_tables_and_queries(tour):
    created = html(by_tag(tour, "create"))
    assert "<table" in created and "6 rows" in created and "TIMESTAMP" in created
    assert "2024-03-01 09:30:00" in created
    aggregate = text(by_tag(tour, "aggregate"))
    assert aggregate.splitlines()[0].split() == ["sym", "|", "trades", "|", "volume", "|", "vwap"]
    assert "(3 rows" in aggregate


def test_tour_strict_type_error_is_shown_with_a_caret(tour):
    shown = html(by_tag(tour, "type-error"))
    assert "42804" in shown and "LINE 1:" in shown and "^" in shown and "rolled back" in shown
    cast = text(by_tag(tour, "cast")).splitlines()
    assert cast[2].strip() == "7"  # header, rule, the count


def test_tour_variables(tour):
    out = text(by_tag(tour, "params"))
    ids = [int(line.split("|")[0]) for line in out.splitlines()[2:] if line.strip() and not line.startswith("(")]
    assert ids == [1, 2, 6]


def test_tour_pandas_in_and_out(tour):
    assert "industrials" in html(by_tag(tour, "join-frame"))
    assert "27" in text(by_tag(tour, "insert-frame"))
    assert "share" in text(by_tag(tour, "pandas-after"))
    assert "df_quotes" in html(by_tag(tour, "persist"))


def test_tour_branches_side_by_side(tour):
    shown = html(by_tag(tour, "side-by-side"))
    assert 'data-branch="main"' in shown and 'data-branch="what_if"' in shown
    assert "rgba(210, 153, 34, 0.28)" in shown  # ACME's notional differs


def test_tour_branch_tree_widget_state_is_saved(tour):
    cell = by_tag(tour, "branches")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)
    buttons = [m for m in widget_models(tour) if m.get("_model_name") == "ButtonModel"]
    assert {"main", "what_if"} <= {b["description"] for b in buttons}
    current = [b["description"] for b in buttons if b.get("button_style") == "success"]
    assert current == ["what_if"]


def test_tour_plan_tree(tour):
    shown = html(by_tag(tour, "explain"))
    assert shown.count("rmdb-plan-card") >= 3
    assert shown.count(">slowest<") == 1 and "actual " in shown and "<details" in shown


# -- 01-branching ------------------------------------------------------------------------

def test_branching_runs_without_errors(branching):
    assert_no_errors(branching)


def test_branching_compares_three_branches(branching):
    shown = html(by_tag(branching, "compare"))
    assert all(f'data-branch="{b}"' in shown for b in ("main", "discount", "cleanup"))


def test_branching_diff_grid_and_dataframe(branching):
    shown = html(by_tag(branching, "diff"))
    assert re.search(r"\+0 added · −0 removed · ~[1-9]\d* changed", shown)
    assert "rmdb-diff-cell" in shown and "→" in shown
    assert re.search(r"removed\s+[1-9]\d*", text(by_tag(branching, "diff-df")))


def test_branching_merge_conflict_and_resolution(branching):
    assert "merged discount into main" in text(by_tag(branching, "merge"))
    conflict = html(by_tag(branching, "conflict"))
    assert "nothing was applied" in conflict and "99.99" in conflict and "rmdb-conflict" in conflict
    assert "merged cleanup into main" in text(by_tag(branching, "resolve"))
    assert "cancelled" not in text(by_tag(branching, "after-merge"))


def test_branching_undo(branching):
    assert "undid" in text(by_tag(branching, "undo"))
    assert "cancelled" in text(by_tag(branching, "after-undo"))


# -- 02-explain -------------------------------------------------------------------------

def test_explain_runs_without_errors(explain):
    assert_no_errors(explain)


def test_explain_estimated_plan(explain):
    shown = html(by_tag(explain, "explain"))
    assert "rmdb-plan-card" in shown and "est " in shown and "actual " not in shown


def test_explain_analyze_plan(explain):
    shown = html(by_tag(explain, "analyze"))
    assert "actual " in shown and shown.count(">slowest<") == 1
    assert "EXPLAIN ANALYZE" in shown and "raw plan" in shown


def test_explain_option_and_side_by_side_plans(explain):
    assert "EXPLAIN ANALYZE" in html(by_tag(explain, "explain-option"))
    shown = html(by_tag(explain, "explain-on"))
    assert 'data-branch="main"' in shown and 'data-branch="bigger"' in shown
    assert shown.count('class="rmdb-plan"') == 2


# -- 03-persist -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def persist_nb(tmp_path_factory):
    return execute("03-persist.ipynb", tmp_path_factory.mktemp("executed"))


def test_persist_runs_without_errors(persist_nb):
    assert_no_errors(persist_nb)


def test_persist_crud_idempotency_and_conflict(persist_nb):
    assert "idempotent replay returns the same entity: True · customers: 2" in text(by_tag(persist_nb, "crud"))
    assert "conflict: version" in text(by_tag(persist_nb, "conflict"))


def test_persist_live_grid_is_a_widget_with_static_html(persist_nb):
    cell = by_tag(persist_nb, "live")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)
    shown = html(cell)
    assert "<table" in shown and "widget-0" in shown and "version" in shown


def test_persist_live_grid_follows_a_background_thread(persist_nb):
    assert "grid statuses now: ['paid', 'shipped']" in text(by_tag(persist_nb, "live-update"))
    # the grid's own widget model (what a browser shows) holds the shipped rows
    grids = [m.get("value", "") for m in widget_models(persist_nb)
             if m.get("_model_name") == "HTMLModel" and "<table" in m.get("value", "")]
    assert any("shipped" in v for v in grids)


def test_persist_snapshot_diff_and_restore(persist_nb):
    assert "{'added': 1, 'removed': 1, 'changed': 2}" in text(by_tag(persist_nb, "diff"))
    assert "'inserted': 1" in text(by_tag(persist_nb, "restore"))


# -- 05-jupysql-users ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jupysql_users(tmp_path_factory):
    return execute("05-jupysql-users.ipynb", tmp_path_factory.mktemp("executed"))


def images(cell: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]


def test_jupysql_users_runs_without_errors(jupysql_users):
    assert_no_errors(jupysql_users)


def test_jupysql_users_connection_string_and_bound_values(jupysql_users):
    assert "sqlite through SQLAlchemy" in text(by_tag(jupysql_users, "connect"))
    out = text(by_tag(jupysql_users, "sqlite-query"))
    assert out.splitlines()[0].split() == ["payment", "|", "trips", "|", "avg_tip"] and "(3 rows" in out
    assert "trips" in text(by_tag(jupysql_users, "sqlite-sqlcmd"))
    assert len(images(by_tag(jupysql_users, "sqlite-plot"))) == 1  # drawn from SQLite's own aggregates


def test_jupysql_users_import_and_sqlcmd(jupysql_users):
    assert "imported trips from taxi as trips (6,000 rows) on branch main" in text(by_tag(jupysql_users, "import"))
    assert "trips | table | 6000" in text(by_tag(jupysql_users, "tables"))
    columns = text(by_tag(jupysql_users, "columns"))
    assert "distance_km | FLOAT" in columns and "id          | INTEGER | false    | NULL    | true" in columns
    profile = html(by_tag(jupysql_users, "profile"))
    assert all(stat in profile for stat in ("distinct", "mean", "std", "top", "freq")) and "rmdb-table" in profile


def test_jupysql_users_explore_is_a_widget_with_pages(jupysql_users):
    cell = by_tag(jupysql_users, "explore")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)
    labels = [m.get("value", "") for m in widget_models(jupysql_users) if m.get("_model_name") == "HTMLModel"]
    assert any("rows 1–8 of 6,000 · page 1 of 750" in v for v in labels)
    buttons = {m.get("description") for m in widget_models(jupysql_users) if m.get("_model_name") == "ButtonModel"}
    assert {"« first", "‹ previous", "next ›", "last »"} <= buttons


def test_jupysql_users_snippets_and_jinja(jupysql_users):
    assert "saved snippet long_trips on branch main" in text(by_tag(jupysql_users, "save"))
    out = text(by_tag(jupysql_users, "use-snippet"))
    assert out.splitlines()[0].split() == ["zone", "|", "payment", "|", "trips", "|", "avg_fare"]


def test_jupysql_users_plots_are_images(jupysql_users):
    for tag in ("histogram", "boxplot", "bar", "pie", "branch-plot"):
        shown = images(by_tag(jupysql_users, tag))
        assert len(shown) == 1 and len(shown[0]) > 5_000, tag
    assert "Figure" in text(by_tag(jupysql_users, "figure"))


def test_jupysql_users_branch_compare(jupysql_users):
    assert "UPDATE · " in text(by_tag(jupysql_users, "fork"))
    shown = html(by_tag(jupysql_users, "compare"))
    assert 'data-branch="main"' in shown and 'data-branch="cash_tips"' in shown


# -- 04-rest ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rest_nb(tmp_path_factory):
    pytest.importorskip("uvicorn")
    pytest.importorskip("httpx")
    return execute("04-rest.ipynb", tmp_path_factory.mktemp("executed"))


def test_rest_runs_without_errors(rest_nb):
    assert_no_errors(rest_nb)


def test_rest_server_started_from_the_notebook(rest_nb):
    shown = text(by_tag(rest_nb, "serve"))
    assert re.search(r"serving default as REST on http://127\.0\.0\.1:\d+/api \(tasks\)", shown), shown
    assert "stopped serving REST for default" in text(by_tag(rest_nb, "stop"))


def test_rest_requests_statuses_and_headers(rest_nb):
    out = text(by_tag(rest_nb, "requests"))
    assert re.search(r"create: 201 ETag \"1\" Location /api/tasks/[0-9a-f-]{36}", out), out
    assert 'patch: 200 ETag "2"' in out
    assert "stale patch: 412 application/problem+json Precondition Failed" in out
    assert 'command finish: 204 ETag "3"' in out
    assert "query worth: 16" in out
    assert "replay: 201 same entity: True · tasks: 3" in out


def test_rest_live_grid_followed_the_requests(rest_nb):
    shown = text(by_tag(rest_nb, "live-update"))
    assert "grid rows: 3 · ship it: points 8 done True version 3" in shown, shown
    # the grid widget's own value, read in the kernel: the redraw is sent from the refresh
    # thread, and nbclient records a comm message only while the cell it is attributed
    # to still runs (one sent between two cells is dropped from the saved widget state)
    assert "grid shows ship it: True" in shown, shown
    cell = by_tag(rest_nb, "live")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)
    grids = [m.get("value", "") for m in widget_models(rest_nb)
             if m.get("_model_name") == "HTMLModel" and "<table" in m.get("value", "")]
    assert any("write the spec" in v for v in grids), grids


def test_rest_openapi_lists_the_command(rest_nb):
    out = text(by_tag(rest_nb, "openapi"))
    assert out.startswith("3.1")
    assert "'/api/tasks/{id}/finish'" in out and "'/api/tasks/{id}/worth'" in out
    assert "Task fields: ['done', 'owner', 'points', 'title']" in out
