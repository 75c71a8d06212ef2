"""Shards in this process, called one after another: for tests and for one machine.

The hosts still talk in plain data (IPC bytes, tuples), exactly as over a network, so
the coordinator code path is the one Dask and Ray use.
"""
from __future__ import annotations

from ..shard import ShardHost
from . import connection_failure


class LocalBackend:
    name = "local"

    def __init__(self, shards: int, timeout: float) -> None:
        self.hosts = [ShardHost(i) for i in range(shards)]
        self.dead: set[int] = set()
        self.timeout = timeout
        self.bytes_shipped = 0

    @property
    def shards(self) -> int:
        return len(self.hosts)

    def call(self, shard: int, method: str, *args):
        if shard in self.dead:
            raise connection_failure(shard, "worker is dead")
        return getattr(self.hosts[shard], method)(*args)

    def call_all(self, shards, method: str, *args, per_shard_args=None):
        out = {}
        for s in shards:
            a = per_shard_args[s] if per_shard_args is not None else args
            out[s] = self.call(s, method, *a)
        return out

    def kill(self, shard: int) -> None:
        """Simulate the death of the worker hosting ``shard`` (tests)."""
        self.dead.add(shard)

    def revive(self, shard: int) -> None:
        self.dead.discard(shard)

    def close(self) -> None:
        self.hosts = []
