"""Result: what executing one statement gives back to the DB-API layer.

In its own module (not session.py) so the executor's point paths, which build
Results, can import it at import time: session.py imports the executor.
"""
from __future__ import annotations

from dataclasses import dataclass

from .lazy_import import arrow as pa

from . import numeric_arrays, types


@dataclass(slots=True)   # one per statement: slots make it cheaper to build
class Result:
    columns: list                         # [(name, SQL type)]
    table: pa.Table | None = None         # result rows (None for no result set)
    rows: list | None = None              # or row tuples (point path), storage form
    rowcount: int = -1
    kind: str = ""
    elapsed: float = 0.0

    def __post_init__(self) -> None:
        # numerics in keys form and jsonb columns say so (numeric_arrays.KEY_TAG,
        # JSONB_TAG): a table registered from this result (the cluster's exchanges)
        # reads them as numeric and jsonb again
        if self.table is not None:
            for _, t in self.columns:
                if t == types.NUMERIC or t == types.JSON:
                    self.table = numeric_arrays.tag_keys(
                        self.table, [t for _, t in self.columns])
                    break

    def arrow(self) -> pa.Table:
        if self.table is None and self.rows is not None:
            arrays = [numeric_arrays.column_of([r[i] for r in self.rows]) if t == types.NUMERIC
                      else pa.array([r[i] for r in self.rows], types.arrow_type(t))
                      for i, (_, t) in enumerate(self.columns)]
            self.table = numeric_arrays.tag_keys(
                pa.Table.from_arrays(arrays, names=[n for n, _ in self.columns]),
                [t for _, t in self.columns])
        if self.table is None:
            return pa.table({})
        return self.table
