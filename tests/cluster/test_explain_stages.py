"""EXPLAIN ANALYZE of a SELECT on the cluster gives each shard's work by stage (the
partial plan, the exchange shard to shard, a merge run on the shards) and the
coordinator's wall time per stage (``ShardHost.stage_seconds``, ``_run_split``)."""
from __future__ import annotations

import re

import pyarrow as pa

from rustmemodb import cluster

_STAGE = re.compile(r"(exchange|partial|merge|scan|statement) (\d+\.\d+) ms")


def _setup(shards=3):
    c = cluster.connect("local", shards=shards)
    c.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT)")
    c.load_arrow("a", pa.table({"id": list(range(4000)), "g": [i % 50 for i in range(4000)],
                                "v": [i * 0.5 for i in range(4000)]}))
    c.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, aid INTEGER)")
    c.load_arrow("b", pa.table({"id": list(range(1500)),
                                "aid": [i * 2 % 4000 for i in range(1500)]}))
    return c


def _analyzed(c, q):
    return [r[0] for r in c.execute("EXPLAIN ANALYZE " + q).fetchall()]


def _per_shard(lines, shards):
    out = {}
    for s in range(shards):
        line = next(ln for ln in lines if ln.strip().startswith(f"shard {s}:"))
        total = float(re.search(r"(\d+\.\d+) ms of work", line).group(1))
        out[s] = (total, {k: float(v) for k, v in _STAGE.findall(line.split("of work")[1])})
    return out


def test_a_split_reports_the_partial_stage_per_shard_and_the_merge():
    c = _setup()
    try:
        lines = _analyzed(c, "SELECT g, count(*), sum(v) FROM a GROUP BY g ORDER BY g")
        coordinator = next(ln for ln in lines if "coordinator, wall time" in ln)
        assert "partials" in coordinator and "merge" in coordinator
        assert "exchange" not in coordinator
        for total, stages in _per_shard(lines, 3).values():
            assert set(stages) == {"partial"}
            assert abs(sum(stages.values()) - total) < 0.01
    finally:
        c.close()


def test_a_repartitioned_join_reports_its_exchange_per_shard():
    c = _setup()
    try:
        lines = _analyzed(c, "SELECT count(*) FROM a JOIN b ON a.g = b.aid")
        coordinator = next(ln for ln in lines if "coordinator, wall time" in ln)
        assert coordinator.index("exchange") < coordinator.index("partials") < \
            coordinator.index("merge")
        for total, stages in _per_shard(lines, 3).values():
            assert {"exchange", "partial"} <= set(stages)
            assert abs(sum(stages.values()) - total) < 0.01
    finally:
        c.close()


def test_a_merge_repartitioned_by_group_keys_reports_the_merge_on_the_shards():
    c = _setup()
    c.cluster.shuffle_rows = 10   # (partials above 10 rows: merged on the shards)
    try:
        lines = _analyzed(c, "SELECT g, count(*) FROM a GROUP BY g ORDER BY g LIMIT 3")
        coordinator = next(ln for ln in lines if "coordinator, wall time" in ln)
        assert "repartition and merge on the shards" in coordinator
        for _, stages in _per_shard(lines, 3).values():
            assert {"partial", "exchange", "merge"} <= set(stages)
    finally:
        c.close()
