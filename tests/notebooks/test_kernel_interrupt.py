"""A kernel interrupt (what JupyterLab's stop button sends) cancels a running %sql.

The kernel gets SIGINT while the engine runs a long statement; the cell must
end promptly with the SQL cancel error (SQLSTATE 57014), the open
transaction must be rolled back, and the kernel must stay usable.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
%load_ext rustmemodb_lab
import numpy as np, pandas as pd
big = pd.DataFrame({"x": np.arange(60_000)})
%sql CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)
%sql INSERT INTO acct VALUES (1, 100)
"""
SLOW = """%%sql
BEGIN;
UPDATE acct SET bal = 0;
SELECT count(*) FROM big a JOIN big b ON a.x < b.x - 1000000000
"""


@pytest.fixture
def kernel():
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "engine"), os.environ.get("PYTHONPATH")]))
    km, kc = start_new_kernel(kernel_name="python3", env={**os.environ, "PYTHONPATH": pythonpath})
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run(kc, code: str, timeout: float = 60) -> tuple[dict, list[dict]]:
    """Execute ``code``; return the reply content and the iopub messages of the cell."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append(msg)
    return shell_reply(kc, msg_id, timeout)["content"], outputs


def shell_reply(kc, msg_id: str, timeout: float = 60) -> dict:
    """The execute_reply of ``msg_id`` (skipping replies of earlier, interrupted cells)."""
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def test_kernel_interrupt_cancels_the_statement_and_rolls_back(kernel):
    km, kc = kernel
    reply, _ = run(kc, SETUP)
    assert reply["status"] == "ok"
    msg_id = kc.execute(SLOW)
    time.sleep(2.0)  # let the join start
    started = time.monotonic()
    km.interrupt_kernel()
    error = None
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            error = msg["content"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert time.monotonic() - started < 10
    assert error is not None, "the cell did not fail"
    text = "\n".join(error["traceback"])
    assert "57014" in text and "canceling statement due to user request" in text
    assert "statement 3 of 3" in text
    reply, outputs = run(kc, "%sql SELECT bal FROM acct")
    assert reply["status"] == "ok"
    shown = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
    assert shown and " 100" in shown[0]
