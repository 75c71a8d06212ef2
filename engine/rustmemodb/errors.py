"""The error taxonomy: PEP 249 exception classes that carry a PostgreSQL SQLSTATE.

Every failure the engine reports is one of these. Callers (DB-API users, the
notebook, the wire server) read ``.sqlstate``, ``.message``, ``.hint`` and
``.position`` (0-based character offset into the statement, when known) instead
of parsing text. The class follows from the SQLSTATE class, as psycopg does, so
``IntegrityError`` is always a 23xxx and ``ProgrammingError`` a 42xxx.
"""
from __future__ import annotations


class Warning(Exception):  # noqa: A001 - PEP 249 requires this name
    """PEP 249 warning (never raised by the engine today)."""


class Error(Exception):
    """Base of every engine error; carries SQLSTATE, message, hint, position."""

    sqlstate = "XX000"

    def __init__(self, message: str, *, sqlstate: str | None = None,
                 hint: str | None = None, position: int | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if sqlstate is not None:
            self.sqlstate = sqlstate
        self.hint = hint
        self.position = position
        self.detail = detail

    def __str__(self) -> str:
        text = f"{self.message} (SQLSTATE {self.sqlstate})"
        if self.detail:
            text += f"\nDETAIL: {self.detail}"
        if self.hint:
            text += f"\nHINT: {self.hint}"
        return text


class InterfaceError(Error):
    sqlstate = "08000"


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    sqlstate = "22000"


class OperationalError(DatabaseError):
    sqlstate = "58000"


class IntegrityError(DatabaseError):
    sqlstate = "23000"


class InternalError(DatabaseError):
    sqlstate = "XX000"


class ProgrammingError(DatabaseError):
    sqlstate = "42000"


class NotSupportedError(DatabaseError):
    sqlstate = "0A000"


class SerializationFailure(OperationalError):
    sqlstate = "40001"


class QueryCanceled(OperationalError):
    sqlstate = "57014"


class InFailedTransaction(InternalError):
    sqlstate = "25P02"


# SQLSTATE class (first two characters) -> exception class, as psycopg maps them.
_CLASS_BY_PREFIX = {
    "0A": NotSupportedError,
    "3F": ProgrammingError,
    "08": OperationalError,
    "21": ProgrammingError,
    "22": DataError,
    "23": IntegrityError,
    "25": InternalError,
    "40": OperationalError,
    "42": ProgrammingError,
    "53": OperationalError,
    "57": OperationalError,
}

_EXACT = {"40001": SerializationFailure, "57014": QueryCanceled, "25P02": InFailedTransaction}


def sql_error(sqlstate: str, message: str, *, hint: str | None = None,
              position: int | None = None, detail: str | None = None) -> Error:
    """Build the exception object whose class matches ``sqlstate``."""
    cls = _EXACT.get(sqlstate) or _CLASS_BY_PREFIX.get(sqlstate[:2], DatabaseError)
    return cls(message, sqlstate=sqlstate, hint=hint, position=position, detail=detail)


# Named constructors for the errors raised from many places, so the codes live here.
def undefined_table(name: str, position: int | None = None) -> Error:
    return sql_error("42P01", f'relation "{name}" does not exist', position=position)


def undefined_column(name: str, position: int | None = None, hint: str | None = None) -> Error:
    return sql_error("42703", f'column "{name}" does not exist', position=position, hint=hint)


def duplicate_column(names, position: int | None = None) -> Error | None:
    """42701 for the first name in ``names`` given twice (a table's, a view's or a
    column list's columns), or None when each is there once."""
    seen: set = set()
    for name in names:
        if name in seen:
            return sql_error("42701", f'column "{name}" specified more than once',
                             position=position)
        seen.add(name)
    return None


def datatype_mismatch(message: str, hint: str | None = None, position: int | None = None) -> Error:
    return sql_error("42804", message, hint=hint, position=position)


def undefined_function(message: str, hint: str | None = None, position: int | None = None) -> Error:
    return sql_error("42883", message, hint=hint, position=position)


def division_by_zero() -> Error:
    return sql_error("22012", "division by zero")


def numeric_out_of_range(what: str = "bigint") -> Error:
    return sql_error("22003", f"{what} out of range")


def not_supported(feature: str, hint: str | None = None,
                  position: int | None = None) -> Error:
    return sql_error("0A000", f"{feature} is not supported", hint=hint, position=position)


def syntax_error(message: str, position: int | None = None, hint: str | None = None) -> Error:
    return sql_error("42601", message, position=position, hint=hint)


def invalid_text(type_name: str, text: str) -> Error:
    return sql_error("22P02", f'invalid input syntax for type {type_name.lower()}: "{text}"')
