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
"""
from __future__ import annotations

import itertools
import os
from dataclasses import replace
import re
import threading
import time
import weakref

import pyarrow as pa
import sqlglot
from sqlglot import exp

from .. import errors, types
from ..api.cursor import Cursor
from ..result import Result
from ..session import refuse_write
from ..sql.dispatch import dispatch
from ..sql.parse import parse_one
from . import loads
from . import rangewindows
from . import manifest as manifest_io
from . import twophase
from .backends import DEFAULT_TIMEOUT, make_backend
from .branches import diff_all_branches, diff_branch, merge_branch, row_counts, write_barrier
from .ctes import ctes_first, inline_ctes, set_with, with_of
from .correlated import column_of, has_sharded_subquery, plain_output, plan_correlated
from .grouped import GROUPED, aggregate_calls, split_grouped
from .merge import conform, create_typed, load_table, run_merge
from .partition import TableInfo, refuse, shard_of_key, split_rows, strip_clauses
from .savepoints import run_savepoint
from .planexchange import place_exchanges, place_grouping
from .plansplit import AggregateNotSplit, NotSplit, RenderCheck, bind_and_optimize, split_plan
from .setops import plan_setop
from .shuffle import HASHABLE, Side, _needed_columns, conjuncts, plan_join, \
    plan_staged_windows, plan_window, plan_window_on_expression, window_expression, \
    window_key, window_specs
from .split import DistPlan, _Unsupported, _has_forbidden, _limits, merge_on_shards, plan_select
from .wire import check, ipc_to_table, table_to_ipc

_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*\(?\s*([A-Za-z]+)", re.S)
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}
SHUFFLE_ROWS = 20_000
# Most values of an uncorrelated ``IN (SELECT …)`` written into the statement as a list.
IN_LIST_ROWS = 10_000
# Plan splits remembered per connection (by statement text, for one schema root).
PLAN_SPLITS_KEPT = 256
# Relation size functions: the rows (and their memory) are on the shards.
_SIZE_FUNCTIONS = {"pg_table_size", "pg_relation_size", "pg_total_relation_size",
                   "pg_indexes_size"}


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


class ClusterConnection:
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
        # [(name, the private catalog's state when it was set)] (savepoints.py)
        self._savepoints: list[tuple[str, tuple]] = []
        self.last_plan: dict | None = None
        # rows each shard's part of the last write changed ({shard: rows}: EXPLAIN ANALYZE)
        self.write_rows: dict[int, int] = {}
        # statement text -> (mirror root, placement, PlanSplit | why it is not split)
        self._plan_splits: dict = {}
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
        if self._txn_catalog is not None:
            return self._txn_catalog
        return self.cluster.catalogs[self.branch]

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
        result.elapsed = time.perf_counter() - t0
        return result

    def _dispatch(self, word: str, sql: str, params) -> Result:
        if self._read_only() and word not in ("commit", "end", "rollback", "abort", "set",
                                              "reset", "show", "savepoint", "release"):
            # the mirror's session knows the transaction's access mode (BEGIN READ ONLY,
            # SET TRANSACTION, default_transaction_read_only reach it): 25006 for a write
            refuse_write(self.mirror._session._lookup(sql)[0])
        if word in ("begin", "start"):
            return self._begin(sql)
        if word in ("commit", "end"):
            self._commit()
            return Result(columns=[], kind="COMMIT")
        if word in ("rollback", "abort"):
            if dispatch(sql).kind == "rollback_to":
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
        if word in ("prepare", "deallocate",
                    "vacuum", "analyze", "listen", "notify", "lock"):
            raise refuse(word.upper())
        if word == "refresh":
            from .matview import refresh_matview
            return refresh_matview(self, sql, params)
        if word in ("set", "reset", "discard"):
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
        if word in ("create", "drop", "alter", "truncate", "comment", "grant", "revoke",
                    "reassign"):
            return self._ddl(word, sql, params)
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

    # ---- transactions -------------------------------------------------------------------
    def _read_only(self) -> bool:
        session = self.mirror._session
        return session.txn.read_only if session.txn is not None else session.default_read_only

    def _begin(self, sql: str) -> Result:
        if not self.in_txn:
            self._on_shards(range(self.shards), sql, None)
            self.mirror.execute(sql)      # its options too (READ ONLY, isolation level)
            self.in_txn, self.failed, self.written = True, False, set()
        return Result(columns=[], kind="BEGIN")

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
        data = data.select(schema.names).cast(schema.arrow_schema)
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
            return self.cluster.mirrors[self.branch].fork().connect()
        return Database(root=txn.working).connect()

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
                if any(not placed_by <= {cols[i] for i in u.columns} for u in keys):
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
        cols = ", ".join(f'"{n}" {types.TEXT if t == types.NULL else t}'
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
                [cols[i] for i in ix.columns] for ix in schema.indexes if ix.unique]
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
            return self._select(sql, None).arrow()

        try:
            return ctes_first(tree, run, self._columns_of, self._sql_literal)
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

    # ---- SELECT ---------------------------------------------------------------------------
    def _select(self, sql: str, params, plan_only: bool = False):
        tree = _parse(sql)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        if _writes(tree):
            raise refuse("a data-modifying statement inside WITH")
        written = sql   # (bound as written: the engine's errors are those of its text)
        ctes_ran: list = []
        tree, inlined = inline_ctes(tree, self._volatile, self._table_columns, once=False)
        if inlined:   # its CTEs as derived tables: the planner splits those
            sql = tree.sql(dialect="postgres")
            tree = _parse(sql)   # (as the shards will read it)
        refs, has_view = _referenced(tree, self._root(),
                                     self.catalog)
        if not refs and not has_view and self.shards > 1 and isinstance(tree, exp.Select):
            done = self._file_select(tree, sql, plan_only)
            if done is not None:
                return done
        if refs or has_view:
            # Bound on the mirror (the engine's errors, names, types and the role's
            # privileges), not run: its tables are empty, and over no rows a query can
            # fail where over the cluster's it does not (``1 / count(*)``).
            want = list(self._bind_checked(written).plan.columns)
            tree, ctes_ran = self._ctes_first(tree)
            tree, late = inline_ctes(tree, self._volatile, self._table_columns)
            inlined += late
            if ctes_ran or late:   # CTEs computed once (run first: VALUES) or read once
                sql = tree.sql(dialect="postgres")
                tree = _parse(sql)
                refs, has_view = _referenced(tree, self._root(), self.catalog)
                if not refs and not has_view:   # constants only now: answered here
                    meta = self.mirror.execute(sql)._result
        else:
            meta = self.mirror.execute(written)._result   # the answer itself
            want = list(meta.columns)
        catalog = self.catalog
        part = [r for r in refs if not catalog[r].replicated]
        if has_view:
            part = [n for n, i in catalog.items() if not i.replicated]
            refs = list(catalog)
        plan = {"sql": sql, "tables": refs}
        if inlined:
            plan["ctes_inlined"] = inlined
        if ctes_ran:
            plan["ctes_first"] = ctes_ran
        if not refs:
            plan["strategy"] = "coordinator"
            if plan_only:
                return plan
            sized = self._with_shard_sizes(tree)
            if sized is not None:   # sizes of cluster tables: the sums over the shards
                meta = self.mirror.execute(sized.sql(dialect="postgres"))._result
            return self._finish(plan, meta)
        if not part:
            plan["strategy"], plan["shard"] = "replicated", 0
            if plan_only:
                return plan
            reply = self._on_shards([0], sql, None)[0]
            return self._finish(plan, _reply_result(reply))
        if not has_view and isinstance(tree, exp.Select):
            first = self._subqueries_first(tree)
            if first is not None:
                new_tree, ran = first
                done = self._select(new_tree.sql(dialect="postgres"), None, plan_only)
                target = done if plan_only else self.last_plan
                target["subqueries_first"] = ran + target.get("subqueries_first", [])
                for key in ("ctes_inlined", "ctes_first"):
                    if plan.get(key):
                        target[key] = plan[key] + target.get(key, [])
                return done
        if len(part) == 1 and not has_view:
            pinned = _pinned_shard(tree, catalog[part[0]], self.shards)
            if pinned is not None:
                plan["strategy"], plan["shard"] = "routed", pinned
                if plan_only:
                    return plan
                reply = self._on_shards([pinned], sql, None)[pinned]
                return self._finish(plan, _reply_result(reply))
        if not has_view and isinstance(tree, exp.SetOperation):
            sp = plan_setop(tree, want, self._leaf_info, self._placed_by, self._columns_of)
            if sp is not None:
                dist = DistPlan(sp.shard_sql, sp.merge, "set operation")
                moved = sp.sides or any(p is not None for _, _, p in sp.first)
                plan.update(strategy="shuffle" if moved else "split", kind=dist.kind,
                            partial=dist.partial, merge=dist.merge, keys=[],
                            position=sp.position)
                _describe_setop(plan, sp)
                if plan_only:
                    return plan
                inputs = self._first_inputs(sp.first)
                per_shard = {s: sp.others if s and sp.others else sp.shard_sql
                             for s in range(self.shards)}
                return self._finish(plan, self._run_split(plan, dist, want,
                                                          sides=sp.sides or None,
                                                          shard_sql=per_shard,
                                                          inputs_per_shard=inputs))
        if not has_view and isinstance(tree, exp.Select) and self.cluster.planner == "plan":
            done = self._plan_split(sql, want, plan, plan_only)
            if done is not None:
                return done
        if not has_view and isinstance(tree, exp.Select):
            done = self._derived_setop(tree, want, plan, plan_only) or \
                self._derived_first(tree, want, plan, plan_only)
            if done is not None:
                return done
        occurrences = _table_occurrences(tree, catalog)
        local_where = not has_view and self._local_subqueries(tree)
        if local_where:   # the WHERE's subqueries run on each shard: count the FROM only
            occurrences = _top_occurrences(tree, catalog)
        if not has_view and _local_from(tree, part, catalog, occurrences):
            joins = tree.args.get("joins")
            star = catalog[part[0]].columns if not joins and len(refs) == 1 else \
                _join_star(tree, catalog) if joins else None
            dist = plan_select(tree, star, where_subqueries=local_where)
            if dist is not None:
                plan.update(strategy="split", kind=dist.kind, partial=dist.partial,
                            merge=dist.merge, keys=dist.keys)
                if plan_only:
                    return plan
                return self._finish(plan, self._run_split(plan, dist, want))
            done = self._window_select(tree, part, star, want, plan, plan_only)
            if done is not None:
                return done
        if not has_view and isinstance(tree, exp.Select):
            done = self._grouped_window(tree, want, plan, plan_only) or \
                self._range_windows(tree, part, want, plan, plan_only) or \
                self._window_columns(tree, part, want, plan, plan_only) or \
                self._window_join_on_shards(tree, want, plan, plan_only) or \
                self._window_join_columns(tree, want, plan, plan_only)
            if done is not None:
                return done
            counts = self._row_counts()
            n = self.shards
            if has_sharded_subquery(tree, catalog, _table_name):
                done = self._correlated(tree, want, plan, plan_only, counts)
                if done is not None:
                    return done
            star = _join_star(tree, catalog)
            jplan = plan_join(tree, part, catalog, _table_name)
            jdist = plan_select(jplan.tree, star) if jplan is not None else None
            bplan = self._broadcast_plan(tree, part, counts)
            bdist = plan_select(bplan[0], star) if bplan is not None else None
            shuffle_cost = sum(counts.get(side.table, 0) for side in jplan.sides) * \
                (n - 1) / n if jdist is not None else None
            broadcast_cost = sum(counts.get(name, 0) for name in bplan[1]) * n \
                if bdist is not None else None
            if shuffle_cost is not None and (broadcast_cost is None or
                                             shuffle_cost <= broadcast_cost or
                                             self.cluster.always_shuffle):
                return self._run_placed(plan, jdist, jplan, want, plan_only,
                                        _sides=jplan.sides)
            if broadcast_cost is not None:
                btree, names, anchor = bplan
                dist = bdist
                # Every shard sends its rows of each broadcast table to every other
                # shard directly (key None: a copy to all, ``exchange.py``).
                sides = [Side(f"__bcast_{name}", name, None, None) for name in names]
                plan.update(strategy="broadcast", kind=dist.kind, partial=dist.partial,
                            merge=dist.merge, keys=dist.keys, broadcast=names, anchor=anchor,
                            _sides=sides)
                if plan_only:
                    return plan
                return self._finish(plan, self._run_split(plan, dist, want, sides=sides))
        plan["strategy"] = "gather"
        if plan_only:
            return plan
        scratch = self._gather(refs)
        return self._finish(plan, scratch.execute(sql)._result)

    def _plan_split(self, sql: str, want: list, plan: dict, plan_only: bool):
        """The split of the engine's own optimized plan (``plansplit.py``): per-shard
        partials rendered from the plan's local part, the merge from the rest. None: the
        plan is outside that split (the reason is kept for EXPLAIN) and the SQL-level
        strategies below take the statement. Splits are remembered per statement text
        while the mirror's root (the schema) and the tables' placement are the same."""
        root = self._root()
        # Placement can change with no schema change (a table turned REPLICATED).
        placed = tuple((n, tuple(i.key), i.replicated) for n, i in self.catalog.items())
        hit = self._plan_splits.get(sql)
        counts: list = []   # the row counts a broadcast-or-shuffle choice was made by

        def rows() -> dict:
            if not counts:
                counts.append(self._row_counts())
            return counts[0]
        if hit is not None and hit[0] is root and hit[1] == placed and \
                (hit[3] is None or hit[3] == rows()):
            ps = hit[2]
        else:
            try:
                optimized = bind_and_optimize(self.mirror, sql)
                moved = None
                try:
                    ps = split_plan(optimized, self.catalog)
                except NotSplit as first:
                    # A join whose inputs are not co-partitioned: repartition or
                    # broadcast them first (planexchange.py), then split the rest; an
                    # aggregate with no partial form: its rows by a group column.
                    moved = place_exchanges(optimized, self.catalog, rows, self.shards,
                                            self.cluster.always_shuffle)
                    if moved is None and isinstance(first, AggregateNotSplit):
                        moved = place_grouping(optimized, self.catalog)
                    if moved is None:
                        raise
                    ps = split_plan(moved.plan, moved.catalog)
                    ps.sides = moved.sides
                with self.cluster.lock:
                    self.cluster.render_check.check(ps, self.mirror, moved)
            except NotSplit as exc:
                ps = str(exc)
            except errors.Error as exc:   # a rendering the engine reads otherwise: not split
                ps = f"rendering not read back ({exc.sqlstate}: {exc.message})"
                if exc.sqlstate[:2] in ("53", "57"):   # out of resources, cancelled: not
                    plan["not_plan_split"] = ps        # the statement's, not remembered
                    return None
            if len(self._plan_splits) >= PLAN_SPLITS_KEPT:
                self._plan_splits.clear()
            self._plan_splits[sql] = (root, placed, ps, counts[0] if counts and
                                      not isinstance(ps, str) else None)
        if isinstance(ps, str):
            plan["not_plan_split"] = ps
            return None
        dist = DistPlan(ps.partial_sql, ps.merge_sql, ps.kind, keys=ps.keys)
        # Every input copied whole (none repartitioned by a key): a broadcast.
        moves = "broadcast" if ps.sides and all(sd.key is None for sd in _in_order(ps.sides)) \
            else "shuffle"
        plan.update(strategy=moves if ps.sides else "split", kind=dist.kind,
                    partial=dist.partial, merge=dist.merge, keys=dist.keys, planner="plan",
                    partial_plan=ps.partial, merge_plan=ps.merge)
        if ps.sides:
            plan["exchanges"] = [(sd.table, sd.key, sd.scan) for sd in _in_order(ps.sides)]
            plan["broadcast"] = [sd.table for sd in _in_order(ps.sides) if sd.key is None]
            plan["_sides"] = ps.sides   # what a statement over this one's partial reads
        if ps.in_place:
            plan["in_place"] = [t for t in plan["tables"] if t in ps.in_place]
        if ps.windows:
            plan["windows"] = ps.windows
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=ps.sides or None))

    def _correlated(self, tree: exp.Select, want: list, plan: dict, plan_only: bool,
                    counts: dict):
        """Subqueries correlated off the partition key (and ``IN`` lists too long to
        write in): the rows of every table they and the FROM read are placed by the
        correlation columns, shard to shard (``correlated.py``), and the statement
        splits over them with its subqueries on each shard. None: not that shape."""
        from_ = tree.args.get("from_")
        if from_ is not None and isinstance(from_.this, exp.Subquery):
            return self._derived_correlated(tree, want, plan, plan_only, counts)
        cp = plan_correlated(tree, self.catalog, _table_name, counts, self.shards,
                             self.cluster.always_shuffle)
        if cp is None:
            return None
        jplan = cp.shuffle
        star = self.catalog[_table_name(from_.this)].columns \
            if not tree.args.get("joins") else _join_star(tree, self.catalog)
        dist = plan_select(jplan.tree, star, where_subqueries=True, subqueries=True)
        if dist is None:
            return None
        return self._run_correlated(plan, dist, cp, want, plan_only)

    def _derived_correlated(self, tree: exp.Select, want: list, plan: dict,
                            plan_only: bool, counts: dict):
        """A SELECT over one derived table whose body has the correlated subqueries
        (TPC-H Q22: ``SELECT k, count(*) FROM (SELECT … WHERE NOT EXISTS (…)) t GROUP
        BY k``): the body's uncorrelated subqueries run first, its rows are placed as
        for a statement of its own, and the outer SELECT splits over the body's rows
        on each shard as over a table. None: not that shape."""
        derived = tree.args["from_"].this
        if not derived.alias or not isinstance(derived.this, exp.Select) or \
                tree.args.get("joins") or derived.args["alias"].columns:
            return None
        outer = self._over_derived(tree, derived, (exp.Subquery, exp.Exists, exp.SetOperation))
        if outer is None:
            return None
        body, ran = derived.this, []
        if any(body.args.get(a) is not None for a in ("group", "having", "distinct", "limit",
                                                        "offset", "order", "windows")) or any(
                isinstance(n, (exp.AggFunc, exp.Window)) for e in body.expressions
                for n in e.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Exists)))):
            return None   # the body must give its rows one per row, whole on each shard
        first = self._subqueries_first(body)
        if first is not None:
            body, ran = first
        names = self._columns_of(body)
        if names is None:
            return None
        names = [n for n, _ in names]
        cp = plan_correlated(body, self.catalog, _table_name, counts, self.shards,
                             self.cluster.always_shuffle)
        dist = plan_select(outer, names if len(set(names)) == len(names) else None)
        if cp is None or dist is None:
            return None
        partial = sqlglot.parse_one(dist.partial, read="postgres")
        for t in partial.find_all(exp.Table):
            if t.name == "__derived":
                t.replace(exp.Subquery(this=cp.shuffle.tree.copy(),
                                       alias=derived.args["alias"].copy()))
        dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                        keys=dist.keys)
        if ran:
            plan["subqueries_first"] = ran + plan.get("subqueries_first", [])
        return self._run_correlated(plan, dist, cp, want, plan_only)

    def _over_derived(self, tree: exp.Select, derived: exp.Subquery, refused: tuple):
        """``tree`` reading table ``__derived`` (under the derived table's alias) in place
        of its one derived table, or None when the rest of it still reads a cluster table
        or holds one of the ``refused`` node kinds."""
        outer = tree.copy()
        outer.args["from_"].this.replace(exp.Table(
            this=exp.to_identifier("__derived"),
            alias=exp.TableAlias(this=exp.to_identifier(derived.alias, quoted=True))))
        if _referenced(outer, self._root(), self.catalog)[0] or any(
                isinstance(n, refused) for n in outer.walk()):
            return None
        return outer

    def _run_correlated(self, plan: dict, dist, cp, want: list, plan_only: bool):
        """Run (or, ``plan_only``, describe) a split over ``cp``'s placed inputs."""
        return self._run_placed(plan, dist, cp.shuffle, want, plan_only, correlated=cp.linked)

    def _run_placed(self, plan: dict, dist, jplan, want: list, plan_only: bool, **extra):
        """Run (or, ``plan_only``, describe) a split whose inputs ``jplan`` places on the
        shards first (its sides exchanged by key; none: the tables already sit right)."""
        plan.update(strategy="shuffle" if jplan.sides else "split", kind=dist.kind,
                    partial=dist.partial, merge=dist.merge, keys=dist.keys,
                    exchanges=[(sd.table, sd.key, sd.scan) for sd in jplan.sides],
                    in_place=jplan.in_place, **extra)
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want,
                                                  sides=jplan.sides or None))

    def _with_shard_sizes(self, tree: exp.Expression):
        """``tree`` with every constant-argument call of a relation size function
        (``pg_table_size('t'::regclass)``, ...) replaced by the sum of that call over the
        shards, which hold the rows (the mirror's tables are empty). None: no such call."""
        calls = [n for n in tree.find_all(exp.Anonymous)
                 if str(n.this).lower() in _SIZE_FUNCTIONS and
                 not any(isinstance(m, (exp.Column, exp.Select)) for m in n.walk())]
        if not calls:
            return None
        tree = tree.copy()
        for node in [n for n in tree.find_all(exp.Anonymous) if n in calls]:
            probe = exp.Select(expressions=[node.copy()]).sql(dialect="postgres")
            values = [ipc_to_table(r[3]).column(0)[0].as_py()
                      for r in self._on_shards(range(self.shards), probe, None).values()]
            total = None if any(v is None for v in values) else sum(values)
            node.replace(exp.cast(exp.Null(), "BIGINT") if total is None
                         else exp.Literal.number(total))
        return tree

    # ---- window functions and set operations on the shards ------------------------------
    def _window_select(self, tree: exp.Expression, part: list, star, want: list, plan: dict,
                       plan_only: bool):
        """A SELECT computing window functions over one sharded table (or reading such a
        SELECT as its one derived table, as in top-N per group: the outer part then
        splits as over a table): the windows on each shard over its own rows when every
        window's PARTITION BY holds the partition key, else with the table repartitioned
        by a column of every window's PARTITION BY, so they run whole on the shards, else,
        when the PARTITION BYs share no column, in stages, one repartition per column
        (``shuffle.plan_staged_windows``). None: not that shape."""
        if not isinstance(tree, exp.Select) or len(part) != 1:
            return None
        from_ = tree.args.get("from_")
        derived = from_.this if from_ is not None else None
        if isinstance(derived, exp.Subquery) and derived.alias and \
                isinstance(derived.this, exp.Select) and not tree.args.get("joins") and \
                not derived.args["alias"].columns:
            inner = self._window_inputs(derived.this, part[0])
            if inner is None:
                return None
            new_inner, sides, how = inner
            outer = tree.copy()
            outer.args["from_"].this.replace(exp.Table(
                this=exp.to_identifier("__derived"),
                alias=exp.TableAlias(this=exp.to_identifier(derived.alias, quoted=True))))
            try:   # what ``*`` over the derived table stands for: its output names
                names = [n for n, _ in self.mirror._session._prepare(
                    derived.this.sql(dialect="postgres")).plan.columns]
            except errors.Error:
                return None
            dist = plan_select(outer, names if len(set(names)) == len(names) else None)
            if dist is None:
                return None
            partial = sqlglot.parse_one(dist.partial, read="postgres")
            for t in partial.find_all(exp.Table):
                if t.name == "__derived":
                    t.replace(exp.Subquery(this=new_inner, alias=t.args["alias"].copy()))
            dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                            keys=dist.keys)
        else:
            inner = self._window_inputs(tree, part[0])
            if inner is None:
                return None
            new_tree, sides, how = inner
            dist = plan_select(new_tree, star, windows=True)
            if dist is None:
                return None
        plan.update(strategy="shuffle" if sides else "split", kind=dist.kind,
                    partial=dist.partial, merge=dist.merge, keys=dist.keys, windows=how)
        if sides:
            plan.update(exchanges=[(sd.table, sd.key, sd.scan) for sd in sides], in_place=[])
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=sides or None))

    def _window_inputs(self, select: exp.Select, name: str):
        """For a SELECT with window functions over sharded table ``name`` (read once, in
        its FROM): ``(select, sides, how)``, the SELECT to run on each shard (reading the
        repartitioned input instead of the table when ``sides``), or None."""
        if not any(isinstance(n, exp.Window) for n in select.walk()) or any(
                isinstance(n, (exp.Subquery, exp.Union, exp.Intersect, exp.Except))
                for n in select.walk()):
            return None
        catalog = self.catalog
        info = catalog[name]
        from_ = select.args.get("from_")
        top = ([from_.this] if from_ is not None else []) + \
            [j.this for j in select.args.get("joins") or []]
        tables = [t for t in top if isinstance(t, exp.Table) and _table_name(t) == name]
        if len(tables) != 1 or _table_occurrences(select, catalog).count(name) != 1 or \
                not _local_from(select, [name], catalog, _table_occurrences(select, catalog)):
            return None
        keys = window_key(select, tables[0], info, top, catalog, _table_name)
        if not keys:   # an expression common to every PARTITION BY: by its value
            expr = window_expression(select, tables[0], info)
            if expr is not None and not any(
                    isinstance(n, exp.Star) and not isinstance(n.parent, exp.Count)
                    for n in select.walk()):
                typed = self._columns_of(exp.select(expr.copy()).from_(tables[0].copy()))
                if typed is not None and typed[0][1] in HASHABLE:
                    wplan = plan_window_on_expression(select, tables[0], expr, catalog,
                                                      _table_name)
                    return wplan.tree, wplan.sides, \
                        f"repartitioned by {expr.sql(dialect='postgres')}"
        if not keys:   # no column common to every PARTITION BY: a stage per column
            return plan_staged_windows(select, tables[0], info, HASHABLE)
        if len(info.key) == 1 and info.key[0] in keys:
            return select, [], f"partitioned by {info.key[0]}"
        usable = [k for k in keys if info.types.get(k) in HASHABLE]
        if not usable:
            return None
        key = min(usable, key=lambda k: (info.types[k] != types.INTEGER, keys.index(k)))
        wplan = plan_window(select, tables[0], key, catalog, _table_name)
        return wplan.tree, wplan.sides, f"repartitioned by {key}"

    def _leaf_info(self, select: exp.Select):
        """For one SELECT of a set operation: (sharded table references it reads, None
        when its FROM cannot run on each shard alone; its output columns)."""
        catalog = self.catalog
        refs, has_view = _referenced(select, self._root(), catalog)
        if has_view:
            return None
        occurrences = _table_occurrences(select, catalog)
        sharded = [o for o in occurrences if not catalog[o].replicated]
        if sharded and not _local_from(select, sorted(set(sharded)), catalog, occurrences):
            return None
        try:
            columns = self.mirror._session._prepare(
                select.sql(dialect="postgres")).plan.columns
        except errors.Error:
            return None
        return len(sharded), list(columns)

    def _derived_setop(self, tree: exp.Select, want: list, plan: dict, plan_only: bool):
        """A SELECT over one derived table that is a set operation (no LIMIT): the set
        operation runs on the shards as on its own (``setops.py``: each shard's result
        then holds every copy of its rows, a partition of the whole), and the outer
        SELECT splits over those results as over a table. None: not that shape."""
        from_ = tree.args.get("from_")
        derived = from_.this if from_ is not None else None
        if not isinstance(derived, exp.Subquery) or not derived.alias or \
                not isinstance(derived.this, exp.SetOperation) or \
                tree.args.get("joins") or derived.args["alias"].columns:
            return None
        inner = derived.this
        if any(inner.args.get(a) is not None for a in ("limit", "offset")):
            return None
        outer = self._over_derived(tree, derived, (exp.Subquery, exp.SetOperation))
        if outer is None:
            return None
        names = self._columns_of(inner)
        if names is None:
            return None
        sp = plan_setop(inner, names, self._leaf_info, self._placed_by, self._columns_of)
        if sp is None:
            return None
        names = [n for n, _ in names]
        dist = plan_select(outer, names if len(set(names)) == len(names) else None)
        if dist is None:
            return None
        alias = derived.args["alias"]

        def partial_for(shard_sql: str) -> str:
            partial = sqlglot.parse_one(dist.partial, read="postgres")
            body = sqlglot.parse_one(shard_sql, read="postgres")
            for t in partial.find_all(exp.Table):
                if t.name == "__derived":
                    t.replace(exp.Subquery(this=body.copy(), alias=alias.copy()))
            return partial.sql(dialect="postgres")

        per_shard = {s: partial_for(sp.others if s and sp.others else sp.shard_sql)
                     for s in range(self.shards)}
        moved = sp.sides or any(p is not None for _, _, p in sp.first)
        plan.update(strategy="shuffle" if moved else "split", kind=dist.kind,
                    partial=per_shard[0], merge=dist.merge, keys=dist.keys,
                    setop="derived table", position=sp.position)
        _describe_setop(plan, sp)
        if plan_only:
            return plan
        inputs = self._first_inputs(sp.first)
        return self._finish(plan, self._run_split(
            plan, DistPlan(per_shard[0], dist.merge, dist.kind, keys=dist.keys), want,
            sides=sp.sides or None, shard_sql=per_shard, inputs_per_shard=inputs))

    def _grouped_window(self, tree: exp.Select, want: list, plan: dict, plan_only: bool):
        """Window functions over a grouped SELECT (``grouped.py``): the grouping runs
        first as a SELECT of its own (split over the shards: only the groups reach the
        coordinator), the windows after, here, over those rows. None: not that shape."""
        split = split_grouped(tree)
        if split is None:
            return None
        grouped, outer = split
        probe = outer.copy()
        probe.args["from_"].set("this", exp.Subquery(
            this=grouped.copy(), alias=exp.TableAlias(this=exp.to_identifier(GROUPED))))
        columns = self._columns_of(probe)
        if columns is None or [t for _, t in columns] != [t for _, t in want]:
            return None
        grouped_sql, outer_sql = grouped.sql(dialect="postgres"), outer.sql(dialect="postgres")
        inner_plan = self._select(grouped_sql, None, plan_only=True)
        if inner_plan["strategy"] == "gather":
            return None
        plan.update(strategy=inner_plan["strategy"], kind=inner_plan.get("kind"),
                    partial=inner_plan.get("partial"), merge=inner_plan.get("merge"),
                    keys=inner_plan.get("keys"), grouped=grouped_sql, windows_after=outer_sql)
        for k in ("exchanges", "in_place", "broadcast", "anchor", "first"):
            if k in inner_plan:
                plan[k] = inner_plan[k]
        if plan_only:
            return plan
        saved = self.last_plan
        result = self._select(grouped_sql, None)
        inner_plan, self.last_plan = self.last_plan, saved
        for k in ("partial_rows", "partial_bytes", "shuffled_bytes", "merge_rows",
                  "repartitioned"):
            if k in (inner_plan or {}):
                plan[k] = inner_plan[k]
        from ..database import Database
        conn = Database().connect()
        create_typed(conn, GROUPED, result.columns)
        load_table(conn, GROUPED, result.arrow())
        return self._finish(plan, conform(None, conn.execute(outer_sql).arrow(), want))

    def _range_windows(self, tree: exp.Select, part: list, want: list, plan: dict,
                       plan_only: bool):
        """Windows with no PARTITION BY over one sharded table, computed on the shards
        over ranges of their first ORDER BY key (``rangewindows.py``): a sample of the
        key from each shard, one split aggregate for the ranges' offsets, the rows moved
        shard to shard to their range's shard. None: not that shape, or only a prefix of
        the window order is needed (``_window_columns`` gathers just that prefix)."""
        if len(part) != 1 or _window_prefix(tree) is not None:
            return None
        info = self.catalog[part[0]]
        shape = rangewindows.range_shape(tree, _table_name, info)
        if shape is None:
            return None
        n = self.shards
        key_type = info.types[shape.key]
        literal = self._sql_literal
        replies = self._on_shards(range(n), rangewindows.sample_sql(shape), None)
        samples = [v for s in range(n)
                   for v in _reply_result(replies[s]).table.column(0).to_pylist()]
        bounds = rangewindows.bounds_from(samples, n)
        if any(literal(b, key_type) is None for b in bounds):
            return None
        ids = rangewindows.range_ids(n, len(bounds) + 2)
        stats_sql, running = rangewindows.stats_sql(shape, bounds, ids, literal, key_type)
        saved = self.last_plan
        try:
            stats = self._select(stats_sql, None)
        finally:
            self.last_plan = saved
        stat_types = [t for _, t in stats.columns]
        rows = list(zip(*[c.to_pylist() for c in stats.arrow().columns]))
        positions = [(p, kind) for _, p, kind in running]
        order = rangewindows.window_order(shape, ids, bounds)
        per_range = rangewindows.offsets(order, {r[0]: r for r in rows}, positions, ids[-1])
        if any(literal(v, stat_types[p]) is None for o in per_range.values()
               for p, _ in positions for v in [o[p]] if v is not None):
            return None
        scan_columns = _needed_columns(shape.tree, shape.alias, info, None, self.catalog,
                                       _table_name, shape.key)
        input_name = f"__shuf0_{info.name}"
        new_tree, scan, shifts = rangewindows.rewrite(
            shape, bounds, ids, per_range,
            {id(w): [p for v, p, _ in running if v is w] for w, _, _ in running},
            {p: stat_types[p] for _, p, _ in running}, literal, key_type, input_name,
            scan_columns)
        dist = plan_select(new_tree, None, windows=True)
        if dist is None:
            return None
        if shifts is not None:   # lag / lead: computed first, over the rows and ghosts
            partial = sqlglot.parse_one(dist.partial, read="postgres")
            for t in partial.find_all(exp.Table):
                if t.name == input_name:
                    t.replace(exp.Subquery(this=shifts.copy(), alias=t.args["alias"].copy()))
            dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                            keys=dist.keys)
        side = Side(input_name, info.name, rangewindows.RANGE_COLUMN, scan)
        plan.update(strategy="shuffle", kind=dist.kind, partial=dist.partial,
                    merge=dist.merge, keys=dist.keys,
                    windows=f"range-partitioned by {shape.key} ({len(bounds) + 1} ranges "
                            f"and one of NULLs; offsets from: {stats_sql})",
                    exchanges=[(info.name, rangewindows.RANGE_COLUMN, scan)], in_place=[],
                    range_bounds=bounds)
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=[side]))

    def _sql_literal(self, value, sql_type: str):
        """``value`` as a literal of ``sql_type`` (NULL cast to it), None when no literal
        spells it."""
        try:
            return _typed_literal(value, sql_type) if value is not None else \
                exp.cast(exp.Null(), _sql_type_name(sql_type))
        except errors.Error:
            return None

    def _window_columns(self, tree: exp.Select, part: list, want: list, plan: dict,
                        plan_only: bool):
        """Window functions over one sharded table whose windows share no PARTITION BY
        column and cannot run in stages (a window without PARTITION BY, or partitioned
        by an expression only): only the columns the statement reads, of the rows its
        WHERE keeps, are gathered (a split query of their own, filtered and projected on
        the shards), and the statement runs here over them. None: not that shape
        (joins, subqueries, aggregates)."""
        if len(part) != 1 or tree.args.get("joins") or not _windows_over_rows(tree):
            return None
        from_ = tree.args.get("from_")
        table = from_.this if from_ is not None else None
        if not isinstance(table, exp.Table) or _table_name(table) != part[0]:
            return None
        info = self.catalog[part[0]]
        alias = table.alias_or_name
        if any(isinstance(n, exp.Star) for n in tree.walk()):
            needed = list(info.columns)
        else:
            names = {c.name.lower() if not c.this.quoted else c.name
                     for c in tree.find_all(exp.Column) if c.table in ("", alias)}
            needed = [c for c in info.columns if c in names] or info.columns[:1]
            if alias in names and alias not in info.columns:   # to_jsonb(t): whole row
                needed = list(info.columns)
        scan = exp.Select(expressions=[exp.column(c, quoted=True) for c in needed])
        scan.set("from_", exp.From(this=table.copy()))
        if tree.args.get("where") is not None:
            scan.set("where", tree.args["where"].copy())
        prefix = _window_prefix(tree)
        if prefix is not None:   # only the first rows by the windows' order are needed
            scan.set("order", prefix[0])
            scan.set("limit", exp.Limit(expression=exp.Literal.number(prefix[1])))
        scan_sql = scan.sql(dialect="postgres")
        outer = tree.copy()
        outer.set("where", None)
        outer.args["from_"].set("this", exp.Table(
            this=exp.to_identifier("__window_rows"),
            alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))))
        outer_sql = outer.sql(dialect="postgres")
        inner_plan = self._select(scan_sql, None, plan_only=True)
        plan.update(strategy=inner_plan["strategy"], kind=inner_plan.get("kind"),
                    partial=inner_plan.get("partial"), merge=inner_plan.get("merge"),
                    keys=[], gathered_columns=(part[0], needed), windows_after=outer_sql,
                    prefix=prefix[1] if prefix is not None else None)
        if plan_only:
            return plan
        saved = self.last_plan
        rows = self._select(scan_sql, None).arrow()
        self.last_plan = saved
        from ..database import Database
        conn = Database().connect()
        create_typed(conn, "__window_rows", [(c, info.types[c]) for c in needed])
        load_table(conn, "__window_rows", rows)
        try:
            data = conn.execute(outer_sql).arrow()
        except errors.Error:   # a name the rewrite could not keep: the whole table here
            return None
        return self._finish(plan, conform(None, data, want))

    def _subqueries_first(self, tree: exp.Select):
        """Uncorrelated subqueries of ``tree`` (in WHERE, HAVING, the SELECT list) that
        read a sharded table run first, each as a query of its own (split over the
        shards: only its result reaches the coordinator), and are written into the
        statement as constants: a scalar subquery as its value, ``x IN (SELECT …)`` as
        ``x IN (v1, v2, …)`` (at most ``IN_LIST_ROWS`` values), ``EXISTS (…)`` as TRUE or
        FALSE. The statement then plans without them. Returns ``(new tree, [SQL of
        each subquery run])``, None when there is none (a correlated subquery does not
        bind alone on the mirror and stays)."""
        catalog = self.catalog
        todo = []
        for node in tree.walk():
            if node is tree or not isinstance(node, (exp.Subquery, exp.Exists)):
                continue
            if isinstance(node.parent, (exp.From, exp.Join, exp.Lateral, exp.Any,
                                        exp.All)) or \
                    isinstance(node, exp.Subquery) and node.alias:
                continue
            up = node.parent
            while up is not None and up is not tree and \
                    not isinstance(up, (exp.Subquery, exp.Exists, exp.Select)):
                up = up.parent
            if up is not tree:
                continue   # inside another subquery: that one runs first as a whole
            body = node.this
            if not isinstance(body, (exp.Select, exp.SetOperation)):
                continue
            refs, has_view = _referenced(body, self._root(), catalog)
            if has_view or all(catalog[r].replicated for r in refs):
                continue
            columns = self._columns_of(body)
            if columns is None:
                continue   # correlated: it names the outer query's columns
            todo.append((node, body, columns))
        if not todo:
            return None
        new = tree.copy()
        swaps, ran = [], []
        saved = self.last_plan
        try:
            for node, body, columns in todo:
                kind = "exists" if isinstance(node, exp.Exists) else \
                    "in" if isinstance(node.parent, exp.In) and \
                    node.parent.args.get("query") is node else "scalar"
                if kind != "exists" and len(columns) != 1:
                    continue
                if kind == "in" and _spelled_in(node.parent):
                    continue   # (``_long_in`` wrote it: placed, not listed)
                run = body.copy()
                cap = 1 if kind == "exists" else IN_LIST_ROWS + 1 if kind == "in" else 2
                if run.args.get("limit") is None and run.args.get("offset") is None:
                    if kind == "in" and isinstance(run, exp.Select):
                        run.set("distinct", exp.Distinct())   # (duplicates change nothing)
                        if run.args.get("order") is None:   # (so each shard sends at
                            run.set("order", exp.Order(     # most ``cap`` values: top-k)
                                expressions=[exp.Ordered(this=exp.Literal.number(1))]))
                    run.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
                sql = run.sql(dialect="postgres")
                values = self._select(sql, None).arrow()
                values = values.column(0).to_pylist() if values.num_columns else []
                if kind == "exists":
                    swaps.append((node, exp.Boolean(this=bool(values))))
                    ran.append(sql)
                    continue
                sql_type = columns[0][1]
                if kind == "scalar" and len(values) > 1:
                    raise errors.sql_error(
                        "21000", "more than one row returned by a subquery used as an "
                                 "expression")
                if kind == "in" and len(values) > IN_LIST_ROWS:
                    # Too many to write in. A positive conjunct of the WHERE is placed
                    # as it is (``correlated.py`` links its two columns); anywhere else
                    # the IN is spelled as an EXISTS correlated by equality, placed the
                    # same way, with its NULL cases as constants.
                    spelled = self._long_in(tree, node.parent, body)
                    if spelled is not None:
                        swaps.append(spelled[:2])
                        ran += spelled[2]
                    continue
                try:
                    literals = [_typed_literal(v, sql_type) for v in values]
                except errors.Error:
                    continue
                if kind == "scalar":
                    swaps.append((node, literals[0] if literals else
                                  exp.cast(exp.Null(), _sql_type_name(sql_type))))
                elif literals:
                    swaps.append((node.parent, exp.In(this=node.parent.this.copy(),
                                                      expressions=literals)))
                else:   # x IN (no rows) is false, even for a NULL x
                    swaps.append((node.parent, exp.Boolean(this=False)))
                ran.append(sql)
        finally:
            self.last_plan = saved
        if not swaps:
            return None
        # Replace in the copy: the nodes are found at the same paths.
        originals = list(tree.walk())
        copies = list(new.walk())
        for old_node, replacement in swaps:
            index = next(i for i, n in enumerate(originals) if n is old_node)
            copies[index].replace(replacement)
        return new, ran

    def _long_in(self, tree: exp.Select, in_node: exp.In, body):
        """``x IN (SELECT y FROM … WHERE w)`` (uncorrelated, too many values to write
        in) that is not a positive conjunct of ``tree``'s WHERE, as ``CASE WHEN x IS NULL
        THEN NULL WHEN x IN (SELECT y FROM … WHERE w) THEN TRUE ELSE c END``
        (the subquery has rows: more than the list takes), ``c`` NULL when it has a
        NULL ``y`` (else FALSE), found by a one-row split query run first: the
        IN's three-valued answer, the WHEN's IN placed by ``correlated.py`` (a NOT IN
        conjunct of the WHERE: x IS NOT NULL AND NOT EXISTS (… AND y = x)).
        Returns (node replaced, its replacement, [SQL run]) or None."""
        where = tree.args.get("where")
        tops = list(conjuncts(where.this)) if where is not None else []
        if any(c is in_node for c in tops) or not isinstance(body, exp.Select):
            return None
        negated = isinstance(in_node.parent, exp.Not) and any(c is in_node.parent
                                                             for c in tops)
        out = plain_output(body)
        x = in_node.this
        if out is None or any(isinstance(n, (exp.AggFunc, exp.Window, exp.Subquery,
                                             exp.Exists, exp.Select)) for n in x.walk()):
            return None
        up = in_node.parent
        while up is not None and up is not tree:
            if isinstance(up, (exp.Having, exp.Group, exp.Order, exp.Join)):
                return None
            up = up.parent
        from_ = tree.args.get("from_")
        top = ([from_.this] if from_ is not None else []) + \
            [j.this for j in tree.args.get("joins") or []]
        if not all(isinstance(t, exp.Table) and _table_name(t) in self.catalog for t in top):
            return None
        x = x.copy()
        for col in list(x.find_all(exp.Column)):   # qualified: the subquery must not
            if not col.table:                       # take them for its own columns
                owners = [t for t in top if column_of(self.catalog[_table_name(t)], col.name)]
                if len(owners) != 1:
                    return None
                col.set("table", exp.to_identifier(owners[0].alias_or_name))
        inner = {t.alias_or_name.lower() for t in body.find_all(exp.Table)}
        if any(col.table.lower() in inner for col in x.find_all(exp.Column)):
            return None
        if not list(x.find_all(exp.Column)):
            return None

        def probe(extra) -> tuple[bool, str]:
            q = body.copy()
            q.set("expressions", [exp.Literal.number(1)])
            q.set("distinct", None)
            q.set("order", None)
            if extra is not None:
                q.set("where", exp.Where(this=exp.and_(
                    q.args["where"].this.copy(), extra) if q.args.get("where") else extra))
            q.set("limit", exp.Limit(expression=exp.Literal.number(1)))
            sql = q.sql(dialect="postgres")
            return self._select(sql, None).arrow().num_rows > 0, sql

        # (The subquery has rows: more than IN_LIST_ROWS of them.)
        has_null, sql2 = probe(exp.Is(this=out.copy(), expression=exp.Null()))
        exists = body.copy()
        exists.set("expressions", [exp.Literal.number(1)])
        exists.set("distinct", None)
        exists.set("order", None)
        eq = exp.EQ(this=out.copy(), expression=x.copy())
        exists.set("where", exp.Where(this=exp.and_(exists.args["where"].this.copy(), eq)
                                      if exists.args.get("where") else eq))

        def const(flag: bool) -> exp.Expression:
            return exp.cast(exp.Null(), "BOOLEAN") if flag else exp.Boolean(this=False)

        if negated:
            # ``x NOT IN (…)`` as a conjunct of the WHERE: only TRUE keeps a row, so
            # (the subquery having rows) never with a NULL in it, else an anti-join
            # (a NOT EXISTS a shard's engine runs as one, not row by row); it replaces
            # the NOT.
            if has_null:
                kept = exp.Boolean(this=False)
            else:
                kept = exp.and_(exp.Not(this=exp.Is(this=x.copy(), expression=exp.Null())),
                                exp.Not(this=exp.Exists(this=exists)))
            return in_node.parent, exp.Paren(this=kept), [sql2]

        # The WHEN's IN is TRUE or not as on one engine once each shard holds the
        # subquery's rows with y = x: ``correlated.py`` links x and y for it, and
        # each shard's engine builds the IN's set once (an EXISTS would run per row).
        case = exp.Case(ifs=[
            exp.If(this=exp.Is(this=x.copy(), expression=exp.Null()), true=const(True)),
            exp.If(this=exp.In(this=x.copy(), query=exp.Subquery(this=body.copy())),
                   true=exp.Boolean(this=True))],
            default=const(has_null))
        return in_node, exp.Paren(this=case), [sql2]

    def _derived_first(self, tree: exp.Select, want: list, plan: dict, plan_only: bool):
        """A SELECT whose cluster tables are all read through derived tables with their
        own LIMIT (``FROM (SELECT … ORDER BY v DESC LIMIT 10) t``): each runs first as
        a query of its own (split: a top-k on the shards, so at most LIMIT rows reach
        the coordinator) and the statement runs here over their rows. None: another
        shape (a cluster table read directly, a LATERAL or correlated derived table)."""
        from_ = tree.args.get("from_")
        if from_ is None:
            return None
        items = [from_.this] + [j.this for j in tree.args.get("joins") or []]
        derived = [t for t in items if isinstance(t, exp.Subquery) and t.alias and
                   isinstance(t.this, (exp.Select, exp.SetOperation)) and
                   t.this.args.get("limit") is not None]
        if not derived:
            return None
        outer = tree.copy()
        positions = [i for i, t in enumerate(items) if any(t is d for d in derived)]
        new_items = [outer.args["from_"].this] + [j.this for j in outer.args.get("joins") or []]
        for k, i in enumerate(positions):
            alias = new_items[i].args["alias"].copy()
            new_items[i].replace(exp.Table(this=exp.to_identifier(f"__derived{k}"),
                                           alias=alias))
        refs, has_view = _referenced(outer, self._root(), self.catalog)
        if refs or has_view:
            return None
        bodies = [d.this.sql(dialect="postgres") for d in derived]
        inner_plans = []
        for sql in bodies:
            inner = self._select(sql, None, plan_only=True)
            if inner["strategy"] == "gather":
                return None
            inner_plans.append(inner)
        outer_sql = outer.sql(dialect="postgres")
        plan.update(strategy=inner_plans[0]["strategy"], kind=inner_plans[0].get("kind"),
                    partial=inner_plans[0].get("partial"), merge=inner_plans[0].get("merge"),
                    keys=[], derived_first=bodies, windows_after=outer_sql)
        if plan_only:
            return plan
        from ..database import Database
        conn = Database().connect()
        saved = self.last_plan
        try:
            for k, sql in enumerate(bodies):
                result = self._select(sql, None)
                names = [n for n, _ in result.columns]
                if len(set(names)) != len(names):
                    return None
                create_typed(conn, f"__derived{k}", result.columns)
                load_table(conn, f"__derived{k}", result.arrow())
        finally:
            self.last_plan = saved
        return self._finish(plan, conform(None, conn.execute(outer_sql).arrow(), want))

    def _window_join_parts(self, tree: exp.Select):
        """For window functions over a join of cluster tables: ``(outer, scan,
        needed)``: the join as a SELECT of the columns the statement reads (``__c0``,
        ``__c1``, ... for the ``(alias, column)`` pairs ``needed``) and the statement
        over its rows (table ``__window_rows``). None: another shape (aggregates,
        subqueries, USING / NATURAL, derived tables)."""
        joins = tree.args.get("joins") or []
        from_ = tree.args.get("from_")
        if not joins or from_ is None or not _windows_over_rows(tree):
            return None
        if any(j.args.get("using") or j.args.get("method") for j in joins):
            return None
        items = [from_.this] + [j.this for j in joins]
        if not all(isinstance(t, exp.Table) and _table_name(t) in self.catalog
                   for t in items):
            return None
        aliases = {t.alias_or_name: self.catalog[_table_name(t)] for t in items}
        if len(aliases) != len(items) or any(
                t.args.get("alias") is not None and t.args["alias"].columns for t in items):
            return None
        needed: list = []

        def slot(alias: str, col: str) -> exp.Column:
            if (alias, col) not in needed:
                needed.append((alias, col))
            return exp.column(f"__c{needed.index((alias, col))}")

        def owner(col: exp.Column):
            name = col.name if col.this.quoted else col.name.lower()
            if col.table:
                info = aliases.get(col.table)
                return (col.table, name) if info is not None and name in info.columns \
                    else False
            found = [a for a, info in aliases.items() if name in info.columns]
            return (found[0], name) if len(found) == 1 else None if not found else False

        def rewrite(node):
            if isinstance(node, exp.Column):
                if isinstance(node.this, exp.Star):   # t.*
                    info = aliases.get(node.table)
                    if info is None:
                        raise ValueError(node.table)
                    return [slot(node.table, c) for c in info.columns]
                hit = owner(node)
                if hit is False:
                    raise ValueError(node.sql())
                return node if hit is None else slot(*hit)   # None: an output name
            return node

        outer = exp.Select()
        try:
            out_items = []
            for e in tree.expressions:
                if isinstance(e, exp.Star):
                    out_items += [slot(a, c) for a, info in aliases.items()
                                  for c in info.columns]
                    continue
                new = rewrite(e) if isinstance(e, exp.Column) else \
                    e.copy().transform(lambda n: rewrite(n) if not (
                        isinstance(n, exp.Column) and isinstance(n.this, exp.Star)) else n)
                out_items += new if isinstance(new, list) else [new]
            outer.set("expressions", out_items)
            if tree.args.get("order") is not None:
                # ORDER BY an output name means that output (PostgreSQL).
                outputs = {e.alias for e in tree.expressions if isinstance(e, exp.Alias)}
                outer.set("order", exp.Order(expressions=[
                    o.copy() if isinstance(o.this, exp.Column) and not o.this.table and
                    o.this.name in outputs else o.copy().transform(rewrite)
                    for o in tree.args["order"].expressions]))
        except ValueError:
            return None
        if not needed:
            return None
        for arg in ("distinct", "limit", "offset"):
            if tree.args.get(arg) is not None:
                outer.set(arg, tree.args[arg].copy())
        outer.set("from_", exp.From(this=exp.to_table("__window_rows")))
        scan = exp.Select(expressions=[
            exp.alias_(exp.column(c, table=a, quoted=True), f"__c{i}")
            for i, (a, c) in enumerate(needed)])
        for arg in ("from_", "joins", "where"):
            if tree.args.get(arg) is not None:
                scan.set(arg, tree.args[arg].copy())
        return outer, scan, needed

    def _window_join_on_shards(self, tree: exp.Select, want: list, plan: dict,
                               plan_only: bool):
        """Window functions over a join whose windows share a PARTITION BY column: the
        join runs on the shards (split, repartitioned or broadcast like any join) and
        its rows, the columns the statement reads, are repartitioned shard to shard by
        that column (``Side.reads``: the second exchange reads the first's inputs), so
        every window partition is whole on one shard; the windows run there and only
        their rows (top-k with ORDER BY … LIMIT) reach the coordinator. None: another
        shape (``_window_join_columns`` then gathers the join's columns)."""
        parts = self._window_join_parts(tree)
        if parts is None:
            return None
        outer, scan, needed = parts
        common = None
        for spec in window_specs(outer):
            cols = {p.name for p in spec if isinstance(p, exp.Column) and not p.table}
            common = cols if common is None else common & cols
        slots = [f"__c{i}" for i in range(len(needed))]
        usable = [i for i, n in enumerate(slots) if n in (common or ()) and
                  self.catalog[self._alias_table(tree, needed[i][0])].types.get(
                      needed[i][1]) in HASHABLE]
        if not usable:
            return None
        key = slots[usable[0]]
        scan_sql = scan.sql(dialect="postgres")
        inner = self._select(scan_sql, None, plan_only=True)
        if inner["strategy"] not in ("split", "shuffle", "broadcast") or \
                inner.get("kind") != "scan" or "_sides" not in inner and \
                inner["strategy"] != "split":
            return None
        dist = plan_select(outer, slots, windows=True)
        if dist is None:
            return None
        # The join's partial names its outputs c0, c1, ...: give them the slot names.
        stage = f"SELECT {', '.join(f'c{i} AS {n}' for i, n in enumerate(slots))} " \
                f"FROM ({inner['partial']}) AS __join"
        side = Side("__window_rows", "the join's rows", key, stage,
                    reads=inner.get("_sides") or None)
        plan.update(strategy="shuffle", kind=dist.kind, partial=dist.partial,
                    merge=dist.merge, keys=[],
                    exchanges=inner.get("exchanges", []) + [(side.table, key, stage)],
                    in_place=inner.get("in_place", []),
                    windows=f"repartitioned by {needed[usable[0]][0]}."
                            f"{needed[usable[0]][1]} after the join")
        for k in ("broadcast", "anchor"):
            if k in inner:
                plan[k] = inner[k]
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=[side]))

    def _alias_table(self, tree: exp.Select, alias: str) -> str:
        from_ = tree.args["from_"]
        for t in [from_.this] + [j.this for j in tree.args.get("joins") or []]:
            if t.alias_or_name == alias:
                return _table_name(t)
        raise KeyError(alias)

    def _window_join_columns(self, tree: exp.Select, want: list, plan: dict,
                             plan_only: bool):
        """Window functions over a join of cluster tables: the join runs first as a
        query of its own (split, repartitioned or broadcast like any join), giving only
        the columns the statement reads, and the windows run here over its rows. None:
        another shape (aggregates, subqueries, USING / NATURAL, derived tables)."""
        parts = self._window_join_parts(tree)
        if parts is None:
            return None
        outer, scan, needed = parts
        prefix = _window_prefix(tree)
        if prefix is not None:   # only the join's first rows by the windows' order
            scan.set("order", prefix[0])
            scan.set("limit", exp.Limit(expression=exp.Literal.number(prefix[1])))
        scan_sql, outer_sql = scan.sql(dialect="postgres"), outer.sql(dialect="postgres")
        inner_plan = self._select(scan_sql, None, plan_only=True)
        if inner_plan["strategy"] == "gather":
            return None
        plan.update(strategy=inner_plan["strategy"], kind=inner_plan.get("kind"),
                    partial=inner_plan.get("partial"), merge=inner_plan.get("merge"),
                    keys=[], windows_after=outer_sql,
                    gathered_columns=("the join", [f"{a}.{c}" for a, c in needed]),
                    prefix=prefix[1] if prefix is not None else None)
        for k in ("exchanges", "in_place", "broadcast", "anchor"):
            if k in inner_plan:
                plan[k] = inner_plan[k]
        if plan_only:
            return plan
        saved = self.last_plan
        try:
            result = self._select(scan_sql, None)
            for k in ("shuffled_bytes", "partial_rows"):
                if k in (self.last_plan or {}):
                    plan[k] = self.last_plan[k]
        finally:
            self.last_plan = saved
        from ..database import Database
        conn = Database().connect()
        create_typed(conn, "__window_rows", result.columns)
        load_table(conn, "__window_rows", result.arrow())
        return self._finish(plan, conform(None, conn.execute(outer_sql).arrow(), want))

    def _local_subqueries(self, tree: exp.Expression) -> bool:
        """Can every subquery of ``tree``'s WHERE run on each shard alone? True when
        ``tree`` reads one sharded table in its FROM and each subquery of its WHERE
        reads REPLICATED tables only, or one sharded table tied to the outer one by an
        equality of their single-column partition keys (of one type) in its own
        WHERE (``EXISTS (SELECT 1 FROM l WHERE l.k = o.k AND …)``): every row the
        subquery can see for an outer row is then on that row's shard."""
        if not isinstance(tree, exp.Select) or tree.args.get("where") is None:
            return False
        catalog = self.catalog
        subs = [n for n in tree.args["where"].walk() if isinstance(n, (exp.Subquery,
                                                                      exp.Exists))]
        if not subs:
            return False
        from_ = tree.args.get("from_")
        top = ([from_.this] if from_ is not None else []) + \
            [j.this for j in tree.args.get("joins") or []]
        outer = [t for t in top if isinstance(t, exp.Table) and _table_name(t) in catalog
                 and not catalog[_table_name(t)].replicated]
        if len(outer) != 1 or len(catalog[_table_name(outer[0])].key) != 1:
            return False
        o_info = catalog[_table_name(outer[0])]
        o_alias, o_key = outer[0].alias_or_name, o_info.key[0]
        for sub in subs:
            body = sub.this
            if not isinstance(body, exp.Select):
                return False
            inner = [n for n in _table_occurrences(body, catalog) if not catalog[n].replicated]
            if not inner:
                continue
            tables = [t for t in body.find_all(exp.Table) if _table_name(t) in catalog and
                      not catalog[_table_name(t)].replicated]
            b_from = body.args.get("from_")
            if len(tables) != 1 or b_from is None or b_from.this is not tables[0] or \
                    body.args.get("where") is None:
                return False
            i_info = catalog[_table_name(tables[0])]
            if len(i_info.key) != 1 or i_info.types[i_info.key[0]] != o_info.types[o_key]:
                return False
            i_alias, i_key = tables[0].alias_or_name, i_info.key[0]
            inner_names = {t.alias_or_name for t in body.find_all(exp.Table)}

            def side(col) -> str | None:
                if not isinstance(col, exp.Column):
                    return None
                if col.table == i_alias and col.name == i_key:
                    return "inner"
                if col.table == o_alias and col.name == o_key and o_alias not in inner_names:
                    return "outer"
                if not col.table:   # unqualified: the inner table's column if it has one
                    if col.name == i_key:
                        return "inner"
                    if col.name == o_key and not any(
                            col.name in catalog[_table_name(t)].columns
                            for t in body.find_all(exp.Table) if _table_name(t) in catalog):
                        return "outer"
                return None

            if not any(isinstance(c, exp.EQ) and
                       {side(c.this), side(c.expression)} == {"inner", "outer"}
                       for c in conjuncts(body.args["where"].this)):
                return False
        return True

    def _columns_of(self, select: exp.Expression):
        """The output columns ``[(name, type)]`` of a query the mirror can bind (None:
        it cannot)."""
        try:
            return list(self.mirror._session._prepare(
                select.sql(dialect="postgres")).plan.columns)
        except errors.Error:
            return None

    def _first_inputs(self, first: list) -> dict | None:
        """Run each query of ``first`` (``(input name, SQL, position)``) as a SELECT of
        its own (split over the shards like any other: only its result reaches the
        coordinator) and hand its rows to the shards as input ``name``: all to shard 0
        (position None) or hash-partitioned by the column at ``position``, as the shards
        partition their own sends (columns named c0, c1, ...). ``{shard: inputs}``."""
        if not first:
            return None
        out: dict = {s: {} for s in range(self.shards)}
        saved = self.last_plan
        try:
            for name, sql, position in first:
                table = self._select(sql, None).arrow()
                table = table.rename_columns([f"c{i}" for i in range(table.num_columns)])
                if position is None:
                    parts = {0: table}
                else:
                    parts = split_rows(table, [position], self.shards)
                for s in range(self.shards):
                    payload = table_to_ipc(parts.get(s, table.slice(0, 0)))
                    self.cluster.ship(len(payload))
                    out[s][name] = payload
        finally:
            self.last_plan = saved
        return out

    def _placed_by(self, select: exp.Select, position: int) -> bool:
        """Does ``select`` output, at ``position``, the single-column partition key of
        the one sharded table it reads?"""
        catalog = self.catalog
        from_ = select.args.get("from_")
        joins = select.args.get("joins") or []
        top = ([from_.this] if from_ is not None else []) + [j.this for j in joins]
        sharded = [t for t in top if isinstance(t, exp.Table) and
                   _table_name(t) in catalog and not catalog[_table_name(t)].replicated]
        if len(sharded) != 1:
            return False
        info = catalog[_table_name(sharded[0])]
        if len(info.key) != 1:
            return False
        items = select.expressions
        if len(items) == 1 and isinstance(items[0], exp.Star) and not joins:
            return position < len(info.columns) and info.columns[position] == info.key[0]
        if any(isinstance(e, exp.Star) or isinstance(e, exp.Column) and
               isinstance(e.this, exp.Star) for e in items) or position >= len(items):
            return False
        e = items[position]
        e = e.this if isinstance(e, exp.Alias) else e
        if not isinstance(e, exp.Column):
            return False
        if e.table:
            return e.table == sharded[0].alias_or_name and e.name in (
                info.key[0], info.key[0].upper()) and info.key[0] in info.columns
        others = [t for t in top if t is not sharded[0] and isinstance(t, exp.Table) and
                  _table_name(t) in catalog and e.name.lower() in catalog[_table_name(t)].columns]
        return not others and e.name.lower() == info.key[0]

    # ---- files read on the workers (loads.py) ------------------------------------------
    def _paths(self, literal: exp.Literal) -> list[str]:
        from ..exec.files import resolve_paths
        return resolve_paths(literal.this, self.mirror._session.file_root)

    def _file_select(self, tree: exp.Select, sql: str, plan_only: bool):
        """A SELECT over one reader of several files: split over the shards, each
        reading its files (None: not that shape, or one file)."""
        reads = loads.read_calls(tree)
        from_ = tree.args.get("from_")
        if len(reads) != 1 or reads[0][1] is None or from_ is None or \
                tree.args.get("joins") or not isinstance(from_.this, exp.Table) or \
                from_.this.this is not reads[0][0]:
            return None
        session = self.mirror._session
        want = list(session._prepare(sql).plan.columns)   # binds; reads no rows
        paths = self._paths(reads[0][1])
        if len(paths) < 2:
            return None
        star = [n for n, _ in session._prepare(
            "SELECT * FROM " + from_.this.sql(dialect="postgres")).plan.columns]
        per = loads.spread(paths, self.shards)
        dists = {s: plan_select(loads.with_paths(tree, 0, ps), star) for s, ps in per.items()}
        if any(d is None for d in dists.values()):
            return None
        dist = dists[min(dists)]
        plan = {"sql": sql, "tables": [], "strategy": "files", "kind": dist.kind,
                "partial": dist.partial, "merge": dist.merge, "keys": dist.keys,
                "files": {s: len(ps) for s, ps in per.items()}}
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(
            plan, dist, want, shard_sql={s: d.partial for s, d in dists.items()}))

    def _parallel_load(self, info: TableInfo, per_shard: dict, files: dict) -> int:
        """Run ``{shard: [statements]}`` loading ``info``'s table from files on those
        shards, exchange the rows to their shards and load them atomically."""
        b = self.cluster.backend
        shards = list(range(self.shards))
        src = sorted(per_shard)
        xid = self.cluster.new_id("x")
        key = info.key or info.columns
        own = not self.in_txn
        began = []
        try:
            replies = b.call_all(src, "load_out", per_shard_args={
                s: (self.sid, xid, info.name, per_shard[s], key, self.shards) for s in src})
            for s in src:
                check(replies[s])
            moved = self.cluster.ship(*(n for s in src for n in replies[s][2].values()),
                                      between_shards=True)
            tokens = _tokens_by_target(replies[s][4] for s in src)
            total = sum(replies[s][3] for s in src)
            if own:
                for t in shards:
                    check(b.call(t, "begin", self.sid))
                    began.append(t)
            loaded = b.call_all(shards, "load_exchange", per_shard_args={
                t: (self.sid, xid, info.name, tokens.get(t, [])) for t in shards})
            for t in shards:
                check(loaded[t])
            self.write_rows = {t: max(loaded[t][4], 0) for t in shards}
        except BaseException:
            for s in shards:
                try:
                    b.call(s, "drop_exchange", self.sid, xid)
                except errors.Error:
                    pass
            if own:
                twophase.rollback_all(b, self.sid, began)
            else:
                self.failed = True
            raise
        if own:
            twophase.commit(self.cluster, self.sid, shards)
        else:
            self.written.update(shards)
        self.last_plan = {"strategy": "files", "shuffled_bytes": moved, "rows": total}
        if files is not None:
            self.last_plan["files"] = {s: len(v) for s, v in files.items()}
        return total

    def _spreadable(self, info: TableInfo | None) -> bool:
        """Can rows for this table be made on the shards (see loads.py)?"""
        if info is None or info.replicated or self.shards < 2:
            return False
        return self._root().tables.get(info.name) is not None and not self._draws_sequence(info)

    def _draws_sequence(self, info: TableInfo) -> bool:
        """Does an INSERT into this table draw from a sequence (a SERIAL column)? Then
        its rows are made on the coordinator, which owns the sequences: shards drawing
        their own numbers would hand out the same ones twice."""
        version = self._root().tables.get(info.name)
        return version is not None and any(
            c.default_sql and "nextval" in c.default_sql.lower()
            for c in version.schema.columns)

    def _advance_sequences(self, scratch) -> None:
        """Carry the numbers a scratch database drew over to the coordinator's mirror, so
        the next statement continues after them."""
        drawn = scratch._session.db.root.sequences
        txn = self.mirror._session.txn
        mine = (txn.working if txn is not None else self.mirror._session.db.root).sequences
        for name, value in drawn.items():
            if value > mine.get(name, value):
                self.mirror.execute(f"SELECT setval('{name}', {int(value)})")

    def _copy(self, sql: str, params) -> Result:
        """COPY: FROM several files, read on the shards; FROM one file, read here and
        routed; TO a file, written here from the gathered rows."""
        tree = _parse(sql)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        self.mirror._session._prepare(sql)   # binds: the engine's errors; reads no rows
        if not isinstance(tree, exp.Copy):
            raise refuse("this form of COPY")
        target = tree.this
        if not tree.args.get("kind"):   # COPY ... TO
            refs, has_view = _referenced(tree, self._root(), self.catalog)
            scratch = self._gather(list(self.catalog) if has_view else refs)
            return scratch.execute(sql)._result
        table = target.this if isinstance(target, exp.Schema) else target
        info = self._info(_table_name(table))
        files = tree.args.get("files") or []
        paths = self._paths(files[0]) if files and isinstance(files[0], exp.Literal) else []
        if len(paths) > 1 and self._spreadable(info):
            per = loads.spread(paths, self.shards)
            total = self._parallel_load(info, {s: loads.copy_statements(tree, ps)
                                               for s, ps in per.items()}, per)
            return Result(columns=[], rowcount=total, kind="COPY")
        scratch = self._scratch()
        result = scratch.execute(sql)._result
        new = scratch.execute(f'SELECT * FROM "{info.name}"').arrow()
        self._load(info.name, new, info)
        return Result(columns=[], rowcount=result.rowcount, kind=result.kind)

    def _row_counts(self) -> dict:
        b = self.cluster.backend
        counts: dict[str, int] = {}
        for reply in b.call_all(range(b.shards), "row_counts", self.branch).values():
            for name, n in check(reply)[1].items():
                counts[name] = counts.get(name, 0) + n
        return counts

    def _run_split(self, plan: dict, dist, want: list, inputs: dict | None = None,
                   sides: list | None = None, shard_sql: dict | None = None,
                   inputs_per_shard: dict | None = None) -> Result:
        """Run a split plan: the partial on every shard (reading broadcast ``inputs``, or
        the ``sides`` of a join repartitioned first; ``shard_sql``: a partial of its own
        per shard, on those shards only), then the merge over the gathered partials, or,
        for an aggregate whose partials exceed ``shuffle_rows`` on some shard, the merge
        repartitioned by the group keys and run on the shards."""
        b = self.cluster.backend
        shards = list(range(self.shards))
        src = sorted(shard_sql) if shard_sql else shards
        xid = self.cluster.new_id("x")
        stage = merge_on_shards(dist.merge) if dist.keys else None
        limit = self.cluster.shuffle_rows if stage is not None else None
        timings = plan.setdefault("timings", {})   # wall seconds per stage, here

        def timed(stage: str, t0: float) -> None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            received = self._exchange(xid, sides, plan) if sides else {}
            if sides:
                timed("exchange", t0)
            t0 = time.perf_counter()
            replies = b.call_all(src, "partial", per_shard_args={
                s: (self.sid, xid, shard_sql[s] if shard_sql else dist.partial, limit,
                    inputs_per_shard[s] if inputs_per_shard else inputs,
                    received.get(s)) for s in src})
            for s in src:
                check(replies[s])
            timed("partials", t0)
            columns = replies[src[0]][2]
            if len({n for n, _ in columns}) < len(columns):   # SELECT a, a: by position
                columns = [(f"c{i}", t) for i, (_, t) in enumerate(columns)]
            plan["partial_rows"] = [replies[s][4] if s in replies else 0 for s in shards]
            held = [s for s in src if replies[s][3] is None]
            plan["partial_bytes"] = [len(replies[s][3] or b"") for s in src]
            if not held:
                self.cluster.ship(*(len(replies[s][3]) for s in src))
                t0 = time.perf_counter()
                partials = [ipc_to_table(replies[s][3]) for s in src]
                _, table = run_merge(columns, partials, dist.merge)
                timed("merge", t0)
                return conform(None, table, want)
            # Repartition the partials by their group keys, shard to shard: every group
            # whole on one shard. The shards whose partials came back whole still have
            # them (``ShardHost.recent``) and repartition them too; the coordinator only
            # drops its copies.
            self.cluster.ship(*(len(replies[s][3]) for s in src if s not in held))
            t0 = time.perf_counter()
            reps = b.call_all(src, "repartition", self.sid, xid, dist.keys, self.shards)
            for s in src:
                check(reps[s])
            moved = self.cluster.ship(*(n for s in src for n in reps[s][1].values()),
                                      between_shards=True)
            tokens = _tokens_by_target(reps[s][2] for s in src)
            merged = b.call_all(shards, "merge_exchange", per_shard_args={
                t: (self.sid, xid, columns, tokens.get(t, []), stage.partial) for t in shards})
            for t in shards:
                check(merged[t])
            timed("repartition and merge on the shards", t0)
            t0 = time.perf_counter()
            self.cluster.ship(*(len(merged[t][3]) for t in shards))
            plan.update(repartitioned=dist.keys, merge_rows=[merged[t][4] for t in shards],
                        shuffled_bytes=plan.get("shuffled_bytes", 0) + moved)
            _, table = run_merge(merged[0][2], [ipc_to_table(merged[t][3]) for t in shards],
                                 stage.merge)
            timed("merge", t0)
            return conform(None, table, want)
        except BaseException:
            for s in shards:
                try:
                    b.call(s, "drop_exchange", self.sid, xid)
                except errors.Error:
                    pass
            raise

    def _exchange(self, xid: str, sides: list, plan: dict) -> dict:
        """Repartition each join side on its key, shard to shard (``exchange.py``): every
        shard then holds its partition of each side. Returns ``{shard: {input name:
        (exchange id, [tokens])}}``, what ``partial`` reads them by; the coordinator
        sees only sizes and tokens, never a row."""
        b = self.cluster.backend
        shards = list(range(self.shards))
        received: dict[int, dict] = {s: {} for s in shards}
        moved = 0
        for i, side in enumerate(sides):
            sx = f"{xid}.{i}"
            # A side made from others' exchanges (a join's rows): those move first.
            fed = self._exchange(f"{sx}.r", side.reads, plan) if side.reads else {}
            replies = b.call_all(shards, "shuffle_out", per_shard_args={
                s: (self.sid, sx, side.once if side.once is not None and s != 0
                    else side.scan, None if side.key is None else [side.key], self.shards,
                    side.table if side.scan is None else None, fed.get(s)) for s in shards})
            for s in shards:
                check(replies[s])
            tokens = _tokens_by_target(replies[s][4] for s in shards)
            for s in shards:
                received[s][side.input] = (sx, tokens.get(s, []))
            moved += self.cluster.ship(*(n for s in shards for n in replies[s][2].values()),
                                       between_shards=True)
        plan["shuffled_bytes"] = plan.get("shuffled_bytes", 0) + moved
        return received

    def _broadcast_plan(self, tree: exp.Select, part: list, counts: dict):
        """Keep the largest sharded table of the top-level FROM in place and broadcast
        every other sharded table read (and any second reference to it) to all shards:
        an inner (or anchor-preserving LEFT) join of the anchor's rows on each shard with
        full copies of the others, united over the shards, is the whole join. Used when
        that ships fewer bytes than gathering every table; None otherwise."""
        tree = tree.copy()
        joins = tree.args.get("joins") or []
        from_ = tree.args.get("from_")
        if from_ is None:
            return None
        top = [from_.this] + [j.this for j in joins]
        candidates = [t for t in top if isinstance(t, exp.Table) and _table_name(t) in part]
        if not candidates:
            return None
        anchor = max(candidates, key=lambda t: counts.get(_table_name(t), 0))
        for j in joins:
            side = (j.args.get("side") or "").upper()
            if side in ("RIGHT", "FULL") or (side == "LEFT" and j.this is anchor):
                return None
        local = _colocated(anchor, top, joins, part, self.catalog)
        names = []
        for t in list(tree.find_all(exp.Table)):
            name = _table_name(t)
            if any(t is k for k in local) or name is None or name not in self.catalog or \
                    self.catalog[name].replicated:
                continue
            if name not in names:
                names.append(name)
            new = t.copy()
            new.set("this", exp.to_identifier(f"__bcast_{name}"))
            new.set("db", None)
            if new.args.get("alias") is None:
                new.set("alias", exp.TableAlias(
                    this=exp.to_identifier(t.name, quoted=t.this.quoted)))
            t.replace(new)
        anchor_name = _table_name(anchor)
        shipped = sum(counts.get(n, 0) for n in names) * self.shards
        gathered = sum(counts.get(n, 0) for n in set(part) | {anchor_name})
        if not names or shipped >= gathered:
            return None
        return tree, names, anchor_name

    def _finish(self, plan: dict, result: Result) -> Result:
        self.last_plan = plan
        return result

    def _gather(self, tables) -> "object":
        """A fork of the mirror holding every row of ``tables`` (the fallback plan)."""
        scratch = self._scratch()
        for name in tables:
            info = self.catalog[name]
            shards = [0] if info.replicated else range(self.shards)
            replies = self._scan(shards, name)
            parts = [ipc_to_table(r[3]) for r in replies.values()]
            data = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
            load_table(scratch, name, data)
        return scratch

    # ---- INSERT ---------------------------------------------------------------------------
    def _insert(self, sql: str, params) -> Result:
        tree = _parse(sql)
        if with_of(tree) is not None:
            # WITH ... INSERT ... SELECT: the CTEs belong to the source query.
            source = tree.args.get("expression")
            if not isinstance(source, exp.Select) or with_of(source) is not None:
                return self._gathered(sql, params, "WITH ... INSERT ... VALUES")
            tree = _cte_to_source(tree)
            sql = tree.sql(dialect="postgres")
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        name = _table_name(target)
        info = self.catalog.get(name)
        if info is None:
            self.mirror.execute(sql, params)   # the engine's own error (42P01, ...)
            raise errors.undefined_table(name)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        source = tree.args.get("expression")
        conflict = tree.args.get("conflict")
        if _conflict_sets_key(tree, info):
            return self._gathered(sql, None, "ON CONFLICT DO UPDATE of a partition key")
        if info.replicated:   # every shard holds every row: each checks it all itself
            inputs, tree, xid = self._broadcast_reads(tree, name, skip=target)
            try:
                replies = self._write({s: tree.sql(dialect="postgres")
                                       for s in range(self.shards)}, inputs_per_shard=inputs)
            finally:
                self._drop_exchange(xid)
            return _reply_result(replies[0])
        serial = self._draws_sequence(info)
        if isinstance(source, exp.Values) and not serial:
            return self._insert_values(tree, sql, info, source)
        conflict = tree.args.get("conflict")
        reads = loads.read_calls(source) if source is not None else []
        if len(reads) == 1 and reads[0][1] is not None and conflict is None and \
                tree.args.get("returning") is None and loads.plain_source(source) and \
                not _referenced(source, self._root(), self.catalog)[0] and \
                self._spreadable(info):
            self.mirror._session._prepare(sql)   # binds: the engine's errors; no rows read
            paths = self._paths(reads[0][1])
            if len(paths) > 1:
                per = loads.spread(paths, self.shards)
                total = self._parallel_load(info, {
                    s: [loads.with_paths(tree, 0, ps).sql(dialect="postgres")]
                    for s, ps in per.items()}, per)
                return Result(columns=[], rowcount=total, kind="INSERT")
        if conflict is None and tree.args.get("returning") is None and not serial:
            done = self._insert_select_on_shards(tree, sql, info, source)
            if done is not None:
                return done
        stripped = tree.copy()
        stripped.set("conflict", None)
        if conflict is not None:
            stripped.set("returning", None)
        first = self._source_first(stripped)
        if first is not None:
            scratch, stripped = first
        else:
            scratch = self._scratch_for(tree)
        result = scratch.execute(stripped.sql(dialect="postgres"))._result
        if serial:
            self._advance_sequences(scratch)
        new = scratch.execute(f'SELECT * FROM "{name}"').arrow()
        new = new.slice(new.num_rows - max(result.rowcount, 0))
        if conflict is None:
            self._load(name, new, info)
            return result
        # ON CONFLICT: each shard upserts its rows itself (Arrow input ``__rows``).
        parts = split_rows(new, info.key_positions, self.shards)
        per_shard, inputs = {}, {}
        for s_, part in parts.items():
            ins = exp.Insert(this=exp.to_table(name),
                             expression=sqlglot.parse_one("SELECT * FROM __rows", read="postgres"))
            ins.set("conflict", conflict.copy())
            if tree.args.get("returning") is not None:
                ins.set("returning", tree.args["returning"].copy())
            per_shard[s_] = ins.sql(dialect="postgres")
            inputs[s_] = {"__rows": table_to_ipc(part)}
        if not per_shard:
            return Result(columns=result.columns, table=result.table, rowcount=0,
                          kind=result.kind)
        return _combine(self._write(per_shard, inputs_per_shard=inputs))

    def _insert_select_on_shards(self, tree: exp.Insert, sql: str, info: TableInfo,
                                 source) -> Result | None:
        """INSERT INTO t SELECT … whose SELECT makes each row from one row of a sharded
        table (filters, projections, joins local to a shard): every shard runs the
        INSERT into ``t`` emptied in a throwaway fork of its rows (the engine's casts,
        defaults and checks), sends the new rows straight to the shards of their keys
        and they are loaded there in one 2PC transaction, as for files (``loads.py``):
        no row passes through the coordinator. None: not that shape."""
        shape = self._insert_select_shape(info, source)
        if shape is None:
            return None
        refs, part = shape
        self.mirror._session._prepare(sql)   # binds: the engine's errors; no rows read
        shards = range(self.shards) if part else [0]   # REPLICATED sources: once
        total = self._parallel_load(info, {s: [sql] for s in shards}, None)
        self.last_plan.update(strategy="insert on shards", sources=refs)
        return Result(columns=[], rowcount=total, kind="INSERT")

    def _insert_select_shape(self, info: TableInfo, source):
        """``(tables read, sharded tables read)`` when ``_insert_select_on_shards`` runs
        INSERT ... SELECT on the shards, else None."""
        if not isinstance(source, exp.Select) or not self._spreadable(info) or \
                self.shards < 2:
            return None
        if with_of(source) is not None:
            return None
        for arg in ("group", "having", "distinct", "order", "limit",
                    "offset", "qualify", "locks"):
            if source.args.get(arg) is not None:
                return None
        if _has_forbidden(source) or any(isinstance(n, (exp.AggFunc, exp.Window))
                                         for n in source.walk()):
            return None
        catalog = self.catalog
        refs, has_view = _referenced(source, self._root(), catalog)
        if has_view or info.name in refs or loads.read_calls(source):
            return None   # (reading the target: its fork on the shard is emptied first)
        occurrences = _table_occurrences(source, catalog)
        part = sorted({o for o in occurrences if not catalog[o].replicated})
        if part and not _local_from(source, part, catalog, occurrences):
            return None
        return refs, part

    def _source_first(self, tree: exp.Insert):
        """INSERT … SELECT whose SELECT aggregates (or otherwise cannot make its rows one
        per row on the shards): the SELECT runs first as a query of its own (split over
        the shards: only its result reaches the coordinator), its rows become table
        ``__source`` of a fork of the schema, where the INSERT reads them (the engine's
        casts, defaults and checks). Returns ``(fork, INSERT reading __source)``, None
        when the source reads no cluster table or would be gathered anyway."""
        source = tree.args.get("expression")
        if not isinstance(source, (exp.Select, exp.SetOperation)):
            return None
        refs, has_view = _referenced(source, self._root(), self.catalog)
        if not refs or has_view:
            return None
        sql = source.sql(dialect="postgres")
        saved = self.last_plan
        try:
            if self._select(sql, None, plan_only=True)["strategy"] == "gather":
                return None
            result = self._select(sql, None)
            source_plan = self.last_plan
        finally:
            self.last_plan = saved
        if any(t == types.NULL for _, t in result.columns) or _bare_nulls(source):
            return None   # (an untyped NULL column: cast as the INSERT would, below)
        scratch = self._scratch()
        names = [(f"c{i}", t) for i, (_, t) in enumerate(result.columns)]
        create_typed(scratch, "__source", names)
        load_table(scratch, "__source", result.arrow())
        new = tree.copy()
        new.set("expression", sqlglot.parse_one('SELECT * FROM "__source"', read="postgres"))
        self.last_plan = {"strategy": "source first", "source": source_plan}
        return scratch, new

    def _scratch_for(self, tree: exp.Expression):
        """A fork of the mirror with the rows the statement's source reads gathered in."""
        source = tree.args.get("expression")
        refs = []
        if source is not None:
            refs, has_view = _referenced(source, self._root(),
                                         self.catalog)
            if has_view:
                refs = list(self.catalog)
        return self._gather(refs)

    def _insert_values(self, tree, sql: str, info: TableInfo, values: exp.Values) -> Result:
        groups, order = self._route_values(tree, sql, info, values)
        per_shard = {}
        for s, ts in groups.items():
            part = tree.copy()
            part.args["expression"].set("expressions", [t.copy() for t in ts])
            per_shard[s] = part.sql(dialect="postgres")
        replies = self._write(per_shard)
        result = _combine(replies)
        tuples = values.expressions
        if result.table is not None and tree.args.get("returning") is not None:
            # RETURNING in the order of VALUES (each shard returns its rows in order)
            shards = sorted(replies)
            if result.table.num_rows == len(tuples) and all(
                    _reply_result(replies[s]).table.num_rows == len(order[s])
                    for s in shards):
                at = [i for s in shards for i in order[s]]
                back = sorted(range(len(at)), key=at.__getitem__)
                result = replace(result, table=result.table.take(pa.array(back)))
        return result

    def _route_values(self, tree, sql: str, info: TableInfo, values: exp.Values):
        """The VALUES tuples by the shard of their partition key (computed in a fork
        of the schema: defaults and casts as the engine makes them): ``({shard:
        [tuples]}, {shard: [positions in VALUES]})``; nothing is written."""
        name = info.name
        tuples = values.expressions
        keys = []
        if tree.args.get("conflict") is None:
            scratch = self._scratch()
            scratch.execute(sql)   # defaults, casts, NOT NULL, CHECK: the engine's own errors
            keys = scratch.execute(
                "SELECT " + ", ".join(f'"{k}"' for k in (info.key or info.columns))
                + f' FROM "{name}"').fetchall()
        if len(keys) != len(tuples):   # ON CONFLICT: place the tuples one by one
            keys = []
            plain = tree.copy()
            plain.set("conflict", None)
            plain.set("returning", None)
            for t in tuples:
                one = plain.copy()
                one.args["expression"].set("expressions", [t.copy()])
                s2 = self._scratch()
                s2.execute(one.sql(dialect="postgres"))
                keys.append(s2.execute(
                    "SELECT " + ", ".join(f'"{k}"' for k in (info.key or info.columns))
                    + f' FROM "{name}"').fetchone())
        groups: dict[int, list] = {}
        order: dict[int, list] = {}
        for i, (t, k) in enumerate(zip(tuples, keys)):
            s = shard_of_key(k, self.shards)
            groups.setdefault(s, []).append(t)
            order.setdefault(s, []).append(i)
        return groups, order

    def _run_many(self, sql: str, seq: list) -> int:
        word = _first_word(sql)
        tree = _parse(sql) if word == "insert" else None
        if tree is not None and isinstance(tree.args.get("expression"), exp.Values) and \
                len(tree.args["expression"].expressions) == 1 and with_of(tree) is None:
            target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
            info = self.catalog.get(_table_name(target))
            if info is not None and not info.replicated and seq and \
                    not self._draws_sequence(info):
                scratch = self._scratch()
                scratch.executemany(sql, seq)
                keys = scratch.execute(
                    "SELECT " + ", ".join(f'"{k}"' for k in (info.key or info.columns))
                    + f' FROM "{info.name}"').fetchall()
                if len(keys) == len(seq):
                    return self._many_routed(sql, seq, keys)
        total = 0
        for p in seq:
            r = self._run(sql, p)
            total += max(r.rowcount, 0)
        return total

    def _many_routed(self, sql: str, seq: list, keys: list) -> int:
        b = self.cluster.backend
        groups: dict[int, list] = {}
        for p, k in zip(seq, keys):
            groups.setdefault(shard_of_key(k, self.shards), []).append(_plain(p))
        shards = sorted(groups)
        own = not self.in_txn
        if own:
            for s in shards:
                check(b.call(s, "begin", self.sid))
        try:
            total = sum(check(b.call(s, "executemany", self.sid, sql, groups[s]))[4]
                        for s in shards)
        except errors.Error:
            if own:
                twophase.rollback_all(b, self.sid, shards)
            else:
                self.failed = True
            raise
        if own:
            twophase.commit(self.cluster, self.sid, shards)
        else:
            self.written.update(shards)
        return total

    # ---- UPDATE / DELETE --------------------------------------------------------------------
    def _update_delete(self, sql: str, params) -> Result:
        tree = _parse(sql)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        target = tree.this
        name = _table_name(target) if isinstance(target, exp.Table) else None
        info = self.catalog.get(name) if name else None
        if info is None:
            self.mirror.execute(sql)   # the engine's own error
            raise errors.undefined_table(str(name))
        self.mirror.execute(sql)       # binds: type and name errors before any shard
        if self._moves_rows(tree, info) and (tree.args.get("returning") is not None or
                                             self._reads_others(tree, name)):
            return self._gathered(sql, None, "UPDATE of a partition key")
        # Other tables read by the statement (FROM, USING, subqueries; the target itself
        # inside a subquery): sharded ones are broadcast to every shard as Arrow inputs.
        inputs, tree, xid = self._broadcast_reads(tree, name)
        try:
            return self._update_delete_on(tree, info, inputs)
        finally:
            self._drop_exchange(xid)

    @staticmethod
    def _moves_rows(tree: exp.Expression, info: TableInfo) -> bool:
        """Does this UPDATE set a partition key column (rows may change shard)?"""
        return bool(isinstance(tree, exp.Update) and not info.replicated and info.key and
                    any(isinstance(e, exp.EQ) and e.this.name in info.key
                        for e in tree.expressions))

    def _reads_others(self, tree: exp.Expression, target: str) -> bool:
        """Does a write read a sharded table other than its own target row (what
        ``_broadcast_reads`` would send to every shard)?"""
        own = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        for t in tree.find_all(exp.Table):
            name = _table_name(t)
            if t is own or name is None or name not in self.catalog:
                continue
            if not self.catalog[name].replicated or name == target:
                return True
        return False

    def _gathered(self, sql: str, params, why: str) -> Result:
        """A write the per-shard plans do not cover, computed over the gathered rows of
        the tables it names and applied as row changes in one 2PC (``gathered.py``)."""
        from .gathered import gathered_write
        tree = _parse(sql)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        self._bind_checked(sql)
        refs, has_view = _referenced(tree, self._root(), self.catalog)
        if has_view:
            refs = list(self.catalog)
        return gathered_write(self, sql, refs, why)

    def _bind_checked(self, sql: str):
        """Bind ``sql`` on the mirror and check the session role's privileges for it,
        as executing it there would, without running it (it would write the mirror, or
        compute over its empty tables); returns the engine's prepared statement."""
        session = self.mirror._session
        prepared = session._prepare(sql)
        bound = prepared.bound
        root = self._root()
        if bound is not None and bound.privileges and (session.role or session.auth_user) \
                and root.auth.roles:
            session._check_privileges(root, bound)
        return prepared

    def _update_delete_on(self, tree: exp.Expression, info: TableInfo,
                          inputs: dict | None) -> Result:
        sql = tree.sql(dialect="postgres")
        moves_rows = self._moves_rows(tree, info)
        shards = list(range(self.shards))
        if not info.replicated:
            pinned = _pinned_shard(tree, info, self.shards)
            if pinned is not None and not moves_rows:
                shards = [pinned]
        if moves_rows:
            if inputs:
                raise refuse("UPDATE of a partition key column reading other tables")
            return self._update_key(tree, info, shards)
        replies = self._write({s: sql for s in shards}, inputs_per_shard=inputs)
        if info.replicated:
            return _reply_result(replies[0])
        return _combine(replies)


    def _broadcast_reads(self, tree: exp.Expression, target: str, skip=None):
        """Other tables a write reads (FROM, USING, subqueries; the target itself inside
        a subquery): every sharded one is broadcast to every shard, shard to shard (each
        sends its rows to all the others; a REPLICATED one read as the target goes once,
        from shard 0), and read there as an Arrow input. Returns ``({shard: inputs} or
        None, the statement reading the inputs, the exchange id or None)``."""
        tree, sides = self._broadcast_rewrite(tree, target, skip)
        if not sides:
            return None, tree, None
        xid = self.cluster.new_id("x")
        try:
            received = self._exchange(xid, list(sides.values()), {})
        except BaseException:
            self._drop_exchange(xid)
            raise
        inputs = {s: {name: ("exchange", *got) for name, got in per.items()}
                  for s, per in received.items()}
        return inputs, tree, xid

    def _broadcast_rewrite(self, tree: exp.Expression, target: str, skip=None):
        """The statement reading ``__bcast_<table>`` inputs for the tables
        ``_broadcast_reads`` sends to every shard, and their sides (nothing is sent)."""
        tree = tree.copy()
        own = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        sides: dict[str, Side] = {}
        while True:
            todo = None
            for t in tree.find_all(exp.Table):
                name = _table_name(t)
                if t is own or name is None or name not in self.catalog:
                    continue   # the statement's own target, system and unknown tables
                if self.catalog[name].replicated and name != target:
                    continue   # every shard has all its rows already
                todo = (t, name)
                break
            if todo is None:
                break
            t, name = todo
            alias = f"__bcast_{name}"
            if alias not in sides:
                if self.catalog[name].replicated:
                    sides[alias] = Side(alias, name, None, f'SELECT * FROM "{name}"',
                                        f'SELECT * FROM "{name}" LIMIT 0')
                else:
                    sides[alias] = Side(alias, name, None, None)
            new = t.copy()
            new.set("this", exp.to_identifier(alias))
            new.set("db", None)
            if new.args.get("alias") is None:
                new.set("alias", exp.TableAlias(
                    this=exp.to_identifier(t.name, quoted=t.this.quoted)))
            t.replace(new)
        return tree, sides

    def _drop_exchange(self, xid: str | None) -> None:
        """Forget what exchange ``xid`` left on the shards (the batches of shards a
        statement did not run on, or of a statement that failed)."""
        if xid is None:
            return
        b = self.cluster.backend
        for s in range(self.shards):
            try:
                b.call(s, "drop_exchange", self.sid, xid)
            except errors.Error:
                pass

    def _update_key(self, tree: exp.Update, info: TableInfo, shards: list) -> Result:
        """UPDATE that changes partition keys: update in place on every shard; each
        shard deletes the rows whose new key hashes elsewhere and sends them straight to
        their new shard, which loads them (and checks their uniqueness), all in one
        atomic transaction."""
        if tree.args.get("returning") is not None:
            raise refuse("UPDATE ... RETURNING of a partition key column")
        b = self.cluster.backend
        own = not self.in_txn
        xid = self.cluster.new_id("x")
        began = []
        try:
            if own:
                for s in shards:
                    check(b.call(s, "begin", self.sid))
                    began.append(s)
            star = tree.copy()
            star.set("returning", exp.Returning(expressions=[exp.Star()]))
            sql = star.sql(dialect="postgres")
            replies = b.call_all(shards, "move_out", per_shard_args={
                s: (self.sid, xid, sql, info.name, info.key, self.shards) for s in shards})
            for s in shards:
                check(replies[s])
            total = sum(replies[s][1] for s in shards)
            self.write_rows = {s: replies[s][1] for s in shards}
            targets = {t for s in shards for t in replies[s][2]}
            if not targets <= set(shards):
                raise errors.InternalError("cluster: a moved row left the statement's shards")
            self.cluster.ship(*(n for s in shards for n in replies[s][2].values()),
                              between_shards=True)
            tokens = _tokens_by_target(replies[s][3] for s in shards)
            loaded = b.call_all(shards, "load_exchange", per_shard_args={
                t: (self.sid, xid, info.name, tokens.get(t, [])) for t in shards})
            for t in shards:
                check(loaded[t])
        except errors.Error:
            self._drop_exchange(xid)
            if own:
                twophase.rollback_all(b, self.sid, began)
            else:
                self.failed = True
            raise
        if own:
            twophase.commit(self.cluster, self.sid, shards)
        else:
            self.written.update(shards)
        return Result(columns=[], rowcount=total, kind="UPDATE")


# ---- helpers ------------------------------------------------------------------------------
def _in_order(sides: list) -> list:
    """Exchanges in the order they run: those a side's scan reads (``Side.reads``) first."""
    out: list = []
    for side in sides:
        out += _in_order(side.reads or []) + [side]
    return out


def _tokens_by_target(per_source) -> dict:
    """``{target: [token, ...]}`` from each source shard's ``{target: token}`` (tokens:
    what a target needs to collect a batch sent to it, ``exchange.py``)."""
    out: dict = {}
    for tokens in per_source:
        for t, token in (tokens or {}).items():
            out.setdefault(t, []).append(token)
    return out


def _first_word(sql: str) -> str:
    m = _FIRST_WORD.match(sql)
    return m.group(1).lower() if m else ""


def _parse(sql: str) -> exp.Expression:
    """The statement as the single engine reads it (sql/parse.py: PostgreSQL's case
    folding and literals sqlglot alone would misread, such as ``interval '1 day
    02:00'``), so routing and splitting see the tree the shards will bind."""
    return parse_one(sql)


def _plain(params):
    if params is None:
        return None
    if isinstance(params, dict):
        return dict(params)
    return list(params)


def _literal(value) -> exp.Expression:
    import datetime
    import decimal
    import uuid
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float, decimal.Decimal)):
        lit = exp.Literal.number(value)
        return exp.Neg(this=exp.Literal.number(-value)) if value < 0 else lit
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, datetime.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, uuid.UUID):
        return exp.cast(exp.Literal.string(str(value)), "UUID")
    raise refuse(f"a parameter of type {type(value).__name__}")


def _inline(tree: exp.Expression, params) -> exp.Expression:
    """The statement with its parameters written in as literals."""
    tree = tree.copy()
    positional = list(params) if not isinstance(params, dict) else None
    counter = itertools.count()

    def fn(node):
        if isinstance(node, exp.Placeholder):
            if node.this and positional is None:
                return _literal(params[node.this])
            if positional is None:
                raise errors.sql_error("08P01", "named parameters need a mapping")
            i = next(counter)
            if i >= len(positional):
                raise errors.sql_error("08P01", "not enough parameters")
            return _literal(positional[i])
        if isinstance(node, exp.Parameter) and positional is not None:
            i = int(node.this.this) - 1
            if not 0 <= i < len(positional):
                raise errors.sql_error("08P01", f"there is no parameter ${i + 1}")
            return _literal(positional[i])
        return node
    return tree.transform(fn)


def _sql_type_name(sql_type: str):
    if sql_type == types.FLOAT:   # sqlglot writes FLOAT as REAL (float4 in PostgreSQL)
        return exp.DataType.build("DOUBLE PRECISION")
    return types.TEXT if sql_type == types.NULL else sql_type


def _typed_literal(value, sql_type: str) -> exp.Expression:
    """A constant of ``sql_type`` holding ``value`` (a subquery's result written into
    the statement); 0A000 for values that have no exact literal here."""
    import math
    if value is None:
        return exp.cast(exp.Null(), _sql_type_name(sql_type))
    if isinstance(value, float) and not math.isfinite(value):
        raise refuse("a non-finite float written as a constant")
    if isinstance(value, float):
        value = float(repr(value))
    return exp.cast(_literal(value), _sql_type_name(sql_type))


def _bare_nulls(source: exp.Expression) -> bool:
    """Whether a SELECT (or an arm of a set operation) lists a bare NULL, which the
    engine types as its INSERT target's column (a text column of ``__source`` would not
    be)."""
    selects = [source] if isinstance(source, exp.Select) else list(source.find_all(exp.Select))
    return any(isinstance(e.unalias(), exp.Null) for s in selects for e in s.expressions)


def _cte_to_source(tree: exp.Insert) -> exp.Insert:
    """``WITH ... INSERT ... SELECT`` as ``INSERT ... WITH ... SELECT``: the CTEs belong
    to the source query (a copy; the source is a SELECT of no WITH of its own)."""
    tree = tree.copy()
    w = with_of(tree)
    set_with(tree, None)
    set_with(tree.args["expression"], w)
    return tree


def _conflict_sets_key(tree: exp.Insert, info: TableInfo) -> bool:
    """INSERT ... ON CONFLICT DO UPDATE setting a partition key column to something else
    than the excluded row's (run as a gathered write)."""
    conflict = tree.args.get("conflict")
    return conflict is not None and not info.replicated and any(
        isinstance(e, exp.EQ) and isinstance(e.this, exp.Column) and
        e.this.name in (info.key or info.columns) and not (
            isinstance(e.expression, exp.Column) and
            e.expression.table.lower() == "excluded" and
            e.expression.name == e.this.name)
        for e in (conflict.args.get("expressions") or []))


def _writes(tree: exp.Expression) -> bool:
    return any(isinstance(n, (exp.Insert, exp.Update, exp.Delete, exp.Merge))
               for n in tree.walk())


def _gathered_statement(tree: exp.Expression) -> bool:
    """Is this a write run over gathered rows whatever its shape (``gathered.py``):
    MERGE, or a statement with a data-modifying WITH query?"""
    with_ = with_of(tree)
    return isinstance(tree, exp.Merge) or with_ is not None and any(
        _writes(c.this) for c in with_.expressions)


def _referenced(tree: exp.Expression, root, catalog: dict) -> tuple[list, bool]:
    """Cluster tables the statement reads (CTE names excluded) and whether a view is read."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    names, view = [], False
    for t in tree.find_all(exp.Table):
        name = _table_name(t)
        if name is None or name in ctes:
            continue
        if name in catalog and name not in names:
            names.append(name)
        elif name in getattr(root, "views", {}):
            view = True
    return names, view


def _table_name(t: exp.Table) -> str | None:
    """The catalog name of a table reference (None: a system schema's table)."""
    db = t.args.get("db")
    if db is not None and db.name.lower() != "public":
        return None
    ident = t.this
    if isinstance(ident, exp.Identifier):
        return ident.this if ident.quoted else ident.this.lower()
    return t.name.lower()


def _table_occurrences(tree: exp.Expression, catalog: dict) -> list:
    return [n for n in (_table_name(t) for t in tree.find_all(exp.Table)) if n in catalog]


def _top_occurrences(tree: exp.Select, catalog: dict) -> list:
    """The cluster tables of ``tree``'s own FROM and JOINs (not of its subqueries)."""
    from_ = tree.args.get("from_")
    top = ([from_.this] if from_ is not None else []) + \
        [j.this for j in tree.args.get("joins") or []]
    return [n for n in (_table_name(t) for t in top if isinstance(t, exp.Table))
            if n in catalog]


def _pinned_shard(tree: exp.Expression, info: TableInfo, shards: int) -> int | None:
    """The one shard a WHERE ``key = constant [AND ...]`` on a single table touches."""
    if not info.key or tree.args.get("joins") or tree.args.get("from_") is not None and \
            isinstance(tree, (exp.Update, exp.Delete)):
        return None
    if tree.args.get("using"):   # (sqlglot sets False for a DELETE without USING)
        return None
    where = tree.args.get("where")
    if where is None or any(isinstance(n, (exp.Select, exp.Subquery)) for n in where.walk()):
        return None
    found = {}
    for c in conjuncts(where.this):
        if not isinstance(c, exp.EQ):
            continue
        for col, lit in ((c.this, c.expression), (c.expression, c.this)):
            if isinstance(col, exp.Column) and col.name in info.key:
                value = _literal_value(lit, info.types.get(col.name))
                if value is not _NO:
                    found[col.name] = value
    if set(found) != set(info.key):
        return None
    return shard_of_key(tuple(found[k] for k in info.key), shards)


_NO = object()


def _literal_value(node, sql_type):
    neg = False
    if isinstance(node, exp.Neg):
        neg, node = True, node.this
    if not isinstance(node, exp.Literal):
        return _NO
    if node.is_string:
        return node.this if sql_type == types.TEXT and not neg else _NO
    if sql_type != types.INTEGER:
        return _NO
    try:
        v = int(node.this)
    except ValueError:
        return _NO
    return -v if neg else v


def _local_from(tree: exp.Expression, part: list, catalog: dict, occurrences: list) -> bool:
    """Can FROM/WHERE run on each shard alone? One sharded table (others replicated), or
    sharded tables inner-joined on their single-column partition keys."""
    if any(isinstance(n, exp.TableSample) for n in tree.walk()):
        return False   # a sample of each shard is not the sample of the table
    if len([o for o in occurrences if o in part]) == 1:
        joins = tree.args.get("joins") or []
        for j in joins:   # outer joins with the sharded table on the null side would be wrong
            side = (j.args.get("side") or "").upper()
            if side in ("RIGHT", "FULL") or j.args.get("kind", "").upper() in ("CROSS",) and False:
                return False
            tbl = j.this
            if isinstance(tbl, exp.Table) and tbl.name in part and side == "LEFT":
                return False
        return True
    joins = tree.args.get("joins") or []
    if any((j.args.get("side") or "") for j in joins):
        return False
    keys = {}
    for p in part:
        info = catalog[p]
        if len(info.key) != 1:
            return False
        keys[p] = info.key[0]
    alias = {}
    for t in tree.find_all(exp.Table):
        alias[t.alias_or_name] = _table_name(t)
    linked = set()
    for j in joins:
        on = j.args.get("on")
        if on is None:
            return False
        for c in conjuncts(on):
            if isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and \
                    isinstance(c.expression, exp.Column):
                a, b = alias.get(c.this.table), alias.get(c.expression.table)
                if a in keys and b in keys and c.this.name == keys[a] and \
                        c.expression.name == keys[b] and \
                        catalog[a].types[keys[a]] == catalog[b].types[keys[b]]:
                    linked.update((c.this.table, c.expression.table))
    sharded_aliases = {k for k, v in alias.items() if v in keys}
    return sharded_aliases <= linked


def _colocated(anchor: exp.Table, top: list, joins: list, part: list, catalog: dict) -> list:
    """The top-level tables inner-joined to ``anchor`` (directly or through each other)
    on equal single-column partition keys of one type: their rows meet on the same shard."""
    local = [anchor]
    tables = [t for t in top if isinstance(t, exp.Table) and _table_name(t) in part]
    by_alias = {t.alias_or_name: t for t in tables}

    def owner(col: exp.Column):
        if col.table:
            return by_alias.get(col.table)
        found = [t for t in tables if col.name in catalog[_table_name(t)].columns]
        return found[0] if len(found) == 1 else None

    def keyed(col: exp.Column):
        t = owner(col)
        if t is None:
            return None
        info = catalog[_table_name(t)]
        if len(info.key) == 1 and info.key[0] == col.name:
            return t, info.types[col.name]
        return None

    changed = True
    while changed:
        changed = False
        for j in joins:
            if (j.args.get("side") or "") or j.args.get("on") is None:
                continue
            for c in conjuncts(j.args["on"]):
                if not (isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and
                        isinstance(c.expression, exp.Column)):
                    continue
                a, b = keyed(c.this), keyed(c.expression)
                if a is None or b is None or a[1] != b[1]:
                    continue
                in_a = any(a[0] is t for t in local)
                in_b = any(b[0] is t for t in local)
                if in_a != in_b:
                    local.append(b[0] if in_a else a[0])
                    changed = True
    return local


def _join_star(tree: exp.Expression, catalog: dict) -> list | None:
    """What ``*`` stands for over the FROM of ``tree``: ``(alias, column)`` pairs of its
    cluster tables in order (None when that is not plain: USING / NATURAL merge columns,
    or a FROM item that is not a cluster table)."""
    from_ = tree.args.get("from_")
    if from_ is None:
        return None
    joins = tree.args.get("joins") or []
    if any(j.args.get("using") or j.args.get("method") for j in joins):
        return None
    out = []
    for t in [from_.this] + [j.this for j in joins]:
        name = _table_name(t) if isinstance(t, exp.Table) else None
        alias = t.args.get("alias") if isinstance(t, exp.Table) else None
        if name is None or name not in catalog or alias is not None and alias.columns:
            return None
        out.extend((t.alias_or_name, c) for c in catalog[name].columns)
    return out


def _reply_result(reply: tuple) -> Result:
    _, kind, columns, data, rowcount = reply
    if columns is None:
        return Result(columns=[], rowcount=rowcount, kind=kind)
    return Result(columns=[tuple(c) for c in columns], table=ipc_to_table(data),
                  rowcount=rowcount, kind=kind)


def _combine(replies: dict) -> Result:
    results = [_reply_result(replies[s]) for s in sorted(replies)]
    first = results[0]
    total = sum(max(r.rowcount, 0) for r in results)
    if first.table is None:
        return Result(columns=[], rowcount=total, kind=first.kind)
    table = pa.concat_tables([r.table for r in results])
    return Result(columns=first.columns, table=table, rowcount=total, kind=first.kind)


_PREFIX_WINDOWS = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Lag)


def _window_prefix(tree: exp.Select):
    """``(ORDER BY, n)`` when ``tree`` needs only the first ``n`` rows, by its windows'
    one ordering, of the rows its WHERE keeps: every window is ROW_NUMBER, RANK,
    DENSE_RANK or LAG over that ordering with no PARTITION BY (a row's value then
    depends on the rows before it only), and the statement returns its first rows
    in that order (ORDER BY that ordering, or a ranking output ascending) with
    LIMIT n - OFFSET m (n the sum). Each shard's first n rows hold the first n of all,
    so the split query of the columns read sends a top-n per shard. None otherwise."""
    if tree.args.get("distinct") is not None or tree.args.get("windows") or \
            tree.args.get("order") is None or tree.args.get("limit") is None:
        return None
    try:
        limit, offset = _limits(tree)
    except _Unsupported:
        return None
    if limit is None:
        return None
    windows = [n for n in tree.walk() if isinstance(n, exp.Window)]
    if not windows:
        return None
    order = windows[0].args.get("order")
    if order is None:
        return None
    key = order.sql(dialect="postgres")
    for w in windows:
        if not isinstance(w.this, _PREFIX_WINDOWS) or w.args.get("partition_by") or \
                w.args.get("spec") is not None or w.args.get("alias") is not None or \
                w.args.get("order") is None or w.args["order"].sql(dialect="postgres") != key:
            return None
        if isinstance(w.this, exp.Lag) and w.this.args.get("offset") is not None and not (
                isinstance(w.this.args["offset"], exp.Literal) and
                not w.this.args["offset"].is_string):
            return None
    items = tree.args["order"].expressions
    same = len(items) >= len(order.expressions) and all(
        a.sql(dialect="postgres") == b.sql(dialect="postgres")
        for a, b in zip(items, order.expressions))
    if not same:
        first = items[0]
        if first.args.get("desc") or first.args.get("nulls_first"):
            return None
        target = first.this
        outputs = tree.expressions
        picked = None
        if isinstance(target, exp.Literal) and not target.is_string and \
                target.this.isdigit() and 1 <= int(target.this) <= len(outputs):
            picked = outputs[int(target.this) - 1]
        elif isinstance(target, exp.Column) and not target.table:
            named = [e for e in outputs if isinstance(e, exp.Alias) and e.alias == target.name]
            picked = named[0] if len(named) == 1 else None
        picked = picked.this if isinstance(picked, exp.Alias) else picked
        if not (isinstance(picked, exp.Window) and
                isinstance(picked.this, (exp.RowNumber, exp.Rank, exp.DenseRank))):
            return None
    return order.copy(), limit + offset


def _spelled_in(node: exp.In) -> bool:
    """Is ``node`` the IN of ``CASE WHEN x IS NULL THEN … WHEN x IN (…) THEN TRUE …``,
    the spelling ``_long_in`` gives a long IN (its subquery is placed, not listed)?"""
    case = node.parent.parent if isinstance(node.parent, exp.If) else None
    if not isinstance(case, exp.Case) or node.arg_key != "this":
        return False
    ifs = case.args.get("ifs") or []
    return len(ifs) == 2 and ifs[1] is node.parent and isinstance(ifs[0].this, exp.Is) \
        and ifs[0].this.this == node.this and isinstance(ifs[0].this.expression, exp.Null)


def _windows_over_rows(tree: exp.Select) -> bool:
    """Whether ``tree`` computes window functions straight over its FROM rows: it has
    a window, no GROUP BY, HAVING, WITH, aggregate in its select list, nor a subquery,
    set operation, LATERAL or inner SELECT anywhere (the shapes whose read columns can
    be gathered and windowed on the coordinator)."""
    if tree.args.get("group") or tree.args.get("having") or with_of(tree) is not None:
        return False
    nodes = list(tree.walk())
    if not any(isinstance(n, exp.Window) for n in nodes):
        return False
    if any(isinstance(n, (exp.Subquery, exp.SetOperation, exp.Lateral)) or
           isinstance(n, exp.Select) and n is not tree for n in nodes):
        return False
    aggs: list = []
    for e in tree.expressions:
        aggregate_calls(e, aggs)
    return not aggs


def _describe_setop(plan: dict, sp) -> None:
    """EXPLAIN's account of a set operation's split: the exchanges its SELECTs go
    through and the SELECTs that run first as split queries of their own."""
    if sp.sides:
        plan["exchanges"] = [(f"SELECT {i + 1} of the set operation",
                              f"column {sp.position + 1}", side.scan)
                             for i, side in enumerate(sp.sides)]
    if sp.first:
        plan["first"] = [(sql, "shard 0" if p is None else
                          f"the shards by hash(column {p + 1})")
                         for _, sql, p in sp.first]
