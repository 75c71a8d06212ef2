"""EXPLAIN for a cluster connection: the distributed plan, then the shard's own plan.

``EXPLAIN SELECT ...`` shows where the statement runs (coordinator, one routed shard,
split into partial + merge, with broadcast or repartitioned inputs (joins, set
operations, windows: the exchange step, shard to shard), over files spread on the
shards, or gathered) and the SQL of each part; for a split, the engine's
own EXPLAIN of the partial on shard 0; which planner made the split (the engine's
optimized plan cut in two, with the partial and merge plans, or the SQL-level split
of the statement text, with the reason). ``EXPLAIN ANALYZE`` runs the statement and adds
the bytes shipped (those through the coordinator, and those moved between shards by
repartitioning), the partial rows
and work time per shard, and the rows merged on each shard when the grouped merge was
repartitioned.
"""
from __future__ import annotations

import re
import time

import pyarrow as pa

from .. import types
from ..result import Result

_HEAD = re.compile(r"\s*explain\s*(\(([^)]*)\))?\s*(analyze\b)?\s*(verbose\b)?", re.I)


def explain(conn, sql: str, params) -> Result:
    m = _HEAD.match(sql)
    analyze = bool(m.group(3)) or "analyze" in (m.group(2) or "").lower()
    body = sql[m.end():]
    b = conn.cluster.backend
    from .connect import _gathered_statement, _parse
    tree = _parse(body)
    if _gathered_statement(tree) or _gathered_update(conn, tree):
        return _explain_gathered(conn, body, params, analyze)
    plan = conn._select(body, params, plan_only=True)
    lines = [f"Distributed plan: {plan['strategy']} "
             f"(backend {b.name}, {b.shards} shards)"]
    strategy = plan["strategy"]
    for sub in plan.get("subqueries_first", []):
        lines.append(f"  Subquery run first as its own query (its result written in as "
                     f"constants): {sub}")
    if strategy in ("split", "broadcast", "shuffle", "files"):
        lines += _planner(plan)
        lines += [f"  Merge on coordinator ({plan['kind']}): {plan['merge']}",
                  f"    Exchange: gather Arrow partials from {b.shards} shards "
                  "(the only rows that reach the coordinator)"]
        if plan.get("keys"):
            lines.append(f"      (partials over {conn.cluster.shuffle_rows} rows on a shard: "
                         "repartitioned by the group keys shard to shard, merged on the "
                         "shards)")
        lines.append(f"      Partial on each shard: {plan['partial']}")
        if plan.get("planner") == "plan":
            lines.append("      Partial plan (from the coordinator's optimized plan):")
            lines += ["        " + ln for ln in _tree(plan["partial_plan"])]
        if plan.get("windows"):
            lines.append(f"        Window partitions whole on each shard: {plan['windows']}")
        if plan["kind"] == "set operation" and not plan.get("exchanges"):
            why = "UNION ALL: every SELECT as it is" if plan.get("position") is None else \
                f"equal rows on one shard: every SELECT's rows placed by hash(column " \
                f"{plan['position'] + 1})" if plan.get("first") else \
                f"equal rows on one shard: column {plan['position'] + 1} is the partition key"
            lines.append(f"        Set operation on each shard ({why})")
        if strategy == "files":
            lines.append("        Files read on the shards: " + ", ".join(
                f"shard {s}: {n}" for s, n in sorted(plan["files"].items())))
        if strategy == "broadcast" and plan.get("anchor"):   # (the plan split's: below)
            lines.append(f"        Exchange: broadcast {', '.join(plan['broadcast'])} to every "
                         f"shard, shard to shard ({_transport(b)}; {plan['anchor']} stays "
                         "in place)")
        for table in plan.get("in_place", []):
            lines.append(f"        {table} stays in place (partitioned on the join key)")
        if plan.get("correlated") is not None:
            lines.append("        Subqueries on each shard: their rows and the outer "
                         "rows placed by the equal columns " +
                         (", ".join(plan["correlated"]) or "(none: copies)"))
        for table, key, scan in plan.get("exchanges", []):
            if key is None:
                lines.append(f"        Exchange: broadcast {table} to every shard, shard "
                             f"to shard ({_transport(b)}): {scan}")
                continue
            by = key if isinstance(key, str) else f"column {key + 1}"
            lines.append(f"        Exchange: repartition {table} by hash({by}) over "
                         f"{b.shards} shards, shard to shard ({_transport(b)}): {scan}")
        if plan.get("grouped"):
            lines.append(f"        Grouping first (split; only the groups reach the "
                         f"coordinator): {plan['grouped']}")
        if plan.get("gathered_columns"):
            table, cols = plan["gathered_columns"]
            if table == "the join":
                lines.append(f"        Windows over a join: the join runs first, only its "
                             f"columns {', '.join(cols)} are gathered")
            else:
                lines.append(f"        Windows share no PARTITION BY column: only {table}"
                             f"({', '.join(cols)}) of the rows the WHERE keeps is gathered")
            if plan.get("prefix") is not None:
                lines.append(f"        (the first {plan['prefix']} rows by the windows' "
                             "ORDER BY are all they read: each shard sends its top "
                             f"{plan['prefix']})")
        for sql in plan.get("derived_first", []):
            lines.append(f"        Derived table with its own LIMIT, run first as a split "
                         f"query: {sql}")
        if plan.get("windows_after"):
            what = "Statement" if plan.get("derived_first") else "Windows"
            lines.insert(1, f"  {what} on coordinator over the merged rows: "
                            f"{plan['windows_after']}")
        for sql, where in plan.get("first", []):
            lines.append(f"        Exchange: run first as its own split query (only its "
                         f"result reaches the coordinator), rows sent to {where}: {sql}")
        if strategy == "split":
            reply = conn._on_shards([0], "EXPLAIN " + plan["partial"], None)[0]
            lines.append("      Shard 0's own plan of the partial (its data, its indexes):")
            lines += ["        " + ln for ln in _lines(reply)]
    elif strategy == "routed":
        lines.append(f"  Routed to shard {plan['shard']} by the partition key")
        reply = conn._on_shards([plan["shard"]], "EXPLAIN " + plan["sql"], None)[plan["shard"]]
        lines += ["    " + ln for ln in _lines(reply)]
    elif strategy == "gather":
        lines += _planner(plan)
        lines += ["  Run on coordinator over a fork of the schema mirror",
                  f"    Exchange: gather all rows of {', '.join(plan['tables'])} "
                  f"from {b.shards} shards"]
    elif strategy == "replicated":
        lines.append("  Run on shard 0 (only REPLICATED tables are read)")
    else:
        lines.append("  Run on coordinator (no cluster table is read)")
    if analyze:
        before, coord0 = conn.cluster.bytes_shipped, conn.cluster.coordinator_bytes
        work0 = _work(conn)
        t0 = time.perf_counter()
        result = conn._select(body, params)
        elapsed = time.perf_counter() - t0
        work = [w1 - w0 for w0, w1 in zip(work0, _work(conn))]
        done = conn.last_plan or {}
        lines.append(f"Execution: {result.rowcount} rows in {elapsed * 1000:.3f} ms, "
                     f"{conn.cluster.bytes_shipped - before} bytes shipped, "
                     f"{conn.cluster.coordinator_bytes - coord0} through the coordinator")
        if done.get("shuffled_bytes") is not None:
            what = "inputs" if done.get("exchanges") else "partials"
            if done.get("repartitioned") and done.get("exchanges"):
                what = "inputs and partials"
            lines.append(f"  repartitioned ({what}): {done['shuffled_bytes']} bytes "
                         "shipped between shards")
        if done.get("merge_rows"):
            lines.append(f"  merged on the shards by {', '.join(done['repartitioned'])}: "
                         f"{done['merge_rows']} rows")
        rows = done.get("partial_rows") or [None] * b.shards
        for s, (n, w) in enumerate(zip(rows, work)):
            part = f"{n} partial rows, " if n is not None else ""
            lines.append(f"  shard {s}: {part}{w * 1000:.3f} ms of work")
    table = pa.table({"QUERY PLAN": pa.array(lines, pa.large_string())})
    return Result(columns=[("QUERY PLAN", types.TEXT)], table=table, rowcount=len(lines),
                  kind="EXPLAIN")


def _gathered_update(conn, tree) -> bool:
    """An UPDATE of a partition key that reads other tables or returns rows: run as a
    gathered write (``ClusterConnection._update_delete``)."""
    from sqlglot import exp
    from .connect import _table_name
    if not isinstance(tree, exp.Update) or not isinstance(tree.this, exp.Table):
        return False
    name = _table_name(tree.this)
    info = conn.catalog.get(name)
    return info is not None and conn._moves_rows(tree, info) and (
        tree.args.get("returning") is not None or conn._reads_others(tree, name))


def _explain_gathered(conn, body: str, params, analyze: bool) -> Result:
    """MERGE and data-modifying WITH: run over the gathered rows, applied as row
    changes (``gathered.py``); ANALYZE runs the statement (its writes too, as in
    PostgreSQL) and names the shards it changed."""
    from .connect import _inline, _parse, _referenced
    from .gathered import with_linked
    b = conn.cluster.backend
    tree = _parse(body)
    if params:
        tree = _inline(tree, params)
    refs, has_view = _referenced(tree, conn._root(), conn.catalog)
    tables = with_linked(list(conn.catalog) if has_view else refs, conn._root(),
                         conn.catalog)
    lines = [f"Distributed plan: gathered write (backend {b.name}, {b.shards} shards)",
             "  Run on coordinator over a fork of the schema mirror, inside the "
             "statement's transaction on every shard",
             f"    Exchange: gather the rows of {', '.join(tables) or '(no table)'} the "
             f"statement can touch from {b.shards} shards, with their shard row ids (a "
             "MERGE target's rows matching the source's keys, an UPDATE or DELETE "
             "target's rows its WHERE keeps, an UPDATE ... FROM target's rows matching "
             "the FROM source's join keys, none of an INSERT target's, the rows with "
             "the new keys of an ON CONFLICT target; all rows of other tables)",
             "  Row changes to the shards: deleted where each row was, inserted on the "
             "shard of its partition key; two-phase commit over the shards changed"]
    if analyze:
        before, t0 = conn.cluster.bytes_shipped, time.perf_counter()
        result = conn._gathered(body, params, "EXPLAIN ANALYZE")
        elapsed = time.perf_counter() - t0
        lines.append(f"Execution: {max(result.rowcount, 0)} rows in {elapsed * 1000:.3f} ms, "
                     f"{conn.cluster.bytes_shipped - before} bytes shipped, shards "
                     f"changed: {conn.last_plan['shards']}, narrowed: "
                     f"{conn.last_plan['narrowed'] or 'none'}")
    table = pa.table({"QUERY PLAN": pa.array(lines, pa.large_string())})
    return Result(columns=[("QUERY PLAN", types.TEXT)], table=table, rowcount=len(lines),
                  kind="EXPLAIN")


def _planner(plan: dict) -> list[str]:
    """Which split made the partial and the merge: the engine's optimized plan cut in
    two (with the merge plan), or the SQL-level split of the statement text."""
    if plan.get("planner") == "plan":
        return ["  Planner: the engine's bound and optimized plan, split at the shard "
                "boundary; merge plan:"] + ["    " + ln for ln in _tree(plan["merge_plan"])]
    why = plan.get("not_plan_split")
    what = "no split" if plan["strategy"] == "gather" else "SQL-level split of the " \
        "statement text"
    return [f"  Planner: {what}{f' (plan split: {why})' if why else ''}"]


def _tree(node) -> list[str]:
    from ..plan.explain import to_dict, to_text
    return to_text(to_dict(node))


def _transport(backend) -> str:
    """How batches go shard to shard on this backend (``exchange.py``)."""
    return {"local": "direct calls", "dask": "actor to actor",
            "ray": "object store"}.get(backend.name, backend.name)


def _work(conn) -> list[float]:
    b = conn.cluster.backend
    replies = b.call_all(range(b.shards), "stats")
    return [replies[s][1]["work_seconds"] for s in range(b.shards)]


def _lines(reply) -> list[str]:
    from .wire import ipc_to_table
    if reply[3] is None:
        return []
    t = ipc_to_table(reply[3])
    return [str(v) for v in t.column(0).to_pylist()] if t.num_columns else []
