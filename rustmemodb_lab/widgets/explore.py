"""The paged grid of ``%sqlcmd explore -t T``.

A widget with the current page of rows and first / previous / next / last
buttons. Every page is one ``SELECT * FROM T LIMIT n OFFSET k`` on the branch
(or connection) that was current when the grid was made, so a table of any
size is browsed without loading it; the total comes from one ``count(*)``.
Rows are in the table's scan order (insertion order here), as a ``SELECT``
without ``ORDER BY`` returns them.

The page is drawn by the same HTML renderer as ``%sql`` results, inside an
``ipywidgets.HTML``; a static copy of the first page is the fallback for
front-ends without widgets.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from rustmemodb_lab.render.html import DIM, esc
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.source import Source


class Explorer(widgets.VBox):
    """Browse ``table`` page by page."""

    def __init__(self, source: Source, table: str, page_size: int = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.table = table
        self.page_size = page_size
        self.sql_types = [c["type"] for c in source.columns(table)]
        self.total = int(source.query(f"SELECT count(*) AS n FROM {source.quote(table)}").column(0)[0].as_py())
        self.pages = max(1, -(-self.total // page_size))
        self.page = 0
        self.add_class("rmdb-explore")
        self.grid = widgets.HTML()
        self.label = widgets.HTML()
        self.buttons = {
            name: widgets.Button(description=text, tooltip=name, layout=widgets.Layout(width="auto"))
            for name, text in (("first", "« first"), ("previous", "‹ previous"), ("next", "next ›"), ("last", "last »"))
        }
        moves = {"first": lambda: 0, "previous": lambda: self.page - 1,
                 "next": lambda: self.page + 1, "last": lambda: self.pages - 1}
        for name, button in self.buttons.items():
            button.on_click(lambda _b, move=moves[name]: self.show(move()))
        title = widgets.HTML(f"<b>{esc(table)}</b> <span style='color:{DIM}'>{esc(source.name)}</span>")
        self.children = [title, self.grid, widgets.HBox([*self.buttons.values(), self.label])]
        self.show(0)

    def rows_of(self, page: int) -> ResultSet:
        offset = page * self.page_size
        data = self.source.query(f"SELECT * FROM {self.source.quote(self.table)} LIMIT {self.page_size} OFFSET {offset}")
        return ResultSet(data, sql_types=self.sql_types, displaylimit=None)

    def show(self, page: int) -> None:
        """Fetch and draw page ``page`` (clamped to the pages there are)."""
        self.page = max(0, min(page, self.pages - 1))
        self.current = self.rows_of(self.page)
        # ipywidgets' HTML sets a tall inline line-height; the grid wants its own
        self.grid.value = f'<div style="line-height:normal">{self.current._repr_html_()}</div>'
        first = self.page * self.page_size + 1 if self.total else 0
        last = min(self.total, (self.page + 1) * self.page_size)
        self.label.value = (f"<span style='color:{DIM};padding-left:8px'>rows {first:,}–{last:,} of {self.total:,}"
                            f" · page {self.page + 1} of {self.pages}</span>")
        self.buttons["first"].disabled = self.buttons["previous"].disabled = self.page == 0
        self.buttons["next"].disabled = self.buttons["last"].disabled = self.page >= self.pages - 1

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.grid.value
        bundle["text/plain"] = f"{repr(self.current)}\n{self.table} · page {self.page + 1} of {self.pages} · {self.total:,} rows"
        return bundle
