"""Shards as Dask ``distributed`` actors: one ``ShardHost`` per actor, pinned to a worker.

By default a small ``LocalCluster`` (processes, one thread each) is started and owned by
the backend; with ``address`` the shards go to an existing scheduler. Shards send exchange
batches to each other directly, by actor calls (``exchange.DaskPeers``). Actor calls
return futures; every wait has a timeout, and a dead worker or an expired wait becomes
``08006`` instead of a hang.
"""
from __future__ import annotations

from ... import errors
from ..exchange import DaskPeers
from ..shard import ShardHost
from . import connection_failure, shard_path


def _no_local_cluster(exc: Exception):
    """08001 for a LocalCluster whose worker processes did not start. The usual cause is
    a script without a main guard: Dask starts workers by re-running the main module
    (multiprocessing's spawn), so unguarded top-level code runs again in each worker."""
    import sys
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    hint = ("Dask starts its worker processes by importing the main script again: put the "
            "code that connects under `if __name__ == \"__main__\":` in "
            f"{script}." if script else
            "Check that worker processes can start on this machine, or pass the address "
            "of a running Dask scheduler (address=...).")
    return errors.sql_error("08001", f"could not start a local Dask cluster: "
                                     f"{type(exc).__name__}: {exc}", hint=hint)


class DaskShardHost(ShardHost):
    """A shard as a Dask actor: ``deliver_async`` is a coroutine, so a batch another
    shard sends runs on this worker's event loop, not in its one actor thread, which
    may be sending batches itself (see ``exchange.py``)."""

    async def deliver_async(self, sid: str, xid: str, data: bytes):
        return self.deliver(sid, xid, data)


class DaskBackend:
    name = "dask"

    def __init__(self, shards: int, address: str | None, timeout: float, path=None) -> None:
        from distributed import Client, LocalCluster
        self.timeout = timeout
        self.path = path
        self._cluster = None
        if address is None:
            try:
                self._cluster = LocalCluster(n_workers=min(shards, 4), threads_per_worker=1,
                                             processes=True, dashboard_address=None,
                                             silence_logs=40)
            except Exception as exc:   # noqa: BLE001 - whatever stopped the workers
                raise _no_local_cluster(exc) from exc
            self.client = Client(self._cluster)
        else:
            self.client = Client(address)
        workers = sorted(self.client.scheduler_info()["workers"])
        futures = [self.client.submit(DaskShardHost, i, shard_path(path, i), actor=True,
                                      pure=False, workers=[workers[i % len(workers)]])
                   for i in range(shards)]
        self.actors = [f.result(timeout=timeout) for f in futures]
        self._connect_peers(range(shards))

    def _connect_peers(self, shards, restarted: int | None = None) -> None:
        """Give ``shards`` the handles of all shards, to exchange batches directly
        (after a restart, a shard still dead gets them when it is restarted)."""
        peers = DaskPeers(self.actors, self.timeout)
        for s in shards:
            try:
                self.call(s, "connect_peers", peers)
            except Exception:   # noqa: BLE001
                if restarted is None or s == restarted:
                    raise

    @property
    def shards(self) -> int:
        return len(self.actors)

    def _wait(self, shard: int, future):
        try:
            return future.result(timeout=self.timeout)
        except Exception as exc:   # noqa: BLE001 - timeouts, dead workers, lost actors
            raise connection_failure(shard, f"{type(exc).__name__}: {exc}") from exc

    def call(self, shard: int, method: str, *args):
        try:
            future = getattr(self.actors[shard], method)(*args)
        except Exception as exc:   # noqa: BLE001
            raise connection_failure(shard, f"{type(exc).__name__}: {exc}") from exc
        return self._wait(shard, future)

    def call_all(self, shards, method: str, *args, per_shard_args=None):
        pending = {}
        for s in shards:
            a = per_shard_args[s] if per_shard_args is not None else args
            try:
                pending[s] = getattr(self.actors[s], method)(*a)
            except Exception as exc:   # noqa: BLE001
                raise connection_failure(s, f"{type(exc).__name__}: {exc}") from exc
        return {s: self._wait(s, f) for s, f in pending.items()}

    def kill(self, shard: int) -> None:
        """Kill the worker process hosting ``shard`` (tests of worker death); returns
        once the scheduler has seen it go (the kill itself is asynchronous)."""
        import os
        import time
        address = self.worker_of(shard)
        self.client.submit(os._exit, 1, workers=[address], pure=False,
                           allow_other_workers=False)
        deadline = time.monotonic() + self.timeout
        while address in self.client.scheduler_info()["workers"] and \
                time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self, shard: int) -> None:
        """A new actor for ``shard`` on a live worker (a durable one recovers its files;
        the worker killed may still be coming back)."""
        import time
        deadline = time.monotonic() + self.timeout
        while True:
            workers = sorted(self.client.scheduler_info()["workers"])
            others = [w for i, a in enumerate(self.actors) if i != shard
                      for w in [a._address]]
            free = [w for w in workers if w not in others] or workers
            if free:
                break
            if time.monotonic() > deadline:
                raise connection_failure(shard, "no worker to restart it on")
            time.sleep(0.2)
        future = self.client.submit(DaskShardHost, shard, shard_path(self.path, shard),
                                    actor=True, pure=False, workers=[free[0]])
        try:
            self.actors[shard] = future.result(timeout=self.timeout)
        except Exception as exc:   # noqa: BLE001
            raise connection_failure(shard, f"{type(exc).__name__}: {exc}") from exc
        self._connect_peers(range(len(self.actors)), shard)   # every shard: the new handle

    def worker_of(self, shard: int) -> str:
        return self.actors[shard]._address

    def close(self) -> None:
        if self.path is not None:   # checkpoint durable shards before the workers go
            for s in range(len(self.actors)):
                try:
                    self.call(s, "shutdown")
                except Exception:   # noqa: BLE001 - a dead worker has nothing to close
                    pass
        try:
            self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()
