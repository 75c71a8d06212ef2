"""Display objects returned by ``%sql`` besides results: status, plan, diff, merge, panels.

Each class holds the data of one output and renders it through ``render/``
in ``_repr_html_`` (rich front-ends) and ``__repr__`` (terminals, logs,
``text/plain`` in exported notebooks). Objects that carry data a person may
want to keep (a diff) also convert to Arrow and pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from rustmemodb.api.pandas_out import to_pandas

from rustmemodb_lab.errors import SqlCellError
from rustmemodb_lab.explain import PlanNode, plan_text
from rustmemodb_lab.render.diff import TableDiff, diff_html, diff_text
from rustmemodb_lab.render.html import DIM, container, esc, format_ms
from rustmemodb_lab.render.merge import counts_line, merge_html
from rustmemodb_lab.render.mime import DIFF_MIME, DIFF_ROWS, PLAN_MIME, diff_json, plan_json
from rustmemodb_lab.render.plan import plan_html
from rustmemodb_lab.render.side_by_side import differing_cells, side_by_side_html
from rustmemodb_lab.render.table import table_html
from rustmemodb_lab.resultset import ResultSet


class Status:
    """A one-line message (``forked exp1 from main``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return container(f'<span class="rmdb-status" style="color:{DIM}">{esc(self.text)}</span>')

    def __repr__(self) -> str:
        return self.text


class PlanView:
    """A parsed EXPLAIN plan, drawn as a tree (raw text one click away)."""

    def __init__(self, root: PlanNode, *, raw_text: str | None = None, analyze: bool = False,
                 branch: str | None = None, elapsed: float | None = None) -> None:
        self.root, self.analyze, self.branch, self.elapsed = root, analyze, branch, elapsed
        self.raw_text = raw_text or plan_text(root)

    @property
    def nodes(self) -> list[PlanNode]:
        return self.root.walk()

    def title(self) -> str:
        parts = ["EXPLAIN ANALYZE" if self.analyze else "EXPLAIN"]
        if self.analyze and self.root.time_ms is not None:
            parts.append(f"{self.root.time_ms:.2f} ms in the plan")
        if self.elapsed is not None:
            parts.append(f"{format_ms(self.elapsed)} elapsed")
        if self.branch:
            parts.append(f"branch {self.branch}")
        return " · ".join(parts)

    def _repr_html_(self) -> str:
        return plan_html(self.root, raw_text=self.raw_text, title=self.title(), analyze=self.analyze)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": repr(self), "text/html": self._repr_html_(),
                PLAN_MIME: plan_json(self.root, title=self.title(), raw_text=self.raw_text, analyze=self.analyze)}

    def __repr__(self) -> str:
        return f"{self.title()}\n{self.raw_text}"


class DiffView:
    """Row-level differences from branch ``a`` to branch ``b``, per table."""

    def __init__(self, a: str, b: str, diffs: Sequence[TableDiff], engine_diffs: dict[str, Any], limit: int | None) -> None:
        self.a, self.b, self.diffs, self.limit = a, b, list(diffs), limit
        self.engine_diffs = engine_diffs

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return {d.table: {k: d.count(k) for k in ("added", "removed", "changed")} for d in self.diffs}

    def to_arrow(self) -> pa.Table:
        """All tables' changes in one Arrow table (``_table`` first when several)."""
        parts = []
        for name, diff in self.engine_diffs.items():
            table = diff.to_arrow()
            if len(self.engine_diffs) > 1:
                table = table.add_column(0, "_table", pa.array([name] * table.num_rows, pa.string()))
            parts.append(table)
        if not parts:
            return pa.table({"_change": pa.array([], pa.string())})
        return pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]

    def to_pandas(self) -> Any:
        return to_pandas(self.to_arrow())

    def _repr_html_(self) -> str:
        head = f'<div style="font-weight:600">diff {esc(self.a)} → {esc(self.b)}</div>'
        body = "".join(diff_html(d, limit=self.limit) for d in self.diffs) or f'<div style="color:{DIM}">no tables</div>'
        return container(f'<div class="rmdb-diff-view">{head}{body}</div>')

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": repr(self), "text/html": self._repr_html_(),
                DIFF_MIME: diff_json(self.a, self.b, self.diffs, min(self.limit or DIFF_ROWS, DIFF_ROWS))}

    def __repr__(self) -> str:
        return "\n".join([f"diff {self.a} -> {self.b}", *(diff_text(d) for d in self.diffs)])


class MergeView:
    """The outcome of ``--merge``: applied with counts, or the conflicts."""

    def __init__(self, source: str, target: str, result: Any, limit: int | None) -> None:
        self.source, self.target, self.result, self.limit = source, target, result, limit

    @property
    def applied(self) -> bool:
        return bool(self.result.applied)

    @property
    def conflicts(self) -> pa.Table | None:
        return getattr(self.result, "conflicts", None)

    def _repr_html_(self) -> str:
        html = merge_html(self.source, self.target, self.applied, self.conflicts,
                          dict(getattr(self.result, "counts", {}) or {}), limit=self.limit)
        return container(f'<div class="rmdb-merge">{html}</div>')

    def __repr__(self) -> str:
        if self.applied:
            return f"merged {self.source} into {self.target}: {counts_line(dict(self.result.counts or {}))}"
        n = self.conflicts.num_rows if self.conflicts is not None else 0
        return f"merge of {self.source} into {self.target} stopped: {n} conflicts; nothing was applied"


class SideBySide:
    """One output per branch, next to each other; differing result cells highlighted."""

    def __init__(self, panels: Sequence[tuple[str, Any]]) -> None:
        self.panels = list(panels)

    def __getitem__(self, branch: str) -> Any:
        return dict(self.panels)[branch]

    @property
    def errors(self) -> list[SqlCellError]:
        return [value for _, value in self.panels if isinstance(value, SqlCellError)]

    def _repr_html_(self) -> str:
        tables = [v.to_arrow() if isinstance(v, ResultSet) and v.has_rows else None for _, v in self.panels]
        limit = next((v.displaylimit for _, v in self.panels if isinstance(v, ResultSet)), None)
        marks = differing_cells(tables, limit)
        inner = [(name, _panel_html(value, mark)) for (name, value), mark in zip(self.panels, marks)]
        return side_by_side_html(inner)

    def __repr__(self) -> str:
        return "\n\n".join(f"== {name} ==\n{value!r}" for name, value in self.panels)


def _panel_html(value: Any, highlight: set[tuple[int, int]]) -> str:
    if isinstance(value, ResultSet) and value.has_rows:
        return table_html(value.view(highlight=highlight, branch=None))
    if hasattr(value, "_repr_html_"):
        return value._repr_html_()
    return f"<pre>{esc(repr(value))}</pre>"
