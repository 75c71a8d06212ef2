"""Binding CREATE / ALTER / DROP DOMAIN (parsed by sql/parse_roles.py: sqlglot reads
none of them) into plan/ddl.py nodes that exec/operators/domain_types.py applies.

A domain is a catalog object of the root (``Root.domains``: name -> DomainDef). A
column declared with it stores its base type's values, and its typmod carries the
domain's NOT NULL, CHECKs and DEFAULT (storage/root.domain_typmod), so every write path
checks them as it checks a VARCHAR(n) (exec/typmods.py, exec/constraints.py) without
reading the catalog. Everything here is checked before anything changes: the base type
exists, each CHECK is a boolean over VALUE alone, the DEFAULT binds.
"""
from __future__ import annotations

from sqlglot.errors import ParseError, TokenError

from ... import errors, types
from ...plan.ddl import LogicalAlterDomain, LogicalCreateDomain, LogicalDropDomain
from ...storage.namespaces import split
from ...storage.root import DomainDef, domain_chain
from ...storage.sequence_names import quote_name
from ..bound import BoundStatement
from ..parse import parse_one
from ..parse_roles import DomainStatement
from .binder import StatementBinder
from .bind_constraints import domain_check_expr
from .bind_expr import ExprBinder
from .scope import Scope
from .type_modifiers import column_typmod, domain_of, enum_typmod

# whoever may create in public may create, alter and drop domains (as enum types)
_PRIVILEGES = (("schema", "public", "CREATE", None),)


def bind_domain_statement(stmt: DomainStatement, root, functions) -> BoundStatement:
    binder = StatementBinder(root, functions)
    if stmt.action == "create":
        plan = LogicalCreateDomain([], _create(binder, stmt))
    elif stmt.action == "drop":
        names, if_exists, cascade = stmt.spec
        plan = bind_drop_domain(binder, tuple(_plain(n) for n in names), if_exists, cascade)
        privileges = _PRIVILEGES + tuple(p for _, _, bound in plan.drops for p in bound.privileges)
        return BoundStatement(stmt.kind, plan, cacheable=False, privileges=privileges)
    else:
        plan = LogicalAlterDomain([], _plain(stmt.name), _alter_action(binder, stmt))
    return BoundStatement(stmt.kind, plan, cacheable=False, privileges=_PRIVILEGES)


def bind_drop_domain(binder, targets: tuple, if_exists: bool, cascade: bool) -> LogicalDropDomain:
    """DROP DOMAIN, or DROP TYPE naming domains (``binder``: a StatementBinder)."""
    drops = _cascade_drops(binder, targets) if cascade else ()
    return LogicalDropDomain([], targets, if_exists, cascade, drops)


def _cascade_drops(binder, names: tuple) -> tuple:
    """DROP DOMAIN ... CASCADE: per table, (table, its columns of those domains or of
    domains over them, the bound ALTER TABLE ... DROP COLUMN ... CASCADE of them)."""
    root = binder.root
    found: dict[str, list[str]] = {}
    for table, version in sorted(root.tables.items()):
        for c in version.schema.columns:
            if c.typmod is not None and c.typmod[0] == "domain" and any(
                    n in domain_chain(root.domains, c.typmod[1]) for n in names):
                found.setdefault(table, []).append(c.name)
    out = []
    for table, columns in found.items():
        written = ".".join(quote_name(part) for part in split(table, root.auth.schemas))
        sql = f"ALTER TABLE {written} " + ", ".join(
            f"DROP COLUMN {quote_name(c)} CASCADE" for c in columns)
        out.append((table, tuple(columns), binder.bind_statement(parse_one(sql))))
    return tuple(out)


def _plain(name: str) -> str:
    """Domains live in public: another schema's name is 3F000 (as enum types)."""
    if "." in name:
        raise errors.sql_error("3F000", f'schema "{name.split(".")[0]}" does not exist')
    return name


def _create(binder, stmt: DomainStatement) -> DomainDef:
    name = _plain(stmt.name)
    base_sql, default, not_null, checks = stmt.spec
    try:
        dt = parse_one(f"SELECT CAST(NULL AS {base_sql})").expressions[0].to
    except (ParseError, TokenError, errors.Error):
        raise errors.syntax_error(f'syntax error at or near "{base_sql}"') from None
    root = binder.root
    parent = domain_of(root, dt)
    base = dt.sql(dialect="postgres")
    if parent is not None:
        engine, typmod, base = parent.type, parent.typmod, parent.name
    else:
        enum = enum_typmod(root, dt)
        if enum is not None:
            engine, typmod = types.TEXT, enum
        else:
            engine, typmod = types.normalize_type_name(base), column_typmod(dt)
    named: list = []
    for cname, sql in checks:
        domain_check_expr(binder, engine, sql)
        named.append((cname or _check_name(name, named), sql, True))
    if default is not None:
        _bind_default(binder, default)
    return DomainDef(name, base, engine, typmod, parent.name if parent else None, default,
                     not_null, tuple(named))


def _check_name(domain: str, taken) -> str:
    """PostgreSQL's name for an unnamed CHECK: domain_check, then domain_check1, ..."""
    names = {c[0] for c in taken}
    name, n = f"{domain}_check", 0
    while name in names:
        n += 1
        name = f"{domain}_check{n}"
    return name


def _bind_default(binder, sql: str) -> None:
    ExprBinder(binder, Scope(), clause="DEFAULT").bind(parse_one(f"SELECT {sql}").expressions[0])


def _alter_action(binder, stmt: DomainStatement) -> tuple:
    action = stmt.spec
    domain = binder.root.domains.get(_plain(stmt.name))
    if domain is None:           # the executor says so in a transaction that made it
        return action
    if action[0] == "set default":
        _bind_default(binder, action[1])
    elif action[0] == "add check":
        _, cname, sql, not_valid = action
        domain_check_expr(binder, domain.type, sql)
        if cname is None:
            cname = _check_name(domain.name, domain.checks)
        action = ("add check", cname, sql, not_valid)
    return action

