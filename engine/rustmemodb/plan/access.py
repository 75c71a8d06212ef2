"""Access paths: how a LogicalScan reads its table when not by a full scan.

``optimize/use_index.py`` attaches an ``IndexLookup`` to a ``LogicalScan``
(``scan.index_lookup``); ``exec/operators/index_scan.py`` and the point fast
paths (``exec/fast_select.py`` ...) execute it; ``plan/explain.py`` prints it.
Key expressions are bound expressions without column references (constants,
parameters, casts of those), evaluated once per execution.

Modes:
    eq      keys = one expr per leading index column (a prefix for ordered indexes)
    in      keys = the IN-list values (single-column indexes)
    range   low/high exprs (either may be None = open), inclusive flags
    null    IS NULL on a single-column ordered index
    order   every entry, in key order (ORDER BY ... LIMIT), ``limit`` rows wanted
Ordered-index lookups may also carry ``order`` ("asc"/"desc") to return rows in
key order, which lets ORDER BY ... LIMIT stop early.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IndexLookup:
    index: str                   # index name in the table version
    kind: str                    # "unique" (hash: TableVersion.indexes) | "ordered"
    columns: tuple               # table column positions of the index
    mode: str                    # eq | in | range | null | order
    keys: tuple = ()
    low: Any = None
    high: Any = None
    low_inc: bool = True
    high_inc: bool = True
    order: str | None = None     # asc | desc: rows in key order
    nulls_first: bool = False    # with order: where NULL keys go
    limit: Any = None            # with order: Expr, rows wanted (after the scan's filter)
    offset: Any = None           # with limit: Expr, rows skipped above (so limit + offset)
    ties: bool = False           # with limit: also every row tied with the last one on the
    #                              index column (ORDER BY col, more...: the Sort above decides)
    est: float = 1.0             # estimated rows (from optimize/estimate.py)
    column_names: tuple = field(default=(), compare=False)

    def describe(self) -> str:
        names = self.column_names or tuple(f"#{c}" for c in self.columns)
        cond = self._condition(names)
        text = f"using {self.index}"
        if cond:
            text += f" ({cond})"
        if self.order is not None:
            text += f" order {self.order}"
            if self.limit is not None:
                text += f" limit {self.limit}" + (f" offset {self.offset}" if self.offset is not None
                                                 else "")
        return text

    def _condition(self, names) -> str:
        if self.mode == "eq":
            return " AND ".join(f"{n} = {k}" for n, k in zip(names, self.keys))
        if self.mode == "in":
            return f"{names[0]} IN ({', '.join(map(str, self.keys))})"
        if self.mode == "null":
            return f"{names[0]} IS NULL"
        if self.mode == "range":
            parts = []
            if self.low is not None:
                parts.append(f"{names[0]} {'>=' if self.low_inc else '>'} {self.low}")
            if self.high is not None:
                parts.append(f"{names[0]} {'<=' if self.high_inc else '<'} {self.high}")
            return " AND ".join(parts)
        return ""

    def estimate(self, n: float) -> float:
        return min(self.est, n)
