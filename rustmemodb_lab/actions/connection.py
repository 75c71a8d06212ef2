"""``--connect PATH [--alias NAME]``, ``--connection NAME`` and ``--connections``.

Several databases can be open at once, each with its own branches; exactly
one is current, and ``%sql`` without options runs there. File-backed
databases need the engine's durability (WAL + checkpoints); until the engine
has it, ``--connect file.db`` fails with a message saying so.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rustmemodb_lab.command import Command
from rustmemodb_lab.context import Context
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.views import Status


def connect(cmd: Command, ctx: Context) -> Status:
    name = ctx.session.connect(cmd.connect, alias=cmd.alias)
    registry = ctx.session.connections[name]
    return Status(f"connected {name} ({cmd.connect}) · branch {registry.current}")


def switch(cmd: Command, ctx: Context) -> Status:
    registry = ctx.session.switch(cmd.connection)
    return Status(f"using connection {cmd.connection} · branch {registry.current}")


def list_connections(cmd: Command, ctx: Context) -> ResultSet:
    session = ctx.session
    session.registry  # opens the default connection if nothing is open yet
    names = list(session.connections)
    table = pa.table({
        "connection": names,
        "path": [session.paths[n] for n in names],
        "branches": [len(session.connections[n].branches) for n in names],
        "current_branch": [session.connections[n].current for n in names],
        "current": [n == session.current_name for n in names],
    })
    return _listing(table, ["TEXT", "TEXT", "INTEGER", "TEXT", "BOOLEAN"], ctx)


def _listing(table: pa.Table, types: list[str], ctx: Context) -> Any:
    return ResultSet(table, statement_type="SELECT", sql_types=types, displaylimit=ctx.displaylimit)
