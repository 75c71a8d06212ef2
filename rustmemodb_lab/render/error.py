"""SQL errors as people expect them from psql: SQLSTATE, message, a caret.

A failed statement is shown with the line of the cell it sits on and a caret
under the character the engine blamed (``Error.position`` is relative to the
statement; ``CellError.cell_position`` already maps it into the cell). Then
the hint, and what happened to the rest of the cell: which statements ran,
that the failing one's transaction was rolled back, which were not run.

Two forms: ``error_text`` (ANSI-free text used as the traceback IPython
prints) and ``error_html`` (the same content, used by ``--expect-error``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rustmemodb_lab.render.html import BORDER, DIM, HOT, REMOVED_BG, container, esc
from rustmemodb_lab.sqltext import line_and_column

if TYPE_CHECKING:
    from rustmemodb_lab.errors import SqlCellError

_CONTEXT = 70


def caret_lines(text: str, pos: int) -> tuple[str, str, int]:
    """The ``LINE n:`` source line around ``pos`` and the caret line under it.

    >>> caret_lines("SELECT 1;\\nSELECT nope FROM t", 17)
    ('LINE 2: SELECT nope FROM t', '               ^', 2)
    """
    line_no, col = line_and_column(text, pos)
    line = text.split("\n")[line_no]
    start = max(0, col - _CONTEXT)
    shown = ("…" if start else "") + line[start : col + _CONTEXT] + ("…" if len(line) > col + _CONTEXT else "")
    prefix = f"LINE {line_no + 1}: " + ("…" if start else "")
    pad = "".join("\t" if c == "\t" else " " for c in line[start:col])
    return f"LINE {line_no + 1}: {shown}", " " * len(prefix) + pad + "^", line_no + 1


def outcome_text(err: SqlCellError) -> str:
    """What happened to the other statements of the cell."""
    i, n = err.index + 1, err.count
    parts = []
    if i > 1:
        parts.append(f"statement{'s' if i > 2 else ''} {_span(1, i - 1)} ran")
    parts.append("the failing statement's transaction was rolled back" if err.rolled_back else "nothing was changed")
    if i < n:
        parts.append(f"statement{'s' if n - i > 1 else ''} {_span(i + 1, n)} did not run")
    return "; ".join(parts).capitalize() + "."


def _span(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}-{b}"


def error_text(err: SqlCellError) -> str:
    """The error as plain text (what ``_render_traceback_`` prints)."""
    lines = [f"{err.error_class}: [{err.sqlstate or '-----'}] {err.message}"]
    where = f"statement {err.index + 1} of {err.count}" if err.count > 1 else "statement"
    lines.append(f"  in {where}" + (f" on branch {err.branch}" if err.branch else "")
                 + (f" on connection {err.connection}" if err.connection else ""))
    if err.cell_position is not None:
        source, caret, _ = caret_lines(err.cell_text, err.cell_position)
        lines += [source, caret]
    else:
        lines.append("  " + err.statement_text.strip().splitlines()[0][:_CONTEXT * 2] if err.statement_text.strip() else "")
    if err.hint:
        lines.append(f"HINT:  {err.hint}")
    lines.append(outcome_text(err))
    return "\n".join(line for line in lines if line is not None)


def error_html(err: SqlCellError) -> str:
    """The error as an HTML box (red rule, caret under the failing position)."""
    head = (
        f'<div style="color:{HOT};font-weight:600">{esc(err.error_class)}: '
        f"[{esc(err.sqlstate or '-----')}] {esc(err.message)}</div>"
    )
    where = (f"statement {err.index + 1} of {err.count}" if err.count > 1 else "statement")
    where += f" · branch {err.branch}" if err.branch else ""
    where += f" · connection {err.connection}" if err.connection else ""
    body = f'<div style="color:{DIM}">{esc(where)}</div>'
    if err.cell_position is not None:
        source, caret, _ = caret_lines(err.cell_text, err.cell_position)
        body += f'<pre style="margin:4px 0;background:none">{esc(source)}\n<span style="color:{HOT}">{esc(caret)}</span></pre>'
    if err.hint:
        body += f"<div><b>HINT:</b> {esc(err.hint)}</div>"
    body += f'<div style="color:{DIM}">{esc(outcome_text(err))}</div>'
    box = f"border-left:3px solid {HOT};background:{REMOVED_BG};padding:4px 8px;border-radius:2px;outline:1px solid {BORDER}"
    return container(f'<div class="rmdb-error" style="{box}">{head}{body}</div>')
