"""The last line of defence: no Python exception leaves the public API undressed.

Every failure a caller sees must be a PEP 249 exception carrying a SQLSTATE
(``rustmemodb.errors``). Known failure classes are raised with their proper codes where
they happen (22003 out of range, 22008 datetime overflow, 22021 bad encoding, 54000 value
too large, 54001 too complex, 57014 cancelled, 53200 out of memory); ``as_db_error`` maps
whatever still slips through -- a bug, by definition -- to a DB-API error, keeping the
original type in the message so it can be reported. ``guarded`` wraps the public entry
points of cursors and connections with it.
"""
from __future__ import annotations

import functools

from .. import errors


def as_db_error(exc: BaseException) -> errors.Error:
    """A DB-API error for any exception (an ``errors.Error`` is returned unchanged)."""
    if isinstance(exc, errors.Error):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return errors.sql_error("57014", "canceling statement due to user request")
    if isinstance(exc, RecursionError):
        return errors.sql_error("54001", "statement too complex",
                                hint="Nest expressions or subqueries less deeply.")
    if isinstance(exc, MemoryError):
        return errors.sql_error("53200", "out of memory",
                                hint="SET max_statement_memory to fail such statements earlier.")
    if isinstance(exc, UnicodeError):
        return errors.sql_error("22021", f"invalid byte sequence for encoding \"UTF8\": {exc}")
    import pyarrow as pa
    if isinstance(exc, pa.ArrowNotImplementedError):
        return errors.sql_error("0A000", f"not supported: {exc}")
    if isinstance(exc, pa.ArrowInvalid):
        from ..exec.semantics import translate
        return translate(exc)
    if isinstance(exc, ZeroDivisionError):
        return errors.division_by_zero()
    if isinstance(exc, OverflowError):
        return errors.sql_error("22003", f"value out of range: {exc}")
    return errors.InternalError(f"internal error: {type(exc).__name__}: {exc}")


def guarded(fn):
    """Decorator for public API methods: stray exceptions become DB-API errors."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except errors.Error:
            raise
        except (GeneratorExit, SystemExit):
            raise
        except BaseException as exc:
            raise as_db_error(exc) from exc
    return wrapper
