"""PostgreSQL 15 clauses sqlglot cannot read, taken off its tokens and put back as meta.

* ``ON DELETE SET NULL (a, b)`` / ``SET DEFAULT (a)``: the column list of a foreign
  key's action. The list is cut from the tokens; after the parse each ``Reference``
  node gets ``meta["set_columns"]``: {"DELETE" | "UPDATE": (name, ...)} of its actions
  written with one (sql/bind/bind_constraints.py checks and keeps them).
* ``NULLS [NOT] DISTINCT`` after a ``CREATE INDEX`` column list (sqlglot falls back to an
  opaque Command, and logs a warning): cut, and ``meta["nulls_not_distinct"]`` set on the
  Create node when NOT DISTINCT. ``UNIQUE NULLS DISTINCT``, the default spelt out, is
  cut too (sqlglot reads only ``UNIQUE NULLS NOT DISTINCT``).

``cut(tokens)`` returns the tokens and what was cut; ``put_back(stmt, cuts)`` sets the
meta on the parsed statement.
"""
from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.tokens import TokenType

from .. import errors

# Cheap tests on the text before the tokens are walked.
SET_LIST = re.compile(r"(?i)\bset\s+(?:null|default)\s*\(")
NULLS_DISTINCT = re.compile(r"(?i)\bnulls\s+(?:not\s+)?distinct\b")

_EVENTS = (TokenType.DELETE, TokenType.UPDATE)
_SETS = (TokenType.NULL, TokenType.DEFAULT)


class Cuts:
    """What ``cut`` took off: per ``ON event SET action`` in text order, its column list
    or None; whether an index's NULLS NOT DISTINCT was seen."""

    __slots__ = ("actions", "index_not_distinct")

    def __init__(self) -> None:
        self.actions: list = []      # [(event, names or None)]
        self.index_not_distinct = False


def _word(tok) -> str:
    return tok.text.upper() if tok is not None else ""


def cut(tokens: list, is_index: bool) -> tuple[list, Cuts]:
    """The tokens without the clauses above; ``is_index``: a CREATE INDEX statement."""
    cuts = Cuts()
    out: list = []
    n = len(tokens)
    depth = 0
    i = 0
    while i < n:
        tok = tokens[i]
        kind = tok.token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
        if kind == TokenType.ON and i + 3 < n and tokens[i + 1].token_type in _EVENTS \
                and tokens[i + 2].token_type == TokenType.SET \
                and tokens[i + 3].token_type in _SETS:
            event = _word(tokens[i + 1])
            out.extend(tokens[i:i + 4])
            i += 4
            names = None
            if i < n and tokens[i].token_type == TokenType.L_PAREN:
                names, i = _names(tokens, i)
            cuts.actions.append((event, names))
            continue
        if _word(tok) == "NULLS" and i + 1 < n:
            nxt = tokens[i + 1]
            not_distinct = nxt.token_type == TokenType.NOT and i + 2 < n and \
                tokens[i + 2].token_type == TokenType.DISTINCT
            if not_distinct or nxt.token_type == TokenType.DISTINCT:
                prev = out[-1].token_type if out else None
                if prev == TokenType.UNIQUE and not not_distinct:
                    i += 2                               # UNIQUE NULLS DISTINCT
                    continue
                if is_index and depth == 0 and prev == TokenType.R_PAREN:
                    cuts.index_not_distinct |= not_distinct
                    i += 3 if not_distinct else 2
                    continue
        out.append(tok)
        i += 1
    return out, cuts


def _names(tokens: list, i: int) -> tuple[tuple, int]:
    """The names of the parenthesised list at ``tokens[i]`` and the index after it."""
    names: list = []
    i += 1
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if tok.token_type in (TokenType.R_PAREN, TokenType.COMMA, TokenType.L_PAREN):
            raise errors.syntax_error(f'syntax error at or near "{tok.text}"',
                                      position=tok.start)
        names.append(tok.text)
        i += 1
        if i < n and tokens[i].token_type == TokenType.COMMA:
            i += 1
            continue
        if i < n and tokens[i].token_type == TokenType.R_PAREN:
            return tuple(names), i + 1
        break
    raise errors.syntax_error('syntax error at or near "("')


def put_back(stmt: exp.Expression, cuts: Cuts) -> None:
    """Set the meta ``cut`` took the clauses for (see the module docstring)."""
    if cuts.index_not_distinct and isinstance(stmt, exp.Create):
        stmt.meta["nulls_not_distinct"] = True
    if not any(names is not None for _, names in cuts.actions):
        return
    pending = iter(cuts.actions)
    for ref in stmt.find_all(exp.Reference, bfs=False):
        for opt in ref.args.get("options") or []:
            text = " ".join(str(opt).upper().split())
            if text.startswith("ON ") and (" SET NULL" in text or " SET DEFAULT" in text):
                event, names = next(pending, (None, None))
                if names is not None:
                    ref.meta.setdefault("set_columns", {})[event] = names
