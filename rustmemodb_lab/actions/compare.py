"""``--diff A B [TABLE]`` and ``--merge SOURCE [--into TARGET] [--ours|--theirs]``.

Both delegate to the engine's ``rustmemodb.branch`` module, which compares
two databases of one lineage by chunk identity and then row by row, and
merges three-way with the common ancestor (the root at which one forked from
the other). The lab only names the branches, draws the results and records
the merge for ``--undo`` on the target branch.

Merge terms follow git: the target (default: the current branch) is *ours*,
the source is *theirs*.
"""

from __future__ import annotations

from typing import Any

from rustmemodb_lab.command import Command
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.render.diff import TableDiff
from rustmemodb_lab.views import DiffView, MergeView


def diff(cmd: Command, ctx: Context) -> DiffView:
    a_name, b_name, table = cmd.diff
    a, b = ctx.registry.get(a_name), ctx.registry.get(b_name)
    from rustmemodb import branch as engine_branch

    if _sharded(a, b):                   # the rows are on the shards: they diff them
        engine_diffs = {table: a.conn.diff_table(b.conn, table)} if table is not None \
            else dict(a.conn.diff_all(b.conn))
    elif table is not None:
        engine_diffs = {table: _diff_one(engine_branch, a.database, b.database, table)}
    else:
        engine_diffs = dict(engine_branch.diff_all(a.database, b.database))
    diffs = [_table_diff(name, d) for name, d in sorted(engine_diffs.items())]
    return DiffView(a_name, b_name, diffs, engine_diffs, ctx.displaylimit)


def _diff_one(engine_branch: Any, a: Any, b: Any, table: str) -> Any:
    import rustmemodb

    try:
        return engine_branch.diff(a, b, table)
    except rustmemodb.Error as exc:
        raise LabUsageError(f"cannot diff table {table!r}: {getattr(exc, 'message', exc)}") from exc


def _table_diff(name: str, d: Any) -> TableDiff:
    return TableDiff(
        table=name,
        added=d.added,
        removed=d.removed,
        changed_before=d.changed_before,
        changed_after=d.changed_after,
        key_columns=list(d.key_columns),
        counts=dict(d.counts or {}),
    )


def merge(cmd: Command, ctx: Context) -> MergeView:
    registry = ctx.registry
    source = registry.get(cmd.merge)
    target = registry.get(cmd.into or registry.current)
    if source.name == target.name:
        raise LabUsageError(f"cannot merge {source.name!r} into itself")
    from rustmemodb import branch as engine_branch

    before = target.root()
    if _sharded(source, target):           # every shard merges its part, or none does
        result = target.conn.merge(source.conn, strategy=cmd.strategy)
    else:
        result = engine_branch.merge(source.database, target.database, strategy=cmd.strategy)
    registry.remember(target, before, ctx.label)
    return MergeView(source.name, target.name, result, ctx.displaylimit)


def _sharded(a, b) -> bool:
    """Whether both branches are a sharded database's (cluster/branches.py diffs and
    merges them there); one of each cannot be compared."""
    if a.sharded != b.sharded:
        raise LabUsageError(f"{a.name!r} and {b.name!r} are not branches of one database")
    return a.sharded
