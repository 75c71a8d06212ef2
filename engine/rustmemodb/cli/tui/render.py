"""Text for the message pane: errors with a caret under the position, statuses, timing."""
from __future__ import annotations

from .session import ErrorInfo, Outcome


def error_lines(error: ErrorInfo, sql: str) -> list[str]:
    """``ERROR 42703: message``, the statement line at the position, a caret, the hint."""
    head = f"ERROR {error.sqlstate}: {error.message}" if error.sqlstate else f"ERROR: {error.message}"
    lines = [head]
    if error.position is not None and sql:
        pos = min(max(error.position, 0), len(sql))
        start = sql.rfind("\n", 0, pos) + 1
        end = sql.find("\n", pos)
        end = len(sql) if end < 0 else end
        line_no = sql.count("\n", 0, pos) + 1
        prefix = f"LINE {line_no}: "
        lines.append(prefix + sql[start:end])
        lines.append(" " * (len(prefix) + pos - start) + "^")
    if error.detail:
        lines.append(f"DETAIL: {error.detail}")
    if error.hint:
        lines.append(f"HINT: {error.hint}")
    return lines


def summary(outcome: Outcome) -> str:
    """One line for the history pane."""
    if outcome.kind == "error":
        e = outcome.error
        return f"ERROR {e.sqlstate or ''} {e.message}".replace("  ", " ")
    if outcome.kind == "rows":
        n = outcome.table.num_rows if outcome.table is not None else 0
        return f"{n:,} row{'s' if n != 1 else ''}" + (f" · {outcome.status}" if outcome.status else "")
    if outcome.kind == "text":
        first = outcome.text.splitlines()[0] if outcome.text else ""
        return first[:80]
    return outcome.status


def timing(outcome: Outcome) -> str:
    return f"Time: {outcome.elapsed * 1000:.3f} ms"
