"""The two kinds of failure a ``%sql`` cell reports.

* A *usage* problem (bad option, unknown branch, undefined ``:var``) is an
  IPython ``UsageError``: IPython prints one line, no traceback.
* A *SQL* problem is a :class:`SqlCellError` wrapping the engine's
  ``rustmemodb.Error``. It knows where the failing statement sits in the cell,
  so it can print psql's ``LINE n:`` with a caret, and it says what happened to
  the other statements. IPython calls ``_render_traceback_`` instead of
  printing a Python traceback (the jupysql trick), so a notebook shows the SQL
  error, not the lab's call stack. The original exception stays reachable as
  ``__cause__`` and ``.error``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from rustmemodb_lab.render.error import error_html, error_text

__all__ = ["LabUsageError", "SqlCellError", "UsageError", "expecting_error"]


def expecting_error(expect_error: bool, run: Callable[[], Any]) -> Any:
    """``run()`` under ``--expect-error``: with it, the cell's SQL error is the result and
    success is a usage error; without it, ``run()``'s result (its error propagates)."""
    try:
        value = run()
    except SqlCellError as err:
        if expect_error:
            return err
        raise
    if expect_error:
        raise LabUsageError("--expect-error: the cell was expected to fail, but every statement succeeded")
    return value


class LabUsageError(UsageError):
    """A ``%sql`` command that cannot run as written (shown without traceback)."""

    def _render_traceback_(self) -> list[str]:
        # IPython special-cases ``UsageError`` itself only, not subclasses.
        return [f"UsageError: {self}"]


@dataclass(eq=False, repr=False)
class SqlCellError(Exception):
    """A statement of a cell failed; the cell stopped there."""

    error: BaseException
    sqlstate: str | None
    message: str
    hint: str | None
    error_class: str
    statement_text: str
    cell_text: str
    index: int
    count: int
    cell_position: int | None
    branch: str | None
    rolled_back: bool
    connection: str | None = None  # an external (SQLAlchemy) connection, instead of a branch

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return error_text(self)

    def __repr__(self) -> str:
        return error_text(self)

    def _render_traceback_(self) -> list[str]:
        return error_text(self).splitlines()

    def _repr_html_(self) -> str:
        return error_html(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": error_text(self), "text/html": error_html(self)}
