"""sqllogictest files as pytest tests: one test per ``tests/sql/**/*.test`` file.

The test id is the file's path relative to ``tests/sql`` (``foundation/insert.test``).
A failing test lists every failing record with its ``file:line``, the SQL, and the
expected vs actual result (or the unexpected error).

Files named in ``tests/sql/KNOWN_FAILURES`` (one path relative to ``tests/sql`` per
line, ``# reason`` after it) are expected to fail: they are marked
``xfail(strict=True)``, so a listed file that starts passing fails the suite until
it is removed from the list.  The runner itself lives in ``tests/sqllogic``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
SQL_DIR = TESTS_DIR / "sql"
KNOWN_FAILURES_FILE = SQL_DIR / "KNOWN_FAILURES"

if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from sqllogic.engine import RustMemDBBackend  # noqa: E402
from sqllogic.executor import run_file  # noqa: E402


def read_known_failures() -> dict[str, str]:
    """``{relative path: reason}`` from KNOWN_FAILURES."""
    known: dict[str, str] = {}
    if not KNOWN_FAILURES_FILE.exists():
        return known
    for raw in KNOWN_FAILURES_FILE.read_text(encoding="utf-8").splitlines():
        path, _, reason = raw.partition("#")
        path = path.strip()
        if path:
            known[path] = reason.strip() or "known failure"
    return known


TEST_FILES = sorted(SQL_DIR.rglob("*.test"))
KNOWN = read_known_failures()


def _params():
    for path in TEST_FILES:
        rel = path.relative_to(SQL_DIR).as_posix()
        marks = []
        if rel in KNOWN:
            marks.append(pytest.mark.xfail(reason=KNOWN[rel], strict=True))
        yield pytest.param(path, id=rel, marks=marks)


@pytest.fixture(scope="module")
def backend():
    return RustMemDBBackend()


@pytest.mark.parametrize("path", list(_params()))
def test_sql_logic(path: Path, backend) -> None:
    rel = path.relative_to(SQL_DIR).as_posix()
    report = run_file(path, backend, display_path=f"tests/sql/{rel}")
    if report.failures:
        pytest.fail(report.summary(limit=25), pytrace=False)


def test_known_failures_list_is_current():
    """Every KNOWN_FAILURES entry names an existing .test file."""
    existing = {p.relative_to(SQL_DIR).as_posix() for p in TEST_FILES}
    stale = sorted(set(KNOWN) - existing)
    assert not stale, f"KNOWN_FAILURES names files that do not exist: {stale}"
