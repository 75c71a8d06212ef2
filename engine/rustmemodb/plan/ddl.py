"""Plan nodes of DDL statements: what to create, drop or empty, decided at bind time.

The binder resolves names, types and constraints into one of these and never
touches the transaction; the executor (``exec/operators/ddl.py``) applies it inside
the statement's transaction, where existence checks run against the transaction's
own catalog (a CREATE earlier in the same transaction counts). They have no output
columns; ``CREATE TABLE ... AS`` has its query as ``child``, optimized with the
statement like any plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .logical import LogicalNode


@dataclass
class LogicalCreateTable(LogicalNode):
    name: str
    schema: Any                  # storage.schema.TableSchema
    if_not_exists: bool = False

    def describe(self) -> str:
        return self.name


@dataclass
class LogicalCreateTableAs(LogicalNode):
    """The table's rows are ``child``'s, renamed and cast to ``schema``."""
    child: LogicalNode
    name: str
    schema: Any
    if_not_exists: bool = False

    def children(self):
        return [self.child]

    def describe(self) -> str:
        return self.name


@dataclass
class LogicalDropTable(LogicalNode):
    targets: tuple
    if_exists: bool = False
    cascade: bool = False        # drop the foreign keys that reference a dropped table


@dataclass
class LogicalTruncate(LogicalNode):
    targets: tuple


@dataclass
class LogicalCreateView(LogicalNode):
    view: Any                    # storage.root.ViewDef
    or_replace: bool = False


@dataclass
class LogicalDropView(LogicalNode):
    targets: tuple
    if_exists: bool = False


@dataclass
class LogicalCreateIndex(LogicalNode):
    table: str
    definition: Any              # storage.schema.IndexDef
    if_not_exists: bool = False


@dataclass
class LogicalDropIndex(LogicalNode):
    targets: tuple
    if_exists: bool = False


DDL_NODES = (LogicalCreateTable, LogicalCreateTableAs, LogicalDropTable, LogicalTruncate,
             LogicalCreateView, LogicalDropView, LogicalCreateIndex, LogicalDropIndex)
