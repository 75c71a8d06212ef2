"""The README's first command, ``make lab``, starts a JupyterLab that answers.

Runs the Makefile's own ``lab`` recipe (``make -o venv lab``: the venv step is
skipped because the running interpreter's environment is already installed)
in a subprocess, as whatever user runs the suite, root included, with a
timeout; adds only a port, a token and ``--no-browser`` through ``LAB_ARGS``.
Then asks the server for ``/api/status`` with the token, checks the settings
JupyterLab hands the front-end (``fetchNews`` is ``"false"``, so no news
prompt: JupyterLab turns overrides into schema defaults) and stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "rustmemodb-make-lab-test"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        return json.loads(response.read())


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"make lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            return get_json(url)
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def make_lab(tmp_path):
    port = free_port()
    venv = Path(sys.prefix)
    if not (venv / "bin" / "jupyter").exists():
        pytest.skip(f"no jupyter in {venv}")
    args = f"--no-browser --port={port} --ip=127.0.0.1 --ServerApp.token={TOKEN} --ServerApp.root_dir={ROOT}"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),  # no user choice hides the default
    }
    log = tmp_path / "make-lab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "-o", "venv", "lab", f"VENV={venv}", f"LAB_ARGS={args}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield f"http://127.0.0.1:{port}", proc, log
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # make and the jupyter it started, nothing else
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def test_make_lab_answers_and_has_no_news_prompt(make_lab):
    base, proc, log = make_lab
    status = wait_for(f"{base}/api/status?token={TOKEN}", proc, log)
    assert "started" in status
    notification = get_json(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={TOKEN}")
    # Overrides become the schema's defaults; the front-end's composite value is
    # the default unless the user chose otherwise (the prompt shows only for "none").
    defaults = {name: prop.get("default") for name, prop in notification["schema"]["properties"].items()}
    assert notification["settings"].get("fetchNews", defaults["fetchNews"]) == "false"
    assert notification["settings"].get("checkForUpdates", defaults["checkForUpdates"]) is False
    text = log.read_text()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        assert "--allow-root" in text  # make echoes the command it ran
    assert "Running as root is not recommended" not in text
    assert "--LabApp.news_url=None" in text
