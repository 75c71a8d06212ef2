"""Materialized views on a cluster: a table spread over the shards, filled by the
cluster's own query.

CREATE MATERIALIZED VIEW runs its query on the cluster (split, shuffled, ... like any
SELECT), then creates the view on every shard and replaces each shard's copy of its
rows by that shard's part of the result (hash of the whole row, as a keyless table;
``ShardHost.apply_rows(refill=True)``), all in one transaction committed by two-phase
commit; the schema mirror keeps the definition (no rows, as for every table there).
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


def create_matview(conn, sql: str, params) -> Result:
    tree = parse_one(sql)   # the engine's reading (WITH DATA; WITH NO DATA refused)
    if not isinstance(tree, exp.Create) or tree.args.get("expression") is None:
        conn._scratch().execute(sql, params)
        raise errors.sql_error("42601", "CREATE MATERIALIZED VIEW needs AS query")
    if params:
        from .connect import _inline
        tree = _inline(tree, params)
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    name = target.name if target.this.quoted else target.name.lower()
    text = tree.sql(dialect="postgres")
    if name in conn._root().tables and tree.args.get("exists"):
        return conn.mirror.execute(text)._result    # IF NOT EXISTS: the engine's notice
    conn._scratch().execute(text)    # the engine's own errors, before any shard
    conn._bind_checked(text)         # and the role's privileges
    data = conn._select(tree.expression.sql(dialect="postgres"), None).arrow()
    before = set(conn._root().tables)
    ncols = data.num_columns
    parts = split_rows(data, list(range(ncols)), conn.shards) if data.num_rows else {}
    b = conn.cluster.backend

    def create(s: int) -> None:
        check(b.call(s, "execute", conn.sid, text, None, None))
        _refill(conn, s, name, parts.get(s))

    conn._write_shards(list(range(conn.shards)), create)
    result = conn.mirror.execute(text)._result
    _empty_on_mirror(conn, name)
    conn._refresh_catalog(before, None, False)
    return Result(columns=result.columns, rowcount=data.num_rows, kind=result.kind)


def refresh_matview(conn, sql: str, params) -> Result:
    tree = parse_one(sql)
    conn._scratch().execute(sql, params)   # 42P01, 0A000 (not a materialized view), ...
    conn._bind_checked(sql)                # 42501: only its owner refreshes it
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
    return Result(columns=[], rowcount=data.num_rows, kind="REFRESH MATERIALIZED VIEW")


def _refill(conn, shard: int, name: str, part: pa.Table | None) -> None:
    payload = table_to_ipc(part) if part is not None and part.num_rows else None
    if payload is not None:
        conn.cluster.ship(len(payload))
    check(conn.cluster.backend.call(shard, "apply_rows", conn.sid, name, [], payload, True))


def _empty_on_mirror(conn, name: str) -> None:
    """The mirror computed the view over its empty tables (an aggregate without GROUP
    BY still gives a row): keep no rows there, as for every table of the mirror."""
    from ..storage.table import TableVersion
    m = conn.mirror
    own = m._session.txn is None
    if own:
        m.begin()
    txn = m._session.txn
    version = txn.working.tables.get(name)
    if version is not None and version.to_arrow().num_rows:
        txn.replace_table(name, TableVersion.empty(version.schema))
    if own:
        m.commit()
