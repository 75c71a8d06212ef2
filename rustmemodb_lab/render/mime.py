"""The labextension's JSON MIME types for plans and diffs (the result grid's is in grid.py).

Each view keeps its ``text/html`` and ``text/plain`` (exports, VS Code, terminals) and
adds one JSON document the JupyterLab extension draws natively:

* ``application/vnd.rustmemodb.plan+json``: the EXPLAIN tree (node, details, estimated
  and actual rows, loops, self/total ms, the slowest node's path) and the raw text;
* ``application/vnd.rustmemodb.diff+json``: per table the counts and the first
  ``limit`` rows of each kind (added, removed, changed as before/after pairs).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rustmemodb_lab.explain import PlanNode
from rustmemodb_lab.render.grid import json_rows

PLAN_MIME = "application/vnd.rustmemodb.plan+json"
DIFF_MIME = "application/vnd.rustmemodb.diff+json"
#: rows of each kind per table in a diff document
DIFF_ROWS = 200


def plan_json(root: PlanNode, *, title: str, raw_text: str, analyze: bool) -> dict[str, Any]:
    """The plan document; ``slowest`` is the path (child indexes) of the node with most self time."""
    timed = [(path, n) for path, n in _paths(root, []) if n.self_ms is not None] if analyze else []
    slowest = max(timed, key=lambda pn: pn[1].self_ms)[0] if timed else None
    return {"title": title, "analyze": analyze, "raw": raw_text, "root": _node(root), "slowest": slowest}


def _node(n: PlanNode) -> dict[str, Any]:
    return {"node": n.node, "details": n.details, "est_rows": n.est_rows, "actual_rows": n.actual_rows,
            "loops": n.loops, "time_ms": n.time_ms, "self_ms": n.self_ms,
            "children": [_node(c) for c in n.children]}


def _paths(n: PlanNode, path: list[int]) -> list[tuple[list[int], PlanNode]]:
    out = [(path, n)]
    for i, child in enumerate(n.children):
        out.extend(_paths(child, [*path, i]))
    return out


def diff_json(a: str, b: str, diffs: list[Any], limit: int = DIFF_ROWS) -> dict[str, Any]:
    """The diff document from branch ``a`` to ``b`` (``diffs``: render.diff.TableDiff)."""
    tables = []
    for d in diffs:
        tables.append({
            "table": d.table,
            "key_columns": list(d.key_columns),
            "columns": d.columns,
            "counts": {k: d.count(k) for k in ("added", "removed", "changed")},
            "added": _rows(d.added, limit),
            "removed": _rows(d.removed, limit),
            "changed_before": _rows(d.changed_before, limit),
            "changed_after": _rows(d.changed_after, limit),
        })
    return {"a": a, "b": b, "tables": tables, "limit": limit}


def _rows(table: Any, limit: int) -> list[list[Any]]:
    return json_rows(table.slice(0, limit)) if isinstance(table, pa.Table) else []
