"""Per-statement execution context: parameters, the transaction, cancellation, stats."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .. import errors


@dataclass
class ExecContext:
    txn: Any                          # Transaction (reads see txn.working)
    params: list = field(default_factory=list)
    functions: Any = None             # FunctionRegistry
    cancel: threading.Event | None = None
    analyze: dict | None = None       # node id -> stats, for EXPLAIN ANALYZE
    outer: list = field(default_factory=list)   # row stack for correlated subqueries
    scans: Any = None                 # name -> pyarrow.Table for registered objects
    cte_results: dict = field(default_factory=dict)
    # Row budgets for recursive CTEs read straight under a LIMIT: id(plan) -> rows.
    cte_limits: dict = field(default_factory=dict)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise errors.sql_error("57014", "canceling statement due to user request")

    @property
    def root(self):
        return self.txn.working
