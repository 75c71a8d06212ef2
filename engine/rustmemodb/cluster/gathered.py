"""Writes computed on the coordinator and applied to the shards as row changes.

Some write statements cannot be cut into per-shard statements: MERGE, data-modifying
WITH queries, an UPDATE or an ON CONFLICT DO UPDATE that moves rows to other shards
(their partition key changes) while reading other tables or returning rows. For them
the coordinator

1. opens the statement's transaction on every shard (or uses the session's);
2. gathers, inside it, every row of the tables the statement reads or writes (and of
   the tables linked to them by FOREIGN KEYs) into a fork of the schema mirror, each
   row with the id its shard gave it (``ShardHost.scan(with_rowid=True)``);
3. runs the statement there: results, RETURNING, errors (23505, 21000, ...) are the
   single engine's own, over all the rows at once;
4. compares each table it changed before and after, by row id: rows gone or changed
   are deleted on the shard they came from (by that shard's row id), rows new or
   changed are appended on the shard of their partition key (every shard for a
   REPLICATED table) - a partition-key update becomes a delete on the old shard and an
   insert on the new one (``ShardHost.apply_rows``);
5. commits all the shards it changed through two-phase commit, or none. A row some
   other transaction changed since the gather fails the prepare with 40001.

The gather is bounded by the tables the statement names, not by its result: this is
the path for statements whose shape the per-shard plans do not cover, not for bulk
writes (which keep their per-shard paths).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from .. import errors
from ..result import Result
from . import twophase
from .partition import split_rows
from .wire import check, ipc_to_table, table_to_ipc

ROWID = "_rowid"


def gathered_write(conn, sql: str, tables: list, why: str) -> Result:
    """Run write statement ``sql`` (parameters already written in) for connection
    ``conn`` as described above; ``tables``: the cluster tables it names."""
    b = conn.cluster.backend
    shards = list(range(conn.shards))
    own = not conn.in_txn
    began: list = []
    try:
        if own:
            for s in shards:
                check(b.call(s, "begin", conn.sid))
                began.append(s)
        tables = with_linked(tables, conn._root(), conn.catalog)
        scratch, origins = _gather(conn, tables)
        before = scratch.database.head
        result = scratch.execute(sql)._result
        after = scratch.database.head
        changes = _changes(conn, before, after, origins)
        for s in sorted(changes):
            for table, rowids, data in changes[s]:
                payload = table_to_ipc(data) if data is not None else None
                if payload is not None:
                    conn.cluster.ship(len(payload))
                check(b.call(s, "apply_rows", conn.sid, table, rowids, payload))
    except BaseException:
        if own:
            twophase.rollback_all(b, conn.sid, began)
        raise
    written = sorted(changes)
    if own:
        for s in shards:
            if s not in written:
                check(b.call(s, "rollback", conn.sid))   # read only: nothing to keep
        if written:
            twophase.commit(conn.cluster, conn.sid, written)
    else:
        conn.written.update(written)
    conn._advance_sequences(scratch)
    conn.last_plan = {"strategy": "gathered write", "why": why, "tables": tables,
                      "shards": written}
    return result


def with_linked(tables: list, root, catalog: dict) -> list:
    """``tables`` and every cluster table tied to one of them by a FOREIGN KEY (either
    way, transitively): the engine's checks and cascades need their rows too."""
    out = list(tables)
    changed = True
    while changed:
        changed = False
        for name, version in root.tables.items():
            if name not in catalog:
                continue
            links = {fk.ref_table for fk in version.schema.foreign_keys}
            if name in out:
                new = [t for t in links if t in catalog and t not in out]
            elif links & set(out):
                new = [name]
            else:
                new = []
            if new:
                out += new
                changed = True
    return out


def _gather(conn, tables: list):
    """A fork of the schema with every row of ``tables`` as the session sees them, and
    per table ``(ids in the fork, shard of each, id on that shard)``."""
    from ..storage.table import TableVersion
    b = conn.cluster.backend
    scratch = conn._scratch()
    origins = {}
    for name in tables:
        info = conn.catalog[name]
        src = [0] if info.replicated else list(range(conn.shards))
        replies = b.call_all(src, "scan", conn.sid, name, True)
        for s in src:
            check(replies[s])
        conn.cluster.ship(*(len(r[3]) for r in replies.values() if r[3]))
        parts = [ipc_to_table(replies[s][3]) for s in src]
        data = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        shard_of = np.concatenate([np.full(p.num_rows, s, np.int64)
                                   for s, p in zip(src, parts)])
        shard_rowid = data.column(ROWID).to_numpy(zero_copy_only=False).astype(np.int64)
        data = data.drop_columns([ROWID])
        scratch.begin()
        try:
            txn = scratch._session.txn
            schema = txn.table(name).schema
            if txn.table(name).to_arrow().num_rows:   # (a mirror's own rows: none kept)
                txn.replace_table(name, TableVersion.empty(schema))
            ids = np.zeros(0, np.int64)
            if data.num_rows:
                ids = np.asarray(txn.insert_arrow(
                    name, data.rename_columns(schema.names).cast(schema.arrow_schema)),
                    dtype=np.int64)
            scratch.commit()
        except BaseException:
            scratch.rollback()
            raise
        origins[name] = (ids, shard_of, shard_rowid)
    return scratch, origins


def _changes(conn, before, after, origins: dict) -> dict:
    """``{shard: [(table, shard row ids to delete, Arrow rows to append or None)]}``."""
    out: dict = {}
    for name in sorted(after.tables):
        va, vb = before.tables.get(name), after.tables.get(name)
        if va is vb or name not in conn.catalog:
            continue
        if name not in origins or va is None or vb is None:
            raise errors.InternalError(f"cluster: table {name!r} changed but was not gathered")
        info = conn.catalog[name]
        old = va.to_arrow(with_rowid=True)
        new = vb.to_arrow(with_rowid=True)
        old_ids = old.column(ROWID).to_numpy(zero_copy_only=False)
        new_ids = new.column(ROWID).to_numpy(zero_copy_only=False)
        gone = ~np.isin(old_ids, new_ids)
        added = ~np.isin(new_ids, old_ids)
        kept_old = _by_rowid(old.filter(pa.array(~gone)))
        kept_new = _by_rowid(new.filter(pa.array(~added)))
        differs = _differs(kept_old, kept_new)
        removed = pa.concat_tables([old.filter(pa.array(gone)),
                                    kept_old.filter(pa.array(differs))])
        appended = pa.concat_tables([new.filter(pa.array(added)),
                                     kept_new.filter(pa.array(differs))]).drop_columns([ROWID])
        if not removed.num_rows and not appended.num_rows:
            continue
        ids, shard_of, shard_rowid = origins[name]
        rid = removed.column(ROWID).to_numpy(zero_copy_only=False).astype(np.int64)
        at = np.searchsorted(ids, rid)
        if len(rid) and (at.max() >= len(ids) or not np.array_equal(ids[at], rid)):
            raise errors.InternalError(f"cluster: a changed row of {name!r} has no origin")
        deletes: dict = {}
        if info.replicated:
            if len(rid):
                deletes[0] = shard_rowid[at].tolist()
                values = removed.drop_columns([ROWID])
                for s in range(1, conn.shards):
                    deletes[s] = _match_rows(conn, s, name, values)
            inserts = {s: appended for s in range(conn.shards)} if appended.num_rows else {}
        else:
            for s in np.unique(shard_of[at]) if len(rid) else []:
                deletes[int(s)] = shard_rowid[at][shard_of[at] == s].tolist()
            inserts = split_rows(appended, info.key_positions, conn.shards)
        for s in sorted(set(deletes) | set(inserts)):
            out.setdefault(s, []).append((name, deletes.get(s, []), inserts.get(s)))
    return out


def _by_rowid(t: pa.Table) -> pa.Table:
    return t.sort_by(ROWID) if t.num_rows > 1 else t


def _differs(a: pa.Table, b: pa.Table) -> np.ndarray:
    """Per row of two tables of the same row ids in the same order: do any values
    differ (NULL equals NULL; NaN equals NaN)?"""
    out = np.zeros(a.num_rows, bool)
    for name in a.schema.names:
        if name == ROWID:
            continue
        x, y = a.column(name), b.column(name)
        try:
            eq = pc.fill_null(pc.equal(x, y), False)
            both_null = pc.and_(pc.is_null(x), pc.is_null(y))
            same = pc.or_(eq, both_null)
            if pa.types.is_floating(x.type):
                same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(x), pc.is_nan(y)), False))
            out |= ~same.to_numpy(zero_copy_only=False)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, TypeError):
            xs, ys = x.to_pylist(), y.to_pylist()
            out |= np.array([_key(p) != _key(q) for p, q in zip(xs, ys)], bool)
    return out


def _key(v):
    """A hashable, comparable stand-in for a value (NaN equal to NaN)."""
    if isinstance(v, float) and math.isnan(v):
        return ("nan",)
    if isinstance(v, (dict, list)):
        return ("json", json.dumps(v, sort_keys=True, default=str))
    return v


def _match_rows(conn, shard: int, name: str, values: pa.Table) -> list:
    """Ids on ``shard`` of rows equal to ``values`` (one row each; a REPLICATED table's
    copies hold the same rows under ids of their own)."""
    reply = check(conn.cluster.backend.call(shard, "scan", conn.sid, name, True))
    conn.cluster.ship(len(reply[3]))
    rows = ipc_to_table(reply[3])
    ids = rows.column(ROWID).to_pylist()
    cols = [rows.column(c).to_pylist() for c in values.schema.names]
    pool: dict = {}
    for i, rowid in enumerate(ids):
        pool.setdefault(tuple(_key(c[i]) for c in cols), []).append(rowid)
    out = []
    want = [values.column(c).to_pylist() for c in values.schema.names]
    for i in range(values.num_rows):
        k = tuple(_key(c[i]) for c in want)
        if not pool.get(k):
            raise errors.InternalError(f"cluster: the copies of {name!r} differ on shard {shard}")
        out.append(pool[k].pop())
    return out
