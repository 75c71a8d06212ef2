"""Session.execute: the only place the stages of a statement are wired together.

The life of a statement:

 1. Look the exact text up in the plan cache; a hit that is still valid for the
    transaction's catalog skips steps 2-5 (the common case for repeated SQL).
 2. Rewrite placeholders (``?``, ``%s``, ``:name``) to ``$n`` (sql/params.py).
 3. Keyword pre-dispatch (sql/dispatch.py): transaction control, SET/SHOW,
    PREPARE/EXECUTE and EXPLAIN are handled without (or before) sqlglot.
 4. Lift the literals out of the text (sql/literals.py) and look the shape up in
    the plan cache: a one-off text of a known shape skips parsing and planning.
 5. Parse with sqlglot, PostgreSQL dialect (sql/parse.py); bind against the
    transaction's catalog (sql/bind/): names, types, strict checks; optimize
    (optimize/); turn the lifted literals that reached the plan into parameter
    slots, and cache.
 6. Convert the parameters to the types the binder inferred for their slots and
    append the lifted literals' values.
 7. Pick the transaction: the open explicit one, or a fresh autocommit one.
 8. Execute (exec/run.py) against the transaction's private working root; a
    failure restores the root as it was before the statement, and inside an
    explicit transaction marks it failed (``25P02`` until ROLLBACK).
 9. Autocommit: commit (txn/commit.py handles conflicts and rebase). On a
    write-write conflict (``40001``) the statement runs again on the newest root,
    a bounded number of times with a short jittered backoff (txn/isolation.py),
    and its result is that of the run that committed.
10. Return a ``Result``: Arrow columns, rowcount, statement kind.

Inside an explicit READ COMMITTED transaction each statement first moves the
transaction onto the newest committed root (``Database.refresh``), and a
conflict, there or at COMMIT, runs the transaction's statements again on the
newest root (``_replay``) instead of failing with ``40001``.
"""
from __future__ import annotations

import datetime as _dt
import uuid as _uuid
import weakref
from operator import itemgetter
from time import perf_counter as _perf_counter, time as _time
from typing import Any

from . import errors, notices, ranges, types
from .api.cursor import rows_to_python
from .api.frame_cache import FrameCache
from . import statement_limits as _limits
from .exec.context import ExecContext
from .plan.logical import LogicalCopyTo, LogicalWithWrites
from .result import Result
from .sql import params as placeholders
from .sql.dispatch import Explain, Utility, dispatch
from .sql.literals import parameterize, shape_of, tag_slots
from .sql.plan_cache import Prepared
from .sql.quick import recognize
from .sql.schemas import DEFAULT_SCHEMAS, qualify_names, session_path
from .sql.temp_tables import (creates_temporary, new_prefix, own_names,
                              rename as rename_temporary)
from .txn import isolation
from .backends import DATABASE_OID


class Session:
    """Per-connection state: the open transaction, settings, prepared statements."""

    def __init__(self, database, connection=None) -> None:
        self.db = database
        # Weak: the connection owns its session, and a back reference would make the
        # pair a cycle that only the cyclic collector frees (and forks would pile up).
        self._connection = weakref.ref(connection) if connection is not None else None
        self.txn = None                   # explicit transaction, when one is open
        # sequence -> the last value nextval() gave this session, most recent last
        # (currval, lastval: PostgreSQL's session state, kept even if the draw rolls back)
        self.sequence_values: dict[str, int] = {}
        # setseed(): this session's own random() generator from then on (None: the shared
        # one), so a seeded notebook replays its sample without touching anyone else's
        self.random = None
        self.autocommit = True            # False: PEP 249 implicit transactions
        self._appends: dict = {}          # append: (table, stored) -> (schema, columns, slots, width)
        self._lookups: dict = {}          # lookup: table -> (schema, index, key type, columns, names)
        self.settings: dict[str, str] = {}
        self.settings_changed = False   # since the wire server last reported them
        # default_transaction_isolation when no SET, role or startup packet chose one
        # (what RESET returns to): the engine's REPEATABLE READ; the wire server's
        # sessions get PostgreSQL's READ COMMITTED (server/__init__.py).
        self.boot_isolation = isolation.DEFAULT
        # True while an event loop runs this session's statement (the wire server's point
        # statements): a write-write race is re-run at once, never after a backoff sleep
        # (the loop serves every other client meanwhile; no other loop-run commit can
        # slip in between the re-run and its commit).
        self.on_loop = False
        self.prepared: dict[str, tuple] = {}    # SQL PREPARE: name -> (text, declared types)
        # Interrupt flag, statement_timeout and max_statement_memory (statement_limits.py).
        self.cancel_event = _limits.StatementLimits()
        # NOTICE/WARNING messages of statements, oldest first (notices.py); the wire
        # server drains them after each statement.
        self.notices: list = []
        self.cancel_event.notices = self.notices
        self.replacement_scan = None
        self.frames = FrameCache()          # replacement-scanned DataFrames, as Arrow
        self.savepoints: list[tuple[str, Any]] = []
        # Files SQL may read or write (read_csv, COPY) stay inside this directory:
        # set by connect(file_root=...); SET file_root may narrow it, never widen it.
        self.file_root_limit: str | None = None
        # Who and where, as current_user / current_database() report them (the wire
        # server sets them from the startup packet; bind_session_functions.py).
        self.user_name: str | None = None
        self.database_name: str | None = None
        # This session as the others see it (backends.py): its pid, advisory locks.
        self.backend = database.backends.attach(self, self.settings)
        self.cancel_event.backend = self.backend
        # Access control (auth/): the role this session logged in as (None: the
        # implicit superuser of an embedded connection opened without user=) and the
        # role SET ROLE switched to (None: none).
        self.auth_user: str | None = None
        self.role: str | None = None
        # SET is transactional (PostgreSQL): per setting changed in the open transaction,
        # its value when the transaction began (ROLLBACK restores it) and, for SET LOCAL,
        # its value before (the transaction's end restores it). utility.py keeps them.
        self.settings_undo: dict = {}
        self.settings_local: dict = {}
        # (role, settings) when each savepoint was set, parallel to ``savepoints``:
        # ROLLBACK TO SAVEPOINT undoes the SETs made after it.
        self.savepoint_settings: list = []
        self._granted = None     # ((catalog, role), {id(bound): bound}) checks passed
        # Temporary tables (sql/temp_tables.py): this session's namespace, made by its
        # first CREATE TEMP TABLE, and its tables' names as of a catalog version.
        self.temp_prefix: str | None = None
        self._temps: tuple = (None, frozenset())
        # point_query's readers, by id of the plan each holds
        self._point_readers: dict = {}
        # Select items and conditions bound by earlier statements (sql/bind/reuse.py).
        self._expr_memo = None
        # Pieces of one-table SELECTs parsed by earlier statements (sql/pieces.py).
        self._pieces = None
        # Plans of the pieces of one-table SELECTs (sql/piece_plan.py).
        self._piece_plans = None

    @property
    def backend_pid(self) -> int:
        """pg_backend_pid(): the wire server's BackendKeyData pid, else a small number
        of this process's own."""
        return self.backend.pid

    @backend_pid.setter
    def backend_pid(self, pid: int) -> None:
        self.backend.pid = pid

    @property
    def file_root(self) -> str | None:
        return self.settings.get("file_root") or self.file_root_limit

    @property
    def connection(self):
        ref = self._connection
        return ref() if ref is not None else None

    @property
    def in_transaction(self) -> bool:
        return self.txn is not None

    # ---- entry ----------------------------------------------------------------------------
    def execute(self, sql: str, params=None) -> Result:
        started = _perf_counter()
        limits = self.cancel_event
        backend = self.backend           # what pg_stat_activity shows of this session
        if backend.terminated:
            raise errors.sql_error("57P01", "terminating connection due to administrator "
                                            "command")
        backend.query = sql
        backend.query_start = now = _time()
        if self.txn is None:
            backend.xact_start = now
        result = None
        token = _limits.activate(limits, self.txn is not None)
        try:
            try:
                prepared, lifted = self._lookup(sql)
            except BaseException as exc:
                if self.txn is not None:   # like PostgreSQL, any error aborts the transaction
                    if self.txn.failed:    # ... and an aborted one answers 25P02 first
                        raise _aborted() from None
                    self.txn.failed = True
                if isinstance(exc, errors.Error):
                    raise
                raise _limits_error(exc) from exc
            txn = self.txn
            if txn is not None and txn.failed and not _ends_failed_txn(prepared):
                raise _aborted()
            if self.read_only:
                self._refuse_write(prepared)
            if prepared.utility is not None:
                result = self._utility(prepared, params)
            elif prepared.fast is not None and not prepared.bound.ddl_objects \
                    and (self.autocommit if txn is None else txn.statements is None) \
                    and not (prepared.bound.privileges and (self.role or self.auth_user)):
                result = self._run_fast(prepared, params, lifted, txn)
            else:
                if txn is not None and txn.statements is not None:   # READ COMMITTED
                    prepared, lifted = self._newest_snapshot(sql, prepared, lifted)
                result = self._run(prepared, params, lifted=lifted)
        except errors.Error as exc:
            if self.temp_prefix is not None:
                _plain_names(exc, self.temp_prefix)
            raise
        finally:
            _limits.deactivate(limits, token, self.txn is not None)
            backend.query_end = _time()
            if self.txn is None and (backend.advisory_xact or backend.pending):
                # the statement's own transaction ended: committed if it succeeded
                self.db.backends.end_transaction(backend, result is not None)
        result.elapsed = _perf_counter() - started
        return result

    # ---- steps 1-5 ---------------------------------------------------------------------
    def _lookup(self, sql: str) -> tuple[Prepared, list]:
        """The plan for ``sql`` and its lifted literals' values, cached or made now."""
        db = self.db
        txn = self.txn
        # a cached plan is checked against the schemas, which INSERTs the transaction
        # has pending do not change (binding a new one sees them applied, below)
        root = txn.catalog_root if txn is not None else db.root
        if self.temp_prefix is not None and self.temporary_tables(root):
            return self._lookup_private(sql, txn.working if txn is not None else root), []
        if (root.auth.schemas or "search_path" in self.settings) and \
                session_path(self, root) != DEFAULT_SCHEMAS:
            # unqualified names follow this session's search path (sql/schemas.py)
            return self._lookup_private(sql, txn.working if txn is not None else root), []
        cache = db.plan_cache
        hit = cache.by_text(sql)
        if hit is not None and hit[0].valid_for(root, db.functions) and _zone_fits(hit[0], self):
            cache.hits += 1
            return hit
        ph = placeholders.normalize(sql)
        util = dispatch(ph.sql)
        if util is not None:
            return Prepared(ph.sql, ph, kind="utility", utility=util), []
        shape = shape_of(ph.sql, ph.names)
        if shape.has_literals:
            found = cache.by_shape(shape)
            if found is not None and found.valid_for(root, db.functions) \
                    and _zone_fits(found, self):
                values = found.lifted.params(shape)
                cache.put(sql, found, values)
                cache.hits += 1
                return found, values
        cache.misses += 1
        if shape.has_literals and cache.first_sighting(shape, sql):
            shape = None     # a shape's first text keeps its literals (sql/plan_cache.py)
        limits = self.cancel_event
        limits.zone_read = False
        prepared = self._bind(ph, txn.working if txn is not None else root, shape)
        if limits.zone_read:     # it folded a value read in this session's TimeZone
            prepared.zone = (limits.zone, limits.date_order)   # (or DateStyle order)
        values = prepared.lifted.params(shape) if prepared.lifted is not None else []
        if prepared.bound.cacheable:
            cache.put(sql, prepared, values, shape, once=prepared.lifted is None)
        return prepared, values

    def temporary_tables(self, root) -> frozenset:
        """The names of this session's temporary tables in ``root``."""
        version, names = self._temps
        if version is not root.catalog_version:
            names = own_names(root.tables, self.temp_prefix) \
                if self.temp_prefix is not None else frozenset()
            self._temps = (root.catalog_version, names)
        return names

    def _lookup_private(self, sql: str, root) -> Prepared:
        """A plan for a session with temporary tables: a table name may mean one of them,
        which the shared plan cache (keyed by text) cannot know, so it is bypassed."""
        ph = placeholders.normalize(sql)
        util = dispatch(ph.sql)
        if util is not None:
            return Prepared(ph.sql, ph, kind="utility", utility=util)
        return self._bind(ph, root, None, quick=False)

    def drop_temporary_tables(self) -> None:
        """Drop this session's temporary tables (when it closes), in a transaction of
        their own."""
        if self.temp_prefix is None:
            return
        names = own_names(self.db.root.tables, self.temp_prefix)
        if names:
            self.execute("DROP TABLE IF EXISTS " + ", ".join(
                '"' + n.replace('"', '""') + '"' for n in sorted(names)))

    def point_kind(self, sql: str) -> str | None:
        """The statement kind (SELECT, INSERT...) of ``sql``'s cached plan when it is
        compiled to a fast path (a point SELECT, a single-row INSERT, UPDATE or DELETE
        by key: microseconds of work), else None. The wire server runs those on its
        event loop rather than paying a thread hop. Looks the plan up only: binds
        nothing."""
        if self.private_names():
            return None
        cache = self.db.plan_cache
        hit = cache.by_text(sql)
        if hit is not None:
            prepared = hit[0]
            return prepared.kind if prepared.fast is not None or _bounded(prepared) else None
        ph = placeholders.normalize(sql)
        shape = shape_of(ph.sql, ph.names)
        prepared = cache.by_shape(shape) if shape.has_literals else None
        if prepared is None or (prepared.fast is None and not _bounded(prepared)):
            return None
        db = self.db
        root = self.txn.working if self.txn is not None else db.root
        if prepared.valid_for(root, db.functions):      # as _lookup would: the statement
            cache.put(sql, prepared, prepared.lifted.params(shape))   # then hits by text
        return prepared.kind

    def point_reader(self, sql: str) -> "PointRead | None":
        """A reader of ``sql``'s cached plan when that plan is a bare key probe (``SELECT
        ... FROM t WHERE pk = $1``: its fast path's ``rows``), else None. The wire
        server keeps it with a prepared statement and calls it for each execution; it
        answers only what ``execute`` would answer the same way (``PointRead``). Binds
        nothing: a plan not cached yet gives None."""
        if self.private_names():
            return None
        hit = self.db.plan_cache.by_text(sql)
        if hit is None:
            return None
        prepared, lifted = hit
        rows = _key_probe(prepared)
        return None if rows is None else PointRead(self, prepared, list(lifted), rows)

    def point_writer(self, sql: str) -> "PointWrite | None":
        """A writer of ``sql``'s cached plan when that plan is a point INSERT, UPDATE or
        DELETE whose fast path runs without a transaction (its ``direct``), else None.
        The wire server keeps it with a prepared statement (``PointWrite``). Binds
        nothing: a plan not cached yet gives None."""
        if self.private_names():
            return None
        hit = self.db.plan_cache.by_text(sql)
        if hit is None:
            return None
        prepared, lifted = hit
        fast = prepared.fast
        if (prepared.kind == "SELECT" or fast is None or prepared.utility is not None
                or prepared.bound is None or prepared.bound.ddl_objects):
            return None
        direct = getattr(fast, "direct", None)
        return None if direct is None else PointWrite(self, prepared, list(lifted), direct)

    def point_query(self, sql: str) -> "tuple[PointRead, list] | None":
        """For a statement text without parameters (a simple-protocol Query) whose plan,
        cached by its text or its shape (``WHERE id = 6`` finds the plan of ``WHERE id
        = 5``), is a bare key probe: that plan's reader, kept per plan by this session,
        and the text's literal values to call it with (``reader((), values)``); else
        None. Binds nothing and caches nothing: the first texts of a shape are planned
        by ``execute``."""
        if self.private_names():
            return None
        cache = self.db.plan_cache
        hit = cache.by_text(sql)
        if hit is not None:
            prepared, values = hit
        else:
            ph = placeholders.normalize(sql)
            if ph.count:
                return None
            shape = shape_of(ph.sql, ph.names)
            if not shape.has_literals:
                return None
            prepared = cache.by_shape(shape)
            if prepared is None:
                return None
            values = prepared.lifted.params(shape)
        readers = self._point_readers
        reader = readers.get(id(prepared))
        if reader is None or reader.prepared is not prepared:
            rows = _key_probe(prepared) if not prepared.placeholders.count else None
            if rows is None:
                return None
            if len(readers) >= 64:
                readers.clear()
            reader = readers[id(prepared)] = PointRead(self, prepared, [], rows)
        elif reader.stale:
            del readers[id(prepared)]
            return None
        return reader, values

    def _prepare(self, sql: str) -> Prepared:
        """A plan for ``sql`` with its literals as written (EXPLAIN, PREPARE): not cached."""
        ph = placeholders.normalize(sql)
        util = dispatch(ph.sql)
        if util is not None:
            return Prepared(ph.sql, ph, kind="utility", utility=util)
        # the optimizer's plan, never one assembled from pieces (sql/piece_plan.py):
        # EXPLAIN shows it, PREPARE keeps it
        return self._bind(ph, self._catalog_root(), from_pieces=False)

    def _catalog_root(self):
        return self.txn.working if self.txn is not None else self.db.root

    def _bind(self, ph, root, shape=None, quick: bool = True,
              from_pieces: bool = True, fast: bool = True) -> Prepared:
        try:
            return self._bind_text(ph, root, shape, quick, from_pieces, fast)
        except errors.Error as exc:   # positions point into the text as the user wrote it
            if exc.position is not None and ph.edits:
                exc.position = ph.original_position(exc.position)
            raise

    def _bind_text(self, ph, root, shape, quick_ok: bool = True,
                   from_pieces: bool = True, fast: bool = True) -> Prepared:
        planner = _planner()
        optimize, FLAT = planner.optimize, planner.FLAT
        # The simplest shapes (SELECT 1, CREATE TABLE, INSERT ... VALUES, a point SELECT)
        # are bound without sqlglot or the binder, whose imports are half of a cold
        # start (sql/quick.py): the same bound statement, literal tags included.
        if quick_ok and (root.auth.schemas or "search_path" in self.settings):
            quick_ok = session_path(self, root) == DEFAULT_SCHEMAS   # names as written
        quick = recognize(ph.sql, shape, root, self.db.functions) if quick_ok else None
        if quick is not None:
            bound, tags = quick
        else:
            if from_pieces and shape is None and self.temp_prefix is None \
                    and self._pieces_resolve(ph.sql, root):
                # a one-table SELECT planned from its pieces' plans (sql/piece_plan.py)
                plans = self._piece_plans
                if plans is None:
                    plans = self._piece_plans = _front_end().PiecePlans()
                prepared = plans.prepare(self, ph, root)
                if prepared is not None:
                    prepared.fast = planner.compile_piece_rows(prepared, self.compile_fast)
                    return prepared
            bound, tags = self._parse_and_bind(ph, root, shape)
            if isinstance(bound, Prepared):
                return bound
        plan = None if bound.plan is None else \
            optimize(bound.plan, root, disabled=frozenset() if bound.nested else FLAT)
        lifted = None
        if tags is not None and plan is not None:
            plan, lifted = parameterize(plan, shape, ph.count)
        slots = [bound.param_types.get(i, types.UNKNOWN) for i in range(ph.count)]
        sizes = tuple((name, root.tables[name].live_rows) for kind, name, _ in bound.deps
                      if kind == "table" and name in root.tables)
        prepared = Prepared(ph.sql, ph, kind=bound.kind, bound=bound, plan=plan,
                            functions_version=self.db.functions.version, param_types=slots,
                            exact_types=exact_param_types(ph, slots), sizes=sizes,
                            lifted=lifted)
        return self._compiled(prepared, planner) if fast else prepared

    def _compiled(self, prepared: Prepared, planner) -> Prepared:
        """``prepared`` with its fast path compiled."""
        prepared.fast = self.compile_fast(prepared)
        return prepared

    def compile_fast(self, prepared: Prepared):
        """The fast path of ``prepared`` (exec/fast_path.py), or None; compiled reusing
        the session's closures of the bound expressions it reuses (sql/bind/reuse.py)."""
        memo = self._expr_memo
        if memo is not None and memo.entries:
            prepared.row_fns = memo.row_fns
        try:
            return _planner().compile_fast_path(prepared)
        finally:
            prepared.row_fns = None

    def plan_piece(self, ph, root) -> Prepared:
        """The plan of a piece's own statement (sql/piece_plan.py), made by the normal
        path (never from pieces' plans) and cached nowhere; not compiled (the piece keeps
        its plan's expressions, compiled where its values are made: exec/piece_rows.py)."""
        return self._bind(ph, root, None, from_pieces=False, fast=False)

    def piece_is_pure(self, kind: str, text: str) -> bool:
        """Whether select item or condition ``text`` holds only nodes whose binding reads
        nothing but their arguments, the scope, the function registry and the catalog's
        tables (sql/bind/reuse.py ``piece_key``/``catalog_key``)."""
        front = _front_end()
        pieces = self._pieces
        if pieces is None:
            pieces = self._pieces = front.PieceParser()
        node = pieces.node(kind, text)
        return node is not None and (front.piece_key(node) is not None
                                     or front.catalog_key(node) is not None)

    def _parse_and_bind(self, ph, root, shape):
        """(bound statement, literal slot tags) through sqlglot and the binder; or a
        finished ``Prepared`` for the role statements sqlglot cannot read."""
        front = _front_end()
        parse_one, CommentStatement = front.parse_one, front.CommentStatement
        role_stmt = front.parse_role_statement(ph.sql)
        if isinstance(role_stmt, CommentStatement):   # COMMENT ON: a catalog change
            from .sql.bind.bind_comment import bind_comment
            return bind_comment(role_stmt, root), None
        if getattr(role_stmt, "kind", None) in _TYPE_STATEMENTS:    # sqlglot cannot read them
            from .sql.bind.bind_enum import bind_type_statement
            return bind_type_statement(role_stmt, root, self.db.functions), None
        if role_stmt is not None:     # CREATE ROLE, GRANT ...: sqlglot cannot read them
            from .auth.statements import bind_role_statement
            bound = bind_role_statement(role_stmt, self)
            return Prepared(ph.sql, ph, kind=bound.kind, bound=bound, plan=bound.plan,
                            functions_version=self.db.functions.version), None
        if shape is None and self.temp_prefix is None and self._pieces_resolve(ph.sql, root):
            # a one-table SELECT from pieces parsed before (sql/pieces.py); its nodes'
            # positions are the pieces' own, so an error is reported from the whole parse
            pieces = self._pieces
            if pieces is None:
                pieces = self._pieces = front.PieceParser()
            ast = pieces.parse(ph.sql)
            if ast is not None:
                binder = self._binder(root, None)
                binder.clauses_checked = True   # by the piece parser
                try:
                    return binder.bind_statement(ast), None
                except errors.Error as exc:
                    if exc.sqlstate[:2] in ("53", "54", "57"):
                        raise   # cancelled, out of memory or too complex
        ast = parse_one(ph.sql)
        if self.temp_prefix is not None or creates_temporary(ast):
            if self.temp_prefix is None:
                self.temp_prefix = new_prefix()
            ast = rename_temporary(ast, self.temp_prefix, self.temporary_tables(root))
        if root.auth.schemas or "search_path" in self.settings:
            ast = qualify_names(ast, root, session_path(self, root))
        tags = tag_slots(shape, ast) if shape is not None else None
        try:
            bound = self._binder(root, tags).bind_statement(ast)
        except errors.Error as exc:
            if tags is None or exc.sqlstate[:2] in ("53", "54", "57"):
                raise   # cancelled, out of memory or too complex: binding again cannot help
            # Two literals written alike are different slots, so an expression repeated
            # in GROUP BY and the select list no longer matches: bind with constants.
            tags = None
            bound = self._binder(root, None).bind_statement(ast)
        return bound, tags

    def _pieces_resolve(self, sql: str, root) -> bool:
        """Whether the pieces' parses (sql/pieces.py), which read names as written, mean
        what ``sql`` means: not when schemas could qualify or a search path redirect them."""
        return session_path(self, root) == DEFAULT_SCHEMAS and (not root.auth.schemas
                                                                or "." not in sql)

    def private_names(self) -> bool:
        """Whether a statement text may mean other tables in this session than in
        others (temporary tables, a search path of its own): the shared plan cache's
        plans are not this session's then."""
        root = self._catalog_root()
        if self.temp_prefix is not None and self.temporary_tables(root):
            return True
        return bool(root.auth.schemas or "search_path" in self.settings) and \
            session_path(self, root) != DEFAULT_SCHEMAS

    def _binder(self, root, tags):
        front = _front_end()
        binder = front.StatementBinder(root, self.db.functions, self._scan_lookup, tags)
        if tags is None:    # lifted literals are slots of the statement's own
            memo = self._expr_memo
            if memo is None:
                memo = self._expr_memo = front.ExprMemo()
            binder.expr_memo = memo.current(self.db.functions, root.functions)
        binder.file_root = self.file_root
        binder.session = self
        return binder

    def _scan_lookup(self, name: str):
        """Registered objects first, then the replacement scan (e.g. notebook variables)."""
        connection = self.connection
        if connection is not None:
            data = connection._registered.get(name)
            if data is not None:
                return data
        if self.replacement_scan is not None:
            obj = self.replacement_scan(name)
            if obj is not None:
                return self.frames.arrow(obj, name)
        return None

    # ---- steps 6-10 ----------------------------------------------------------------------
    def execute_many(self, sql: str, seq_of_params) -> int:
        """``executemany``: one statement over many parameter rows; the rows affected.

        An INSERT with a row-wise fast path appends every row at once, as one atomic
        statement; anything else runs once per parameter row."""
        seq = seq_of_params if isinstance(seq_of_params, (list, tuple)) else list(seq_of_params)
        limits = self.cancel_event
        token = _limits.activate(limits, self.txn is not None)   # interrupt / timeout / memory cap (statement_limits.py)
        try:
            try:
                prepared, lifted = self._lookup(sql) if seq else (None, [])
            except errors.Error:
                if self.txn is not None:
                    if self.txn.failed:
                        raise _aborted() from None
                    self.txn.failed = True
                raise
            if prepared is not None and prepared.bound is not None \
                    and prepared.bound.privileges and self._catalog_root().auth.roles:
                from .auth.check import check
                check(self, self._catalog_root(), prepared.bound)
            if prepared is not None and self.read_only:
                self._refuse_write(prepared)
            many = getattr(prepared.fast, "many", None) if prepared is not None else None
            if many is None or (self.txn is not None and self.txn.failed):
                return sum(max(self.execute(sql, p).rowcount, 0) for p in seq)
            columnar = getattr(prepared.fast, "many_columns", None)
            # Imported here, not at module import: the storage module pulls in pyarrow,
            # which a session that never writes a table need not load (start-up).
            from .storage.table import TAIL_FREEZE
            if columnar is not None and len(seq) >= TAIL_FREEZE and not lifted \
                    and prepared.placeholders.style != "named" \
                    and set(map(type, seq)) <= {tuple, list} \
                    and set(map(len, seq)) == {prepared.placeholders.count}:
                # Many rows of plain values: handed over column-wise, no object per value.
                columns = [list(map(itemgetter(j), seq))
                           for j in range(prepared.placeholders.count)]
                done = self._guarded(prepared, lambda p: (
                    [], lambda ctx: p.fast.many_columns(ctx, columns, p.param_types)))
                if done is not None:
                    return done
            rows = [self._params(prepared, p) + lifted if lifted else self._params(prepared, p)
                    for p in seq]
            return self._guarded(prepared, lambda p: ([], lambda ctx: p.fast.many(ctx, rows)))
        finally:
            _limits.deactivate(limits, token, self.txn is not None)

    def _run_fast(self, prepared: Prepared, params, lifted: list, txn) -> Result:
        """A statement with a compiled fast path (a point SELECT, a single-row INSERT, an
        UPDATE or DELETE by key) in autocommit or in a transaction that is not READ
        COMMITTED: what ``_run`` does, in one frame instead of five, since these
        statements cost a few microseconds and the steps around them as much again. An
        autocommit point SELECT reads the committed root without registering a
        transaction (it cannot conflict with anything); a bare key probe (``run.read``)
        and a point write that can be published without a transaction (``run.direct``)
        make no transaction or context at all. Whatever the fast path declines (it
        returns None) or any other case goes the general way."""
        values = self._params(prepared, params)
        if lifted:
            values += lifted
        db = self.db
        if txn is None:     # autocommit (the caller sends implicit transactions elsewhere)
            reading = prepared.kind == "SELECT"
            if reading:
                read = getattr(prepared.fast, "read", None)   # a bare key probe
                if read is not None:
                    try:
                        return read(db.root, values)
                    except errors.Error:
                        raise
                    except BaseException as exc:
                        raise _limits_error(exc) from exc
            else:
                # A point UPDATE/DELETE/INSERT computed from the newest root without any
                # transaction and published as one new root (exec/fast_update.py
                # ``direct``, Database.commit_change), when it can be: else, or when
                # another commit came first, an unregistered transaction.
                direct = getattr(prepared.fast, "direct", None)
                # (behind commits waiting for their fsync too, when the caller defers
                # its own wait: Database.point_base)
                root = db.root if direct is None or not db._pending else db.point_base()
                if direct is not None and root is not None:
                    try:
                        done = direct(root, values)
                    except errors.Error:
                        raise
                    except BaseException as exc:
                        raise _limits_error(exc) from exc
                    if done is not None:
                        out, table, version, change = done
                        if version is None or db.commit_change(root, table, version, change):
                            return out
                out = self._run_point_write(prepared, values)
                if out is not None:
                    return out
            work = db.snapshot() if reading else self._begin()
            ctx = ExecContext(work, values, db.functions, self.cancel_event, None,
                              checks=db.bound_checks)
            try:
                out = prepared.fast(ctx)
            except BaseException as exc:
                if not reading:
                    db.end(work)
                if isinstance(exc, errors.Error):
                    raise
                raise _limits_error(exc) from exc
            if out is None or (reading and work.ops):   # declined, or a read that wrote
                if not reading:
                    db.end(work)
                return self._run(prepared, params, lifted=lifted)
            if not reading:
                try:
                    db.commit(work)
                except errors.SerializationFailure as exc:
                    return self._rerun_autocommit(prepared, self._job(params, lifted), None, exc)
            return out
        if txn.failed:
            raise _aborted()
        mark = txn.savepoint()
        ctx = ExecContext(txn, values, db.functions, self.cancel_event, None,
                          checks=db.bound_checks)
        try:
            out = prepared.fast(ctx)
        except BaseException as exc:
            txn.restore(mark)
            txn.failed = True
            if isinstance(exc, errors.Error):
                raise
            raise _limits_error(exc) from exc
        if out is None:
            txn.restore(mark)
            return self._run(prepared, params, lifted=lifted)
        txn.queries += 1
        return out

    def _run_point_write(self, prepared: Prepared, values: list) -> Result | None:
        """An autocommit write with a fast path, in a transaction that is never
        registered (Database.commit_point): None when it was declined, by the fast path
        or because another commit came first, and nothing was published; the caller
        then runs the statement the registered way, from the start."""
        db = self.db
        work = db.unregistered()
        if work is None:
            return None
        work.drawn = self.sequence_values
        ctx = ExecContext(work, values, db.functions, self.cancel_event, None,
                          checks=db.bound_checks)
        try:
            out = prepared.fast(ctx)
            if out is not None and db.commit_point(work) is None:
                return None
        except errors.Error:
            raise
        except BaseException as exc:
            raise _limits_error(exc) from exc
        return out

    def _job(self, params, lifted: list):
        """``job(prepared) -> (values, run)``: a statement as ``_guarded`` runs (and
        re-runs) it."""
        def job(prepared: Prepared):
            values = self._params(prepared, params)
            if lifted:
                values += lifted
            return values, lambda ctx: self._execute_bound(prepared, ctx)
        return job

    def _run(self, prepared: Prepared, params, analyze: dict | None = None,
             lifted: list = ()) -> Result:
        return self._guarded(prepared, self._job(params, lifted), analyze)

    def _guarded(self, prepared: Prepared, job, analyze: dict | None = None):
        """Run ``job(prepared) -> (values, run)`` as one statement of the session's
        transaction: undone whole if it fails. In autocommit a write-write conflict at
        commit re-runs the job on the newest root; in a READ COMMITTED transaction the
        job is remembered so the transaction can be replayed there."""
        values, run = job(prepared)
        txn, autocommit = self._transaction()
        if autocommit:
            result = self._attempt(txn, run, values, analyze, True)
            try:
                self.db.commit(txn)
            except errors.SerializationFailure as exc:
                return self._rerun_autocommit(prepared, job, analyze, exc)
            return result
        ops_before = len(txn.ops)
        result = self._attempt(txn, run, values, analyze, False)
        txn.queries += 1
        statements = txn.statements
        if statements is not None and (len(txn.ops) != ops_before
                                       or prepared.bound.kind != "SELECT"):
            statements.append((prepared, job, _seen(result)))
        return result

    def _attempt(self, txn, run, values: list, analyze: dict | None,
                 autocommit: bool):
        """``run(ctx)`` once in ``txn``; on failure the statement leaves no trace and the
        error leaves as a DB-API error (an explicit transaction is marked failed)."""
        ctx = ExecContext(txn, values, self.db.functions, self.cancel_event, analyze,
                          checks=self.db.bound_checks)
        mark = txn.savepoint()
        try:
            return run(ctx)
        except BaseException as exc:
            txn.restore(mark)
            self._after_error(txn, autocommit)
            if isinstance(exc, errors.Error):
                raise
            raise _limits_error(exc) from exc

    def _rerun_autocommit(self, prepared: Prepared, job, analyze: dict | None,
                          error: errors.Error):
        """An autocommit statement lost a write-write race at commit: run it again on the
        newest committed root (bounded, with backoff), as PostgreSQL's READ COMMITTED
        re-applies a statement to the newest row version. Nobody has seen the failed
        run's result, so this is as if the statement had started later."""
        db = self.db
        for attempt in range(1, isolation.ATTEMPTS):
            if not self.on_loop:
                isolation.backoff(attempt)
            if self.cancel_event.is_set():
                raise errors.sql_error("57014", "canceling statement due to user request")
            root = db.root
            if not prepared.valid_for(root, db.functions):   # a table changed definition
                prepared = self._bind(prepared.placeholders, root)
            values, run = job(prepared)
            if analyze is not None:
                analyze.clear()
            txn = self._begin()
            result = self._attempt(txn, run, values, analyze, True)
            try:
                db.commit(txn)
                return result
            except errors.SerializationFailure as exc:
                error = exc
        raise error

    def _execute_bound(self, prepared: Prepared, ctx: ExecContext) -> Result:
        bound = prepared.bound
        if bound.privileges and (self.role or self.auth_user) and ctx.txn.working.auth.roles:
            self._check_privileges(ctx.txn.working, bound)
        if bound.ddl_objects:      # owners and grants follow created/dropped/renamed objects
            return self._run_ddl_with_owners(prepared, ctx)
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

    def _run_ddl_with_owners(self, prepared: Prepared, ctx: ExecContext) -> Result:
        from .exec.run import run_plan
        before = ctx.txn.working
        ctx.rowcount = -1
        run_plan(prepared.plan, ctx)
        if ctx.txn.working.auth.roles:
            from .auth.check import after_ddl
            after_ddl(ctx.txn, prepared.bound, before, self)
        return Result([], rowcount=ctx.rowcount, kind=prepared.bound.kind)

    def _check_privileges(self, root, bound) -> None:
        """auth/check.py's check, remembered per statement while the roles catalog and
        the role stay the same (a repeated statement then costs one dict lookup)."""
        granted = self._granted
        key = (root.auth, self.role or self.auth_user)
        if granted is None or granted[0] != key:
            granted = self._granted = (key, {})
        elif id(bound) in granted[1]:
            return
        from .auth.check import check
        check(self, root, bound)
        if len(granted[1]) > 512:
            granted[1].clear()
        granted[1][id(bound)] = bound      # held, so the id is not reused meanwhile

    def _params(self, prepared: Prepared, params) -> list:
        # The common case in one C-level comparison: a positional tuple/list whose values
        # already have exactly the Python types of their slots (no None, no conversion).
        # Its length is part of the comparison, so a wrong count takes the slow path and
        # gets its error there.
        exact = prepared.exact_types
        if exact is not None and (type(params) is tuple or type(params) is list) \
                and tuple(map(type, params)) == exact \
                and (int not in exact or _ints_fit(params)) \
                and (str not in exact or _texts_fit(params)):
            return list(params)
        ph = prepared.placeholders
        if ph.count == 0 and not params:
            return []
        values = placeholders.order_params(ph, params)
        casts = prepared.bound.cast_slots if prepared.bound is not None else ()
        return [convert_param(v, t, i, i in casts) for i, (v, t) in
                enumerate(zip(values, prepared.param_types or [types.UNKNOWN] * len(values)))]

    def _transaction(self):
        if self.txn is not None:
            if self.txn.failed:
                raise _aborted()
            return self.txn, False
        if not self.autocommit:  # PEP 249: implicitly open a transaction
            self.txn = self._open()
            return self.txn, False
        return self._begin(), True

    def _begin(self, explicit: bool = False, after_pending: bool = False):
        """A transaction of this session: the sequence values it draws are remembered
        for currval() and lastval() (``sequence_values``)."""
        txn = self.db.begin(explicit, after_pending)
        txn.drawn = self.sequence_values
        return txn

    def _open(self, level: str | None = None, read_only: bool | None = None,
              inherited: bool = False):
        """A new explicit transaction at ``level`` (default: default_transaction_isolation),
        read-only if asked (default: default_transaction_read_only). ``base_modes``: the
        modes an abort leaves it (PostgreSQL: BEGIN's options are SETs, undone by an
        abort; a chained transaction's modes are its own)."""
        txn = self._begin(explicit=True)
        self._set_level(txn, level or self.default_isolation)
        txn.read_only = self.default_read_only if read_only is None else read_only
        txn.base_modes = (txn.isolation, txn.read_only) if inherited else \
            (self.default_isolation, self.default_read_only)
        return txn

    def restore_transaction_modes(self, level: str, read_only: bool) -> None:
        """ROLLBACK TO SAVEPOINT: the isolation level and access mode the transaction had
        when the savepoint was set (a SET TRANSACTION after it is undone)."""
        txn = self.txn
        if txn is not None:
            if level != txn.isolation:
                self._set_level(txn, level)
            txn.read_only = read_only

    @property
    def read_only(self) -> bool:
        """Whether a statement run now would be in a read-only transaction: the open
        one's access mode, else default_transaction_read_only."""
        txn = self.txn
        return txn.read_only if txn is not None else self.default_read_only

    @property
    def default_read_only(self) -> bool:
        return self.settings.get("default_transaction_read_only") == "on"

    @staticmethod
    def _set_level(txn, level: str) -> None:
        txn.isolation = level
        rc = isolation.effective(level) == isolation.READ_COMMITTED
        txn.statements = [] if rc else None

    # ---- READ COMMITTED ---------------------------------------------------------------
    @property
    def default_isolation(self) -> str:
        return self.settings.get("default_transaction_isolation", self.boot_isolation)

    def _newest_snapshot(self, sql: str, prepared: Prepared,
                         lifted: list) -> tuple[Prepared, list]:
        """Before a statement of a READ COMMITTED transaction: read the newest committed
        root (own changes rebased; on conflict the transaction runs again there)."""
        txn = self.txn
        try:
            self.db.refresh(txn)
        except errors.SerializationFailure:
            try:
                self.txn = self._replay(txn)
            except BaseException:
                txn.failed = True    # over for the database; only ROLLBACK is accepted
                raise
        if not prepared.valid_for(self.txn.working, self.db.functions):
            return self._prepare(sql), []    # literals as written: nothing lifted
        return prepared, lifted

    def _replay(self, old, at_commit: bool = False):
        """The statements of READ COMMITTED transaction ``old`` run again, in order, in a
        new transaction on the newest committed root; savepoint marks follow. At COMMIT
        (``at_commit``) the root may be one still waiting for its fsync (a commit on the
        wire server's loop: ``Database.begin``): nothing the re-run reads is told before
        that commit is durable, and the re-run's own commit waits for it."""
        db = self.db
        db.end(old)
        new = self._begin(explicit=True, after_pending=at_commit)
        self._set_level(new, old.isolation)
        new.constraint_modes = old.constraint_modes
        new.queries = old.queries
        wanted = {mark[2] for _, mark in self.savepoints}
        marks = {}
        try:
            for k, (prepared, job, seen) in enumerate(old.statements):
                if k in wanted:
                    marks[k] = new.savepoint()
                if not prepared.valid_for(new.working, db.functions):
                    prepared = self._bind(prepared.placeholders, new.working)
                values, run = job(prepared)
                again = _seen(self._attempt(new, run, values, None, False))
                if not _same(seen, again):
                    raise errors.SerializationFailure(
                        "could not serialize access due to concurrent update",
                        detail="A statement of this READ COMMITTED transaction, run again "
                               "on the newest data after a concurrent commit, returned "
                               "other rows or another row count than it returned before.",
                        hint="Retry the transaction.")
                new.statements.append((prepared, job, seen))
        except BaseException:
            db.end(new)
            raise
        if len(old.statements) in wanted:
            marks[len(old.statements)] = new.savepoint()
        self.savepoints = [(name, marks[mark[2]]) for name, mark in self.savepoints]
        return new

    def _commit_read_committed(self, txn) -> None:
        for attempt in range(1, isolation.ATTEMPTS + 1):
            try:
                if txn.deferred_checks:
                    self._run_deferred(txn)
                self.db.commit(txn)
                return
            except errors.SerializationFailure:
                if attempt == isolation.ATTEMPTS:
                    raise
            if not self.on_loop:
                isolation.backoff(attempt)
            txn = self._replay(txn, at_commit=True)

    def set_isolation(self, text: str) -> bool:
        """SET [SESSION CHARACTERISTICS AS] TRANSACTION ISOLATION LEVEL ..., SET
        [default_]transaction_isolation = ...: True if ``text`` (after SET) was one."""
        import re
        m = re.match(r"(SESSION\s+CHARACTERISTICS\s+AS\s+)?TRANSACTION\b(.*)$", text.strip(),
                     re.I | re.S)
        if m:
            level, access = isolation.transaction_modes(m.group(2))
            if m.group(1):
                if level is not None:
                    self.settings["default_transaction_isolation"] = level
                if access is not None:
                    self.settings["default_transaction_read_only"] = "on" if access else "off"
                return True
            if level is not None:
                self._set_transaction_level(level)
            if access is not None:
                self._set_transaction_access(access)
            return True
        m = re.match(r"(?:SESSION\s+|LOCAL\s+)?(default_transaction_read_only|"
                     r"transaction_read_only)\s*(?:=|TO)\s*(.+?)\s*$", text.strip(), re.I | re.S)
        if m:
            value = isolation.boolean_setting(m.group(1).lower(), m.group(2))
            if m.group(1).lower() == "default_transaction_read_only":
                if value is None:
                    self.settings.pop("default_transaction_read_only", None)
                else:
                    self.settings["default_transaction_read_only"] = "on" if value else "off"
            elif value is not None:
                self._set_transaction_access(value)
            return True
        m = re.match(r"(?:SESSION\s+|LOCAL\s+)?(default_transaction_isolation|"
                     r"transaction_isolation)\s*(?:=|TO)\s*(.+?)\s*$", text.strip(), re.I | re.S)
        if not m:
            return False
        name = m.group(1).lower()
        value = m.group(2)
        if name == "default_transaction_isolation" and value.upper() == "DEFAULT":
            self.settings.pop(name, None)
            return True
        level = isolation.normalize(value)
        if name == "default_transaction_isolation":
            self.settings[name] = level
        else:
            self._set_transaction_level(level)
        return True

    def _set_transaction_level(self, level: str) -> None:
        txn = self.txn
        if txn is None:
            if self.autocommit:   # PostgreSQL: a WARNING and no effect outside a block
                _outside_block_warning()
                return
            txn = self.txn = self._open()
        if level == txn.isolation:
            return          # PostgreSQL checks only a change of level
        if txn.queries or txn.ops:
            raise errors.sql_error("25001", "SET TRANSACTION ISOLATION LEVEL must be called "
                                            "before any query")
        if self.savepoints:
            raise errors.sql_error("25001", "SET TRANSACTION ISOLATION LEVEL must not be "
                                            "called in a subtransaction")
        self._set_level(txn, level)

    def _set_transaction_access(self, read_only: bool) -> None:
        """SET TRANSACTION READ ONLY / READ WRITE: a transaction may become read-only at
        any time, but not read-write again once it has run a query (25001)."""
        txn = self.txn
        if txn is None:
            if self.autocommit:   # PostgreSQL: a WARNING and no effect outside a block
                _outside_block_warning()
                return
            txn = self.txn = self._open()
        if txn.read_only and not read_only and self.savepoints:
            raise errors.sql_error("25001", "cannot set transaction read-write mode inside a "
                                            "read-only transaction")
        if txn.read_only and not read_only and txn.queries:
            raise errors.sql_error("25001", "transaction read-write mode must be set before "
                                            "any query")
        txn.read_only = read_only

    def show_read_only(self, name: str) -> str:
        value = self.read_only if name == "transaction_read_only" else self.default_read_only
        return "on" if value else "off"

    def show_isolation(self, name: str) -> str:
        if name == "transaction_isolation":
            return self.txn.isolation if self.txn is not None else self.default_isolation
        return self.default_isolation

    def _refuse_write(self, prepared: Prepared) -> None:
        """``refuse_write``'s 25006, which aborts an open transaction as any error does."""
        try:
            refuse_write(prepared)
        except errors.Error:
            if self.txn is not None:
                self.txn.failed = True
            raise

    def _after_error(self, txn, autocommit: bool) -> None:
        if autocommit:
            self.db.end(txn)
        else:
            txn.failed = True

    # ---- transaction control and other utilities ------------------------------------------
    def begin(self, options: str = "") -> None:
        """BEGIN / START TRANSACTION [ISOLATION LEVEL ...] [READ ONLY | WRITE]."""
        level, access = isolation.transaction_modes(options) if options else (None, None)
        if self.txn is not None:
            # PostgreSQL only warns ("there is already a transaction in progress"), then
            # applies the modes to the open transaction as SET TRANSACTION would
            if level is not None:
                self._set_transaction_level(level)
            if access is not None:
                self._set_transaction_access(access)
            return
        self.txn = self._open(level, access)

    def chain(self, committed: bool) -> None:
        """COMMIT / ROLLBACK AND CHAIN: end the transaction, then begin the next one with
        the same isolation level and access mode (25P01 outside a transaction block)."""
        txn = self.txn
        if txn is None:
            word = "COMMIT" if committed else "ROLLBACK"
            raise errors.sql_error("25P01", f"{word} AND CHAIN can only be used in "
                                            "transaction blocks")
        # an aborted transaction has lost the modes SET in it (BEGIN's options are SETs:
        # PostgreSQL undoes them as it aborts) and keeps those it started with
        level, read_only = txn.base_modes if txn.failed else (txn.isolation, txn.read_only)
        self.commit() if committed else self.rollback()
        self.txn = self._open(level, read_only, inherited=True)

    def commit(self) -> None:
        committed = False
        try:
            committed = self.txn is not None and not self.txn.failed
            self._commit()
        except BaseException:
            committed = False
            raise
        finally:
            backend = self.backend     # pg_advisory_xact_lock's end; NOTIFY's delivery
            if backend.advisory_xact or backend.pending:
                self.db.backends.end_transaction(backend, committed)

    def _commit(self) -> None:
        txn, self.txn = self.txn, None
        self.savepoints.clear()
        self.savepoint_settings = []
        if txn is None:
            return
        if txn.failed:   # as PostgreSQL: COMMIT of an aborted transaction rolls it back
            self.db.end(txn)
            if self.settings_undo:
                self._end_settings(False)
            return
        if self.settings_undo:
            try:
                self._commit_txn(txn)
            except BaseException:
                self._end_settings(False)
                raise
            self._end_settings(True)
            return
        self._commit_txn(txn)

    def _end_settings(self, committed: bool) -> None:
        from .utility import end_transaction_settings
        end_transaction_settings(self, committed)

    def _commit_txn(self, txn) -> None:
        if txn.statements is not None:
            self._commit_read_committed(txn)
        else:
            if txn.deferred_checks:
                self._run_deferred(txn)
            self.db.commit(txn)

    def _run_deferred(self, txn) -> None:
        """The foreign-key checks DEFERRABLE constraints put off (exec/deferred_checks.py),
        at COMMIT: a violation rolls the transaction back with its 23503."""
        from .exec.constraints import run_deferred
        try:
            run_deferred(txn)
        except BaseException:
            self.db.end(txn)
            raise

    def append_rows(self, table: str, columns: tuple, rows: list[tuple]) -> bool:
        """``INSERT INTO table (columns) VALUES (?, ..)`` once per row, without SQL, when
        ``columns`` are all of the table's columns in order: the same parameter
        conversions (``convert_param`` by column type), NOT NULL, CHECK, unique and
        foreign-key checks, undone whole on error, logged like any insert (it is the
        fast INSERT path minus the SQL text, plan lookup and session round). For rows
        made by code (persist entities and their audit records). Opens the implicit
        transaction like a statement. Returns False, doing nothing, when it cannot
        stand in for the SQL: autocommit mode, a READ COMMITTED transaction (its
        statements are replayed as SQL), a role (privileges are checked on plans), or
        other columns; run the INSERT as SQL then."""
        return self.append([(table, columns, rows, None)])

    def append(self, batches: list[tuple]) -> bool:
        """``append_rows`` of several ``(table, columns, rows, stored)`` batches as one
        statement (one savepoint: all or nothing). ``stored``: positions of columns
        whose values the caller already gives in storage form (a ``str`` for a UUID, a
        naive UTC datetime for a TIMESTAMP, canonical JSON text for JSON; what
        ``convert_param`` would return), so they skip conversion: values code made
        itself (ids, versions, clocks, an audit record), never user input. False,
        doing nothing, when any batch cannot stand in for its SQL (see append_rows)."""
        if self.role or self.auth_user or (self.txn is None and self.autocommit):
            return False
        txn, _ = self._transaction()            # raises 25P02 if the txn has failed
        if txn.statements is not None:
            return False
        plans = []
        tables = txn.working.tables
        for table, columns, rows, stored in batches:
            version = tables.get(table)
            if version is None:
                return False
            schema = version.schema
            key = (table, stored)
            known = self._appends.get(key)
            if known is not None and known[0] is schema and known[1] == columns:
                slots, width = known[2], known[3]
            else:
                cols = schema.columns
                if len(cols) != len(columns) or any(c.name != n for c, n in zip(cols, columns)):
                    return False
                keep = frozenset(stored or ())
                slots = [(i, c.type) for i, c in enumerate(cols) if i not in keep]
                width = len(cols)
                self._appends[key] = (schema, columns, slots, width)
            plans.append((table, rows, slots, len(slots) == width, width))

        constraints = _constraints()

        def run(ctx):
            for table, rows, slots, every, width in plans:
                stored_rows = []
                for row in rows:
                    if len(row) != width:
                        raise errors.sql_error("42601", f"INSERT has {len(row)} values for "
                                                        f"{width} columns")
                    if every:
                        stored_rows.append(tuple([convert_param(row[i], t, i)
                                                  for i, t in slots]))
                    else:
                        out = list(row)
                        for i, t in slots:
                            out[i] = convert_param(row[i], t, i)
                        stored_rows.append(tuple(out))
                working = ctx.txn.working.tables[table]
                stored_rows = constraints.check_rows(ctx.txn, working.schema, stored_rows, ctx,
                                                    inserting=True)
                ctx.txn.insert_rows(table, stored_rows)
        self._attempt(txn, run, [], None, False)
        txn.queries += 1
        return True

    def lookup(self, table: str, key):
        """``SELECT * FROM table WHERE <primary key> = key`` without SQL: the row as a
        dict (column name -> DB-API value, converted as the SELECT converts them) or
        None; False,
        doing nothing, when it cannot stand in for that SELECT: a transaction is open
        or the statement would open one (not autocommit), a role is acting (privileges
        are checked on plans), no such table, or its primary key is not one column.
        Reads the newest committed data, as an autocommit SELECT's own snapshot does.
        The read counterpart of ``append``: for code that fetches one row by id
        (persist's ``get``), where the statement round costs more than the probe."""
        if self.role or self.auth_user or self.txn is not None or not self.autocommit:
            return False
        version = self.db.root.tables.get(table)
        if version is None:
            return False
        schema = version.schema
        known = self._lookups.get(table)
        if known is None or known[0] is not schema:
            pk = schema.primary_key
            if pk is None or len(pk.columns) != 1 or pk.name not in version.indexes:
                known = (schema, None, None, None, None)
            else:
                cols = schema.columns
                known = (schema, pk.name, cols[pk.columns[0]].type,
                         [(c.name, c.type) for c in cols], [c.name for c in cols])
            self._lookups[table] = known
        _, index, key_type, columns, names = known
        if index is None:
            return False
        stored = convert_param(key, key_type, 0)
        if stored is None:
            return None
        rowid = version.indexes[index].get(stored)
        if rowid is None:
            return None
        row = version.row(rowid)
        if row is None:
            return None
        return dict(zip(names, rows_to_python([row], columns)[0]))

    def rollback(self) -> None:
        txn, self.txn = self.txn, None
        self.savepoints.clear()
        self.savepoint_settings = []
        if self.backend.advisory_xact or self.backend.pending:
            self.db.backends.end_transaction(self.backend)
        if txn is not None:
            self.db.end(txn)
        if self.settings_undo:
            self._end_settings(False)

    def settings_rows(self) -> list[tuple]:
        """pg_settings' rows: every setting with this session's value and its source."""
        from .catalog.pg_catalog import settings_rows
        return settings_rows(self)

    def lock_rows(self) -> list[tuple]:
        """pg_locks' rows: the advisory locks of this session's database."""
        return self.db.backends.advisory.rows(DATABASE_OID)

    def activity_rows(self) -> list[tuple]:
        """pg_stat_activity's rows: the live sessions of this session's database."""
        return self.db.backends.activity_rows(self)

    def database_stat_rows(self) -> list[tuple]:
        return self.db.backends.database_stat_rows(self)

    def end(self) -> None:
        """The session is over (its connection closed): it leaves the database's
        backends, releasing its advisory locks."""
        self.db.backends.detach(self.backend)

    def _utility(self, prepared: Prepared, params) -> Result:
        from .utility import run_utility
        try:
            return run_utility(self, prepared.utility, params)
        except errors.Error:
            txn = self.txn
            if txn is not None and txn.explicit:
                # as PostgreSQL: any error aborts the transaction block (a failed SET,
                # SHOW, SAVEPOINT or RELEASE too), so a COMMIT after it rolls back
                txn.failed = True
            raise

    def explain(self, explain: Explain, params) -> Result:
        from .utility import run_explain
        return run_explain(self, explain, params)


def _outside_block_warning() -> None:
    notices.emit("SET TRANSACTION can only be used in transaction blocks", "25P01", "WARNING")


_constraints_module = None


class _Stages:
    """Stage entry points imported on first use (a session's first statements, such as
    ``SELECT 1``, need neither sqlglot nor the optimizer: start-up), then kept here: an
    import statement on every one-off statement's path costs microseconds each."""
    __slots__ = (
        "CommentStatement",
        "ExprMemo",
        "FLAT",
        "PieceParser",
        "PiecePlans",
        "catalog_key",
        "piece_key",
        "StatementBinder",
        "bounded_insert",
        "compile_fast_path",
        "compile_piece_rows",
        "optimize",
        "parse_one",
        "parse_role_statement",
    )


_PLANNER: _Stages | None = None
_FRONT_END: _Stages | None = None
# ALTER TYPE (enum types) and the domain statements (sql/bind/bind_enum.py)
_TYPE_STATEMENTS = frozenset({"ALTER TYPE", "CREATE DOMAIN", "ALTER DOMAIN", "DROP DOMAIN"})


def _planner() -> _Stages:
    """The optimizer and the fast-path compiler."""
    global _PLANNER
    if _PLANNER is None:
        from .exec.fast_path import bounded_insert, compile_fast_path
        from .exec.piece_rows import compile_piece_rows
        from .optimize import FLAT, optimize
        stages = _Stages()
        stages.optimize, stages.FLAT = optimize, FLAT
        stages.compile_fast_path, stages.bounded_insert = compile_fast_path, bounded_insert
        stages.compile_piece_rows = compile_piece_rows
        _PLANNER = stages
    return _PLANNER


def _front_end() -> _Stages:
    """The parser (sqlglot) and the binder."""
    global _FRONT_END
    if _FRONT_END is None:
        from .sql.bind.binder import StatementBinder
        from .sql.bind.reuse import ExprMemo
        from .sql.parse import parse_one
        from .sql.parse_roles import CommentStatement
        from .sql.pieces import PieceParser
        from .sql.piece_plan import PiecePlans
        from .sql.bind.reuse import catalog_key, piece_key
        from .sql.parse_roles import parse as parse_role_statement
        stages = _Stages()
        stages.parse_one, stages.CommentStatement = parse_one, CommentStatement
        stages.parse_role_statement = parse_role_statement
        stages.StatementBinder = StatementBinder
        stages.ExprMemo = ExprMemo
        stages.PieceParser = PieceParser
        stages.PiecePlans = PiecePlans
        stages.piece_key, stages.catalog_key = piece_key, catalog_key
        _FRONT_END = stages
    return _FRONT_END


def _constraints():
    """exec.constraints, imported on first use (it brings pyarrow, which a session's
    first statements need not load); cached, as an import statement in append's path
    costs more than the rest of its bookkeeping."""
    global _constraints_module
    if _constraints_module is None:
        from .exec import constraints
        _constraints_module = constraints
    return _constraints_module


def _limits_error(exc: BaseException) -> errors.Error:
    from .api.guard import as_db_error
    return as_db_error(exc)


def _seen(result) -> tuple:
    """What a statement of a READ COMMITTED transaction told its client: its row count
    and the rows it returned (RETURNING, SELECT ... FOR UPDATE), kept as they are (an
    Arrow table is immutable; row lists are copied): compared only if the transaction
    is re-run (``_same``). A re-run (``Session._replay``) commits only if every
    statement tells the same again: else what commits would differ from what the client
    was told (a re-drawn serial id, a counter's new value), and it fails with 40001."""
    rows = result.table if result.table is not None else result.rows
    return (result.rowcount, list(rows) if isinstance(rows, list) else rows)


def _same(seen: tuple, again: tuple) -> bool:
    """Whether a re-run statement told what it told the first time (``_seen``)."""
    (count, rows), (count_again, rows_again) = seen, again
    if count != count_again or (rows is None) != (rows_again is None):
        return False
    return rows is None or _row_list(rows) == _row_list(rows_again)


def _row_list(rows) -> list:
    return rows if isinstance(rows, list) else rows.to_pylist()


def _aborted() -> errors.Error:
    return errors.sql_error("25P02", "current transaction is aborted, commands ignored until "
                                     "end of transaction block",
                            hint="Run ROLLBACK to end the failed transaction.")


def _plain_names(exc: errors.Error, prefix: str) -> None:
    """A temporary table's stored name in a message as the session wrote it."""
    for attr in ("message", "detail", "hint"):
        text = getattr(exc, attr, None)
        if isinstance(text, str) and prefix in text:
            setattr(exc, attr, text.replace(prefix, ""))
    if exc.args and isinstance(exc.args[0], str) and prefix in exc.args[0]:
        exc.args = (exc.args[0].replace(prefix, ""),) + exc.args[1:]


def refuse_write(prepared: Prepared) -> None:
    """25006 for a statement that would write, in a read-only transaction."""
    bound = prepared.bound
    if bound is None:
        return
    kind, plan = bound.kind, bound.plan
    if kind == "SELECT":
        if not isinstance(plan, LogicalWithWrites):
            return
        kind = "a data-modifying WITH"
    elif kind == "COPY" and isinstance(plan, LogicalCopyTo):
        return
    raise errors.sql_error("25006", f"cannot execute {kind} in a read-only transaction")


def _ends_failed_txn(prepared: Prepared) -> bool:
    util = prepared.utility
    return isinstance(util, Utility) and util.kind in ("rollback", "rollback_to", "commit", "commit_chain",
                                                      "rollback_chain")



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


class PointRead:
    """One cached bare key probe of a session (``Session.point_reader``): called with a
    statement's parameters, the rows (storage form) that ``execute`` would return, read
    from the newest committed root; or None, reading nothing, whenever ``execute`` could
    answer otherwise: inside a transaction (or with autocommit off), when the session
    has temporary tables, when its role lacks a privilege the statement needs, or when
    the plan is no longer valid for the newest root (then ``stale`` is set and the
    reader is done: the caller asks ``point_reader`` for a new one). Whether the plan
    is valid is asked once per root (the answer for one root never changes); the root is
    held weakly, never kept alive by this."""

    __slots__ = ("session", "prepared", "lifted", "read", "columns", "checked",
                 "functions_version", "privileged", "stale", "wire")

    def __init__(self, session: Session, prepared: Prepared, lifted: list, read) -> None:
        self.session = session
        self.prepared = prepared
        self.lifted = lifted
        self.read = read
        self.columns = list(prepared.plan.columns)
        self.checked = None              # weakref to the root last found valid
        self.functions_version = -1
        self.privileged = bool(prepared.bound.privileges)
        self.stale = False
        self.wire = None                 # the caller's own (the wire server's encoders)

    def __call__(self, params, extra: list | None = None) -> list | None:
        """The rows for ``params`` (then ``extra``: a text's literal values), or None."""
        session = self.session
        if session.txn is not None or not session.autocommit or self.stale:
            return None
        db = session.db
        root = db.root
        if self.privileged and (session.role or session.auth_user):
            # the statement's privileges for this role, checked once per roles catalog
            # (auth/check.py, remembered as ``execute`` remembers it); a refusal is
            # ``execute``'s to report
            try:
                session._check_privileges(root, self.prepared.bound)
            except errors.Error:
                return None
        if not _holds(self, session, root, db.functions):
            return None
        values = session._params(self.prepared, params)
        if self.lifted:
            values += self.lifted
        if extra:
            values += extra
        return self.read(root, values)


def _zone_fits(prepared: Prepared, session: Session) -> bool:
    """Whether a shared plan may serve ``session``: one that folded a value read in a
    session TimeZone serves sessions in that zone only (another binds its own)."""
    zone = prepared.zone
    limits = session.cancel_event
    return zone is None or zone == (limits.zone, limits.date_order)


def _holds(cached, session, root, functions) -> bool:
    """Whether a cached point statement (``PointRead``, ``PointWrite``) may run on
    ``root``: checked once per root and functions version; False with temporary tables
    in the session, with the plan made for another TimeZone, and False with ``stale``
    set when the plan no longer holds."""
    if cached.prepared.zone is not None and not _zone_fits(cached.prepared, session):
        return False
    checked = cached.checked
    if checked is not None and checked() is root \
            and functions.version == cached.functions_version:
        return True
    if session.temp_prefix is not None and session.temporary_tables(root):
        return False
    if not cached.prepared.valid_for(root, functions):
        cached.stale = True
        return False
    cached.checked = weakref.ref(root)
    cached.functions_version = functions.version
    return True


class PointWrite:
    """One cached point INSERT/UPDATE/DELETE of a session whose fast path can run
    without a transaction (``Session.point_writer``; exec/fast_update.py ``direct``):
    called with a statement's parameters, it does what ``execute`` does for it in
    autocommit (the same ``direct`` run on the same root, published by
    ``Database.commit_change``) and returns the same Result; or None, having changed
    nothing, whenever ``execute`` could do otherwise: inside a transaction (or with
    autocommit off), in a read-only session, with temporary tables, for a role whose
    privileges the statement needs checked, when the plan is no longer valid for the newest root (then
    ``stale`` is set, as ``PointRead``'s), or when the fast path declines or another
    commit came first. The caller then runs the statement through ``execute``, from
    the start.

    Why: the wire server runs a prepared point write this way for every execution;
    ``execute``'s plan lookup by text, its dispatch and checks are a tenth of such a
    statement's engine time."""

    __slots__ = ("session", "prepared", "lifted", "direct", "kind", "checked",
                 "functions_version", "privileged", "stale")

    def __init__(self, session: Session, prepared: Prepared, lifted: list, direct) -> None:
        self.session = session
        self.prepared = prepared
        self.lifted = lifted
        self.direct = direct
        self.kind = prepared.kind
        self.checked = None              # weakref to the root last found valid
        self.functions_version = -1
        self.privileged = bool(prepared.bound.privileges)
        self.stale = False

    def __call__(self, params) -> Result | None:
        session = self.session
        if session.txn is not None or not session.autocommit or self.stale \
                or session.read_only:
            return None
        if self.privileged and (session.role or session.auth_user):
            return None                  # ``execute`` checks them on its general way
        db = session.db
        root = db.root
        if not _holds(self, session, root, db.functions):
            return None
        started = _perf_counter()
        values = session._params(self.prepared, params)
        if self.lifted:
            values += self.lifted
        # behind commits waiting for their fsync too, when the caller defers its own
        # wait (Database.point_base), as ``_run_fast``
        base = root if not db._pending else db.point_base()
        if base is None:
            return None
        limits = session.cancel_event
        token = _limits.activate(limits, False)
        try:
            done = self.direct(base, values)
            if done is None:
                return None
            out, table, version, change = done
            if version is not None and db.commit_change(base, table, version, change) is None:
                return None
        except errors.Error:
            raise
        except BaseException as exc:
            raise _limits_error(exc) from exc
        finally:
            _limits.deactivate(limits, token, False)
        out.elapsed = _perf_counter() - started
        return out


def _bounded(prepared: Prepared) -> bool:
    """A cached INSERT without a fast path whose work is bounded all the same
    (exec/fast_path.py ``bounded_insert``: a single-row INSERT into a table with a
    serial key, or with RETURNING or ON CONFLICT), worked out once per plan."""
    bounded = prepared.bounded
    if bounded is None:
        bounded = prepared.bounded = (
            prepared.kind == "INSERT" and prepared.utility is None
            and prepared.bound is not None and not prepared.bound.ddl_objects
            and _planner().bounded_insert(prepared))
    return bounded


def _key_probe(prepared: Prepared):
    """The row reader of ``prepared``'s fast path when that plan is a bare key probe of
    a SELECT (``point_reader``, ``point_query``), else None."""
    fast = prepared.fast
    if (prepared.kind != "SELECT" or fast is None or prepared.utility is not None
            or prepared.bound is None or prepared.bound.ddl_objects):
        return None
    return getattr(fast, "rows", None)


def _texts_fit(params) -> bool:
    """Every str parameter is valid UTF-8 (a lone surrogate must not reach storage: the
    slow path's conversion raises 22021 for it)."""
    for v in params:
        if type(v) is str and not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _ints_fit(params) -> bool:
    """Every int parameter fits in int64 (a bigger one must not reach storage)."""
    for v in params:   # the bounds as literals: constants, not two attribute loads a value
        if type(v) is int and not -0x8000000000000000 <= v <= 0x7FFFFFFFFFFFFFFF:
            return False
    return True


def _naive_utc(value):
    """A datetime for a timestamp slot: an aware one as the session zone's wall clock."""
    if value.tzinfo is not None:
        return types.instant_to_local(value)
    return value


def _instant(value):
    """A datetime for a timestamptz slot: a naive one is the session zone's wall clock."""
    if value.tzinfo is not None:
        return value.astimezone(_dt.timezone.utc)
    return types.local_to_instant(value)


# (exact Python type, slot type) -> storage value, for the conversions that cannot fail:
# what convert_param's general path (types.from_python, then the slot) would return,
# in one dict lookup (a persist create binds a UUID, two timestamps and JSON per row).
_DIRECT = {
    (_uuid.UUID, types.UUID): str,
    (_dt.datetime, types.TIMESTAMP): _naive_utc,
    (_dt.datetime, types.TIMESTAMPTZ): _instant,
    (_dt.date, types.TIMESTAMPTZ): lambda v: types.local_to_instant(
        _dt.datetime(v.year, v.month, v.day)),
    (_dt.date, types.DATE): lambda v: v,
    (float, types.FLOAT): lambda v: v,
    (bool, types.BOOLEAN): lambda v: v,
    (dict, types.JSON): types.canonical_json,
    (list, types.JSON): types.canonical_json,
    # json keeps what it is given: the text json.dumps writes, keys in the dict's order
    (dict, types.JSONT): types.json_text_of,
    (list, types.JSONT): types.json_text_of,
}


def _range_param(value, expected: str, slot: int) -> bytes:
    """A range parameter: a ``Range`` (one of no kind takes the slot's), or the stored
    bytes EXECUTE hands over for a range argument (checked to be a range's)."""
    if isinstance(value, bytes):
        if ranges.codec.valid(ranges.KINDS[expected], value):
            return value
        raise errors.datatype_mismatch(f"parameter ${slot + 1} expects {expected}, got BYTEA",
                                       hint="Pass a rustmemodb.ranges.Range or the range's "
                                            "text.")
    stored, got = ranges.from_python(value, expected)
    if got != expected:
        raise errors.datatype_mismatch(f"parameter ${slot + 1} expects {expected}, got {got} "
                                       f"({value!r})")
    return stored


_INET_CIDR = (types.INET, types.CIDR)


def convert_param(value, expected: str, slot: int, cast: bool = False):
    """A Python parameter value in storage form for its slot's type, or 42804/22003.

    ``cast``: the SQL casts the placeholder (``$1::int``), so a str value is read as
    that type the way a quoted literal would be (``'5'::int``), or 22P02."""
    if value is None:
        return None
    direct = _DIRECT.get((type(value), expected))
    if direct is not None:
        return direct(value)
    if type(value) is int and expected == types.INTEGER \
            and types.INT64_MIN <= value <= types.INT64_MAX:
        return value
    if _EXACT.get(type(value)) == expected and type(value) is not int:
        if type(value) is str and not value.isascii():
            types.check_text(value)           # a lone surrogate is not UTF-8: 22021
        return value                          # the common case: nothing to convert
    if expected.endswith("[]") and isinstance(value, (list, tuple)):    # an array slot
        element = types.element_type(expected)
        return [convert_param(v, element, slot) for v in value]
    if expected in ranges.KINDS and isinstance(value, (ranges.Range, bytes)):
        return _range_param(value, expected, slot)
    if expected == types.NUMERIC and type(value) is bytes and types.numeric.valid(value):
        return value                  # a numeric's storage key (EXECUTE's constants)
    stored, got = types.from_python(value)
    if expected == types.FLOAT and got == types.INTEGER:
        return float(stored)
    if expected == types.NUMERIC and got in (types.INTEGER, types.FLOAT):
        return types.numeric.of_python(value)     # a float by its 15 digits, as PostgreSQL
    if expected == types.FLOAT and got == types.NUMERIC:
        return types.numeric.to_float(types.numeric.decode(stored))
    if got == types.INTEGER and not types.INT64_MIN <= stored <= types.INT64_MAX:
        raise errors.sql_error(
            "22003", f"parameter ${slot + 1} value {stored} is out of range for type bigint",
            hint="INTEGER is 64-bit: pass a larger value as a decimal.Decimal (NUMERIC), "
                 "or store it in a NUMERIC or TEXT column.")
    if expected in (types.UNKNOWN, types.NULL) or got == expected:
        return stored
    if got == types.TEXT and expected in types.LITERAL_CONTEXT_TYPES:
        return types.parse_literal_as(expected, stored)
    if cast and got == types.TEXT:
        from .exec.functions.cast import from_text
        return from_text(stored, expected)
    if got == types.DATE and expected == types.TIMESTAMP:
        import datetime as dt
        return dt.datetime(stored.year, stored.month, stored.day)
    if expected == types.JSON:
        return types.canonical_json(value)
    if expected == types.JSONT and got == types.JSON:
        return types.json_text_of(value)
    if expected == types.TEXT and got == types.UUID:
        return stored
    if {got, expected} == {types.TIME, types.TIMETZ}:
        # an aware time into a time: the zone dropped; a naive one into a timetz: the
        # session zone's offset (PostgreSQL's assignment casts)
        from .exec.functions.cast import cast_row
        return cast_row(stored, got, expected)
    if got in _INET_CIDR and expected in _INET_CIDR:     # an ipaddress network/interface
        return stored if expected == types.INET else types.netaddr.network(stored)
    raise errors.datatype_mismatch(
        f"parameter ${slot + 1} expects {expected}, got {got} ({value!r})",
        hint="Pass a value of the column's type, or CAST the placeholder in SQL.")
