"""The privilege check: whether the session's role holds what a statement needs.

What a statement needs is worked out when it is bound (sql/bind/privileges.py,
``BoundStatement.privileges``); whether the role has it is checked here on every
execution, against the roles catalog of the transaction's working root
(storage/roles.py), so a GRANT or REVOKE takes effect at once, for cached plans
too. A database without roles, or a session without a role (the embedded implicit
superuser), skips it.

Denial is ``42501 permission denied for table t`` (``view v``, ``schema s``;
``must be owner of table t``), raised before the statement changes anything.
"""
from __future__ import annotations

from .. import errors
from ..storage.namespaces import schema_of
from ..storage.roles import EMBEDDED_USER, has_privilege, initial_grants, is_owner


def effective_role(session) -> str | None:
    """The role whose rights apply: SET ROLE's, else the logged-in user's; None for a
    session that never logged in as a role (the implicit superuser)."""
    return getattr(session, "role", None) or getattr(session, "auth_user", None)


# ---- checking (at every execution) -----------------------------------------------------

def check(session, root, bound) -> None:
    """42501 unless the session's role may run ``bound`` against ``root``."""
    cat = root.auth
    role = effective_role(session)
    if role is None or cat.is_superuser(role):
        return
    if ("schema", "public") in cat.acl and not has_privilege(cat, role, "schema", "public",
                                                             "USAGE"):
        # USAGE was revoked: PostgreSQL's search path then skips the schema, so its
        # tables are not found at all (a schema-qualified name would be 42501 there)
        for what, name, _priv, via in bound.privileges:
            if what == "table" and via is None:
                raise errors.sql_error("42P01", f'relation "{name}" does not exist',
                                       hint="The role has no USAGE on schema public.")
    mine = cat.member_of(role)
    if cat.schemas:
        _check_usage(cat, role, mine, bound)
    for what, name, priv, via in bound.privileges:
        if what == "superuser":
            raise errors.sql_error("42501", f"must be superuser to {name} server files",
                                   hint="Reading and writing the server's files (read_csv, "
                                        "COPY ... 'file') is reserved to superusers.")
        if what == "owner":
            if not is_owner(cat, role, "table", name):
                raise errors.sql_error("42501", f"must be owner of {_relkind(root, name)} "
                                                f"{name}")
            continue
        if what == "schema":
            if not has_privilege(cat, role, "schema", name, priv):
                raise errors.sql_error("42501", f"permission denied for schema {name}")
            continue
        who, roles = role, mine
        if via is not None:
            who, roles = cat.owner("table", via), None
            if who is None:          # a view made by the implicit superuser
                continue
        if not has_privilege(cat, who, "table", name, priv, roles=roles):
            raise errors.sql_error("42501", f"permission denied for {_relkind(root, name)} "
                                            f"{name}")


def _check_usage(cat, role: str, mine: set, bound) -> None:
    """A relation of a schema other than public needs USAGE on its schema (the
    schema's owner has it; others by GRANT USAGE ON SCHEMA)."""
    for what, name, _priv, via in bound.privileges:
        if what in ("table", "owner") and via is None:
            schema = schema_of(name, cat.schemas)
            if schema != "public" and not has_privilege(cat, role, "schema", schema, "USAGE",
                                                        roles=mine):
                raise errors.sql_error("42501", f"permission denied for schema {schema}")


def _relkind(root, name: str) -> str:
    return "view" if name in root.views else "table"


def after_ddl(txn, bound, before_root, session) -> None:
    """Owners and grants follow the objects a DDL statement created, dropped or renamed:
    a new table or view is owned by the role that created it and starts with that role's
    default privileges (ALTER DEFAULT PRIVILEGES) for its schema."""
    role = effective_role(session)
    before = cat = txn.working.auth
    working = txn.working
    for effect in bound.ddl_objects:
        if effect[0] == "create":
            name = effect[1]
            exists = name in working.tables or name in working.views
            new = name not in before_root.tables and name not in before_root.views
            if exists and new and (role is not None or cat.defaults):
                cat = cat.without_object("table", name).with_owner("table", name, role)
                grants = initial_grants(cat, role or EMBEDDED_USER,
                                        schema_of(name, cat.schemas), "r")
                if grants is not None:
                    cat = cat.with_grants("table", name, grants)
        elif effect[0] == "drop":
            name = effect[1]
            if name not in working.tables and name not in working.views:
                cat = cat.without_object("table", name)
        elif effect[0] == "rename":
            cat = cat.renamed_object("table", effect[1], effect[2])
    if cat is not before:
        txn.set_auth(cat)


def require_table_privilege(session, table: str, priv: str) -> None:
    """For paths that write or read a table without a bound statement (the wire server's
    COPY FROM STDIN / TO STDOUT): 42501 unless the session's role holds ``priv``."""
    root = session._catalog_root()
    if not root.auth.active or effective_role(session) is None:
        return
    from types import SimpleNamespace
    check(session, root, SimpleNamespace(privileges=(("table", table, priv, None),)))
