"""Operators for the domain statements (plan/ddl.py LogicalCreateDomain,
LogicalDropDomain, LogicalAlterDomain; bound by sql/bind/bind_domain.py).

Like other DDL they change the transaction's private root (``txn.set_domain``), so a
rolled-back CREATE DOMAIN never existed. A column of a domain keeps the domain's
constraints and default in its typmod (storage/root.domain_typmod), so every change of
a domain rewrites the typmod of each column that uses it (or a domain over it) in the
same transaction, after checking the stored values against a new NOT NULL or CHECK.
"""
from __future__ import annotations

import dataclasses

from ...lazy_import import compute as pc

from ... import errors, notices
from ...plan.ddl import LogicalAlterDomain, LogicalCreateDomain, LogicalDropDomain
from ...storage.root import domain_chain, domain_typmod
from .. import constraints
from ..expr.vector import as_array, evaluate
from ..run import operator
from .alter import alter_table
from .enum_types import type_taken


def _uses(root, name: str) -> list[tuple[str, int]]:
    """(table, column position) of every column of domain ``name`` or a domain over it."""
    return [(tname, i) for tname, version in root.tables.items()
            for i, c in enumerate(version.schema.columns)
            if c.typmod is not None and c.typmod[0] == "domain"
            and name in domain_chain(root.domains, c.typmod[1])]


def _dependent_domains(root, name: str) -> list[str]:
    return sorted(n for n, d in root.domains.items() if d.parent == name)


def _retype(txn, name: str, renamed: dict | None = None) -> list[tuple[str, int]]:
    """Every column of ``name`` (or a domain over it) with its typmod from the catalog
    now; ``renamed``: old -> new domain names. Returns those columns."""
    root = txn.working
    domains = root.domains
    by_table: dict[str, list[int]] = {}
    for tname, version in root.tables.items():
        for i, c in enumerate(version.schema.columns):
            if c.typmod is None or c.typmod[0] != "domain":
                continue
            current = (renamed or {}).get(c.typmod[1], c.typmod[1])
            if name in domain_chain(domains, current):
                by_table.setdefault(tname, []).append(i)
    out = []
    for tname, positions in by_table.items():
        version = txn.working.tables[tname]
        columns = list(version.schema.columns)
        for pos in positions:
            current = (renamed or {}).get(columns[pos].typmod[1], columns[pos].typmod[1])
            columns[pos] = dataclasses.replace(columns[pos],
                                               typmod=domain_typmod(domains, current))
            out.append((tname, pos))
        txn.replace_table(tname, version.with_schema(
            version.schema.with_(columns=tuple(columns))))
    return out


def _get(txn, name: str):
    domain = txn.working.domains.get(name)
    if domain is None:
        _not_a_domain(txn, name, name)
        raise errors.sql_error("42704", f'type "{name}" does not exist')
    return domain


def _not_a_domain(txn, name: str, shown: str) -> None:
    """42809 for a type that exists but is no domain (an enum type's name); ALTER DOMAIN
    shows the name bare, DROP DOMAIN quoted, as PostgreSQL 15 does."""
    if name in txn.working.enums:
        raise errors.sql_error("42809", f"{shown} is not a domain")


@operator(LogicalCreateDomain)
def create_domain(node: LogicalCreateDomain, ctx) -> None:
    txn = ctx.txn
    domain = node.domain
    if type_taken(txn.working, domain.name):
        raise errors.sql_error("42710", f'type "{domain.name}" already exists')
    if domain.parent is not None:
        _get(txn, domain.parent)          # dropped since the statement was bound
    txn.set_domain(domain.name, domain)
    return None


@operator(LogicalDropDomain)
def drop_domain(node: LogicalDropDomain, ctx) -> None:
    txn = ctx.txn
    for table, columns, bound in node.drops:     # CASCADE: the columns go first
        for column in columns:
            notices.emit(f"drop cascades to column {column} of table {table}")
        alter_table(bound.plan, ctx)
    for name in node.targets:
        if name not in txn.working.domains:
            _not_a_domain(txn, name, f'"{name}"')
            if node.if_exists:
                notices.emit(f'type "{name}" does not exist, skipping')
                continue
            raise errors.sql_error("42704", f'type "{name}" does not exist')
        _drop(txn, name, node.cascade)
    return None


def _drop(txn, name: str, cascade: bool) -> None:
    root = txn.working
    dependents = [f"type {d} depends on type {name}" for d in _dependent_domains(root, name)]
    direct = [(t, p) for t, p in _uses(root, name)
              if root.tables[t].schema.columns[p].typmod[1] == name]
    dependents += [f"column {root.tables[t].schema.columns[p].name} of table {t} depends on "
                   f"type {name}" for t, p in direct]
    if dependents and not cascade:
        raise errors.sql_error(
            "2BP01", f"cannot drop type {name} because other objects depend on it",
            detail="\n".join(dependents),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    if direct:
        raise errors.not_supported(
            "DROP DOMAIN ... CASCADE of a domain that columns use",
            detail="\n".join(dependents),
            hint="Drop or retype those columns first (ALTER TABLE ... DROP COLUMN).")
    for other in _dependent_domains(root, name):
        notices.emit(f"drop cascades to type {other}")
        _drop(txn, other, True)
    txn.set_domain(name, None)


@operator(LogicalAlterDomain)
def alter_domain(node: LogicalAlterDomain, ctx) -> None:
    txn = ctx.txn
    domain = _get(txn, node.name)
    action = node.action
    kind = action[0]
    replace = dataclasses.replace
    if kind == "rename":
        new = action[1]
        if type_taken(txn.working, new):
            raise errors.sql_error("42710", f'type "{new}" already exists')
        txn.set_domain(domain.name, None)
        txn.set_domain(new, replace(domain, name=new))
        for child in _dependent_domains(txn.working, domain.name):
            txn.set_domain(child, replace(txn.working.domains[child], parent=new, base=new))
        _retype(txn, new, {domain.name: new})
        return None
    if kind == "set default":
        changed = replace(domain, default=action[1])
    elif kind == "drop default":
        changed = replace(domain, default=None)
    elif kind == "set not null":
        changed = replace(domain, not_null=True)
    elif kind == "drop not null":
        changed = replace(domain, not_null=False)
    elif kind == "add check":
        _, cname, sql, not_valid = action
        names = {c[0] for c in domain.checks}
        if cname is None:
            cname, n = f"{domain.name}_check", 0
            while cname in names:
                n += 1
                cname = f"{domain.name}_check{n}"
        elif cname in names:
            raise errors.sql_error(
                "42710", f'constraint "{cname}" for domain "{domain.name}" already exists')
        changed = replace(domain, checks=domain.checks + ((cname, sql, not not_valid),))
    elif kind == "drop constraint":
        _, cname, if_exists, _cascade = action
        if not any(c[0] == cname for c in domain.checks):
            if if_exists:
                notices.emit(f'constraint "{cname}" of domain "{domain.name}" does not '
                             f'exist, skipping')
                return None
            raise errors.sql_error(
                "42704", f'constraint "{cname}" of domain "{domain.name}" does not exist')
        changed = replace(domain, checks=tuple(c for c in domain.checks if c[0] != cname))
    elif kind == "rename constraint":
        _, old, new = action
        if not any(c[0] == old for c in domain.checks):
            raise errors.sql_error(
                "42704", f'constraint "{old}" for domain "{domain.name}" does not exist')
        if any(c[0] == new for c in domain.checks):
            raise errors.sql_error(
                "42710", f'constraint "{new}" for domain "{domain.name}" already exists')
        changed = replace(domain, checks=tuple((new, s, v) if n == old else (n, s, v)
                                               for n, s, v in domain.checks))
    elif kind == "validate":
        cname = action[1]
        if not any(c[0] == cname for c in domain.checks):
            raise errors.sql_error(
                "42704", f'constraint "{cname}" of domain "{domain.name}" does not exist')
        changed = replace(domain, checks=tuple((n, s, True) if n == cname else (n, s, v)
                                               for n, s, v in domain.checks))
    else:
        raise errors.InternalError(f"unknown ALTER DOMAIN action {kind!r}")
    txn.set_domain(domain.name, changed)
    columns = _retype(txn, domain.name)
    if kind == "set not null" and not domain.not_null:
        _verify_not_null(txn, columns)
    elif kind == "add check" and not action[3]:
        _verify_check(txn, ctx, columns, domain.name, cname)
    elif kind == "validate":
        _verify_check(txn, ctx, columns, domain.name, cname)
    return None


def _verify_not_null(txn, columns) -> None:
    for tname, pos in columns:
        version = txn.working.tables[tname]
        if version.live_rows and version.to_arrow().column(pos).null_count:
            raise errors.sql_error(
                "23502", f'column "{version.schema.columns[pos].name}" of table "{tname}" '
                         f'contains null values')


def _verify_check(txn, ctx, columns, domain: str, cname: str) -> None:
    """The stored values of ``columns`` against CHECK ``cname`` of ``domain``."""
    for tname, pos in columns:
        version = txn.working.tables[tname]
        if not version.live_rows:
            continue
        schema = version.schema
        data = version.to_arrow()
        for name, expr, _ in constraints.bound_checks(schema, ctx):
            if not (isinstance(name, tuple) and name[2] == cname
                    and name[1] == schema.columns[pos].typmod[1]):
                continue
            mask = as_array(evaluate(expr, data, ctx), data.num_rows)
            if pc.any(pc.fill_null(pc.invert(mask), False)).as_py():
                raise errors.sql_error(
                    "23514", f'column "{schema.columns[pos].name}" of table "{tname}" '
                             f'contains values that violate the new constraint')
