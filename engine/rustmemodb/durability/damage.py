"""Damage found in the files of a database, before it becomes an XX001 error.

Recovery, ``check`` and ``repair`` share one analysis (``recover.py``); it
raises ``Damage`` with the file and byte offset where the damage was found and,
for the log, where ``repair`` could cut it (``cut``: keep the bytes of that
segment before that offset, drop the rest of the log after it). ``error()``
turns it into the XX001 ``InternalError`` users see.
"""
from __future__ import annotations

from pathlib import Path

from .. import errors
from .problems import data_corrupted


class Damage(Exception):
    def __init__(self, message: str, *, file: Path | None = None, offset: int | None = None,
                 cut: tuple[Path, int] | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.offset = offset
        self.cut = cut
        self.detail = detail

    def where(self) -> str:
        if self.file is None:
            return ""
        where = str(self.file)
        return where if self.offset is None else f"{where} at byte offset {self.offset}"

    def error(self) -> errors.Error:
        where = self.where()
        message = self.message if not where or where in self.message \
            else f"{self.message} ({where})"
        hint = ("rustmemodb.repair(path) cuts the log at the damage and keeps a backup of "
                "what it cuts; or restore the directory from a backup."
                if self.cut is not None else
                "Restore the directory from a backup; rustmemodb.check(path) lists what "
                "is damaged.")
        err = data_corrupted(message, detail=self.detail or where or None, hint=hint)
        err.file = str(self.file) if self.file is not None else None
        err.offset = self.offset
        return err
