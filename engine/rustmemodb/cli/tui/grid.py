"""A result grid fed from an Arrow table one page at a time.

A ``DataTable`` holds Python strings per cell, so a million-row result must not be
loaded whole: :class:`ArrowGrid` keeps the Arrow table and converts ``PAGE`` rows
at a time (``table.slice(...)``), appending the next page when the cursor comes
near the last loaded row. Scrolling to row N costs the pages up to N, never the
whole result. In expanded mode (``\\x``) every value is its own line:
record, column, value.
"""
from __future__ import annotations

import pyarrow as pa
from textual.widgets import DataTable

PAGE = 200


def cell_text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


class ArrowGrid(DataTable):
    def __init__(self, **kwargs) -> None:
        super().__init__(zebra_stripes=True, **kwargs)
        self.table: pa.Table | None = None
        self.loaded = 0                 # Arrow rows turned into grid rows so far
        self.expanded = False
        self._loading = False

    def show(self, table: pa.Table | None, expanded: bool = False) -> None:
        # Forget the old result before clearing: clearing moves the cursor, and the cursor
        # watcher would otherwise load the old result's next page into the empty grid.
        self.table = None
        self.clear(columns=True)
        self.table, self.loaded, self.expanded = table, 0, expanded
        if table is None:
            return
        if expanded:
            self.add_columns("record", "column", "value")
        else:
            self.add_columns(*[f"{name}" for name in table.column_names])
        self.load_more()

    @property
    def total(self) -> int:
        return self.table.num_rows if self.table is not None else 0

    def load_more(self) -> None:
        if self.table is None or self.loaded >= self.total:
            return
        start = self.loaded
        page = self.table.slice(start, PAGE)
        self.loaded += page.num_rows
        self._loading = True        # adding rows may fire the cursor watcher: no re-entry
        columns = [col.to_pylist() for col in page.columns]
        names = page.column_names
        if self.expanded:
            for i in range(page.num_rows):
                for j, name in enumerate(names):
                    self.add_row(str(start + i + 1) if j == 0 else "", name,
                                 cell_text(columns[j][i]))
        else:
            self.add_rows([[cell_text(c[i]) for c in columns] for i in range(page.num_rows)])
        self._loading = False
        # DataTable sizes its columns to the new rows on its own Idle event, which its
        # message pump only sends after handling a message: with none queued for it the
        # grid kept header-wide columns ("AAP" for AAPL). Prompt an idle pass now.
        self.check_idle()

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        if self.table is not None and not self._loading and new.row >= self.row_count - 20:
            self.load_more()

    def on_mount(self) -> None:
        self.cursor_type = "row"
