"""Branch diff and merge over a sharded database: every shard diffs or merges its part
(a merge on all shards or on none), the coordinator joins the parts.

A fork of a cluster is a fork of every shard at one consistent cut (``connect.fork``),
so each shard holds both branches' rows of its partitions (and the whole of each
replicated table), and the three-way merge of the single engine (``branch/merge.py``)
runs per shard unchanged. What the cluster adds is atomicity: with every shard's write
barrier held, each shard first merges as a dry run; only when no shard reports a
conflict the strategy leaves unresolved (or a schema / constraint conflict) do all of
them apply it. The coordinator's schema mirror is merged the same way (it holds the
tables, views and functions, no rows), and a table the source created joins the
target's placement catalog with the source's partitioning.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pyarrow as pa

from .. import errors, numeric_arrays
from ..branch.diff import Diff
from ..branch.merge import CONFLICT_SCHEMA, MergeResult, check_strategy, merge
from .wire import check, ipc_to_table
from .. import infinity


def merge_branch(target, source, strategy: str = "abort") -> MergeResult:
    """Merge ``source``'s branch into ``target``'s (two ClusterConnections of one
    cluster); the conflicts of every shard, and the row counts summed over shards."""
    check_strategy(strategy)
    c = target.cluster
    if getattr(source, "cluster", None) is not c:
        raise errors.sql_error("22023", "can only merge branches of the same cluster")
    if source.branch == target.branch:
        raise errors.sql_error("22023", "cannot merge a branch into itself")
    if target.in_txn or source.in_txn:
        raise errors.sql_error("25001", "cannot merge branches inside a transaction",
                               hint="COMMIT or ROLLBACK first.")
    b = c.backend
    with write_barrier(c):
        # a replicated table's rows are on every shard: counted once
        copies = {n for cat in (c.catalogs[source.branch], c.catalogs[target.branch])
                  for n, info in cat.items() if info.replicated}
        trial = _combine(b.call_all(range(b.shards), "merge", source.branch, target.branch,
                                    strategy, False), copies)
        if not trial.applied:
            return trial
        done = _combine(b.call_all(range(b.shards), "merge", source.branch, target.branch,
                                   strategy, True), copies)
        with c.lock:
            merge(c.mirrors[source.branch], c.mirrors[target.branch], strategy)
            _merge_catalog(c, source.branch, target.branch)
        target._plan_splits.clear()
        return done


@contextmanager
def write_barrier(c) -> Iterator[None]:
    """Every shard's commit gate held (taken in shard order, as twophase.py takes it), so
    no commit lands between the shards' steps: the consistent cut of a fork or a
    checkpoint, a merge's dry run and its application."""
    b = c.backend
    held = []
    try:
        for s in range(b.shards):
            check(b.call(s, "barrier", True))
            held.append(s)
        yield
    finally:
        for s in held:
            try:
                b.call(s, "barrier", False)
            except errors.Error:
                pass


def _combine(replies: dict, copies: set) -> MergeResult:
    """One result from the shards' results. A conflict every shard reports (a schema
    difference, a row of a replicated table) is listed once; ``copies``: the replicated
    tables, whose counts are the first shard's."""
    applied, conflicts, counts = True, {}, {}
    for i, shard in enumerate(sorted(replies)):
        reply = check(replies[shard])
        applied = applied and reply[1]
        for row in infinity.pylist(ipc_to_table(reply[2])):
            conflicts.setdefault(tuple(row.values()), row)
        for name, kinds in reply[3].items():
            if i and name in copies:
                continue
            into = counts.setdefault(name, {})
            for kind, n in kinds.items():
                into[kind] = into.get(kind, 0) + n
    table = pa.Table.from_pylist(list(conflicts.values()), schema=CONFLICT_SCHEMA)
    return MergeResult(applied, table, counts)


def _merge_catalog(c, source: str, target: str) -> None:
    """The target's placement catalog after the merge: its tables as the merged mirror
    lists them, a new one placed as the source placed it."""
    tables = set(c.mirrors[target].tables())
    mine, theirs = c.catalogs[target], c.catalogs[source]
    for name in list(mine):
        if name not in tables:
            del mine[name]
    for name in tables:
        if name not in mine and name in theirs:
            mine[name] = theirs[name].copy()


def diff_branch(a, b, table: str) -> Diff:
    """The rows of ``table`` that differ between the branches of ClusterConnections ``a``
    and ``b``: each shard's diff of its rows, joined (a replicated table's from one
    shard: every shard holds the same rows)."""
    c = a.cluster
    if getattr(b, "cluster", None) is not c:
        raise errors.sql_error("22023", "can only diff branches of the same cluster")
    info = c.catalogs[a.branch].get(table) or c.catalogs[b.branch].get(table)
    if info is None:
        raise errors.undefined_table(table)
    shards = [0] if info.replicated else list(range(c.backend.shards))
    replies = c.backend.call_all(shards, "diff_parts", a.branch, b.branch, table)
    parts = [check(replies[s]) for s in shards]
    tables = [numeric_arrays.concat_tables([ipc_to_table(p[1][i]) for p in parts], promote_options="default")
              for i in range(4)]
    return Diff(table, parts[0][2], *tables,
                changed_columns=[cols for p in parts for cols in p[3]])


def diff_all_branches(a, b) -> dict:
    """``diff_branch`` of every table either branch has, the ones that differ."""
    names = sorted(set(a.cluster.catalogs[a.branch]) | set(b.cluster.catalogs[b.branch]))
    out = {}
    for name in names:
        d = diff_branch(a, b, name)
        if not d.empty:
            out[name] = d
    return out


def row_counts(conn) -> dict:
    """``{table: rows}`` of a ClusterConnection's branch, summed over the shards (a
    replicated table counted once)."""
    c, b = conn.cluster, conn.cluster.backend
    catalog = c.catalogs[conn.branch]
    out: dict = {}
    for shard, reply in sorted(b.call_all(range(b.shards), "row_counts", conn.branch).items()):
        for name, n in check(reply)[1].items():
            info = catalog.get(name)
            if info is None or (info.replicated and shard):
                continue
            out[name] = out.get(name, 0) + n
    return dict(sorted(out.items()))
