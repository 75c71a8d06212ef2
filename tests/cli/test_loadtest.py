"""`rustmemodb load-test`: every flag in embedded mode, and over the wire against
PostgreSQL and against rustmemodb's own wire server."""
from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rustmemodb
from rustmemodb.cli import loadtest
from rustmemodb.cli.main import main

ENGINE = str(Path(rustmemodb.__file__).resolve().parents[1])


def run_json(capsys, *args: str) -> dict:
    rc = main(["load-test", "--json", *args])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)


def test_defaults_are_the_specs():
    import argparse
    p = argparse.ArgumentParser()
    loadtest.add_arguments(p)
    a = p.parse_args([])
    assert (a.duration_secs, a.concurrency, a.rows, a.read_ratio, a.sample_max, a.payload_size) == \
        (10.0, 4, 10000, 80.0, 100000, 64)
    assert a.path is None and a.dsn is None and a.durability == "sync" and not a.json


def test_report_counts_add_up_and_percentiles_are_ordered(capsys):
    r = run_json(capsys, "--duration-secs", "0.5", "--rows", "500", "--concurrency", "2", "--seed", "1")
    assert r["mode"] == "embedded in-memory" and r["concurrency"] == 2 and r["rows"] == 500
    assert r["total_ops"] == r["read_ops"] + r["write_ops"] + r["error_ops"] > 0
    assert r["read_ops"] > 0 and r["write_ops"] > 0
    # Two writers on 500 keys collide now and then: an autocommit UPDATE that loses the race
    # is re-run by the engine, so nothing fails.
    assert r["error_ops"] == 0 and r["errors"] == {}
    assert 0 < r["p50_us"] <= r["p95_us"] <= r["p99_us"]
    assert r["qps"] == pytest.approx((r["read_ops"] + r["write_ops"]) / r["duration_secs"], rel=0.01)
    assert r["duration_secs"] >= 0.5


@pytest.mark.parametrize(("ratio", "reads", "writes"), [("100", True, False), ("0", False, True)])
def test_read_ratio_extremes(capsys, ratio, reads, writes):
    r = run_json(capsys, "--duration-secs", "0.3", "--rows", "100", "--concurrency", "1",
                 "--read-ratio", ratio)
    assert (r["read_ops"] > 0) is reads and (r["write_ops"] > 0) is writes


def test_sample_max_bounds_the_latency_samples(capsys):
    r = run_json(capsys, "--duration-secs", "0.3", "--rows", "100", "--concurrency", "2",
                 "--sample-max", "10")
    assert r["samples"] == 10 < r["total_ops"]


def test_rows_and_payload_size_shape_the_table():
    opts = loadtest.Options(duration_secs=0.2, concurrency=1, rows=2345, payload_size=7, seed=3)
    backend = loadtest.Embedded(None, "sync")
    conn = backend.connect()
    loadtest.setup(conn, backend.marker, opts.rows, opts.payload_size, __import__("random").Random(3))
    assert conn.execute("SELECT count(*), min(id), max(id), min(length(payload)), "
                        "max(length(payload)) FROM bench").fetchall() == [(2345, 1, 2345, 7, 7)]
    backend.close()


def test_writes_change_payloads_and_keep_every_row(tmp_path, capsys):
    path = tmp_path / "db"
    r = run_json(capsys, "--duration-secs", "0.5", "--rows", "200", "--concurrency", "3",
                 "--read-ratio", "0", "--payload-size", "5", "--path", str(path), "--durability", "none")
    assert r["mode"] == f"embedded {path} (none)" and r["write_ops"] > 0
    conn = rustmemodb.connect(str(path), durability="none")
    assert conn.execute("SELECT count(*), count(DISTINCT id), max(length(payload)) FROM bench").fetchall() \
        == [(200, 200, 5)]
    conn.close()


@pytest.mark.parametrize("durability", ["sync", "async", "none"])
def test_file_backed_run_with_each_durability_survives_reopen(tmp_path, capsys, durability):
    path = tmp_path / durability
    r = run_json(capsys, "--duration-secs", "0.3", "--rows", "300", "--concurrency", "2",
                 "--path", str(path), "--durability", durability)
    assert r["total_ops"] > 0 and r["error_ops"] == 0
    assert main(["check", str(path)]) == 0
    conn = rustmemodb.connect(str(path), durability=durability)
    assert conn.execute("SELECT count(*) FROM bench").fetchall() == [(300,)]
    conn.close()


def test_text_report_names_every_figure(capsys):
    assert main(["load-test", "--duration-secs", "0.2", "--rows", "50", "--concurrency", "1"]) == 0
    out = capsys.readouterr().out
    for word in ("total_ops", "read_ops", "write_ops", "error_ops", "qps", "p50", "p95", "p99", "µs"):
        assert word in out


def test_progress_line_goes_to_stderr_once_a_second(capsys):
    assert main(["load-test", "--duration-secs", "2.2", "--rows", "50", "--concurrency", "1",
                 "--progress", "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)                       # stdout stays pure JSON
    lines = [line for line in captured.err.split("\r") if line.strip()]
    assert 1 <= len(lines) <= 3 and lines[0].startswith("[  1.")   # ~ once a second
    assert all(re.match(r"\[ *\d+\.\ds\] ops [\d,]+  qps [\d,]+  errors 0", line) for line in lines)


def test_no_progress_line_without_a_terminal(capsys):
    assert main(["load-test", "--duration-secs", "1.2", "--rows", "50", "--concurrency", "1"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("args", [["--read-ratio", "101"], ["--concurrency", "0"], ["--rows", "-1"],
                                  ["--duration-secs", "0"], ["--sample-max", "0"],
                                  ["--payload-size", "-3"], ["--durability", "async"],
                                  ["--durability", "fast", "--path", "x"],
                                  ["--path", "x", "--dsn", "postgresql://h/db"]])
def test_bad_flags_are_usage_errors(capsys, args):
    with pytest.raises(SystemExit) as exc:
        main(["load-test", *args])
    assert exc.value.code == 2 and "error" in capsys.readouterr().err


def test_unreachable_server_is_exit_status_1(capsys):
    pytest.importorskip("psycopg")
    rc = main(["load-test", "--duration-secs", "0.2",
               "--dsn", "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2"])
    err = capsys.readouterr().err
    assert rc == 1 and "cannot connect" in err and "secret" not in err and "nobody:***@" in err


def test_help_lists_the_flags():
    out = subprocess.run([sys.executable, "-m", "rustmemodb.cli", "load-test", "--help"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ENGINE})
    assert out.returncode == 0
    for flag in ("--duration-secs", "--concurrency", "--rows", "--read-ratio", "--sample-max",
                 "--payload-size", "--path", "--durability", "--dsn", "--json", "--progress"):
        assert flag in out.stdout


# -- over the wire: a throwaway PostgreSQL 15 (fixture pg_url in tests/conftest.py) -------------


def test_over_the_wire_against_postgresql(capsys, pg_url):
    r = run_json(capsys, "--dsn", pg_url, "--duration-secs", "0.5", "--rows", "1500",
                 "--concurrency", "2", "--read-ratio", "50", "--payload-size", "16",
                 "--sample-max", "50")
    assert r["mode"].startswith("wire postgresql://") and r["error_ops"] == 0
    assert r["read_ops"] > 0 and r["write_ops"] > 0 and r["samples"] == 50
    import psycopg
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), max(length(payload)) FROM bench").fetchone() == (1500, 16)


def test_over_the_wire_against_rustmemodb_itself(capsys):
    """The same flags through psycopg to rustmemodb's own wire server (issue 14)."""
    pytest.importorskip("psycopg")
    from rustmemodb.server import serve
    conn = rustmemodb.connect()
    server = serve(conn, host="127.0.0.1", port=0, users={"bench": "s3cret"})
    try:
        dsn = f"postgresql://bench:s3cret@127.0.0.1:{server.port}/main"
        r = run_json(capsys, "--dsn", dsn, "--duration-secs", "0.5", "--rows", "1200",
                     "--concurrency", "2", "--read-ratio", "50", "--payload-size", "12",
                     "--sample-max", "40")
        assert r["mode"].startswith("wire postgresql://") and "s3cret" not in r["mode"]
        assert r["error_ops"] == 0 and r["read_ops"] > 0 and r["write_ops"] > 0
        assert r["samples"] == 40
        # the rows the workers wrote are in the served database itself
        assert conn.execute("SELECT count(*), max(length(payload)) FROM bench").fetchone() \
            == (1200, 12)
    finally:
        server.close()
        conn.close()
