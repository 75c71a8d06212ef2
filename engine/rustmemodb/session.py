"""Session.execute: the only place the stages of a statement are wired together.

The life of a statement:

 1. Look the exact text up in the plan cache; a hit that is still valid for the
    transaction's catalog skips steps 2-5 (the common case for repeated SQL).
 2. Rewrite placeholders (``?``, ``%s``, ``:name``) to ``$n`` (sql/params.py).
 3. Keyword pre-dispatch (sql/dispatch.py): transaction control, SET/SHOW,
    PREPARE/EXECUTE and EXPLAIN are handled without (or before) sqlglot.
 4. Parse with sqlglot, PostgreSQL dialect (sql/parse.py).
 5. Bind against the transaction's catalog (sql/bind/): names, types, strict
    checks; then optimize (optimize/), and cache.
 6. Convert the parameters to the types the binder inferred for their slots.
 7. Pick the transaction: the open explicit one, or a fresh autocommit one.
 8. Execute (exec/run.py) against the transaction's private working root; a
    failure restores the root as it was before the statement, and inside an
    explicit transaction marks it failed (``25P02`` until ROLLBACK).
 9. Autocommit: commit (txn/commit.py handles conflicts and rebase).
10. Return a ``Result``: Arrow columns, rowcount, statement kind.
"""
from __future__ import annotations

from time import perf_counter as _perf_counter
from typing import Any


from . import errors, types
from .api.frame_cache import FrameCache
from .exec.context import ExecContext
from .result import Result
from .sql import params as placeholders
from .sql.dispatch import Explain, Utility, dispatch
from .sql.plan_cache import Prepared


class CancelFlag:
    """A cross-thread cancel request; a plain attribute is enough under the GIL."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set


class Session:
    """Per-connection state: the open transaction, settings, prepared statements."""

    def __init__(self, database, connection=None) -> None:
        self.db = database
        self.connection = connection
        self.txn = None                   # explicit transaction, when one is open
        self.autocommit = True            # False: PEP 249 implicit transactions
        self.settings: dict[str, str] = {}
        self.prepared: dict[str, str] = {}
        self.cancel_event = CancelFlag()
        self.replacement_scan = None
        self.frames = FrameCache()          # replacement-scanned DataFrames, as Arrow
        self.savepoints: list[tuple[str, Any]] = []

    @property
    def in_transaction(self) -> bool:
        return self.txn is not None

    # ---- entry ----------------------------------------------------------------------------
    def execute(self, sql: str, params=None) -> Result:
        started = _perf_counter()
        self.cancel_event.clear()
        try:
            prepared = self._prepare(sql)
        except errors.Error:
            if self.txn is not None:   # like PostgreSQL, any error aborts the transaction
                self.txn.failed = True
            raise
        txn = self.txn
        if txn is not None and txn.failed and not _ends_failed_txn(prepared):
            raise _aborted()
        if prepared.utility is not None:
            result = self._utility(prepared, params)
        else:
            result = self._run(prepared, params)
        result.elapsed = _perf_counter() - started
        return result

    # ---- steps 1-5 ---------------------------------------------------------------------
    def _prepare(self, sql: str) -> Prepared:
        db = self.db
        txn = self.txn
        root = txn.working if txn is not None else db.root
        entry = db.plan_cache.get(sql)
        if entry is not None and entry.valid_for(root, db.functions):
            return entry
        ph = placeholders.normalize(sql)
        util = dispatch(ph.sql)
        if util is not None:
            return Prepared(ph.sql, ph, kind="utility", utility=util)
        prepared = self._bind(ph, root)
        if prepared.bound.cacheable:
            db.plan_cache.put(sql, prepared)
        return prepared

    def _catalog_root(self):
        return self.txn.working if self.txn is not None else self.db.root

    def _bind(self, ph, root) -> Prepared:
        from .optimize import optimize
        from .sql.bind.binder import StatementBinder
        from .sql.parse import parse_one
        ast = parse_one(ph.sql)
        binder = StatementBinder(root, self.db.functions, self._scan_lookup)
        bound = binder.bind_statement(ast)
        plan = optimize(bound.plan, root) if bound.plan is not None else None
        slots = [bound.param_types.get(i, types.UNKNOWN) for i in range(ph.count)]
        sizes = tuple((name, root.tables[name].live_rows) for kind, name, _ in bound.deps
                      if kind == "table" and name in root.tables)
        prepared = Prepared(ph.sql, ph, kind=bound.kind, bound=bound, plan=plan,
                            functions_version=self.db.functions.version, param_types=slots,
                            exact_types=exact_param_types(ph, slots), sizes=sizes)
        from .exec.fast_path import compile_fast_path
        prepared.fast = compile_fast_path(prepared)
        return prepared

    def _scan_lookup(self, name: str):
        """Registered objects first, then the replacement scan (e.g. notebook variables)."""
        if self.connection is not None:
            data = self.connection._registered.get(name)
            if data is not None:
                return data
        if self.replacement_scan is not None:
            obj = self.replacement_scan(name)
            if obj is not None:
                return self.frames.arrow(obj)
        return None

    # ---- steps 6-10 ----------------------------------------------------------------------
    def _run(self, prepared: Prepared, params, analyze: dict | None = None) -> Result:
        values = self._params(prepared, params)
        txn, autocommit = self._transaction()
        ctx = ExecContext(txn, values, self.db.functions, self.cancel_event, analyze)
        mark = txn.savepoint()
        try:
            result = self._execute_bound(prepared, ctx)
        except BaseException as exc:
            txn.restore(mark)
            self._after_error(txn, autocommit)
            if isinstance(exc, KeyboardInterrupt):
                raise errors.sql_error("57014", "canceling statement due to user request") from None
            if isinstance(exc, errors.Error):
                raise
            if isinstance(exc, (MemoryError, RecursionError)):
                raise errors.sql_error("54001", f"statement too complex: {type(exc).__name__}") from None
            raise errors.InternalError(f"internal error: {type(exc).__name__}: {exc}") from exc
        if autocommit:
            self.db.commit(txn)
        return result

    def _execute_bound(self, prepared: Prepared, ctx: ExecContext) -> Result:
        bound = prepared.bound
        if bound.action is not None:
            count = bound.action(ctx.txn, ctx)
            return Result([], rowcount=count if bound.kind.startswith("CREATE TABLE") and count
                          else -1, kind=bound.kind)
        if prepared.fast is not None and ctx.analyze is None:
            out = prepared.fast(ctx)
            if out is not None:
                return out
        from .exec.run import run_plan
        ctx.rowcount = -1
        table = run_plan(prepared.plan, ctx)
        if bound.kind == "SELECT":
            return Result(prepared.plan.columns, table=table, rowcount=table.num_rows,
                          kind="SELECT")
        columns = prepared.plan.columns if bound.returns_rows else []
        return Result(columns, table=table if bound.returns_rows else None,
                      rowcount=ctx.rowcount, kind=bound.kind)

    def _params(self, prepared: Prepared, params) -> list:
        # The common case in one C-level comparison: a positional tuple/list whose values
        # already have exactly the Python types of their slots (no None, no conversion).
        # Its length is part of the comparison, so a wrong count takes the slow path and
        # gets its error there.
        exact = prepared.exact_types
        if exact is not None and (type(params) is tuple or type(params) is list) \
                and tuple(map(type, params)) == exact:
            return list(params)
        ph = prepared.placeholders
        if ph.count == 0 and not params:
            return []
        values = placeholders.order_params(ph, params)
        return [convert_param(v, t, i) for i, (v, t) in
                enumerate(zip(values, prepared.param_types or [types.UNKNOWN] * len(values)))]

    def _transaction(self):
        if self.txn is not None:
            if self.txn.failed:
                raise _aborted()
            return self.txn, False
        if not self.autocommit:  # PEP 249: implicitly open a transaction
            self.txn = self.db.begin(explicit=True)
            return self.txn, False
        return self.db.begin(), True

    def _after_error(self, txn, autocommit: bool) -> None:
        if autocommit:
            self.db.end(txn)
        else:
            txn.failed = True

    # ---- transaction control and other utilities ------------------------------------------
    def begin(self) -> None:
        if self.txn is not None:
            # PostgreSQL only warns ("there is already a transaction in progress").
            return
        self.txn = self.db.begin(explicit=True)

    def commit(self) -> None:
        txn, self.txn = self.txn, None
        self.savepoints.clear()
        if txn is None:
            return
        if txn.failed:   # as PostgreSQL: COMMIT of an aborted transaction rolls it back
            self.db.end(txn)
            return
        self.db.commit(txn)

    def rollback(self) -> None:
        txn, self.txn = self.txn, None
        self.savepoints.clear()
        if txn is not None:
            self.db.end(txn)

    def _utility(self, prepared: Prepared, params) -> Result:
        from .utility import run_utility
        return run_utility(self, prepared.utility, params)

    def explain(self, explain: Explain, params) -> Result:
        from .utility import run_explain
        return run_explain(self, explain, params)


def _aborted() -> errors.Error:
    return errors.sql_error("25P02", "current transaction is aborted, commands ignored until "
                                     "end of transaction block",
                            hint="Run ROLLBACK to end the failed transaction.")


def _ends_failed_txn(prepared: Prepared) -> bool:
    util = prepared.utility
    return isinstance(util, Utility) and util.kind in ("rollback", "rollback_to", "commit")


_EXACT = {int: types.INTEGER, float: types.FLOAT, str: types.TEXT, bool: types.BOOLEAN}
_PY_TYPE = {t: py for py, t in _EXACT.items()}


def exact_param_types(ph, slots: list) -> tuple | None:
    """For positional placeholders: the Python type per slot whose values need no
    conversion (``convert_param`` returns them unchanged), or None when some slot has
    no such type. ``Session._params`` compares ``tuple(map(type, params))`` to it."""
    if ph.style == "named" or not slots:
        return None
    exact = tuple(_PY_TYPE.get(t) for t in slots)
    return None if None in exact else exact


def convert_param(value, expected: str, slot: int):
    """A Python parameter value in storage form for its slot's type, or 42804."""
    if value is None:
        return None
    if _EXACT.get(type(value)) == expected:   # the common case: nothing to convert
        return value
    stored, got = types.from_python(value)
    if expected in (types.UNKNOWN, types.NULL) or got == expected:
        return stored
    if expected == types.FLOAT and got == types.INTEGER:
        return float(stored)
    if got == types.TEXT and expected in types.LITERAL_CONTEXT_TYPES:
        return types.parse_literal_as(expected, stored)
    if got == types.DATE and expected == types.TIMESTAMP:
        import datetime as dt
        return dt.datetime(stored.year, stored.month, stored.day)
    if expected == types.JSON:
        return types.canonical_json(value)
    if expected == types.TEXT and got == types.UUID:
        return stored
    raise errors.datatype_mismatch(
        f"parameter ${slot + 1} expects {expected}, got {got} ({value!r})",
        hint="Pass a value of the column's type, or CAST the placeholder in SQL.")
