"""What every browser test shares: a JupyterLab over a copy of ``notebooks/`` and chromium.

The fixtures ``lab_server`` and ``page`` live in ``conftest.py`` (one server and one
browser per test module); the helpers here drive JupyterLab as a person does: the
menu bar, the kernel dialog, "Run All" until every prompt has a number, screenshots
into ``tests/browser/artifacts/`` (git-ignored) for a human to look at.

Only Debian's chromium is used (``/usr/bin/chromium``; ``.ci/ensure-chromium``
installs it); a module skips when it is absent, never downloads a browser.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

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




def open_and_run_all(page, lab_server, notebook: str, *, timeout: float = 180, before_run=None):
    """Open ``notebook`` in a new tab, run all its cells, and return the tab.

    ``before_run(tab)`` runs once the kernel is up, before "Run All" (to wait for a
    front-end extension, say). On a timeout the tab is photographed and the server's
    log is in the failure message.
    """
    base, log_path = lab_server
    tab = page.context.new_page()
    tab.goto(f"{base}/lab/tree/{notebook}?token={TOKEN}")
    tab.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
    accept_kernel_dialog(tab)
    tab.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
    if before_run is not None:
        before_run(tab)
    menu(tab, "Run", "Run All Cells")
    accept_kernel_dialog(tab)
    try:
        wait_until_all_ran(tab, timeout=timeout)
    except TimeoutError as exc:
        shoot(tab, tab.locator(".jp-Notebook").first, f"{Path(notebook).stem}-timeout.png")
        raise AssertionError(f"run all did not finish: {exc}\nserver log:\n{log_path.read_text()[-3000:]}") from None
    return tab
