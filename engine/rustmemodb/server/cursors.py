"""SQL cursors over the wire: DECLARE, FETCH, MOVE and CLOSE (psycopg's named cursors).

The engine has no SQL cursors; over the wire they are the protocol's portals under
another name, so the session keeps them: DECLARE runs the query (its result is the
engine's Arrow result, converted a batch at a time as rows are fetched, like any
result this server sends), FETCH sends the next rows, MOVE skips them, CLOSE drops
the cursor. As in PostgreSQL, a cursor belongs to the transaction that declared it
(DECLARE outside a transaction block is 25P01) unless it is ``WITH HOLD``, and a
protocol Describe of a portal named like a cursor describes the cursor's rows (psycopg
asks that after DECLARE). Only forward movement: ``SCROLL`` and backward fetches are
0A000.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import errors

_NAME = r'"(?:[^"]|"")+"|[A-Za-z_][\w$]*'
_DECLARE = re.compile(
    rf"^\s*DECLARE\s+(?P<name>{_NAME})\s+(?:BINARY\s+)?(?:(?:ASENSITIVE|INSENSITIVE)\s+)?"
    rf"(?P<scroll>(?:NO\s+)?SCROLL\s+)?CURSOR\s+(?:(?P<hold>WITH|WITHOUT)\s+HOLD\s+)?FOR\s+"
    rf"(?P<query>.*?)\s*;?\s*$", re.I | re.S)
_FETCH = re.compile(
    rf"^\s*(?P<verb>FETCH|MOVE)\s+(?:(?P<how>NEXT|ALL|FORWARD\s+ALL|FORWARD\s+\d+|FORWARD|"
    rf"\d+|PRIOR|FIRST|LAST|ABSOLUTE\s+-?\d+|RELATIVE\s+-?\d+|BACKWARD(?:\s+ALL|\s+\d+)?|"
    rf"-\d+)\s+)?(?:(?:FROM|IN)\s+)?(?P<name>{_NAME})\s*;?\s*$", re.I | re.S)
_CLOSE = re.compile(rf"^\s*CLOSE\s+(?P<name>ALL|{_NAME})\s*;?\s*$", re.I | re.S)
_FIRST_WORD = frozenset(("DECLARE", "FETCH", "MOVE", "CLOSE"))


@dataclass
class Cursor:
    columns: list
    rows: object            # session.ResultRows: pos is the cursor's position
    txn: object             # the declaring transaction; None: WITH HOLD


class Window:
    """The next ``n`` rows of a cursor, sent like a result (ResultRows' interface);
    taking rows moves the cursor."""

    __slots__ = ("base", "pos", "count")

    def __init__(self, base, n: int) -> None:
        self.base = base
        self.pos = 0
        self.count = max(0, min(n, base.count - base.pos))

    @property
    def done(self) -> bool:
        return self.pos >= self.count

    def take(self, n: int) -> list:
        n = min(n, self.count - self.pos)
        self.pos += n
        return self.base.take(n)


def kind_of(sql: str) -> str | None:
    """'declare', 'fetch', 'close' or None: whether ``sql`` is a cursor statement."""
    head = sql.lstrip()[:8].split(None, 1)
    word = head[0].upper() if head else ""
    if word not in _FIRST_WORD:
        return None
    if word == "DECLARE":
        return "declare" if _DECLARE.match(sql) else None
    if word == "CLOSE":
        return "close" if _CLOSE.match(sql) else None
    return "fetch" if _FETCH.match(sql) else None


def name_of(raw: str) -> str:
    if raw.startswith('"'):
        return raw[1:-1].replace('""', '"')
    return raw.lower()


def parse_declare(sql: str) -> tuple[str, str, bool]:
    """(name, query, with hold) of a DECLARE; 0A000 for SCROLL."""
    m = _DECLARE.match(sql)
    scroll = m.group("scroll")
    if scroll and not scroll.upper().startswith("NO"):
        raise errors.sql_error("0A000", "SCROLL cursors are not supported",
                               hint="Declare the cursor NO SCROLL (the default) and fetch "
                                    "forward.")
    hold = (m.group("hold") or "").upper() == "WITH"
    return name_of(m.group("name")), m.group("query"), hold


def parse_fetch(sql: str) -> tuple[str, str, int | None]:
    """(FETCH or MOVE, cursor name, how many rows: None for all)."""
    m = _FETCH.match(sql)
    how = " ".join((m.group("how") or "NEXT").upper().split())
    if how in ("NEXT", "FORWARD"):
        count = 1
    elif how in ("ALL", "FORWARD ALL"):
        count = None
    elif how.isdigit():
        count = int(how)
    elif how.startswith("FORWARD "):
        count = int(how.split()[1])
    else:
        raise errors.sql_error("0A000", f"{m.group('verb').upper()} {how} is not supported: "
                                        "cursors move forward only")
    return m.group("verb").upper(), name_of(m.group("name")), count


def close_target(sql: str) -> str | None:
    """The cursor CLOSE names, or None for CLOSE ALL."""
    raw = _CLOSE.match(sql).group("name")
    return None if raw.upper() == "ALL" else name_of(raw)


def missing(name: str) -> errors.Error:
    return errors.sql_error("34000", f'cursor "{name}" does not exist')
