"""API tokens tied to database roles: what ``create_app(app, auth="tokens")`` checks.

A token is a random secret handed out once by ``issue_token(app, user)``; the database
keeps only its SHA-256 hash, with the role it acts as, in the system table
``_persist_api_tokens`` (an ordinary table written in a transaction: durable with the
database's WAL, forked and diffed with it, readable only by superusers once roles
exist). A REST request with ``Authorization: Bearer <token>`` then runs as that role
(``PersistApp.as_role``), so the engine's GRANT/REVOKE checks decide what it may do.

``resolve_token`` answers why a token does not admit anyone: ``28P01`` (unknown,
revoked or expired token, or its role was dropped or renamed: the client should
authenticate again, HTTP 401) or ``28000`` (the role may not log in: NOLOGIN, or
its ``VALID UNTIL`` has passed: HTTP 403). No engine part lives here beyond SQL on
that table; FastAPI is not imported, so ``rustmemodb token`` works without the
``rest`` extra.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import secrets
import sys
from dataclasses import dataclass
from typing import Sequence

from ... import errors
from ..app import PersistApp, as_system

TABLE = "_persist_api_tokens"
COLUMNS = ('"token_hash" TEXT PRIMARY KEY, "id" TEXT NOT NULL, "role" TEXT NOT NULL, '
           '"label" TEXT, "created_at" TIMESTAMP NOT NULL, "expires_at" TIMESTAMP, '
           '"revoked_at" TIMESTAMP')
PREFIX = "rmdb_"


@dataclass(frozen=True)
class TokenInfo:
    """One issued token as listed (never its secret or hash)."""
    id: str
    role: str
    label: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None
                                            or self.expires_at > _now())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(expires) -> dt.datetime | None:
    """``expires``: None (never), seconds from now, a timedelta, or a datetime (an aware
    one is converted to UTC; a naive one is taken as UTC)."""
    if expires is None:
        return None
    if isinstance(expires, dt.datetime):
        if expires.tzinfo is not None:
            expires = expires.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return expires
    if isinstance(expires, dt.timedelta):
        return _now() + expires
    if isinstance(expires, (int, float)) and not isinstance(expires, bool):
        return _now() + dt.timedelta(seconds=float(expires))
    raise TypeError("expires must be None, seconds, a timedelta or a datetime")


def _database(target):
    return target.database if isinstance(target, PersistApp) else target


def _write(target, body):
    """``body(conn)`` in one committed transaction, as the app (not a request's role)."""
    if isinstance(target, PersistApp):
        def as_app(conn):
            with as_system(conn):
                return body(conn)
        return target._run(as_app)
    conn = target.connect()
    try:
        conn.autocommit = False
        result = body(conn)
        conn.commit()
        return result
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def _read(target, body):
    if isinstance(target, PersistApp):
        def as_app(conn):
            with as_system(conn):
                return body(conn)
        return target._read(as_app)
    conn = target.connect()
    try:
        return body(conn)
    finally:
        conn.close()


def _ensure_table(conn) -> None:
    if TABLE not in conn.database.tables():
        conn.execute(f'CREATE TABLE "{TABLE}" ({COLUMNS})')


def issue_token(target, user: str, *, expires=None, label: str | None = None) -> str:
    """A new API token acting as database role ``user`` (``42704`` if there is no such
    role). ``target``: a PersistApp or a Database. The returned secret is shown once:
    only its SHA-256 hash is stored."""
    if not isinstance(user, str) or not user:
        raise errors.sql_error("42704", "a role name is required")
    until = _expiry(expires)
    ident = secrets.token_hex(6)
    token = f"{PREFIX}{ident}_{secrets.token_urlsafe(32)}"

    def body(conn):
        if conn.database.head.auth.role(user) is None:
            raise errors.sql_error("42704", f'role "{user}" does not exist',
                                   hint="CREATE ROLE ... LOGIN first; API tokens act as "
                                        "database roles.")
        _ensure_table(conn)
        conn.execute(f'INSERT INTO "{TABLE}" VALUES (?, ?, ?, ?, ?, ?, NULL)',
                     (_hash(token), ident, user, label, _now(), until))
    _write(target, body)
    return token


def _ident(token_or_id: str) -> tuple[str, str]:
    """(column, value) naming one token: the full secret (by hash) or its public id."""
    if token_or_id.startswith(PREFIX):
        return "token_hash", _hash(token_or_id)
    return "id", token_or_id


def revoke_token(target, token_or_id: str) -> bool:
    """Revoke a token (given whole, or its id as listed); True if one was revoked.
    The record stays (listed as revoked); the token admits nobody from the next
    request on."""
    column, value = _ident(token_or_id)

    def body(conn):
        if TABLE not in conn.database.tables():
            return False
        return conn.execute(f'UPDATE "{TABLE}" SET "revoked_at" = ? WHERE "{column}" = ? '
                            'AND "revoked_at" IS NULL', (_now(), value)).rowcount > 0
    return _write(target, body)


def list_tokens(target, user: str | None = None) -> list[TokenInfo]:
    """Every issued token (of role ``user`` if given), oldest first."""
    def body(conn):
        if TABLE not in conn.database.tables():
            return []
        sql = (f'SELECT "id", "role", "label", "created_at", "expires_at", "revoked_at" '
               f'FROM "{TABLE}"')
        params: tuple = ()
        if user is not None:
            sql, params = sql + ' WHERE "role" = ?', (user,)
        return conn.execute(sql + ' ORDER BY "created_at", "id"', params).fetchall()
    return [TokenInfo(*row) for row in _read(target, body)]


def resolve_token(target, token: str) -> str:
    """The role a presented token acts as, or ``28P01`` (not a live token of an existing
    role) / ``28000`` (the role may not log in)."""
    from ...auth.login import check_login, expired

    def body(conn):
        if TABLE not in conn.database.tables():
            return None
        return conn.execute(f'SELECT "role", "expires_at", "revoked_at" FROM "{TABLE}" '
                            'WHERE "token_hash" = ?', (_hash(token),)).fetchone()
    row = _read(target, body) if token else None
    invalid = errors.sql_error("28P01", "invalid API token",
                               hint="The token is unknown, revoked or expired, or its "
                                    "role no longer exists.")
    if row is None or row[2] is not None or (row[1] is not None and row[1] <= _now()):
        raise invalid
    role = _database(target).head.auth.role(row[0])
    if role is None:
        raise invalid
    check_login(role)                    # NOLOGIN: 28000
    if expired(role):
        raise errors.sql_error("28000", f'role "{role.name}" is no longer valid',
                               hint="Its VALID UNTIL has passed.")
    return role.name


# ---- the command line: rustmemodb token ----------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rustmemodb token",
        description="Issue, list or revoke REST API tokens of a database directory's roles "
                    "(served by 'rustmemodb serve-rest --auth tokens'). Run it while no "
                    "server has the directory open.")
    p.add_argument("--db", metavar="PATH", required=True, help="database directory")
    p.add_argument("--user", help="issue a token acting as this database role")
    p.add_argument("--expires", type=float, metavar="SECONDS",
                   help="with --user: the token expires this many seconds from now")
    p.add_argument("--label", help="with --user: a note stored with the token")
    p.add_argument("--list", action="store_true", help="list the tokens (of --user if given)")
    p.add_argument("--revoke", metavar="ID", help="revoke the token with this id (or secret)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not (args.user or args.list or args.revoke):
        print("rustmemodb token: give --user NAME, --list or --revoke ID", file=sys.stderr)
        return 2
    if not os.path.isdir(args.db):      # never create an empty database to hold a token
        print(f"rustmemodb token: --db {args.db}: not a database directory", file=sys.stderr)
        return 2
    from ...database import Database
    db = Database.open(args.db)
    try:
        if args.revoke:
            if not revoke_token(db, args.revoke):
                print(f"rustmemodb token: no live token {args.revoke}", file=sys.stderr)
                return 1
            print(f"revoked {args.revoke}")
        elif args.list:
            for t in list_tokens(db, args.user):
                state = "revoked" if t.revoked_at else ("active" if t.active else "expired")
                print(f"{t.id}\t{t.role}\t{state}\tcreated {t.created_at:%Y-%m-%d %H:%M:%S}"
                      f"\texpires {t.expires_at or 'never'}\t{t.label or ''}")
        else:
            try:
                token = issue_token(db, args.user, expires=args.expires, label=args.label)
            except errors.Error as exc:
                print(f"rustmemodb token: {exc}", file=sys.stderr)
                return 1
            print(token)
    finally:
        closer = getattr(db, "close", None)
        if closer is not None:
            closer()
    return 0
