"""``python -m tests.sqllogic [FILE|DIR ...]``: run .test files against rustmemodb.

With no argument every file under ``tests/sql`` runs.  Prints each failing record
(file:line, SQL, expected vs actual) and a summary; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .engine import REPO_ROOT, RustMemDBBackend
from .executor import run_file

SQL_ROOT = REPO_ROOT / "tests" / "sql"


def collect(paths: list[str]) -> list[Path]:
    """The ``.test`` files named by *paths* (directories are searched recursively)."""
    out: list[Path] = []
    for p in paths or [str(SQL_ROOT)]:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(path.rglob("*.test")))
        else:
            out.append(path)
    return out


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.sqllogic", description=__doc__)
    ap.add_argument("paths", nargs="*", help=".test files or directories")
    ap.add_argument("-q", "--quiet", action="store_true", help="only the summary lines")
    args = ap.parse_args(argv)
    backend = RustMemDBBackend()
    files = collect(args.paths)
    failed_files = 0
    total_run = total_failed = 0
    for path in files:
        report = run_file(path, backend, display(path))
        total_run += report.run
        total_failed += len(report.failures)
        if report.failures:
            failed_files += 1
            summary = report.summary(limit=50)
            print(summary.splitlines()[0] if args.quiet else summary + "\n")
    print(
        f"sqllogic: {len(files) - failed_files} of {len(files)} file(s) pass; "
        f"{total_run} records run, {total_failed} failing"
    )
    return 1 if failed_files else 0


if __name__ == "__main__":
    sys.exit(main())
