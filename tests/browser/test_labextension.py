"""The JupyterLab extension (labextension/) in a real JupyterLab, driven by chromium.

A notebook written by the test creates a table ``trips`` and holds a ``%%sql`` cell and a
Python cell with a ``%sql`` line. Checked as a person sees it: the SQL is coloured by
CodeMirror's PostgreSQL dialect (lezer's ``tok-keyword`` class on ``SELECT``), and Tab
after ``SELECT * FROM tr`` in a new ``%%sql`` cell opens JupyterLab's completer listing
``trips`` and ``tracks`` (the kernel-side completer answers the ``complete_request``). Screenshots land
in ``tests/browser/artifacts/``.

The JupyterLab server and chromium fixtures are the ones of ``test_jupyterlab``; its
server loads the extension built from this tree.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.test_jupyterlab import (  # noqa: F401 - fixtures are used by name
    CHROMIUM,
    ROOT,
    TOKEN,
    accept_kernel_dialog,
    lab_server,
    menu,
    page,
    shoot,
    wait_until_all_ran,
)

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


@pytest.fixture(scope="module")
def notebook(page, lab_server):  # noqa: F811 - pytest fixtures by name
    base, log_path = lab_server
    assert (ROOT / "rustmemodb_lab" / "labextension" / "package.json").is_file(), \
        "the labextension is not built: run `make venv`"
    root_dir = log_path.parent / "notebooks"
    (root_dir / NOTEBOOK).write_text(json.dumps(_notebook()))
    nb = page.context.new_page()
    console: list[str] = []
    nb.on("console", lambda msg: console.append(msg.text))
    nb.goto(f"{base}/lab/tree/{NOTEBOOK}?token={TOKEN}")
    nb.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    accept_kernel_dialog(nb)
    nb.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                         " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    nb.evaluate("""async () => { const sc = window.jupyterapp.shell.currentWidget.sessionContext;
                                 await sc.ready; await sc.session.kernel.info; }""")
    menu(nb, "Run", "Run All Cells")
    accept_kernel_dialog(nb)
    try:
        wait_until_all_ran(nb, timeout=180)
    except TimeoutError as exc:
        shoot(nb, nb.locator(".jp-Notebook").first, "labextension-timeout.png")
        raise AssertionError(f"run all did not finish: {exc}\nserver log:\n{log_path.read_text()[-3000:]}") from None
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
