"""The database root: one immutable value that *is* the committed database.

A root maps table names to ``TableVersion``s and view names to their SQL, and
carries two counters: ``version`` (bumped by every commit, used to order
commits for conflict checks) and ``catalog_version`` (bumped by DDL, used to
invalidate cached plans). Roots are small dicts copied on write: at catalog
sizes a dict copy is ~0.2 µs, far below a persistent map's per-call cost
(ENGINE-MEASUREMENTS.md §4). A published root is never mutated, so a snapshot,
a transaction's starting point and a fork are all just references to one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .roles import EMPTY as NO_ROLES
if TYPE_CHECKING:   # annotations only: an empty database needs no table module
    from .table import TableVersion


@dataclass(frozen=True)
class ViewDef:
    name: str
    sql: str                      # the SELECT text, re-bound on every use
    columns: tuple[str, ...] = ()  # explicit column names, if given
    comment: str | None = field(default=None, compare=False)   # COMMENT ON VIEW
    check_option: str | None = None  # WITH [LOCAL | CASCADED] CHECK OPTION: 'local'/'cascaded'
    defaults: tuple = ()          # ALTER VIEW v ALTER c SET DEFAULT: ((column, SQL), ...)


@dataclass(frozen=True)
class FunctionDef:
    """A SQL function (CREATE FUNCTION ... LANGUAGE sql): inlined where it is called
    (sql/bind/bind_sql_functions.py). ``body`` is the expression it returns, as SQL."""
    name: str
    params: tuple = ()             # ((name or "", SQL type), ...)
    defaults: tuple = ()           # per parameter: the DEFAULT expression's SQL, or None
    returns: str = "TEXT"          # SQL type
    body: str = "NULL"
    volatility: str = "VOLATILE"   # IMMUTABLE | STABLE | VOLATILE (as declared)


@dataclass(frozen=True)
class DomainDef:
    """CREATE DOMAIN name AS base ... (sql/bind/bind_domain.py): a base type with a
    default and constraints. ``base`` is the type as written (for the catalogs);
    ``type`` and ``typmod`` the engine type and modifier it resolved to when the domain
    was made (a base type never changes); ``parent`` the domain it is over, if any."""
    name: str
    base: str
    type: str
    typmod: tuple | None = None
    parent: str | None = None
    default: str | None = None     # the DEFAULT expression's SQL
    not_null: bool = False
    checks: tuple = ()             # ((constraint name, CHECK expression SQL, validated), ...)


def domain_typmod(domains: dict, name: str) -> tuple:
    """The typmod of a column of domain ``name`` (exec/typmods.py): ("domain", name,
    the base's typmod, not null, ((constraint, CHECK sql), ...), default sql), flattened
    over a domain of a domain (constraints add up; the nearest default wins)."""
    d = domains[name]
    own = tuple((n, sql) for n, sql, _ in d.checks)
    if d.parent is None or d.parent not in domains:
        return ("domain", name, d.typmod, d.not_null, own, d.default)
    _, _, inner, not_null, checks, default = domain_typmod(domains, d.parent)
    return ("domain", name, inner, d.not_null or not_null, checks + own,
            d.default if d.default is not None else default)


def domain_chain(domains: dict, name: str) -> tuple:
    """``name`` and the domains it is over, nearest first."""
    out = []
    while name in domains and name not in out:
        out.append(name)
        name = domains[name].parent
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Root:
    tables: dict = field(default_factory=dict)    # name -> TableVersion
    views: dict = field(default_factory=dict)     # name -> ViewDef
    sequences: dict = field(default_factory=dict)  # name -> last value (SERIAL columns)
    version: int = 0
    catalog_version: int = 0
    # partner's branch space id -> MergeRecord (branch/identity.py): the history of
    # merges into this state. Part of the root, so restoring an older root forgets a
    # merge made since, and a fork inherits the records of the rows it inherits.
    merges: dict = field(default_factory=dict)
    # Roles, owners and grants (storage/roles.py): empty until the first CREATE ROLE,
    # and an empty catalog means no access control (the implicit superuser).
    auth: Any = None
    functions: dict = field(default_factory=dict)   # name -> FunctionDef (LANGUAGE sql)
    # CREATE TYPE name AS ENUM (...): name -> its labels in order (sql/bind/bind_enum.py)
    enums: dict = field(default_factory=dict)
    # sequence name -> its SequenceDef (storage/sequence_defs.py) when it has one
    seqdefs: dict = field(default_factory=dict)
    # CREATE DOMAIN: name -> DomainDef (sql/bind/bind_domain.py)
    domains: dict = field(default_factory=dict)
    # CREATE TYPE name AS (field type, ...): name -> its type string (composite.py)
    composites: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.auth is None:
            object.__setattr__(self, "auth", NO_ROLES)

    def table(self, name: str) -> TableVersion | None:
        return self.tables.get(name)

    def with_table(self, name: str, version: TableVersion, ddl: bool = False,
                   number: int | None = None) -> "Root":
        # Every write statement comes through here: replace() inlined, without its
        # keyword-argument dict. ``number``: the root's new version, for a root an
        # autocommit point write publishes as it is (Database.commit_change).
        tables = dict(self.tables)
        tables[name] = version
        new = object.__new__(Root)
        d = new.__dict__
        d.update(self.__dict__)
        d["tables"] = tables
        if ddl:
            d["catalog_version"] = self.catalog_version + 1
        if number is not None:
            d["version"] = number
        return new

    def numbered(self, version: int, catalog_version: int) -> "Root":
        """This root with new counters: what a commit publishes (replace() inlined)."""
        new = object.__new__(Root)
        d = new.__dict__
        d.update(self.__dict__)
        d["version"] = version
        d["catalog_version"] = catalog_version
        return new

    def without_table(self, name: str) -> "Root":
        tables = dict(self.tables)
        del tables[name]
        return replace(self, tables=tables, catalog_version=self.catalog_version + 1)

    def with_view(self, view: ViewDef) -> "Root":
        views = dict(self.views)
        views[view.name] = view
        return replace(self, views=views, catalog_version=self.catalog_version + 1)

    def without_view(self, name: str) -> "Root":
        views = dict(self.views)
        del views[name]
        return replace(self, views=views, catalog_version=self.catalog_version + 1)


def with_enum(root: Root, name: str, labels: tuple | None) -> Root:
    """``root`` with enum type ``name`` defined as ``labels`` (None: dropped); a catalog
    change, so plans holding the old labels are bound again."""
    return _with_type(root, "enums", name, None if labels is None else tuple(labels))


def with_composite(root: Root, name: str, sql_type: str | None) -> Root:
    """``root`` with composite type ``name`` defined as ``sql_type`` (a composite.py type
    string; None: dropped); a catalog change."""
    return _with_type(root, "composites", name, sql_type)


def with_domain(root: Root, name: str, domain: DomainDef | None) -> Root:
    """``root`` with domain ``name`` defined (None: dropped); a catalog change."""
    return _with_type(root, "domains", name, domain)


def _with_type(root: Root, field: str, name: str, value) -> Root:
    """``root`` with entry ``name`` of its type mapping ``field`` set to ``value`` (None:
    removed); a catalog change, so plans bound to the old definition are bound again."""
    entries = dict(getattr(root, field))
    if value is None:
        entries.pop(name, None)
    else:
        entries[name] = value
    return replace(root, **{field: entries}, catalog_version=root.catalog_version + 1)


def replace(root: Root, **changes) -> Root:
    """``dataclasses.replace`` without its per-call cost: every write of every
    statement makes new roots, and a Root has no ``__post_init__`` to run."""
    new = object.__new__(Root)
    d = new.__dict__
    d.update(root.__dict__)
    d.update(changes)
    return new


def relation_exists(root: Root, name: str) -> bool:
    """Tables, views, indexes and constraint indexes share PostgreSQL's relation names."""
    if name in root.tables or name in root.views:
        return True
    return owner_of_index(root, name) is not None


def owner_of_index(root: Root, name: str) -> tuple[str, str] | None:
    """(table name, 'index' | 'constraint') of the index called ``name``, else None."""
    for tname, version in root.tables.items():
        schema = version.schema
        if any(d.name == name for d in schema.indexes):
            return tname, "index"
        if any(u.name == name for u in schema.uniques):
            return tname, "constraint"
    return None


# Temporary tables (sql/temp_tables.py) are stored as "pg_temp_<session>.<name>".
TEMP_PREFIX = "pg_temp_"


def is_temporary(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and "." in name
