"""SAVEPOINT, ROLLBACK TO SAVEPOINT and RELEASE inside a cluster transaction.

A cluster transaction holds a session transaction on every shard from BEGIN on
(``ClusterConnection._begin``), plus one on the coordinator's schema mirror. A savepoint
is therefore set everywhere under the same name: the mirror first (it answers 25P01
outside a transaction block and 3B001 for an unknown name, exactly as the single engine
does, before any shard is touched), then every shard. The coordinator's own share of the
transaction, the private placement catalog of the DDL run in it, is kept per savepoint
so that ROLLBACK TO also undoes a CREATE, DROP or ALTER of a placement made after it.
SQLAlchemy's ``begin_nested()`` and psycopg's nested ``transaction()`` blocks send these
statements, so a cluster connection now takes them where it used to refuse (0A000).
"""
from __future__ import annotations

from ..result import Result
from ..sql.dispatch import dispatch


def run_savepoint(conn, sql: str) -> Result:
    """Run a SAVEPOINT / ROLLBACK TO / RELEASE statement on ``conn`` (a
    ClusterConnection): mirror, then shards, then the coordinator's savepoint stack."""
    util = dispatch(sql)          # 42601 for a malformed name, before anything runs
    kind, name = util.kind, util.arg
    conn.mirror.execute(sql)
    conn._on_shards(range(conn.shards), sql, None)
    stack = conn._savepoints
    if kind == "savepoint":
        stack.append((name, _catalog_state(conn)))
        return Result(columns=[], kind="SAVEPOINT")
    # (None: the mirror knew the name but a shard failed to set it, so the coordinator
    # kept no state for it: the mirror's and the shards' own savepoints still apply)
    i = max((j for j, (n, _) in enumerate(stack) if n == name), default=None)
    if kind == "release":
        if i is not None:
            del stack[i:]
        return Result(columns=[], kind="RELEASE")
    if i is not None:
        _restore_catalog_state(conn, stack[i][1])
        del stack[i + 1:]
    conn.failed = False
    return Result(columns=[], kind="ROLLBACK")


def _catalog_state(conn) -> tuple:
    """A copy of the transaction's private placement catalog (None: no DDL yet)."""
    overlay = conn._txn_catalog
    return (None if overlay is None else {k: v.copy() for k, v in overlay.items()},
            dict(conn._txn_dropped), set(conn._txn_replicated))


def _restore_catalog_state(conn, state: tuple) -> None:
    overlay, dropped, replicated = state
    conn._txn_catalog = None if overlay is None else {k: v.copy() for k, v in overlay.items()}
    conn._txn_dropped, conn._txn_replicated = dict(dropped), set(replicated)
