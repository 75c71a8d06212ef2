"""Run the repo's sqllogictest files on a sharded cluster, with results compared exactly
as for the single engine (the same records, the same expected output).

``ClusterBackend`` is the executor's backend: each file gets a fresh cluster
(``rustmemodb.cluster.connect``); labelled connections are further cluster connections
(own sessions on every shard) to the same branch. ``CLUSTER_SKIP`` names the records a
cluster refuses (``0A000``): those statements are run and must fail with ``0A000``,
queries reading their effect are dropped.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqllogic.engine import RustMemDBBackend
from sqllogic.executor import FileReport, run_test_file
from sqllogic.parser import parse_file
from sqllogic.records import Query, Statement

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
SKIP_FILE = Path(__file__).resolve().parent / "CLUSTER_SKIP"


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


class RecordingBackend(ClusterBackend):
    """A cluster backend whose connections append each statement's plan record (the
    dict the coordinator finishes with) to ``seen``: tests read how it was planned."""

    def __init__(self, seen: list, backend: str = "local", shards: int = 3, **options) -> None:
        super().__init__(backend, shards, **options)
        self.seen = seen

    def connect(self) -> Any:
        conn = super().connect()
        finish = conn._finish

        def record(plan, result):
            self.seen.append(plan)
            return finish(plan, result)
        conn._finish = record   # this connection only
        return conn


def read_skips() -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for raw in SKIP_FILE.read_text(encoding="utf-8").splitlines():
        entry, _, reason = raw.partition("#")
        entry = entry.strip()
        if entry:
            path, _, line = entry.rpartition(":")
            out.setdefault(path, {})[int(line)] = reason.strip()
    return out


def run_on_cluster(path: Path, backend: ClusterBackend, skips: dict[int, str]) -> FileReport:
    rel = path.relative_to(SQL_DIR).as_posix()
    test_file = parse_file(path, f"tests/sql/{rel}")
    records = []
    if 0 in skips:     # "file.test:0": a feature the cluster refuses as a whole
        test_file.records = []
        return run_test_file(test_file, backend)
    for r in test_file.records:
        line = getattr(r, "line", None)
        if line in skips:
            if isinstance(r, Query):
                continue
            if isinstance(r, Statement):
                r = dataclasses.replace(r, expect_error=True, sqlstates=("0A000",), message=None)
        records.append(r)
    test_file.records = records
    return run_test_file(test_file, backend)
