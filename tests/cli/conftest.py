"""Fixtures of the CLI tests: a throwaway PostgreSQL 15 for the --dsn / postgresql:// paths."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_BIN = "/usr/lib/postgresql/15/bin"


@pytest.fixture(scope="session")
def postgres_dsn():
    """A PostgreSQL on a Unix socket (initdb refuses root: run it as nobody)."""
    pytest.importorskip("psycopg")
    if not Path(PG_BIN, "initdb").exists():
        pytest.skip("PostgreSQL server binaries are not installed")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("root without runuser cannot start PostgreSQL")
        as_user = ["runuser", "-u", "nobody", "--"]
    base = Path(tempfile.mkdtemp(prefix="rmdb-cli-pg-"))
    if as_user:
        shutil.chown(base, user="nobody")
    data = base / "data"
    subprocess.run([*as_user, f"{PG_BIN}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, f"{PG_BIN}/pg_ctl", "-D", str(data), "-w", "-l", str(base / "log"),
                    "-o", f"-k {base} -c listen_addresses='' -F", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@/postgres?host={base}"
    finally:
        subprocess.run([*as_user, f"{PG_BIN}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
