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
"""
from __future__ import annotations

from .. import errors
from .wire import raise_error


def rollback_all(backend, sid: str, shards) -> None:
    for s in shards:
        try:
            backend.call(s, "rollback", sid)
        except errors.Error:
            pass   # an unreachable shard drops the session's transaction with it


def commit(cluster, sid: str, shards: list[int]) -> None:
    backend = cluster.backend
    shards = sorted(shards)
    for i, s in enumerate(shards):
        try:
            reply = backend.call(s, "prepare", sid)
        except errors.Error:
            rollback_all(backend, sid, shards)
            raise
        if reply[0] == "error":
            rollback_all(backend, sid, shards[:i] + shards[i + 1:])
            raise_error(reply)
    in_doubt = []
    for s in shards:
        try:
            reply = backend.call(s, "commit", sid)
            if reply[0] == "error":
                in_doubt.append(s)
        except errors.Error:
            in_doubt.append(s)
    if in_doubt:
        cluster.in_doubt.extend((sid, s) for s in in_doubt)
        done = [s for s in shards if s not in in_doubt]
        raise errors.sql_error(
            "08006", f"cluster commit is in doubt on shard(s) {in_doubt} "
                     f"(committed on {done})",
            hint="The transaction was prepared everywhere and the decision is commit; "
                 "call recover() on the connection once the shard answers again.")


def recover(cluster) -> list:
    """Commit the in-doubt prepared transactions; returns those still unreachable."""
    left = []
    for sid, s in cluster.in_doubt:
        try:
            reply = cluster.backend.call(s, "commit", sid)
            if reply[0] == "error":
                left.append((sid, s))
        except errors.Error:
            left.append((sid, s))
    cluster.in_doubt = left
    return left
