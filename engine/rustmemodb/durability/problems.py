"""The two ways durability fails, as engine errors with a SQLSTATE and a hint.

* ``58030 io_error`` (OperationalError): the file system refused something, or the
  path is not a database directory, or another process holds it.
* ``XX001 data_corrupted`` (InternalError): files are ours but their content is
  damaged beyond what recovery may silently skip (only a torn *log tail* is
  skipped silently: that is what a crash leaves behind).
"""
from __future__ import annotations

from .. import errors


def io_error(message: str, *, hint: str | None = None, detail: str | None = None) -> errors.Error:
    return errors.OperationalError(message, sqlstate="58030", hint=hint, detail=detail)


def data_corrupted(message: str, *, hint: str | None = None,
                   detail: str | None = None) -> errors.Error:
    return errors.InternalError(
        message, sqlstate="XX001", detail=detail,
        hint=hint or "The database files are damaged; restore the directory from a backup.")


def object_in_use(message: str, *, hint: str | None = None) -> errors.Error:
    return errors.OperationalError(message, sqlstate="55006", hint=hint)
