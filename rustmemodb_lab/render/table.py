"""Result tables: the HTML grid and the psql-like text of one result.

A table shows the column names with their SQL types, at most ``limit`` rows
(sliced from Arrow before any conversion), and a footer with the total row
count, the elapsed time and the branch it ran on. ``highlight`` marks cells
that differ from another result (used by the side-by-side view).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from rustmemodb_lab.render.html import (
    BORDER,
    CHANGED_BG,
    DIM,
    HEAD_BG,
    cell_html,
    container,
    esc,
    format_ms,
    format_value,
    is_numeric,
    plural,
    rows_of,
    text_table,
)


@dataclass
class TableView:
    """What a result table needs to be drawn."""

    table: pa.Table
    sql_types: Sequence[str]
    limit: int | None
    elapsed: float | None = None
    branch: str | None = None
    title: str | None = None
    highlight: set[tuple[int, int]] = field(default_factory=set)

    @property
    def shown_rows(self) -> list[tuple]:
        return rows_of(self.table, self.limit)

    @property
    def numeric(self) -> list[bool]:
        return [is_numeric(t, f.type) for t, f in zip(self.sql_types, self.table.schema)]


def footer_text(view: TableView) -> str:
    """``3 rows · 1.2 ms · main`` or ``showing 20 of 1,000 rows · …``."""
    total = view.table.num_rows
    shown = total if view.limit is None else min(view.limit, total)
    parts = [plural(total, "row") if shown >= total else f"showing {shown:,} of {plural(total, 'row')}"]
    if view.elapsed is not None:
        parts.append(format_ms(view.elapsed))
    if view.branch:
        parts.append(f"branch {view.branch}")
    return " · ".join(parts)


def table_html(view: TableView) -> str:
    """The result grid as a self-contained HTML fragment."""
    names = view.table.column_names
    head = "".join(
        f'<th style="text-align:{"right" if num else "left"};background:{HEAD_BG};'
        f'border-bottom:1px solid {BORDER};padding:3px 8px">{esc(name)}'
        f'<div style="font-weight:normal;color:{DIM};font-size:10px">{esc(sql_type)}</div></th>'
        for name, sql_type, num in zip(names, view.sql_types, view.numeric)
    )
    body = "".join(_row_html(i, row, view) for i, row in enumerate(view.shown_rows))
    title = f'<div style="font-weight:600;margin:2px 0 4px">{esc(view.title)}</div>' if view.title else ""
    footer = f'<div class="rmdb-footer" style="color:{DIM};margin-top:4px">{esc(footer_text(view))}</div>'
    grid = (
        f'<table class="rmdb-table" style="border-collapse:collapse;margin:0">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
    return container(title + grid + footer)


def _row_html(index: int, row: tuple, view: TableView) -> str:
    cells = []
    for col, (value, num) in enumerate(zip(row, view.numeric)):
        hot = f"background:{CHANGED_BG};" if (index, col) in view.highlight else ""
        cells.append(cell_html(value, numeric=num, style=f"padding:2px 8px;{hot}"))
    return f"<tr>{''.join(cells)}</tr>"


def table_text(view: TableView) -> str:
    """The result as psql-like aligned text, with the footer line."""
    rows = [[format_value(v) for v in row] for row in view.shown_rows]
    headers = view.table.column_names
    return text_table(headers, rows, view.numeric) + f"\n({footer_text(view)})"
