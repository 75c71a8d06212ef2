"""Notices and warnings: what a statement tells its client without failing.

PostgreSQL answers ``DROP TABLE IF EXISTS missing`` with ``NOTICE: table "missing"
does not exist, skipping`` and a stray ``COMMIT`` with ``WARNING: there is no
transaction in progress``. The engine records them on the session of the running
statement (reached through the statement's limits, statement_limits.py, so DDL actions
deep in the executor need no extra argument); the wire server sends them as
NoticeResponse messages and embedded users read ``Connection.notices``.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import statement_limits as _limits

MAX_KEPT = 100          # an embedded user who never reads them keeps only the newest


@dataclass(frozen=True)
class Notice:
    severity: str       # NOTICE, WARNING, INFO ...
    sqlstate: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}:  {self.message}"


def emit(message: str, sqlstate: str = "00000", severity: str = "NOTICE") -> None:
    """Record a notice for the session whose statement is running (none: dropped)."""
    current = _limits._CURRENT.get()
    sink = getattr(current, "notices", None) if current is not None else None
    if sink is None:
        return
    sink.append(Notice(severity, sqlstate, message))
    if len(sink) > MAX_KEPT:
        del sink[:len(sink) - MAX_KEPT]
