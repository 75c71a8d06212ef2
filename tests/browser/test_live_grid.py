"""A live grid in a real JupyterLab redraws itself while the kernel is idle.

The issue's browser proof for persist collections shown as live dataframes: a
small notebook (written by the test next to the copied ``notebooks/``) makes a
collection and shows ``rustmemodb_lab.live(...)``; a second cell starts a
background thread and returns at once. With every cell finished and the kernel
idle, the test takes a "before" screenshot, then releases the thread (it waits
for a file the test creates, so "before" is never a race), which sleeps 1 s and
writes: three new entities and one renamed. The page must then show the new row
count and the changed cell without any cell being run again. Screenshots land in
``tests/browser/artifacts/`` like the other browser tests'.

The JupyterLab server and chromium fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.lab_session import CHROMIUM, open_and_run_all, shoot, wait_until_all_ran

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")

NOTEBOOK = "live-grid-browser.ipynb"
GO_FILE = "live-grid-go"

SETUP = """\
from dataclasses import dataclass
import os, threading, time
import rustmemodb_lab
from rustmemodb.persist import PersistApp

@dataclass
class Order:
    item: str
    qty: int

app = PersistApp.open()
orders = app.collection("orders", Order)
orders.create_many([{"item": f"widget-{i}", "qty": i} for i in range(5)])
grid = rustmemodb_lab.live(orders, page_size=20)
grid"""

WRITER = f"""\
def writer():
    # released by the test once it has the "before" screenshot, then as asked: sleep, write
    deadline = time.monotonic() + 120
    while not os.path.exists({GO_FILE!r}) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    orders.create_many([{{"item": f"late-{{i}}", "qty": 100 + i}} for i in range(3)])
    first = orders.find_first(item="widget-0")
    orders.patch(first._id, {{"item": "changed-by-thread"}})

threading.Thread(target=writer, daemon=True).start()
print("writer started")"""


def _notebook() -> dict:
    def code(source: str) -> dict:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                "source": source.splitlines(keepends=True)}
    return {"cells": [code(SETUP), code(WRITER)],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def live_notebook(page, lab_server):
    root_dir = lab_server[1].parent / "notebooks"
    (root_dir / NOTEBOOK).write_text(json.dumps(_notebook()))
    nb = open_and_run_all(page, lab_server, NOTEBOOK)
    yield nb, root_dir
    nb.close()


def test_live_grid_updates_while_the_kernel_is_idle(live_notebook):
    nb, root_dir = live_notebook
    errors = nb.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.all_text_contents() == []
    expect(nb.locator(".jp-OutputArea-output", has_text="writer started")).to_have_count(1, timeout=20_000)

    grid = nb.locator(".jp-OutputArea-output .rmdb-live table").first
    grid.scroll_into_view_if_needed()
    rows = grid.locator("tbody tr")
    expect(rows).to_have_count(5, timeout=30_000)
    expect(grid).to_contain_text("widget-0")
    assert "changed-by-thread" not in grid.inner_text()
    # the whole widget (table, buttons, status line): its output area
    status = nb.locator(".jp-OutputArea-output").filter(has=nb.locator(".rmdb-live table")).first
    expect(status).to_contain_text("updated", timeout=20_000)
    expect(status).to_contain_text("rows 1–5 of 5", timeout=20_000)
    before = shoot(nb, grid, "live-grid-before.png")
    assert before.stat().st_size > 5_000
    # every cell has finished: the kernel is idle while the thread writes
    expect(nb.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first).to_be_attached(timeout=20_000)
    prompts_before = wait_until_all_ran(nb, timeout=10)

    (root_dir / GO_FILE).write_text("go")      # the kernel's cwd is the notebook's folder
    released = time.monotonic()

    grid = nb.locator(".jp-OutputArea-output .rmdb-live table").first
    expect(grid.locator("tbody tr")).to_have_count(8, timeout=30_000)
    expect(grid).to_contain_text("changed-by-thread", timeout=30_000)
    expect(grid).to_contain_text("late-2", timeout=30_000)
    waited = time.monotonic() - released
    assert waited >= 1.0            # the writer sleeps 1 s first: the update came from it
    expect(status).to_contain_text("rows 1–8 of 8", timeout=20_000)
    # the rows the thread touched are highlighted
    assert grid.locator("tbody tr.rmdb-live-changed").count() >= 1
    nb.wait_for_timeout(300)
    after = shoot(nb, grid, "live-grid-after.png")
    assert after.stat().st_size > 5_000
    # no cell ran again: the same execution counts as before the write
    assert wait_until_all_ran(nb, timeout=10) == prompts_before
    assert errors.all_text_contents() == []
