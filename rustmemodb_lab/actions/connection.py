"""``--connect PATH [--alias NAME]``, ``%sql URL``, ``--connection NAME``,
``--connections`` and ``--import URL TABLE [AS NAME]``.

Several databases can be open at once: rustmemodb ones, each with its own
branches, and other databases through SQLAlchemy (``connections.py``).
Exactly one is current, and ``%sql`` without options runs there. File-backed
rustmemodb databases need the engine's durability (WAL + checkpoints); until
the engine has it, ``--connect file.db`` fails with a message saying so.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rustmemodb_lab.command import Command
from rustmemodb_lab.connections import ExternalConnection, default_name, display_url
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.views import Status


def connect(cmd: Command, ctx: Context) -> Status:
    name = ctx.session.connect(cmd.connect, alias=cmd.alias)
    registry = ctx.session.connections[name]
    return Status(f"connected {name} ({cmd.connect}) · branch {registry.current}")


def connect_cluster(cmd: Command, ctx: Context) -> Status:
    """``--cluster dask --shards 4``: a database sharded over engines (rustmemodb.cluster)."""
    shards = cmd.shards or 2
    name = ctx.session.connect_cluster(cmd.cluster, shards, alias=cmd.alias)
    registry = ctx.session.connections[name]
    return Status(f"connected {name} ({cmd.cluster} cluster, {shards} shards) · branch {registry.current}")


def connect_url(cmd: Command, ctx: Context) -> Status:
    ext = ctx.session.connect_url(cmd.connect_url, alias=cmd.alias)
    return Status(f"connected {ext.name} ({display_url(ext.url)}) · {ext.dialect} through SQLAlchemy")


def switch(cmd: Command, ctx: Context) -> Status:
    target = ctx.session.switch(cmd.connection)
    if isinstance(target, ExternalConnection):
        return Status(f"using connection {cmd.connection} ({target.dialect})")
    return Status(f"using connection {cmd.connection} · branch {target.current}")


def import_table(cmd: Command, ctx: Context) -> Status:
    """Copy an external table into the current branch (Arrow in between); its primary
    key comes along, so diff and merge match rows by key."""
    from rustmemodb_lab.actions.persist import create_from_arrow
    from rustmemodb_lab.frames import to_engine_table

    source, table, target = cmd.import_
    session = ctx.session
    ext = session.external.get(source)
    temporary = ext is None
    if temporary:
        if "://" not in source:
            known = ", ".join(session.external) or "none"
            raise LabUsageError(f"--import needs a connection string or an open connection's name, not {source!r} (open: {known})")
        ext = ExternalConnection(default_name(source), source)
    try:
        data = ext.read_table(table)
        key = [c["name"] for c in ext.columns(table) if c["primary_key"]]
    finally:
        if temporary:
            ext.close()
    try:
        data = to_engine_table(data, table)
    except Exception as exc:  # rustmemodb.Error with SQLSTATE: say it as a usage problem
        raise LabUsageError(f"--import {table}: {getattr(exc, 'message', exc)}") from None
    n = create_from_arrow(ctx, target, data, primary_key=key)
    return Status(f"imported {table} from {ext.name} as {target} ({n:,} rows) on branch {ctx.registry.current}")


def tables(cmd: Command, ctx: Context) -> ResultSet:
    """``--tables`` on an external connection: its tables and views."""
    ext = ctx.session.current_external
    names = ext.tables()
    return _listing(pa.table({"table": pa.array(names, pa.string())}), ["TEXT"], ctx)


def list_connections(cmd: Command, ctx: Context) -> ResultSet:
    session = ctx.session
    if session.current_name is None:
        session.registry  # opens the default connection if nothing is open yet
    names = list(session.connections)
    ext = list(session.external.values())
    table = pa.table({
        "connection": names + [e.name for e in ext],
        "path": [session.paths[n] for n in names] + [display_url(e.url) for e in ext],
        "branches": pa.array([len(session.connections[n].branches) for n in names] + [None] * len(ext), pa.int64()),
        "current_branch": pa.array([session.connections[n].current for n in names] + [None] * len(ext), pa.string()),
        "current": [n == session.current_name for n in names] + [e.name == session.current_name for e in ext],
    })
    return _listing(table, ["TEXT", "TEXT", "INTEGER", "TEXT", "BOOLEAN"], ctx)


def _listing(table: pa.Table, types: list[str], ctx: Context) -> Any:
    return ResultSet(table, statement_type="SELECT", sql_types=types, displaylimit=ctx.displaylimit)
