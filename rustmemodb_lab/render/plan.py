"""The EXPLAIN plan as a graphical tree of cards.

Each operator is a card: node type, details (join condition, filter, table),
estimated rows and, after ANALYZE, actual rows, loops, its own time and its
share of the total as a bar. The slowest node (largest self time) gets a red
edge and a ``slowest`` badge; a node whose row estimate is off by 10× or more
gets a warning badge, because that is where plans go wrong. Children hang
under their parent with connector lines, like ``EXPLAIN``'s ``->`` arrows.

Pure HTML with inline styles (no script, no external service), so it renders
the same in JupyterLab, VS Code and exported HTML. The raw text of the plan is
one click away in a ``<details>`` block.
"""

from __future__ import annotations

from rustmemodb_lab.explain import PlanNode
from rustmemodb_lab.render.html import ACCENT, BORDER, DIM, HEAD_BG, HOT, container, esc

_CARD = f"border:1px solid {BORDER};border-radius:4px;padding:4px 8px;margin:3px 0;background:var(--jp-layout-color1, #fff);min-width:260px;max-width:680px"
_BADGE = "display:inline-block;border-radius:8px;padding:0 6px;margin-left:6px;font-size:10px;color:#fff;background:{}"
MISESTIMATE = 10.0


def plan_html(root: PlanNode, *, raw_text: str, title: str = "", analyze: bool = False) -> str:
    """The whole plan view: header line, the tree, the raw text in <details>."""
    total = root.time_ms if analyze else None
    slowest = _slowest(root) if analyze else None
    header = f'<div style="font-weight:600;margin-bottom:4px">{esc(title)}</div>' if title else ""
    tree = _node_html(root, total, slowest)
    raw = (
        f'<details style="margin-top:6px"><summary style="cursor:pointer;color:{DIM}">raw plan</summary>'
        f'<pre class="rmdb-plan-raw" style="margin:4px 0;padding:6px;background:{HEAD_BG}">{esc(raw_text)}</pre></details>'
    )
    return container(f'<div class="rmdb-plan">{header}{tree}{raw}</div>')


def _slowest(root: PlanNode) -> PlanNode | None:
    timed = [n for n in root.walk() if n.self_ms is not None]
    return max(timed, key=lambda n: n.self_ms) if timed else None


def _node_html(node: PlanNode, total: float | None, slowest: PlanNode | None) -> str:
    card = _card_html(node, total, node is slowest)
    if not node.children:
        return card
    kids = "".join(
        f'<div style="display:flex;align-items:flex-start">'
        f'<div style="width:14px;min-width:14px;border-top:1px solid {BORDER};margin-top:16px"></div>'
        f"<div>{_node_html(child, total, slowest)}</div></div>"
        for child in node.children
    )
    return f'{card}<div style="margin-left:14px;border-left:1px solid {BORDER}">{kids}</div>'


def _card_html(node: PlanNode, total: float | None, is_slowest: bool) -> str:
    style = _CARD + (f";border-left:4px solid {HOT}" if is_slowest else f";border-left:4px solid {ACCENT}")
    badges = f'<span style="{_BADGE.format(HOT)}">slowest</span>' if is_slowest else ""
    badges += _misestimate_badge(node)
    title = f'<span class="rmdb-plan-node" style="font-weight:600">{esc(node.node)}</span>{badges}'
    details = f'<div style="color:{DIM};white-space:pre-wrap">{esc(node.details)}</div>' if node.details else ""
    return f'<div class="rmdb-plan-card" style="{style}">{title}{details}{_stats_html(node, total)}</div>'


def _misestimate_badge(node: PlanNode) -> str:
    ratio = node.misestimate
    if ratio is None or 1 / MISESTIMATE < ratio < MISESTIMATE:
        return ""
    word = f"×{ratio:.0f} more rows than estimated" if ratio > 1 else f"×{1 / ratio:.0f} fewer rows than estimated"
    return f'<span style="{_BADGE.format("#bf8700")}" title="estimated {node.est_rows}, actual {node.actual_rows}">{esc(word)}</span>'


def _stats_html(node: PlanNode, total: float | None) -> str:
    parts = []
    if node.est_rows is not None:
        parts.append(f"est {_count(node.est_rows)} rows")
    if node.actual_rows is not None:
        loops = f" × {node.loops} loops" if node.loops and node.loops > 1 else ""
        parts.append(f"actual {_count(node.actual_rows)} rows{loops}")
    text = " · ".join(parts)
    bar = ""
    if node.self_ms is not None and total:
        share = max(0.0, min(1.0, node.self_ms / total))
        text += f" · {node.self_ms:.2f} ms self ({share:.0%})"
        if node.time_ms is not None:
            text += f" · {node.time_ms:.2f} ms total"
        bar = (
            f'<div style="height:4px;background:{HEAD_BG};margin-top:3px;border-radius:2px">'
            f'<div style="height:4px;width:{share * 100:.1f}%;background:{HOT if share >= 0.5 else ACCENT};border-radius:2px"></div></div>'
        )
    return f'<div class="rmdb-plan-stats" style="font-size:11px">{esc(text)}</div>{bar}'


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"
