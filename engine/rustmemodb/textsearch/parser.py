"""Text search's default parser: text -> (token type, token) pairs, as PostgreSQL's.

PostgreSQL's ``default`` parser (the only one it ships) splits text into typed tokens:
words (all ASCII ``asciiword``, any letters ``word``, letters and digits ``numword``),
hyphenated words (the whole, ``asciihword``/``hword``/``numhword``, followed by each part,
``hword_asciipart``/``hword_part``/``hword_numpart``), email addresses, URLs (the whole
``url`` followed by its ``host`` and ``url_path``), hosts, file paths, integers (``int``
signed, ``uint``), decimals (``float``), ``sfloat`` (scientific), ``version`` (1.2.3),
and tokens configurations do not index (``blank``, ``tag``, ``entity``, ``protocol``).

This module reproduces those rules with one scanner of ordered alternatives tried at each
token start, longest first where PostgreSQL backtracks: at a letter, protocol, email,
URL/host, file, hyphenated word, then the plain word; at a digit, host, version, decimal,
scientific, number-word, file, then the integer. The result agrees with PostgreSQL's
ts_debug on prose, numbers, hyphenated words, emails, hosts, URLs and paths (see
tests/engine/test_textsearch.py).
"""
from __future__ import annotations

import re

_L = r"[^\W\d_]"                     # a letter (any script)
_AN = r"[^\W_]"                      # a letter or a digit
_LABEL = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}}(?![A-Za-z0-9])(?::\d+(?![\w]))?"
_PATH_PART = r"[A-Za-z0-9_~][A-Za-z0-9_\-]*"
# a path after a host, or a file name: segments separated by / and ., then ?query
_URL_PATH = rf"/(?:{_PATH_PART}(?:\.[A-Za-z0-9_]+[A-Za-z0-9_\-]*)*(?:/{_PATH_PART}(?:\.[A-Za-z0-9_]+[A-Za-z0-9_\-]*)*)*)?(?:\?[^\s\"']*)?"

_PROTOCOL = re.compile(r"[A-Za-z]+://")
_EMAIL = re.compile(rf"[A-Za-z0-9]+(?:[._\-][A-Za-z0-9]+)*@({_HOST})")
_HOST_RE = re.compile(_HOST)
_URL_PATH_RE = re.compile(rf"/(?:{_PATH_PART}|\?)[^\s\"']*")
_FILE = re.compile(rf"(?:[A-Za-z0-9_][A-Za-z0-9_\-]*)?(?:(?:\.{{1,2}})?/[A-Za-z0-9_~][A-Za-z0-9_\-]*|\.[A-Za-z0-9_][A-Za-z0-9_\-]*)+(?:\?[^\s\"']*)?")
_FILE_START = re.compile(rf"(?:~|\.{{1,2}})?/[A-Za-z0-9_~][A-Za-z0-9_\-.]*(?:/[A-Za-z0-9_~][A-Za-z0-9_\-.]*)*")
_HWORD = re.compile(rf"{_AN}+(?:-(?:{_AN}*{_L}{_AN}*))+")
_WORD = re.compile(rf"{_AN}+")
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)+")
_SFLOAT = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_DECIMAL = re.compile(r"[+-]?\d+\.\d+")
_INT = re.compile(r"[+-]?\d+")
_TAG = re.compile(r"<(?:!--.*?-->|[/?]?[A-Za-z_:][A-Za-z0-9_:.\-]*(?:\s+[^<>]*?)?/?>)", re.S)
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z_:][A-Za-z0-9_:.\-]*);")


def _is_alnum(c: str) -> bool:
    return c.isalnum()


def _word_type(w: str) -> str:
    if not w.isalpha():           # (a run of letters and digits: so it has a digit)
        return "numword"
    return "asciiword" if w.isascii() else "word"


def _part_type(w: str) -> str:
    if not w.isalpha():
        return "hword_numpart"
    return "hword_asciipart" if w.isascii() else "hword_part"


def _compound_type(w: str) -> str:
    if not w.replace("-", "").isalpha():
        return "numhword"
    return "asciihword" if w.isascii() else "hword"


# After a run of letters and digits, only these characters can make it more than a word
# (a protocol, email, host, URL, file or hyphenated word): anything else ends a word.
_EXTENDERS = frozenset(".-@:/_")


def tokenize(text: str) -> list[tuple[str, str]]:
    """(type alias, token) for each token of ``text``, blanks included."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    blank_start = None

    def emit(kind: str, token: str) -> None:
        nonlocal blank_start
        if blank_start is not None:
            out.append(("blank", text[blank_start:i]))
            blank_start = None
        out.append((kind, token))

    while i < n:
        c = text[i]
        m = None
        if c.isalpha():
            m = _WORD.match(text, i)
            end = m.end()
            if end >= n or text[end] not in _EXTENDERS:       # the common case: a word
                emit(_word_type(m.group()), m.group())
                i = end
                continue
            m = _PROTOCOL.match(text, i)
            if m:
                emit("protocol", m.group())
                i = m.end()
                continue
            m = _EMAIL.match(text, i)
            if m:
                emit("email", m.group())
                i = m.end()
                continue
            if c.isascii():
                end = _host_at(text, i, emit)
                if end:
                    i = end
                    continue
            m = _FILE.match(text, i)
            if m and ("/" in m.group() or _is_file_dot(m.group())):
                emit("file", m.group())
                i = m.end()
                continue
            m = _HWORD.match(text, i)
            if m and not m.group().split("-")[0].isdigit():
                whole = m.group()
                emit(_compound_type(whole), whole)
                for part in whole.split("-"):
                    out.append((_part_type(part), part))
                    out.append(("blank", "-"))
                out.pop()
                i = m.end()
                continue
            m = _WORD.match(text, i)
            emit(_word_type(m.group()), m.group())
            i = m.end()
            continue
        if c.isdigit():
            end = _host_at(text, i, emit) if c.isascii() else 0
            if end:
                i = end
                continue
            for rx, kind in ((_VERSION, "version"), (_SFLOAT, "sfloat"), (_DECIMAL, "float")):
                m = rx.match(text, i)
                if m:
                    break
            if m:
                emit(kind, m.group())
                i = m.end()
                continue
            m = _WORD.match(text, i)
            w = m.group()
            if not w.isdigit():
                m2 = _HWORD.match(text, i)
                if m2 and not m2.group().split("-")[0].isdigit():
                    whole = m2.group()
                    emit(_compound_type(whole), whole)
                    for part in whole.split("-"):
                        out.append((_part_type(part), part))
                        out.append(("blank", "-"))
                    out.pop()
                    i = m2.end()
                    continue
                emit("numword", w)
                i = m.end()
                continue
            m = _FILE.match(text, i)
            if m and "/" in m.group():
                emit("file", m.group())
                i = m.end()
                continue
            emit("uint", w)
            i = m.end() if m and m.group() == w else i + len(w)
            continue
        if c in "+-" and i + 1 < n and text[i + 1].isdigit():
            for rx, kind in ((_SFLOAT, "sfloat"), (_DECIMAL, "float"), (_INT, "int")):
                m = rx.match(text, i)
                if m:
                    emit(kind, m.group())
                    i = m.end()
                    break
            continue
        if c == "<":
            m = _TAG.match(text, i)
            if m:
                emit("tag", m.group())
                i = m.end()
                continue
        if c == "&":
            m = _ENTITY.match(text, i)
            if m:
                emit("entity", m.group())
                i = m.end()
                continue
        if c == "/" or (c in "~." and blank_start is None):
            # PostgreSQL's blank run ends before "/" but swallows "~" and "."
            m = _FILE_START.match(text, i)
            if m:
                emit("file", m.group().rstrip("."))
                i += len(m.group().rstrip("."))
                continue
        if blank_start is None:
            blank_start = i
        i += 1
    if blank_start is not None:
        out.append(("blank", text[blank_start:]))
    return out


def _is_file_dot(token: str) -> bool:
    return "." in token


def _host_at(text: str, i: int, emit) -> int:
    """A host (with an optional port), or a URL: a host followed by a path, emitted;
    the index after it (0: none here)."""
    m = _HOST_RE.match(text, i)
    if not m:
        return 0
    host_end = m.end()
    p = _URL_PATH_RE.match(text, host_end)
    if p:
        path = p.group()
        emit("url", text[i:p.end()])
        emit("host", m.group())
        emit("url_path", path)
        return p.end()
    emit("host", m.group())
    return host_end
