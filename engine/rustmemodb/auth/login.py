"""Logging in as a role: the one check shared by embedded connections and the server.

``authenticate(database, user, password)`` answers PostgreSQL's way: a wrong
password and an unknown user are the same ``28P01 password authentication
failed for user "..."`` (an unknown user still costs a key derivation, so timing
tells nothing either); a right password for a role without LOGIN is ``28000
role "..." is not permitted to log in``. A database with no roles at all has no
access control: any user name is accepted and the session is the implicit
superuser, as before roles existed (embedded code owns the database files anyway).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os

from .. import errors
from . import verifier

_DECOY_SALT = os.urandom(16)


def failed(user: str) -> errors.Error:
    return errors.sql_error("28P01", f'password authentication failed for user "{user}"')


def authenticate(database, user: str, password: str | None) -> str | None:
    """The role to run as (None: the implicit superuser of a database without roles),
    or 28P01 / 28000."""
    cat = database.head.auth
    if not cat.active:
        return None
    role = cat.role(user)
    ok = False
    if role is not None and password is not None:
        ok = verifier.check_clear(role.password, user, password)
    elif password is not None:
        hashlib.pbkdf2_hmac("sha256", password.encode(), _DECOY_SALT, verifier.ITERATIONS)
    if not ok or expired(role):
        raise failed(user)
    check_login(role)
    return role.name


def check_login(role) -> None:
    if not role.login:
        raise errors.sql_error("28000", f'role "{role.name}" is not permitted to log in')


def expired(role) -> bool:
    """Has the role's VALID UNTIL passed (its password no longer admits it)?"""
    if role is None or not role.valid_until or role.valid_until.lower() == "infinity":
        return False
    try:
        from ..types import parse_literal_as
        until = parse_literal_as("TIMESTAMP", role.valid_until)
    except Exception:   # noqa: BLE001 - an unreadable date admits nobody
        return True
    if isinstance(until, dt.datetime) and until.tzinfo is not None:
        return until < dt.datetime.now(dt.timezone.utc)
    return until < dt.datetime.now()
