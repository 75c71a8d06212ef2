"""BoundStatement: what binding a statement gives the session (plan, kinds, slots, deps).

In a module of its own so that statements bound without the binder (sql/quick.py, the
recognizer for the simplest shapes) build the same object without importing the binder,
which pulls in sqlglot and much of the executor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..plan.ddl import DDL_NODES
from ..plan.logical import LogicalNode


@dataclass
class BoundStatement:
    kind: str                         # SELECT, INSERT, UPDATE, DELETE, CREATE TABLE, ...
    plan: LogicalNode | None = None   # queries, DML and DDL (plan/ddl.py) alike
    param_types: dict = field(default_factory=dict)
    deps: list = field(default_factory=list)    # [(kind, name, object)] for cache validation
    cacheable: bool = True
    returns_rows: bool = False
    cast_slots: frozenset = frozenset()   # parameters written with an explicit CAST ($1::int)
    # The plan holds subquery or WITH plans (optimize/optimize_subqueries.py has work).
    nested: bool = False
    # What running it needs (auth/check.py: checked per execution when roles exist) and
    # the objects a DDL statement creates/drops/renames (their owners and grants follow).
    privileges: tuple = ()
    ddl_objects: tuple = ()
    # The statement's syntax tree (or text): the columns it uses are worked out from it
    # only when a role lacks a table privilege and holds column ones (auth/check.py),
    # and kept in ``column_uses`` (view name or None -> uses) once worked out.
    source: object = None
    column_uses: dict | None = None

    @property
    def ddl(self) -> bool:
        """A catalog change (a plan/ddl.py node)."""
        return isinstance(self.plan, DDL_NODES)

    @property
    def columns(self) -> list:
        return self.plan.columns if self.plan is not None and self.returns_rows else []
