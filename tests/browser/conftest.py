"""Fixtures of the browser tests: one JupyterLab server and one chromium per test module.

The helpers that drive them are in ``lab_session.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.browser.lab_session import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    TOKEN,
    free_port,
    wait_for_server,
    write_settings,
)


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
