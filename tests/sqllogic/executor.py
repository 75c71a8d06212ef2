"""Executor: runs the records of a parsed ``.test`` file against a DB-API backend.

A *backend* (see :class:`Backend`) knows how to open a fresh, empty database and more
connections to it, how to recognise the database's own errors and their SQLSTATE, and
optionally how to adapt SQL and result values (``pgcheck`` maps types and normalises
NUMERIC).  Every file runs in its own fresh database; connection labels
(``statement ok con1``) open further connections to that same database on first use.

Execution does not stop at the first failure: every record runs and every mismatch
is collected in a :class:`FileReport`, each :class:`Failure` naming the record's
``file:line``, its SQL and what differed.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .compare import compare_results, mismatch_report
from .parser import parse_file
from .records import Halt, Mode, Query, Record, Statement, TestFile
from .render import render_value


class Backend(Protocol):
    """What the executor needs from a database under test."""

    name: str
    skip_pg_deviations: bool  # True: do not run records marked '# pg-deviation:'
    check_messages: bool  # False: 'statement error' message substrings are not checked

    def connect(self) -> Any:
        """The default connection to a fresh, empty database."""

    def connect_more(self, default: Any) -> Any:
        """Another connection to the same database as *default*."""

    def close(self, connections: list[Any]) -> None:
        """Close the connections (default one first) and drop the database."""

    def prepare_sql(self, sql: str) -> str:
        """SQL as sent to this backend (e.g. type names mapped)."""

    def is_sql_error(self, exc: BaseException) -> bool:
        """True for the database's own (PEP 249) errors, False for crashes."""

    def sqlstate(self, exc: BaseException) -> str | None:
        """The SQLSTATE carried by a database error."""

    def normalize(self, value: Any) -> Any:
        """A result value before rendering."""


@dataclass
class Failure:
    """One record whose outcome differed from the file's expectation."""

    record: Record
    reason: str  # one line
    details: str = ""  # multi-line: expected vs actual, traceback ...

    def __str__(self) -> str:
        sql = getattr(self.record, "sql", "")
        conn = getattr(self.record, "connection", None)
        head = f"{self.record.location}: {self.reason}"
        parts = [head]
        if sql:
            parts.append("SQL" + (f" (on {conn})" if conn else "") + ":")
            parts.append("\n".join("    " + line for line in sql.splitlines()))
        if self.details:
            parts.append(self.details)
        return "\n".join(parts)


@dataclass
class FileReport:
    """Outcome of one file: failures and counts of run / skipped records."""

    path: str
    failures: list[Failure] = field(default_factory=list)
    run: int = 0  # records executed and compared
    skipped: int = 0  # records between 'mode skip' and 'mode unskip'
    deviations: int = 0  # pg-deviation records not run on this backend
    other_backend: int = 0  # records excluded by onlyif/skipif for this backend
    halted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self, limit: int = 10) -> str:
        lines = [
            f"{self.path}: {len(self.failures)} failing record(s) of {self.run} run"
            + (f", {self.skipped} skipped" if self.skipped else "")
            + (f", {self.deviations} pg-deviation(s) skipped" if self.deviations else "")
        ]
        for failure in self.failures[:limit]:
            lines.append("")
            lines.append(str(failure))
        if len(self.failures) > limit:
            lines.append(f"\n... and {len(self.failures) - limit} more failing record(s)")
        return "\n".join(lines)


def run_file(path: str | Path, backend: Backend, display_path: str | None = None) -> FileReport:
    """Parse and run the file at *path*."""
    return run_test_file(parse_file(path, display_path), backend)


def run_test_file(test_file: TestFile, backend: Backend) -> FileReport:
    """Run every record of *test_file* in a fresh database of *backend*."""
    report = FileReport(path=test_file.path)
    runner = _Runner(backend, report)
    try:
        runner.run(test_file.records)
    finally:
        runner.close()
    return report


def _describe_exception(backend: Backend, exc: BaseException) -> str:
    if backend.is_sql_error(exc):
        state = backend.sqlstate(exc)
        return f"{type(exc).__name__} [{state}]: {_first_line(exc)}"
    return f"{type(exc).__name__}: {exc}"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else ""


def _traceback_tail(exc: BaseException, limit: int = 6) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-limit)
    return "".join("    " + line for chunk in lines for line in chunk.splitlines(True))


class _Runner:
    def __init__(self, backend: Backend, report: FileReport) -> None:
        self.backend = backend
        self.report = report
        self.default: Any = None
        self.connections: dict[str | None, Any] = {}

    def connection(self, label: str | None) -> Any:
        if self.default is None:
            self.default = self.backend.connect()
            self.connections[None] = self.default
        if label not in self.connections:
            self.connections[label] = self.backend.connect_more(self.default)
        return self.connections[label]

    def close(self) -> None:
        if self.default is None:
            return
        ordered = [self.default] + [c for k, c in self.connections.items() if k is not None]
        self.backend.close(ordered)

    def fail(self, record: Record, reason: str, details: str = "") -> None:
        self.report.failures.append(Failure(record, reason, details))

    def run(self, records: list[Record]) -> None:
        skipping = False
        for record in records:
            if isinstance(record, Halt):
                self.report.halted = True
                return
            if isinstance(record, Mode):
                skipping = record.skip
                continue
            if skipping:
                self.report.skipped += 1
                continue
            if not record.runs_on(self.backend.name):
                self.report.other_backend += 1
                continue
            if record.pg_deviation and self.backend.skip_pg_deviations:
                self.report.deviations += 1
                continue
            self.report.run += 1
            if isinstance(record, Statement):
                self.run_statement(record)
            elif isinstance(record, Query):
                self.run_query(record)
            else:  # pragma: no cover - parser produces no other kinds
                raise TypeError(f"unknown record {record!r}")

    def execute(self, record: Statement | Query) -> Any:
        """Run the record's SQL; return the cursor (exceptions propagate)."""
        conn = self.connection(record.connection)
        cur = conn.cursor()
        cur.execute(self.backend.prepare_sql(record.sql))
        return cur

    def run_statement(self, record: Statement) -> None:
        backend = self.backend
        try:
            cur = self.execute(record)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            if not backend.is_sql_error(exc):
                self.fail(
                    record,
                    f"internal error (not a database error): {type(exc).__name__}: {exc}",
                    _traceback_tail(exc),
                )
                return
            if not record.expect_error:
                self.fail(record, f"unexpected error {_describe_exception(backend, exc)}")
                return
            state = backend.sqlstate(exc)
            if record.sqlstates and state not in record.sqlstates:
                self.fail(
                    record,
                    f"expected SQLSTATE {'|'.join(record.sqlstates)}, "
                    f"got {_describe_exception(backend, exc)}",
                )
                return
            if record.message and backend.check_messages:
                text = str(getattr(exc, "message", None) or exc)
                if record.message.lower() not in str(exc).lower() + "\n" + text.lower():
                    self.fail(
                        record,
                        f"error message does not contain {record.message!r}",
                        f"    got: {_describe_exception(backend, exc)}",
                    )
            return
        _close_quietly(cur)
        if record.expect_error:
            want = "|".join(record.sqlstates) or "any SQLSTATE"
            self.fail(record, f"statement succeeded, expected an error ({want})")

    def run_query(self, record: Query) -> None:
        backend = self.backend
        try:
            cur = self.execute(record)
            description = cur.description
            if description is None:
                self.fail(record, "query returned no result set (cursor.description is None)")
                return
            raw_rows = cur.fetchall()
        except Exception as exc:  # noqa: BLE001
            if backend.is_sql_error(exc):
                self.fail(record, f"unexpected error {_describe_exception(backend, exc)}")
            else:
                self.fail(
                    record,
                    f"internal error (not a database error): {type(exc).__name__}: {exc}",
                    _traceback_tail(exc),
                )
            return
        _close_quietly(cur)
        ncols = len(description)
        if ncols != record.column_count:
            self.fail(
                record,
                f"query returned {ncols} column(s), the record declares "
                f"{record.column_count} ({record.types!r})",
            )
            return
        try:
            actual = [[render_value(backend.normalize(v)) for v in row] for row in raw_rows]
        except Exception as exc:  # noqa: BLE001
            self.fail(record, f"could not render result: {type(exc).__name__}: {exc}")
            return
        if any(len(r) != ncols for r in actual):
            self.fail(record, "result rows have a different length than cursor.description")
            return
        if not compare_results(record.expected, actual, record.sort_mode):
            self.fail(
                record,
                "result mismatch",
                mismatch_report(record.expected, actual, record.sort_mode),
            )


def _close_quietly(cur: Any) -> None:
    try:
        cur.close()
    except Exception:  # noqa: BLE001
        pass
