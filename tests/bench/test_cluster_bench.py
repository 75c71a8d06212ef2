"""Smoke test of bench/cluster.py in --quick mode: every part runs end to end, every
answer equals the single engine's, and the repartitioning part really moves rows
between shards. No timing assertions."""
from __future__ import annotations

import json

from bench import cluster as bench_cluster


def test_cluster_bench_quick(tmp_path, capsys):
    out = tmp_path / "cluster.json"
    report = bench_cluster.main(["--quick", "--shards", "1,2", "--out", str(out)])
    text = capsys.readouterr().out
    assert "aggregation over" in text and "repartitioning over" in text
    assert all(r["same"] for r in report["aggregation"])
    parts = [r for r in report["repartition"] if r["shards"] == 2]
    assert parts and all(r["same"] for r in parts)
    assert all(r["shuffled_bytes"] > 0 for r in parts if r["query"] in bench_cluster.SHUFFLED)
    assert all(r["strategy"] != "gather" for r in parts)
    assert {r["strategy"] for r in parts} >= {"shuffle + merge on shards",
                                              "split + merge on shards"}
    assert all(r["same"] for r in report["analytics"] if r["shards"] != "single engine")
    assert json.loads(out.read_text())["rows"] == 20_000
