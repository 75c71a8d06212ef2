"""Result: what executing one statement gives back to the DB-API layer.

In its own module (not session.py) so the executor's point paths, which build
Results, can import it at import time: session.py imports the executor.
"""
from __future__ import annotations

from dataclasses import dataclass

from .lazy_import import arrow as pa

from . import types


@dataclass(slots=True)   # one per statement: slots make it cheaper to build
class Result:
    columns: list                         # [(name, SQL type)]
    table: pa.Table | None = None         # result rows (None for no result set)
    rows: list | None = None              # or row tuples (point path), storage form
    rowcount: int = -1
    kind: str = ""
    elapsed: float = 0.0

    def arrow(self) -> pa.Table:
        if self.table is None and self.rows is not None:
            arrays = [pa.array([r[i] for r in self.rows], types.arrow_type(t))
                      for i, (_, t) in enumerate(self.columns)]
            self.table = pa.Table.from_arrays(arrays, names=[n for n, _ in self.columns])
        if self.table is None:
            return pa.table({})
        return self.table
