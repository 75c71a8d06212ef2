"""Test doubles for the runner's own unit tests (no engine needed).

* :class:`SqliteBackend` -- a real DB-API database: sqlite3 in shared-cache memory
  mode, so labelled connections see the same data.  sqlite3 errors carry no
  SQLSTATE; the backend derives a coarse one from the message for the tests.
* :class:`ScriptedBackend` -- a fake DB-API whose cursor answers each SQL text from a
  dictionary: rows (with a column count), or an exception to raise.
"""

from __future__ import annotations

import itertools
import sqlite3
from typing import Any

_counter = itertools.count()


class _Conn(sqlite3.Connection):
    """sqlite3.Connection subclass that can carry its shared-cache URI."""

    uri: str


class SqliteBackend:
    name = "sqlite3"
    skip_pg_deviations = False
    check_messages = True

    def connect(self) -> Any:
        uri = f"file:sqllogic_{next(_counter)}?mode=memory&cache=shared"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, factory=_Conn)
        conn.uri = uri
        return conn

    def connect_more(self, default: Any) -> Any:
        return sqlite3.connect(default.uri, uri=True, isolation_level=None)

    def close(self, connections: list[Any]) -> None:
        for conn in reversed(connections):
            conn.close()

    def prepare_sql(self, sql: str) -> str:
        return sql

    def is_sql_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def sqlstate(self, exc: BaseException) -> str | None:
        text = str(exc)
        if "no such table" in text:
            return "42P01"
        if "no such column" in text:
            return "42703"
        if "syntax error" in text:
            return "42601"
        if "UNIQUE constraint" in text:
            return "23505"
        return "XX000"

    def normalize(self, value: Any) -> Any:
        return value


class FakeError(Exception):
    """A database error of the scripted backend."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message


class _FakeCursor:
    def __init__(self, script: dict[str, Any], log: list[tuple[str, str]], label: str) -> None:
        self.script = script
        self.log = log
        self.label = label
        self.description: list[tuple] | None = None
        self.rows: list[tuple] = []

    def execute(self, sql: str, params: Any = None) -> None:
        self.log.append((self.label, sql))
        answer = self.script.get(sql)
        if isinstance(answer, BaseException):
            raise answer
        if answer is None:
            self.description, self.rows = None, []
            return
        ncols, rows = answer
        self.description = [(f"c{i}", None, None, None, None, None, None) for i in range(ncols)]
        self.rows = list(rows)

    def fetchall(self) -> list[tuple]:
        return self.rows

    def close(self) -> None:
        pass


class _FakeConn:
    def __init__(self, backend: ScriptedBackend, label: str) -> None:
        self.backend = backend
        self.label = label

    def cursor(self) -> _FakeCursor:
        return _FakeCursor(self.backend.script, self.backend.log, self.label)

    def close(self) -> None:
        self.backend.closed.append(self.label)


class ScriptedBackend:
    """Answers SQL from *script*: ``{sql: (ncols, rows) | exception | None}``."""

    name = "scripted"
    check_messages = True

    def __init__(self, script: dict[str, Any], skip_pg_deviations: bool = False) -> None:
        self.script = script
        self.skip_pg_deviations = skip_pg_deviations
        self.log: list[tuple[str, str]] = []
        self.closed: list[str] = []
        self.opened = 0

    def connect(self) -> Any:
        self.opened += 1
        return _FakeConn(self, "default")

    def connect_more(self, default: Any) -> Any:
        self.opened += 1
        return _FakeConn(self, f"more{self.opened}")

    def close(self, connections: list[Any]) -> None:
        for conn in connections:
            conn.close()

    def prepare_sql(self, sql: str) -> str:
        return sql

    def is_sql_error(self, exc: BaseException) -> bool:
        return isinstance(exc, FakeError)

    def sqlstate(self, exc: BaseException) -> str | None:
        return getattr(exc, "sqlstate", None)

    def normalize(self, value: Any) -> Any:
        return value
