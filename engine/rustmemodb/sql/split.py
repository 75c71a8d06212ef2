"""Splitting a script into statements, aware of quotes, comments and dollar quotes.

Used by ``executescript``-style calls and by the notebook to run every statement
of a cell and to point a caret at the failing one: each piece keeps its offset
in the original text.
"""
from __future__ import annotations

import re

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def split_statements(sql: str) -> list[tuple[str, int]]:
    """``[(statement text, offset in sql), ...]`` without empty statements."""
    body = sql.rstrip()
    if body.endswith(";"):
        body = body[:-1]
    # What makes splitting need the scan below (substring tests: cheaper than a regex);
    # a statement without any of these (the usual one statement a wire client sends, a
    # trailing semicolon aside) is one piece.
    if not (";" in body or "'" in body or '"' in body or "$" in body or "--" in body
            or "/*" in body):
        text = body.strip()
        return [(text, len(body) - len(body.lstrip()))] if text else []
    out: list[tuple[str, int]] = []
    start = i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            i = _skip_quoted(sql, i, ch)
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif ch == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif ch == "$":
            m = _DOLLAR.match(sql, i)
            if m:
                j = sql.find(m.group(0), m.end())
                i = n if j < 0 else j + len(m.group(0))
            else:
                i += 1
        elif ch == ";":
            _emit(out, sql, start, i)
            i += 1
            start = i
        else:
            i += 1
    _emit(out, sql, start, n)
    return out


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(sql):
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return j


def _emit(out: list, sql: str, start: int, end: int) -> None:
    piece = sql[start:end]
    stripped = _strip_comments_only(piece)
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        out.append((piece.strip(), start + lead))


def _strip_comments_only(piece: str) -> str:
    text = _LINE_COMMENT.sub("", piece)
    text = _BLOCK_COMMENT.sub("", text)
    return text.strip()
