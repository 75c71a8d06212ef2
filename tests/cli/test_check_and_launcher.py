"""`rustmemodb check PATH` on healthy and damaged directories, and the launcher's subcommands."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rustmemodb
from rustmemodb.cli.main import main

ENGINE = str(Path(rustmemodb.__file__).resolve().parents[1])


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rustmemodb.cli", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": ENGINE}, timeout=120)


@pytest.fixture
def database(tmp_path) -> Path:
    path = tmp_path / "db"
    conn = rustmemodb.connect(str(path), durability="sync")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    conn.execute("CHECKPOINT")
    conn.execute("INSERT INTO t VALUES (3, 'c')")
    conn.close()
    return path


def snapshot(path: Path) -> dict:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_healthy_directory_is_exit_0_and_untouched(database, capsys):
    before = snapshot(database)
    assert main(["check", str(database)]) == 0
    out = capsys.readouterr().out
    assert str(database) in out and "ok" in out
    assert snapshot(database) == before


def test_json_report(database, capsys):
    assert main(["check", "--json", str(database)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["status"] == "ok" and report["path"] == str(database)


def test_flipped_bytes_in_the_checkpoint_files_are_damage_exit_1_and_untouched(database, capsys):
    data_files = [p for p in database.rglob("*") if p.is_file() and p.suffix in (".bin", ".arrow")]
    assert data_files
    for target in data_files:          # every checkpoint: no older one to fall back on
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    before = snapshot(database)
    assert main(["check", str(database)]) == 1
    out = capsys.readouterr().out
    assert "damaged" in out and "XX001" in out
    assert snapshot(database) == before


def test_damage_in_the_middle_of_the_log_is_exit_1(database, capsys):
    from rustmemodb.durability import open_database
    db = open_database(database, "sync", checkpoint_on_close=False)   # keep the log on close
    conn = db.connect()
    for i in range(4, 40):
        conn.execute(f"INSERT INTO t VALUES ({i}, 'some text to make the records longer')")
    db.close()
    seg = max((p for p in (database / "wal").iterdir()), key=lambda p: p.stat().st_size)
    data = bytearray(seg.read_bytes())
    assert len(data) > 2000
    data[len(data) // 3] ^= 0xFF          # valid records follow: not a torn tail
    seg.write_bytes(bytes(data))
    before = snapshot(database)
    assert main(["check", str(database)]) == 1
    out = capsys.readouterr().out
    assert "damaged" in out and "XX001" in out
    assert snapshot(database) == before


def test_not_a_database(tmp_path, capsys):
    (tmp_path / "junk").mkdir()
    assert main(["check", str(tmp_path / "junk")]) == 1
    assert "not-a-database" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "missing")]) == 1


def test_check_through_the_script(database):
    out = cli("check", str(database))
    assert out.returncode == 0 and "ok" in out.stdout


def test_serve_rest_subcommand_is_the_rest_server():
    helped = cli("serve-rest", "--help")
    assert helped.returncode == 0 and "--db" in helped.stdout and "--port" in helped.stdout
    # A --schemas path that is not a directory is a usage error; nothing is served.
    out = cli("serve-rest", "--schemas", "no-such-dir", "--port", "0")
    assert out.returncode == 2 and "not a directory" in out.stderr


def test_server_subcommand_is_the_wire_server():
    helped = cli("server", "--help")
    assert helped.returncode == 0 and "--port" in helped.stdout and "--tls-cert" in helped.stdout
    out = cli("server", "--port", "0")   # neither a user nor --trust: refused, nothing served
    assert out.returncode == 2 and "--trust" in out.stderr


def test_top_level_help_lists_every_subcommand():
    out = cli("--help")
    assert out.returncode == 0
    for name in ("cli", "load-test", "check", "server", "serve-rest"):
        assert name in out.stdout
    for name in ("cli", "check"):
        assert cli(name, "--help").returncode == 0


def test_unknown_option_is_usage_error():
    out = cli("check")
    assert out.returncode == 2 and "path" in out.stderr
