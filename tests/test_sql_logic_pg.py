"""The sqllogictest files replayed on a real PostgreSQL: their expectations must be
PostgreSQL's (``tests/sql/README.md``), and this checks it on every ``make test``.

One test per ``tests/sql/**/*.test`` file, run by ``tests/sqllogic/pgcheck.py``'s
backend (type names mapped, a fresh database per file, ``# pg-deviation`` records
skipped) against the session's throwaway server (the ``pg_dsn`` fixture).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
SQL_DIR = TESTS_DIR / "sql"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from sqllogic.executor import run_file  # noqa: E402

FILES = sorted(SQL_DIR.rglob("*.test"))


@pytest.fixture(scope="module")
def pg_backend(pg_dsn):
    from sqllogic.pgcheck import PostgresBackend  # noqa: PLC0415  (needs psycopg)
    backend = PostgresBackend(pg_dsn)
    yield backend
    backend.admin.close()


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(SQL_DIR).as_posix() for p in FILES])
def test_expectations_hold_on_postgres(path: Path, pg_backend) -> None:
    rel = path.relative_to(SQL_DIR).as_posix()
    report = run_file(path, pg_backend, display_path=f"tests/sql/{rel}")
    if report.failures:
        pytest.fail(report.summary(limit=25), pytrace=False)
