"""Materialized views on a cluster: a table spread over the shards, filled by the
cluster's own query.

CREATE MATERIALIZED VIEW runs its query once, on the cluster (split, shuffled, ... like
any SELECT), then creates the view on every shard with that shard's part of the result
as its rows (hash of the whole row, as a keyless table; ``ShardHost.create_matview``),
in one transaction committed by two-phase commit; the schema mirror keeps the
definition (no rows, as for every table there). Neither the shards nor the mirror run
the query over their own rows (``create_here``): it is the cluster's query, and over
no rows or one shard's it could fail where the whole succeeds (``1 / count(*)``).
REFRESH MATERIALIZED VIEW runs the stored query on the cluster again and refills every
shard the same way, atomically: readers see the old rows or the new, never a mix, and
a refresh inside a transaction that rolls back leaves the old rows. Reads, indexes,
DROP and the refused writes (42809) are those of a table.
"""
from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from .. import errors
from ..result import Result
from ..sql.parse import parse_one
from .partition import split_rows
from .wire import check, table_to_ipc
from .trees import _inline


def create_matview(conn, sql: str, params) -> Result:
    tree = parse_one(sql)   # the engine's reading (WITH DATA; WITH NO DATA refused)
    if not isinstance(tree, exp.Create) or tree.args.get("expression") is None:
        conn._scratch().execute(sql, params)
        raise errors.sql_error("42601", "CREATE MATERIALIZED VIEW needs AS query")
    if params:
        tree = _inline(tree, params)
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    name = target.name if target.this.quoted else target.name.lower()
    text = tree.sql(dialect="postgres")
    if name in conn._root().tables and tree.args.get("exists"):
        return create_here(conn.mirror, text, None)   # IF NOT EXISTS: the engine's notice
    create_here(conn._scratch(), text, None)   # the engine's own errors, before any shard
    conn._bind_checked(text)                   # and the role's privileges
    data = conn._select(tree.expression.sql(dialect="postgres"), None).arrow()
    before = set(conn._root().tables)
    ncols = data.num_columns
    parts = split_rows(data, list(range(ncols)), conn.shards) if data.num_rows else {}
    b = conn.cluster.backend

    def create(s: int) -> None:
        part = parts.get(s)
        payload = table_to_ipc(part) if part is not None and part.num_rows else None
        if payload is not None:
            conn.cluster.ship(len(payload))
        check(b.call(s, "create_matview", conn.sid, text, payload))

    conn._write_shards(list(range(conn.shards)), create)
    result = create_here(conn.mirror, text, None)
    conn._refresh_catalog(before, None, False)
    return Result(columns=result.columns, rowcount=data.num_rows, kind=result.kind)


def create_here(conn, sql: str, rows: pa.Table | None) -> Result:
    """CREATE MATERIALIZED VIEW ``sql`` on engine connection ``conn`` (its checks,
    owner and privileges, in its transaction or autocommit) with ``rows`` (None: none)
    as the view's rows, its query not run there: the query is the cluster's, run once
    over all shards (a query such as ``SELECT 1 / count(*) FROM t`` fails over no rows
    or one shard's, not over the cluster's)."""
    import dataclasses
    from ..plan.ddl import LogicalCreateTableAs
    from ..plan.logical import LogicalArrowScan
    session = conn._session
    prepared = session._prepare(sql)
    plan = prepared.plan
    if not isinstance(plan, LogicalCreateTableAs):
        return conn.execute(sql)._result
    if rows is None:
        rows = pa.table({f"c{i}": pa.array([], f.type)
                         for i, f in enumerate(plan.schema.arrow_schema)})
    scan = LogicalArrowScan(plan.child.columns, "__matview_rows", rows)
    prepared = dataclasses.replace(prepared, plan=dataclasses.replace(plan, child=scan),
                                   fast=None)
    return session._run(prepared, None)


def refresh_matview(conn, sql: str, params) -> Result:
    tree = parse_one(sql)
    conn._bind_checked(sql)   # 42P01, 0A000 (not a materialized view), 42501 (its owner)
    name = tree.this.name if tree.this.this.quoted else tree.this.name.lower()
    version = conn._root().tables[name]
    data = conn._select(version.schema.matview_sql, None).arrow()
    info = conn._info(name)
    if info.replicated:
        parts = {s: data for s in range(conn.shards)}
    else:
        parts = split_rows(data, info.key_positions, conn.shards) if data.num_rows else {}
    conn._write_shards(list(range(conn.shards)),
                       lambda s: _refill(conn, s, name, parts.get(s)))
    conn.last_plan = {"strategy": "refresh", "rows": data.num_rows}
    return Result(columns=[], rowcount=-1, kind="REFRESH MATERIALIZED VIEW")   # (the engine's)


def _refill(conn, shard: int, name: str, part: pa.Table | None) -> None:
    payload = table_to_ipc(part) if part is not None and part.num_rows else None
    if payload is not None:
        conn.cluster.ship(len(payload))
    check(conn.cluster.backend.call(shard, "apply_rows", conn.sid, name, [], payload, True))
