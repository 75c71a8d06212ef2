"""Worker-to-worker exchange: how one shard hands an Arrow batch straight to another.

A repartition (a join off the partition key, ``shuffle.py``; a grouped merge by other
keys; a parallel load from files) leaves every shard with partitions meant for the
others. They travel shard to shard through the *peers* the backend gives each shard
when it starts it (``ShardHost.connect_peers``), never through the coordinator, which
only sends the plan and receives the final partials:

* ``LocalPeers`` (local backend): a direct call on the target host in this process.
* ``DaskPeers``: the actor handles of all shards. A send is a call of the target
  actor's ``deliver_async``, a coroutine method: Dask runs it on the target worker's
  event loop, not in the worker's one actor thread, which may be busy sending itself
  (two shards sending to each other at once would otherwise wait for each other
  forever). A target on the same worker is called directly.
* ``RayPeers``: the sending actor puts the batch in Ray's object store (``ray.put``)
  and returns only the reference (a few dozen bytes); the coordinator hands the
  references to the target actor, which reads the objects from the store (``ray.get``:
  store to store between nodes, shared memory on one).

``send`` returns a *token* the coordinator must hand to the target (None when the batch
was delivered already); ``fetch`` turns a token back into the IPC bytes on the target.
``wait`` returns once every batch sent so far has arrived (or raises ``08006``).
"""
from __future__ import annotations

from .. import errors


def _unreachable(shard: int | None, why: str) -> errors.Error:
    who = f"cluster shard {shard}" if shard is not None else \
        "the cluster shard that sent part of an exchange"
    return errors.sql_error("08006", f"{who} is unreachable: {why}",
                            hint="A worker died during an exchange between shards.")


class LocalPeers:
    """Shards hosted in this process: deliver by calling the target host."""

    def __init__(self, backend) -> None:
        self.backend = backend    # read at send time: a restarted host replaces the old

    def send(self, target: int, sid: str, xid: str, data: bytes):
        if target in self.backend.dead:
            raise _unreachable(target, "worker is dead")
        self.backend.hosts[target].deliver(sid, xid, data)
        return None

    def wait(self) -> None:
        pass

    def fetch(self, token) -> bytes:
        return token


class DaskPeers:
    """Dask actors: deliver with an actor call that runs on the target's event loop."""

    def __init__(self, actors: list, timeout: float) -> None:
        self.actors = actors
        self.timeout = timeout
        self.pending: list = []

    def send(self, target: int, sid: str, xid: str, data: bytes):
        from distributed import get_worker
        handle = self.actors[target]
        try:
            worker = get_worker()
        except ValueError:
            worker = None
        if worker is not None and handle._address == worker.address and \
                handle.key in worker.state.actors:
            worker.state.actors[handle.key].deliver(sid, xid, data)
            return None
        try:
            self.pending.append((target, handle.deliver_async(sid, xid, data)))
        except Exception as exc:   # noqa: BLE001 - a lost worker, a closed comm
            raise _unreachable(target, f"{type(exc).__name__}: {exc}") from exc
        return None

    def wait(self) -> None:
        pending, self.pending = self.pending, []
        for target, future in pending:
            try:
                future.result(timeout=self.timeout)
            except Exception as exc:   # noqa: BLE001
                raise _unreachable(target, f"{type(exc).__name__}: {exc}") from exc

    def fetch(self, token) -> bytes:
        return token


class RayPeers:
    """Ray actors: the batch goes into the object store; its reference is the token."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def send(self, target: int, sid: str, xid: str, data: bytes):
        import ray
        return ray.put(data)

    def wait(self) -> None:
        pass

    def fetch(self, token) -> bytes:
        import ray
        if isinstance(token, (bytes, bytearray)):
            return token
        try:
            return ray.get(token, timeout=self.timeout)
        except Exception as exc:   # noqa: BLE001 - the sender's worker died with the object
            raise _unreachable(None, f"{type(exc).__name__}: {exc}") from exc
