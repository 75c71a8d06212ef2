"""EXPLAIN for a cluster connection: the distributed plan, then the shard's own plan.

``EXPLAIN SELECT ...`` shows where the statement runs (coordinator, one routed shard,
split into partial + merge, with broadcast or repartitioned inputs (joins, set
operations, windows: the exchange step, shard to shard), over files spread on the
shards, or gathered) and the SQL of each part; for a split, the engine's
own EXPLAIN of the partial on shard 0; which planner made the split (the engine's
optimized plan cut in two, with the partial and merge plans, or the SQL-level split
of the statement text, with the reason), and how its CTEs ran (written into the
statement, or run first and written in as VALUES). ``EXPLAIN ANALYZE`` runs the
statement and adds the bytes shipped (those through the coordinator, and those moved
between shards by repartitioning), the partial rows and work time per shard, split by
stage (exchange, partial, merge on the shards), the coordinator's wall time per stage,
and the rows merged on each shard when the grouped merge was repartitioned.
``EXPLAIN INSERT / UPDATE / DELETE`` shows how the write runs (its shards, rows per
shard, exchanges, source plan, commit); ANALYZE runs it and adds the rows each shard
wrote (``_explain_write``).
"""
from __future__ import annotations

from .. import infinity

import re
import time

import pyarrow as pa

from .. import types
from ..result import Result
from .trees import (_conflict_sets_key, _cte_to_source, _gathered_statement, _inline, _parse,
                    _pinned_shard, _referenced, _table_name)

_HEAD = re.compile(r"\s*explain\s*(\(([^)]*)\))?\s*(analyze\b)?\s*(verbose\b)?", re.I)


def explain(conn, sql: str, params) -> Result:
    m = _HEAD.match(sql)
    analyze = bool(m.group(3)) or "analyze" in (m.group(2) or "").lower()
    body = sql[m.end():]
    b = conn.cluster.backend
    from sqlglot import exp
    tree = _parse(body)
    if _gathered_statement(tree) or _gathered_update(conn, tree):
        return _explain_gathered(conn, body, params, analyze)
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        done = _explain_write(conn, body, params, analyze)
        if done is not None:
            return done
    plan = conn._select(body, params, plan_only=True)
    lines = [f"Distributed plan: {plan['strategy']} "
             f"(backend {b.name}, {b.shards} shards)"]
    strategy = plan["strategy"]
    if plan.get("ctes_inlined"):
        lines.append(f"  WITH: {', '.join(plan['ctes_inlined'])} written into the statement "
                     "(as the table it filters, or a derived table)")
    for sub in plan.get("ctes_first", []):
        lines.append(f"  WITH: CTE computed once, run first as its own query (its rows "
                     f"written in as VALUES): {sub}")
    for sub in plan.get("ctes_held", []):
        lines.append(f"  WITH: {sub}: computed once, its rows held on the shards as a "
                     "statement table (released at the statement's end)")
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
        work0, stages0 = _work_by_stage(conn)
        t0 = time.perf_counter()
        result = conn._select(body, params)
        elapsed = time.perf_counter() - t0
        work1, stages1 = _work_by_stage(conn)
        work = [w1 - w0 for w0, w1 in zip(work0, work1)]
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
        if done.get("timings"):
            lines.append("  coordinator, wall time per stage: " + ", ".join(
                f"{stage} {t * 1000:.3f} ms" for stage, t in done["timings"].items()))
        rows = done.get("partial_rows") or [None] * b.shards
        for s, (n, w) in enumerate(zip(rows, work)):
            part = f"{n} partial rows, " if n is not None else ""
            spent = _stage_delta(stages0[s], stages1[s])
            by_stage = ": " + ", ".join(f"{stage} {t * 1000:.3f} ms"
                                        for stage, t in spent) if spent else ""
            lines.append(f"  shard {s}: {part}{w * 1000:.3f} ms of work{by_stage}")
    table = pa.table({"QUERY PLAN": pa.array(lines, pa.large_string())})
    return Result(columns=[("QUERY PLAN", types.TEXT)], table=table, rowcount=len(lines),
                  kind="EXPLAIN")


def _explain_write(conn, body: str, params, analyze: bool) -> Result | None:
    """INSERT, UPDATE and DELETE run on the shards: where each goes (the one shard of a
    point write, every shard of a broadcast one with the engine's own plan of its part
    on one shard, INSERT's rows per shard, INSERT ... SELECT's source plan), the
    exchanges and the commit (2PC when more than one shard is written). ANALYZE runs
    the statement (inside the session's transaction, or committed in autocommit, as in
    PostgreSQL) and adds the time, the bytes shipped and the rows each shard changed.
    None: a gathered write (explained by ``_explain_gathered``)."""
    from sqlglot import exp
    tree = _parse(body)
    if params:
        tree = _inline(tree, params)
        body = tree.sql(dialect="postgres")
    if isinstance(tree, exp.Insert):
        lines = _insert_lines(conn, tree, body)
    else:
        lines = _update_delete_lines(conn, tree, body)
    if lines is None:
        return _explain_gathered(conn, body, None, analyze)
    if analyze:
        b = conn.cluster.backend
        before, coord0 = conn.cluster.bytes_shipped, conn.cluster.coordinator_bytes
        between0 = _between(conn)
        work0 = _work(conn)
        conn.write_rows = {}
        t0 = time.perf_counter()
        result = conn._insert(body, None) if isinstance(tree, exp.Insert) else \
            conn._update_delete(body, None)
        elapsed = time.perf_counter() - t0
        work = [w1 - w0 for w0, w1 in zip(work0, _work(conn))]
        lines.append(f"Execution: {max(result.rowcount, 0)} rows in {elapsed * 1000:.3f} ms, "
                     f"{conn.cluster.bytes_shipped - before} bytes shipped, "
                     f"{conn.cluster.coordinator_bytes - coord0} through the coordinator")
        moved = _between(conn) - between0
        if moved:
            lines.append(f"  {moved} bytes shipped between shards")
        done = conn.write_rows
        for s in range(b.shards):
            rows = f"{done[s]} rows written, " if s in done else ""
            lines.append(f"  shard {s}: {rows}{work[s] * 1000:.3f} ms of work")
        lines.append("  committed (autocommit)" if not conn.in_txn else
                     "  part of the open transaction (committed or rolled back with it)")
    table = pa.table({"QUERY PLAN": pa.array(lines, pa.large_string())})
    return Result(columns=[("QUERY PLAN", types.TEXT)], table=table, rowcount=len(lines),
                  kind="EXPLAIN")


def _between(conn) -> int:
    """Bytes shipped shard to shard so far."""
    return conn.cluster.bytes_shipped - conn.cluster.coordinator_bytes


def _commit_line(conn, shards) -> str:
    shards = sorted(shards)
    if conn.in_txn:
        return (f"  Commit: with the open transaction (shards {shards} join its two-phase "
                "commit at COMMIT)")
    if len(shards) > 1:
        return f"  Commit: two-phase commit over shards {shards}"
    return f"  Commit: on shard {shards[0]} alone (one shard written: no 2PC)"


def _exchange_lines(conn, sides) -> list[str]:
    b = conn.cluster.backend
    out = []
    for side in sides.values():
        if side.scan is not None:
            out.append(f"    Exchange: {side.table} (REPLICATED, read as the target) sent "
                       f"once from shard 0 to every shard ({_transport(b)})")
        else:
            out.append(f"    Exchange: broadcast {side.table} to every shard, shard to "
                       f"shard ({_transport(b)}), read there as input {side.input}")
    return out


def _shard_plan(conn, shard: int, sql: str, indent: str = "      ") -> list[str]:
    reply = conn._on_shards([shard], "EXPLAIN " + sql, None)[shard]
    return [f"{indent[:-2]}Shard {shard}'s own plan of its part (its data, its indexes):"] + \
        [indent + ln for ln in _lines(reply)]


def _update_delete_lines(conn, tree, body: str) -> list[str] | None:
    from sqlglot import exp
    from .. import errors
    b = conn.cluster.backend
    target = tree.this
    name = _table_name(target) if isinstance(target, exp.Table) else None
    info = conn.catalog.get(name) if name else None
    if info is None:
        conn._bind_checked(body)   # the engine's own error
        raise errors.undefined_table(str(name))
    conn._bind_checked(body)
    word = "UPDATE" if isinstance(tree, exp.Update) else "DELETE"
    moves = conn._moves_rows(tree, info)
    shards = list(range(b.shards))
    pinned = None if info.replicated else _pinned_shard(tree, info, b.shards)
    if pinned is not None and not moves:
        shards = [pinned]
    rewritten, sides = conn._broadcast_rewrite(tree, name)
    per_shard = rewritten.sql(dialect="postgres")
    if info.replicated:
        what = "replicated write"
        head = (f"  {word} on every shard ({name} is REPLICATED: every shard holds every "
                "row)")
    elif len(shards) == 1:
        what = "routed write"
        head = f"  Routed to shard {pinned} by the partition key"
    else:
        what = "broadcast write"
        head = (f"  {word} on all {b.shards} shards (the WHERE does not pin the partition "
                "key)")
    lines = [f"Distributed plan: {what} (backend {b.name}, {b.shards} shards)", head]
    lines += _exchange_lines(conn, sides)
    if moves:
        if sides:
            return None   # (refused by ``_update_delete_on``: let it say so on ANALYZE)
        lines.append(f"    Partition key set: each shard updates in place and sends the rows "
                     f"whose new key hashes elsewhere straight to their shard, shard to "
                     f"shard ({_transport(b)}), loaded there in the same transaction")
    for s in shards:
        lines.append(f"    Shard {s}: {per_shard}")
    lines += _shard_plan(conn, shards[0], body)
    lines.append(_commit_line(conn, shards))
    return lines


def _insert_lines(conn, tree, body: str) -> list[str] | None:
    from sqlglot import exp
    from .ctes import with_of
    from .. import errors
    b = conn.cluster.backend
    if with_of(tree) is not None:   # (the source's CTEs, as ``_insert`` reads them)
        source = tree.args.get("expression")
        if not isinstance(source, exp.Select) or with_of(source) is not None:
            return None   # WITH ... INSERT ... VALUES: a gathered write
        tree = _cte_to_source(tree)
        body = tree.sql(dialect="postgres")
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    name = _table_name(target)
    info = conn.catalog.get(name)
    if info is None:
        conn._bind_checked(body)
        raise errors.undefined_table(name)
    if _conflict_sets_key(tree, info):
        return None
    conn._bind_checked(body)
    source = tree.args.get("expression")
    conflict = tree.args.get("conflict")
    head = f"(backend {b.name}, {b.shards} shards)"
    all_shards = list(range(b.shards))
    if info.replicated:
        rewritten, sides = conn._broadcast_rewrite(tree, name)
        lines = [f"Distributed plan: replicated insert {head}",
                 f"  INSERT on every shard ({name} is REPLICATED: every shard holds every "
                 "row)"] + _exchange_lines(conn, sides)
        lines.append(f"    Shard 0..{b.shards - 1}: {rewritten.sql(dialect='postgres')}")
        return lines + _shard_plan(conn, 0, body) + [_commit_line(conn, all_shards)]
    serial = conn._draws_sequence(info)
    if isinstance(source, exp.Values) and not serial:
        groups, _ = conn._route_values(tree, body, info, source)
        lines = [f"Distributed plan: routed insert {head}",
                 f"  Rows routed by hash({', '.join(info.key or info.columns)}) over "
                 f"{b.shards} shards: " + ", ".join(
                     f"shard {s}: {len(ts)} rows" for s, ts in sorted(groups.items()))]
        for s, ts in sorted(groups.items()):
            part = tree.copy()
            part.args["expression"].set("expressions", [t.copy() for t in ts])
            lines.append(f"    Shard {s}: {part.sql(dialect='postgres')}")
        return lines + [_commit_line(conn, groups or [0])]
    from . import loads
    reads = loads.read_calls(source) if source is not None else []
    if len(reads) == 1 and reads[0][1] is not None and conflict is None and \
            tree.args.get("returning") is None and conn._spreadable(info):
        paths = conn._paths(reads[0][1])
        if len(paths) > 1:
            per = loads.spread(paths, b.shards)
            return [f"Distributed plan: files {head}",
                    "  Files read on the shards: " + ", ".join(
                        f"shard {s}: {len(ps)}" for s, ps in sorted(per.items())),
                    f"    Exchange: rows sent to the shards of their keys, shard to shard "
                    f"({_transport(b)})", _commit_line(conn, all_shards)]
    shape = None
    if conflict is None and tree.args.get("returning") is None and not serial:
        shape = conn._insert_select_shape(info, source)
    if shape is not None:
        lines = [f"Distributed plan: insert on shards {head}",
                 f"  INSERT ... SELECT on {'every shard' if shape[1] else 'shard 0'} over "
                 "its rows (the engine's casts, defaults, checks in a throwaway fork)",
                 f"    Exchange: new rows sent to the shards of hash("
                 f"{', '.join(info.key or info.columns)}), shard to shard "
                 f"({_transport(b)}); no row passes through the coordinator",
                 f"    Shard {'0..' + str(b.shards - 1) if shape[1] else '0'}: {body}"]
        lines += _source_lines(conn, source.sql(dialect="postgres"))
        return lines + [_commit_line(conn, all_shards)]
    where = ("each shard upserts its rows (ON CONFLICT) as input __rows" if conflict is
             not None else "rows loaded to the shards of their keys")
    lines = [f"Distributed plan: insert through the coordinator {head}",
             "  INSERT run on coordinator over a fork of the schema mirror"
             + (" (a sequence default draws the keys)" if serial else ""),
             f"    Exchange: new rows to the shards by hash("
             f"{', '.join(info.key or info.columns)}): {where}"]
    if isinstance(source, (exp.Select, exp.SetOperation)):
        lines += _source_lines(conn, source.sql(dialect="postgres"))
    return lines + [_commit_line(conn, all_shards)]


def _source_lines(conn, sql: str) -> list[str]:
    """The distributed plan of INSERT's SELECT (as EXPLAIN SELECT shows it)."""
    saved = conn.last_plan
    try:
        got = explain(conn, "EXPLAIN " + sql, None)
    finally:
        conn.last_plan = saved
    return ["  Source SELECT:"] + ["    " + str(v) for v in infinity.pylist(got.table.column(0))]


def _gathered_update(conn, tree) -> bool:
    """An UPDATE of a partition key that reads other tables or returns rows: run as a
    gathered write (``ClusterConnection._update_delete``)."""
    from sqlglot import exp
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
             "target's rows its WHERE keeps, an UPDATE ... FROM or DELETE ... USING "
             "target's rows matching the join keys of its sources, none of an INSERT target's, the rows with "
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
    return _work_by_stage(conn)[0]


def _work_by_stage(conn) -> tuple[list[float], list[dict]]:
    """Each shard's work seconds so far, in total and by stage (``ShardHost._worked``)."""
    b = conn.cluster.backend
    replies = b.call_all(range(b.shards), "stats")
    return ([replies[s][1]["work_seconds"] for s in range(b.shards)],
            [replies[s][1].get("stage_seconds", {}) for s in range(b.shards)])


# The order per-shard stage times are listed in (the order a split runs them).
STAGES = ("exchange", "partial", "merge", "scan", "statement")


def _stage_delta(before: dict, after: dict) -> list[tuple[str, float]]:
    """The stages a statement spent time in on one shard: ``[(stage, seconds)]``."""
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    return [(k, spent[k]) for k in sorted(spent, key=lambda k: (
        STAGES.index(k) if k in STAGES else len(STAGES), k)) if spent[k] > 0]


def _lines(reply) -> list[str]:
    from .wire import ipc_to_table
    if reply[3] is None:
        return []
    t = ipc_to_table(reply[3])
    return [str(v) for v in infinity.pylist(t.column(0))] if t.num_columns else []
