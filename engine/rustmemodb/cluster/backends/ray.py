"""Shards as Ray actors: one ``ShardHost`` per actor.

Exchanges between shards go through Ray's object store (``exchange.RayPeers``).
``ray.init`` is called only when Ray is not initialised yet (``address`` given: join that
cluster; else a small local one with as many CPUs as shards, capped at 2), and then
shut down again by ``close``. Every ``ray.get`` has a timeout; a dead actor
(``RayActorError``) or an expired wait is ``08006``.
"""
from __future__ import annotations

from ..exchange import RayPeers
from ..shard import ShardHost
from . import connection_failure, shard_path


class RayBackend:
    name = "ray"

    def __init__(self, shards: int, address: str | None, timeout: float, path=None) -> None:
        import ray
        self.ray = ray
        self.timeout = timeout
        self.path = path
        self._owns_runtime = not ray.is_initialized()
        if self._owns_runtime:
            if address is None:
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        self._remote = remote = ray.remote(num_cpus=0, max_restarts=0)(ShardHost)
        self.actors = [remote.remote(i, shard_path(path, i)) for i in range(shards)]
        for i, a in enumerate(self.actors):
            self._get(i, a.ping.remote())
            self._get(i, a.connect_peers.remote(RayPeers(timeout)))   # object-store exchange

    @property
    def shards(self) -> int:
        return len(self.actors)

    def _get(self, shard: int, ref):
        try:
            return self.ray.get(ref, timeout=self.timeout)
        except Exception as exc:   # noqa: BLE001 - RayActorError, GetTimeoutError, ...
            raise connection_failure(shard, f"{type(exc).__name__}: {exc}") from exc

    def call(self, shard: int, method: str, *args):
        return self._get(shard, getattr(self.actors[shard], method).remote(*args))

    def call_all(self, shards, method: str, *args, per_shard_args=None):
        refs = {s: getattr(self.actors[s], method).remote(
            *(per_shard_args[s] if per_shard_args is not None else args)) for s in shards}
        return {s: self._get(s, r) for s, r in refs.items()}

    def kill(self, shard: int) -> None:
        """Kill the actor hosting ``shard`` (tests of actor death); returns once a call
        to it fails. ``ray.kill`` only sends the request: a call made right after it
        could still be served by the dying actor."""
        import time
        actor = self.actors[shard]
        self.ray.kill(actor, no_restart=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                self.ray.get(actor.ping.remote(), timeout=1.0)
            except self.ray.exceptions.RayActorError:
                return
            except self.ray.exceptions.GetTimeoutError:
                continue
            time.sleep(0.05)

    def restart(self, shard: int) -> None:
        """A new actor for ``shard`` (a durable one recovers its files)."""
        self.actors[shard] = self._remote.remote(shard, shard_path(self.path, shard))
        self._get(shard, self.actors[shard].ping.remote())
        self._get(shard, self.actors[shard].connect_peers.remote(RayPeers(self.timeout)))

    def close(self) -> None:
        if self.path is not None:
            for s in range(len(self.actors)):
                try:
                    self.call(s, "shutdown")
                except Exception:   # noqa: BLE001
                    pass
        for a in self.actors:
            try:
                self.ray.kill(a, no_restart=True)
            except Exception:   # noqa: BLE001 - already gone
                pass
        self.actors = []
        if self._owns_runtime:
            self.ray.shutdown()
