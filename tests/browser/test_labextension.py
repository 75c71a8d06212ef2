"""The JupyterLab extension (labextension/) in a real JupyterLab, driven by chromium.

A notebook written by the test creates a table ``trips`` and holds a ``%%sql`` cell and a
Python cell with a ``%sql`` line. Checked as a person sees it: the SQL is coloured by
CodeMirror's PostgreSQL dialect (lezer's ``tok-keyword`` class on ``SELECT``), and Tab
after ``SELECT * FROM tr`` in a new ``%%sql`` cell opens JupyterLab's completer listing
``trips`` and ``tracks`` (the kernel-side completer answers the ``complete_request``). Screenshots land
in ``tests/browser/artifacts/``.

The JupyterLab server and chromium fixtures are in ``conftest.py``; the server loads
the extension built from this tree.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.lab_session import CHROMIUM, ROOT, open_and_run_all, shoot

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")

NOTEBOOK = "labextension-browser.ipynb"
CELLS = [
    "%load_ext rustmemodb_lab",
    "%%sql\nCREATE TABLE trips (id INTEGER PRIMARY KEY, city TEXT, km DOUBLE PRECISION);\n"
    "INSERT INTO trips VALUES (1, 'Oslo', 12.5), (2, 'Bergen', 3.0);\n"
    "CREATE TABLE tracks (id INTEGER, name TEXT)",
    "%%sql\nSELECT city, km FROM trips WHERE km > 1 ORDER BY km",
    "total = 1\n%sql SELECT count(*) AS n FROM trips",
]


def _notebook() -> dict:
    def code(source: str) -> dict:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                "source": source.splitlines(keepends=True)}
    return {"cells": [code(c) for c in CELLS],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _extension_ready(nb) -> None:
    """Run All only once the front end holds the kernel: the extension's comm opens then."""
    nb.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                         " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    nb.evaluate("""async () => { const sc = window.jupyterapp.shell.currentWidget.sessionContext;
                                 await sc.ready; await sc.session.kernel.info; }""")


@pytest.fixture(scope="module")
def notebook(page, lab_server):
    assert (ROOT / "rustmemodb_lab" / "labextension" / "package.json").is_file(), \
        "the labextension is not built: run `make venv`"
    (lab_server[1].parent / "notebooks" / NOTEBOOK).write_text(json.dumps(_notebook()))
    nb = open_and_run_all(page, lab_server, NOTEBOOK, before_run=_extension_ready)
    yield nb
    nb.close()


def cell_editor(nb, index: int):
    return nb.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".cm-content")


def test_sql_cell_is_highlighted_as_postgresql(notebook):
    editor = cell_editor(notebook, 2)
    editor.scroll_into_view_if_needed()
    keyword = editor.locator(".tok-keyword", has_text="SELECT")
    expect(keyword.first).to_be_visible(timeout=20_000)
    assert editor.locator(".tok-keyword", has_text="WHERE").count() == 1
    # the header line is a magic, not SQL
    expect(editor.locator(".rmdb-sql-magic")).to_have_text("%%sql")
    # JupyterLab's theme colours the keyword (its own highlight class sits beside tok-*)
    colour = keyword.first.evaluate("el => getComputedStyle(el).color")
    plain = editor.locator(".cm-line").nth(1).evaluate("el => getComputedStyle(el).color")
    assert colour != plain
    shoot(notebook, editor, "labextension-sql-highlight.png")


def test_sql_line_magic_is_highlighted_in_a_python_cell(notebook):
    editor = cell_editor(notebook, 3)
    editor.scroll_into_view_if_needed()
    expect(editor.locator(".rmdb-sql.tok-keyword", has_text="SELECT")).to_have_count(1, timeout=20_000)
    expect(editor.locator(".rmdb-sql", has_text="count")).not_to_have_count(0)
    # the Python line above is not SQL
    assert editor.locator(".cm-line").first.locator(".rmdb-sql").count() == 0


def test_tab_completes_a_table_name_in_a_sql_cell(notebook):
    last = notebook.locator(".jp-Notebook .jp-CodeCell").last
    last.click()
    notebook.keyboard.press("Escape")
    notebook.keyboard.press("b")                      # a new cell below
    editor = notebook.locator(".jp-Notebook .jp-CodeCell").last.locator(".cm-content")
    editor.click()
    notebook.keyboard.type("%%sql\nSELECT * FROM tr")
    notebook.keyboard.press("Tab")
    completer = notebook.locator(".jp-Completer")
    expect(completer).to_be_visible(timeout=20_000)
    # two tables start with "tr" (trips, tracks), so the list opens instead of inserting one
    expect(completer.locator(".jp-Completer-item", has_text="tracks")).to_have_count(1, timeout=10_000)
    expect(completer.locator(".jp-Completer-item", has_text="trips")).to_have_count(1, timeout=10_000)
    shoot(notebook, completer, "labextension-completion.png")


def run_new_cell(nb, source: str) -> None:
    """Add a cell at the end, type ``source`` into it and run it; wait until it ran."""
    nb.keyboard.press("Escape")
    nb.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputArea-prompt").click()
    nb.keyboard.press("Escape")
    nb.keyboard.press("b")
    cell = nb.locator(".jp-Notebook .jp-CodeCell").last
    index = nb.locator(".jp-Notebook .jp-CodeCell").count() - 1
    editor = cell.locator(".cm-content")
    editor.click()
    nb.keyboard.type(source)
    nb.keyboard.press("Escape")          # close a completer a keystroke may have opened
    nb.keyboard.press("Shift+Enter")
    # Shift+Enter on the last cell adds an empty one below: wait on the typed one
    prompt = nb.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".jp-InputArea-prompt")
    expect(prompt).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=60_000)


def open_sidebar(nb):
    tab = nb.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='rustmemodb-sidebar']")
    expect(tab).to_have_count(1, timeout=20_000)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    sidebar = nb.locator("#rustmemodb-sidebar")
    expect(sidebar).to_be_visible(timeout=10_000)
    return sidebar


def test_sidebar_lists_tables_and_branches_and_checks_out(notebook):
    nb = notebook
    nb.keyboard.press("Escape")
    sidebar = open_sidebar(nb)
    trips = sidebar.locator(".rmdb-sb-table[data-table='trips']")
    expect(trips).to_contain_text("2 rows", timeout=20_000)
    trips.locator("summary").click()
    expect(trips.locator(".rmdb-sb-column")).to_have_count(3)
    expect(trips.locator(".rmdb-sb-column").nth(2)).to_contain_text("km")
    expect(sidebar.locator(".rmdb-sb-table[data-table='tracks']")).to_contain_text("0 rows")
    expect(sidebar.locator(".rmdb-sb-index")).to_contain_text(["trips_pkey"])
    expect(sidebar.locator(".rmdb-sb-current")).to_have_attribute("data-branch", "main")

    # a cell that forks and writes: the kernel pushes a snapshot after it
    run_new_cell(nb, "%sql --fork what_if\n%sql INSERT INTO trips VALUES (3, 'Turku', 7.0)")
    what_if = sidebar.locator(".rmdb-sb-branch[data-branch='what_if']")
    expect(what_if).to_have_count(1, timeout=20_000)
    expect(trips).to_contain_text("3 rows", timeout=20_000)
    assert "rmdb-sb-current" not in (what_if.get_attribute("class") or "")

    what_if.locator(".rmdb-sb-checkout").click()
    expect(sidebar.locator(".rmdb-sb-current")).to_have_attribute("data-branch", "what_if", timeout=20_000)
    # what_if was forked before the insert: its trips has 2 rows
    expect(sidebar.locator(".rmdb-sb-table[data-table='trips']")).to_contain_text("2 rows", timeout=20_000)
    shoot(nb, sidebar, "labextension-sidebar.png")

    # the kernel agrees: the branch tree widget marks what_if as current
    run_new_cell(nb, "%sql --branches")
    tree = nb.locator(".rmdb-branch-tree").last
    expect(tree.locator("button", has_text="what_if")).to_have_class(re.compile("mod-success"), timeout=20_000)

    # diff main -> what_if from the sidebar
    sidebar.locator(".rmdb-sb-diff-a").select_option("main")
    sidebar.locator(".rmdb-sb-diff-b").select_option("what_if")
    sidebar.locator(".rmdb-sb-diff-run").click()
    expect(sidebar.locator(".rmdb-sb-diff-result")).to_contain_text("trips", timeout=20_000)
    shoot(nb, sidebar, "labextension-sidebar-diff.png")


def test_result_grid_pages_a_million_rows_from_the_kernel(notebook):
    nb = notebook
    run_new_cell(nb, "%%sql\nCREATE TABLE million AS SELECT g AS id, g % 7 AS k FROM generate_series(1, 1000000) AS t(g);\n"
                     "SELECT * FROM million")
    grid = nb.locator(".jp-OutputArea-output .rmdb-grid").last
    grid.scroll_into_view_if_needed()
    expect(grid.locator(".rmdb-grid-footer")).to_contain_text("1,000,000 rows", timeout=30_000)
    expect(grid.locator(".rmdb-grid-row[data-row='0'] .rmdb-grid-cell").first).to_have_text("1")
    # the output carries only the first page; scrolling far asks the kernel for more
    scroller = grid.locator(".rmdb-grid-scroll")
    scroller.evaluate("el => { el.scrollTop = 500000 * 24; }")
    row = grid.locator(".rmdb-grid-row[data-row='500000'] .rmdb-grid-cell").first
    expect(row).to_have_text("500001", timeout=20_000)
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(grid.locator(".rmdb-grid-row[data-row='999999'] .rmdb-grid-cell").first).to_have_text("1000000", timeout=20_000)
    expect(grid.locator(".rmdb-grid-footer")).to_contain_text("–1,000,000")
    shoot(nb, grid, "labextension-grid-scrolled.png")

    # a click on the header sorts (SQL in the kernel): ascending, then descending
    header = grid.locator(".rmdb-grid-col[data-column='id']")
    header.click()
    header.click()
    expect(header).to_have_class(re.compile("rmdb-grid-desc"))
    expect(grid.locator(".rmdb-grid-row[data-row='0'] .rmdb-grid-cell").first).to_have_text("1000000", timeout=20_000)
    # a filter on k narrows the rows, the footer says from how many
    grid.locator(".rmdb-grid-filter[data-column='k']").fill("3")
    grid.locator(".rmdb-grid-filter[data-column='k']").press("Enter")
    expect(grid.locator(".rmdb-grid-footer")).to_contain_text("142,857 rows (filtered from 1,000,000)", timeout=20_000)
    expect(grid.locator(".rmdb-grid-row[data-row='0'] .rmdb-grid-cell").nth(1)).to_have_text("3")
    shoot(nb, grid, "labextension-grid-sorted-filtered.png")


def test_plan_tree_renders_natively(notebook):
    nb = notebook
    run_new_cell(nb, "%%sql --explain\nSELECT k, count(*) AS n FROM million WHERE id > 10 GROUP BY k ORDER BY k")
    plan = nb.locator(".rmdb-plan-native").last
    plan.scroll_into_view_if_needed()
    cards = plan.locator(".rmdb-plan-card")
    expect(cards.first).to_be_visible(timeout=20_000)
    assert cards.count() >= 3
    assert plan.locator(".rmdb-plan-badge", has_text="slowest").count() == 1
    expect(plan).to_contain_text("actual")
    # a click folds a subtree
    first = plan.locator(".rmdb-plan-foldable").first
    children = plan.locator(".rmdb-plan-children").first
    expect(children).to_be_visible()
    first.click()
    expect(children).to_be_hidden()
    first.click()
    expect(children).to_be_visible()
    plan.locator("summary", has_text="raw plan").click()
    expect(plan.locator(".rmdb-plan-raw")).to_contain_text("rows=")
    shoot(nb, plan, "labextension-plan.png")


def test_diff_grid_renders_natively(notebook):
    nb = notebook
    run_new_cell(nb, "%sql --diff main what_if trips")
    diff = nb.locator(".rmdb-diff-grid").last
    diff.scroll_into_view_if_needed()
    expect(diff).to_contain_text("diff main → what_if", timeout=20_000)
    table = diff.locator(".rmdb-diff-table[data-table='trips']")
    expect(table.locator(".rmdb-diff-toggle.rmdb-diff-removed")).to_have_text("−1 removed")
    removed = table.locator("tr.rmdb-diff-removed")
    expect(removed).to_have_count(1)
    expect(removed).to_contain_text("Turku")
    table.locator(".rmdb-diff-toggle.rmdb-diff-removed").click()
    expect(removed).to_be_hidden()
    shoot(nb, diff, "labextension-diff.png")
