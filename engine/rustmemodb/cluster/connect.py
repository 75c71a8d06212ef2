"""The cluster's DB-API connection: one coordinator in this process, shards elsewhere.

``ClusterConnection`` looks like the embedded ``Connection`` (execute, cursor, commit,
rollback, fork). For every statement it decides where the work runs:

* DDL runs on a schema-only **mirror** database here first (the engine's own checks,
  errors and names) and then on every shard;
* SELECT is first bound on the mirror (errors, result names and types come from the
  engine itself), then either routed to the one shard its key pins it to, split into a
  per-shard partial and a local merge (``split.py``; set operations ``setops.py``),
  with inputs repartitioned or broadcast shard to shard first where rows must meet
  (joins off the key, ``shuffle.py``; windows by other columns; set operations;
  ``exchange.py`` moves the batches). Some pieces run *first* as split queries of
  their own, only their small results reaching this process: uncorrelated subqueries
  (written in as constants), set-operation SELECTs that aggregate or LIMIT, the
  grouping under window functions over aggregates (``grouped.py``), derived tables
  with a LIMIT, the columns a window with no common PARTITION BY reads, the SELECT of
  an aggregating INSERT. Outside all that, its tables' rows are gathered into a fork
  of the mirror and the statement runs there (``EXPLAIN`` says which);
* INSERT rows go to the shards of their partition keys, UPDATE/DELETE to the shards
  their WHERE can touch, all of a statement's shards committing through two-phase
  commit (``twophase.py``); MERGE, data-modifying WITH queries and partition-key
  moves that read other tables or return rows run over the gathered rows of the
  tables they name and reach the shards as row changes, in one 2PC (``gathered.py``);
* materialized views are tables filled from the cluster's query (``matview.py``);
* ``fork()`` forks every shard at one consistent cut.

This module holds the connection itself (the DB-API surface, statements' dispatch,
transactions, DDL, calls to the shards); its query planning is the ``SelectPlanning``
mixin (``select_plan.py``), its write routing and loads the ``WriteRouting`` mixin
(``write_route.py``), and the tree helpers all three share are in ``trees.py``.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
import time
import weakref

import pyarrow as pa
from sqlglot import exp

from .. import errors, numeric_arrays, types
from ..api.cursor import Cursor
from ..result import Result
from ..session import refuse_write
from ..sql.dispatch import dispatch
from ..sql import prepared_sql
from . import manifest as manifest_io
from . import twophase
from .backends import DEFAULT_TIMEOUT, make_backend
from .branches import diff_all_branches, diff_branch, merge_branch, row_counts, write_barrier
from .ctes import ctes_first, with_of
from .held import holdable
from .merge import DATESTYLE, ZONE, in_zone, load_table
from .partition import TableInfo, refuse, split_rows, strip_clauses
from .savepoints import run_savepoint
from .plansplit import RenderCheck
from .wire import check, table_to_ipc
from .trees import (
    SHUFFLE_ROWS, _first_word, _gathered_statement, _parse, _plain, _reply_result,
    _table_name, _tokens_by_target)
from .select_plan import SelectPlanning
from .write_route import WriteRouting

# schemas (sql/schemas.py) are the single engine's: shards' placement and the plan split
# read bare table names
_SCHEMA_STATEMENT = re.compile(
    r"(?is)(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*(?:create|drop|alter)\s+schema\b")
# temporary tables (sql/temp_tables.py) belong to one engine session; a cluster's
# statements run on shard sessions and a coordinator's mirror, so they are refused
_TEMP_TABLE = re.compile(
    r"(?is)(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*create\s+(?:global\s+|local\s+)?"
    r"temp(?:orary)?\s+(?:table|view|sequence)\b")
# Numbering the rows a table already has from a new sequence: each shard would draw
# its own numbers (the coordinator owns the sequences), so the same ones twice.
_ADD_NUMBERED_COLUMN = re.compile(
    r"(?is)^\s*alter\s+table\b.*\badd\s+(?!\s|generated\b|constraint\b|primary\b|unique\b|check\b"
    r"|foreign\b).*\b(?:(?:big|small)?serial|as\s+identity)\b")
_OVERRIDING = re.compile(r"(?is)\boverriding\s+(?:system|user)\s+value\b")


class Cluster:
    """What every connection to one sharded database shares."""

    def __init__(self, backend, path=None, manifest: dict | None = None) -> None:
        from ..database import Database
        self.backend = backend
        self.path = path
        self.manifest = dict(manifest or {"shards": backend.shards, "epoch": 0,
                                          "checkpoints": [], "catalog": {}})
        if path is None:
            self.mirrors = {"main": Database()}
        else:
            self.mirrors = {"main": Database.open(os.path.join(os.fspath(path), "mirror"))}
        self.catalogs: dict[str, dict[str, TableInfo]] = {
            "main": manifest_io.catalog_from_json(self.manifest.get("catalog"))}
        self.connections: "weakref.WeakSet" = weakref.WeakSet()
        self.in_doubt: list = []
        # Bytes of Arrow data moved for queries: all of it (coordinator <-> shards and
        # shard -> shard), the part that passed through this process, and the largest
        # single batch this process received or sent (tests: no table-sized batch).
        self.bytes_shipped = 0
        self.coordinator_bytes = 0
        self.largest_batch = 0
        # Partial rows per shard above which an aggregate's merge is repartitioned by
        # its group keys and run on the shards instead of on the coordinator.
        self.shuffle_rows = SHUFFLE_ROWS
        self.always_shuffle = False        # repartition joins even when broadcast is cheaper
        # "plan": split the engine's optimized plan where it can (plansplit.py), the
        # SQL-level split otherwise; "sql": the SQL-level split only (to compare).
        self.planner = "plan"
        self.render_check = RenderCheck()
        self._ids = itertools.count(1)
        self.lock = threading.RLock()

    def ship(self, *sizes: int, between_shards: bool = False) -> int:
        """Account Arrow batches of ``sizes`` bytes: sent shard to shard
        (``between_shards``) or through the coordinator. Returns their total."""
        total = sum(sizes)
        self.bytes_shipped += total
        if not between_shards:
            self.coordinator_bytes += total
            self.largest_batch = max([self.largest_batch, *sizes])
        return total

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def save_manifest(self) -> None:
        """Write the placement catalog (and epoch) of a durable cluster to disk."""
        if self.path is None:
            return
        self.manifest["catalog"] = manifest_io.catalog_to_json(self.catalogs["main"])
        manifest_io.write(self.path, self.manifest)


def connect(backend: str = "local", shards: int = 2, address: str | None = None, *,
            timeout: float = DEFAULT_TIMEOUT, shuffle: str = "auto",
            shuffle_rows: int = SHUFFLE_ROWS, path=None,
            planner: str = "plan") -> "ClusterConnection":
    """A DB-API connection to a new database sharded over ``shards`` shards.

    ``shuffle_rows``: partial rows per shard above which an aggregate's merge runs on
    the shards, repartitioned by the group keys, instead of on the coordinator.
    ``shuffle="always"`` repartitions every join off the partition key that can be
    (instead of choosing between repartitioning and broadcasting by the rows each
    ships) and every grouped merge (``shuffle_rows=0``).

    ``path``: a directory for a durable cluster (``manifest.py``): each shard a
    file-backed Database under it, recovered when the cluster (or one restarted shard)
    is opened again; an existing directory reopens that cluster, with its shard count.

    ``planner``: ``"plan"`` (default) splits the engine's own bound and optimized plan
    into per-shard partials and a merge where it covers the query (``plansplit.py``),
    the SQL-level split otherwise; ``"sql"`` uses the SQL-level split only."""
    if planner not in ("plan", "sql"):
        raise errors.sql_error("22023", f"unknown planner {planner!r}",
                               hint="Use 'plan' or 'sql'.")
    if shuffle not in ("auto", "always"):
        raise errors.sql_error("22023", f"unknown shuffle mode {shuffle!r}",
                               hint="Use 'auto' or 'always'.")
    if shards < 1:
        raise errors.sql_error("22023", "a cluster needs at least one shard")
    manifest = None
    if path is not None:
        manifest = manifest_io.read(path)
        if manifest is not None and manifest["shards"] != shards:
            raise errors.sql_error(
                "22023", f"the cluster in {path} has {manifest['shards']} shards, not {shards}",
                hint=f"Connect with shards={manifest['shards']}.")
        os.makedirs(path, exist_ok=True)
    cluster = Cluster(make_backend(backend, shards, address, timeout, path), path, manifest)
    if path is not None:
        cluster.save_manifest()
        twophase.recover(cluster)   # prepared transactions a crash left: finish them
    cluster.shuffle_rows = 0 if shuffle == "always" else shuffle_rows
    cluster.always_shuffle = shuffle == "always"
    cluster.planner = planner
    conn = ClusterConnection(cluster, "main")
    conn._owns_cluster = True
    return conn


class ClusterCursor(Cursor):
    def execute(self, sql: str, params=None) -> "ClusterCursor":
        if self.closed:
            raise errors.InterfaceError("cursor is closed")
        self.connection._check_open()
        with self.connection._lock:
            self._set_result(self.connection._run(sql, params))
        return self

    def executemany(self, sql: str, seq_of_params) -> "ClusterCursor":
        self._check_open()
        with self.connection._lock:
            total = self.connection._run_many(sql, list(seq_of_params))
        self._set_result(None)
        self.rowcount = total
        return self


class ClusterConnection(SelectPlanning, WriteRouting):
    def __init__(self, cluster: Cluster, branch: str) -> None:
        self.cluster = cluster
        self.branch = branch
        self.sid = cluster.new_id("s")
        self._lock = threading.RLock()
        self._closed = False
        self._owns_cluster = False
        self.in_txn = False
        self.failed = False
        self.written: set[int] = set()
        # DDL inside a transaction changes a private copy of the branch's placement
        # catalog (as the mirror connection's transaction keeps its schema private):
        # other connections see neither until COMMIT publishes the tables it touched,
        # ROLLBACK drops it. None: no DDL in this transaction (the shared one is read).
        self._txn_catalog: dict[str, TableInfo] | None = None
        self._txn_dropped: dict = {}     # the private catalog's drop graveyard
        self._txn_replicated: set[str] = set()   # tables this transaction made REPLICATED
        # The statement tables of the statement running (``held.py``), seen as sharded
        # tables until it ends.
        self._held: dict[str, TableInfo] = {}
        # held.py filling a statement table: the query whose split keeps its rows on
        # the shards (``SelectPlanning._keeps``), and the exchange they were placed by
        self._keep_for: str | None = None
        self._kept: tuple | None = None
        # [(name, the private catalog's state when it was set)] (savepoints.py)
        self._savepoints: list[tuple[str, tuple]] = []
        self.last_plan: dict | None = None
        # rows each shard's part of the last write changed ({shard: rows}: EXPLAIN ANALYZE)
        self.write_rows: dict[int, int] = {}
        # statement text -> (mirror root, placement, PlanSplit | why it is not split)
        self._plan_splits: dict = {}
        # SQL PREPARE: name -> (statement, declared types), run by EXECUTE as any statement
        self.prepared: dict[str, tuple] = {}
        b = cluster.backend
        for reply in b.call_all(range(b.shards), "open", self.sid, branch).values():
            check(reply)
        self.mirror = cluster.mirrors[branch].connect()
        cluster.connections.add(self)

    # ---- DB-API surface ---------------------------------------------------------------
    @property
    def shards(self) -> int:
        return self.cluster.backend.shards

    @property
    def database(self):
        """The coordinator's schema mirror of this branch (tables, views, types; the rows
        live on the shards): what tools that list tables or complete names read."""
        return self.cluster.mirrors[self.branch]

    @property
    def catalog(self) -> dict[str, TableInfo]:
        """The placement catalog this connection sees: its transaction's private copy
        once the transaction ran DDL, else the branch's committed one."""
        catalog = self._txn_catalog if self._txn_catalog is not None else \
            self.cluster.catalogs[self.branch]
        return {**catalog, **self._held} if self._held else catalog

    def _own_catalog(self) -> dict[str, TableInfo]:
        """The catalog DDL changes: inside a transaction, its private copy (made on
        the first DDL), else the branch's shared one."""
        if not self.in_txn:
            return self.cluster.catalogs[self.branch]
        if self._txn_catalog is None:
            with self.cluster.lock:
                self._txn_catalog = {k: v.copy()
                                     for k, v in self.cluster.catalogs[self.branch].items()}
            self._txn_dropped, self._txn_replicated = {}, set()
        return self._txn_catalog

    def _drop_txn_catalog(self) -> dict | None:
        """Forget the transaction's private catalog and its savepoints (the transaction
        ends); returns the catalog (None: no DDL ran)."""
        overlay, self._txn_catalog, self._txn_dropped = self._txn_catalog, None, {}
        self._savepoints = []
        return overlay

    def _publish_catalog(self, overlay: dict, touched: set) -> None:
        """COMMIT: the tables the transaction created, dropped, altered or made
        REPLICATED take their entries of its private catalog in the shared one (the
        mirror's commit, just done, refused a concurrent DDL on any of them)."""
        c = self.cluster
        with c.lock:
            shared = c.catalogs[self.branch]
            graveyard = c.__dict__.setdefault("dropped", {})
            for name in sorted(touched | self._txn_replicated):
                if name in overlay:
                    shared[name] = overlay[name]
                    graveyard.pop((self.branch, name), None)
                elif name in shared:
                    graveyard[(self.branch, name)] = shared.pop(name)
            self._txn_replicated = set()
            if self.branch == "main":
                c.save_manifest()

    def cursor(self) -> ClusterCursor:
        self._check_open()
        return ClusterCursor(self)

    def execute(self, sql: str, params=None) -> ClusterCursor:
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, seq_of_params) -> ClusterCursor:
        return self.cursor().executemany(sql, seq_of_params)

    def commit(self) -> None:
        self._check_open()
        with self._lock:
            self._commit()

    def rollback(self) -> None:
        self._check_open()
        with self._lock:
            self._rollback()

    def begin(self) -> None:
        self.execute("BEGIN")

    def _check_open(self) -> None:
        if self._closed:
            raise errors.InterfaceError("connection is closed")

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def in_transaction(self) -> bool:
        return self.in_txn

    def connect_more(self) -> "ClusterConnection":
        """Another connection (own sessions on every shard) to the same branch."""
        return ClusterConnection(self.cluster, self.branch)

    def close(self) -> None:
        if self._closed:
            return
        b = self.cluster.backend
        try:
            if self.in_txn:
                twophase.rollback_all(b, self.sid, range(b.shards))
            for s in range(b.shards):
                try:
                    b.call(s, "close", self.sid)
                except errors.Error:
                    pass
        finally:
            self._closed = True
            self.mirror.close()
            if self._owns_cluster:
                b.close()
                main = self.cluster.mirrors["main"]
                if self.cluster.path is not None and not main.closed:
                    main.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def tables(self) -> list[str]:
        return sorted(self.catalog)

    # ---- branches ---------------------------------------------------------------------
    def fork(self) -> "ClusterConnection":
        """A connection to a fork of every shard, all taken at one consistent cut."""
        self._check_open()
        c, b = self.cluster, self.cluster.backend
        name = c.new_id("branch")
        with write_barrier(c):
            for reply in b.call_all(range(b.shards), "fork", self.branch, name).values():
                check(reply)
            with c.lock:
                c.mirrors[name] = c.mirrors[self.branch].fork()
                c.catalogs[name] = {k: v.copy()
                                    for k, v in c.catalogs[self.branch].items()}
        return ClusterConnection(c, name)

    def diff(self, other: "ClusterConnection", table: str) -> pa.Table:
        """Rows of ``table`` that differ between this branch and ``other``'s, all shards
        (``_change`` is 'added' / 'removed' / 'changed', as ``rustmemodb`` diffs): the
        Arrow form of ``diff_table``."""
        self._check_open()
        return diff_branch(self, other, table).to_arrow()

    def diff_table(self, other: "ClusterConnection", table: str):
        """``table``'s row diff against ``other``'s branch as a ``rustmemodb.branch.Diff``
        (what the notebook's ``%sql --diff`` shows); ``diff`` gives it as Arrow."""
        self._check_open()
        return diff_branch(self, other, table)

    def diff_all(self, other: "ClusterConnection") -> dict:
        """Every table that differs from ``other``'s branch: name -> ``Diff``."""
        self._check_open()
        return diff_all_branches(self, other)

    def row_counts(self) -> dict:
        """``{table: rows}`` of this branch over all shards."""
        self._check_open()
        return row_counts(self)

    def merge(self, source: "ClusterConnection", strategy: str = "abort"):
        """Three-way merge of ``source``'s branch into this one, on every shard or on
        none (``branches.merge_branch``); a ``rustmemodb.branch.MergeResult``."""
        self._check_open()
        return merge_branch(self, source, strategy)

    def recover(self) -> list:
        """Finish transactions left in doubt by a shard failure during commit (see
        ``twophase.recover``); returns the ``(gid, shard)`` pairs still unreachable."""
        return twophase.recover(self.cluster)

    def restart_shard(self, shard: int) -> list:
        """Start a new worker for ``shard`` after its worker died: a durable shard
        recovers its data and prepared transactions from its directory, the sessions of
        this cluster's connections to the main branch are opened again on it, and
        in-doubt transactions are finished. Returns what ``recover`` returns."""
        self._check_open()
        c, b = self.cluster, self.cluster.backend
        b.restart(shard)
        for conn in list(c.connections):
            if not conn._closed and conn.branch == "main":
                check(b.call(shard, "open", conn.sid, "main"))
                if conn.in_txn:   # its transaction's part on that shard is gone
                    conn.failed = True
        return twophase.recover(c)

    def checkpoint(self) -> dict:
        """Checkpoint every durable shard at one consistent cut (the fork's write
        barrier) and record their checkpoints under the next epoch of the manifest."""
        self._check_open()
        c, b = self.cluster, self.cluster.backend
        if c.path is None:
            return {"epoch": None, "checkpoints": []}
        with write_barrier(c):
            replies = b.call_all(range(b.shards), "checkpoint")
            points = [check(replies[s])[1] for s in range(b.shards)]
            c.mirrors["main"].checkpoint(force=True)
            with c.lock:
                c.manifest["epoch"] = int(c.manifest.get("epoch", 0)) + 1
                c.manifest["checkpoints"] = points
                c.save_manifest()
        return {"epoch": c.manifest["epoch"], "checkpoints": points}

    # ---- statements -------------------------------------------------------------------
    def _run(self, sql: str, params=None) -> Result:
        if not isinstance(sql, str):
            raise errors.ProgrammingError(
                f"the statement must be a string, not {type(sql).__name__}", sqlstate="42601")
        word = _first_word(sql)
        if self.failed and word not in ("commit", "end", "rollback", "abort"):
            raise errors.sql_error("25P02", "current transaction is aborted, commands ignored "
                                            "until end of transaction block",
                                   hint="Run ROLLBACK to end the failed transaction.")
        t0 = time.perf_counter()
        # the session's TimeZone (SET reaches the shards and the mirror) for the merge
        # SQL the coordinator runs in scratch engines (merge.scratch_connection)
        settings = self.mirror._session.settings
        token = ZONE.set(settings.get("timezone"))
        style = DATESTYLE.set(settings.get("datestyle"))
        try:
            result = self._dispatch(word, sql, params)
        except errors.Error:
            if self.in_txn:
                self.failed = True
            raise
        except Exception as exc:   # noqa: BLE001 - a coordinator bug still is a DB-API error
            if self.in_txn:
                self.failed = True
            from ..api.guard import as_db_error
            raise as_db_error(exc) from exc
        finally:
            ZONE.reset(token)
            DATESTYLE.reset(style)
        result.elapsed = time.perf_counter() - t0
        return result

    def _dispatch(self, word: str, sql: str, params) -> Result:
        if self._read_only() and word not in ("commit", "end", "rollback", "abort", "set",
                                              "reset", "show", "savepoint", "release"):
            # the mirror's session knows the transaction's access mode (BEGIN READ ONLY,
            # SET TRANSACTION, default_transaction_read_only reach it): 25006 for a write
            refuse_write(self.mirror._session._lookup(sql)[0])
        util = dispatch(sql) if word in ("begin", "start", "commit", "end", "rollback",
                                         "abort") else None
        if util is not None and util.kind.endswith("_chain"):   # (dispatch checked the text)
            return self._chain(util.kind == "commit_chain")
        if word in ("begin", "start"):
            return self._begin(sql)
        if word in ("commit", "end"):
            self._commit()
            return Result(columns=[], kind="COMMIT")
        if word in ("rollback", "abort"):
            if util.kind == "rollback_to":
                return run_savepoint(self, sql)
            self._rollback()
            return Result(columns=[], kind="ROLLBACK")
        if word == "checkpoint":
            if self.in_txn:
                raise errors.sql_error("25001", "CHECKPOINT cannot run inside a transaction "
                                                "block")
            self.checkpoint()
            return Result(columns=[], kind="CHECKPOINT")
        if word == "copy":
            return self._copy(sql, params)
        if word in ("savepoint", "release"):
            return run_savepoint(self, sql)
        if word in ("prepare", "execute", "deallocate"):
            return self._prepared_sql(word, sql)
        if word in ("vacuum", "analyze", "listen", "notify", "lock"):
            raise refuse(word.upper())
        if word == "refresh":
            from .matview import refresh_matview
            return refresh_matview(self, sql, params)
        if word in ("set", "reset", "discard"):
            if word == "discard" and re.match(r"\s*discard\s+all\b", sql, re.I):
                self.prepared.clear()
            self._on_shards(range(self.shards), sql, params)
            try:
                self.mirror.execute(sql, params)
            except errors.Error:
                pass
            return Result(columns=[], kind="SET")
        if word == "show":
            return _reply_result(self._on_shards([0], sql, params)[0])
        if word == "explain":
            from .explain import explain
            return explain(self, sql, params)
        if word in ("create", "drop", "alter") and _SCHEMA_STATEMENT.match(sql):
            raise refuse("CREATE/DROP/ALTER SCHEMA",
                         hint="A cluster's tables live in schema public; a branch is the "
                              "way to a separate namespace.")
        if word == "create" and _TEMP_TABLE.match(sql):
            raise refuse("CREATE TEMPORARY TABLE",
                         hint="A cluster's tables are shared by its connections: create "
                              "a table (and drop it), or work on a branch.")
        if word == "alter" and _ADD_NUMBERED_COLUMN.match(sql):
            raise refuse("ALTER TABLE ... ADD a SERIAL or identity column",
                         hint="Create the table with the column instead.")
        if word in ("create", "drop", "alter", "truncate", "comment", "grant", "revoke",
                    "reassign"):
            return self._ddl(word, sql, params)
        if word in ("insert", "with") and _OVERRIDING.search(sql):
            raise refuse("INSERT ... OVERRIDING SYSTEM VALUE / USER VALUE")
        if word == "with":
            tree = _parse(sql)
            if _gathered_statement(tree):
                return self._gathered(sql, params, "a data-modifying WITH")
            if isinstance(tree, exp.Insert):
                return self._insert(sql, params)
            if isinstance(tree, (exp.Update, exp.Delete)):
                return self._update_delete(sql, params)
        if word in ("select", "with", "values", "table"):
            return self._select(sql, params)
        if word == "insert":
            return self._insert(sql, params)
        if word in ("update", "delete"):
            return self._update_delete(sql, params)
        if word == "merge":
            return self._gathered(sql, params, "MERGE")
        self._scratch().execute(sql, params)   # the engine's own error (syntax, ...)
        raise refuse(f"the statement {word.upper()!r}")

    def _prepared_sql(self, word: str, sql: str) -> Result:
        """PREPARE / EXECUTE / DEALLOCATE, kept by the coordinator: EXECUTE runs the
        statement with its arguments as any statement is run (split, routed, gathered)."""
        arg = sql.strip().rstrip(";").strip()[len(word):].strip()
        if word == "prepare":       # checked against the mirror's schema
            prepared_sql.prepare(arg, self.prepared, self.mirror._session._prepare)
            return Result(columns=[], kind="PREPARE")
        if word == "deallocate":
            prepared_sql.deallocate(arg, self.prepared)
            return Result(columns=[], kind="DEALLOCATE")
        text, args = prepared_sql.execute_arguments(
            arg, self.prepared, lambda select: self.mirror.execute(select).arrow())
        return self._dispatch(_first_word(text), text, args)

    # ---- transactions -------------------------------------------------------------------
    def _read_only(self) -> bool:
        return self.mirror._session.read_only

    def _begin(self, sql: str) -> Result:
        if not self.in_txn:
            self._on_shards(range(self.shards), sql, None)
            self.mirror.execute(sql)      # its options too (READ ONLY, isolation level)
            self.in_txn, self.failed, self.written = True, False, set()
        else:
            # inside a block BEGIN warns and applies its modes (Session.begin); the mirror
            # holds the transaction's modes
            self.mirror.execute(sql)
        return Result(columns=[], kind="BEGIN")

    def _chain(self, committed: bool) -> Result:
        """COMMIT / ROLLBACK AND CHAIN: end the transaction, begin the next one with the
        mirror's isolation level and access mode (Session.chain)."""
        txn = self.mirror._session.txn
        if not self.in_txn or txn is None:
            word = "COMMIT" if committed else "ROLLBACK"
            raise errors.sql_error("25P01", f"{word} AND CHAIN can only be used in "
                                            "transaction blocks")
        failed = self.failed
        # after an abort, the modes it began with (Session.chain)
        level, read_only = txn.base_modes if failed else (txn.isolation, txn.read_only)
        begin = f"BEGIN ISOLATION LEVEL {level} READ {'ONLY' if read_only else 'WRITE'}"
        self._commit() if committed and not failed else self._rollback()
        self._begin(begin)
        chained = self.mirror._session.txn
        if chained is not None:       # a chained transaction's modes are its own
            chained.base_modes = (chained.isolation, chained.read_only)
        return Result(columns=[], kind="COMMIT" if committed and not failed else "ROLLBACK")

    def _commit(self) -> None:
        if not self.in_txn:
            return
        shards, written, failed = range(self.shards), sorted(self.written), self.failed
        self.in_txn, self.failed, self.written = False, False, set()
        b = self.cluster.backend
        if failed:
            twophase.rollback_all(b, self.sid, shards)
            self._mirror_end(False)
            return
        txn = self.mirror._session.txn
        if txn is not None and txn.ops:
            self._commit_schema(txn, written)
            return
        self._mirror_end(True)
        readers = [s for s in shards if s not in written]
        if len(written) > 1:
            for s in readers:
                check(b.call(s, "commit", self.sid))
            twophase.commit(self.cluster, self.sid, written)
        else:
            try:
                for s in list(readers) + written:
                    check(b.call(s, "commit", self.sid))
            except errors.Error:
                twophase.rollback_all(b, self.sid, shards)
                raise

    def _commit_schema(self, txn, written: list) -> None:
        """COMMIT of a transaction that changed the schema mirror (DDL): the shards it
        wrote prepare first (40001 on a concurrent change), then the mirror commits (its
        own 40001 rolls the prepared shards back), its private placement catalog is
        published, and the shards commit. Any failure before that leaves nothing."""
        b = self.cluster.backend
        before, after = txn.snapshot.tables, txn.working.tables
        touched = {n for n in set(before) | set(after) if before.get(n) is not after.get(n)}
        overlay = self._drop_txn_catalog()
        decided = []

        def decide() -> None:
            # Under the cluster lock: another connection's catalog refresh reads the
            # committed schema and the catalog either both before or both after.
            with self.cluster.lock:
                try:
                    self.mirror.commit()
                except errors.Error:
                    self.mirror.rollback()
                    raise
                decided.append(True)
                if overlay is not None:
                    self._publish_catalog(overlay, touched)

        readers = [s for s in range(self.shards) if s not in written]
        try:
            for s in readers:   # read only here: nothing to prepare
                check(b.call(s, "commit", self.sid))
            if written:
                twophase.commit(self.cluster, self.sid, written, decide=decide)
            else:
                decide()
        except errors.Error:
            if not decided:
                twophase.rollback_all(b, self.sid, range(self.shards))
                self._mirror_end(False)
            raise

    def _rollback(self) -> None:
        if self.in_txn:
            twophase.rollback_all(self.cluster.backend, self.sid, range(self.shards))
            self._mirror_end(False)
        self.in_txn, self.failed, self.written = False, False, set()

    def _mirror_end(self, commit: bool) -> None:
        """End the mirror's transaction (one that changed no schema when ``commit``);
        the transaction's private placement catalog goes either way."""
        if commit:
            try:
                self.mirror.commit()
            except errors.Error:
                self.mirror.rollback()
        else:
            self.mirror.rollback()
        self._drop_txn_catalog()
        self._txn_replicated = set()

    # ---- calling shards -----------------------------------------------------------------
    def _on_shards(self, shards, sql: str, params, inputs=None) -> dict:
        b = self.cluster.backend
        shards = list(shards)
        replies = b.call_all(shards, "execute", self.sid, sql, _plain(params), inputs)
        for s in shards:
            check(replies[s])
        self.cluster.ship(*(len(r[3]) for r in replies.values() if r[3]))
        return replies

    def _scan(self, shards, name: str) -> dict:
        """Every row of table ``name`` on ``shards``, as this session sees it (for
        gathers and broadcasts of a statement the mirror already checked, privileges
        included: a view is read with its owner's rights)."""
        b = self.cluster.backend
        shards = list(shards)
        replies = b.call_all(shards, "scan", self.sid, name)
        for s in shards:
            check(replies[s])
        self.cluster.ship(*(len(r[3]) for r in replies.values() if r[3]))
        return replies

    def _write(self, per_shard: dict, params=None, inputs=None,
               inputs_per_shard: dict | None = None) -> dict:
        """Run a write statement on some shards, atomically: ``{shard: sql}``."""
        b = self.cluster.backend
        shards = sorted(per_shard)
        if self.in_txn:
            replies = {s: b.call(s, "execute", self.sid, per_shard[s], _plain(params),
                               inputs_per_shard[s] if inputs_per_shard else inputs)
                       for s in shards}
            self.written.update(shards)
            for s in shards:
                check(replies[s])
            return self._wrote(replies)
        if len(shards) == 1:
            s = shards[0]
            return self._wrote({s: check(b.call(
                s, "execute", self.sid, per_shard[s], _plain(params),
                inputs_per_shard[s] if inputs_per_shard else inputs))})
        for s in shards:
            check(b.call(s, "begin", self.sid))
        try:
            replies = {s: b.call(s, "execute", self.sid, per_shard[s], _plain(params),
                               inputs_per_shard[s] if inputs_per_shard else inputs)
                       for s in shards}
            for s in shards:
                check(replies[s])
        except errors.Error:
            twophase.rollback_all(b, self.sid, shards)
            raise
        twophase.commit(self.cluster, self.sid, shards)
        return self._wrote(replies)

    def _wrote(self, replies: dict) -> dict:
        self.write_rows = {s: max(r[4], 0) for s, r in replies.items()}
        return replies

    def _load(self, table: str, data: pa.Table, info: TableInfo) -> int:
        """Append Arrow rows to their shards (all shards for a replicated table)."""
        b = self.cluster.backend
        if info.replicated:
            parts = {s: data for s in range(self.shards)}
        else:
            parts = split_rows(data, info.key_positions, self.shards)
        if not parts:
            return 0

        def load(s: int) -> None:
            payload = table_to_ipc(parts[s])
            self.cluster.ship(len(payload))
            check(b.call(s, "load", self.sid, table, payload))

        self._write_shards(sorted(parts), load)
        self.write_rows = {s: p.num_rows for s, p in parts.items()}
        return data.num_rows

    def _write_shards(self, shards: list, step) -> None:
        """Run ``step(shard)`` on each shard inside the session's transaction, or, outside
        one, inside a transaction of its own that commits on all shards (2PC) or on none."""
        b = self.cluster.backend
        own = not self.in_txn
        if own:
            for s in shards:
                check(b.call(s, "begin", self.sid))
        try:
            for s in shards:
                step(s)
        except errors.Error:
            if own:
                twophase.rollback_all(b, self.sid, shards)
            raise
        if own:
            twophase.commit(self.cluster, self.sid, shards)
        else:
            self.written.update(shards)

    def load_arrow(self, table: str, data) -> int:
        """Bulk load a pyarrow Table / pandas DataFrame into ``table`` (rows routed to
        their shards; constraints checked on the mirror first)."""
        from ..api.arrow_io import to_arrow_table
        data = to_arrow_table(data, table)
        info = self._info(table)
        scratch = self._scratch()
        schema = scratch.database.head.tables[table].schema
        data = numeric_arrays.cast_table(data.select(schema.names), schema.arrow_schema)
        load_table(scratch, table, data)   # NOT NULL / CHECK / UNIQUE inside the batch
        return self._load(table, data, info)

    def _root(self):
        """The catalog this connection sees: its open transaction's, else the committed."""
        txn = self.mirror._session.txn
        return txn.working if txn is not None else self.cluster.mirrors[self.branch].head

    def _scratch(self):
        """A throwaway database with this connection's schema (tables empty)."""
        from ..database import Database
        txn = self.mirror._session.txn
        if txn is None:
            return in_zone(self.cluster.mirrors[self.branch].fork().connect())
        return in_zone(Database(root=txn.working).connect())

    def _info(self, name: str) -> TableInfo:
        info = self.catalog.get(name)
        if info is None:
            raise errors.undefined_table(name)
        return info

    # ---- DDL ------------------------------------------------------------------------------
    def _ddl(self, word: str, sql: str, params) -> Result:
        if re.match(r"\s*create\s+materialized\s+view\b", sql, re.I):
            from .matview import create_matview
            return create_matview(self, sql, params)
        key = None
        replicated = False
        tree = None
        if re.match(r"\s*create\s+(?:temp(?:orary)?\s+|unlogged\s+)?table\b", sql, re.I):
            sql, key, replicated = strip_clauses(sql)
            tree = _parse(sql)
            if tree.args.get("expression") is not None:
                return self._create_as(tree, params)
        if word in ("create", "alter") and re.search(r"\breferences\b", sql, re.I):
            tree = tree or _parse(sql)
            # Foreign keys are checked on each shard alone: parent and child keep a full
            # copy on every shard (REPLICATED), so every check sees every row.
            parents = {_table_name(r.this if isinstance(r.this, exp.Table) else r.this.this)
                       for r in tree.find_all(exp.Reference)}
            for parent in parents:
                if parent in self.catalog:
                    self._make_replicated(parent, "it is referenced by a FOREIGN KEY")
            if word == "alter":
                child = _table_name(tree.this) if isinstance(tree.this, exp.Table) else None
                if child in self.catalog:
                    self._make_replicated(child, "it has a FOREIGN KEY")
            else:
                if key is not None:
                    raise refuse("PARTITION BY HASH on a table with a FOREIGN KEY",
                                 "Referencing tables are REPLICATED.")
                replicated = True
        if word in ("alter", "create") and tree is None and re.search(
                r"\bunique\b|\bprimary\s+key\b", sql, re.I):
            probe = self._scratch()
            probe.execute(sql, params)   # the engine's errors; then: does a key stop covering?
            for name, version in probe.database.head.tables.items():
                info = self.catalog.get(name)
                if info is None or info.replicated:
                    continue
                cols = version.schema.names
                placed_by = set(info.key or info.columns)
                keys = list(version.schema.uniques) + [
                    ix for ix in version.schema.indexes if ix.unique]
                # (an index on lower(email) is not placed by email: only whole-column key
                # parts keep equal keys on one shard)
                schema = version.schema
                if any(not placed_by <= {cols[i] for i in schema.key_columns(u)}
                       for u in keys):
                    if info.explicit:
                        raise errors.sql_error(
                            "0A000", "unique constraint on partitioned table must include "
                                     "all partitioning columns")
                    self._make_replicated(name, "a UNIQUE key does not cover its partition key")
        before = set(self._root().tables)
        # The engine's own errors first (on a throwaway copy of the schema), then every
        # shard atomically (data errors such as a duplicate under a new UNIQUE key),
        # then the mirror, which then cannot fail.
        self._scratch().execute(sql, params)
        self._write({s: sql for s in range(self.shards)}, params)
        result = self.mirror.execute(sql, params)._result
        self._refresh_catalog(before, key, replicated)
        return result

    def _create_as(self, tree: exp.Expression, params) -> Result:
        """CREATE TABLE name AS SELECT: the SELECT runs on the cluster, the rows are
        spread over the shards of the new (keyless) table."""
        if isinstance(tree.this, exp.Schema):
            raise refuse("CREATE TABLE name (columns) AS")
        name = _table_name(tree.this)
        query = tree.args["expression"]
        data = self._select(query.sql(dialect="postgres"), params)
        if name in self._root().tables:   # (the schema this connection sees)
            if tree.args.get("exists"):
                return Result(columns=[], kind="CREATE TABLE AS")
            raise errors.sql_error("42P07", f'relation "{name}" already exists')
        cols = ", ".join(f'"{n}" {types.TEXT if t == types.NULL else types.sql_name(t)}'
                         for n, t in data.columns)
        self._ddl("create", f'CREATE TABLE "{name}" ({cols})', None)
        table = data.arrow()
        if not re.search(r"with\s+no\s+data\s*;?\s*$", tree.sql(dialect="postgres"), re.I):
            self._load(name, table, self.catalog[name])
        return Result(columns=[], rowcount=table.num_rows, kind="CREATE TABLE AS")

    def _make_replicated(self, name: str, why: str) -> None:
        """Turn a hash-partitioned table into a REPLICATED one, in one atomic step: every
        shard sends its rows to every other shard directly (``exchange.py``), then
        replaces its own rows with all of them; no row passes through the coordinator."""
        info = self._own_catalog()[name]
        if info.replicated:
            return
        if info.explicit:
            raise refuse(f'PARTITION BY HASH on "{name}": {why}',
                         "Declare the table REPLICATED.")
        b = self.cluster.backend
        shards = list(range(self.shards))
        xid = self.cluster.new_id("x")
        try:
            replies = b.call_all(shards, "shuffle_out", per_shard_args={
                s: (self.sid, xid, None, None, self.shards, name) for s in shards})
            for s in shards:
                check(replies[s])
            self.cluster.ship(*(n for s in shards for n in replies[s][2].values()),
                              between_shards=True)
            tokens = _tokens_by_target(replies[s][4] for s in shards)

            def copy_all(s: int) -> None:
                check(b.call(s, "execute", self.sid, f'DELETE FROM "{name}"', None, None))
                check(b.call(s, "load_exchange", self.sid, xid, name, tokens.get(s, [])))

            self._write_shards(shards, copy_all)
        except BaseException:
            self._drop_exchange(xid)
            raise
        info.replicated, info.key = True, []
        if self.in_txn:
            self._txn_replicated.add(name)   # published at COMMIT
        elif self.branch == "main":
            self.cluster.save_manifest()

    def _refresh_catalog(self, before: set, key: list | None, replicated: bool) -> None:
        if self.in_txn:
            self._refresh_from(before, key, replicated)
        else:
            with self.cluster.lock:   # (see _commit_schema: a publish is never half seen)
                self._refresh_from(before, key, replicated)

    def _refresh_from(self, before: set, key: list | None, replicated: bool) -> None:
        """The catalog DDL changes (``_own_catalog``) made to follow the schema this
        connection sees: dropped tables out, columns updated, new tables placed (by
        ``key`` from PARTITION BY HASH, REPLICATED, else their primary key)."""
        root = self._root()
        catalog = self._own_catalog()
        graveyard = self._txn_dropped if self.in_txn else \
            self.cluster.__dict__.setdefault("dropped", {})
        for name in list(catalog):
            if name not in root.tables:
                graveyard[(self.branch, name)] = catalog.pop(name)
        for name, version in root.tables.items():
            schema = version.schema
            cols = schema.names
            typ = {c.name: c.type for c in schema.columns}
            if name in catalog and name in before:
                info = catalog[name]
                info.columns, info.types = cols, typ
                continue
            old = graveyard.pop((self.branch, name), None)
            if old is not None and name not in before and key is None and old.columns == cols:
                catalog[name] = old
                continue
            pk = schema.primary_key
            pk_cols = [cols[i] for i in pk.columns] if pk is not None else []
            part = key if key is not None else pk_cols
            uniques = [[cols[i] for i in u.columns] for u in schema.uniques] + [
                [cols[i] for i in schema.key_columns(ix)] for ix in schema.indexes if ix.unique]
            if key is not None:
                missing = [k for k in key if k not in cols]
                if missing:
                    self._undo_create(name)
                    raise errors.undefined_column(missing[0])
                if any(not set(key) <= set(u) for u in uniques):
                    self._undo_create(name)
                    raise errors.sql_error(
                        "0A000", "unique constraint on partitioned table must include all "
                                 "partitioning columns",
                        hint="Include the PARTITION BY HASH columns in the key, or make "
                             "the table REPLICATED.")
            elif any(not set(part) <= set(u) for u in uniques) or not replicated and not pk \
                    and uniques:
                # A UNIQUE key the partition key does not cover could only be checked
                # across shards: keep a full copy on every shard instead (checked locally).
                replicated = True
            catalog[name] = TableInfo(name, cols, [] if replicated else part, replicated, typ,
                                      explicit=key is not None)
        if self.branch == "main" and not self.in_txn:
            self.cluster.save_manifest()

    def _ctes_first(self, tree: exp.Expression):
        """``ctes_first`` (``ctes.py``): the CTEs that stay (computed once) run first,
        each split like any query, and small ones go into the statement as VALUES."""
        if with_of(tree) is None:
            return tree, []
        saved = self.last_plan

        def run(sql: str):
            if self._select(sql, None, plan_only=True)["strategy"] == "gather" and \
                    holdable(self._columns_of(_parse(sql))):
                return None   # (gathering its tables to count its rows costs what
            # computing the CTE in place would: held.py computes it on the shards)
            return self._select(sql, None).arrow()

        try:
            return ctes_first(tree, run, self._columns_of, self._sql_literal, holdable)
        finally:
            self.last_plan = saved

    def _table_columns(self, name: str) -> list | None:
        """The columns of cluster table ``name`` (None: no such table)."""
        info = self.catalog.get(name)
        return list(info.columns) if info is not None else None

    def _volatile(self, name: str) -> bool:
        """Is the function ``name`` volatile (``random()``, a volatile UDF)?"""
        try:
            return bool(self.database.functions.lookup(name).volatile)
        except KeyError:
            return False

    def _undo_create(self, name: str) -> None:
        self.mirror.execute(f'DROP TABLE "{name}"')
        self._on_shards(range(self.shards), f'DROP TABLE "{name}"', None)
