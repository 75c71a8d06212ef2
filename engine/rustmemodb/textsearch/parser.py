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
# a host name's label: letters, digits, inner underscores and hyphens (PostgreSQL 15)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_]|-(?=[A-Za-z0-9]))*"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}}(?![A-Za-z0-9])(?::\d+(?![\w]))?"
# A file path: segments of letters, digits, _ and - after "/" (which may start "./" or
# "../") or after "." (a file extension).
_SEGMENTS = r"(?:/(?:~|\.{1,2})?[A-Za-z0-9_][A-Za-z0-9_\-]*|\.[A-Za-z0-9_][A-Za-z0-9_\-]*)"
# A URL's path: "/" and the characters RFC 3986 allows in a URL (printable ASCII but
# " < > \ ^ ` { | }), as PostgreSQL 15's p_isurlchar.
_URL_CHARS = r"[!#-;=?-\[\]_a-z~]"

_PROTOCOL = re.compile(r"[A-Za-z]+://")
_EMAIL = re.compile(rf"[A-Za-z0-9]+(?:[._\-][A-Za-z0-9]+)*@({_HOST})")
_HOST_RE = re.compile(_HOST)
_URL_PATH_RE = re.compile(rf"/{_URL_CHARS}+")
# a file path from a word: the word's letters and digits, then / or . segments
_FILE = re.compile(rf"[^\W_]*{_SEGMENTS}+")
# a path where a token starts: /x, ./x, ../x, ~/x, ~x
_FILE_START = re.compile(rf"(?:~|(?:~|\.{{1,2}})?/(?:~|\.{{1,2}})?)[A-Za-z0-9_][A-Za-z0-9_\-]*"
                         rf"{_SEGMENTS}*")
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


def _file_from_word(token: str) -> bool:
    """A path starting with a word: not when the word is letters other than ASCII only
    (PostgreSQL's non-ASCII word state has no way into a path; a number-word has)."""
    head = re.split(r"[/.]", token, maxsplit=1)[0]
    return head.isascii() or not head.isalpha()


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

    def emit_hyphenated(whole: str) -> None:
        """The hyphenated word, then its parts (PostgreSQL's hword and hword_*part)."""
        emit(_compound_type(whole), whole)
        for part in whole.split("-"):
            out.append((_part_type(part), part))
            out.append(("blank", "-"))
        out.pop()

    def hyphen_end(end: int) -> int:
        """After a hyphenated word, a "-" before a letter or digit is a blank of its own
        (SCRAM-SHA-256: the 256 is a number, not -256)."""
        if end + 1 < n and text[end] == "-" and text[end + 1].isalnum():
            out.append(("blank", "-"))
            return end + 1
        return end

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
            if m and _file_from_word(m.group()):
                emit("file", m.group())
                i = m.end()
                continue
            m = _HWORD.match(text, i)
            if m and not m.group().split("-")[0].isdigit():
                emit_hyphenated(m.group())
                i = hyphen_end(m.end())
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
            if not w.isdigit():                 # digits then letters: a number-word
                for rx, kind in ((_EMAIL, "email"), (_FILE, "file")):
                    m2 = rx.match(text, i)
                    if m2:
                        break
                if m2:
                    emit(kind, m2.group())
                    i = m2.end()
                    continue
                m2 = _HWORD.match(text, i)
                if m2 and not m2.group().split("-")[0].isdigit():
                    emit_hyphenated(m2.group())
                    i = hyphen_end(m2.end())
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
                emit("file", m.group())
                i = m.end()
                continue
        if blank_start is None:
            blank_start = i
        elif c in "-+&/<":      # a blank run ends before these (each may start a token)
            out.append(("blank", text[blank_start:i]))
            blank_start = i
        i += 1
    if blank_start is not None:
        out.append(("blank", text[blank_start:]))
    return out


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
