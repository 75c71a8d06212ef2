"""EXPLAIN ANALYZE output as an indented tree with the slowest node marked.

Reads the plan text (the engine's ``-> Node ... (actual rows=.. loops=.. time=X ms)``
lines, or PostgreSQL's ``actual time=A..B rows=.. loops=..``), rebuilds the tree
from the indentation, and computes each node's own time (its time minus its
children's, since times are inclusive). The node with the largest own time is
marked: that is where the statement spent its time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_OURS = re.compile(r"actual rows=(\d+) loops=(\d+) time=([\d.]+) ms")
_PG = re.compile(r"actual time=[\d.]+\.\.([\d.]+) rows=(\d+) loops=(\d+)")


@dataclass
class Node:
    text: str
    depth: int
    total_ms: float | None = None
    rows: int | None = None
    children: list = field(default_factory=list)

    @property
    def inclusive_ms(self) -> float:
        """Time of the subtree: a node that reports less than its children (the engine's
        Sort under a top-k Limit reports 0: its parent did the work) counts as theirs."""
        return max(self.total_ms or 0.0, sum(c.inclusive_ms for c in self.children))

    @property
    def self_ms(self) -> float | None:
        if self.total_ms is None:
            return None
        return max(0.0, self.total_ms - sum(c.inclusive_ms for c in self.children))


def parse(lines: list[str]) -> list[Node]:
    """Plan lines → root nodes (detail lines without ``->`` attach to their node's text)."""
    roots: list[Node] = []
    stack: list[Node] = []
    for raw in lines:
        stripped = raw.lstrip()
        indent = len(raw) - len(stripped)
        is_child = stripped.startswith("->")
        if stack and not is_child and indent > 0:     # PostgreSQL detail line (Filter: ...)
            stack[-1].text += "  " + stripped
            continue
        text = stripped[2:].strip() if is_child else stripped
        node = Node(text, indent + (1 if is_child else 0))
        m = _OURS.search(text)
        if m:
            node.rows, _loops, node.total_ms = int(m.group(1)), int(m.group(2)), float(m.group(3))
        else:
            m = _PG.search(text)
            if m:
                node.total_ms = float(m.group(1)) * max(1, int(m.group(3)))
                node.rows = int(m.group(2))
        while stack and stack[-1].depth >= node.depth:
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return roots


def render(lines: list[str]) -> list[str]:
    """The tree, two spaces per level, own time per node, ``◀ slowest`` on the slowest."""
    roots = parse(lines)
    nodes: list[tuple[Node, int]] = []

    def walk(n: Node, level: int) -> None:
        nodes.append((n, level))
        for c in n.children:
            walk(c, level + 1)

    for r in roots:
        walk(r, 0)
    timed = [n for n, _ in nodes if n.self_ms is not None]
    slowest = max(timed, key=lambda n: n.self_ms) if timed else None
    out = []
    for n, level in nodes:
        branch = "└─ " if level else ""
        own = f"  [self {n.self_ms:.3f} ms]" if n.self_ms is not None else ""
        mark = "  ◀ slowest" if n is slowest else ""
        out.append(f"{'   ' * max(0, level - 1)}{branch}{n.text}{own}{mark}")
    return out
