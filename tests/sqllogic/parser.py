"""Parser: text of a DuckDB-flavoured ``.test`` file -> :class:`~.records.TestFile`.

Grammar (one record per block; blocks are separated by blank lines)::

    # name: tests/sql/foundation/insert.test        header comments (optional)
    # description: ...
    # any other comment                              ignored
    # pg-deviation: reason                           attaches to the next record
    onlyif NAME | skipif NAME                        attaches to the next record

    statement ok [CONN]
    SQL...

    statement error [SQLSTATE[|SQLSTATE...]] [CONN]
    SQL...
    ----                                             optional
    expected message substring

    query TYPES [nosort|rowsort|valuesort] [CONN]
    SQL...
    ----
    v1<TAB>v2
    ...

    halt
    mode skip | mode unskip

``TYPES`` is one letter per column (I R T B D U J N: N for numeric); only their count is checked.
Expected rows may also be given one value per line (DuckDB style), which is
regrouped into rows of ``len(TYPES)`` values.  A record's SQL ends at the first
blank line or ``----``; an empty result is written as ``----`` followed by a blank
line (or the end of the file).
"""

from __future__ import annotations

import re
from pathlib import Path

from .records import (
    SORT_MODES,
    TYPE_LETTERS,
    Halt,
    Mode,
    Query,
    Record,
    Statement,
    TestFile,
)

_SQLSTATE = re.compile(r"^[0-9A-Z]{5}(\|[0-9A-Z]{5})*$")
_CONN_LABEL = re.compile(r"^[a-z_][a-z0-9_]*$")
_PG_DEVIATION = re.compile(r"^#\s*pg-deviation\s*:\s*(.*)$", re.IGNORECASE)
_HEADER = re.compile(r"^#\s*(name|description)\s*:\s*(.*)$", re.IGNORECASE)


class ParseError(ValueError):
    """A malformed ``.test`` file; the message starts with ``path:line``."""


def parse_file(path: str | Path, display_path: str | None = None) -> TestFile:
    """Parse the file at *path*; *display_path* is used in locations if given."""
    path = Path(path)
    return parse_text(path.read_text(encoding="utf-8"), display_path or str(path))


def parse_text(text: str, path: str = "<string>") -> TestFile:
    """Parse the text of a ``.test`` file."""
    return _Parser(text, path).parse()


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.pos = 0  # index of the next line to read

    # -- helpers ---------------------------------------------------------------
    def error(self, lineno: int, message: str) -> ParseError:
        return ParseError(f"{self.path}:{lineno}: {message}")

    def at_end(self) -> bool:
        return self.pos >= len(self.lines)

    def peek(self) -> str:
        return self.lines[self.pos]

    def read_block(self, stop_at_dashes: bool) -> list[str]:
        """Lines up to a blank line (consumed) or ``----`` (not consumed)."""
        out: list[str] = []
        while not self.at_end():
            line = self.peek()
            if not line.strip():
                self.pos += 1
                break
            if stop_at_dashes and line.rstrip() == "----":
                break
            out.append(line)
            self.pos += 1
        return out

    def take_dashes(self) -> bool:
        if not self.at_end() and self.peek().rstrip() == "----":
            self.pos += 1
            return True
        return False

    # -- main loop -------------------------------------------------------------
    def parse(self) -> TestFile:
        tf = TestFile(path=self.path)
        pending_deviation: str | None = None
        pending_conditions: list[tuple[str, str]] = []
        while not self.at_end():
            lineno = self.pos + 1
            line = self.peek().rstrip()
            stripped = line.strip()
            if not stripped:
                self.pos += 1
                continue
            if stripped.startswith("#"):
                self.pos += 1
                m = _PG_DEVIATION.match(stripped)
                if m:
                    reason = m.group(1).strip()
                    if not reason:
                        raise self.error(lineno, "pg-deviation needs a reason")
                    pending_deviation = reason
                    continue
                m = _HEADER.match(stripped)
                if m:
                    setattr(tf, m.group(1).lower(), m.group(2).strip())
                continue
            self.pos += 1
            words = stripped.split()
            if words[0] in ("onlyif", "skipif"):
                if len(words) != 2 or not _CONN_LABEL.match(words[1]):
                    raise self.error(lineno, f"expected '{words[0]} BACKEND'")
                pending_conditions.append((words[0], words[1]))
                continue
            record = self.parse_record(words, lineno)
            if pending_conditions and not isinstance(record, (Statement, Query)):
                raise self.error(lineno, "onlyif/skipif must precede a statement or query")
            record.pg_deviation = pending_deviation
            record.conditions = tuple(pending_conditions)
            pending_deviation = None
            pending_conditions = []
            tf.records.append(record)
        if pending_deviation is not None:
            raise self.error(len(self.lines), "pg-deviation comment not followed by a record")
        if pending_conditions:
            raise self.error(len(self.lines), "onlyif/skipif not followed by a record")
        return tf

    def parse_record(self, words: list[str], lineno: int) -> Record:
        kind = words[0]
        if kind == "statement":
            return self.parse_statement(words, lineno)
        if kind == "query":
            return self.parse_query(words, lineno)
        if kind == "halt":
            if len(words) != 1:
                raise self.error(lineno, "halt takes no arguments")
            return Halt(path=self.path, line=lineno)
        if kind == "mode":
            if len(words) != 2 or words[1] not in ("skip", "unskip"):
                raise self.error(lineno, "expected 'mode skip' or 'mode unskip'")
            return Mode(path=self.path, line=lineno, skip=words[1] == "skip")
        raise self.error(lineno, f"unknown or unsupported record type {kind!r}")

    def parse_connection(self, rest: list[str], lineno: int) -> str | None:
        if not rest:
            return None
        if len(rest) > 1 or not _CONN_LABEL.match(rest[0]):
            raise self.error(lineno, f"unexpected arguments {' '.join(rest)!r}")
        return rest[0]

    def parse_sql(self, lineno: int, stop_at_dashes: bool) -> str:
        sql_lines = self.read_block(stop_at_dashes)
        if not sql_lines:
            raise self.error(lineno, "record has no SQL")
        return "\n".join(sql_lines)

    def parse_statement(self, words: list[str], lineno: int) -> Statement:
        if len(words) < 2 or words[1] not in ("ok", "error"):
            raise self.error(lineno, "expected 'statement ok' or 'statement error'")
        rest = words[2:]
        if words[1] == "ok":
            conn = self.parse_connection(rest, lineno)
            sql = self.parse_sql(lineno, stop_at_dashes=True)
            if self.take_dashes():
                raise self.error(lineno, "'statement ok' takes no '----' section")
            return Statement(path=self.path, line=lineno, sql=sql, connection=conn)
        sqlstates: tuple[str, ...] = ()
        if rest and _SQLSTATE.match(rest[0]):
            sqlstates = tuple(rest[0].split("|"))
            rest = rest[1:]
        conn = self.parse_connection(rest, lineno)
        sql = self.parse_sql(lineno, stop_at_dashes=True)
        message = None
        if self.take_dashes():
            msg_lines = self.read_block(stop_at_dashes=False)
            if not msg_lines:
                raise self.error(lineno, "'----' after statement error needs a message line")
            message = "\n".join(msg_lines)
        return Statement(
            path=self.path,
            line=lineno,
            sql=sql,
            expect_error=True,
            sqlstates=sqlstates,
            message=message,
            connection=conn,
        )

    def parse_query(self, words: list[str], lineno: int) -> Query:
        if len(words) < 2:
            raise self.error(lineno, "query needs column types, e.g. 'query IT'")
        types = words[1]
        bad = set(types) - TYPE_LETTERS
        if bad:
            raise self.error(lineno, f"unknown column type letter(s) {''.join(sorted(bad))!r}")
        rest = words[2:]
        sort_mode = "nosort"
        if rest and rest[0] in SORT_MODES:
            sort_mode = rest[0]
            rest = rest[1:]
        conn = self.parse_connection(rest, lineno)
        sql = self.parse_sql(lineno, stop_at_dashes=True)
        if not self.take_dashes():
            raise self.error(lineno, "query needs '----' followed by the expected result")
        result_lines = self.read_block(stop_at_dashes=False)
        expected = self.split_rows(result_lines, len(types), lineno)
        return Query(
            path=self.path,
            line=lineno,
            sql=sql,
            types=types,
            sort_mode=sort_mode,
            connection=conn,
            expected=expected,
        )

    def split_rows(self, lines: list[str], ncols: int, lineno: int) -> list[list[str]]:
        rows = [line.split("\t") for line in lines]
        if all(len(r) == ncols for r in rows):
            return rows
        if ncols > 1 and all(len(r) == 1 for r in rows) and len(rows) % ncols == 0:
            flat = [r[0] for r in rows]
            return [flat[i : i + ncols] for i in range(0, len(flat), ncols)]
        for i, r in enumerate(rows):
            if len(r) != ncols:
                raise self.error(
                    lineno,
                    f"expected result row {i + 1} has {len(r)} column(s), "
                    f"the query declares {ncols} ({lines[i]!r})",
                )
        raise self.error(lineno, "malformed expected result")  # pragma: no cover
