"""Atomic writes over several shards: two-phase commit run by the coordinator.

Phase one asks every participant, in shard order, to ``prepare``: the shard checks the
transaction against everything committed since its snapshot (``40001`` on a conflict)
and then holds its commit gate, so the prepared transaction cannot be overtaken. If any
shard refuses (or cannot be reached), every participant rolls back and the error is
raised: nothing was written. Phase two commits everywhere. A shard that fails during
phase two leaves the transaction *in doubt* there: it is recorded, ``08006`` is raised
naming the shards, and ``recover()`` commits the prepared transactions once the shard
answers again (the decision was commit, and prepared state is kept on the shard).

Preparing in shard order is what lets a fork's write barrier (which takes the gates in
the same order) never deadlock with a commit.

Every transaction has a global id (``gid``). With durable shards (``connect(path=)``)
each shard writes its prepared transaction to disk before answering, and the
coordinator writes its decision (``decisions/<gid>``, fsync'ed) before phase two and
deletes it once every shard committed: a shard restarted between prepare and commit
finds its prepared record and waits for ``recover()``, which commits the transactions
with a decision on disk and aborts prepared ones without (presumed abort: the
coordinator failed before deciding).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from .. import errors
from .wire import raise_error


def rollback_all(backend, sid: str, shards) -> None:
    for s in shards:
        try:
            backend.call(s, "rollback", sid)
        except errors.Error:
            pass   # an unreachable shard drops the session's transaction with it


def _decision(cluster, gid: str) -> Path | None:
    return None if cluster.path is None else Path(cluster.path) / "decisions" / gid


def _write_decision(cluster, gid: str, shards: list[int]) -> None:
    path = _decision(cluster, gid)
    if path is None:
        return
    from ..durability.wal import fsync_dir
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(map(str, shards)))
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(path.parent)


def _forget_decision(cluster, gid: str) -> None:
    path = _decision(cluster, gid)
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def commit(cluster, sid: str, shards: list[int], decide=None) -> None:
    """Two-phase commit of session ``sid`` on ``shards``. ``decide()``, if given, runs
    once every shard prepared and before the decision is recorded: if it raises, every
    participant rolls back and its error is raised (the coordinator's own part of the
    transaction, such as the schema mirror's commit, decides with the shards)."""
    backend = cluster.backend
    shards = sorted(shards)
    gid = uuid.uuid4().hex
    for i, s in enumerate(shards):
        try:
            reply = backend.call(s, "prepare", sid, gid)
        except errors.Error:
            rollback_all(backend, sid, shards)
            raise
        if reply[0] == "error":
            rollback_all(backend, sid, shards[:i] + shards[i + 1:])
            raise_error(reply)
    if decide is not None:
        try:
            decide()
        except BaseException:
            rollback_all(backend, sid, shards)
            raise
    try:
        _write_decision(cluster, gid, shards)
    except OSError as exc:   # no decision on disk: nothing may commit
        rollback_all(backend, sid, shards)
        raise errors.sql_error("58030", f"cannot record the commit decision: {exc}") from exc
    in_doubt = []
    for s in shards:
        try:
            reply = backend.call(s, "commit", sid)
            if reply[0] == "error":
                in_doubt.append(s)
        except errors.Error:
            in_doubt.append(s)
    if not in_doubt:
        _forget_decision(cluster, gid)
    if in_doubt:
        cluster.in_doubt.extend((gid, s) for s in in_doubt)
        done = [s for s in shards if s not in in_doubt]
        raise errors.sql_error(
            "08006", f"cluster commit is in doubt on shard(s) {in_doubt} "
                     f"(committed on {done})",
            hint="The transaction was prepared everywhere and the decision is commit; "
                 "call recover() on the connection once the shard answers again.")


def recover(cluster) -> list:
    """Finish the transactions left in doubt: commit those the coordinator decided to
    commit (in memory, or on disk for durable shards), abort prepared ones it never
    decided. Returns ``(gid, shard)`` pairs still unreachable."""
    backend = cluster.backend
    todo = {(gid, s) for gid, s in cluster.in_doubt}
    decided = {gid for gid, _ in todo}
    if cluster.path is not None:
        folder = Path(cluster.path) / "decisions"
        if folder.exists():
            decided |= {p.name for p in folder.iterdir() if not p.name.endswith(".tmp")}
    left = []
    for s in range(backend.shards):
        try:
            reply = backend.call(s, "in_doubt")
        except errors.Error:
            left.extend(sorted(p for p in todo if p[1] == s))
            continue
        # A live prepared transaction may be mid-commit on another connection: only
        # those decided are finished here; ones recovered from disk after a restart
        # have no other owner.
        for gid in reply[1]:
            if gid in decided or gid in reply[2]:
                todo.add((gid, s))
    for gid, s in sorted(todo):
        if any(p == (gid, s) for p in left):
            continue
        try:
            reply = backend.call(s, "commit_prepared" if gid in decided else
                                 "abort_prepared", gid)
            if reply[0] == "error" and reply[1] != "42704":
                left.append((gid, s))
        except errors.Error:
            left.append((gid, s))
    cluster.in_doubt = left
    for gid in decided - {g for g, _ in left}:
        _forget_decision(cluster, gid)
    return left
