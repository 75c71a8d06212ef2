"""Branch commands: ``--fork``, ``--checkout``, ``--drop-branch``, ``--undo``,
``--branches`` (the tree widget) and ``--tables``.

A fork is the engine's O(1) ``conn.fork()`` under a name; it does not switch
branches (``--fork x --checkout x`` does both, in that order). ``--undo``
restores the committed root the current branch had before the last cell
that changed it; see ``branches.py``.
"""

from __future__ import annotations

import pyarrow as pa

from rustmemodb_lab.command import Command
from rustmemodb_lab.context import Context
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.views import Status
from rustmemodb_lab.widgets.branch_tree import BranchTree


def fork(cmd: Command, ctx: Context) -> Status:
    registry = ctx.registry
    branch = registry.fork(cmd.fork)
    connection = ctx.session.current_name or ""
    ctx.session.snippets.fork((connection, branch.parent), (connection, branch.name))
    where = "" if cmd.checkout else f" · current branch: {registry.current}"
    return Status(f"forked {branch.name} from {branch.parent}{where}")


def checkout(cmd: Command, ctx: Context) -> Status:
    branch = ctx.registry.checkout(cmd.checkout)
    return Status(f"on branch {branch.name}")


def drop(cmd: Command, ctx: Context) -> Status:
    branch = ctx.registry.drop(cmd.drop_branch)
    ctx.session.snippets.forget((ctx.session.current_name or "", branch.name))
    return Status(f"dropped branch {branch.name}")


def undo(cmd: Command, ctx: Context) -> Status:
    registry = ctx.registry
    branch = registry.active
    entry = registry.undo(branch)
    label = entry.label.strip().splitlines()[0][:60] if entry.label.strip() else "a cell"
    return Status(
        f"undid «{label}» on {branch.name}: back to its state of {entry.at:%H:%M:%S}"
        f" · {len(branch.undo)} more undo step{'s' if len(branch.undo) != 1 else ''}"
    )


def tree(cmd: Command, ctx: Context) -> BranchTree:
    return BranchTree(ctx.registry, connection=ctx.session.current_name or "",
                      labextension=ctx.session.labextension_connected)


def tables(cmd: Command, ctx: Context) -> ResultSet:
    branch = ctx.registry.active
    counts = branch.table_counts()
    table = pa.table({"table": list(counts), "rows": pa.array(list(counts.values()), pa.int64())})
    return ResultSet(table, sql_types=["TEXT", "INTEGER"], branch=branch.name, displaylimit=ctx.displaylimit)
