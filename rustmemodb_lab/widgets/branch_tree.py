"""The branch tree widget shown by ``%sql --branches``.

One row per branch, indented under its parent: a button with the branch
name (the current branch is highlighted; clicking another one checks it out
and redraws the tree), then where it came from (parent, fork time) and what
it holds (tables, total rows, per-table counts in the tooltip).

Built from stock ipywidgets, so it works in any front end with a widget manager.
Its MIME bundle also carries a static ``text/html`` copy of the tree. When the
JupyterLab extension is connected (it has talked on the sidebar comm), the bundle
carries ``application/vnd.rustmemodb.branches+json`` instead of the widget view: the
extension draws the same clickable tree (checking out over the comm), and exporters
such as nbconvert, which prefer a widget view over HTML and draw nothing without
saved widget state, fall back to the HTML copy.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from rustmemodb_lab.branches import Branch, BranchRegistry
from rustmemodb_lab.render.html import ACCENT, DIM, container, esc, plural

INDENT_PX = 22
BRANCHES_MIME = "application/vnd.rustmemodb.branches+json"


def branch_summary(branch: Branch, registry: BranchRegistry) -> tuple[str, str]:
    """``(one-line description, per-table tooltip)`` of a branch."""
    try:
        counts = branch.table_counts()
    except Exception as exc:  # an engine without row counts: still show the tree
        counts, note = {}, f" · counts unavailable ({type(exc).__name__})"
    else:
        note = ""
    origin = f"forked from {branch.parent} at {branch.forked_at:%H:%M:%S}" if branch.parent else f"root · since {branch.forked_at:%H:%M:%S}"
    size = f"{plural(len(counts), 'table')} · {plural(sum(counts.values()), 'row')}"
    undo = f" · {len(branch.undo)} undo" if branch.undo else ""
    tooltip = ", ".join(f"{t}: {n:,}" for t, n in counts.items()) or "no tables"
    return f"{origin} · {size}{undo}{note}", tooltip


class BranchTree(widgets.VBox):
    """The branches of one connection; click a name to check it out."""

    def __init__(self, registry: BranchRegistry, connection: str = "", labextension: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.registry = registry
        self.connection = connection
        self.labextension = labextension
        self.add_class("rmdb-branch-tree")
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the rows from the registry (after a click or a new fork)."""
        title = widgets.HTML(value=f"<b>branches</b> <span style='color:{DIM}'>{esc(self.connection)}</span>")
        self.children = [title, *(self._row(b, d) for b, d in self.registry.walk())]

    def _row(self, branch: Branch, depth: int) -> widgets.HBox:
        current = branch.name == self.registry.current
        button = widgets.Button(
            description=branch.name,
            button_style="success" if current else "",
            icon="check" if current else "code-branch",
            tooltip="current branch" if current else f"check out {branch.name}",
            layout=widgets.Layout(width="auto", min_width="90px"),
        )
        button.on_click(lambda _b, name=branch.name: self.checkout(name))
        text, tooltip = branch_summary(branch, self.registry)
        info = widgets.HTML(value=f"<span title='{esc(tooltip)}' style='color:{DIM}'>{esc(text)}</span>")
        return widgets.HBox([button, info], layout=widgets.Layout(margin=f"0 0 0 {depth * INDENT_PX}px", align_items="center"))

    def checkout(self, name: str) -> None:
        self.registry.checkout(name)
        self.refresh()

    def to_html(self) -> str:
        """The static copy of the tree (current branch in bold)."""
        rows = []
        for branch, depth in self.registry.walk():
            text, tooltip = branch_summary(branch, self.registry)
            current = branch.name == self.registry.current
            name = f"<b style='color:{ACCENT}'>● {esc(branch.name)}</b>" if current else f"○ {esc(branch.name)}"
            rows.append(
                f"<div style='margin-left:{depth * INDENT_PX}px' title='{esc(tooltip)}'>{name} "
                f"<span style='color:{DIM}'>{esc(text)}</span></div>"
            )
        return container("".join(rows))

    def to_text(self) -> str:
        lines = []
        for branch, depth in self.registry.walk():
            text, _ = branch_summary(branch, self.registry)
            mark = "*" if branch.name == self.registry.current else " "
            lines.append(f"{'  ' * depth}{mark} {branch.name}  ({text})")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The tree for the labextension's renderer."""
        rows = []
        for branch, depth in self.registry.walk():
            text, tooltip = branch_summary(branch, self.registry)
            rows.append({"name": branch.name, "depth": depth, "current": branch.name == self.registry.current,
                         "summary": text, "tooltip": tooltip})
        return {"connection": self.connection, "branches": rows}

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        if self.labextension:
            return {"text/plain": self.to_text(), "text/html": self.to_html(), BRANCHES_MIME: self.to_json()}
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = self.to_text()
        return bundle
