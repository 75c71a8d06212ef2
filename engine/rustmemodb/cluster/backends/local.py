"""Shards in this process, called one after another: for tests and for one machine.

The hosts still talk in plain data (IPC bytes, tuples), exactly as over a network, so
the coordinator code path is the one Dask and Ray use.
"""
from __future__ import annotations

from ..exchange import LocalPeers
from ..shard import ShardHost
from . import connection_failure, shard_path


class LocalBackend:
    name = "local"

    def __init__(self, shards: int, timeout: float, path=None) -> None:
        self.path = path
        self.hosts = [ShardHost(i, shard_path(path, i)) for i in range(shards)]
        for host in self.hosts:   # exchanges call the target host directly
            host.connect_peers(LocalPeers(self))
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
        """Simulate the death of the worker hosting ``shard`` (tests): its state is
        gone, as with a killed process (a durable shard's files stay as a crash leaves
        them)."""
        self.dead.add(shard)
        self.hosts[shard].crash()

    def revive(self, shard: int) -> None:
        """The worker answers again, with whatever state it still has (a network
        partition healing, not a restart)."""
        self.dead.discard(shard)

    def restart(self, shard: int) -> None:
        """A new host for ``shard`` (a durable one recovers its files)."""
        self.hosts[shard] = ShardHost(shard, shard_path(self.path, shard))
        self.hosts[shard].connect_peers(LocalPeers(self))
        self.dead.discard(shard)

    def close(self) -> None:
        for s, host in enumerate(self.hosts):
            if s not in self.dead:
                host.shutdown()
        self.hosts = []
