"""Branches of one connection: names, lineage and the undo history.

The engine knows databases, not names: ``conn.fork()`` returns a connection
on a new ``Database`` that shares the committed root in O(1). This registry
gives those databases the names people type (``main``, ``what_if``) and keeps
what the engine does not need but a notebook does:

* the parent branch and the wall-clock fork time (for the branch tree);
* an undo stack per branch: before a cell runs, the lab notes the branch's
  committed root; if the cell changed it, the old root is pushed. ``--undo``
  pops it and makes it current again with ``db.restore(root)``, which is a
  commit like any other. Roots are immutable and shared, so an entry costs
  only what the cell changed; ``undo_depth`` bounds the stack.

It deliberately does not track uncommitted work: a cell that leaves a
transaction open has not changed the committed root yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rustmemodb.branch import commands as branch_commands
from rustmemodb_lab.errors import LabUsageError



@dataclass
class UndoEntry:
    """The committed root a branch had before a cell changed it."""

    root: Any
    label: str
    at: dt.datetime


@dataclass
class Branch:
    """A named database of the connection's lineage."""

    name: str
    conn: Any
    parent: str | None
    forked_at: dt.datetime
    undo: list[UndoEntry] = field(default_factory=list)

    @property
    def database(self) -> Any:
        return self.conn.database

    def root(self) -> Any:
        """The committed root now (the undo marker)."""
        return self.database.root

    @property
    def sharded(self) -> bool:
        """A branch of a ``rustmemodb.cluster`` connection: its ``database`` is the
        coordinator's schema mirror, and the rows live on the shards."""
        return hasattr(self.conn, "cluster") and hasattr(self.conn, "diff_table")

    def table_counts(self) -> dict[str, int]:
        """``{table: row count}`` of the committed state."""
        if self.sharded:
            return self.conn.row_counts()
        db = self.database
        return {name: db.row_count(name) for name in sorted(db.tables())}


class BranchRegistry:
    """The branches of one open connection, and which one is current."""

    def __init__(
        self,
        conn: Any,
        *,
        main: str = "main",
        undo_depth: int = 20,
        attach: Callable[[Any], Any] = lambda conn: conn,
    ) -> None:
        self.attach = attach
        self.branches: dict[str, Branch] = {main: Branch(main, conn, None, _now())}
        self.main = main
        self.current = main
        self.undo_depth = undo_depth

    # -- lookup ----------------------------------------------------------------
    def get(self, name: str) -> Branch:
        """The branch called ``name``; a ``UsageError`` listing the known ones if none."""
        try:
            return self.branches[name]
        except KeyError:
            known = ", ".join(self.branches)
            raise LabUsageError(f"unknown branch {name!r}; branches: {known}") from None

    @property
    def active(self) -> Branch:
        return self.branches[self.current]

    def children(self, name: str) -> list[Branch]:
        return [b for b in self.branches.values() if b.parent == name]

    def walk(self) -> Iterator[tuple[Branch, int]]:
        """Every branch with its depth, parents before children (the tree order)."""

        def visit(branch: Branch, depth: int) -> Iterator[tuple[Branch, int]]:
            yield branch, depth
            for child in self.children(branch.name):
                yield from visit(child, depth + 1)

        for root in [b for b in self.branches.values() if b.parent is None]:
            yield from visit(root, 0)

    # -- changes -----------------------------------------------------------------
    def fork(self, name: str, source: str | None = None) -> Branch:
        """Fork ``source`` (default: the current branch) as ``name``."""
        check_name(name)
        if name in self.branches:
            raise LabUsageError(f"branch {name!r} already exists")
        parent = self.get(source or self.current)
        branch = Branch(name, self.attach(parent.conn.fork()), parent.name, _now())
        self.branches[name] = branch
        return branch

    def checkout(self, name: str) -> Branch:
        branch = self.get(name)
        self.current = name
        return branch

    def drop(self, name: str) -> Branch:
        """Forget ``name``; its children are re-parented to its parent."""
        branch = self.get(name)
        if name == self.current:
            raise LabUsageError(f"cannot drop the current branch {name!r}; check out another one first")
        if branch.parent is None:
            raise LabUsageError(f"cannot drop {name!r}: it is the connection's root branch")
        for child in self.children(name):
            child.parent = branch.parent
        del self.branches[name]
        close = getattr(branch.conn, "close", None)
        if close:
            close()
        return branch

    # -- undo ----------------------------------------------------------------
    def remember(self, branch: Branch, before: Any, label: str) -> bool:
        """Push ``before`` on ``branch``'s undo stack if its root has changed since
        (never for a sharded branch: its mirror's root does not hold the rows)."""
        if branch.sharded or not root_changed(before, branch.root()):
            return False
        branch.undo.append(UndoEntry(before, label, _now()))
        del branch.undo[: max(0, len(branch.undo) - self.undo_depth)]
        return True

    def undo(self, branch: Branch) -> UndoEntry:
        """Make ``branch``'s root the one before its last changing cell."""
        if branch.sharded:
            raise LabUsageError("--undo does not reach the shards of a sharded database: "
                                "--fork before an experiment and --merge or --drop it instead")
        if not branch.undo:
            raise LabUsageError(f"nothing to undo on branch {branch.name!r}")
        if getattr(branch.conn, "in_transaction", False):
            raise LabUsageError("a transaction is open on this branch: COMMIT or ROLLBACK it before --undo")
        entry = branch.undo.pop()
        branch.database.restore(entry.root)
        return entry


def root_changed(before: Any, after: Any) -> bool:
    """Whether two committed roots differ (by version when they have one)."""
    if before is after:
        return False
    v1, v2 = getattr(before, "version", None), getattr(after, "version", None)
    if v1 is not None and v2 is not None:
        return v1 != v2
    return True


def check_name(name: str) -> None:
    """Branch names as the shared grammar (``rustmemodb.branch.commands``) allows them."""
    try:
        branch_commands.check_name(name)
    except branch_commands.BranchCommandError as exc:
        raise LabUsageError(str(exc)) from None


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)
