"""PEP 249 connection: a session on a Database, with fork, register and UDFs.

Like DuckDB and the spec, a connection starts in autocommit mode: each statement
is its own transaction, ``BEGIN`` opens an explicit one and ``commit()`` with
nothing open is a no-op. Setting ``autocommit = False`` gives PEP 249's implicit
transactions (the first statement opens one; ``commit()``/``rollback()`` end it).

Threads may share a connection (``threadsafety = 2``): every call that touches the
session (statements, commit, rollback, begin, close) holds the connection's lock,
so statements of different threads run one after another, never interleaved
inside the session's transaction. ``interrupt()`` does not take it: it is how
another thread cancels the running statement.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

from .. import errors
from .arrow_io import to_arrow_table
from .cursor import Cursor, _statement_text
from .guard import as_db_error, guarded


class Connection:
    def __init__(self, database, user: str | None = None, password: str | None = None) -> None:
        from ..session import Session
        self.database = database
        self._session = Session(database, self)
        if user is not None:    # 28P01 / 28000 when the database has roles (auth/login.py)
            from ..auth.login import authenticate
            from ..auth.role_settings import apply_at_login
            self._session.auth_user = authenticate(database, user, password)
            self._session.user_name = user
            apply_at_login(self._session, database.head.auth, self._session.auth_user)
        self._registered: dict = {}
        self._closed = False
        # Reentrant: a Python UDF or replacement scan may run SQL on this connection.
        self._lock = threading.RLock()

    # ---- PEP 249 ----------------------------------------------------------------------------
    def cursor(self) -> Cursor:
        self._check_open()
        return Cursor(self)

    def execute(self, sql: str, params: Sequence | dict | None = None) -> Cursor:
        # Cursor.execute on a new cursor, inlined: a point statement costs a few
        # microseconds, and a second frame with checks a new cursor always passes
        # was a tenth of that.
        if self._closed:
            raise errors.InterfaceError("connection is closed")
        if type(sql) is not str:
            sql = _statement_text(sql)
        try:
            with self._lock:
                result = self._session.execute(sql, params)
        except errors.Error:
            raise
        except Exception as exc:   # a bug below: still a DB-API error (api/guard.py)
            raise as_db_error(exc) from exc
        cursor = Cursor(self)
        cursor._result = result        # (Cursor._set_result: the rest are the defaults)
        cursor.rowcount = result.rowcount
        return cursor

    def executemany(self, sql: str, seq_of_params) -> Cursor:
        return self.cursor().executemany(sql, seq_of_params)

    def executescript(self, sql: str) -> Cursor:
        return self.cursor().executescript(sql)

    @guarded
    def append_rows(self, table: str, columns: tuple, rows: list[tuple]) -> bool:
        """``INSERT INTO table (columns) VALUES ..`` of ``rows`` (Python values) without
        SQL, in the transaction; False (nothing done) when it cannot stand in for the
        SQL statement. See ``Session.append_rows``."""
        self._check_open()
        with self._lock:
            return self._session.append_rows(table, columns, rows)

    @guarded
    def append(self, batches: list[tuple]) -> bool:
        """Several ``(table, columns, rows, stored)`` appends as one statement, all or
        nothing; ``stored`` names the column positions given in storage form already.
        False (nothing done) as for ``append_rows``. See ``Session.append``."""
        self._check_open()
        with self._lock:
            return self._session.append(batches)

    @guarded
    def lookup(self, table: str, key):
        """The row of ``table`` whose one-column primary key is ``key`` (a dict: column
        name -> DB-API value) or None, without SQL; False when it cannot stand in for
        the ``SELECT``. See ``Session.lookup``."""
        self._check_open()
        with self._lock:
            return self._session.lookup(table, key)

    @guarded
    def commit(self) -> None:
        self._check_open()
        with self._lock:
            self._session.commit()

    @guarded
    def rollback(self) -> None:
        self._check_open()
        with self._lock:
            self._session.rollback()

    @guarded
    def begin(self) -> None:
        self._check_open()
        with self._lock:
            self._session.begin()

    @guarded
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._session.rollback()
                try:
                    self._session.drop_temporary_tables()
                finally:
                    self._closed = True
                    self._session.end()      # its advisory locks go (backends.py)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Like sqlite3: commit an open transaction on success, roll back on error.
        if self._closed:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    @property
    def autocommit(self) -> bool:
        return self._session.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        with self._lock:
            if value and self._session.txn is not None:
                self._session.commit()
            self._session.autocommit = bool(value)

    @property
    def in_transaction(self) -> bool:
        return self._session.in_transaction

    def _check_open(self) -> None:
        if self._closed:
            raise errors.InterfaceError("connection is closed")

    # ---- beyond PEP 249 ---------------------------------------------------------------------
    @guarded
    def fork(self) -> "Connection":
        """A connection to an O(1) copy of this database's committed state."""
        self._check_open()
        return Connection(self.database.fork())

    @guarded
    def register(self, name: str, data) -> None:
        """Make a pandas DataFrame / Arrow table queryable as ``name`` (read in place)."""
        self._registered[name] = to_arrow_table(data, name)
        self.database.plan_cache.clear()

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)
        self.database.plan_cache.clear()

    @property
    def replacement_scan(self) -> Callable | None:
        return self._session.replacement_scan

    @replacement_scan.setter
    def replacement_scan(self, fn: Callable | None) -> None:
        self._session.replacement_scan = fn

    @property
    def notices(self) -> list:
        """NOTICE/WARNING messages of this connection's statements (``notices.Notice``),
        oldest first; the newest 100 are kept. Clear the list once read."""
        return self._session.notices

    def notifies(self, timeout: float = 0.0) -> list:
        """The notifications delivered to this session (LISTEN channel; a NOTIFY or
        pg_notify of any session of the database, this one included, sent when its
        transaction committed), oldest first, as ``(channel, payload, pid)`` named
        tuples; each is returned once. With none yet, waits up to ``timeout`` seconds
        for one (from another thread's session)."""
        backend = self._session.backend
        if not backend.inbox and timeout > 0:
            backend.arrived.wait(timeout)
        backend.arrived.clear()
        out = []
        inbox = backend.inbox
        while inbox:
            out.append(inbox.popleft())
        return out

    def interrupt(self) -> None:
        """Cancel the statement running on this connection (from another thread)."""
        self._session.cancel_event.set()

    def register_function(self, name: str, fn: Callable, arg_types: Sequence[str] | None = None,
                          return_type: str = "TEXT", *, vectorized: bool = False,
                          strict: bool = True, volatile: bool = False) -> None:
        """Add a scalar SQL function implemented in Python (the spec's plugin API)."""
        self.database.own_functions().register(name, fn, arg_types, return_type,
                                               vectorized=vectorized, strict=strict,
                                               volatile=volatile)

    def register_aggregate(self, name: str, fn: Callable[[list], Any], arg_types: Sequence[str],
                           return_type: str) -> None:
        self.database.own_functions().register_aggregate(name, fn, arg_types, return_type)

    def tables(self) -> list[str]:
        return self.database.tables()
