"""Isolation levels: their names, the SQL that chooses them, and the re-run policy.

Two behaviours exist (README "Isolation levels" compares them with PostgreSQL's):

* ``repeatable read`` (also what ``serializable`` gives, as snapshot isolation):
  the whole transaction reads one snapshot; at COMMIT a write-write conflict
  with a transaction that committed since is ``40001`` (first committer wins).
* ``read committed``: every statement reads the newest committed root (with
  the transaction's own writes rebased onto it), and a conflict is resolved by
  re-running the transaction's statements on the newest root instead of
  failing (session.py does the re-running, bounded by ``ATTEMPTS``).

An autocommit statement is re-run on conflict whatever the level: it is its own
transaction and nobody has seen its result yet, so running it again later is
indistinguishable from having run it later. Explicit transactions default to
``repeatable read`` (PostgreSQL's default is ``read committed``; the README says
why we differ).
"""
from __future__ import annotations

import random
import re
import time

from .. import errors

READ_COMMITTED = "read committed"
REPEATABLE_READ = "repeatable read"
SERIALIZABLE = "serializable"
READ_UNCOMMITTED = "read uncommitted"
LEVELS = (READ_UNCOMMITTED, READ_COMMITTED, REPEATABLE_READ, SERIALIZABLE)
DEFAULT = REPEATABLE_READ

# A conflicting statement (or READ COMMITTED transaction) runs at most this many times.
ATTEMPTS = 32
# Backoff before re-run n (n = 1, 2, ...): uniform in [0, min(CAP, BASE * 2**n)] seconds.
# Small: a re-run is only needed because another writer slipped in between our
# snapshot and our commit, and sleeping also hands the GIL to that writer.
BACKOFF_BASE = 20e-6
BACKOFF_CAP = 2e-3

# Our own generator: the process's global `random` state belongs to the host program.
_jitter = random.Random()

_LEVEL = re.compile(r"ISOLATION\s+LEVEL\s+(READ\s+UNCOMMITTED|READ\s+COMMITTED|"
                    r"REPEATABLE\s+READ|SERIALIZABLE)\b", re.I)


def normalize(value: str) -> str:
    """A level name as PostgreSQL spells it, or 22023 for an unknown one."""
    level = " ".join(value.strip().strip("'\"").lower().split())
    if level not in LEVELS:
        raise errors.sql_error("22023", f'invalid value for parameter "transaction_isolation": '
                                        f'"{value.strip()}"',
                               hint='Available values: serializable, repeatable read, '
                                    'read committed, read uncommitted.')
    return level


def effective(level: str) -> str:
    """What a level behaves as here: READ UNCOMMITTED is READ COMMITTED (as in
    PostgreSQL); SERIALIZABLE is snapshot isolation, i.e. REPEATABLE READ."""
    return READ_COMMITTED if level in (READ_COMMITTED, READ_UNCOMMITTED) else REPEATABLE_READ


# One transaction mode of BEGIN / START TRANSACTION / SET TRANSACTION, with the comma or
# spaces after it (PostgreSQL takes both as separators).
_MODE = re.compile(r"(?:ISOLATION\s+LEVEL\s+(READ\s+UNCOMMITTED|READ\s+COMMITTED|REPEATABLE"
                   r"\s+READ|SERIALIZABLE)|READ\s+(ONLY|WRITE)|(?:NOT\s+)?DEFERRABLE)\b\s*,?\s*",
                   re.I)


def transaction_modes(text: str) -> tuple[str | None, bool | None]:
    """(isolation level, read only) of a transaction mode list; 42601 for anything else
    (``BEGIN foo`` was read as a plain BEGIN)."""
    level = access = None
    text = text.strip()
    pos = 0
    while pos < len(text):
        m = _MODE.match(text, pos)
        if m is None:
            word = text[pos:].split()[0]
            raise errors.syntax_error(f'syntax error at or near "{word}"',
                                      hint="Transaction modes: ISOLATION LEVEL ..., READ "
                                           "ONLY | READ WRITE, [NOT] DEFERRABLE.")
        if m.group(1):
            level = normalize(m.group(1))
        elif m.group(2):
            access = m.group(2).upper() == "ONLY"
        pos = m.end()
    return level, access


def level_in(text: str) -> str | None:
    """The level named by ``... ISOLATION LEVEL x ...`` in BEGIN/SET TRANSACTION text."""
    m = _LEVEL.search(text)
    return normalize(m.group(1)) if m else None


_ACCESS = re.compile(r"\bREAD\s+(ONLY|WRITE)\b", re.I)
_TRUE_WORDS = ("on", "true", "yes", "1", "t", "y")
_FALSE_WORDS = ("off", "false", "no", "0", "f", "n")


def access_in(text: str) -> bool | None:
    """READ ONLY (True) / READ WRITE (False) in BEGIN/SET TRANSACTION text; None: not said."""
    m = _ACCESS.search(text)
    return None if m is None else m.group(1).upper() == "ONLY"


def boolean_setting(name: str, value: str) -> bool | None:
    """``on``/``off`` (and PostgreSQL's other boolean spellings) of a setting; None for
    DEFAULT; 22023 otherwise."""
    word = value.strip().strip("'\"").lower()
    if word == "default":
        return None
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise errors.sql_error("22023", f'parameter "{name}" requires a Boolean value')


def backoff(attempt: int) -> None:
    """Sleep a little, jittered, before re-run number ``attempt`` (1-based)."""
    time.sleep(_jitter.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(attempt, 16)))))


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, errors.Error) and getattr(exc, "sqlstate", None) == "40001"
