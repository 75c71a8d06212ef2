"""Per-statement execution context: parameters, the transaction, cancellation, stats.

Every statement builds one, point statements included, so it is a plain class
with ``__slots__`` and a hand-written ``__init__`` (about half the cost of the
equivalent dataclass with default factories).
"""
from __future__ import annotations

import threading
from typing import Any

from .. import errors


class ExecContext:
    __slots__ = ("txn", "params", "functions", "cancel", "analyze", "outer", "scans",
                 "cte_results", "cte_limits", "rowcount", "checks", "coded_joins",
                 "read_root", "drawn")

    def __init__(self, txn: Any, params: list | None = None, functions: Any = None,
                 cancel: threading.Event | None = None, analyze: dict | None = None,
                 outer: list | None = None, scans: Any = None,
                 cte_results: dict | None = None, cte_limits: dict | None = None,
                 checks: Any = None) -> None:
        self.txn = txn                    # Transaction (reads see txn.working)
        self.params = params if params is not None else []
        self.functions = functions        # FunctionRegistry
        self.cancel = cancel
        self.analyze = analyze            # node id -> stats, for EXPLAIN ANALYZE
        self.outer = outer if outer is not None else []   # row stack for correlated subqueries
        self.scans = scans                # name -> pyarrow.Table for registered objects
        self.cte_results = cte_results if cte_results is not None else {}
        # Row budgets for recursive CTEs read straight under a LIMIT: id(plan) -> rows.
        self.cte_limits = cte_limits if cte_limits is not None else {}
        self.rowcount = -1                # rows affected, set by DML operators
        # fn(schema, functions) -> bound CHECKs: the database's CheckBinder (sql/bind)
        self.checks = checks
        # id(join node) -> output columns the join may hand out dictionary-encoded (an
        # aggregate above groups by them only: operators/aggregate.py)
        self.coded_joins: dict | None = None
        # The root reads see when it is not the transaction's working root: a statement
        # with data-modifying WITH queries reads the state from before it began.
        self.read_root = None
        # sequence -> the values its nextval() drew for the rows just evaluated: currval()
        # beside it in the same rows answers each row's own value (exec/expr/vector.py)
        self.drawn: dict | None = None

    def check_cancel(self) -> None:
        cancel = self.cancel
        if cancel is not None and cancel.is_set():
            check = getattr(cancel, "check", None)   # statement_limits.py: timeout or interrupt
            if check is not None:
                check()
            raise errors.sql_error("57014", "canceling statement due to user request")

    @property
    def root(self):
        """What this statement's scans read (writes always go to ``txn.working``)."""
        read = self.read_root
        return read if read is not None else self.txn.working
