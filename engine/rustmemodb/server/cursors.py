"""SQL cursors over the wire: DECLARE, FETCH, MOVE and CLOSE (psycopg's named cursors).

The engine has no SQL cursors; over the wire they are the protocol's portals under
another name, so the session keeps them: DECLARE runs the query (its result is the
engine's Arrow result, converted a batch at a time as rows are fetched, like any
result this server sends), FETCH sends the next rows, MOVE skips them, CLOSE drops
the cursor. As in PostgreSQL, a cursor belongs to the transaction that declared it
(DECLARE outside a transaction block is 25P01) unless it is ``WITH HOLD``, and a
protocol Describe of a portal named like a cursor describes the cursor's rows (psycopg
asks that after DECLARE). The rows are the statement's whole result, so every
movement PostgreSQL has is cheap: NEXT/PRIOR/FIRST/LAST, ABSOLUTE n, RELATIVE n,
FORWARD/BACKWARD n|ALL, with PostgreSQL's position rules (before the first row, on row
k, after the last); a ``NO SCROLL`` cursor refuses to move backward (55000), a cursor
declared without either may, as PostgreSQL allows for plans that can.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

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
_BINARY = re.compile(rf"^\s*DECLARE\s+(?:{_NAME})\s+BINARY\b", re.I)
_FIRST_WORD = frozenset(("DECLARE", "FETCH", "MOVE", "CLOSE"))


@dataclass
class Cursor:
    columns: list
    rows: object            # session.ResultRows (its rows_at reads any range)
    txn: object             # the declaring transaction; None: WITH HOLD
    scroll: bool = True     # False: NO SCROLL (forward only)
    position: int = 0       # 0: before the first row; k: on row k; count + 1: after the last
    statement: str = ""     # the DECLARE as sent (pg_cursors.statement)
    created: datetime | None = None


def listing(cursors: dict) -> list[tuple]:
    """pg_cursors rows: (name, statement, is_holdable, is_binary, is_scrollable,
    creation_time) of a session's open cursors."""
    return [(name, c.statement, c.txn is None, bool(_BINARY.match(c.statement)), c.scroll,
             c.created) for name, c in cursors.items()]


class Window:
    """Rows ``first``.. of a cursor (1-based; descending when ``step`` is -1), sent like
    a result (ResultRows' interface: ``done``, ``take``)."""

    __slots__ = ("base", "first", "step", "pos", "count")

    def __init__(self, base, first: int, count: int, step: int = 1) -> None:
        self.base, self.first, self.step = base, first, step
        self.pos = 0
        self.count = count

    @property
    def done(self) -> bool:
        return self.pos >= self.count

    def take(self, n: int) -> list:
        n = min(n, self.count - self.pos)
        a = self.first + self.step * self.pos          # 1-based row numbers
        b = a + self.step * (n - 1)
        self.pos += n
        if not n:
            return []
        if self.step > 0:
            return self.base.rows_at(a - 1, b)
        return self.base.rows_at(b - 1, a)[::-1]


def move(cur: Cursor, how: str, count: int | None) -> tuple[int, int, int]:
    """Move ``cur`` as FETCH/MOVE ``how`` says: (first row, rows, step) of the rows it
    passes over, PostgreSQL's rules. ``how``: forward | backward | absolute | relative;
    ``count`` None is ALL."""
    total, pos = cur.rows.count, cur.position
    if how == "absolute":
        target = count if count >= 0 else total + count + 1
        return _jump(cur, max(0, min(target, total + 1)), total)
    if how == "forward" and count == 0:      # FETCH 0 / FORWARD 0: the current row again
        how = "relative"
    if how == "relative":
        if count == 0:
            return (pos, 1, 1) if 1 <= pos <= total else (pos, 0, 1)
        return _jump(cur, max(0, min(pos + count, total + 1)), total)
    if how == "forward":
        n = total - pos if count is None else count
        if n < 0:
            return move(cur, "backward", -n)
        first = pos + 1
        got = max(0, min(n, total - pos))
        cur.position = pos + n if pos + n <= total else total + 1
        if count is None:
            cur.position = total + 1
        return first, got, 1
    _backward(cur)
    n = pos if count is None else count          # backward
    first = pos - 1
    got = max(0, min(n, pos - 1))
    cur.position = pos - n if pos - n >= 1 else 0
    if count is None:
        cur.position = 0
    return first, got, -1


def _jump(cur: Cursor, target: int, total: int) -> tuple[int, int, int]:
    if target < cur.position:
        _backward(cur)
    cur.position = target
    return (target, 1, 1) if 1 <= target <= total else (target, 0, 1)


def _backward(cur: Cursor) -> None:
    if not cur.scroll:
        raise errors.sql_error("55000", "cursor can only scan forward",
                               hint="Declare it with SCROLL option to enable backward scan.")


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


def parse_declare(sql: str) -> tuple[str, str, bool, bool]:
    """(name, query, with hold, may scroll) of a DECLARE."""
    m = _DECLARE.match(sql)
    scroll = m.group("scroll")
    hold = (m.group("hold") or "").upper() == "WITH"
    return (name_of(m.group("name")), m.group("query"), hold,
            not (scroll and scroll.upper().startswith("NO")))


def parse_fetch(sql: str) -> tuple[str, str, str, int | None]:
    """(FETCH or MOVE, cursor name, direction, count: None for ALL); the direction is
    forward, backward, absolute or relative (see ``move``)."""
    m = _FETCH.match(sql)
    words = (m.group("how") or "NEXT").upper().split()
    head, arg = words[0], (words[1] if len(words) > 1 else None)
    if head in ("NEXT", "FORWARD") and arg is None:
        how, count = "forward", 1
    elif head == "PRIOR" or (head == "BACKWARD" and arg is None):
        how, count = "backward", 1
    elif head in ("ALL", "FORWARD", "BACKWARD"):
        how = "backward" if head == "BACKWARD" else "forward"
        count = None if (head == "ALL" or arg == "ALL") else int(arg)
    elif head == "FIRST":
        how, count = "absolute", 1
    elif head == "LAST":
        how, count = "absolute", -1
    elif head in ("ABSOLUTE", "RELATIVE"):
        how, count = head.lower(), int(arg)
    else:                                   # a bare count: FETCH 5 / FETCH -2
        how, count = "forward", int(head)
    return m.group("verb").upper(), name_of(m.group("name")), how, count


def close_target(sql: str) -> str | None:
    """The cursor CLOSE names, or None for CLOSE ALL."""
    raw = _CLOSE.match(sql).group("name")
    return None if raw.upper() == "ALL" else name_of(raw)


def missing(name: str) -> errors.Error:
    return errors.sql_error("34000", f'cursor "{name}" does not exist')
