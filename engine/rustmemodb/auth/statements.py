"""CREATE/ALTER/DROP ROLE, GRANT, REVOKE and SET ROLE, applied inside the transaction.

``bind_role_statement`` turns a statement from ``sql/parse_roles.py`` into a
``BoundStatement`` whose plan (plan/auth.py) the executor hands to ``apply``, which
reads the roles catalog of the transaction's working root and writes a new one
(``Transaction.set_auth``): so these
statements commit, roll back and are logged like any DDL, and a failed one
changes nothing. Permissions follow PostgreSQL 15: superusers may do anything;
CREATEROLE roles manage non-superuser roles; owners (and holders of a grant
option) grant privileges on their tables; a role changes its own password.
SQLSTATEs are PostgreSQL's (42710 exists, 42704 no such role, 42501 denied,
2BP01 objects depend on the role, 0LP01 invalid grant, 55006 in use).

The last superuser cannot be dropped or lose SUPERUSER: ``55006``
(object_in_use), the code PostgreSQL uses for its own bootstrap superuser
("cannot be dropped because it is required by the database system"), whose
role this takes here: without a superuser nobody could manage roles over the
wire any more.
"""
from __future__ import annotations

from dataclasses import replace

import pyarrow as pa

from .. import errors
from .. import notices
from ..exec.operators.ddl import (check_drop_dependencies, drop_owned_sequences,
                                  owned_sequences)
from ..exec.run import operator
from ..plan.auth import Actor, LogicalRoleStatement
from ..sql.parse_roles import (DefaultPrivilegesStatement, GrantStatement,
                               MembershipStatement, OwnedStatement, OwnerStatement,
                               RoleSettingStatement, RoleStatement, SchemaStatement, SetRole)
from ..sql.schemas import check_qualified, reserved_schema
from ..storage.namespaces import (PUBLIC as PUBLIC_SCHEMA, SYSTEM as SYSTEM_SCHEMAS,
                                  in_schema, schema_of)
from ..storage.roles import (BOOTSTRAP_OID, COLUMN_PRIVS, DEFAULT_TYPES, EMBEDDED_USER,
                             FUNCTION_PRIVS, PUBLIC, PSEUDO_SCHEMA_OWNER, SCHEMA_PRIVS,
                             SEQUENCE_PRIVS, TABLE_PRIVS,
                             AuthCatalog, Grant, Role, default_acl, hardwired_default,
                             has_column_privilege, has_privilege, initial_grants, is_owner,
                             sql_error_undefined_role)
from . import grant_targets, grant_warnings, role_settings, verifier
from .check import effective_role, relation_columns

_NOTHING = pa.table({})


def bind_role_statement(stmt, session):
    """The BoundStatement of a parsed role statement: a ``LogicalRoleStatement`` plan
    carrying who runs it (never cached: it depends on the session)."""
    from ..sql.bind.binder import BoundStatement
    if isinstance(stmt, SetRole):       # SET/RESET ROLE are session commands (utility.py)
        raise errors.not_supported("SET ROLE inside PREPARE")
    if isinstance(stmt, RoleSettingStatement):
        role_settings.prepare(stmt, session)     # FROM CURRENT, the value checked
    actor = Actor(getattr(session, "role", None), getattr(session, "auth_user", None),
                  getattr(session, "user_name", None),
                  {"password_encryption": session.settings.get("password_encryption", "")})
    return BoundStatement(stmt.kind, plan=LogicalRoleStatement([], stmt, actor),
                          cacheable=False)


@operator(LogicalRoleStatement)
def _role_statement(node: LogicalRoleStatement, ctx) -> pa.Table:
    """The executor's operator for role statements (registered here: exec does not
    import auth, auth builds on exec)."""
    apply(node.statement, node.actor, ctx.txn, ctx.functions)
    return _NOTHING


def apply(stmt, actor, txn, functions=None) -> None:
    """Run a role statement in ``txn`` as ``actor``: a new roles catalog (or, for DROP
    OWNED, dropped tables too), logged like any other change of the transaction."""
    if isinstance(stmt, OwnedStatement):
        _run_owned(stmt, txn, actor)
        return
    if isinstance(stmt, SchemaStatement):
        _run_schema(stmt, txn, actor)
        return
    run = {RoleStatement: _run_role, GrantStatement: _run_grant,
           MembershipStatement: _run_membership, OwnerStatement: _run_owner,
           DefaultPrivilegesStatement: _run_default_privileges,
           RoleSettingStatement: role_settings.run}[type(stmt)]
    cat = txn.working.auth
    if run is _run_grant:       # a view's column names are its query's: bound with these
        new = _run_grant(stmt, cat, actor, txn.working, functions)
    else:
        new = run(stmt, cat, actor, txn.working)
    if new is not cat:
        txn.set_auth(new)


# ---- helpers ---------------------------------------------------------------------------

def _resolve(name: str, session) -> str:
    """CURRENT_USER / CURRENT_ROLE / SESSION_USER in a role position."""
    if name.startswith("\x00"):
        word = name[1:]
        if word == "session_user":
            return getattr(session, "user_name", None) or EMBEDDED_USER
        return effective_role(session) or getattr(session, "user_name", None) or EMBEDDED_USER
    return name


def _need_role(cat: AuthCatalog, name: str) -> Role:
    role = cat.role(name)
    if role is None:
        raise sql_error_undefined_role(name)
    return role


def _is_super(cat: AuthCatalog, who: str | None) -> bool:
    return who is None or cat.is_superuser(who)


def _can_createrole(cat: AuthCatalog, who: str | None) -> bool:
    if _is_super(cat, who):
        return True
    r = cat.role(who)
    return r is not None and r.createrole


def _password(value, name: str, session) -> str | None:
    if value is None or value == "":
        return None          # PostgreSQL: an empty password clears it
    method = (session.settings.get("password_encryption") or "scram-sha-256").lower()
    return verifier.make(value, name, "md5" if method == "md5" else "scram-sha-256")


_ATTRS = ("superuser", "login", "createrole", "createdb", "inherit", "replication",
          "bypassrls", "connlimit", "valid_until")


def _superusers(cat: AuthCatalog) -> list[str]:
    return [n for n, r in cat.roles.items() if r.superuser]


# ---- CREATE / ALTER / DROP ROLE ----------------------------------------------------------

def _run_role(stmt: RoleStatement, cat: AuthCatalog, session, root) -> AuthCatalog:
    who = effective_role(session)
    if stmt.action == "create":
        return _create(stmt, cat, session, who)
    if stmt.action == "drop":
        return _drop(stmt, cat, session, who, root)
    name = _resolve(stmt.names[0], session)
    role = _need_role(cat, name)
    if stmt.action == "rename":
        return _rename(stmt, cat, session, who, role)
    return _alter(stmt, cat, session, who, role)


def _create(stmt, cat, session, who) -> AuthCatalog:
    name = stmt.names[0]
    opts = stmt.options
    if name.startswith("pg_"):
        raise errors.sql_error("42939", f'role name "{name}" is reserved',
                               detail='Role names starting with "pg_" are reserved.')
    if not _can_createrole(cat, who):
        raise errors.sql_error("42501", "permission denied to create role")
    for flag in ("superuser", "replication", "bypassrls"):
        if opts.get(flag) and not _is_super(cat, who):
            raise errors.sql_error("42501", f"must be superuser to create {flag} users"
                                   if flag != "superuser" else
                                   "must be superuser to create superusers")
    if cat.role(name) is not None:
        raise errors.sql_error("42710", f'role "{name}" already exists')
    role = Role(name, cat.next_oid, login=stmt.keyword == "USER")
    role = replace(role, **{k: v for k, v in opts.items() if k in _ATTRS})
    if "password" in opts:
        role = replace(role, password=_password(opts["password"], name, session))
    cat = cat.with_role(role)
    grantor = who or name
    members = list(cat.members)
    for parent in opts.get("in_role", ()):
        parent = _resolve(parent, session)
        _need_role(cat, parent)
        members.append((parent, name, False, grantor))
    for member in opts.get("role", ()):
        member = _resolve(member, session)
        _need_role(cat, member)
        members.append((name, member, False, grantor))
    for member in opts.get("admin", ()):
        member = _resolve(member, session)
        _need_role(cat, member)
        members.append((name, member, True, grantor))
    return cat.with_members(tuple(members))


def _alter(stmt, cat, session, who, role: Role) -> AuthCatalog:
    opts = stmt.options
    attrs = {k: v for k, v in opts.items() if k in _ATTRS}
    if not _is_super(cat, who):
        only_password = set(opts) <= {"password"}
        if role.superuser or any(k in attrs for k in ("superuser", "replication",
                                                       "bypassrls")):
            if not (only_password and role.name == who):
                raise errors.sql_error("42501", "must be superuser to alter superuser roles "
                                                "or change superuser attribute")
        elif not (_can_createrole(cat, who) or (only_password and role.name == who)):
            raise errors.sql_error("42501", "permission denied")
    if attrs.get("superuser") is False and role.superuser and _superusers(cat) == [role.name]:
        raise errors.sql_error("55006", f'cannot remove superuser from role "{role.name}": '
                                        "it is the last superuser",
                               hint="Make another role SUPERUSER first.")
    new = replace(role, **attrs)
    if "password" in opts:
        new = replace(new, password=_password(opts["password"], role.name, session))
    for key in ("in_role", "role", "admin"):
        if key in opts:
            raise errors.syntax_error(f"syntax error at or near \"{key.upper().replace('_', ' ')}\"")
    return cat.with_role(new)


def _rename(stmt, cat, session, who, role: Role) -> AuthCatalog:
    new = _resolve(stmt.new_name, session)
    if role.name == getattr(session, "auth_user", None):
        raise errors.sql_error("0A000", "session user cannot be renamed")
    if role.name == effective_role(session):
        raise errors.sql_error("0A000", "current user cannot be renamed")
    if not (_is_super(cat, who) if role.superuser else _can_createrole(cat, who)):
        raise errors.sql_error("42501", "permission denied to rename role")
    if new.startswith("pg_"):
        raise errors.sql_error("42939", f'role name "{new}" is reserved')
    if cat.role(new) is not None:
        raise errors.sql_error("42710", f'role "{new}" already exists')
    cat = cat.renamed_role(role.name, new)
    r = cat.role(new)
    if r.password and r.password.startswith("md5"):
        cat = cat.with_role(replace(r, password=None))   # md5 hashes salt with the name
    return cat


def _drop(stmt, cat, session, who, root) -> AuthCatalog:
    for raw in stmt.names:
        name = _resolve(raw, session)
        role = cat.role(name)
        if role is None:
            if stmt.if_exists:
                continue
            raise sql_error_undefined_role(name)
        if not (_is_super(cat, who) if role.superuser else _can_createrole(cat, who)):
            raise errors.sql_error("42501", "permission denied to drop role")
        if name == getattr(session, "auth_user", None):
            raise errors.sql_error("55006", "session user cannot be dropped")
        if name == effective_role(session):
            raise errors.sql_error("55006", "current user cannot be dropped")
        if role.superuser and _superusers(cat) == [name]:
            raise errors.sql_error("55006", f'cannot drop role "{name}" because it is the '
                                            "last superuser",
                                   hint="Make another role SUPERUSER first.")
        deps = [f"owner of {_describe(root, kind, obj)}"
                for (kind, obj), owner in sorted(cat.owners.items()) if owner == name]
        privileges = _column_dependencies(cat, root, name)
        for (kind, obj), grants in cat.acl.items():
            if any(g.grantee == name or (g.grantor == name and g.grantee != name)
                   for g in grants) and cat.owner(kind, obj) != name:
                privileges.append(((kind, obj, -1), "privileges for "
                                   f"{_describe(root, kind, obj)}"))
        deps.extend(line for _key, line in sorted(privileges))   # a table, then its columns
        for (owner, schema, objtype), grants in cat.defaults.items():
            what = f"default privileges on new {DEFAULT_TYPES[objtype][1]} belonging to " \
                   f"role {owner}" + (f" in schema {schema}" if schema else "")
            if owner == name:
                deps.append(f"owner of {what}")
            elif any(g.grantee == name for g in grants):
                deps.append(f"privileges for {what}")
        if deps:
            raise errors.sql_error("2BP01", f'role "{name}" cannot be dropped because some '
                                            "objects depend on it", detail="\n".join(deps))
        cat = cat.without_role(name)
    return cat


def _column_dependencies(cat: AuthCatalog, root, name: str) -> list[tuple]:
    """DROP ROLE's detail lines for the role's column grants (to it, or by it to
    others), as PostgreSQL words them: ``(("table", table, column position), line)``."""
    out = []
    for table in sorted({t for t, _c in cat.columns}):
        if cat.owner("table", table) == name:
            continue
        version = root.tables.get(table)
        order = [c.name for c in version.schema.columns] if version is not None else []
        cols = sorted((c for t, c in cat.columns if t == table),
                      key=lambda c: order.index(c) if c in order else len(order))
        for n, column in enumerate(cols):
            if any(g.grantee == name or (g.grantor == name and g.grantee != name)
                   for g in cat.column_grants(table, column)):
                out.append((("table", table, n), f"privileges for column {column} of "
                                                 f"{_kind(root, table)} {table}"))
    return out


def _describe(root, kind: str, name: str) -> str:
    """An object as DROP ROLE's detail names it: ``table t``, ``sequence s``,
    ``function f(bigint)``, ``schema s``."""
    if kind == "table":
        return f"{_kind(root, name)} {name}"
    if kind == "function":
        return f"function {grant_targets.signature(root, name)}"
    return f"{kind} {name}"


def _kind(root, name: str) -> str:
    return "view" if name in root.views else "sequence" if name in root.sequences \
        else "table"


# ---- CREATE / DROP / ALTER SCHEMA -------------------------------------------------------------

def _run_schema(stmt: SchemaStatement, txn, session) -> None:
    """Schemas are entries of the roles catalog (``AuthCatalog.schemas``, owners and
    grants beside); DROP ... CASCADE also drops the schema's relations, in ``txn``."""
    cat = txn.working.auth
    who = effective_role(session)
    if stmt.action == "create":
        owner = _resolve(stmt.owner, session) if stmt.owner is not None else None
        name = stmt.names[0] if stmt.names[0] is not None else owner
        if owner is not None and (cat.active or owner != _resolve("\x00current_user",
                                                                 session)):
            _need_role(cat, owner)   # without roles, only the session's own user exists
        if not _is_super(cat, who):
            raise errors.sql_error("42501", "permission denied for database",
                                   hint="Creating schemas is reserved to superusers here.")
        if reserved_schema(name):
            raise errors.sql_error("42939", f'unacceptable schema name "{name}"',
                                   detail='The prefix "pg_" is reserved for system schemas.')
        if "." in name:
            raise errors.not_supported("schema names containing a dot")
        if name in (PUBLIC_SCHEMA, *SYSTEM_SCHEMAS) or name in cat.schemas:
            if stmt.if_exists:
                notices.emit(f'schema "{name}" already exists, skipping', "42P06")
                return
            raise errors.sql_error("42P06", f'schema "{name}" already exists')
        if not cat.active:
            owner = None
        owner = owner if owner is not None else who
        cat = cat.with_schema(name, owner)
        grants = initial_grants(cat, owner or EMBEDDED_USER, "", "n")   # its owner's defaults
        if grants is not None:
            cat = cat.with_grants("schema", name, grants)
        txn.set_auth(cat)
        return
    if stmt.action == "owner":
        name = stmt.names[0]
        _need_schema(txn.working, name)
        if name == PUBLIC_SCHEMA:
            raise errors.not_supported("ALTER SCHEMA public")
        owner = _resolve(stmt.owner, session)
        _need_role(cat, owner)
        if not is_owner(cat, who, "schema", name):
            raise errors.sql_error("42501", f"must be owner of schema {name}")
        txn.set_auth(cat.with_owner("schema", name, owner))
        return
    for name in stmt.names:
        if name == PUBLIC_SCHEMA:
            raise errors.not_supported("DROP SCHEMA public",
                                       hint="Schema public always exists here; drop its "
                                            "tables instead.")
        if name in SYSTEM_SCHEMAS:
            raise errors.sql_error("2BP01", f"cannot drop schema {name} because it is "
                                            "required by the database system")
        if name not in txn.working.auth.schemas:
            if stmt.if_exists:
                notices.emit(f'schema "{name}" does not exist, skipping')
                continue
            raise errors.sql_error("3F000", f'schema "{name}" does not exist')
        if not is_owner(txn.working.auth, who, "schema", name):
            raise errors.sql_error("42501", f"must be owner of schema {name}")
        _drop_schema(txn, name, stmt.cascade)


def _relkind_of(root, name: str) -> str:
    if name in root.views:
        return "view"
    return "materialized view" if root.tables[name].schema.matview_sql is not None else "table"


def _drop_schema(txn, name: str, cascade: bool) -> None:
    root = txn.working
    schemas = root.auth.schemas
    views = sorted(in_schema(root.views, name, schemas))
    tables = sorted(in_schema(root.tables, name, schemas))
    owned = {seq for t in tables for seq in owned_sequences(root.tables[t].schema)}
    sequences = sorted(s for s in in_schema(root.sequences, name, schemas) if s not in owned)
    lines = [f"{_relkind_of(root, n)} {n}" for n in views + tables] + \
        [f"sequence {seq}" for seq in sequences]
    if lines and not cascade:
        raise errors.sql_error(
            "2BP01", f"cannot drop schema {name} because other objects depend on it",
            detail="\n".join(f"{line} depends on schema {name}" for line in lines),
            hint="Use DROP ... CASCADE to drop the dependent objects too.")
    if len(lines) == 1:
        notices.emit(f"drop cascades to {lines[0]}")
    elif lines:
        notices.emit(f"drop cascades to {len(lines)} other objects")
    cat = root.auth
    for v in views:
        txn.set_view(v, None)
        cat = cat.without_object("table", v)
    for t in tables:
        check_drop_dependencies(txn, t, True)   # foreign keys of other schemas' tables
        txn.replace_table(t, None)
        cat = cat.without_object("table", t)
    for seq in sorted(owned) + sequences:
        if seq in txn.working.sequences:
            txn.drop_sequence(seq)
        cat = cat.without_object("table", seq)      # its owner and grants go with it
    txn.set_auth(cat.without_schema(name))


# ---- GRANT / REVOKE privileges -------------------------------------------------------------

_need_schema = grant_targets.need_schema


def _grantees(stmt: GrantStatement, cat: AuthCatalog, session) -> list[str]:
    """The roles a GRANT/REVOKE names (PUBLIC is ""), each existing; 0LP01 for a grant
    option to PUBLIC."""
    grantees = []
    for g in stmt.grantees:
        g = _resolve(g, session)
        if g != PUBLIC:
            _need_role(cat, g)
        grantees.append(g)
    if stmt.grant and stmt.grant_option and PUBLIC in grantees:
        raise errors.sql_error("0LP01", "grant options can only be granted to roles")
    return grantees


def _add_grant(grants: list, grantee: str, priv: str, grantor: str, option: bool) -> None:
    """GRANT ``priv`` to ``grantee`` as ``grantor`` in ``grants``: a new item, or the
    grant option added to the one there."""
    for i, g in enumerate(grants):
        if (g.grantee, g.privilege, g.grantor) == (grantee, priv, grantor):
            if option and not g.grantable:
                grants[i] = replace(g, grantable=True)
            return
    grants.append(Grant(grantee, priv, option, grantor))


def _run_grant(stmt: GrantStatement, cat: AuthCatalog, session, root,
               functions=None) -> AuthCatalog:
    who = effective_role(session)
    privs = grant_targets.privileges(stmt)
    columns = _column_privileges(stmt)
    targets = grant_targets.targets(stmt, root)
    grantees = _grantees(stmt, cat, session)
    for kind, name in targets:
        mine = grant_targets.for_object(root, kind, name, privs, stmt.privileges == ["ALL"]) \
            if privs else privs
        if mine:
            cat = _grant_one(stmt, cat, who, kind, name, mine, grantees, root, functions)
        if columns:
            cat = _grant_columns(stmt, cat, who, name, columns, grantees, root, functions)
    return cat


def _column_privileges(stmt: GrantStatement) -> list[tuple[str, str]]:
    """The (privilege, column) pairs a GRANT/REVOKE names (``ALL (a)`` spelled out), 0LP01
    for a privilege columns do not have or a target that is no relation."""
    if stmt.columns and stmt.target not in ("table", "all_tables"):
        raise errors.sql_error("0LP01", "column privileges are only valid for relations")
    out = []
    for priv, cols in stmt.columns:
        if priv != "ALL" and priv not in COLUMN_PRIVS:
            raise errors.sql_error("0LP01", f"invalid privilege type {priv} for column")
        for p in (COLUMN_PRIVS if priv == "ALL" else (priv,)):
            out.extend((p, c) for c in cols)
    return list(dict.fromkeys(out))


def _grant_columns(stmt, cat, who, table, pairs, grantees, root, functions) -> AuthCatalog:
    """GRANT/REVOKE ``privilege (column)`` on one relation: each column's ACL (PostgreSQL's
    attacl) changes as a table's does, the grantor needing the grant option of the
    column's or the table's privilege (the owner and superusers have every one)."""
    have = relation_columns(root, table, functions) or []
    for _p, c in pairs:
        if c not in have:
            raise errors.sql_error("42703", f'column "{c}" of relation '
                                            f'"{table.rsplit(".", 1)[-1]}" does not exist')
    if not _is_super(cat, who) and not is_owner(cat, who, "table", table):
        mine = cat.member_of(who)
        can = []
        for p, c in pairs:
            if _column_option(cat, who, table, c, p, mine):
                can.append((p, c))
            elif not any(has_privilege(cat, who, "table", table, q, roles=mine)
                         or has_column_privilege(cat, who, table, c, q, roles=mine)
                         for q in COLUMN_PRIVS):
                raise errors.sql_error("42501", f'permission denied for column "{c}" of '
                                                f'relation "{table.rsplit(".", 1)[-1]}"')
        for column in have:         # PostgreSQL warns column by column, in their order
            asked = [p for p, c in pairs if c == column]
            if asked:
                grant_warnings.restricted(
                    stmt.grant, grant_warnings.column_label(table, column), asked,
                    [p for p, c in can if c == column], set(asked) == set(COLUMN_PRIVS))
        pairs = can
    for column in dict.fromkeys(c for _p, c in pairs):
        # the grant options may come from the column's ACL or the table's
        holds = _holds_options(cat.grants("table", table) + cat.column_grants(table, column),
                               [p for p, c in pairs if c == column])
        grantor = _grantor(cat, who, "table", table, holds)
        grantors = [grantor] + ([who] if not stmt.grant and who not in (None, grantor)
                                and _is_super(cat, who) else [])
        grants = list(cat.column_grants(table, column))
        for grantee in grantees:
            for p, c in pairs:
                if c != column:
                    continue
                if stmt.grant:
                    _add_grant(grants, grantee, p, grantor, stmt.grant_option)
                    continue
                for by in grantors:
                    grants = _revoke(grants, grantee, p, by, stmt.grant_option, stmt.cascade,
                                     "column", table)
        cat = cat.with_column_grants(table, column, tuple(grants))
    return cat


def _grantor(cat: AuthCatalog, who: str | None, kind: str, name: str, holds=None) -> str:
    """Who a grant is recorded as made by: the owner when a superuser (or a member of the
    owning role) grants, as PostgreSQL does, else the granting role itself, or (``holds``:
    whether a role has been granted the options needed) the first role it inherits from
    that holds them when it does not itself (PostgreSQL's select_best_grantor)."""
    owner = cat.owner(kind, name)
    if kind == "schema" and owner is None:
        owner = PSEUDO_SCHEMA_OWNER
    if who is None or _is_super(cat, who) or is_owner(cat, who, kind, name):
        # an object made by a session without a role is the embedded user's: a
        # superuser's GRANT and REVOKE act as that owner too
        return owner or (who if who is not None and not _is_super(cat, who) else
                         EMBEDDED_USER)
    if holds is None or holds(who):
        return who
    return next((r for r in _inherited(cat, who) if holds(r)), who)


def _inherited(cat: AuthCatalog, who: str) -> list[str]:
    """The roles whose privileges ``who`` has, nearest first (PostgreSQL's
    roles_is_member_of order): direct memberships in the order granted, then theirs."""
    out, todo = [], [who]
    while todo:
        member = todo.pop(0)
        r = cat.role(member)
        if r is not None and not r.inherit:
            continue
        for role, m, _admin, _g in cat.members:
            if m == member and role not in out and role != who:
                out.append(role)
                todo.append(role)
    return out


def _holds_options(grants, privs) -> callable:
    """``holds(role)``: whether ``grants`` give ``role`` itself every one of ``privs``
    with the grant option."""
    return lambda role: all(any(g.grantee == role and g.privilege == p and g.grantable
                                for g in grants) for p in privs)


def _column_option(cat, who, table: str, column: str, priv: str, mine) -> bool:
    """Whether ``who`` may grant ``priv`` on the column: the table's or the column's
    grant option."""
    return has_privilege(cat, who, "table", table, priv, grant_option=True, roles=mine) \
        or has_column_privilege(cat, who, table, column, priv, True, mine)


def _grant_one(stmt, cat, who, kind, name, privs, grantees, root,
               functions=None) -> AuthCatalog:
    limited = not _is_super(cat, who) and not is_owner(cat, who, kind, name)
    asked = privs
    if limited:
        can = [p for p in privs if has_privilege(cat, who, kind, name, p, grant_option=True)]
        if not can:
            # PostgreSQL: denied only if the role holds no privilege on the object at
            # all; otherwise nothing is granted (with a warning) and the statement succeeds
            every = {"table": grant_targets.RELATION_PRIVS, "schema": SCHEMA_PRIVS,
                     "function": FUNCTION_PRIVS}[kind]
            if not any(has_privilege(cat, who, kind, name, p) for p in every):
                label = _kind(root, name) if kind == "table" else kind
                raise errors.sql_error("42501", f"permission denied for {label} {name}")
        grant_warnings.restricted(stmt.grant, grant_warnings.relation_label(name), privs, can,
                                  stmt.privileges == ["ALL"])
        privs = can
    if stmt.grant:
        grants = list(cat.acl.get((kind, name), _default_acl(cat, root, kind, name)))
        if not privs:       # nothing granted, yet PostgreSQL writes the ACL out all the same
            return cat.with_grants(kind, name, tuple(grants))
        grantor = _grantor(cat, who, kind, name, _holds_options(grants, privs))
        for grantee in grantees:
            for p in privs:
                _add_grant(grants, grantee, p, grantor, stmt.grant_option)
        return cat.with_grants(kind, name, tuple(grants))
    if privs:
        grants = list(cat.acl.get((kind, name), _default_acl(cat, root, kind, name)))
        grantor = _grantor(cat, who, kind, name, _holds_options(grants, privs))
        # a superuser revokes as the owner; grants an earlier version recorded as made
        # by the superuser itself go as well
        grantors = [grantor] + ([who] if who not in (None, grantor) and _is_super(cat, who)
                                else [])
        for grantee in grantees:
            for p in privs:
                for by in grantors:
                    grants = _revoke(grants, grantee, p, by, stmt.grant_option, stmt.cascade,
                                     kind, name)
        cat = cat.with_grants(kind, name, tuple(grants))
    column_privs = [p for p in asked if p in COLUMN_PRIVS]
    if kind == "table" and column_privs:
        cat = _revoke_from_columns(stmt, cat, who, name, column_privs, grantees, root,
                                   functions, limited)
    return cat


def _default_acl(cat: AuthCatalog, root, kind: str, name: str) -> tuple:
    """The object's grants before its first GRANT/REVOKE (a sequence's owner has a
    sequence's rights)."""
    return default_acl(cat, kind, name, SEQUENCE_PRIVS if kind == "table"
                       and name in root.sequences else TABLE_PRIVS)


def _revoke_from_columns(stmt, cat, who, table, privs, grantees, root, functions,
                         limited: bool) -> AuthCatalog:
    """REVOKE of a table privilege revokes it from each of its columns too, as
    PostgreSQL does, each column as far as the grantor holds its grant option there
    (with the column's warning when not)."""
    columns = relation_columns(root, table, functions)
    if table in root.sequences:     # a sequence's columns, as PostgreSQL's relation has them
        columns = list(grant_warnings.SYSTEM_COLUMNS) + list(grant_warnings.SEQUENCE_COLUMNS)
    elif columns is None:           # no column list: only the columns with grants
        columns = [c for t, c in cat.columns if t == table]
    elif table in root.tables:
        columns = list(grant_warnings.SYSTEM_COLUMNS) + columns
    mine = cat.member_of(who) if limited else None
    for column in columns:
        can = privs
        if limited:
            can = [p for p in privs if _column_option(cat, who, table, column, p, mine)]
            grant_warnings.restricted(False, grant_warnings.column_label(table, column),
                                      privs, can, set(privs) == set(COLUMN_PRIVS))
        had = cat.column_grants(table, column)
        if not had or not can:
            continue
        holds = _holds_options(cat.grants("table", table) + had, can)
        grantor = _grantor(cat, who, "table", table, holds)
        grantors = [grantor] + ([who] if who not in (None, grantor) and _is_super(cat, who)
                                else [])
        kept = list(had)
        for grantee in grantees:
            for p in can:
                for by in grantors:
                    kept = _revoke(kept, grantee, p, by, stmt.grant_option, stmt.cascade,
                                   "column", table)
        cat = cat.with_column_grants(table, column, tuple(kept))
    return cat


def _revoke(grants: list, grantee: str, priv: str, grantor: str, option_only: bool,
            cascade: bool, kind: str, name: str) -> list:
    out = []
    removed = False
    for g in grants:
        if (g.grantee, g.privilege, g.grantor) == (grantee, priv, grantor):
            removed = g.grantable
            if option_only:
                out.append(replace(g, grantable=False))
            continue
        out.append(g)
    if removed:     # what the grantee granted on with that option goes too (CASCADE)
        dependent = [g for g in out if g.grantor == grantee and g.privilege == priv
                     and g.grantee != grantee]
        if dependent and not cascade:
            raise errors.sql_error("2BP01", "dependent privileges exist",
                                   hint="Use CASCADE to revoke them too.")
        for g in dependent:
            out = _revoke(out, g.grantee, priv, grantee, False, True, kind, name)
    return out


# ---- ALTER DEFAULT PRIVILEGES --------------------------------------------------------------

def _run_default_privileges(stmt: DefaultPrivilegesStatement, cat: AuthCatalog, session,
                            root) -> AuthCatalog:
    """GRANT or REVOKE on the objects the roles create from now on (PostgreSQL's
    pg_default_acl): applied when a table, view or schema is created (``check.after_ddl``,
    ``_run_schema``), never to objects that exist. The current role's, or FOR ROLE's:
    a role may set them for roles it is a member of; superusers for any."""
    who = effective_role(session)
    change = stmt.change
    objtype = {"schemas": "n", "sequences": "S", "functions": "f"}.get(change.target, "r")
    if stmt.schemas and objtype == "n":
        raise errors.sql_error("0LP01", "cannot use IN SCHEMA clause when using "
                                        "GRANT/REVOKE ON SCHEMAS")
    owners = [_resolve(r, session) for r in stmt.roles] or [who or EMBEDDED_USER]
    for owner in owners:
        if owner != EMBEDDED_USER or who is not None:
            _need_role(cat, owner)
            if not _is_super(cat, who) and owner not in cat.member_of(who):
                raise errors.sql_error("42501", f'must be member of role "{owner}"')
    for schema in stmt.schemas:
        _need_schema(root, schema)
    privs = grant_targets.privileges(change)
    grantees = _grantees(change, cat, session)
    for owner in owners:
        for schema in stmt.schemas or [""]:
            have = cat.defaults.get((owner, schema, objtype))
            grants = list(have if have is not None else
                          hardwired_default(owner, objtype) if not schema else ())
            for grantee in grantees:
                for p in privs:
                    if change.grant:
                        _add_grant(grants, grantee, p, owner, change.grant_option)
                    else:
                        grants = _revoke(grants, grantee, p, owner, change.grant_option,
                                         True, "table", "")
            # kept sorted by grantee, then grantor (their oids, PUBLIC's 0 first), as
            # PostgreSQL sorts a pg_default_acl entry's items
            grants.sort(key=lambda g: (_oid(cat, g.grantee), _oid(cat, g.grantor)))
            cat = cat.with_default(owner, schema, objtype,
                                   _default_entry(tuple(grants), owner, schema, objtype))
    return cat


def _oid(cat: AuthCatalog, name: str) -> int:
    role = cat.role(name)
    return 0 if name == PUBLIC else role.oid if role is not None else BOOTSTRAP_OID


def _default_entry(grants: tuple | None, owner: str, schema: str, objtype: str):
    """The entry to keep: none at all when it says no more than the default (a global
    entry equal to the hardwired rights, a per-schema one that adds nothing), as
    PostgreSQL deletes such pg_default_acl rows."""
    if grants is None:
        return None
    if schema:
        return grants or None
    if sorted(grants, key=_grant_key) == sorted(hardwired_default(owner, objtype),
                                                key=_grant_key):
        return None
    return grants


def _grant_key(g: Grant) -> tuple:
    return g.grantee, g.privilege, g.grantable, g.grantor


# ---- GRANT / REVOKE role membership ----------------------------------------------------------

def _run_membership(stmt: MembershipStatement, cat: AuthCatalog, session, root) -> AuthCatalog:
    who = effective_role(session)
    members = list(cat.members)
    for raw in stmt.roles:
        role = _need_role(cat, _resolve(raw, session))
        admin = any(m[0] == role.name and m[1] in cat.member_of(who or "") and m[2]
                    for m in cat.members) if who is not None else True
        if not (_is_super(cat, who) or admin or (not role.superuser
                                                   and _can_createrole(cat, who))):
            raise errors.sql_error("42501", f'must have admin option on role "{role.name}"')
        for raw_member in stmt.members:
            member = _need_role(cat, _resolve(raw_member, session)).name
            existing = [m for m in members if m[0] == role.name and m[1] == member]
            if stmt.grant:
                if member == role.name or member in AuthCatalog(
                        cat.roles, tuple(members)).member_of(role.name):
                    raise errors.sql_error("0LP01", f'role "{role.name}" is a member of role '
                                                    f'"{member}"')
                if existing:
                    if stmt.admin_option and not existing[0][2]:
                        members[members.index(existing[0])] = (role.name, member, True,
                                                               existing[0][3])
                    continue
                members.append((role.name, member, stmt.admin_option, who or role.name))
            else:
                for m in existing:
                    i = members.index(m)
                    if stmt.admin_option:
                        members[i] = (m[0], m[1], False, m[3])
                    else:
                        del members[i]
    return cat.with_members(tuple(members))


# ---- ALTER TABLE ... OWNER TO ------------------------------------------------------------

def _run_owner(stmt: OwnerStatement, cat: AuthCatalog, session, root) -> AuthCatalog:
    """As PostgreSQL: the owner (or a superuser) may give a table away, to a role it is a
    member of (non-superusers); the new owner's grants follow the old owner's."""
    if stmt.relkind == "function":
        return _function_owner(stmt, cat, session, root)
    name = stmt.name
    in_tables, in_views = name in root.tables, name in root.views
    in_sequences = name in root.sequences
    if not (in_tables or in_views or in_sequences):
        if not stmt.if_exists:
            check_qualified(root, name)
        if stmt.if_exists:
            return cat
        raise errors.sql_error("42P01", f'relation "{name}" does not exist')
    if stmt.relkind == "view" and not in_views:
        raise errors.sql_error("42809", f'"{name}" is not a view')
    if stmt.relkind == "sequence" and not in_sequences:
        raise errors.sql_error("42809", f'"{name}" is not a sequence')
    who = effective_role(session)
    new = _need_role(cat, _resolve(stmt.role, session)).name
    if not _is_super(cat, who):
        if not is_owner(cat, who, "table", name):
            raise errors.sql_error("42501", f"must be owner of {_kind(root, name)} {name}")
        if new not in cat.member_of(who):
            raise errors.sql_error("42501", f'must be able to SET ROLE "{new}"')
    old = cat.owner("table", name)
    if (("table", name)) in cat.acl and old is not None:
        ren = lambda n: new if n == old else n   # noqa: E731
        grants = tuple(dict.fromkeys(replace(g, grantee=ren(g.grantee), grantor=ren(g.grantor))
                                     for g in cat.grants("table", name)))
        cat = cat.with_grants("table", name, grants)
    if old is not None:
        cat = _renamed_in_columns(cat, name, {old}, new)
    return cat.with_owner("table", name, new)


def _function_owner(stmt: OwnerStatement, cat: AuthCatalog, session, root) -> AuthCatalog:
    """ALTER FUNCTION f(args) OWNER TO role: as for a table, its owner (or a superuser)
    gives it to a role it is a member of, and the grants follow."""
    name = grant_targets.routine(root, stmt.routine, stmt.name, stmt.args)
    who = effective_role(session)
    new = _need_role(cat, _resolve(stmt.role, session)).name
    if not _is_super(cat, who):
        if not is_owner(cat, who, "function", name):
            raise errors.sql_error("42501", f"must be owner of function {name}")
        if new not in cat.member_of(who):      # PostgreSQL 15's words
            raise errors.sql_error("42501", f'must be member of role "{new}"')
        schema = schema_of(name, cat.schemas)   # the new owner could create it there
        if not has_privilege(cat, new, "schema", schema, "CREATE"):
            raise errors.sql_error("42501", f"permission denied for schema {schema}")
    old = cat.owner("function", name)
    if ("function", name) in cat.acl and old is not None:
        ren = lambda n: new if n == old else n   # noqa: E731
        cat = cat.with_grants("function", name, tuple(dict.fromkeys(
            replace(g, grantee=ren(g.grantee), grantor=ren(g.grantor))
            for g in cat.grants("function", name))))
    return cat.with_owner("function", name, new)


def _renamed_in_columns(cat: AuthCatalog, table: str, olds: set, new: str) -> AuthCatalog:
    """A table's column grants made by or to ``olds``, as made by or to ``new`` (its new
    owner: ALTER TABLE OWNER TO, REASSIGN OWNED)."""
    ren = lambda n: new if n in olds else n   # noqa: E731
    for (t, column), grants in list(cat.columns.items()):
        if t == table:
            cat = cat.with_column_grants(t, column, tuple(dict.fromkeys(
                replace(g, grantee=ren(g.grantee), grantor=ren(g.grantor)) for g in grants)))
    return cat


# ---- REASSIGN OWNED / DROP OWNED ------------------------------------------------------------

def _run_owned(stmt: OwnedStatement, txn, session) -> None:
    """REASSIGN OWNED BY a TO b: a's tables, views and schemas (and a's grants on them)
    pass to b. DROP OWNED BY a: a's tables, views and schemas are dropped, every grant to
    or by a revoked;
    then DROP ROLE a succeeds. Both need the rights of the roles named (or superuser)."""
    cat = txn.working.auth
    who = effective_role(session)
    roles = [_need_role(cat, _resolve(r, session)).name for r in stmt.roles]
    mine = cat.member_of(who) if who is not None else set()
    targets = roles + ([_need_role(cat, _resolve(stmt.new_owner, session)).name]
                       if stmt.new_owner else [])
    if not _is_super(cat, who) and any(r not in mine for r in targets):
        raise errors.sql_error("42501", "permission denied to "
                               + ("drop objects" if stmt.drop else "reassign objects"))
    if not stmt.drop:
        new = targets[-1]
        ren = lambda n: new if n in roles else n   # noqa: E731
        for key, owner in list(cat.owners.items()):
            if owner in roles:
                cat = cat.with_owner(key[0], key[1], new)
                grants = tuple(replace(g, grantee=ren(g.grantee), grantor=ren(g.grantor))
                               for g in cat.grants(*key))
                if key in cat.acl:
                    cat = cat.with_grants(key[0], key[1], tuple(dict.fromkeys(grants)))
                if key[0] == "table":
                    cat = _renamed_in_columns(cat, key[1], set(roles), new)
        txn.set_auth(cat)
        return
    owned = [name for (kind, name), owner in sorted(cat.owners.items())
             if kind == "table" and owner in roles]
    working = txn.working
    for name in owned:
        if name in working.tables and not stmt.cascade:
            for other, version in working.tables.items():
                if other not in owned and any(fk.ref_table == name
                                              for fk in version.schema.foreign_keys):
                    raise errors.sql_error(
                        "2BP01", "cannot drop desired object(s) because other objects "
                                 "depend on them",
                        detail=f"table {other} depends on table {name}",
                        hint="Use DROP ... CASCADE to drop the dependent objects too.")
    for name in owned:
        if name in txn.working.views:
            txn.set_view(name, None)
    for name in owned:
        if name in txn.working.tables:
            check_drop_dependencies(txn, name, True)
            version = txn.working.tables[name]
            txn.replace_table(name, None)
            drop_owned_sequences(txn, name, version.schema)
    for name in owned:          # the roles' sequences (and functions) of their own
        if name in txn.working.sequences:
            txn.drop_sequence(name)
    for (kind, name), owner in sorted(txn.working.auth.owners.items()):
        if kind == "function" and owner in roles and name in txn.working.functions:
            txn.set_function(name, None)
    for (kind, name), owner in sorted(txn.working.auth.owners.items()):
        if kind == "schema" and owner in roles and name in txn.working.auth.schemas:
            _drop_schema(txn, name, stmt.cascade)   # what others own in it: 2BP01 or CASCADE
    cat = txn.working.auth
    for name in owned:
        cat = cat.without_object("table", name)
    for seq in set(working.sequences) - set(txn.working.sequences):
        cat = cat.without_object("table", seq)      # a dropped table's SERIAL sequences
    for fn in set(working.functions) - set(txn.working.functions):
        cat = cat.without_object("function", fn)
    for key, grants in list(cat.acl.items()):
        kept = tuple(g for g in grants if g.grantee not in roles and g.grantor not in roles)
        if kept != grants:
            cat = cat.with_grants(key[0], key[1], kept)
    for (table, column), grants in list(cat.columns.items()):
        kept = tuple(g for g in grants if g.grantee not in roles and g.grantor not in roles)
        if kept != grants:
            cat = cat.with_column_grants(table, column, kept)
    for (owner, schema, objtype), grants in list(cat.defaults.items()):
        # the roles' own default privileges go, and what others' give them
        kept = None if owner in roles else \
            tuple(g for g in grants if g.grantee not in roles)
        if kept != grants:
            cat = cat.with_default(owner, schema, objtype,
                                   _default_entry(kept, owner, schema, objtype))
    members = tuple(m for m in cat.members if m[1] not in roles or m[0] in roles)
    cat = cat.with_members(members)
    if cat is not txn.working.auth:
        txn.set_auth(cat)


# ---- SET ROLE ----------------------------------------------------------------------------

def set_session_authorization(session, name: str | None) -> None:
    """SET SESSION AUTHORIZATION ``name`` (None: DEFAULT): session_user and current_user
    become that role, for privileges too, and SET ROLE is reset. Only a session that
    logged in as a superuser (or the embedded implicit superuser) may, as in
    PostgreSQL, and it keeps that right after switching (to switch back or on)."""
    first = getattr(session, "login_identity", None)
    if first is None:      # as logged in, before any switch
        first = session.login_identity = (getattr(session, "auth_user", None),
                                          getattr(session, "user_name", None))
    if name is None:
        session.auth_user, session.user_name = first
        session.role = None
        return
    cat = session._catalog_root().auth
    if first[0] is not None and not cat.is_superuser(first[0]):
        raise errors.sql_error("42501", "permission denied to set session authorization")
    if cat.role(name) is None:     # 22023, as for SET ROLE (a parameter's bad value)
        raise errors.sql_error("22023", f'role "{name}" does not exist')
    session.auth_user, session.user_name = name, name
    session.role = None


def set_role(session, stmt: SetRole) -> None:
    if stmt.role is None:
        session.role = None
        return
    root = session._catalog_root()
    cat = root.auth
    name = stmt.role
    if cat.role(name) is None:
        raise errors.sql_error("22023", f'role "{name}" does not exist')
    user = getattr(session, "auth_user", None)
    if user is not None and not cat.is_superuser(user) and name not in cat.member_of(user):
        raise errors.sql_error("42501", f'permission denied to set role "{name}"')
    session.role = name
