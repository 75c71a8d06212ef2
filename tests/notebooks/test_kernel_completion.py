"""Completion in a real kernel: the ``complete_request`` every front end sends.

JupyterLab, Notebook 7 and VS Code all ask the kernel over the Jupyter
protocol; nothing else runs (no language server). The replies must list the
SQL names with the cursor span the front end replaces.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
%load_ext rustmemodb_lab
%sql CREATE TABLE trades (id INTEGER PRIMARY KEY, sym TEXT, px FLOAT)
%sql --fork what_if
"""


@pytest.fixture(scope="module")
def kc():
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "engine"), os.environ.get("PYTHONPATH")]))
    km, client = start_new_kernel(kernel_name="python3", env={**os.environ, "PYTHONPATH": pythonpath})
    try:
        reply = client.execute_interactive(SETUP, timeout=120)
        assert reply["content"]["status"] == "ok"
        yield client
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def complete(kc, code: str, cursor: int | None = None) -> dict:
    """The ``complete_reply`` content for ``code`` with the cursor at ``cursor`` (default: the end)."""
    msg_id = kc.complete(code, len(code) if cursor is None else cursor)
    while True:
        msg = kc.get_shell_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id:
            assert msg["content"]["status"] == "ok"
            return msg["content"]


def test_table_names_in_a_sql_cell(kc):
    code = "%%sql\nSELECT * FROM tr"
    reply = complete(kc, code)
    assert reply["matches"] == ["trades"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (len(code) - 2, len(code))
    # ipykernel's typed completions (JupyterLab shows the kind next to each name)
    types = reply["metadata"]["_jupyter_types_experimental"]
    assert [(t["text"], t["type"]) for t in types] == [("trades", "table")]


def test_columns_qualified_by_alias(kc):
    code = "%%sql\nSELECT t.\nFROM trades t"
    reply = complete(kc, code, code.index("t.\n") + 2)
    assert reply["matches"] == ["id", "sym", "px"]


def test_branch_names_after_checkout(kc):
    reply = complete(kc, "%sql --checkout ")
    assert reply["matches"] == ["main", "what_if"]


def test_completion_follows_the_checked_out_branch(kc):
    reply = kc.execute_interactive("%sql --checkout what_if\n%sql CREATE TABLE scenario (k INTEGER)", timeout=60)
    assert reply["content"]["status"] == "ok"
    assert complete(kc, "%%sql\nSELECT * FROM sc")["matches"] == ["scenario"]
    kc.execute_interactive("%sql --checkout main", timeout=60)
    assert "scenario" not in complete(kc, "%%sql\nSELECT * FROM sc")["matches"]


def test_python_cells_still_complete_python(kc):
    kc.execute_interactive("my_variable = 1", timeout=60)
    assert "my_variable" in complete(kc, "my_var")["matches"]
