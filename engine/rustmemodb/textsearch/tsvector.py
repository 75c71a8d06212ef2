"""tsvector values: PostgreSQL's text form read and written, and the operations on them.

A tsvector is stored as its canonical text (what ``tsvector_out`` prints), so it lives in
Arrow as a string and round-trips through the log and the wire unchanged. In memory it is
a ``TsVector``: a tuple of ``(lexeme, positions)`` sorted by the lexeme's UTF-8 bytes,
each position a ``(pos, weight)`` pair, weight 3..0 for A..D (D, the default, is not
printed). ``parse`` reads PostgreSQL's input form (quoting, backslash escapes, positions
with weights, duplicates merged) and raises PostgreSQL's 42601 errors.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .. import errors

MAX_POS = 16383             # positions above are stored as this (PostgreSQL's MAXENTRYPOS - 1)
MAX_POSITIONS = 256         # positions kept per lexeme (MAXNUMPOS)
WEIGHT_LETTERS = "DCBA"     # weight index -> letter
_WEIGHT_OF = {"a": 3, "b": 2, "c": 1, "d": 0}

TsVector = tuple   # tuple[tuple[str, tuple[tuple[int, int], ...]], ...]


def _syntax(text: str) -> errors.Error:
    return errors.sql_error("42601", f'syntax error in tsvector: "{text}"')


def sort_key(lexeme: str) -> bytes:
    """Lexemes sort by their bytes (PostgreSQL's tsCompareString)."""
    return lexeme.encode("utf-8")


def read_word(text: str, i: int, stop: str, what: str) -> tuple[str, int, bool]:
    """One (possibly quoted) word of tsvector/tsquery input from ``text[i]``: the word,
    the index after it and whether it was quoted. ``stop`` holds characters that end an
    unquoted word besides white space."""
    n = len(text)
    out = []
    if text[i] == "'":
        i += 1
        while True:
            if i >= n:
                raise errors.sql_error("42601", f'syntax error in {what}: "{text}"')
            c = text[i]
            if c == "\\":
                if i + 1 >= n:
                    raise errors.sql_error("42601", f'syntax error in {what}: "{text}"')
                out.append(text[i + 1])
                i += 2
            elif c == "'":
                if i + 1 < n and text[i + 1] == "'":
                    out.append("'")
                    i += 2
                else:
                    return "".join(out), i + 1, True
            else:
                out.append(c)
                i += 1
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 >= n:
                raise errors.sql_error("42601", f'syntax error in {what}: "{text}"')
            out.append(text[i + 1])
            i += 2
        elif c.isspace() or c in stop:
            break
        else:
            out.append(c)
            i += 1
    return "".join(out), i, False


# tsvector_out's own form: quoted lexemes (' and \ doubled), optional positions, one space
# between entries. Stored values always have it, so they are read by one regex.
_CANONICAL_ENTRY = re.compile(r"'((?:[^'\\]|''|\\\\)*)'(?::((?:\d+[ABC]?,)*\d+[ABC]?))?(?: |$)")
_LETTER_WEIGHT = {"A": 3, "B": 2, "C": 1}


def _parse_canonical(text: str) -> TsVector | None:
    """A tsvector already in output form (sorted unique lexemes, sorted positions), or
    None when ``text`` is not exactly that."""
    out = []
    pos = 0
    previous = None
    for m in _CANONICAL_ENTRY.finditer(text):
        if m.start() != pos:
            return None
        pos = m.end()
        lexeme = m.group(1)
        if "'" in lexeme or "\\" in lexeme:
            lexeme = lexeme.replace("''", "'").replace("\\\\", "\\")
        key = lexeme.encode("utf-8")
        if not key or (previous is not None and key <= previous):
            return None
        previous = key
        spec = m.group(2)
        if spec is None:
            out.append((lexeme, ()))
            continue
        positions = []
        last = 0
        for item in spec.split(","):
            w = _LETTER_WEIGHT.get(item[-1], 0)
            p = int(item[:-1] if w else item)
            if not last < p <= MAX_POS:
                return None
            last = p
            positions.append((p, w))
        if len(positions) > MAX_POSITIONS:
            return None
        out.append((lexeme, tuple(positions)))
    if pos != len(text) or (text and text.endswith(" ")):
        return None
    return tuple(out)


@lru_cache(maxsize=4096)
def parse(text: str) -> TsVector:
    """tsvector input (tsvectorin)."""
    fast = _parse_canonical(text)
    if fast is not None:
        return fast
    entries: dict[str, set | None] = {}
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        word, i, _ = read_word(text, i, ":", "tsvector")
        if word == "":
            raise _syntax(text)
        positions = None
        if i < n and text[i] == ":":
            positions = set()
            i += 1
            while True:
                j = i
                while i < n and text[i].isdigit():
                    i += 1
                if i == j:
                    raise _syntax(text)
                pos = int(text[j:i])
                if pos == 0:
                    raise errors.sql_error("42601", f'wrong position info in tsvector: "{text}"')
                weight = 0
                if i < n and text[i].lower() in _WEIGHT_OF:
                    weight = _WEIGHT_OF[text[i].lower()]
                    i += 1
                positions.add((min(pos, MAX_POS), weight))
                if i < n and text[i] == ",":
                    i += 1
                    continue
                if i < n and not text[i].isspace():
                    raise _syntax(text)
                break
        if word in entries:
            if positions:
                entries[word] = (entries[word] or set()) | positions
        else:
            entries[word] = positions
    return build(entries)


def _unique_positions(positions) -> tuple:
    """Positions sorted, one per position (the highest weight written wins), at most 256."""
    best: dict[int, int] = {}
    for pos, weight in positions:
        if best.get(pos, -1) < weight:
            best[pos] = weight
    return tuple(sorted(best.items()))[:MAX_POSITIONS]


def build(entries: dict) -> TsVector:
    """A TsVector from lexeme -> positions (a set of (pos, weight) or None)."""
    return tuple((lex, _unique_positions(entries[lex]) if entries[lex] else ())
                 for lex in sorted(entries, key=sort_key))


def quote(lexeme: str) -> str:
    """A lexeme as tsvector/tsquery output writes it: quoted, ' and \\ doubled."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def format_positions(positions) -> str:
    return ",".join(f"{p}{WEIGHT_LETTERS[w] if w else ''}" for p, w in positions)


def format(vec: TsVector) -> str:
    """tsvector output (tsvectorout)."""
    parts = []
    for lex, positions in vec:
        parts.append(quote(lex) + (":" + format_positions(positions) if positions else ""))
    return " ".join(parts)


def canonical(text: str) -> str:
    """Text in tsvector context as stored: parsed and printed again."""
    return format(parse(text))


# ---- operations ----------------------------------------------------------------------------

def concat(a: TsVector, b: TsVector) -> TsVector:
    """``a || b``: b's positions shift past a's highest position; lexemes merge."""
    shift = max((p for _, ps in a for p, _ in ps), default=0)
    entries: dict = {lex: set(ps) if ps else None for lex, ps in a}
    for lex, ps in b:
        moved = {(min(p + shift, MAX_POS), w) for p, w in ps} if ps else None
        if lex in entries:
            if moved:
                entries[lex] = (entries[lex] or set()) | moved
        else:
            entries[lex] = moved
    return build(entries)


def setweight(vec: TsVector, letter: str, only: list | None = None) -> TsVector:
    """setweight(vector, weight [, lexemes]): every position (of the listed lexemes) gets
    the weight; lexemes without positions are unchanged."""
    weight = _weight(letter)
    chosen = None if only is None else {x for x in only if x is not None}
    return tuple((lex, tuple((p, weight) for p, _ in ps)
                  if ps and (chosen is None or lex in chosen) else ps) for lex, ps in vec)


def _weight(letter: str) -> int:
    w = _WEIGHT_OF.get(letter.lower()) if len(letter) == 1 else None
    if w is None:
        raise errors.sql_error("XX000", f"unrecognized weight: {ord(letter[0]) if letter else 0}")
    return w


def strip(vec: TsVector) -> TsVector:
    return tuple((lex, ()) for lex, _ in vec)


def delete(vec: TsVector, lexemes) -> TsVector:
    drop = set(lexemes)
    return tuple(e for e in vec if e[0] not in drop)


def filter_weights(vec: TsVector, letters) -> TsVector:
    """ts_filter(vector, weights[]): only positions of those weights; lexemes left with
    none are dropped."""
    keep = set()
    for letter in letters:
        if letter is None:
            raise errors.sql_error("22004", "weight array may not contain nulls")
        keep.add(_weight(letter))
    out = []
    for lex, ps in vec:
        kept = tuple((p, w) for p, w in ps if w in keep)
        if kept:
            out.append((lex, kept))
    return tuple(out)


def from_array(items: list) -> TsVector:
    """array_to_tsvector(text[]): lexemes without positions."""
    for x in items:
        if x is None:
            raise errors.sql_error("22004", "lexeme array may not contain nulls")
        if x == "":
            raise errors.sql_error("22023", "lexeme array may not contain empty strings")
    return build({x: None for x in items})


def total_length(vec: TsVector) -> int:
    """Positions counted, a lexeme without positions as one (cnt_length)."""
    return sum(len(ps) or 1 for _, ps in vec)
