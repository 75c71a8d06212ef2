"""Utility statements: transaction control, savepoints, SET/SHOW, PREPARE/EXECUTE, EXPLAIN.

These never reach the binder as sqlglot trees (sql/dispatch.py explains why).
Savepoints are marks of the transaction's working root and op log, so
ROLLBACK TO is a constant-time restore.
"""
from __future__ import annotations

import json
import re

import pyarrow as pa

from . import describe, errors, gucs, notices, pivot, types
from . import statement_limits as limits
from .result import Result
from .storage.roles import EMBEDDED_USER
from .sql.dispatch import Explain, Utility
from .sql.schemas import DEFAULT_PATH, show_path


def run_utility(session, util, params):
    if isinstance(util, Explain):
        return run_explain(session, util, params)
    kind = util.kind
    if kind == "begin":
        if session.txn is not None:
            notices.emit("there is already a transaction in progress", "25001", "WARNING")
        session.begin(util.arg)
        return Result([], kind="BEGIN")
    if kind == "commit":
        if session.txn is None:
            notices.emit("there is no transaction in progress", "25P01", "WARNING")
        failed = session.txn is not None and session.txn.failed
        session.commit()
        return Result([], kind="ROLLBACK" if failed else "COMMIT")   # as PostgreSQL tags it
    if kind == "rollback":
        if session.txn is None:
            notices.emit("there is no transaction in progress", "25P01", "WARNING")
        session.rollback()
        return Result([], kind="ROLLBACK")
    if kind in ("commit_chain", "rollback_chain"):
        failed = session.txn is not None and session.txn.failed
        session.chain(kind == "commit_chain")
        return Result([], kind="ROLLBACK" if failed or kind == "rollback_chain" else "COMMIT")
    if kind in ("savepoint", "release", "rollback_to"):
        return _savepoint(session, kind, util.arg.strip())
    if kind == "set":
        auth = _SESSION_AUTH.match(util.arg)
        if auth is not None:
            _session_authorization(session, _auth_name(util.arg[auth.end():]),
                                   _is_local(util.arg))
            return Result([], kind="SET")
        if _ROLE.match(util.arg):
            from .auth.statements import set_role
            from .sql.parse_roles import parse
            stmt = parse("SET " + util.arg)
            before = session.role
            set_role(session, stmt)
            remember_setting(session, "role", before, _is_local(util.arg))
            return Result([], kind="SET")
        run_set(session, util.arg)
        return Result([], kind="SET")
    if kind in ("listen", "unlisten", "notify"):
        return _listen_notify(session, kind, util.arg)
    if kind == "pivot":
        return pivot.run(session, util.arg)
    if kind in ("describe", "summarize"):
        return (describe.describe if kind == "describe" else describe.summarize)(
            session, util.arg)
    if kind == "show":
        name = _SHOW_ALIASES.get(" ".join(util.arg.lower().split()), util.arg.strip().lower())
        value = setting_value(session, name)
        if value is None:
            if name in ("tables", "all tables"):           # DuckDB's SHOW TABLES
                return describe.show_tables(session)
            if session._catalog_root().tables.get(name) is not None or \
                    name in session._catalog_root().views:  # DuckDB's SHOW t = DESCRIBE t
                return describe.describe(session, util.arg)
            raise errors.sql_error("42704", f'unrecognized configuration parameter "{name}"')
        return Result([(name, types.TEXT)], table=pa.table({name: pa.array([value], pa.large_string())}),
                      rowcount=1, kind="SHOW")
    if kind == "reset":
        name = " ".join(util.arg.lower().split())
        if name == "time zone":
            name = "timezone"
        if name == "session authorization":
            _session_authorization(session, None, False)
            return Result([], kind="RESET")
        if session.txn is not None:
            for changed in ([*session.settings, "role"] if name == "all" else [name]):
                remember_setting(session, changed, _current(session, changed), False)
        if name not in ("role", "all"):
            _check_resettable(name)
        if name in ("role", "all"):
            session.role = None
        if name == "all":
            session.settings.clear()
        else:
            session.settings.pop(name, None)
        zone = session.cancel_event.zone
        for setting in limits.SETTINGS:
            if name in ("all", setting):
                limits.apply_setting(session.cancel_event, setting, None)
        if getattr(session, "start_values", None):   # ALTER ROLE ... SET: back to those
            from .auth.role_settings import reapply
            reapply(session, name)
        session.settings_changed = True
        zone_changed(session, zone)
        return Result([], kind="RESET")
    if kind in ("prepare", "execute", "deallocate"):
        from .sql import prepared_sql     # (sqlglot: not on a session's first statements)
        if kind == "prepare":             # checked (and cached) now
            prepared_sql.prepare(util.arg, session.prepared, session._prepare)
            return Result([], kind="PREPARE")
        if kind == "deallocate":
            prepared_sql.deallocate(util.arg, session.prepared)
            return Result([], kind="DEALLOCATE")
        sql, args = prepared_sql.execute_arguments(
            util.arg, session.prepared, lambda select: session.execute(select).arrow())
        return session.execute(sql, args)
    # VACUUM and ANALYZE have nothing to do: versions are reclaimed when no snapshot holds
    # them, and the planner's statistics are read from the indexes, always current.
    if kind == "discard":
        return _discard(session, util.arg)
    if kind in ("checkpoint", "vacuum", "analyze"):
        if kind != "checkpoint":
            _check_relations(session, util.arg)
        if kind == "checkpoint":
            _need_superuser(session, "do CHECKPOINT")
        if kind == "checkpoint" and getattr(session.db, "durability", None) is not None:
            session.db.durability.checkpoint()
        return Result([], kind=kind.upper())
    raise errors.not_supported(kind.upper())


def _check_resettable(name: str) -> None:
    """RESET of a parameter SET could set: 42704 for a name nobody knows (a dotted
    placeholder is anyone's), 55P02 for a read-only one, as in PostgreSQL."""
    if name in _READ_ONLY:
        raise errors.sql_error("55P02", f'parameter "{name}" cannot be changed')
    if ("." not in name and name not in _DEFAULT_SETTINGS and name not in gucs.PARAMETERS
            and name not in limits.SETTINGS and name not in _SET_ELSEWHERE):
        raise errors.sql_error("42704", f'unrecognized configuration parameter "{name}"')


_SET_ELSEWHERE = frozenset({"search_path", "timezone", "client_encoding",
                            "idle_in_transaction_session_timeout", "file_root",
                            "transaction_isolation", "default_transaction_isolation",
                            "transaction_read_only", "default_transaction_read_only",
                            "xmloption"})

_VACUUM_OPTIONS = re.compile(r"^\s*(\((?:[^()]|\([^()]*\))*\)|(?:FULL|FREEZE|VERBOSE|ANALY[SZ]E)\b)",
                             re.I)


def _check_relations(session, arg: str) -> None:
    """VACUUM / ANALYZE have nothing to do here, but the relations they name must exist
    (42P01, as in PostgreSQL), so a typo is not taken for done."""
    from .sql.schemas import session_path
    from .storage.root import relation_exists
    text = arg or ""
    while True:
        m = _VACUUM_OPTIONS.match(text)
        if m is None:
            break
        text = text[m.end():]
    text = re.sub(r"\([^()]*\)", " ", text).strip().rstrip(";").strip()
    if not text:
        return
    txn = session.txn
    root = txn.working if txn is not None else session.db.root
    for part in _split_names(text):
        name = _identifier(part)
        if name.startswith(("pg_", "pg_catalog.", "information_schema.")):
            continue
        schema, _, bare = name.rpartition(".")
        keys = [name if schema != "public" else bare] if schema else [
            bare if s == "public" else f"{s}.{bare}" for s in session_path(session, root)]
        if not any(relation_exists(root, key) for key in keys):
            raise errors.sql_error("42P01", f'relation "{name}" does not exist')


def _discard(session, arg: str) -> Result:
    """DISCARD ALL | TEMP | PLANS | SEQUENCES: what a connection pool sends before it
    hands the connection to someone else (pgbouncer's server_reset_query). TEMP drops
    the session's temporary tables, SEQUENCES forgets currval/lastval, PLANS has nothing
    to forget (plans are shared and checked against the catalog), and ALL does them all
    and also RESET ALL, DEALLOCATE ALL and SET ROLE NONE, outside a transaction only."""
    what = " ".join(arg.upper().split())
    if what not in ("ALL", "TEMP", "TEMPORARY", "PLANS", "SEQUENCES"):
        raise errors.syntax_error(f'syntax error at or near "{arg.strip() or "DISCARD"}"',
                                  hint="DISCARD ALL | TEMP | PLANS | SEQUENCES")
    if what == "ALL":
        if session.txn is not None:
            raise errors.sql_error("25001", "DISCARD ALL cannot run inside a transaction block")
        run_utility(session, Utility("reset", "all"), None)
        _session_authorization(session, None, False)
        session.prepared.clear()
    if what in ("ALL", "TEMP", "TEMPORARY"):
        session.drop_temporary_tables()
    if what in ("ALL", "SEQUENCES"):
        session.sequence_values.clear()
    return Result([], kind="DISCARD " + ("TEMP" if what == "TEMPORARY" else what))


_CHANNEL = re.compile(r'^\s*(?:"((?:[^"]|"")+)"|([A-Za-z_\x80-\uffff][\w$\x80-\uffff]*))\s*')
_PAYLOAD = re.compile(r"^,\s*'((?:[^']|'')*)'\s*$", re.S)


def _listen_notify(session, kind: str, arg: str) -> Result:
    """LISTEN channel, UNLISTEN {channel | *}, NOTIFY channel [, 'payload']: the
    channels and the queue are the database's (backends.py)."""
    backends = session.db.backends
    if kind == "unlisten" and arg.strip() == "*":
        backends.unlisten(session.backend, None)
        return Result([], kind="UNLISTEN")
    m = _CHANNEL.match(arg)
    if m is None:
        near = arg.split()[0] if arg.split() else kind.upper()
        raise errors.syntax_error(f'syntax error at or near "{near}"')
    channel = m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2).lower()
    rest = arg[m.end():]
    if kind == "notify":
        payload = ""
        if rest.strip():
            found = _PAYLOAD.match(rest)
            if found is None:
                raise errors.syntax_error(f'syntax error at or near "{rest.strip()[:20]}"')
            payload = found.group(1).replace("''", "'")
        backends.notify(session.backend, channel, payload)
        return Result([], kind="NOTIFY")
    if rest.strip():
        raise errors.syntax_error(f'syntax error at or near "{rest.strip()[:20]}"')
    if kind == "listen":
        backends.listen(session.backend, channel)
    else:
        backends.unlisten(session.backend, channel)
    return Result([], kind=kind.upper())


def _need_superuser(session, what: str) -> None:
    from .auth.check import effective_role
    role = effective_role(session)
    if role is not None and not session._catalog_root().auth.is_superuser(role):
        raise errors.sql_error("42501", f"must be superuser to {what}")


_ROLE = re.compile(r"^\s*(?:SESSION\s+|LOCAL\s+)?ROLE\b", re.I)
_SESSION_AUTH = re.compile(r"^\s*(?:SESSION\s+|LOCAL\s+)?SESSION\s+AUTHORIZATION\b", re.I)


def _auth_name(text: str) -> str | None:
    """SET SESSION AUTHORIZATION's operand: a role name (an identifier, folded, or a
    string) or DEFAULT (None)."""
    text = text.strip().rstrip(";").strip()
    if text.upper() == "DEFAULT":
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace(text[0] * 2, text[0])
    if not re.fullmatch(r"[A-Za-z_][\w$]*", text):
        raise errors.syntax_error(f'syntax error at or near "{text or "AUTHORIZATION"}"')
    return text.lower()


def _session_authorization(session, name: str | None, local: bool) -> None:
    """SET [LOCAL] SESSION AUTHORIZATION name | DEFAULT (and RESET, DISCARD ALL): the
    session's user becomes ``name`` (auth/statements.py), undone by ROLLBACK as a SET is;
    SET ROLE is reset with it."""
    from .auth.statements import set_session_authorization
    remember_setting(session, "session_authorization",
                     (getattr(session, "auth_user", None), getattr(session, "user_name", None)),
                     local)
    remember_setting(session, "role", session.role, local)
    set_session_authorization(session, name)
    session.settings_changed = True
# SET TIME ZONE value: PostgreSQL's own spelling of SET timezone = value
_TIME_ZONE = re.compile(r"^\s*(?:SESSION\s+|LOCAL\s+)?(TIME)\s+ZONE\s+(.+)$", re.I | re.S)


_SET_CONSTRAINTS = re.compile(r"^\s*CONSTRAINTS\s+(.+?)\s+(DEFERRED|IMMEDIATE)\s*;?\s*$",
                              re.I | re.S)


_SET_ALIAS = re.compile(r"^\s*(SESSION\s+|LOCAL\s+)?(SCHEMA|NAMES|XML\s+OPTION)\s+(\S.*?)\s*$",
                        re.I | re.S)
_ALIASES = {"schema": "search_path", "names": "client_encoding", "xml option": "xmloption"}


def run_set(session, arg: str, warn_local: bool = True) -> None:
    """``SET name = value`` (also ``set_config``): isolation levels, limits, the rest stored.
    A SET LOCAL outside a transaction block lasts for its statement only, as in
    PostgreSQL (with its warning, unless ``warn_local`` is False: set_config gives none)."""
    m = _SET_CONSTRAINTS.match(arg)
    if m:
        return _set_constraints(session, m.group(1), m.group(2).upper() == "DEFERRED")
    m = _SET_ALIAS.match(arg)
    if m:    # PostgreSQL's spellings of three parameters: SET SCHEMA 's' is search_path
        arg = f"{m.group(1) or ''}{_ALIASES[' '.join(m.group(2).lower().split())]} TO {m.group(3)}"
    if session.set_isolation(arg):
        session.settings_changed = True     # default_transaction_read_only is reported
        return
    zone = session.cancel_event.zone
    m = _TIME_ZONE.match(arg) or \
        re.match(r"(?:SESSION\s+|LOCAL\s+)?([\w.]+)\s*(?:=|TO)\s*(.+)$", arg, re.I | re.S)
    if m:
        name, value = m.group(1).lower(), m.group(2).strip().strip("'")
        if name == "time":
            name = "timezone"
            value = _zone_interval(value)
        if name == "file_root":
            value = _file_root(session, value)
        elif name in limits.SETTINGS:   # validated and applied now (statement_limits.py)
            value = limits.apply_setting(session.cancel_event, name, value)
        elif name == "search_path":     # kept as SHOW prints it (sql/schemas.py)
            raw = m.group(2).strip()
            value = DEFAULT_PATH if raw.lower() == "default" else show_path(raw)
        elif name == "idle_in_transaction_session_timeout":   # the wire server enforces it
            value = limits.show_timeout(limits.parse_timeout(value, name)) \
                if value.lower() != "default" else "0"
        elif name in gucs.PARAMETERS:   # PostgreSQL's units, checks and SHOW form
            value = gucs.normalize(name, value)
            gucs.check_supported(name, value)
        elif name == "client_encoding":
            gucs.check_supported(name, value)
            value = "UTF8"
        elif name in _READ_ONLY:
            raise errors.sql_error("55P02", f'parameter "{name}" cannot be changed')
        elif name not in _DEFAULT_SETTINGS and "." not in name:
            # PostgreSQL refuses a name it does not know (a typo must not pass silently);
            # a dotted one is a custom placeholder anyone may set
            raise errors.sql_error("42704", f'unrecognized configuration parameter "{name}"')
        before = session.settings.get(name, _UNSET)
        remember_setting(session, name, before, _is_local(arg))
        session.settings[name] = value
        session.settings_changed = True     # the wire server reports what it must
        zone_changed(session, zone)
        txn = session.txn
        if _is_local(arg) and (txn is None or not txn.explicit):
            if warn_local:
                notices.emit("SET LOCAL can only be used in transaction blocks", "25P01",
                             "WARNING")
            _restore(session, name, before)  # the statement's own transaction ended
        return
    # (it used to pass silently: a client must not believe a SET it wrote wrong took)
    words = arg.split()
    near = words[1] if len(words) > 1 else (words[0] if words else "")
    raise errors.syntax_error(f'syntax error at or near "{near}"')


def _set_constraints(session, what: str, deferred: bool) -> None:
    """SET CONSTRAINTS {ALL | name [, ...]} {DEFERRED | IMMEDIATE}
    (exec/deferred_checks.py); outside a transaction block a warning, as in PostgreSQL."""
    txn = session.txn
    if txn is None or not txn.explicit:
        notices.emit("SET CONSTRAINTS can only be used in transaction blocks", "25P01",
                     "WARNING")
        return
    from .exec.constraints import run_deferred
    from .exec.deferred_checks import set_modes
    names = None if what.strip().upper() == "ALL" else \
        [_identifier(part) for part in _split_names(what)]
    which = set_modes(txn, names, deferred)
    if not deferred:             # what the named constraints put off so far, checked now
        run_deferred(txn, which)


def _split_names(text: str) -> list[str]:
    """A comma-separated list of possibly quoted, possibly qualified names."""
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    if any(not p.strip() for p in parts):
        raise errors.syntax_error('syntax error at or near ","')
    return [p.strip() for p in parts]


def _identifier(text: str) -> str:
    """A (qualified) name as the catalog keeps it: unquoted parts lower-cased."""
    out = []
    for part in re.findall(r'"((?:[^"]|"")*)"|([^."]+)', text):
        quoted, plain = part
        out.append(quoted.replace('""', '"') if quoted else plain.strip().lower())
    return ".".join(out)


_ZONE_INTERVAL = re.compile(r"^interval\s*'([^']*)'\s*(?:hour\s+to\s+minute)?\s*$", re.I)


def _zone_interval(value: str) -> str:
    """SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE: the offset as the number of hours
    east of UTC that SET TIME ZONE also reads (an interval with days or months is 22023,
    as in PostgreSQL)."""
    m = _ZONE_INTERVAL.match(value)
    if m is None:
        return value
    iv = types.parse_interval(m.group(1))
    if iv.months or iv.days or iv.micros % 1_000_000:
        raise errors.sql_error("22023", f'invalid value for parameter "TimeZone": '
                                        f"\"INTERVAL '{m.group(1)}'\"")
    secs = iv.micros // 1_000_000
    return f"{secs // 3600 if secs >= 0 else -(-secs // 3600)}" if secs % 3600 == 0 else \
        f"{secs / 3600!r}"


def zone_changed(session, before) -> None:
    """After a setting changed: when the session's TimeZone is no longer ``before``, the
    plans it keeps for itself may hold values read in the old one (its shared plans never
    do: session.py does not share them), so they go."""
    if session.cancel_event.zone is not before:
        forget = getattr(session._piece_plans, "forget", None)   # None: none made yet
        if forget is not None:
            forget()
        session._expr_memo = None


# ---- SET is transactional -------------------------------------------------------------------
_UNSET = object()          # the setting had no session value (its default applies)
_LOCAL = re.compile(r"^\s*LOCAL\b", re.I)


def _is_local(arg: str) -> bool:
    return bool(_LOCAL.match(arg))


def _current(session, name: str):
    return session.role if name == "role" else session.settings.get(name, _UNSET)


def remember_setting(session, name: str, before, local: bool) -> None:
    """Called as ``name`` changes inside a transaction, with its value ``before``: as in
    PostgreSQL, ROLLBACK undoes a SET (and SET ROLE), and a SET LOCAL lasts until the
    transaction ends either way. Outside a transaction a SET simply stays."""
    if session.txn is None:
        return
    session.settings_undo.setdefault(name, before)
    if local:
        session.settings_local.setdefault(name, before)
    else:                  # a plain SET after SET LOCAL outlives the transaction
        session.settings_local.pop(name, None)


def end_transaction_settings(session, committed: bool) -> None:
    """The transaction ended: restore what ROLLBACK undoes, or what SET LOCAL set."""
    restore = session.settings_local if committed else session.settings_undo
    for name, value in restore.items():
        _restore(session, name, value)
    session.settings_undo = {}
    session.settings_local = {}


def _restore(session, name: str, value) -> None:
    if name == "role":
        session.role = value
        return
    session.settings_changed = True
    if name == "session_authorization":
        session.auth_user, session.user_name = value
        return
    zone = session.cancel_event.zone
    if value is _UNSET:
        session.settings.pop(name, None)
    else:
        session.settings[name] = value
    if name in limits.SETTINGS:
        limits.apply_setting(session.cancel_event, name, None if value is _UNSET else value)
    zone_changed(session, zone)


def all_settings(session) -> dict[str, str]:
    """Every setting SHOW knows, with the session's values (current_setting($1))."""
    names = set(_DEFAULT_SETTINGS) | set(session.settings if session is not None else ())
    names |= {"session_authorization", "is_superuser"}
    return {n: setting_value(session, n) for n in sorted(names)}


def setting_value(session, name: str) -> str | None:
    """A setting as SHOW and current_setting() report it; None if there is no such one."""
    if name in ("transaction_isolation", "default_transaction_isolation") and session is not None:
        return session.show_isolation(name)
    if name in ("transaction_read_only", "default_transaction_read_only") and session is not None:
        return session.show_read_only(name)
    if session is not None and name in session.settings:
        return session.settings[name]
    if name in ("session_authorization", "is_superuser"):
        user = getattr(session, "user_name", None) or EMBEDDED_USER
        if name == "session_authorization":
            return user
        from .auth.check import effective_role
        role = effective_role(session)
        if role is None:
            return "on"
        return "on" if session._catalog_root().auth.is_superuser(role) else "off"
    if name == "role" and session is not None:
        return getattr(session, "role", None) or "none"
    return _DEFAULT_SETTINGS.get(name)


# Reported, never set (PostgreSQL's PGC_INTERNAL parameters): SET is 55P02.
_READ_ONLY = frozenset({"server_version", "server_version_num", "server_encoding",
                        "integer_datetimes", "max_identifier_length", "max_index_keys",
                        "lc_collate", "lc_ctype", "in_hot_standby"})

# SHOW's multi-word forms (PostgreSQL's grammar), by the parameter they show.
_SHOW_ALIASES = {"transaction isolation level": "transaction_isolation", "time zone": "timezone",
                 "session authorization": "session_authorization"}

_DEFAULT_SETTINGS = {
    "server_version": "15.0 (rustmemodb)", "transaction_isolation": "repeatable read",
    "default_transaction_isolation": "repeatable read",
    "standard_conforming_strings": "on", "client_encoding": "UTF8", "datestyle": "ISO, MDY",
    "timezone": "UTC", "search_path": DEFAULT_PATH,
    "statement_timeout": "0", "max_statement_memory": "0",
    "idle_in_transaction_session_timeout": "0",
    "server_version_num": "150000", "server_encoding": "UTF8", "integer_datetimes": "on",
    "intervalstyle": "postgres", "application_name": "", "max_identifier_length": "63",
    "default_transaction_read_only": "off", "transaction_read_only": "off",
    "in_hot_standby": "off", "lc_collate": "C", "lc_ctype": "C", "jit": "off",
    "extra_float_digits": "1", "bytea_output": "hex", "default_table_access_method": "heap",
    "password_encryption": "scram-sha-256",     # libpq's PQencryptPasswordConn asks
    "max_index_keys": "32",     # pgjdbc's getImportedKeys/getExportedKeys ask
    **gucs.defaults(),          # work_mem, lock_timeout, client_min_messages... (gucs.py)
}


def _file_root(session, value: str) -> str:
    """``SET file_root``: a directory inside the connection's limit, if it has one."""
    import os
    path = os.path.realpath(os.path.join(session.file_root or os.getcwd(), value))
    limit = session.file_root_limit
    if limit is not None and os.path.commonpath([path, os.path.realpath(limit)]) != \
            os.path.realpath(limit):
        raise errors.sql_error("42501", f'permission denied to set file_root to "{value}"',
                               hint="The connection's file_root can only be narrowed.")
    if not os.path.isdir(path):
        raise errors.sql_error("58P01", f'file_root "{value}" is not a directory')
    return path


def _savepoint(session, kind: str, name: str):
    txn = session.txn
    if txn is None:
        raise errors.sql_error("25P01", f"{kind.upper().replace('_', ' ')} can only be used in "
                                        "transaction blocks")
    held = session.savepoint_settings
    if kind == "savepoint":
        session.savepoints.append((name, txn.savepoint()))
        del held[len(session.savepoints) - 1:]
        held.append((session.role, dict(session.settings), (txn.isolation, txn.read_only)))
        return Result([], kind="SAVEPOINT")
    names = [n for n, _ in session.savepoints]
    if name not in names:
        raise errors.sql_error("3B001", f'savepoint "{name}" does not exist')
    i = len(names) - 1 - names[::-1].index(name)
    if kind == "release":
        del session.savepoints[i:]
        del held[i:]
        return Result([], kind="RELEASE")
    txn.restore(session.savepoints[i][1])
    txn.failed = False
    del session.savepoints[i + 1:]
    if i < len(held):                 # the SETs made since the savepoint are undone
        role, settings, (level, read_only) = held[i]
        del held[i + 1:]
        _restore(session, "role", role)
        session.restore_transaction_modes(level, read_only)   # SET TRANSACTION too
        for changed in set(settings) | set(session.settings):
            if settings.get(changed, _UNSET) != session.settings.get(changed, _UNSET):
                _restore(session, changed, settings.get(changed, _UNSET))
    return Result([], kind="ROLLBACK")


def run_explain(session, explain: Explain, params):
    from .plan.explain import to_dict, to_text
    try:
        prepared = session._prepare(explain.body)
        if prepared.utility is not None or prepared.plan is None:
            raise errors.not_supported("EXPLAIN of this statement",
                                       hint="EXPLAIN works on SELECT, INSERT, UPDATE and DELETE.")
        root = session._catalog_root()
        if prepared.bound.privileges and root.auth.roles:   # as PostgreSQL: EXPLAIN too
            from .auth.check import check
            check(session, root, prepared.bound)
        stats = None
        if explain.analyze:
            stats = {}
            session._run(prepared, params, analyze=stats)
    except errors.Error as exc:
        # Positions count from the start of the whole EXPLAIN statement, as in PostgreSQL.
        if exc.position is not None:
            exc.position += explain.offset
        raise
    tree = to_dict(prepared.plan, session._catalog_root(), stats)
    if explain.format == "json":
        text = json.dumps(tree)
        return Result([("QUERY PLAN", types.TEXT)],
                      table=pa.table({"QUERY PLAN": pa.array([text], pa.large_string())}),
                      rowcount=1, kind="EXPLAIN")
    lines = to_text(tree)
    return Result([("QUERY PLAN", types.TEXT)],
                  table=pa.table({"QUERY PLAN": pa.array(lines, pa.large_string())}),
                  rowcount=len(lines), kind="EXPLAIN")
