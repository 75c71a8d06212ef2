"""Record types of a sqllogictest file.

A ``.test`` file is a sequence of records separated by blank lines:

* :class:`Statement` -- ``statement ok`` / ``statement error [SQLSTATE[|SQLSTATE...]]``,
  optionally followed by ``----`` and a message substring for errors;
* :class:`Query` -- ``query <types> [nosort|rowsort|valuesort]`` with the expected
  rows after ``----`` (columns separated by a TAB);
* :class:`Halt` -- ``halt``: stop executing the file here;
* :class:`Mode` -- ``mode skip`` / ``mode unskip``: skip the records in between.

Statements and queries may end their header line with a connection label
(``statement ok con1``, ``query I nosort con2``); a label names one more connection to
the same database, opened on first use.  A ``# pg-deviation: reason`` comment right
before a record marks a documented, intentional deviation from PostgreSQL: the
record runs against rustmemodb but ``pgcheck`` skips it.  The standard
sqllogictest prefixes ``onlyif NAME`` / ``skipif NAME`` (a line right before a record;
names: ``rustmemodb``, ``postgresql``) restrict a record to or from one backend, e.g.
to state what PostgreSQL does in place of a deviating record so both databases end in
the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SORT_MODES = ("nosort", "rowsort", "valuesort")
TYPE_LETTERS = frozenset("IRTBDUJN")


@dataclass(kw_only=True)
class Record:
    """Common part of every record: where it is and whether it deviates from PG."""

    path: str
    line: int
    pg_deviation: str | None = None
    # ("onlyif" | "skipif", backend name) lines that preceded the record
    conditions: tuple[tuple[str, str], ...] = ()

    def runs_on(self, backend_name: str) -> bool:
        """Whether the record's onlyif/skipif conditions let it run on *backend_name*."""
        for kind, name in self.conditions:
            if kind == "onlyif" and name != backend_name:
                return False
            if kind == "skipif" and name == backend_name:
                return False
        return True

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(kw_only=True)
class Statement(Record):
    """``statement ok`` or ``statement error``: run SQL, expect success or an error."""

    sql: str
    expect_error: bool = False
    sqlstates: tuple[str, ...] = ()  # accepted SQLSTATEs; empty = any error
    message: str | None = None  # substring expected in the error message
    connection: str | None = None


@dataclass(kw_only=True)
class Query(Record):
    """``query``: run SQL and compare its rows with the expected ones."""

    sql: str
    types: str
    sort_mode: str = "nosort"
    connection: str | None = None
    expected: list[list[str]] = field(default_factory=list)

    @property
    def column_count(self) -> int:
        return len(self.types)


@dataclass(kw_only=True)
class Halt(Record):
    """``halt``: stop executing the file (the rest is not run)."""


@dataclass(kw_only=True)
class Mode(Record):
    """``mode skip`` / ``mode unskip``."""

    skip: bool


@dataclass(kw_only=True)
class TestFile:
    """A parsed ``.test`` file."""

    __test__ = False  # not a pytest test class

    path: str
    name: str | None = None
    description: str | None = None
    records: list[Record] = field(default_factory=list)
