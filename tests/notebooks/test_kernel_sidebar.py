"""The sidebar's comm in a real kernel: snapshots pushed after cells, actions answered.

A ``jupyter_client`` plays the front end: it sees the comm ``%load_ext`` opens, the
snapshot pushed after a cell and after a commit from a background thread, and opens
its own comm (as a reloaded page does) to ask for a snapshot and run actions (fork,
checkout, diff, a failing drop), checking the replies and that the kernel's state
follows (``%sql --branches`` text, the next snapshot).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[2]
TARGET = "rustmemodb-lab"


@pytest.fixture(scope="module")
def kernel():
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "engine"), os.environ.get("PYTHONPATH")]))
    km, client = start_new_kernel(kernel_name="python3", env={**os.environ, "PYTHONPATH": pythonpath})
    try:
        yield client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def run(kc, code: str) -> list[dict]:
    """Execute ``code``; every iopub message of it (comm messages included)."""
    seen: list[dict] = []
    reply = kc.execute_interactive(code, timeout=120, output_hook=seen.append)
    assert reply["content"]["status"] == "ok", reply["content"]
    return seen


def comm_data(messages: list[dict], kind: str) -> list[dict]:
    return [m["content"]["data"] for m in messages if m["msg_type"] == kind]


def request(kc, comm_id: str, data: dict, opening: bool = False) -> dict:
    """Send ``data`` on our comm (opening it first if asked); the kernel's reply to it."""
    content = {"comm_id": comm_id, "data": data}
    if opening:
        content["target_name"] = TARGET
    msg = kc.session.msg("comm_open" if opening else "comm_msg", content)
    kc.shell_channel.send(msg)
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id \
                and m["content"]["data"].get("request") == data["request"]:
            return m["content"]["data"]


def test_load_ext_opens_a_comm_and_cells_push_snapshots(kernel):
    opened = [m for m in run(kernel, "%load_ext rustmemodb_lab") if m["msg_type"] == "comm_open"]
    assert [m["content"]["target_name"] for m in opened] == [TARGET]
    pushed = comm_data(run(kernel, "%sql CREATE TABLE trips (id INTEGER PRIMARY KEY, city TEXT)"), "comm_msg")
    snap = pushed[-1]
    assert snap["type"] == "snapshot" and snap["branch"] == "main"
    assert [(t["name"], t["rows"]) for t in snap["tables"]] == [("trips", 0)]
    assert snap["tables"][0]["columns"][0] == {"name": "id", "type": "INTEGER", "not_null": True, "key": True}
    assert [i["name"] for i in snap["indexes"]] == ["trips_pkey"]


def test_a_commit_from_a_thread_pushes_a_snapshot(kernel):
    run(kernel, "import threading, time\n"
                "conn = get_ipython()._rustmemodb_lab_session.registry.active.conn\n"
                "def later():\n"
                "    time.sleep(0.5)\n"
                "    conn.cursor().execute(\"INSERT INTO trips VALUES (1, 'Oslo'), (2, 'Rome')\")\n"
                "threading.Thread(target=later).start()")
    while True:
        m = kernel.get_iopub_msg(timeout=30)
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("type") == "snapshot":
            rows = {t["name"]: t["rows"] for t in m["content"]["data"]["tables"]}
            if rows.get("trips") == 2:
                break


def test_actions_from_a_comm_the_front_end_opens(kernel):
    comm_id = uuid.uuid4().hex
    first = request(kernel, comm_id, {"type": "snapshot", "request": 1}, opening=True)
    assert first["ok"] and first["snapshot"]["branch"] == "main"

    forked = request(kernel, comm_id, {"type": "action", "request": 2, "action": "fork", "name": "what_if"})
    assert forked["ok"], forked
    assert "forked what_if from main" in forked["text"]
    checkout = request(kernel, comm_id, {"type": "action", "request": 3, "action": "checkout", "branch": "what_if"})
    assert checkout["ok"], checkout
    snap = request(kernel, comm_id, {"type": "snapshot", "request": 4})["snapshot"]
    assert [(b["name"], b["current"], b["depth"]) for b in snap["branches"]] == [("main", False, 0), ("what_if", True, 1)]
    out = run(kernel, "%sql DELETE FROM trips WHERE id = 1\nprint(get_ipython()._rustmemodb_lab_session.registry.current)")
    assert [m["content"]["text"] for m in out if m["msg_type"] == "stream"] == ["what_if\n"]

    diff = request(kernel, comm_id, {"type": "action", "request": 5, "action": "diff", "branch": "main", "other": "what_if"})
    assert diff["ok"], diff
    assert "trips" in diff["html"] and "removed" in diff["html"]

    refused = request(kernel, comm_id, {"type": "action", "request": 6, "action": "drop", "branch": "what_if"})
    assert refused["ok"] is False
    assert "cannot drop the current branch" in refused["error"]
    bad = request(kernel, comm_id, {"type": "nonsense", "request": 7})
    assert bad["ok"] is False and "unknown sidebar request" in bad["error"]
