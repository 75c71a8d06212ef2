"""Lexical helpers over SQL text: the lab's only SQL "parser".

The lab never parses SQL properly (the engine owns that). It needs to find a
few things in the text a person typed, and each of them must ignore what sits
inside string literals, quoted identifiers and comments:

* ``:name`` bound parameters (``WHERE px > :limit``), which are bound by the
  engine and never pasted into the text; ``::`` casts are not parameters;
* ``{name}`` text interpolation and jupysql's ``{{ expr }}`` (Jinja-style),
  which *are* pasted (they work inside literals too, on purpose: a template,
  like an f-string);
* the leading keyword of a statement (``EXPLAIN``, ``SELECT``...);
* ``name << SELECT ...`` assignment at the start of a cell.

Every rewrite returns a :class:`TextMap`, so an engine error position in
the text that was sent maps back to the text as the user wrote it.

The scanner knows PostgreSQL's quoting rules: ``'...'`` with ``''``,
``E'...'`` with backslash escapes, ``"..."``, ``$tag$...$tag$``, ``-- ...``
and nested ``/* ... */``. It does not know array slices: ``arr[1:n]`` reads
``:n`` as a parameter, a limitation jupysql shares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rustmemodb.sql.params import original_position

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PARAM_RE = re.compile(rf"(?<![:\w]):({_IDENT})")
_BRACE_RE = re.compile(rf"\{{\{{(.+?)\}}\}}|\{{({_IDENT}(?:\.{_IDENT})*)\}}", re.S)
_ASSIGN_RE = re.compile(rf"^\s*({_IDENT})\s*<<\s*", re.S)
_DOLLAR_TAG_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_KEYWORD_RE = re.compile(r"[A-Za-z_]+")


@dataclass(frozen=True)
class Param:
    """One ``:name`` occurrence: the name and its span in the text."""

    name: str
    start: int
    end: int


def code_spans(sql: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` spans of ``sql`` outside literals and comments."""
    start = i = 0
    n = len(sql)
    while i < n:
        skip_to = _skip_quoted(sql, i)
        if skip_to is None:
            i += 1
            continue
        if i > start:
            yield start, i
        i = start = skip_to
    if start < n:
        yield start, n


def _skip_quoted(sql: str, i: int) -> int | None:
    """If a literal, quoted identifier or comment starts at ``i``, return its end."""
    ch = sql[i]
    two = sql[i : i + 2]
    if two == "--":
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end + 1
    if two == "/*":
        return _skip_block_comment(sql, i)
    if ch == "'":
        escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not sql[i - 2].isalnum())
        return _skip_string(sql, i, "'", backslash=escapes)
    if ch == '"':
        return _skip_string(sql, i, '"', backslash=False)
    if ch == "$" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
        m = _DOLLAR_TAG_RE.match(sql, i)
        if m:
            end = sql.find(m.group(0), m.end())
            return len(sql) if end < 0 else end + len(m.group(0))
    return None


def _skip_string(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    j = i + 1
    while j < len(sql):
        c = sql[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == quote:
            if sql[j + 1 : j + 2] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def _skip_block_comment(sql: str, i: int) -> int:
    depth, j = 0, i
    while j < len(sql):
        two = sql[j : j + 2]
        if two == "/*":
            depth, j = depth + 1, j + 2
        elif two == "*/":
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(sql)


def find_params(sql: str) -> list[Param]:
    """Every ``:name`` parameter outside literals and comments, in order.

    >>> [p.name for p in find_params("SELECT :a, ':b', x::int, :c -- :d")]
    ['a', 'c']
    """
    found: list[Param] = []
    for start, end in code_spans(sql):
        for m in _PARAM_RE.finditer(sql, start, end):
            if m.end() < len(sql) and sql[m.end() : m.end() + 1] == ":":
                continue
            found.append(Param(m.group(1), m.start(), m.end()))
    return found


class TextMap:
    """Positions in a rewritten text → positions in the text it was made from.

    Built by :func:`substitute` from the spans it replaced. A position inside
    a replacement maps to the start of what it replaced (the caret then points
    at ``:region`` or ``{table}`` as the user typed it); a position after it
    shifts by the accumulated length difference.
    """

    __slots__ = ("_edits",)

    def __init__(self, edits: tuple[tuple[int, int, int, int], ...] = ()) -> None:
        self._edits = edits  # (new_start, new_end, old_start, old_end), in text order

    def __bool__(self) -> bool:
        return bool(self._edits)

    def __repr__(self) -> str:
        return f"TextMap({self._edits!r})"

    def to_original(self, pos: int) -> int:
        """``pos`` in the rewritten text, as a position in the original."""
        return original_position(self._edits, pos)


def substitute(text: str, replacements: list[tuple[int, int, str]]) -> tuple[str, TextMap]:
    """Replace ``(start, end, new)`` spans (sorted, disjoint) and map positions back."""
    out: list[str] = []
    edits: list[tuple[int, int, int, int]] = []
    pos = new_len = 0
    for start, end, new in replacements:
        out.append(text[pos:start])
        new_len += start - pos
        out.append(new)
        edits.append((new_len, new_len + len(new), start, end))
        new_len += len(new)
        pos = end
    out.append(text[pos:])
    return "".join(out), TextMap(tuple(edits))


def interpolate(sql: str, lookup: Callable[[str], object],
                render: Callable[[str], str | None] | None = None) -> tuple[str, TextMap]:
    """Paste ``{name}`` / ``{name.attr}`` as ``str(value)`` and ``{{ expr }}`` via ``render``.

    ``{name}`` whose name ``lookup`` does not know (``KeyError``) is left
    untouched, so PostgreSQL array literals such as ``'{a,b}'`` and JSON
    survive. ``{{ expr }}`` is jupysql's Jinja-style value interpolation:
    ``render(expr)`` returns the text, or None for text that is not an
    expression (SQL's nested array literal ``'{{1,2},{3,4}}'``), which stays
    as written; so does every ``{{ ... }}`` without ``render``.
    Returns the new text and the map of positions back to ``sql``.

    >>> interpolate("SELECT * FROM {t} WHERE a = '{1,2}' AND {nope}", {"t": "x"}.__getitem__)[0]
    "SELECT * FROM x WHERE a = '{1,2}' AND {nope}"
    """
    replacements: list[tuple[int, int, str]] = []
    for m in _BRACE_RE.finditer(sql):
        if m.group(1) is not None:
            rendered = render(m.group(1).strip()) if render is not None else None
            if rendered is not None:
                replacements.append((m.start(), m.end(), rendered))
            continue
        try:
            replacements.append((m.start(), m.end(), str(_resolve(m.group(2), lookup))))
        except (KeyError, AttributeError):
            continue
    return substitute(sql, replacements)


def _resolve(dotted: str, lookup: Callable[[str], object]) -> object:
    head, *attrs = dotted.split(".")
    value = lookup(head)
    for attr in attrs:
        value = getattr(value, attr)
    return value


def number_params(sql: str) -> tuple[str, tuple[str, ...], TextMap]:
    """``:name`` parameters rewritten to ``$n`` (one slot per distinct name).

    The lab numbers them itself, rather than leaving it to the engine, so
    that it knows where every character moved and can map an error position
    back to the text the user typed.

    >>> number_params("SELECT :a, :b, :a, ':c'")[:2]
    ("SELECT $1, $2, $1, ':c'", ('a', 'b'))
    """
    names: list[str] = []
    replacements = []
    for param in find_params(sql):
        if param.name not in names:
            names.append(param.name)
        replacements.append((param.start, param.end, f"${names.index(param.name) + 1}"))
    text, mapping = substitute(sql, replacements)
    return text, tuple(names), mapping


def jinja_statements(sql: str) -> bool:
    """Whether ``sql`` has a Jinja ``{% ... %}`` block outside literals and comments."""
    return any("{%" in sql[a:b] for a, b in code_spans(sql))


def split_assignment(text: str) -> tuple[str | None, str]:
    """Split ``name << SELECT ...`` into ``('name', 'SELECT ...')``.

    >>> split_assignment("top << SELECT 1")
    ('top', 'SELECT 1')
    >>> split_assignment("SELECT 1 << 2")
    (None, 'SELECT 1 << 2')
    """
    m = _ASSIGN_RE.match(text)
    if not m:
        return None, text
    return m.group(1), text[m.end() :]


def leading_keywords(sql: str, count: int = 2) -> list[str]:
    """The first ``count`` keywords of ``sql``, upper-cased, skipping comments.

    >>> leading_keywords("-- hi\\n/* x */ explain analyze select 1")
    ['EXPLAIN', 'ANALYZE']
    """
    words: list[str] = []
    for start, end in code_spans(sql):
        for m in _KEYWORD_RE.finditer(sql, start, end):
            words.append(m.group(0).upper())
            if len(words) == count:
                return words
    return words


def skip_leading_trivia(sql: str) -> int:
    """Offset of the first character that is not whitespace or a comment."""
    i = 0
    while i < len(sql):
        if sql[i].isspace():
            i += 1
            continue
        if sql.startswith("--", i) or sql.startswith("/*", i):
            i = _skip_quoted(sql, i) or len(sql)
            continue
        break
    return i


def line_and_column(text: str, pos: int) -> tuple[int, int]:
    """0-based ``(line, column)`` of character ``pos`` in ``text``."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos)
    col = pos - (text.rfind("\n", 0, pos) + 1)
    return line, col
