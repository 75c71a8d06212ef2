"""Relation names written as SQL text, and the ``nextval('...')`` a SERIAL column keeps.

A SERIAL or identity column's DEFAULT is stored as SQL text naming its sequence. The
name is read back as PostgreSQL reads a name in a string (``nextval('"Q_id_seq"')``,
``'public.t_id_seq'::regclass``): unquoted parts fold to lower case, quoted ones keep
theirs, so a table called "Q" gets a sequence "Q_id_seq" that its DEFAULT can name
(before, the name was written bare and folded to q_id_seq, which did not exist, so
every INSERT into such a table failed). One module, so the DDL that writes the
DEFAULT, the DROP that looks for its users and the catalogs that show it agree.
"""
from __future__ import annotations

import re

from .. import errors
from .namespaces import PUBLIC, qualify

_PART = re.compile(r'\s*(?:"((?:[^"]|"")*)"|([^".\s]+))\s*')
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")
# what serial_default writes (a SERIAL / identity column: its table owns the sequence),
# and any DEFAULT drawing from a sequence (a user's, as sqlglot writes it: NEXTVAL(...))
_OWNED = re.compile(r"nextval\('((?:[^']|'')+)'\)")
_DRAWS = re.compile(r"nextval\(\s*'((?:[^']|'')+)'(?:::regclass)?\s*\)", re.I)


def relation_name(text: str) -> str:
    """The catalog key of the relation ``text`` names (``'a_id_seq'``,
    ``'public."My Seq"'``, ``'s.q'``: storage/namespaces.py); 42602 for text that is no
    name."""
    parts, pos = [], 0
    while True:
        m = _PART.match(text, pos)
        if m is None or m.end() == pos:
            raise errors.sql_error("42602", f'invalid name syntax: "{text}"')
        parts.append(m.group(1).replace('""', '"') if m.group(1) is not None
                     else m.group(2).lower())
        pos = m.end()
        if pos == len(text):
            if len(parts) > 1 and parts[-2] not in (PUBLIC, "pg_catalog"):
                return qualify(parts[-2], parts[-1])
            return parts[-1]
        if text[pos] != "." or len(parts) == 3:
            raise errors.sql_error("42602", f'invalid name syntax: "{text}"')
        pos += 1


def quote_name(name: str) -> str:
    """``name`` as SQL must write it to get it back: bare when folding keeps it."""
    return name if _PLAIN.fullmatch(name) else '"' + name.replace('"', '""') + '"'


def serial_default(sequence: str) -> str:
    """The DEFAULT of a column drawing from ``sequence``."""
    return "nextval('" + quote_name(sequence).replace("'", "''") + "')"


def default_sequence(default_sql: str | None, owned: bool = False) -> str | None:
    """The sequence a column's DEFAULT draws from, else None; ``owned``: only a SERIAL or
    identity column's (``serial_default``'s text), which its table drops with it."""
    m = (_OWNED if owned else _DRAWS).fullmatch(default_sql or "")
    return relation_name(m.group(1).replace("''", "'")) if m else None
