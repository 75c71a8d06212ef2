"""Plan nodes of DDL statements: what to create, drop or empty, decided at bind time.

The binder resolves names, types and constraints into one of these and never
touches the transaction; the executor (``exec/operators/ddl.py``) applies it inside
the statement's transaction, where existence checks run against the transaction's
own catalog (a CREATE earlier in the same transaction counts). They have no output
columns; ``CREATE TABLE ... AS`` has its query as ``child``, optimized with the
statement like any plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .logical import LogicalNode


@dataclass
class LogicalCreateTable(LogicalNode):
    name: str
    schema: Any                  # storage.schema.TableSchema
    if_not_exists: bool = False
    # SERIAL and identity columns' sequences: name -> storage.sequence_defs.SequenceDef
    sequences: dict = field(default_factory=dict)

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
    cascade: bool = False        # drop the foreign keys and views that use a dropped table
    materialized: bool = False   # DROP MATERIALIZED VIEW: the targets must be ones


@dataclass
class LogicalRefreshMatview(LogicalNode):
    """REFRESH MATERIALIZED VIEW: the view's rows become ``child``'s."""
    child: LogicalNode
    name: str

    def children(self):
        return [self.child]

    def describe(self) -> str:
        return self.name


@dataclass
class LogicalTruncate(LogicalNode):
    targets: tuple               # the named tables, then those CASCADE adds
    restart: bool = False        # RESTART IDENTITY: their SERIAL/identity sequences too
    cascaded: tuple = ()         # the tables CASCADE added (a NOTICE names each)


@dataclass
class LogicalCreateView(LogicalNode):
    view: Any                    # storage.root.ViewDef
    or_replace: bool = False
    # CREATE OR REPLACE keeps a replaced view's comment (as PostgreSQL); COMMENT ON VIEW
    # replaces the view with the new comment and clears it with NULL
    keep_comment: bool = True
    # CREATE OR REPLACE keeps the column defaults ALTER VIEW set too (as PostgreSQL keeps
    # the view's columns); ALTER VIEW ... SET/DROP DEFAULT writes them
    keep_defaults: bool = True


@dataclass
class LogicalDropView(LogicalNode):
    targets: tuple
    if_exists: bool = False
    cascade: bool = False        # drop the views that read a dropped view


@dataclass
class LogicalRenameView(LogicalNode):
    """ALTER VIEW v RENAME TO w (also ALTER TABLE v RENAME TO w of a view)."""
    name: str
    new: str
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


@dataclass
class LogicalAlterTable(LogicalNode):
    """``ALTER TABLE``: ``steps`` apply in order to the table (renamed by a RenameTable
    step). Each step carries the schema the table has after it, worked out by the
    binder; the executor makes the data conform and checks it (NOT NULL, CHECK,
    UNIQUE and FOREIGN KEY over existing rows, dependent objects)."""
    table: str
    steps: tuple
    if_exists: bool = False

    def describe(self) -> str:
        return self.table


# ---- ALTER TABLE steps ---------------------------------------------------------------------

@dataclass(frozen=True)
class AddColumn:
    column: Any                  # storage.schema.Column (the last of ``schema``)
    default: Any                 # the bound DEFAULT expression, or None (NULL)
    schema: Any


@dataclass(frozen=True)
class SequenceChange:
    """A sequence an ALTER TABLE makes with a column (ADD COLUMN ... SERIAL or identity,
    ADD GENERATED ... AS IDENTITY: ``definition``), changes (RESTART, SET INCREMENT BY
    ...: ``options`` as ALTER SEQUENCE takes them) or drops (DROP IDENTITY: ``drop``)."""
    name: str
    definition: Any = None
    options: Any = None
    drop: bool = False


@dataclass(frozen=True)
class DropColumn:
    pos: int
    name: str
    cascade: bool
    schema: Any


@dataclass(frozen=True)
class RenameColumn:
    old: str
    new: str
    schema: Any


@dataclass(frozen=True)
class RenameConstraint:
    """ALTER TABLE t RENAME CONSTRAINT c TO d, and ALTER INDEX c RENAME TO d (an index
    and the constraint it serves carry one name)."""
    old: str
    new: str
    schema: Any


@dataclass(frozen=True)
class RenameTable:
    new: str
    schema: Any


@dataclass(frozen=True)
class SetSchema:
    """A change of the schema alone (DROP NOT NULL, SET/DROP DEFAULT, DROP CHECK or
    FOREIGN KEY): no data to check or convert."""
    schema: Any


@dataclass(frozen=True)
class SetNotNull:
    pos: int
    schema: Any


@dataclass(frozen=True)
class ChangeType:
    pos: int
    expr: Any                    # the new value of the column, over the old row
    schema: Any


@dataclass(frozen=True)
class AddUnique:
    constraint: Any              # storage.schema.UniqueConstraint (PRIMARY KEY too)
    schema: Any


@dataclass(frozen=True)
class AddCheck:
    constraint: Any              # storage.schema.CheckConstraint
    expr: Any                    # bound over the table's row
    schema: Any


@dataclass(frozen=True)
class AddForeignKey:
    constraint: Any              # storage.schema.ForeignKey
    schema: Any


@dataclass(frozen=True)
class DropUnique:
    constraint: Any
    cascade: bool
    schema: Any


DDL_NODES = (LogicalCreateTable, LogicalCreateTableAs, LogicalDropTable, LogicalTruncate,
             LogicalCreateView, LogicalDropView, LogicalRenameView, LogicalCreateIndex,
             LogicalDropIndex, LogicalAlterTable)


@dataclass
class LogicalCreateSequence(LogicalNode):
    name: str
    definition: Any = None       # storage.sequence_defs.SequenceDef, checked when bound
    if_not_exists: bool = False

    def describe(self) -> str:
        return self.name


@dataclass
class LogicalDropSequence(LogicalNode):
    targets: tuple
    if_exists: bool = False


@dataclass
class LogicalCreateFunction(LogicalNode):
    function: Any                # storage.root.FunctionDef
    or_replace: bool = False

    def describe(self) -> str:
        return self.function.name


@dataclass
class LogicalDropFunction(LogicalNode):
    targets: tuple
    if_exists: bool = False


@dataclass
class LogicalAlterSequence(LogicalNode):
    """ALTER SEQUENCE name options (sql/parse_sequence.py ``read_options``): applied to
    the definition the transaction sees when it runs (exec/operators/ddl.py)."""
    name: str
    options: dict
    if_exists: bool = False


@dataclass
class LogicalCreateEnum(LogicalNode):
    """CREATE TYPE name AS ENUM ('label', ...) (exec/operators/enum_types.py)."""
    name: str
    labels: tuple

    def describe(self) -> str:
        return self.name


@dataclass
class LogicalCreateComposite(LogicalNode):
    """CREATE TYPE name AS (field type, ...) (exec/operators/enum_types.py); ``sql_type``
    is the type's string (composite.py)."""
    name: str
    sql_type: str

    def describe(self) -> str:
        return self.name


@dataclass
class LogicalDropType(LogicalNode):
    """DROP TYPE [IF EXISTS] name, ... [CASCADE | RESTRICT]."""
    targets: tuple
    if_exists: bool = False
    cascade: bool = False
    # CASCADE: (table, its ALTER TABLE ... DROP COLUMN steps, the columns' names) for
    # every column of the types, worked out by the binder (sql/bind/bind_enum.py)
    drops: tuple = ()


@dataclass
class LogicalAlterEnum(LogicalNode):
    """ALTER TYPE name ADD VALUE [IF NOT EXISTS] 'label' [BEFORE | AFTER 'label'] /
    RENAME TO new_name / RENAME VALUE 'old' TO 'new'. ``action``: ("add", label, "before"
    | "after" | None, neighbour, if_not_exists), ("rename", new_name) or ("rename_value",
    old, new)."""
    name: str
    action: tuple


@dataclass
class LogicalCreateDomain(LogicalNode):
    """CREATE DOMAIN (exec/operators/domain_types.py); ``domain``: storage.root.DomainDef
    with its CHECKs named and bound once (sql/bind/bind_domain.py)."""
    domain: Any

    def describe(self) -> str:
        return self.domain.name


@dataclass
class LogicalDropDomain(LogicalNode):
    """DROP DOMAIN [IF EXISTS] name, ... [CASCADE | RESTRICT]; ``drops``: with CASCADE,
    (table, columns, bound ALTER TABLE ... DROP COLUMN) of the columns that use them."""
    targets: tuple
    if_exists: bool = False
    cascade: bool = False
    drops: tuple = ()


@dataclass
class LogicalAlterDomain(LogicalNode):
    """ALTER DOMAIN name ...; ``action``: ("set default", sql) | ("drop default",) |
    ("set not null",) | ("drop not null",) | ("add check", name or None, sql, not valid)
    | ("drop constraint", name, if_exists, cascade) | ("rename", new) |
    ("rename constraint", old, new) | ("validate", name)."""
    name: str
    action: tuple
