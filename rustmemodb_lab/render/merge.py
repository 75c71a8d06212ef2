"""A merge's outcome: what was applied, or the conflicts that stopped it.

A three-way merge compares source and target with their common ancestor. A
cell both sides changed differently is a conflict; the lab shows every
conflict as a row (table, key, column, base value, ours = target, theirs =
source) and applies nothing until they are resolved, by re-running the merge
with ``--ours`` / ``--theirs`` or by fixing the data with SQL.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rustmemodb_lab.render.html import ADDED_BG, DIM, HEAD_BG, HOT, REMOVED_BG, cell_html, esc, plural, rows_of

_SIDE_BG = {"ours": ADDED_BG, "theirs": REMOVED_BG}


def counts_line(counts: dict[str, Any]) -> str:
    """``trades: +1 added, ~2 changed`` style summary of merge counts."""
    if not counts:
        return "no changes"
    parts = []
    for key, value in counts.items():
        parts.append(f"{key}: {_counts_value(value)}")
    return "; ".join(parts)


def _counts_value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in value.items())
    return f"{value:,}" if isinstance(value, int) else str(value)


def merge_html(source: str, target: str, applied: bool, conflicts: pa.Table | None, counts: dict, *, limit: int | None) -> str:
    """The merge summary, and the conflict table when there are conflicts."""
    n = conflicts.num_rows if conflicts is not None else 0
    if applied:
        head = f'<div><b>merged {esc(source)} into {esc(target)}</b> <span style="color:{DIM}">{esc(counts_line(counts))}</span></div>'
        return head
    head = (
        f'<div style="color:{HOT}"><b>merge of {esc(source)} into {esc(target)} stopped: '
        f"{esc(plural(n, 'conflict'))}; nothing was applied</b></div>"
        f'<div style="color:{DIM}">resolve with --ours (keep {esc(target)}) or --theirs (take {esc(source)}), '
        f"or change the rows with SQL and merge again</div>"
    )
    return head + _conflict_table(conflicts, limit) if n else head


def _conflict_table(conflicts: pa.Table, limit: int | None) -> str:
    names = conflicts.column_names
    head = "".join(f'<th style="background:{HEAD_BG};padding:2px 8px;text-align:left">{esc(c)}</th>' for c in names)
    body = ""
    for row in rows_of(conflicts, limit):
        cells = "".join(
            cell_html(v, style=f"padding:2px 8px;background:{_SIDE_BG.get(c, 'transparent')}") for c, v in zip(names, row)
        )
        body += f'<tr class="rmdb-conflict">{cells}</tr>'
    return f'<table class="rmdb-conflicts" style="border-collapse:collapse;margin-top:4px"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
