"""One shard: a rustmemodb Database per branch, driven by the coordinator.

A ``ShardHost`` lives wherever the backend puts it (in-process, a Dask actor, a Ray
actor). Its methods take and return plain data only (strings, tuples, Arrow IPC
bytes), so no engine object is ever pickled across a process boundary, and errors
come back as ``("error", sqlstate, message)`` tuples that the coordinator turns back
into PEP 249 exceptions (``wire.py``). Batches of a repartition go from shard to shard
through the peers the backend gives every host (``exchange.py``), not through the
coordinator.

Two-phase commit lives here too: ``prepare`` validates a session's transaction
against everything committed since its snapshot (``Database.refresh`` raises
``40001``) and then holds the shard's commit gate, so nothing else can commit on this
shard until the coordinator says ``commit`` or ``abort``. Every commit on the shard
goes through the gate, which is what makes a prepared transaction safe to commit.

A **durable** shard (``path`` given) keeps its main branch in a file-backed Database
(the engine's WAL and checkpoints, ``durability/``) and writes every prepared
transaction, as the log record its commit would append, to ``prepared/<gid>`` before
answering ``prepare``. A shard restarted after a crash recovers its data from the WAL,
finds the prepared records and holds its commit gate again until the coordinator
decides each one (``commit_prepared`` replays the record onto the recovered state,
which is exactly the state it was prepared on: nothing commits past a held gate;
``abort_prepared`` drops it). Forks stay in memory, as forks of a durable database do.
"""
from __future__ import annotations

import functools
import os
import threading
import time
from pathlib import Path

import pyarrow as pa

from .. import numeric_arrays, types
from ..exec.constraints import run_deferred
from .wire import error_tuple, ipc_to_table, table_to_ipc

GATE_TIMEOUT = 30.0
_READS = {"select", "values", "table", "explain", "show"}


def _staged(name: str):
    """Run a ``ShardHost`` method in stage ``name`` (unless a caller set one already):
    the time it spends is reported under that stage (``ShardHost.stage_seconds``)."""
    def wrap(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            outer = getattr(self._stage, "name", None)
            if outer is None:
                self._stage.name = name
            try:
                return method(self, *args, **kwargs)
            finally:
                self._stage.name = outer
        return run
    return wrap


# What a session's SETs left in its statement limits (statement_limits.py): a session
# that takes over from a prepared one keeps them.
_LIMIT_STATE = ("zone", "timeout_ms", "memory_cap", "ts_config", "date_style", "date_order")


# who the session is (auth/check.py's effective_role reads these)
_IDENTITY = ("role", "auth_user", "user_name", "login_identity")


def _successor(conn):
    """A new connection that goes on as ``conn``'s session (``prepare`` holds ``conn``
    until COMMIT PREPARED): the same settings, so a SET TIME ZONE or DateStyle before a
    DDL statement still applies to the session's next statements on this shard, and the
    same role (SET ROLE, SET SESSION AUTHORIZATION): the shard checks its privileges."""
    new = conn.database.connect()
    old, fresh = conn._session, new._session
    fresh.settings = dict(old.settings)
    for name in _IDENTITY:
        if name in vars(old):
            setattr(fresh, name, getattr(old, name))
    for name in _LIMIT_STATE:
        setattr(fresh.cancel_event, name, getattr(old.cancel_event, name))
    return new


class ShardHost:
    def __init__(self, index: int = 0, path: str | None = None) -> None:
        from ..database import Database
        self.index = index
        self.path = Path(path) if path is not None else None
        self.sessions: dict = {}          # sid -> Connection on the session's branch
        # sid -> the connection of its prepared transaction (holding the gate); the
        # session goes on with a fresh connection, so nothing else runs inside it.
        self.prepared: dict = {}
        self.gids: dict = {}              # sid -> global id of its prepared transaction
        self.recovered: dict = {}         # gid -> prepared record found on disk at start
        self._gate = threading.Lock()
        if self.path is None:
            self.branches: dict = {"main": Database()}
        else:
            self.branches = {"main": Database.open(self.path / "data")}
            (self.path / "prepared").mkdir(exist_ok=True)
            for f in sorted((self.path / "prepared").glob("*.rec")):
                self.recovered[f.stem] = f.read_bytes()
            if self.recovered:   # prepared before the crash: hold the gate, as then
                self._gate.acquire()
        self._fail_next_commit = False    # fault injection for the 2PC tests
        self.work_seconds = 0.0           # time spent executing statements (bench)
        # The same time by stage (EXPLAIN ANALYZE): "partial" (a split's partial plan),
        # "exchange" (rows or partials sent shard to shard), "merge" (a merge run on
        # the shards), "scan" (rows gathered), "statement" (anything else). A call's
        # stage is its entry point's: the statement a partial runs counts as "partial".
        self.stage_seconds: dict[str, float] = {}
        self._stage = threading.local()
        # Repartitioning (shuffles): (sid, exchange id) -> the batches of an exchange
        # this shard kept or was sent by the others (filled from the worker's event loop
        # on Dask, hence the lock); (sid, exchange id) -> a partial result held back;
        # sid -> (exchange id, IPC bytes) of the last partial that was sent back whole,
        # which a repartitioned merge may still need.
        self.inbox: dict = {}
        self._inbox_lock = threading.Lock()
        self.stash: dict = {}
        self.recent: dict = {}
        self.peers = None   # exchange.py: set by the backend through connect_peers
        # Statement tables (``held.py``): (sid, name) -> (Arrow rows, [(column, SQL
        # type)]), this shard's rows of a WITH query computed once for one statement,
        # registered on the session's connection under ``name`` until ``release``.
        self.held: dict = {}

    # ---- sessions ---------------------------------------------------------------------
    def open(self, sid: str, branch: str = "main"):
        self.sessions[sid] = self.branches[branch].connect()
        return ("ok",)

    def close(self, sid: str):
        for key in [k for k in self.held if k[0] == sid]:
            del self.held[key]
        conn = self.sessions.pop(sid, None)
        if conn is not None:
            conn.close()
        return ("ok",)

    def ping(self):
        return ("ok", self.index)

    def _worked(self, t0: float) -> None:
        """Account the time since ``t0`` to the work total and to the current stage."""
        spent = time.perf_counter() - t0
        self.work_seconds += spent
        stage = getattr(self._stage, "name", None) or "statement"
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + spent

    # ---- statements -------------------------------------------------------------------
    def execute(self, sid: str, sql: str, params=None, inputs: dict | None = None):
        """Run one statement; ``inputs`` maps names to Arrow IPC bytes registered for it."""
        conn = self.sessions[sid]
        t0 = time.perf_counter()
        try:
            for name, data in (inputs or {}).items():
                if isinstance(data, tuple):   # ("exchange", xid, tokens): batches sent here
                    data = self._received(sid, {name: (data[1], data[2])})[name]
                conn.register(name, data if not isinstance(data, bytes) else ipc_to_table(data))
            autocommit_write = not conn.in_transaction and \
                sql.lstrip().split(None, 1)[0].lower() not in _READS
            if autocommit_write:
                # An autocommit statement commits inside the engine: take the gate so it
                # cannot slip between another session's prepare and commit.
                if not self._gate.acquire(timeout=GATE_TIMEOUT):
                    return ("error", "55P03", "shard is busy with a prepared transaction")
            try:
                cur = conn.execute(sql, params)
            finally:
                if autocommit_write:
                    self._gate.release()
            return self._result(cur)
        except Exception as exc:   # noqa: BLE001 - every error goes back as data
            return error_tuple(exc)
        finally:
            for name in (inputs or {}):
                conn.unregister(name)
            self._worked(t0)

    @_staged("scan")
    def scan(self, sid: str, table: str, with_rowid: bool = False):
        """All rows of ``table`` as the session sees them (its transaction's own changes
        included), without a privilege check: the coordinator checked the statement.
        ``with_rowid``: a last column ``_rowid``, the shard's own id of each row (what
        ``apply_rows`` deletes by, in the same transaction)."""
        t0 = time.perf_counter()
        try:
            _root, data, columns = self._session_rows(sid, table, with_rowid)
            data = numeric_arrays.tag_keys(data, [t for _, t in columns])
            return ("ok", "SELECT", columns, table_to_ipc(data), data.num_rows)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)

    def _session_rows(self, sid: str, table: str, with_rowid: bool):
        """(the root the session reads, ``table``'s rows there as Arrow, its columns as
        (name, SQL type)): its open transaction's working root, else the committed one."""
        conn = self.sessions[sid]
        txn = conn._session.txn
        root = txn.working if txn is not None else conn.database.head
        held = self.held.get((sid, table))
        if held is not None and table not in root.tables:
            data = held[0]
            if with_rowid:
                data = data.append_column("_rowid", pa.array(range(data.num_rows),
                                                             pa.int64()))
            return root, data, list(held[1])
        version = root.tables[table]
        return (root, version.to_arrow(with_rowid=with_rowid),
                [(c.name, c.type) for c in version.schema.columns])

    @_staged("scan")
    def scan_where(self, sid: str, table: str, sql: str, inputs: dict | None = None):
        """The rows of ``table`` (as ``scan(with_rowid=True)``) that ``sql`` keeps: a
        SELECT * over ``__scan`` (those rows, ``_rowid`` last) filtered by a predicate
        (``gathered.py`` narrowing a gather; ``inputs``: Arrow IPC it reads, e.g. the
        keys of a semi-join). Error 0A000 when the table's columns do not read back
        with their own SQL types (the caller then scans the whole table)."""
        t0 = time.perf_counter()
        try:
            root, data, columns = self._session_rows(sid, table, True)
            # A throwaway database over this transaction's root (its functions, not its
            # session: an error here must not fail the shard's transaction).
            from ..database import Database
            probe = Database(root=root).connect()
            probe.register("__scan", data)
            for name, payload in (inputs or {}).items():
                probe.register(name, ipc_to_table(payload))
            cur = probe.execute(sql)
            got = cur._result.columns
            rows = cur._result.table
            if [tuple(c) for c in got] != columns + [("_rowid", "INTEGER")]:
                return ("error", "0A000", "narrowed scan: the columns read back differently")
            return ("ok", "SELECT", columns, table_to_ipc(rows), rows.num_rows)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)

    def executemany(self, sid: str, sql: str, seq):
        conn = self.sessions[sid]
        try:
            cur = conn.executemany(sql, seq)
            return ("ok", "", None, None, cur.rowcount)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)

    def load(self, sid: str, table: str, data: bytes):
        """Append rows (Arrow IPC, already in the table's column order) in the session's
        open transaction: the bulk path of INSERT ... SELECT and cluster loads."""
        conn = self.sessions[sid]
        t0 = time.perf_counter()
        try:
            txn = conn._session.txn
            if txn is None:
                return ("error", "25000", "cluster load needs an open shard transaction")
            rows = ipc_to_table(data) if isinstance(data, bytes) else data
            schema = txn.table(table).schema
            rows = numeric_arrays.cast_table(rows.rename_columns(schema.names), schema.arrow_schema)
            if rows.num_rows:
                txn.insert_arrow(table, rows)
            return ("ok", "", None, None, rows.num_rows)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)

    # ---- repartitioning (see shuffle.py; batches move through exchange.py) ------------
    def connect_peers(self, peers):
        """The transport to the other shards (``exchange.py``), given by the backend."""
        self.peers = peers
        return ("ok",)

    @_staged("exchange")
    def shuffle_out(self, sid: str, xid: str, sql: str | None, key: list | None,
                    shards: int, table: str | None = None, received: dict | None = None):
        """Run ``sql`` (or read all of ``table``, as ``scan``), hash-partition its rows
        on columns ``key`` over ``shards`` shards, keep this shard's partition and send
        the others to their shards directly (``key`` None: a copy of every row to every
        shard, a broadcast). Returns the result's SQL column types, ``{target: bytes}``
        sizes, the row count and ``{target: token}`` for the targets (``exchange.py``).
        ``received``: inputs ``sql`` reads, moved here by an earlier exchange."""
        if table is None:
            try:
                inputs = self._received(sid, received) if received else None
            except Exception as exc:   # noqa: BLE001
                return error_tuple(exc)
            reply = self.execute(sid, sql, None, inputs)
        else:
            reply = self.scan(sid, table)
        if reply[0] == "error":
            return reply
        columns, data = reply[2], ipc_to_table(reply[3])
        if key is not None and key and all(isinstance(k, int) for k in key):
            # By position (a set operation's SELECTs name their columns differently):
            # the columns become c0, c1, ... for whoever reads the input.
            data = data.rename_columns([f"c{i}" for i in range(data.num_columns)])
            key = [f"c{k}" for k in key]
        try:
            sizes, tokens = self._scatter(sid, xid, data, key, shards)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        return ("ok", columns, sizes, data.num_rows, tokens)

    def _scatter(self, sid: str, xid: str, data, key: list, shards: int) -> tuple:
        from .partition import split_rows
        t0 = time.perf_counter()
        if key is None:
            parts = {t: data for t in range(shards)}
        else:
            positions = [data.schema.names.index(k) for k in key]
            parts = split_rows(data, positions, shards)
        self._keep(sid, xid, parts.pop(self.index, data.slice(0, 0)))
        sizes, tokens = {}, {}
        try:
            for t, p in sorted(parts.items()):
                payload = table_to_ipc(p)
                sizes[t] = len(payload)
                token = self.peers.send(t, sid, xid, payload)
                if token is not None:
                    tokens[t] = token
            self.peers.wait()
        finally:
            self._worked(t0)
        return sizes, tokens

    def _keep(self, sid: str, xid: str, batch) -> None:
        with self._inbox_lock:
            self.inbox.setdefault((sid, xid), []).append(batch)

    def deliver(self, sid: str, xid: str, data: bytes):
        """Accept a partition of an exchange sent by another shard (IPC bytes, decoded
        when the exchange is read)."""
        self._keep(sid, xid, data)
        return ("ok",)

    def _take_inbox(self, sid: str, xid: str, tokens: list) -> list:
        """This shard's batches of exchange ``xid``: what it kept, what was delivered to
        it and what ``tokens`` (handed on by the coordinator) stand for, as Arrow."""
        with self._inbox_lock:
            held = self.inbox.pop((sid, xid), [])
        held += [self.peers.fetch(t) for t in tokens]
        return [ipc_to_table(b) if isinstance(b, (bytes, bytearray)) else b for b in held]

    @_staged("partial")
    def partial(self, sid: str, xid: str, sql: str, max_rows: int | None,
                inputs: dict | None = None, received: dict | None = None):
        """Run a split's partial (reading broadcast ``inputs`` and repartitioned
        ``received`` inputs, see ``_received``): its rows come back when there are at most
        ``max_rows`` of them (or ``max_rows`` is None), else they are held here for
        ``repartition``."""
        try:
            inputs = dict(inputs or {}, **self._received(sid, received or {}))
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        reply = self.execute(sid, sql, None, inputs)
        if reply[0] == "error" or max_rows is None:
            return reply
        if reply[4] <= max_rows:
            self.recent[sid] = (xid, reply[3])
            return reply
        self.stash[(sid, xid)] = reply[3]
        return ("ok", reply[1], reply[2], None, reply[4])

    def _received(self, sid: str, received: dict) -> dict:
        """``{input name: (exchange id, [tokens])}`` as Arrow tables: each exchange's
        batches this shard kept, was sent, or holds tokens for."""
        import pyarrow as pa
        out = {}
        for name, (xid, tokens) in received.items():
            tables = self._take_inbox(sid, xid, tokens)
            tables = [t for t in tables if t.num_rows] or tables[:1]
            out[name] = numeric_arrays.concat_tables(tables, promote_options="permissive") \
                if len(tables) > 1 else tables[0]
        return out

    @_staged("exchange")
    def repartition(self, sid: str, xid: str, key: list, shards: int):
        """Hash-partition this shard's partial of exchange ``xid`` (held back, or the
        last one sent back whole) on ``key``: keep ours, send the others to their
        shards (returns their sizes and tokens)."""
        try:
            data = self.stash.pop((sid, xid), None)
            if data is None:
                last = self.recent.pop(sid, None)
                if last is None or last[0] != xid:
                    return ("error", "XX000", f"no partial of exchange {xid} on shard "
                                              f"{self.index}")
                data = last[1]
            data = ipc_to_table(data)
            if key and all(isinstance(k, int) for k in key):   # by position: c0, c1, ...
                data = data.rename_columns([f"c{i}" for i in range(data.num_columns)])
                key = [f"c{k}" for k in key]
            return ("ok", *self._scatter(sid, xid, data, key, shards))
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)

    @_staged("merge")
    def merge_exchange(self, sid: str, xid: str, columns: list, tokens: list, sql: str):
        """Run ``sql`` over ``__partials``: this shard's partition of a repartitioned
        partial (kept, sent by the others, or behind ``tokens``)."""
        from .merge import run_merge
        t0 = time.perf_counter()
        try:
            tables = self._take_inbox(sid, xid, tokens)
            out_columns, data = run_merge(columns, tables, sql)
            return ("ok", "SELECT", list(out_columns), table_to_ipc(data), data.num_rows)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)

    def load_out(self, sid: str, xid: str, table: str, statements: list, key: list,
                 shards: int):
        """Run ``statements`` (COPY/INSERT reading this shard's files) into ``table``
        emptied in a throwaway fork of the session's view, so the engine applies every
        cast, default and check; then hash-partition the rows made on ``key``: keep
        ours, send the others to their shards (returns their sizes, the row count and
        tokens, see ``shuffle_out``)."""
        from ..database import Database
        conn = self.sessions[sid]
        t0 = time.perf_counter()
        try:
            txn = conn._session.txn
            root = txn.working if txn is not None else conn.database.head
            scratch = Database(root=root).connect()
            scratch.execute(f'TRUNCATE "{table}"')
            for sql in statements:
                scratch.execute(sql)
            data = scratch.execute(f'SELECT * FROM "{table}"').arrow()
            scratch.close()
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)
        try:
            sizes, tokens = self._scatter(sid, xid, data, key, shards)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        return ("ok", None, sizes, data.num_rows, tokens)

    def move_out(self, sid: str, xid: str, sql: str, table: str, key: list, shards: int):
        """Run ``sql`` (an UPDATE of ``table``'s partition key, RETURNING *) in the
        session's open transaction; the updated rows whose new key hashes to another
        shard are deleted here and sent to that shard (``load_exchange`` loads them).
        Returns the rows updated, ``{target: bytes}`` sizes and tokens."""
        from .partition import shard_ids
        reply = self.execute(sid, sql)
        if reply[0] == "error":
            return reply
        t0 = time.perf_counter()
        try:
            rows = ipc_to_table(reply[3])
            ids = shard_ids(rows, [rows.schema.names.index(k) for k in key], shards)
            import pyarrow as pa
            moving = rows.filter(pa.array(ids != self.index))
            if moving.num_rows:
                self._delete_keys(sid, table, moving.select(key))
            sizes, tokens = self._scatter(sid, xid, moving, key, shards)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)
        return ("ok", reply[4], sizes, tokens)

    def _delete_keys(self, sid: str, table: str, keys) -> None:
        """Delete the rows of ``table`` whose partition key is one of ``keys`` (a hash
        join on the key; a NULL key matches a NULL key, as placement hashes it)."""
        conn = self.sessions[sid]
        conds = []
        keys, typed = _network_keys_as_text(conn, table, keys)
        for k in keys.schema.names:
            eq = f'{typed.get(k, f"m.{_quoted(k)}")} = t."{k}"'
            if keys.column(k).null_count:
                eq = f'({eq} OR m."{k}" IS NULL AND t."{k}" IS NULL)'
            conds.append(eq)
        conn.register("__moving", keys)
        try:
            conn.execute(f'DELETE FROM "{table}" AS t USING __moving AS m WHERE '
                         + " AND ".join(conds))
        finally:
            conn.unregister("__moving")

    def apply_rows(self, sid: str, table: str, rowids: list, data: bytes | None,
                   refill: bool = False):
        """A row change computed elsewhere (``ClusterConnection._gathered_write``), in the
        session's open transaction: delete the rows ``rowids`` (ids ``scan`` gave in this
        transaction; ``refill``: every row, as REFRESH MATERIALIZED VIEW does), then
        append ``data`` (Arrow IPC, the table's columns in order; keys checked as on
        any load). A row changed concurrently since fails this transaction's prepare
        (40001), as for any DELETE."""
        conn = self.sessions[sid]
        t0 = time.perf_counter()
        try:
            txn = conn._session.txn
            if txn is None:
                return ("error", "25000", "cluster row change needs an open shard transaction")
            if refill:
                from ..storage.table import TableVersion
                version = txn.working.tables[table]
                txn.replace_table(table, TableVersion.empty(version.schema))
            elif rowids:
                import numpy as np
                txn.delete_rows(table, np.asarray(rowids, dtype=np.int64))
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)
        if data is None:
            return ("ok", "", None, None, len(rowids))
        return self.load(sid, table, data)

    def create_matview(self, sid: str, sql: str, data: bytes | None):
        """CREATE MATERIALIZED VIEW ``sql`` in the session's open transaction, its rows
        ``data`` (Arrow IPC: this shard's part of the cluster's result), its query not
        run over this shard's rows (``matview.create_here``)."""
        from .matview import create_here
        conn = self.sessions[sid]
        t0 = time.perf_counter()
        try:
            if conn._session.txn is None:
                return ("error", "25000", "cluster CREATE needs an open shard transaction")
            rows = ipc_to_table(data) if data is not None else None
            result = create_here(conn, sql, rows)
            return ("ok", result.kind, None, None, result.rowcount)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._worked(t0)

    def load_exchange(self, sid: str, xid: str, table: str, tokens: list):
        """Load this shard's rows of an exchange (kept, sent, or behind ``tokens``) into
        ``table`` in the session's open transaction."""
        try:
            tables = self._take_inbox(sid, xid, tokens)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        total = 0
        for t in tables:
            if t.num_rows:
                reply = self.load(sid, table, t)
                if reply[0] == "error":
                    return reply
                total += reply[4]
        return ("ok", "", None, None, total)

    def hold(self, sid: str, name: str, xid: str, tokens: list, columns: list):
        """Keep this shard's rows of exchange ``xid`` (kept, sent, or behind ``tokens``)
        as statement table ``name`` of session ``sid`` (``held.py``): registered on its
        connection, so every statement of the session reads it as a table, until
        ``release``. ``columns``: its ``[(name, SQL type)]``, the Arrow columns' names."""
        try:
            tables = [t for t in self._take_inbox(sid, xid, tokens) if t.num_columns]
            names = [n for n, _ in columns]
            schema = pa.schema([(n, types.arrow_type(t)) for n, t in columns])
            tables = [numeric_arrays.cast_table(
                t.select(list(range(len(names)))).rename_columns(names), schema)
                for t in tables]   # (a partial's trailing columns: not the query's)
            data = numeric_arrays.concat_tables(tables) if len(tables) > 1 else \
                tables[0] if tables else schema.empty_table()   # (a shard sent nothing)
            data = numeric_arrays.tag_keys(data, [t for _, t in columns])
            self.sessions[sid].register(name, data)
            self.held[(sid, name)] = (data, [tuple(c) for c in columns])
            return ("ok", data.num_rows)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)

    def release(self, sid: str, names: list):
        """Forget statement tables ``names`` of session ``sid`` (the statement ended)."""
        conn = self.sessions.get(sid)
        for name in names:
            self.held.pop((sid, name), None)
            if conn is not None:
                conn.unregister(name)
        return ("ok",)

    def drop_exchange(self, sid: str, xid: str):
        """Forget what a failed exchange left here."""
        with self._inbox_lock:
            for store in (self.inbox, self.stash):
                for k in [k for k in store if k[0] == sid and
                          (k[1] == xid or k[1].startswith(xid + "."))]:
                    del store[k]
        self.recent.pop(sid, None)
        return ("ok",)

    @staticmethod
    def _result(cur):
        r = cur._result
        if r is None:
            return ("ok", "", None, None, cur.rowcount)
        has_rows = r.table is not None or r.rows is not None
        return ("ok", r.kind, list(r.columns) if has_rows else None,
                table_to_ipc(r.arrow()) if has_rows else None, r.rowcount)

    # ---- transactions and two-phase commit ----------------------------------------------
    def begin(self, sid: str):
        try:
            self.sessions[sid].begin()
            return ("ok",)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)

    def prepare(self, sid: str, gid: str | None = None):
        conn = self.sessions[sid]
        txn = conn._session.txn
        if txn is not None and txn.failed:
            conn.rollback()
            return ("error", "25P02", "current transaction is aborted")
        if not self._gate.acquire(timeout=GATE_TIMEOUT):
            return ("error", "55P03", "shard is busy with another prepared transaction")
        try:
            if txn is not None and txn.deferred_checks:
                run_deferred(txn)            # DEFERRABLE foreign keys: 23503 refuses it
            if txn is not None and txn.ops:
                conn.database.refresh(txn)   # 40001 if it conflicts with a newer commit
                if gid is not None and self._durable(conn):
                    self._write_prepared(gid, conn.database, txn)
        except Exception as exc:   # noqa: BLE001
            self._gate.release()
            conn.rollback()
            return error_tuple(exc)
        if gid is not None:
            self.gids[sid] = gid
        self.prepared[sid] = conn
        self.sessions[sid] = _successor(conn)
        return ("ok",)

    def commit(self, sid: str):
        if self._fail_next_commit:
            self._fail_next_commit = False
            return ("error", "08006", f"shard {self.index} failed before committing")
        held = self.prepared.pop(sid, None)
        conn = held if held is not None else self.sessions[sid]
        try:
            if not held and not self._gate.acquire(timeout=GATE_TIMEOUT):
                return ("error", "55P03", "shard is busy with a prepared transaction")
            conn.commit()
            self._forget_prepared(self.gids.pop(sid, None))
            return ("ok",)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        finally:
            self._gate.release()

    def commit_prepared(self, gid: str):
        """Commit the prepared transaction ``gid`` (a live one, or one recovered from
        disk after a restart): the second phase, also when the coordinator recovers."""
        for sid, g in list(self.gids.items()):
            if g == gid and sid in self.prepared:
                return self.commit(sid)
        payload = self.recovered.get(gid)
        if payload is None:
            return ("error", "42704", f"no prepared transaction {gid} on shard {self.index}")
        try:
            from ..durability.records import apply_record
            db = self.branches["main"]
            db.restore(apply_record(db.head, payload))
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)
        self._settle_recovered(gid)
        return ("ok",)

    def abort_prepared(self, gid: str):
        """Roll back prepared transaction ``gid`` (the coordinator never decided commit)."""
        for sid, g in list(self.gids.items()):
            if g == gid and sid in self.prepared:
                return self.rollback(sid)
        if gid in self.recovered:
            self._settle_recovered(gid)
        return ("ok",)

    def _settle_recovered(self, gid: str) -> None:
        del self.recovered[gid]
        self._forget_prepared(gid)
        if not self.recovered:
            self._gate.release()

    def _durable(self, conn) -> bool:
        return self.path is not None and conn.database is self.branches["main"]

    def _write_prepared(self, gid: str, db, txn) -> None:
        """The record the commit would log, made durable before prepare answers."""
        from ..durability.records import encode_commit
        from ..durability.wal import fsync_dir
        current = txn.snapshot
        catalog = current.catalog_version
        if txn.working.catalog_version != current.catalog_version:
            catalog = max(catalog, txn.working.catalog_version) + 1
        after = txn.working.numbered(current.version + 1, catalog)
        payload = encode_commit(txn.ops, current, after)
        folder = self.path / "prepared"
        tmp = folder / f"{gid}.tmp"
        with open(tmp, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / f"{gid}.rec")
        fsync_dir(folder)

    def _forget_prepared(self, gid: str | None) -> None:
        if gid is not None and self.path is not None:
            try:
                (self.path / "prepared" / f"{gid}.rec").unlink()
            except FileNotFoundError:
                pass

    def rollback(self, sid: str):
        conn = self.sessions.get(sid)
        held = self.prepared.pop(sid, None)
        self._forget_prepared(self.gids.pop(sid, None))
        try:
            if conn is not None:
                conn.rollback()
            if held is not None:
                held.rollback()
        finally:
            if held is not None:
                self._gate.release()
        return ("ok",)

    def in_doubt(self):
        """Global ids of transactions prepared here and neither committed nor rolled
        back (live ones and ones recovered from disk)."""
        live = {self.gids[s] for s in self.prepared if s in self.gids}
        return ("ok", sorted(live | set(self.recovered)), sorted(self.recovered))

    def checkpoint(self):
        """Checkpoint the durable main branch (called under the write barrier)."""
        if self.path is None:
            return ("ok", None)
        try:
            manifest = self.branches["main"].checkpoint(force=True)
            return ("ok", {"version": manifest["version"], "lsn": manifest["lsn"]})
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)

    def crash(self):
        """Drop everything without flushing or checkpointing, as a killed process would
        (the in-process backend's stand-in for killing a worker)."""
        db = self.branches.get("main")
        if self.path is not None and hasattr(db, "_abandon"):
            db._abandon()
        self.branches, self.sessions, self.prepared = {}, {}, {}
        return ("ok",)

    def shutdown(self):
        """Close the durable main branch cleanly (checkpoint)."""
        for conn in list(self.sessions.values()):
            try:
                conn.close()
            except Exception:   # noqa: BLE001
                pass
        self.sessions = {}
        db = self.branches.get("main")
        if self.path is not None and db is not None and not db.closed:
            db.close()
        return ("ok",)

    def fail_next_commit(self):
        self._fail_next_commit = True
        return ("ok",)

    # ---- branches -----------------------------------------------------------------------
    def barrier(self, hold: bool):
        """Write barrier for a consistent cut: hold (or release) the commit gate."""
        if hold:
            if not self._gate.acquire(timeout=GATE_TIMEOUT):
                return ("error", "55P03", "shard is busy with a prepared transaction")
        else:
            self._gate.release()
        return ("ok",)

    def fork(self, source: str, name: str):
        """Fork branch ``source`` as ``name`` (called while the barrier is held)."""
        self.branches[name] = self.branches[source].fork()
        return ("ok",)

    def drop_branch(self, name: str):
        self.branches.pop(name, None)
        return ("ok",)

    def diff_parts(self, a: str, b: str, table: str):
        """This shard's row diff of ``table`` between branches ``a`` and ``b``, in parts
        (added, removed, changed before/after as IPC, key columns, changed columns),
        which the coordinator joins into one ``Diff`` (cluster/branches.py)."""
        from ..branch.diff import diff
        try:
            d = diff(self.branches[a], self.branches[b], table)
            return ("ok", [table_to_ipc(t) for t in (d.added, d.removed, d.changed_before,
                                                     d.changed_after)],
                    list(d.key_columns), list(d.changed_columns))
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)

    def merge(self, source: str, target: str, strategy: str, apply: bool):
        """Three-way merge of branch ``source`` into ``target`` on this shard (called
        while the coordinator holds the barrier); with ``apply`` False a dry run.
        Returns whether it (would have) applied, the conflicts as IPC and the counts."""
        from ..branch.merge import merge
        try:
            result = merge(self.branches[source], self.branches[target], strategy,
                           dry_run=not apply)
            return ("ok", result.applied, table_to_ipc(result.conflicts), result.counts)
        except Exception as exc:   # noqa: BLE001
            return error_tuple(exc)

    def row_counts(self, branch: str):
        db = self.branches[branch]
        return ("ok", {t: db.row_count(t) for t in db.tables()})

    def stats(self):
        return ("ok", {"work_seconds": self.work_seconds,
                       "stage_seconds": dict(self.stage_seconds),
                       "rows": {t: self.branches["main"].row_count(t)
                                for t in self.branches["main"].tables()}})


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _network_keys_as_text(conn, table: str, keys):
    """A registered Arrow table's binary column reads as bytea: key columns of a network
    address type (stored as binary keys, netaddr.py) are sent as their text and cast
    back in the join. Returns (keys, {column: SQL of the typed value})."""
    from .. import netaddr, types
    import pyarrow as pa
    names = keys.schema.names
    columns = conn.execute("SELECT " + ", ".join(_quoted(k) for k in names) +
                           f" FROM {_quoted(table)} LIMIT 0")._result.columns
    typed = {}
    for i, (k, (_, t)) in enumerate(zip(names, columns)):
        if t in types.NETWORK_TYPES:
            text = [None if v is None else netaddr.as_text(t, v)
                    for v in keys.column(i).to_pylist()]
            keys = keys.set_column(i, k, pa.array(text, pa.large_string()))
            typed[k] = f"CAST(m.{_quoted(k)} AS {t})"
    return keys, typed
