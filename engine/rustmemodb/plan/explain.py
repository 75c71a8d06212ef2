"""The one renderer of plans: EXPLAIN text, EXPLAIN (FORMAT JSON) and the notebook view.

``describe(node)`` gives a node's type and one-line details; ``to_dict`` builds
the JSON tree (node, details, est_rows, children, and with ANALYZE actual_rows,
loops, time_ms, self_ms); ``to_text`` draws it as PostgreSQL-like indented lines.
"""
from __future__ import annotations

from ..plan import logical as L
from ..optimize.estimate import estimate


def describe(node: L.LogicalNode) -> tuple[str, str]:
    if isinstance(node, L.LogicalScan):
        lookup = node.index_lookup
        if lookup is not None:
            kind = "Index Scan"
            detail = f"using {lookup.index} on {node.table}"
        else:
            kind, detail = "Seq Scan", f"on {node.table}"
        if node.alias and node.alias != node.table:
            detail += f" {node.alias}"
        if lookup is not None:
            rest = lookup.describe()[len(f"using {lookup.index}"):].strip()
            if rest:
                detail += f" {rest}"
        if node.filter is not None:
            detail += f" filter: {node.filter}"
        return kind, detail
    if isinstance(node, L.LogicalArrowScan):
        return "Arrow Scan", f"on {node.name}"
    if isinstance(node, L.LogicalValues):
        return "Values", f"{len(node.rows)} row(s)"
    if isinstance(node, L.LogicalFilter):
        return "Filter", str(node.predicate)
    if isinstance(node, L.LogicalProject):
        return "Project", ", ".join(f"{e}" for e in node.exprs)
    if isinstance(node, L.LogicalAggregate):
        groups = ", ".join(map(str, node.groups))
        aggs = ", ".join(map(str, node.aggregates))
        if node.grouping_sets is not None:
            sets = ", ".join("(" + ", ".join(str(node.groups[i]) for i in s) + ")"
                             for s in node.grouping_sets)
            return "MixedAggregate", f"grouping sets {sets}; {aggs}"
        return ("HashAggregate" if node.groups else "Aggregate",
                (f"group by {groups}; " if groups else "") + aggs)
    if isinstance(node, L.LogicalSort):
        keys = ", ".join(f"{e}{' DESC' if d else ''}" for e, d, _ in node.keys)
        return "Sort", keys
    if isinstance(node, L.LogicalLimit):
        return "Limit", " ".join(filter(None, [f"limit {node.limit}" if node.limit is not None else "",
                                               f"offset {node.offset}" if node.offset is not None else ""]))
    if isinstance(node, L.LogicalDistinct):
        return "Distinct", ""
    if isinstance(node, L.LogicalJoin):
        kind = "Hash Join" if node.equi_keys else ("Nested Loop" if node.kind != "cross" else "Cross Join")
        detail = node.kind
        if node.index_probe is not None:
            kind = "Index Nested Loop"
            detail += f" using {node.index_probe}"
        if node.equi_keys:
            detail += " on " + " AND ".join(f"{l} = {r}" for l, r in node.equi_keys)
        if node.condition is not None:
            detail += (" filter: " if node.equi_keys else " on ") + str(node.condition)
        return kind, detail
    if isinstance(node, L.LogicalSetOp):
        return node.kind.capitalize() + (" All" if node.all else ""), ""
    if isinstance(node, L.LogicalDistinctOn):
        return "Distinct On", ", ".join(map(str, node.keys))
    if isinstance(node, L.LogicalInsert):
        if node.on_conflict is not None:
            return "Insert", f"on {node.table} {node.on_conflict.describe()}"
        return "Insert", f"on {node.table}"
    if isinstance(node, L.LogicalUpdate):
        return "Update", f"on {node.table}"
    if isinstance(node, L.LogicalDelete):
        return "Delete", f"on {node.table}"
    name = type(node).__name__.replace("Logical", "")
    detail = getattr(node, "describe", lambda: "")()
    return name, detail


def estimate_rows(node: L.LogicalNode, root) -> int | None:
    try:
        return max(1, int(round(estimate(node, root))))
    except Exception:  # estimates are advisory; never fail EXPLAIN over them
        return None


def to_dict(node: L.LogicalNode, root=None, stats: dict | None = None) -> dict:
    kind, detail = describe(node)
    out = {"node": kind, "details": detail, "est_rows": estimate_rows(node, root)
           if root is not None else None}
    lookup = getattr(node, "index_lookup", None)
    if lookup is not None:
        out["index"] = lookup.index
    shown = getattr(node, "explain_children", node.children)()   # + subplans run per row
    children = [to_dict(c, root, stats) for c in shown]
    if stats is not None:
        s = stats.get(id(node))
        if s is not None:
            out["actual_rows"] = s["rows"]
            out["loops"] = s["loops"]
            out["time_ms"] = round(s["time"] * 1000, 3)
            child_ms = sum(c.get("time_ms", 0.0) for c in children)
            out["self_ms"] = round(max(0.0, out["time_ms"] - child_ms), 3)
        else:
            out.update(actual_rows=0, loops=0, time_ms=0.0, self_ms=0.0)
    out["children"] = children
    return out


def to_text(tree: dict) -> list[str]:
    lines: list[str] = []
    _text(tree, 0, lines)
    return lines


def _text(node: dict, depth: int, lines: list[str]) -> None:
    details = node["details"]
    if details.startswith(("on ", "using ")):   # scans read like PostgreSQL's
        head = f"{node['node']} {details}"
    else:
        head = node["node"] + (f"  ({details})" if details else "")
    est = node.get("est_rows")
    extra = f"  [rows={est}]" if est is not None else ""
    if "actual_rows" in node:
        extra += (f" (actual rows={node['actual_rows']} loops={node['loops']} "
                  f"time={node['time_ms']:.3f} ms)")
    prefix = "" if depth == 0 else "  " * (depth - 1) + "->  "
    lines.append(prefix + head + extra)
    for child in node["children"]:
        _text(child, depth + 1, lines)
