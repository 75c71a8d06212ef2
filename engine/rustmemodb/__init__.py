"""rustmemodb: an in-memory, PostgreSQL-flavoured SQL database with O(1) fork.

    >>> import rustmemodb
    >>> conn = rustmemodb.connect()
    >>> _ = conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    >>> _ = conn.execute("INSERT INTO t VALUES (1, 'ada')")
    >>> conn.execute("SELECT name FROM t WHERE id = ?", [1]).fetchall()
    [('ada',)]

This module only re-exports; the life of a statement is told in ``session.py``.
"""
from __future__ import annotations

from .api.connection import Connection
from .api.cursor import Cursor
from .database import Database
from .errors import (DatabaseError, DataError, Error, IntegrityError, InterfaceError,
                     InternalError, NotSupportedError, OperationalError, ProgrammingError,
                     QueryCanceled, SerializationFailure, Warning)
from .sql.split import split_statements

apilevel = "2.0"
threadsafety = 2          # threads may share the module and connections (not cursors)
paramstyle = "qmark"      # also accepted: numeric ($1), named (:name), format (%s)

__version__ = "0.1.0"


def connect(path: "str | Database | Connection | None" = None, durability: str = "sync", *,
            file_root: str | None = None, user: str | None = None,
            password: str | None = None, **options) -> Connection:
    """Open a connection to a new in-memory database, or to the file-backed one in
    directory ``path`` (created if missing; durability 'sync', 'async' or 'none'),
    or another session on a ``Database``/``Connection`` given as ``path``.

    ``file_root``: files that SQL reads or writes (``read_csv``, ``COPY``) resolve
    relative to this directory and may not leave it (``42501``).

    ``user``/``password``: log in as that role (``28P01`` for a wrong password or an
    unknown user, ``28000`` for a role without LOGIN); its privileges then apply to
    every statement. A database without roles accepts any user; a connection
    opened without ``user`` is the implicit superuser (the process owns the files)."""
    if isinstance(path, (Database, Connection)):
        db = path if isinstance(path, Database) else path.database
        conn = db.connect(user, password)
    elif path is None or path == ":memory:":
        conn = Database().connect(user, password)
    else:
        from .durability import open_database
        options.setdefault("close_with_last_connection", True)
        db = open_database(path, durability, **options)
        try:
            conn = db.connect(user, password)
        except Error:
            if options.get("close_with_last_connection") and hasattr(db, "close"):
                db.close()
            raise
    if file_root is not None:
        import os
        conn._session.file_root_limit = os.path.realpath(file_root)
    return conn


def serve(database, host: str = "127.0.0.1", port: int = 0, users: dict | None = None,
          **options):
    """Serve ``database`` over the PostgreSQL wire protocol (see ``rustmemodb.server``)."""
    from .server import serve as _serve
    return _serve(database, host, port, users, **options)


def check(path):
    """Verify the file-backed database in directory ``path`` without modifying it:
    checksums, manifests, the log and its replay. Returns a ``Report`` (``.ok``,
    ``.status``, ``.problem``, ``.file``, ``.offset``)."""
    from .durability import check as _check
    return _check(path)


def repair(path):
    """Cut damage out of the database in directory ``path`` (the log is cut at the
    first damaged record; everything cut is kept in ``path/repair-backup-<time>/``).
    Returns the ``check`` report of the repaired directory."""
    from .durability import repair as _repair
    return _repair(path)


__all__ = [
    "connect", "serve", "check", "repair", "Connection", "Cursor", "Database", "split_statements",
    "Error", "Warning", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
    "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
    "QueryCanceled", "SerializationFailure", "apilevel", "threadsafety", "paramstyle",
]
