"""The row-level diff between two branches, as a grid per table.

Rows are grouped as the engine reports them: removed (red, ``−``), added
(green, ``+``) and changed (amber, ``~``). In a changed row only the cells
that differ are highlighted and show ``before → after``; keys and unchanged
cells stay plain, so the eye goes to what moved. Each table gets a count line
(``+3 added · −1 removed · ~2 changed``); at most ``limit`` rows per group are
drawn, with the remainder counted, slicing Arrow before converting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from rustmemodb_lab.render.html import (
    ADDED_BG,
    BORDER,
    CHANGED_BG,
    DIM,
    HEAD_BG,
    REMOVED_BG,
    cell_html,
    esc,
    format_value,
    is_numeric,
    rows_of,
)

# Tables without a primary key are matched by row identity; the engine shows it as
# each side's rowid (a changed row keeps it: an UPDATE is one changed row).
ROWID = "_rowid"
_ROWID_TITLE = (' title="row identity: the table has no primary key, so rows are matched by '
                'the id each row keeps through UPDATE"')

_MARK = {"added": ("+", ADDED_BG), "removed": ("−", REMOVED_BG), "changed": ("~", "transparent")}


@dataclass
class TableDiff:
    """One table's differences, in the engine's terms."""

    table: str
    added: pa.Table
    removed: pa.Table
    changed_before: pa.Table
    changed_after: pa.Table
    key_columns: list[str]
    counts: dict[str, int]

    @property
    def columns(self) -> list[str]:
        for t in (self.added, self.removed, self.changed_after):
            if t is not None and t.num_columns:
                return t.column_names
        return []

    def count(self, kind: str) -> int:
        if kind in self.counts:
            return int(self.counts[kind])
        table = {"added": self.added, "removed": self.removed, "changed": self.changed_after}[kind]
        return table.num_rows if table is not None else 0


def counts_text(diff: TableDiff) -> str:
    """``+3 added · −1 removed · ~2 changed``."""
    return f"+{diff.count('added'):,} added · −{diff.count('removed'):,} removed · ~{diff.count('changed'):,} changed"


def diff_html(diff: TableDiff, *, limit: int | None) -> str:
    """One table's diff grid (title with counts, then the grouped rows)."""
    title = (
        f'<div style="margin:6px 0 3px"><b>{esc(diff.table)}</b> '
        f'<span class="rmdb-diff-counts" style="color:{DIM}">{esc(counts_text(diff))}</span></div>'
    )
    columns = diff.columns
    if not columns or not any(diff.count(k) for k in _MARK):
        return title + f'<div style="color:{DIM}">no differences</div>'
    numeric = [_is_numeric(diff, c) for c in columns]
    head = f'<th style="background:{HEAD_BG};padding:2px 6px"></th>' + "".join(
        f'<th style="background:{HEAD_BG};padding:2px 8px;text-align:{"right" if n else "left"}"'
        f'{_ROWID_TITLE if c == ROWID else ""}>'
        f'{esc(c)}{_key_badge(c in diff.key_columns)}</th>'
        for c, n in zip(columns, numeric)
    )
    body = _group_rows(diff, "removed", diff.removed, numeric, limit)
    body += _group_rows(diff, "added", diff.added, numeric, limit)
    body += _changed_rows(diff, numeric, limit)
    grid = f'<table class="rmdb-diff" style="border-collapse:collapse"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return title + grid


def _key_badge(is_key: bool) -> str:
    if not is_key:
        return ""
    return f' <span title="key column" style="font-size:9px;color:{DIM};border:1px solid {BORDER};border-radius:3px;padding:0 2px">key</span>'


def _is_numeric(diff: TableDiff, column: str) -> bool:
    for t in (diff.added, diff.removed, diff.changed_after):
        if t is not None and column in t.column_names:
            return is_numeric(None, t.schema.field(column).type)
    return False


def _mark_cell(kind: str) -> str:
    mark, _ = _MARK[kind]
    return f'<td style="color:{DIM};padding:2px 6px;text-align:center" title="{kind}">{mark}</td>'


def _group_rows(diff: TableDiff, kind: str, table: pa.Table | None, numeric: list[bool], limit: int | None) -> str:
    if table is None or table.num_rows == 0:
        return ""
    _, bg = _MARK[kind]
    rows = rows_of(table.select(diff.columns), limit)
    html = "".join(
        f'<tr class="rmdb-diff-{kind}" style="background:{bg}">{_mark_cell(kind)}'
        + "".join(cell_html(v, numeric=n, style="padding:2px 8px") for v, n in zip(row, numeric))
        + "</tr>"
        for row in rows
    )
    return html + _more_row(table.num_rows, len(rows), kind, len(numeric))


def _changed_rows(diff: TableDiff, numeric: list[bool], limit: int | None) -> str:
    before, after = diff.changed_before, diff.changed_after
    if after is None or after.num_rows == 0:
        return ""
    old_rows = rows_of(before.select(diff.columns), limit)
    new_rows = rows_of(after.select(diff.columns), limit)
    html = "".join(
        f'<tr class="rmdb-diff-changed">{_mark_cell("changed")}'
        + "".join(_changed_cell(o, n, num) for o, n, num in zip(old, new, numeric))
        + "</tr>"
        for old, new in zip(old_rows, new_rows)
    )
    return html + _more_row(after.num_rows, len(new_rows), "changed", len(numeric))


def _changed_cell(old: Any, new: Any, numeric: bool) -> str:
    if old == new or (old != old and new != new):
        return cell_html(new, numeric=numeric, style="padding:2px 8px")
    align = "right" if numeric else "left"
    return (
        f'<td class="rmdb-diff-cell" style="background:{CHANGED_BG};padding:2px 8px;text-align:{align};white-space:pre">'
        f'<span style="text-decoration:line-through;color:{DIM}">{esc(format_value(old))}</span>'
        f" → <b>{esc(format_value(new))}</b></td>"
    )


def _more_row(total: int, shown: int, kind: str, width: int) -> str:
    if total <= shown:
        return ""
    return (
        f'<tr><td></td><td colspan="{width}" style="color:{DIM};padding:2px 8px;border-top:1px dashed {BORDER}">'
        f"… {total - shown:,} more {kind} rows</td></tr>"
    )


def diff_text(diff: TableDiff) -> str:
    """Plain-text summary of one table's diff (counts only)."""
    return f"{diff.table}: {counts_text(diff)}"
