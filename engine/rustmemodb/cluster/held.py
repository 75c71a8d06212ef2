"""Statement tables: a WITH query computed once, its rows held on the shards for one
statement.

Why: a CTE that must be computed once (volatile, a LIMIT read twice, MATERIALIZED of
such a body) and has more than ``ctes.CTE_ROWS`` rows could neither be written into
the statement (two computations could differ) nor travel inside its text as VALUES, so
the statement gathered every table it read onto the coordinator. Here each such CTE
becomes a *statement table*: its rows are computed once, placed on the shards by the
hash of their whole row (a volatile CTE that reads one sharded table row by row and
keeps its partition key stays placed by that key: no row moves), and registered on
each shard's session under a name of its own (``ShardHost.hold``); the coordinator's
schema mirror registers an empty table of the same columns and the placement catalog
an entry (``ClusterConnection._held``), so the statement, its references renamed,
plans as over any sharded table: joined off its key it is repartitioned shard to
shard, grouped it splits, and a later CTE reading it is held the same way. Everything
is released when the statement ends, whatever happens (nothing is written: no shard
transaction, no WAL record, no schema change; a read-only transaction stays read-only).

A CTE whose rows come from a row-by-row body (``_on_shards_body``: filters and
projections over one sharded table, or sharded tables joined on their partition keys,
with REPLICATED ones) is computed by every shard over its own rows and sent shard to
shard: nothing passes through the coordinator. Any other body runs first as a query of
its own, split like any query: when its split's merge only passes the partials' rows
on (a join repartitioned or broadcast, a window over placed partitions), the partials
stay on their shards and are placed from there (``SelectPlanning._keeps``); otherwise
(LIMIT, aggregates, DISTINCT) its rows come to the coordinator and are sent to the
shards from there, so they pass it twice; what no longer does is every table the
statement reads. Recursive CTEs and those another WITH inside the
statement shadows keep the old way.
"""
from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from .. import errors, types
from .ctes import _nested_names, _refs, _WRITES, set_with, with_of
from .partition import TableInfo, split_rows
from .trees import _local_from, _table_name, _table_occurrences, _tokens_by_target
from .wire import check, table_to_ipc

HELD_PREFIX = "__held_"
_ROW_BY_ROW_OFF = ("group", "having", "qualify", "distinct", "order", "limit", "offset",
                   "laterals", "windows", "joins")


def holdable(columns: list | None) -> bool:
    """Can rows of ``columns`` (``[(name, SQL type)]``) be a statement table: does each
    type read back as itself from a registered Arrow table (the mirror binds the
    statement table from its Arrow schema; a UUID or JSON column would read as TEXT)?"""
    if columns is None:
        return False
    for _, sql_type in columns:
        try:
            if types.sql_type_of_arrow(types.arrow_type(sql_type)) != sql_type:
                return False
        except Exception:   # noqa: BLE001 - a type with no Arrow spelling
            return False
    return True


def _on_shards_body(conn, body: exp.Expression) -> tuple[list, list] | None:
    """``(sharded tables read, their partition key as output names)`` when every shard
    can compute ``body``'s rows from its own (a SELECT of filters and projections over
    one sharded table plus REPLICATED ones, no subquery, aggregate or window); the key
    names are the outputs that are the one table's partition key columns as they are
    (``[]``: not all of them kept). None: another body."""
    if not isinstance(body, exp.Select) or with_of(body) is not None or any(
            body.args.get(k) for k in _ROW_BY_ROW_OFF if k != "joins"):
        return None
    if any(isinstance(n, (exp.Query, exp.AggFunc, exp.Window, exp.TableSample, exp.Star))
           for n in body.walk() if n is not body):
        return None
    catalog = conn.catalog
    occurrences = _table_occurrences(body, catalog)
    if len(occurrences) != len(list(body.find_all(exp.Table))):
        return None   # (a CTE name, a system table)
    part = [o for o in occurrences if not catalog[o].replicated]
    if len(part) != 1 or occurrences.count(part[0]) != 1 or \
            not _local_from(body, part, catalog, occurrences):
        return None
    info = catalog[part[0]]
    table = next(t for t in body.find_all(exp.Table) if _table_name(t) == part[0])
    outputs = {}
    for i, e in enumerate(body.expressions):
        col = e.this if isinstance(e, exp.Alias) else e
        if isinstance(col, exp.Column) and col.table in ("", table.alias_or_name):
            outputs.setdefault(col.name if col.this.quoted else col.name.lower(), i)
    if info.key and all(k in outputs for k in info.key):
        return part, [outputs[k] for k in info.key]
    return part, []


def held_ctes(conn, tree: exp.Expression, want: list, plan_only: bool):
    """Run ``tree`` (its WITH holding only CTEs that must be computed once) with every
    CTE of its WITH held as a statement table; None (nothing held, nothing run) when a
    CTE is outside this (recursive, data-modifying, shadowed, duplicate or untyped
    columns) or the statement would still be gathered over the held tables."""
    w = with_of(tree)
    if w is None or w.args.get("recursive") or \
            not isinstance(tree, (exp.Select, exp.SetOperation)):
        return None
    ctes = list(w.expressions)
    outer = tree.copy()
    set_with(outer, None)
    bodies = [c.this.copy() for c in ctes]
    names = [c.alias_or_name.lower() for c in ctes]
    if set(names) & (_nested_names(bodies + [outer]) | set(conn.catalog)) or \
            any(True for b in bodies for _ in b.find_all(*_WRITES)):
        return None
    tag = conn.cluster.new_id("h")
    held: list = []   # (held name, body, columns, on-shards shape)
    try:
        for i, cte in enumerate(ctes):
            body = bodies[i]
            typed = conn._columns_of(body)
            alias_cols = [c.name for c in cte.args["alias"].columns]
            if typed is None or alias_cols and len(alias_cols) != len(typed):
                return None
            cols = [n for n in alias_cols] or [n for n, _ in typed]
            if len(set(cols)) != len(cols) or not holdable(typed):
                return None
            columns = [(n, t) for n, (_, t) in zip(cols, typed)]
            hname = f"{HELD_PREFIX}{tag}_{names[i]}"
            shape = _on_shards_body(conn, body)
            if shape is None and _gathered(conn, body):
                return None   # (holding its rows would gather its tables, then send
            # the rows out again: the statement gathered whole costs less)
            key = [cols[p] for p in shape[1]] if shape is not None else []
            conn.mirror.register(hname, pa.table(
                {n: pa.array([], types.arrow_type(t)) for n, t in columns}))
            conn._held[hname] = TableInfo(hname, cols, key, types=dict(columns))
            held.append((hname, body, columns, shape))
            for ref in _refs(bodies[i + 1:] + [outer], names[i]):
                own = ref.args.get("alias")
                alias = own.copy() if own is not None else \
                    exp.TableAlias(this=exp.to_identifier(names[i]))
                ref.replace(exp.Table(this=exp.to_identifier(hname, quoted=True),
                                      alias=alias))
        sql = outer.sql(dialect="postgres")
        described = [f"{n} ({'computed on the shards' if s is not None else 'run first'})"
                     for n, (_, _, _, s) in zip(names, held)]
        if plan_only and all(h[3] is not None for h in held) and not any(
                True for _ in outer.find_all(exp.Subquery, exp.Exists, exp.In)):
            # (planning reads no rows then: nothing is computed for EXPLAIN)
            plan = conn._select(sql, None, plan_only=True)
            if plan["strategy"] == "gather":
                return None
            return dict(plan, ctes_held=described + plan.get("ctes_held", []))
        # Filled before planning: a subquery over them runs first while planning.
        described = [f"{n} ({_fill(conn, hname, body, columns, shape)})"
                     for n, (hname, body, columns, shape) in zip(names, held)]
        plan = conn._select(sql, None, plan_only=True)
        if plan["strategy"] == "gather":
            return None
        if plan_only:
            return dict(plan, ctes_held=described + plan.get("ctes_held", []))
        result = conn._select(sql, None)
        conn.last_plan = dict(conn.last_plan,
                              ctes_held=described + conn.last_plan.get("ctes_held", []))
        return result
    finally:
        _release(conn, [h[0] for h in held])


def _gathered(conn, body: exp.Expression) -> bool:
    """Would the cluster gather the tables ``body`` reads to run it?"""
    saved = conn.last_plan
    try:
        return conn._select(body.sql(dialect="postgres"), None,
                            plan_only=True)["strategy"] == "gather"
    except errors.Error:   # (planning ran a subquery over a table not filled yet)
        return False
    finally:
        conn.last_plan = saved


def _fill(conn, hname: str, body: exp.Expression, columns: list, shape) -> str:
    """Compute the CTE ``body`` once and hold its rows on the shards as ``hname``,
    placed by ``conn._held[hname]``'s key (its whole row when it has none). Returns how
    (for EXPLAIN and the plan): computed on the shards, or run first."""
    how = "computed on the shards"
    b = conn.cluster.backend
    shards = list(range(conn.shards))
    xid = conn.cluster.new_id("x")
    info = conn._held[hname]
    key = [f"c{info.columns.index(k)}" for k in info.key] or \
        [f"c{i}" for i in range(len(columns))]
    try:
        if shape is not None:   # every shard computes its rows, sends them on directly
            positions = [int(k[1:]) for k in key]
            replies = b.call_all(shards, "shuffle_out", per_shard_args={
                s: (conn.sid, xid, body.sql(dialect="postgres"), positions, conn.shards)
                for s in shards})
            for s in shards:
                check(replies[s])
            conn.cluster.ship(*(n for s in shards for n in replies[s][2].values()),
                              between_shards=True)
            tokens = _tokens_by_target(replies[s][4] for s in shards)
        else:   # computed as a query of its own
            saved = conn.last_plan
            sql = body.sql(dialect="postgres")
            conn._keep_for, conn._kept = sql, None
            try:
                result = conn._select(sql, None)
                kept = conn._kept
            finally:
                conn.last_plan = saved
                conn._keep_for, conn._kept = None, None
            if kept is not None:   # its rows stayed on the shards, placed by whole row
                xid, tokens = kept
            else:   # (a LIMIT's, a grouping's rows came here: they go out from here)
                how = "run first"
                data = result.arrow()
                data = data.rename_columns([f"c{i}" for i in range(data.num_columns)])
                parts = split_rows(data, list(range(data.num_columns)), conn.shards)
                sent = []
                for s in shards:
                    payload = table_to_ipc(parts.get(s, data.slice(0, 0)))
                    sent.append(len(payload))
                    check(b.call(s, "deliver", conn.sid, xid, payload))
                conn.cluster.ship(*sent)
                tokens = {}
        replies = b.call_all(shards, "hold", per_shard_args={
            s: (conn.sid, hname, xid, tokens.get(s, []), columns) for s in shards})
        for s in shards:
            check(replies[s])
        return how
    except BaseException:
        conn._drop_exchange(xid)
        raise


def _release(conn, names: list) -> None:
    """Forget statement tables ``names`` on the mirror, in the catalog and on every
    shard (a dead shard's are gone with it)."""
    if not names:
        return
    for name in names:
        conn._held.pop(name, None)
        conn.mirror.unregister(name)
    try:
        conn.cluster.backend.call_all(range(conn.shards), "release", conn.sid, names)
    except Exception:   # noqa: BLE001 - a dead worker: its session went with it
        pass

