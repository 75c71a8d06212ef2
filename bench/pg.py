"""A throwaway PostgreSQL 15 for the suites that run it beside rustmemodb (wire, loadtest).

``initdb`` into a temporary directory, ``pg_ctl start`` with the caller's server
options, stop and remove on exit; as the ``nobody`` user when we are root (PostgreSQL
refuses to run as root). Yields None where PostgreSQL 15 is not installed, so a
suite reports it as unavailable instead of failing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PG_BIN = "/usr/lib/postgresql/15/bin"


@contextmanager
def throwaway_postgres(options: str, prefix: str = "rmdb-bench-pg-") -> Iterator[Path | None]:
    """The server's directory (its Unix socket lives there) while it runs; ``options``
    are ``postgres`` command-line options, ``{base}`` standing for that directory."""
    if not Path(PG_BIN, "initdb").exists():
        yield None
        return
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            yield None
            return
        as_user = ["runuser", "-u", "nobody", "--"]
    base = Path(tempfile.mkdtemp(prefix=prefix))
    if as_user:
        shutil.chown(base, user="nobody")
    data = base / "data"
    try:
        subprocess.run([*as_user, f"{PG_BIN}/initdb", "-D", str(data), "-A", "trust", "-U",
                        "postgres"], check=True, capture_output=True)
        subprocess.run([*as_user, f"{PG_BIN}/pg_ctl", "-D", str(data), "-w", "-l",
                        str(base / "log"), "-o", options.format(base=base), "start"],
                       check=True, capture_output=True)
        yield base
    finally:
        subprocess.run([*as_user, f"{PG_BIN}/pg_ctl", "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
