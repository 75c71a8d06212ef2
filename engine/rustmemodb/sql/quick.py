"""A hand-written recognizer for the simplest statement shape: SELECT of constants.

``SELECT 1`` is how connection pools, drivers and health checks say hello, and it is
often the first statement a process runs. Through sqlglot and the binder it would
import sqlglot, the binder and, through them, most of the executor and pyarrow:
about three quarters of a cold start (issue 11's start-up target). This module
recognizes only a select list of plain literals, each with an optional ``AS name``,
and builds exactly the plan the binder builds for it (tests/engine/test_quick.py
compares the two); any other text, or anything unusual in it, returns ``None`` and
takes the ordinary way, which also reports every error.
"""
from __future__ import annotations

import re

from .. import types
from ..plan.expr import Const
from ..plan.logical import LogicalProject, LogicalValues
from .bound import BoundStatement

# One select-list item: a literal and an optional alias. Strings without quotes or
# backslashes inside, integers, decimals with digits on both sides of the point.
_ITEM = re.compile(
    r"\s*(?:(?P<int>[0-9]+)|(?P<dec>[0-9]+\.[0-9]+)|'(?P<str>[^'\\]*)'"
    r"|(?P<word>NULL|TRUE|FALSE))(?![A-Za-z0-9_.'])"
    r"(?:\s+AS\s+(?P<alias>[A-Za-z_][A-Za-z0-9_]*))?\s*(?P<sep>,|;?\s*$)",
    re.IGNORECASE)
_SELECT = re.compile(r"\s*SELECT\s", re.IGNORECASE)

# PostgreSQL's reserved key words: not a column alias even after AS, or a syntax error
# the ordinary path reports.
_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time current_timestamp
current_user default deferrable desc distinct do else end except false fetch for foreign
from grant group having in initially intersect into lateral leading limit localtime
localtimestamp not null offset on only or order placing primary references returning
select session_user some symmetric system_user table then to trailing true union unique
user using variadic when where window with""".split())

_INT64_MAX = 2 ** 63 - 1
_WORDS = {"null": (None, types.TEXT), "true": (True, types.BOOLEAN),
          "false": (False, types.BOOLEAN)}


def recognize(sql: str, shape=None) -> tuple[BoundStatement, dict | None] | None:
    """(bound statement, literal tags) for a SELECT of constants, or None for anything
    else. With the statement's ``shape`` (sql/literals.py) the constants written as
    liftable literals carry their slot, as the binder tags them, and the tags returned
    tell the session to lift them (``parameterize``)."""
    m = _SELECT.match(sql)
    if m is None or not sql.isascii():
        return None
    starts = {start: i for i, (start, _, _) in enumerate(shape.literals)} if shape else {}
    pos, end = m.end(), len(sql)
    columns: list = []
    exprs: list = []
    while True:
        item = _ITEM.match(sql, pos)
        if item is None:
            return None
        slot = None
        if item.group("int") is not None:
            value, type_ = int(item.group("int")), types.INTEGER
            if value > _INT64_MAX:
                return None          # 22003 from the ordinary path
            slot = starts.get(item.start("int"))
        elif item.group("dec") is not None:
            value, type_ = float(item.group("dec")), types.FLOAT
            slot = starts.get(item.start("dec"))
        elif item.group("str") is not None:
            value, type_ = item.group("str"), types.TEXT
            slot = starts.get(item.start("str") - 1)
        else:
            value, type_ = _WORDS[item.group("word").lower()]
        alias = item.group("alias")
        if alias is not None:
            alias = alias.lower()
            if alias in _RESERVED:
                return None
        columns.append((alias or "?column?", type_))
        exprs.append(Const(value=value, type=type_, slot=slot))
        pos = item.end()
        if item.group("sep") != ",":
            break
    if pos != end:
        return None
    plan = LogicalProject(columns=columns, child=LogicalValues(columns=[], rows=[[]]),
                          exprs=exprs)
    bound = BoundStatement("SELECT", plan=plan, returns_rows=True)
    tags = {start: (i, kind, raw) for i, (start, kind, raw) in enumerate(shape.literals)} \
        if starts else None
    return bound, tags
