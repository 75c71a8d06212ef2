"""Several branches' outputs next to each other (``%%sql --on main,exp1``).

Panels are laid out in a wrapping flex row, one per branch, each titled with
the branch name. For result tables, :func:`differing_cells` compares every
branch's shown rows with the first branch's, position by position, so a cell
whose value differs (or a row the first branch lacks) is highlighted. That is
a positional comparison: give the query an ``ORDER BY`` for it to mean
something; ``--diff`` is the keyed, row-level comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from rustmemodb_lab.render.html import BORDER, container, esc, rows_of


def side_by_side_html(panels: Sequence[tuple[str, str]]) -> str:
    """``panels`` = ``[(branch, inner_html), ...]`` in a wrapping row."""
    cells = "".join(
        f'<div class="rmdb-panel" data-branch="{esc(name)}" style="flex:1 1 0;min-width:220px;'
        f'border:1px solid {BORDER};border-radius:4px;padding:6px 8px">'
        f'<div style="font-weight:600;margin-bottom:4px">⎇ {esc(name)}</div>{inner}</div>'
        for name, inner in panels
    )
    return container(f'<div class="rmdb-side-by-side" style="display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start">{cells}</div>')


def differing_cells(tables: Sequence[pa.Table | None], limit: int | None) -> list[set[tuple[int, int]]]:
    """For each table, the ``(row, column)`` cells that differ from the first table."""
    if not tables or tables[0] is None:
        return [set() for _ in tables]
    base = rows_of(tables[0], limit)
    marks: list[set[tuple[int, int]]] = [set()]
    for table in tables[1:]:
        marks.append(_differences(base, rows_of(table, limit)) if table is not None else set())
    return marks


def _differences(base: list[tuple], rows: list[tuple]) -> set[tuple[int, int]]:
    out = set()
    for i, row in enumerate(rows):
        other = base[i] if i < len(base) else None
        for j, value in enumerate(row):
            if other is None or j >= len(other) or not _same(other[j], value):
                out.add((i, j))
    return out


def _same(a: object, b: object) -> bool:
    return a == b or (a != a and b != b)  # NaN equals NaN here
