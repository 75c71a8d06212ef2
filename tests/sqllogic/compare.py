"""Result comparison under the three sort modes, and readable mismatch reports.

* ``nosort``    -- rows compared in the order the database returned them (use it for
  queries whose order is fully determined by ORDER BY);
* ``rowsort``   -- both the expected and the actual rows are sorted (as lists of their
  rendered strings) before comparing;
* ``valuesort`` -- all values are flattened into one list and sorted, ignoring row
  boundaries.

Values are compared as rendered text (see :mod:`.render`), so ``1`` and ``1.0`` are
equal only if they render the same.
"""

from __future__ import annotations

import difflib

Rows = list[list[str]]


def sort_rows(rows: Rows, mode: str) -> Rows:
    """Rows as they are compared under *mode* (valuesort yields one value per row)."""
    if mode == "nosort":
        return [list(r) for r in rows]
    if mode == "rowsort":
        return sorted(list(r) for r in rows)
    if mode == "valuesort":
        return [[v] for v in sorted(v for r in rows for v in r)]
    raise ValueError(f"unknown sort mode {mode!r}")


def compare_results(expected: Rows, actual: Rows, mode: str) -> bool:
    """True when *actual* matches *expected* under sort *mode*."""
    return sort_rows(expected, mode) == sort_rows(actual, mode)


def format_rows(rows: Rows, indent: str = "    ") -> str:
    """Rows as TAB-separated lines (as in a ``.test`` file), or ``(no rows)``."""
    if not rows:
        return indent + "(no rows)"
    return "\n".join(indent + "\t".join(r) for r in rows)


def mismatch_report(expected: Rows, actual: Rows, mode: str) -> str:
    """Expected and actual rows (sorted per *mode*) and a unified diff of the two."""
    exp = sort_rows(expected, mode)
    act = sort_rows(actual, mode)
    exp_lines = ["\t".join(r) for r in exp]
    act_lines = ["\t".join(r) for r in act]
    diff = difflib.unified_diff(exp_lines, act_lines, "expected", "actual", lineterm="", n=2)
    parts = [
        f"expected ({len(expected)} row(s), {mode}):",
        format_rows(expected),
        f"actual ({len(actual)} row(s)):",
        format_rows(actual),
        "diff (after sorting):" if mode != "nosort" else "diff:",
        "\n".join("    " + line for line in diff),
    ]
    return "\n".join(parts)
