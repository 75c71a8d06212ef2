"""The sqllogictest backend that runs the repo's conformance files on a sharded cluster.

Each file gets a fresh cluster (``rustmemodb.cluster.connect``); labelled connections
are further cluster connections (own sessions on every shard) to the same branch.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from sqllogic.engine import RustMemDBBackend  # noqa: E402


class ClusterBackend(RustMemDBBackend):
    name = "rustmemodb"   # the same records as the single engine: results must be identical

    def __init__(self, backend: str = "local", shards: int = 3, **options) -> None:
        super().__init__()
        self.kind, self.shards, self.options = backend, shards, options

    def connect(self) -> Any:
        from rustmemodb import cluster
        return cluster.connect(self.kind, shards=self.shards, **self.options)

    def connect_more(self, default: Any) -> Any:
        return default.connect_more()

    def close(self, connections: list[Any]) -> None:
        for conn in reversed(connections):   # the default one (owning the cluster) last
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def run_all(backend, files) -> dict:
    from sqllogic.executor import run_file
    out = {}
    for path in files:
        out[path] = run_file(path, backend)
    return out
