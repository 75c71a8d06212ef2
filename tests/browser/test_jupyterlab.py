"""The tour notebook in a real JupyterLab, driven by Debian's chromium (Playwright).

What a person sees is what is tested: a JupyterLab server is started on a free
port over a temporary copy of ``notebooks/``, chromium opens the tour, runs
all cells from the Run menu, and the rendered page is checked: result tables
and the plan tree are on screen, the branch tree widget is live (clicking a
branch checks it out), and no cell shows an error. Screenshots land in
``tests/browser/artifacts/`` (git-ignored) for a human to look at.

Only Debian's chromium is used (``/usr/bin/chromium``; ``.ci/ensure-chromium``
installs it); the test skips when it is absent, never downloads a browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TOKEN = "rustmemodb-lab-browser-test"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# JupyterLab's own network chatter (news, update checks) is switched off.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    # Start the notebook's kernel without asking (no "Select Kernel" dialog).
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer {url}")


def write_settings(directory: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """A JupyterLab server over a temporary copy of the notebooks: (base url, log path)."""
    tmp = tmp_path_factory.mktemp("lab")
    root_dir = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root_dir, ignore=shutil.ignore_patterns("executed", ".ipynb_checkpoints"))
    write_settings(tmp / "settings")
    # The front end built from this tree (make venv builds it) is the one JupyterLab loads,
    # whatever an installed copy elsewhere holds: JUPYTER_PATH comes first in its search.
    data = tmp / "jupyter-data"
    (data / "labextensions").mkdir(parents=True)
    built = ROOT / "rustmemodb_lab" / "labextension"
    if built.is_dir():
        (data / "labextensions" / "rustmemodb-lab").symlink_to(built, target_is_directory=True)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "engine"), os.environ.get("PYTHONPATH")])),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_PATH": os.pathsep.join(filter(None, [str(data), os.environ.get("JUPYTER_PATH")])),
    }
    log_path = tmp / "jupyter-lab.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root_dir}", "--ServerApp.open_browser=False",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.expose_app_in_browser=True",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_server(f"{base}/api/status?token={TOKEN}", proc)
        except (RuntimeError, TimeoutError) as exc:
            log.flush()
            raise RuntimeError(f"{exc}\n{log_path.read_text()[-3000:]}") from None
        yield base, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(lab_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def menu(page, *labels: str) -> None:
    """Click through JupyterLab's menu bar: menu(page, "Run", "Run All Cells")."""
    page.locator(".lm-MenuBar-itemLabel", has_text=labels[0]).first.click()
    for label in labels[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=label).first.click()


def accept_kernel_dialog(page) -> None:
    """Accept a kernel selection dialog if JupyterLab shows one anyway."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.first.wait_for(timeout=3000)
    except Exception:
        return
    dialog.locator("button", has_text="Select").first.click()


def wait_until_all_ran(page, timeout: float = 180) -> list[str]:
    """Until every code cell has an execution count (no ``[*]`` or empty prompt).

    Prompts are read with ``textContent``: JupyterLab skips rendering cells
    outside the viewport, which empties their ``innerText``.
    """
    deadline = time.monotonic() + timeout
    prompts: list[str] = []
    while time.monotonic() < deadline:
        prompts = [p.strip() for p in page.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()]
        if prompts and all(p.startswith("[") and p[1:-2].isdigit() for p in prompts):
            return prompts
        time.sleep(0.5)
    raise TimeoutError(f"cells still running: {prompts}")


def shoot(page, locator, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


@pytest.fixture(scope="module")
def tour(page, lab_server):
    base, log_path = lab_server
    page.goto(f"{base}/lab/tree/00-tour.ipynb?token={TOKEN}")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    accept_kernel_dialog(page)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
    menu(page, "Run", "Run All Cells")
    accept_kernel_dialog(page)
    try:
        wait_until_all_ran(page)
    except TimeoutError as exc:
        shoot(page, page.locator(".jp-Notebook").first, "tour-timeout.png")
        raise AssertionError(f"run all did not finish: {exc}\nserver log:\n{log_path.read_text()[-3000:]}") from None
    page.wait_for_timeout(1000)
    return page


def test_tour_runs_without_error_outputs(tour):
    errors = tour.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    texts = errors.all_text_contents()
    assert texts == [], "\n---\n".join(texts)


def test_tour_shows_result_tables(tour):
    tables = tour.locator(".jp-OutputArea-output .rmdb-table")
    assert tables.count() >= 8
    first = tables.first
    first.scroll_into_view_if_needed()
    # JupyterLab renders cells lazily as they scroll in: wait for the text, don't read it once.
    expect(first).to_be_visible(timeout=20_000)
    expect(first).to_contain_text("INTEGER", timeout=20_000)
    expect(first).to_contain_text("ACME", timeout=20_000)
    shot = shoot(tour, first, "tour-table.png")
    assert shot.stat().st_size > 10_000


def test_tour_shows_the_strict_type_error(tour):
    box = tour.locator(".rmdb-error").first
    box.scroll_into_view_if_needed()
    expect(box).to_contain_text("42804", timeout=20_000)
    expect(box).to_contain_text("^", timeout=20_000)


def test_tour_shows_branches_side_by_side(tour):
    panels = tour.locator(".rmdb-side-by-side .rmdb-panel")
    assert panels.count() == 2
    shoot(tour, panels.first, "tour-side-by-side.png")


def test_tour_shows_the_plan_tree(tour):
    cards = tour.locator(".rmdb-plan .rmdb-plan-card")
    assert cards.count() >= 3
    cards.first.scroll_into_view_if_needed()
    expect(cards.first).to_be_visible(timeout=20_000)
    plan = tour.locator(".rmdb-plan").first
    expect(plan).to_contain_text("slowest", timeout=20_000)
    assert plan.inner_text().count("slowest") == 1
    raw = tour.locator(".rmdb-plan details").first
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_contain_text("Seq Scan", timeout=20_000)
    shoot(tour, cards.first, "tour-plan.png")


def test_tour_branch_tree_widget_checks_out_on_click(tour):
    tree = tour.locator(".rmdb-branch-tree").first
    tree.scroll_into_view_if_needed()
    buttons = tree.locator("button")
    expect(buttons).to_have_count(2, timeout=20_000)
    expect(tree).to_contain_text("what_if", timeout=20_000)
    assert sorted(t.strip() for t in buttons.all_text_contents()) == ["main", "what_if"]
    main = tree.locator("button", has_text="main")
    assert "mod-success" not in (main.get_attribute("class") or "")
    main.click()
    main = tour.locator(".rmdb-branch-tree").first.locator("button", has_text="main")
    expect(main).to_have_class(re.compile("mod-success"), timeout=20_000)
    shoot(tour, tour.locator(".rmdb-branch-tree").first, "tour-branch-tree.png")


# -- 05-jupysql-users: connection string, %sqlcmd, %sqlplot in a real front-end -----------------

@pytest.fixture(scope="module")
def jupysql_users(page, lab_server):
    base, log_path = lab_server
    nb = page.context.new_page()
    nb.goto(f"{base}/lab/tree/05-jupysql-users.ipynb?token={TOKEN}")
    nb.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    accept_kernel_dialog(nb)
    nb.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
    menu(nb, "Run", "Run All Cells")
    accept_kernel_dialog(nb)
    try:
        wait_until_all_ran(nb, timeout=240)
    except TimeoutError as exc:
        shoot(nb, nb.locator(".jp-Notebook").first, "jupysql-users-timeout.png")
        raise AssertionError(f"run all did not finish: {exc}\nserver log:\n{log_path.read_text()[-3000:]}") from None
    nb.wait_for_timeout(1000)
    yield nb
    nb.close()


def test_jupysql_users_runs_without_error_outputs(jupysql_users):
    errors = jupysql_users.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    texts = errors.all_text_contents()
    assert texts == [], "\n---\n".join(texts)
    assert jupysql_users.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0


def test_no_news_prompt(jupysql_users):
    assert "official Jupyter news" not in jupysql_users.locator("body").inner_text()


def test_jupysql_users_plots_render_as_images(jupysql_users):
    images = jupysql_users.locator(".jp-OutputArea-output img")
    expect(images.first).to_be_attached(timeout=20_000)
    assert images.count() >= 5
    first = images.first
    first.scroll_into_view_if_needed()
    expect(first).to_be_visible(timeout=20_000)
    assert first.evaluate("img => img.naturalWidth") > 300
    shot = shoot(jupysql_users, first, "jupysql-users-histogram.png")
    assert shot.stat().st_size > 10_000


def test_jupysql_users_profile_grid(jupysql_users):
    grid = jupysql_users.locator(".rmdb-table", has_text="distinct").first
    grid.scroll_into_view_if_needed()
    expect(grid).to_contain_text("freq", timeout=20_000)
    shoot(jupysql_users, grid, "jupysql-users-profile.png")


def test_jupysql_users_explore_pages_on_click(jupysql_users):
    explore = jupysql_users.locator(".rmdb-explore").first
    explore.scroll_into_view_if_needed()
    expect(explore).to_contain_text("rows 1–8 of 6,000", timeout=20_000)
    explore.locator("button", has_text="next ›").click()
    expect(explore).to_contain_text("rows 9–16 of 6,000", timeout=20_000)
    assert explore.locator("button", has_text="‹ previous").is_enabled()
    shoot(jupysql_users, explore, "jupysql-users-explore.png")
