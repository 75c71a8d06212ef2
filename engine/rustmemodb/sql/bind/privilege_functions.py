"""``has_table_privilege``, ``has_column_privilege``, ``has_any_column_privilege``,
``has_sequence_privilege``, ``has_function_privilege``, ``has_schema_privilege`` and
``pg_has_role`` (SQL functions).

Bound as constants of the statement, or answered row by row when an argument is a
column (bind_session_functions.py calls these), from the roles catalog of the root
being bound against and the session's role, with
PostgreSQL's argument forms: ``(user, object, privilege)`` or
``(object, privilege)`` for the current role; the privilege text may list several
(``'SELECT, INSERT'``: true if any is held) and add ``WITH GRANT OPTION``.
"""
from __future__ import annotations

from ... import errors, types
from ...storage.roles import (COLUMN_PRIVS, FUNCTION_PRIVS, SCHEMA_PRIVS, SEQUENCE_PRIVS,
                              TABLE_PRIVS, has_column_privilege as _column_grant,
                              has_privilege, sql_error_undefined_role)


def effective_role(session) -> str | None:
    """SET ROLE's role, else the logged-in one; None: the implicit superuser."""
    return getattr(session, "role", None) or getattr(session, "auth_user", None)


def _who_and_rest(session, root, values: list, full: int = 3):
    if len(values) == full:
        user = values[0]
        if isinstance(user, int):       # a role's oid; an unknown one holds what PUBLIC
            # holds, as PostgreSQL answers for it
            role = next((r for r in root.auth.roles.values() if r.oid == user), None)
            return (role.name if role is not None else ""), values[1:]
        if root.auth.active and root.auth.role(user) is None:
            if user == "public":
                return "", values[1:]
            raise sql_error_undefined_role(user)
        return user, values[1:]
    return effective_role(session), values


def _privs(text, allowed) -> list[tuple[str, bool]]:
    if not isinstance(text, str):
        raise errors.sql_error("22023", "privilege must be text")
    out = []
    for part in text.split(","):
        words = part.split()
        option = [w.upper() for w in words[1:]] == ["WITH", "GRANT", "OPTION"]
        p = words[0].upper() if words else ""
        if p not in allowed or (len(words) > 1 and not option):
            raise errors.sql_error("22023", f'unrecognized privilege type: "{part.strip()}"')
        out.append((p, option))
    return out


def _holds(root, who, kind, name, privs) -> bool:
    cat = root.auth
    if who == "":           # PUBLIC: only what was granted to PUBLIC
        return any(g.grantee == "" and g.privilege == p for p, _ in privs
                   for g in cat.grants(kind, name))
    return any(has_privilege(cat, who, kind, name, p, option) for p, option in privs)


def _table_args(session, root, values: list, relation_oid) -> tuple | None:
    """``([user,] table, privilege)``: (role, table name, privilege text), or None for
    a NULL argument or an unknown table oid (the function is then NULL)."""
    who, (table, priv) = _who_and_rest(session, root, values)
    if table is None or priv is None:
        return None
    name = _relation(root, table, relation_oid)
    return None if name is None else (who, name, priv)


def has_table_privilege(session, root, values: list, relation_oid) -> bool | None:
    """``has_table_privilege([user,] table, privilege)``: table by name or oid (an
    unknown oid is NULL, an unknown name 42P01)."""
    args = _table_args(session, root, values, relation_oid)
    if args is None:
        return None
    who, name, priv = args
    return _holds(root, who, "table", name, _privs(priv, TABLE_PRIVS))


def _column_holds(root, who, table: str, column: str, privs) -> bool:
    """PostgreSQL's column_privilege_check: the table's privilege, or the column's."""
    if _holds(root, who, "table", table, privs):
        return True
    cat = root.auth
    if who == "":
        return any(g.grantee == "" and g.privilege == p for p, _ in privs
                   for g in cat.column_grants(table, column))
    return any(_column_grant(cat, who, table, column, p, option) for p, option in privs)


def _relation(root, table, relation_oid) -> str | None:
    """The relation a text name or an oid names: 42P01 for an unknown name, None for an
    unknown oid (PostgreSQL's NULL)."""
    if isinstance(table, int):
        return next((n for n in (*root.tables, *root.views, *root.sequences)
                     if relation_oid("r", n) == table), None)
    name = table.split(".", 1)[1] if table.startswith("public.") else table
    if name not in root.tables and name not in root.views and name not in root.sequences:
        raise errors.sql_error("42P01", f'relation "{table}" does not exist')
    return name


def has_sequence_privilege(session, root, values: list, relation_oid) -> bool | None:
    """``has_sequence_privilege([user,] sequence, privilege)``: USAGE, SELECT, UPDATE;
    42809 for a relation that is no sequence."""
    args = _table_args(session, root, values, relation_oid)
    if args is None:
        return None
    who, name, priv = args
    if name not in root.sequences:
        raise errors.sql_error("42809", f'"{name.rsplit(".", 1)[-1]}" is not a sequence')
    return _holds(root, who, "table", name, _privs(priv, SEQUENCE_PRIVS))


def has_function_privilege(session, root, values: list, function_oids,
                           builtin) -> bool | None:
    """``has_function_privilege([user,] 'f(argtypes)' or oid, 'EXECUTE')``: a SQL
    function's ACL; a built-in function is PUBLIC's to execute (``builtin(name)``: whether
    one is so named). An unknown oid is NULL, an unknown signature 42883."""
    who, (fn, priv) = _who_and_rest(session, root, values)
    if fn is None or priv is None:
        return None
    privs = _privs(priv, FUNCTION_PRIVS)
    if isinstance(fn, int):
        name = next((n for n, oid in function_oids(root).items() if oid == fn), None)
        if name is None:
            return None
    else:
        name = _function_named(root, fn, builtin)
        if name is None:        # a built-in: EXECUTE for PUBLIC, no grant option
            return not any(option for _p, option in privs) or who is None or (
                who != "" and root.auth.is_superuser(who)) or not root.auth.active
    if who == "" and ("function", name) not in root.auth.acl:
        return not any(option for _p, option in privs)     # PUBLIC's default EXECUTE
    return _holds(root, who, "function", name, privs)


def _function_named(root, text: str, builtin) -> str | None:
    """The SQL function ``text`` (``f(text)``) names, None for a built-in one; 22P02
    without an argument list, 42883 for no such function."""
    head, paren, rest = text.partition("(")
    if not paren or not rest.rstrip().endswith(")"):
        raise errors.sql_error("22P02", "expected a left parenthesis")
    name = head.strip().lower()
    name = name.split(".", 1)[1] if name.startswith("public.") else name
    inner = rest.rstrip()[:-1].strip()
    try:
        wanted = [types.normalize_type_name(a.strip()) for a in inner.split(",")] \
            if inner else []
    except errors.Error:
        raise errors.sql_error("42883", f'function "{text}" does not exist') from None
    fn = root.functions.get(name)
    if fn is not None and [t for _n, t in fn.params] == wanted:
        return name
    if fn is None and builtin(name):
        return None
    raise errors.sql_error("42883", f'function "{text}" does not exist')


def has_column_privilege(session, root, values: list, columns_of,
                         relation_oid) -> bool | None:
    """``has_column_privilege([user,] table, column, privilege)``: table by name or oid,
    column by name or attnum (a missing attnum or table oid is NULL, a missing name
    42703, as in PostgreSQL)."""
    who, rest = _who_and_rest(session, root, values, 4)
    table, column, priv = rest
    if table is None or column is None or priv is None:
        return None
    name = _relation(root, table, relation_oid)
    if name is None:
        return None
    names = columns_of(name)
    if isinstance(column, int):
        if not 1 <= column <= len(names):
            return None
        column = names[column - 1]
    elif column not in names:
        raise errors.sql_error("42703", f'column "{column}" of relation '
                                        f'"{name.rsplit(".", 1)[-1]}" does not exist')
    return _column_holds(root, who, name, column, _privs(priv, COLUMN_PRIVS))


def has_any_column_privilege(session, root, values: list, columns_of,
                             relation_oid) -> bool | None:
    """``has_any_column_privilege([user,] table, privilege)``: the table's privilege or
    that of any of its columns."""
    args = _table_args(session, root, values, relation_oid)
    if args is None:
        return None
    who, name, priv = args
    privs = _privs(priv, COLUMN_PRIVS)
    return any(_column_holds(root, who, name, c, privs) for c in columns_of(name)) or \
        _holds(root, who, "table", name, privs)


def has_schema_privilege(session, root, values: list) -> bool | None:
    who, (schema, priv) = _who_and_rest(session, root, values)
    if schema is None or priv is None:
        return None
    if schema not in ("public", "pg_catalog", "information_schema") and \
            schema not in root.auth.schemas:
        raise errors.sql_error("3F000", f'schema "{schema}" does not exist')
    privs = _privs(priv, SCHEMA_PRIVS)
    if schema in ("pg_catalog", "information_schema"):
        return any(p == "USAGE" for p, _ in privs)
    return _holds(root, who, "schema", schema, privs)


DATABASE_PRIVS = ("CREATE", "CONNECT", "TEMPORARY", "TEMP")


def has_database_privilege(session, root, database: str, values: list) -> bool | None:
    """``has_database_privilege([user,] database, privilege)`` of the one database served,
    whose ACL is PostgreSQL's default (no GRANT ... ON DATABASE exists here): CONNECT and
    TEMPORARY for PUBLIC, CREATE and every grant option for superusers (its owner is the
    bootstrap superuser)."""
    who, (_db, priv) = _who_and_rest(session, root, values)
    if priv is None:
        return None
    privs = _privs(priv, DATABASE_PRIVS)
    if who is None or (who != "" and root.auth.is_superuser(who)) or not root.auth.active:
        return True
    return any(p != "CREATE" and not option for p, option in privs)


def pg_has_role(session, root, values: list) -> bool | None:
    who, (role, mode) = _who_and_rest(session, root, values)
    cat = root.auth
    if role is None or mode is None:
        return None
    if cat.active and cat.role(role) is None:
        raise sql_error_undefined_role(role)
    if who is None or cat.is_superuser(who):
        return True
    mode = mode.upper().split()[0] if mode.strip() else ""
    if mode not in ("MEMBER", "USAGE", "SET"):
        raise errors.sql_error("22023", f'unrecognized privilege type: "{mode}"')
    if mode == "USAGE":
        return role in cat.member_of(who)
    everyone = {who}
    todo = [who]
    while todo:
        m = todo.pop()
        for r, member, _a, _g in cat.members:
            if member == m and r not in everyone:
                everyone.add(r)
                todo.append(r)
    return role in everyone
