"""Shared building blocks of the lab's markup: escaping, value formatting, palette.

Values come from Arrow: a renderer slices the Arrow table to the rows it will
show and only then converts those rows to Python objects (``to_pylist``), so a
million-row result costs no more to display than twenty rows.

Formatting follows psql where it has an opinion: ``NULL`` is shown as a
dimmed ``NULL`` (psql shows nothing, which hides the difference from ``''``),
booleans as ``true``/``false``, timestamps with a space, JSON compactly.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

MAX_CELL_CHARS = 200

# One palette for every renderer. JupyterLab variables first, light fallbacks.
FONT = "var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, monospace)"
FG = "var(--jp-ui-font-color1, #1f2328)"
DIM = "var(--jp-ui-font-color2, #6e7781)"
BORDER = "var(--jp-border-color2, #d0d7de)"
HEAD_BG = "var(--jp-layout-color2, #f6f8fa)"
ADDED_BG = "rgba(46, 160, 67, 0.18)"
REMOVED_BG = "rgba(248, 81, 73, 0.18)"
CHANGED_BG = "rgba(210, 153, 34, 0.28)"
HOT = "#d1242f"
ACCENT = "#0969da"

NUMERIC_TYPES = {"INTEGER", "BIGINT", "SMALLINT", "INT", "FLOAT", "DOUBLE", "REAL", "NUMERIC", "DECIMAL"}


def esc(value: object) -> str:
    """HTML-escape ``str(value)`` (quotes included)."""
    return html.escape(str(value), quote=True)


def format_value(value: Any) -> str:
    """Plain-text form of one cell value (``None`` → ``NULL``)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value)


def _float_text(value: float) -> str:
    """Floats with 15 significant digits (``3477.69``, not ``3477.6899999999996``).

    Display only: the data keeps every bit. 15 digits is what a float64 holds
    exactly in decimal, and what psql printed before PostgreSQL 12.
    """
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    text = format(value, ".15g")
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def clip(text: str, limit: int = MAX_CELL_CHARS) -> str:
    """Shorten ``text`` to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell_html(value: Any, *, numeric: bool = False, style: str = "") -> str:
    """One ``<td>``: escaped, clipped, NULL dimmed, numbers right-aligned."""
    align = "text-align:right;" if numeric else "text-align:left;"
    if value is None:
        return f'<td style="{align}{style}"><span style="color:{DIM};font-style:italic">NULL</span></td>'
    text = format_value(value)
    title = f' title="{esc(clip(text, 2000))}"' if len(text) > MAX_CELL_CHARS else ""
    return f'<td style="{align}white-space:pre;{style}"{title}>{esc(clip(text))}</td>'


def is_numeric(sql_type: str | None, arrow_type: pa.DataType | None = None) -> bool:
    """Whether a column holds numbers (right-aligned in tables)."""
    if sql_type and sql_type.split("(")[0].upper() in NUMERIC_TYPES:
        return True
    if arrow_type is not None:
        return bool(pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type))
    return False


def rows_of(table: pa.Table, limit: int | None) -> list[tuple[Any, ...]]:
    """The first ``limit`` rows of ``table`` as tuples (slicing Arrow first)."""
    if limit is not None and limit >= 0:
        table = table.slice(0, limit)
    columns = [col.to_pylist() for col in table.columns]
    return list(zip(*columns)) if columns else [() for _ in range(table.num_rows)]


def plural(n: int, word: str) -> str:
    """``1 row`` / ``3 rows`` with thousands separators."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def format_ms(seconds: float | None) -> str:
    """A duration for humans: ``0.42 ms``, ``12.3 ms``, ``1.25 s``."""
    if seconds is None:
        return ""
    ms = seconds * 1000.0
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{seconds:.2f} s"


def container(body: str, *, extra_style: str = "") -> str:
    """Wrap a renderer's output in the lab's outer ``<div>``."""
    return (
        f'<div class="rmdb-lab" style="font-family:{FONT};font-size:12px;color:{FG};'
        f'max-width:100%;overflow-x:auto;{extra_style}">{body}</div>'
    )


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    """A psql-style aligned text table (header, rule, rows)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def fmt(cells: Sequence[str], header: bool = False) -> str:
        parts = []
        for cell, width, num in zip(cells, widths, numeric):
            parts.append(cell.center(width) if header else (cell.rjust(width) if num else cell.ljust(width)))
        return " " + " | ".join(parts)

    rule = "-" + "-+-".join("-" * w for w in widths) + "-"
    return "\n".join([fmt(headers, header=True), rule, *(fmt(r) for r in rows)])
