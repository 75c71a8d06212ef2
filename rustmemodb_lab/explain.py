"""EXPLAIN in a notebook: which statements to explain, and the plan they return.

A cell shows a plan when its statement starts with ``EXPLAIN`` (and names no
``FORMAT`` of its own: ``EXPLAIN (FORMAT TEXT) ...`` is shown as the rows the
engine returns) or when the cell has ``--explain``. The lab then asks the
engine for ``EXPLAIN ([ANALYZE, ]FORMAT JSON) <query>`` and parses the JSON
into :class:`PlanNode` trees, which ``render/plan.py`` draws.

``--explain`` uses ``ANALYZE`` (real rows and times) when the statement is a
query, and a plain EXPLAIN otherwise, because ANALYZE executes the statement
and an explained ``DELETE`` should not delete.

The engine's JSON follows the lab's contract (``node``, ``details``,
``est_rows``, ``actual_rows``, ``loops``, ``time_ms``, ``self_ms``,
``children``); PostgreSQL's own keys (``Node Type``, ``Plans``, ...) are read
too, so a plan pasted from PostgreSQL renders the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from rustmemodb_lab import sqltext
from rustmemodb_lab.command import Statement

_QUERY_WORDS = {"SELECT", "WITH", "VALUES", "TABLE"}
_BARE_OPTIONS = re.compile(r"\s*(ANALYZE|ANALYSE|VERBOSE)\b", re.I)


@dataclass
class ExplainRequest:
    """The statement to send (JSON plan) and what the user asked for."""

    json_statement: Statement
    text_statement: Statement | None
    analyze: bool


def explain_request(stmt: Statement, force: bool) -> ExplainRequest | None:
    """How to explain ``stmt``, or None if it should run as written."""
    words = sqltext.leading_keywords(stmt.text, 1)
    if words == ["EXPLAIN"]:
        return _from_explain(stmt)
    if not force:
        return None
    analyze = bool(words) and words[0] in _QUERY_WORDS or stmt.text.lstrip().startswith("(")
    return _request(stmt, 0, analyze)


def body_start(text: str) -> int | None:
    """Where the explained statement starts in an ``EXPLAIN ...`` text (else None)."""
    if sqltext.leading_keywords(text, 1) != ["EXPLAIN"]:
        return None
    start = sqltext.skip_leading_trivia(text) + len("EXPLAIN")
    options, end = _explain_options(text, start)
    if options is None:
        return None
    return end + (len(text[end:]) - len(text[end:].lstrip()))


def _from_explain(stmt: Statement) -> ExplainRequest | None:
    start = sqltext.skip_leading_trivia(stmt.text) + len("EXPLAIN")
    options, end = _explain_options(stmt.text, start)
    if options is None or "FORMAT" in options:
        return None
    return _request(stmt, end, "ANALYZE" in options or "ANALYSE" in options)


def _explain_options(text: str, pos: int) -> tuple[set[str] | None, int]:
    """Option names after ``EXPLAIN`` and where the explained statement starts."""
    rest = text[pos:]
    stripped = rest.lstrip()
    if stripped.startswith("("):
        close = stripped.find(")")
        if close < 0:
            return None, pos
        body = stripped[1:close]
        names = {part.strip().split()[0].upper() for part in body.split(",") if part.strip()}
        names = {n for n in names if _option_on(body, n)}
        return names, pos + (len(rest) - len(stripped)) + close + 1
    names, offset = set(), pos
    while m := _BARE_OPTIONS.match(text, offset):
        names.add(m.group(1).upper())
        offset = m.end()
    return names, offset


def _option_on(body: str, name: str) -> bool:
    """``ANALYZE false`` / ``ANALYZE off`` switch an option off."""
    m = re.search(rf"\b{name}\s+(\w+)", body, re.I)
    return not (m and m.group(1).lower() in {"false", "off", "0"})


def _request(stmt: Statement, prefix_len: int, analyze: bool) -> ExplainRequest:
    body_start = prefix_len + (len(stmt.text[prefix_len:]) - len(stmt.text[prefix_len:].lstrip()))
    json_prefix = "EXPLAIN (ANALYZE, FORMAT JSON) " if analyze else "EXPLAIN (FORMAT JSON) "
    json_stmt = stmt.rewritten(json_prefix, body_start)
    text_stmt = None if analyze else stmt.rewritten("EXPLAIN ", body_start)
    return ExplainRequest(json_stmt, text_stmt, analyze)


# -- the plan tree -------------------------------------------------------------------

@dataclass
class PlanNode:
    """One operator of a plan, with estimates and (after ANALYZE) measurements."""

    node: str
    details: str = ""
    est_rows: float | None = None
    actual_rows: float | None = None
    loops: int | None = None
    time_ms: float | None = None
    self_ms: float | None = None
    children: list[PlanNode] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def walk(self) -> list[PlanNode]:
        """This node and all below it, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out

    @property
    def misestimate(self) -> float | None:
        """actual/estimated rows when both are known (1.0 = perfect)."""
        if self.actual_rows is None or self.est_rows is None:
            return None
        return max(self.actual_rows, 1) / max(self.est_rows, 1)


_CONTRACT_KEYS = {"node", "details", "est_rows", "actual_rows", "loops", "time_ms", "self_ms", "children"}
_PG_KEYS = {
    "Node Type": "node",
    "Plan Rows": "est_rows",
    "Actual Rows": "actual_rows",
    "Actual Loops": "loops",
    "Actual Total Time": "time_ms",
    "Plans": "children",
}


def parse_plan(value: str | dict | list) -> PlanNode:
    """A :class:`PlanNode` tree from the engine's (or PostgreSQL's) JSON plan."""
    data = json.loads(value) if isinstance(value, (str, bytes)) else value
    if isinstance(data, list):
        data = data[0]
    if "Plan" in data and "node" not in data:
        data = data["Plan"]
    root = _node(data)
    _fill_self_times(root)
    return root


def _node(data: dict[str, Any]) -> PlanNode:
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        name = key if key in _CONTRACT_KEYS else _PG_KEYS.get(key)
        if name:
            fields[name] = value
        else:
            extra[key] = value
    children = [_node(c) for c in fields.pop("children", None) or []]
    if "details" not in fields:
        fields["details"] = _pg_details(extra)
    return PlanNode(children=children, extra=extra, **fields)


def _pg_details(extra: dict[str, Any]) -> str:
    parts = []
    for key in ("Relation Name", "Index Name", "Hash Cond", "Join Filter", "Filter", "Sort Key", "Group Key"):
        if key in extra:
            value = extra[key]
            parts.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    return "; ".join(parts)


def _fill_self_times(node: PlanNode) -> None:
    """Derive ``self_ms`` = inclusive time minus children's, where missing."""
    for child in node.children:
        _fill_self_times(child)
    if node.self_ms is None and node.time_ms is not None:
        below = sum(c.time_ms or 0.0 for c in node.children)
        node.self_ms = max(0.0, node.time_ms - below)


def plan_text(node: PlanNode, depth: int = 0) -> str:
    """A PostgreSQL-like text form of the plan (used as the raw view after ANALYZE)."""
    stats = [f"rows={_num(node.est_rows)}"] if node.est_rows is not None else []
    if node.actual_rows is not None:
        stats.append(f"actual rows={_num(node.actual_rows)}")
    if node.loops is not None:
        stats.append(f"loops={node.loops}")
    if node.time_ms is not None:
        stats.append(f"time={node.time_ms:.3f} ms")
    head = ("  " * depth + "->  " if depth else "") + node.node
    if node.details:
        head += f"  {node.details}"
    line = head + (f"  ({' '.join(stats)})" if stats else "")
    return "\n".join([line, *(plan_text(c, depth + 1) for c in node.children)])


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
