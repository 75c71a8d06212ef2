"""ALTER ROLE name|ALL SET / RESET: the parameters a role's sessions start with.

PostgreSQL keeps them in pg_db_role_setting and applies them when a session logs in,
before what the client asked for in its startup packet (which wins); RESET goes back to
them, not to the built-in default. Here they are part of the roles catalog
(``AuthCatalog.settings``, storage/roles.py: durable, transactional, forked with the
database), kept as PostgreSQL keeps them (``work_mem=64MB``, ``search_path=x, "Y"``,
the parameter's canonical spelling such as ``TimeZone``), shown in ``pg_roles.rolconfig``
and ``pg_db_role_setting`` (psql's ``\\drds``), and applied by ``apply_at_login`` for
embedded connections opened with ``user=`` and for wire sessions.

The value is checked when the statement runs, by setting it in a scratch session of
the same database: what SET would refuse (22023, 42704 for an unknown parameter
without a dot) is refused here too and changes nothing.
"""
from __future__ import annotations

from .. import errors

# PostgreSQL's canonical names of the parameters spelled with capitals
_CANONICAL = {"timezone": "TimeZone", "datestyle": "DateStyle",
              "intervalstyle": "IntervalStyle"}
# session state, not parameters: applying them at login is not built
_REFUSED = ("role", "session_authorization")


def prepare(stmt, session) -> None:
    """At bind time, with the session at hand: FROM CURRENT becomes the session's value,
    and the value is checked and flattened as PostgreSQL stores it."""
    from ..utility import setting_value
    if stmt.param is None:
        return
    name = stmt.param
    if name in _REFUSED:
        raise errors.not_supported(f"ALTER ROLE ... SET {name}",
                                   hint="Run SET ROLE in the session instead.")
    if name == "transaction_isolation":
        raise errors.sql_error("25001", "SET TRANSACTION ISOLATION LEVEL must be called "
                                        "before any query")
    if "." not in name and setting_value(session, name) is None and not _known(name):
        raise errors.sql_error("42704", f'unrecognized configuration parameter "{name}"')
    if stmt.value is None and not stmt.from_current:
        return                                        # RESET name
    if stmt.from_current:
        current = setting_value(session, name)
        stmt.value = "'" + (current or "").replace("'", "''") + "'"
        stmt.from_current = False
    _check(session, name, stmt.value)
    stmt.value = flatten(stmt.value)


def _known(name: str) -> bool:
    from .. import gucs
    from ..statement_limits import SETTINGS
    return name in gucs.PARAMETERS or name in SETTINGS


def _check(session, name: str, value: str) -> None:
    """SET it in a scratch session of the same database: its errors are this one's."""
    from ..session import Session
    from ..utility import run_set
    scratch = Session(session.db, None)    # (leaves pg_stat_activity once unreferenced)
    run_set(scratch, f"{name} = {value}")


def flatten(value: str) -> str:
    """The value as PostgreSQL stores it in setconfig: a list's items joined by ``, ``,
    a quoted string's text without its quotes, anything else as written."""
    items, current, quoted, i = [], [], False, 0
    while i < len(value):
        ch = value[i]
        if ch == "'" and not quoted:
            end = i + 1
            text = []
            while end < len(value):
                if value[end] == "'":
                    if value[end + 1:end + 2] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(value[end])
                end += 1
            current.append("".join(text))
            i = end + 1
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    items.append("".join(current).strip())
    return ", ".join(items)


def run(stmt, cat, actor, root):
    """The executor's part: who may, then the new catalog."""
    from .check import effective_role
    from .statements import _can_createrole, _is_super, _need_role, _resolve
    who = effective_role(actor)
    if stmt.role is None:
        if not _is_super(cat, who):
            raise errors.sql_error("42501", "must be superuser to alter settings globally")
        key = ""
    else:
        key = _resolve(stmt.role, actor)
        role = _need_role(cat, key)
        if role.superuser and not _is_super(cat, who):
            raise errors.sql_error("42501", "must be superuser to alter superusers")
        if not (_can_createrole(cat, who) or key == who):
            raise errors.sql_error("42501", "permission denied")
    pairs = list(cat.settings.get(key, ()))
    if stmt.param is None:                               # RESET ALL
        pairs = []
    else:
        name = _CANONICAL.get(stmt.param, stmt.param)
        at = next((i for i, (n, _v) in enumerate(pairs) if n == name), None)
        if stmt.value is None:
            if at is not None:
                del pairs[at]
        elif at is not None:
            pairs[at] = (name, stmt.value)
        else:
            pairs.append((name, stmt.value))
    return cat.with_settings(key, tuple(pairs))


def apply_at_login(session, cat, role: str | None) -> None:
    """Set what ALTER ROLE ALL SET and ALTER ROLE role SET give, in that order (the
    role's win), as the session's starting values: RESET returns to them. A value that
    no longer applies is skipped, as PostgreSQL logs it and goes on."""
    if not cat.settings or role is None:
        return
    applied: dict[str, str] = {}
    for key in ("", role):
        for name, value in cat.settings.get(key, ()):
            if _set(session, name.lower(), value):
                applied[name.lower()] = value
    if applied:
        session.start_values = applied


def reapply(session, name: str) -> None:
    """After RESET ``name`` (or ALL): the session's starting value again, if it has one
    (the role's, or what the wire client's startup packet set over it)."""
    defaults = getattr(session, "start_values", None)
    if not defaults:
        return
    for param, value in defaults.items():
        if name in ("all", param):
            _set(session, param, value)


def _set(session, name: str, value: str) -> bool:
    """SET ``name`` to a stored value; False, changing nothing, if it no longer
    applies (a parameter's checks changed since it was stored)."""
    from ..utility import run_set
    try:
        run_set(session, f"{name} = {_as_set_value(value)}")
    except errors.Error:
        return False
    return True


def _as_set_value(value: str) -> str:
    """A stored value as SET reads it back: lists and bare words as they are, anything
    with a blank that is not a list quoted."""
    if "," in value or value.startswith('"'):
        return value
    return "'" + value.replace("'", "''") + "'"
