"""ResultSet: what ``%sql`` returns for one statement.

A result keeps the engine's Arrow table as is; nothing is converted to Python
objects until someone asks (``to_pandas()``, ``rows()``) or a renderer draws
the first ``displaylimit`` rows. Statements without rows (DDL, DML) have no
table and show a one-line status instead (``INSERT · 3 rows · 0.4 ms``).

Display goes through ``_repr_mimebundle_`` (``text/html`` and ``text/plain``,
plus the labextension's paged grid ``application/vnd.rustmemodb.result+json``
for results with rows) so the same object looks right in JupyterLab, VS Code,
exported HTML and a terminal IPython. ``displaylimit`` is captured when the statement runs, so a
later ``%config`` does not change an output already on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from rustmemodb.api.pandas_out import to_pandas

from rustmemodb_lab.render.html import DIM, container, esc, format_ms, plural, rows_of
from rustmemodb_lab.render.table import TableView, table_html, table_text

_ROWCOUNT_VERBS = {"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"}


class ResultSet:
    """The rows (or the status) of one executed statement."""

    def __init__(
        self,
        table: pa.Table | None,
        *,
        statement_type: str = "SELECT",
        sql_types: Sequence[str] | None = None,
        rowcount: int = -1,
        elapsed: float | None = None,
        sql: str = "",
        branch: str | None = None,
        displaylimit: int | None = 20,
    ) -> None:
        self._table = table
        self.statement_type = statement_type
        self.sql_types = list(sql_types) if sql_types else _arrow_type_names(table)
        self.rowcount = rowcount
        self.elapsed = elapsed
        self.sql = sql
        self.branch = branch
        self.displaylimit = displaylimit if displaylimit else None

    # -- data ---------------------------------------------------------------
    @property
    def has_rows(self) -> bool:
        """True when the statement produced a result table (even an empty one)."""
        return self._table is not None

    @property
    def columns(self) -> list[str]:
        return self._table.column_names if self._table is not None else []

    def __len__(self) -> int:
        return self._table.num_rows if self._table is not None else max(self.rowcount, 0)

    def to_arrow(self) -> pa.Table:
        """The whole result as a ``pyarrow.Table`` (no copy)."""
        if self._table is None:
            raise ValueError(f"{self.statement_type} returned no rows to convert")
        return self._table

    def to_pandas(self) -> Any:
        """The whole result as a pandas ``DataFrame``."""
        return to_pandas(self.to_arrow())

    df = to_pandas
    arrow = to_arrow

    def to_polars(self) -> Any:
        """The whole result as a polars ``DataFrame`` (polars must be installed)."""
        import polars

        return polars.from_arrow(self.to_arrow())

    def rows(self, limit: int | None = None) -> list[tuple[Any, ...]]:
        """Rows as tuples; ``limit`` slices the Arrow table before converting."""
        return rows_of(self.to_arrow(), limit)

    # -- display ------------------------------------------------------------
    def status_text(self) -> str:
        """``INSERT · 3 rows · 0.4 ms`` for statements without a result table."""
        parts = [self.statement_type]
        if self.statement_type.split()[0] in _ROWCOUNT_VERBS and self.rowcount >= 0:
            parts.append(plural(self.rowcount, "row"))
        if self.elapsed is not None:
            parts.append(format_ms(self.elapsed))
        if self.branch:
            parts.append(f"branch {self.branch}")
        return " · ".join(parts)

    def view(self, **overrides: Any) -> TableView:
        """The drawing description of this result (see ``render.table``)."""
        fields = dict(
            table=self._table,
            sql_types=self.sql_types,
            limit=self.displaylimit,
            elapsed=self.elapsed,
            branch=self.branch,
        )
        fields.update(overrides)
        return TableView(**fields)

    def _repr_html_(self) -> str:
        if self._table is None:
            return container(f'<span style="color:{DIM}">{esc(self.status_text())}</span>')
        return table_html(self.view())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        if self._table is not None:
            # JupyterLab with the labextension draws this as a paged, virtualised grid;
            # other front ends and exports use the HTML above.
            from rustmemodb_lab.render import grid

            bundle[grid.MIME] = grid.bundle(self._table, self.sql_types, sql=self.sql, branch=self.branch,
                                            elapsed=self.elapsed)
        return bundle

    def __repr__(self) -> str:
        if self._table is None:
            return self.status_text()
        return table_text(self.view())


def _arrow_type_names(table: pa.Table | None) -> list[str]:
    if table is None:
        return []
    return [str(f.type) for f in table.schema]
