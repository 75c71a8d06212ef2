"""Smoke test of the benchmark suites: each runs in --quick mode and yields tables.

No timing assertions: only that the harness runs end to end, prints tables and writes
JSON. The reference engines (sqlite3, DuckDB, pandas) must produce numbers; rustmemodb
cells may say `n/a (...)` while features are missing.
"""

from __future__ import annotations

import json
import os
import time

import pytest

import bench
from bench.__main__ import main
from bench.harness import Options

REFERENCE = {"sqlite3", "duckdb", "pandas", "bare", "postgresql 15"}
# bare: the rest suite's constant FastAPI handler; postgresql 15: the wire suite's peer


@pytest.mark.parametrize("suite", bench.SUITES)
def test_suite_quick(suite, tmp_path):
    opts = Options.quick_defaults(rows=2_000, ops=50, out_dir=tmp_path)
    report = bench.run_suite(suite, opts)

    assert report.tables, "no result table"
    text = report.render()
    for table in report.tables:
        assert table.title in text
    timed = [t for t in report.tables if t.unit == "s" and t.rows]
    assert timed, "no timed rows"
    measured = {e for t in timed for r in t.rows for e in r.values}
    assert measured & REFERENCE, f"no reference engine produced a number: {text}"

    path = report.save()
    data = json.loads(path.read_text())
    assert data["suite"] == suite and data["tables"]


def test_cli_quick_prints_a_table(tmp_path, capsys):
    assert main(["fork", "--quick", "--rows", "1000", "--engines", "sqlite3",
                 "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "## time to copy the whole database" in out
    assert (tmp_path / "latest-fork.json").exists()


def test_cli_rejects_unknown_suite(capsys):
    assert main(["nope"]) == 2


def test_wire_cpu_counts_threads_children_and_reaped_children():
    """bench wire's server CPU per transaction: a PostgreSQL backend's time must count
    once the postmaster reaped it, and a rustmemodb fsync helper's while it runs."""
    import subprocess
    import sys
    from bench.wire import process_tree_cpu

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time\n"
                               f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
                               "print('reaped', flush=True)\n"
                               f"child = subprocess.Popen([sys.executable, '-c', {burn!r} + "
                               "'time.sleep(30)'])\n"
                               "time.sleep(30)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "reaped"
        reaped = process_tree_cpu(parent.pid)
        assert reaped is not None and reaped >= 0.35       # the exited child's 0.4 s
        deadline = time.monotonic() + 20
        while process_tree_cpu(parent.pid) < reaped + 0.35:  # the running child's 0.4 s
            assert time.monotonic() < deadline, "a live child's CPU was not counted"
            time.sleep(0.1)
    finally:
        for proc in subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True,
                                   text=True).stdout.split():
            os.kill(int(proc), 9)
        parent.kill()
        parent.wait()
