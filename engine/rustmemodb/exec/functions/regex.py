"""POSIX regular expressions with PostgreSQL's semantics, run by Python's ``re``.

PostgreSQL's regexes are "advanced regular expressions" (ARE, Spencer's
library); Python's ``re`` agrees on most syntax (classes ``\\d \\s \\w``,
non-greedy quantifiers, back references, look-ahead) and differs in a few places
that ``to_python_regex`` rewrites:

* ``[[:alpha:]]`` and the other POSIX classes inside brackets;
* ``\\m`` / ``\\M`` (start / end of a word), ``\\y`` / ``\\Y`` (word boundary or not);
* ``.`` matches a newline and ``$`` means only the end of the string, unless the
  ``n`` (newline-sensitive) flag is given.

The replacement text of ``regexp_replace`` uses ``\\1``..``\\9`` and ``\\&`` (the
whole match); flags are PostgreSQL's letters (``g`` all matches, ``i``/``c``
case, ``n``/``m``/``p``/``w`` newline handling, ``x`` expanded syntax, ``q``
literal pattern); anything else is ``22023``, an invalid pattern ``2201B``.

Functions: ``regexp_replace``, ``regexp_like`` (and the ``~``, ``~*`` operators),
``regexp_count``, ``regexp_substr``, ``substring(s FROM pattern)``, ``SIMILAR TO``.
``regexp_match`` (the first match's groups), ``regexp_matches`` (``setof text[]``): ``regexp_matches_rows`` gives one row's set of
arrays, expanded by ``LogicalProjectSet`` in the select list (as ``srf_regexp_matches``)
or by ``LogicalTableFunction`` in FROM.

Known gaps: PostgreSQL's BRE/ERE modes (``b``/``e`` flags) and its
longest-leftmost rule for alternations (Python takes the first alternative that
matches) are not reproduced.
"""
from __future__ import annotations

import functools
import re

from ...lazy_import import arrow as pa

from ... import errors, types
from .registry import ScalarFunction, fixed
from ..expr.rowwise import map_rows

T, I, B = types.TEXT, types.INTEGER, types.BOOLEAN

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "blank": " \\t", "xdigit": "0-9A-Fa-f", "word": "\\w",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e", "graph": "\\x21-\\x7e",
}
_ESCAPES = {"m": r"\b(?=\w)", "M": r"\b(?<=\w)", "y": r"\b", "Y": r"\B", "Z": r"\Z"}


def to_python_regex(pattern: str, newline_sensitive: bool = False) -> str:
    """A PostgreSQL ARE pattern rewritten for Python's ``re`` (see the module doc)."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            out.append(_ESCAPES.get(d, c + d))
            i += 2
        elif c == "[":
            text, i = _bracket(pattern, i)
            out.append(text)
        elif c == "$" and not newline_sensitive:
            out.append(r"\Z")
            i += 1
        elif c == "{":
            text, i = _bound(pattern, i)
            out.append(text)
        else:
            out.append(c)
            i += 1
    return "".join(out)


_BOUND = re.compile(r"(\d+)(,(\d*))?")
_DUPMAX = 255       # RE_DUP_MAX: the largest count a bound may give


def _bound(p: str, i: int) -> tuple[str, int]:
    """A ``{`` at ``p[i]`` as the ARE lexer reads it: a bound ``{m}``, ``{m,}``, ``{m,n}``
    when a digit follows, else a literal brace (Python's re would read ``{,2}`` as a bound
    and ``a{2`` as text); an unclosed bound, a bad or too large count is 2201B."""
    m = _BOUND.match(p, i + 1)
    if m is None:
        return "\\{", i + 1
    end = m.end()
    if end >= len(p):
        raise _invalid("braces {} not balanced")
    low, high = int(m.group(1)), m.group(3)
    if p[end] != "}" or low > _DUPMAX or (high and not low <= int(high) <= _DUPMAX):
        raise _invalid("invalid repetition count(s)")
    return p[i:end + 1], end + 1


def _bracket(p: str, i: int) -> tuple[str, int]:
    """The bracket expression starting at ``p[i]``, and the index after it."""
    parts, j, n = ["["], i + 1, len(p)
    if j < n and p[j] == "^":
        parts.append("^")
        j += 1
    if j < n and p[j] == "]":          # a leading ] is a literal
        parts.append("\\]")
        j += 1
    while j < n and p[j] != "]":
        if p.startswith("[:", j):
            k = p.find(":]", j + 2)
            if k != -1:
                name = p[j + 2:k]
                if name not in _CLASSES:
                    raise _invalid(f"invalid character class {name!r}")
                parts.append(_CLASSES[name])
                j = k + 2
                continue
        if p[j] == "\\" and j + 1 < n:
            parts.append(p[j:j + 2])
            j += 2
            continue
        parts.append("\\[" if p[j] == "[" else p[j])
        j += 1
    if j >= n:
        raise _invalid("brackets [] not balanced")
    parts.append("]")
    return "".join(parts), j + 1


def _invalid(why: str) -> errors.Error:
    return errors.sql_error("2201B", f"invalid regular expression: {why}")


@functools.lru_cache(maxsize=256)
def compile_regex(pattern: str, flags: str = "") -> tuple[re.Pattern, bool]:
    """(compiled pattern, global flag) for a PostgreSQL pattern and flag letters."""
    ignore_case, glob, newline, literal, expanded = False, False, "s", False, False
    for f in flags:
        if f == "i":
            ignore_case = True
        elif f == "c":
            ignore_case = False
        elif f == "g":
            glob = True
        elif f in "nmpws":
            newline = "n" if f == "m" else f
        elif f == "x":
            expanded = True
        elif f == "q":
            literal = True
        else:
            raise errors.sql_error("22023", f'invalid regular expression option: "{f}"')
    # s: . matches \n, anchors at string ends; n: neither; p: . stops at \n only;
    # w: anchors at lines only
    dot_all = newline in ("s", "w")
    multiline = newline in ("n", "w")
    text = re.escape(pattern) if literal else to_python_regex(pattern, multiline)
    py_flags = (re.I if ignore_case else 0) | (re.S if dot_all else 0) | \
        (re.M if multiline else 0) | (re.X if expanded else 0)
    try:
        return re.compile(text, py_flags), glob
    except re.error as exc:
        raise _invalid(str(exc)) from None


# ---- regexp_replace --------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _template(repl: str) -> tuple:
    """A replacement as literal text and group numbers (0 = the whole match)."""
    parts, buf, i = [], [], 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            d = repl[i + 1]
            if d.isdigit() or d == "&":
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(0 if d == "&" else int(d))
                i += 2
                continue
            if d == "\\":
                buf.append("\\")
                i += 2
                continue
        buf.append(c)
        i += 1
    if buf:
        parts.append("".join(buf))
    return tuple(parts)


def _expand(m: re.Match, template: tuple) -> str:
    out = []
    for part in template:
        if isinstance(part, str):
            out.append(part)
        elif part <= (m.re.groups or 0):
            out.append(m.group(part) or "")
    return "".join(out)


def regexp_replace(s: str, pattern: str, repl: str, *rest):
    """regexp_replace(s, pattern, repl [, start [, N]] [, flags])."""
    flags = rest[-1] if rest and isinstance(rest[-1], str) else ""
    nums = [r for r in rest if not isinstance(r, str)]
    start = nums[0] if nums else 1
    nth = nums[1] if len(nums) > 1 else None
    if start < 1:
        raise errors.sql_error("22023", f'invalid value for parameter "start": {start}')
    if nth is not None and nth < 0:
        raise errors.sql_error("22023", f'invalid value for parameter "n": {nth}')
    rx, glob = compile_regex(pattern, flags)
    if nth is None:
        nth = 0 if glob else 1
    template = _template(repl)
    out, last, count = [s[:start - 1]], start - 1, 0
    for m in rx.finditer(s, start - 1):
        count += 1
        if nth and count != nth:
            continue
        out.append(s[last:m.start()])
        out.append(_expand(m, template))
        last = m.end()
        if nth:
            break
    out.append(s[last:])
    return "".join(out)


# ---- regexp_matches --------------------------------------------------------------------------

def regexp_matches_rows(s: str, pattern: str, flags: str = "") -> list[list]:
    """The rows of ``regexp_matches(s, pattern [, flags])``: for the first match (every
    match with ``g``), its capture groups (NULL where a group took no part), or the
    whole match when the pattern has no groups."""
    rx, glob = compile_regex(pattern, flags)
    out = []
    for m in rx.finditer(s):
        out.append(list(m.groups()) if rx.groups else [m.group(0)])
        if not glob:
            break
    return out


def regexp_match(s: str, pattern: str, flags: str = "") -> list | None:
    """``regexp_match(s, pattern [, flags])`` (PostgreSQL 10+): the first match's capture
    groups (or the whole match) as text[]; NULL when nothing matches. ``g`` is 22023."""
    if "g" in (flags or ""):
        raise errors.sql_error("22023", "regexp_match() does not support the \"global\" "
                               "option", hint="Use the regexp_matches function instead.")
    rows = regexp_matches_rows(s, pattern, flags)
    return rows[0] if rows else None


# ---- matching ----------------------------------------------------------------------------

def regexp_like(s: str, pattern: str, flags: str = "") -> bool:
    rx, _ = compile_regex(pattern, flags)
    return rx.search(s) is not None


# ---- the vectorised match: Arrow's RE2 where it means the same ---------------------------------
# RE2 agrees with Python re (and PostgreSQL) on plain patterns: literals, classes,
# quantifiers, groups, alternation, anchors. Patterns with back references, look-around,
# word-boundary escapes or other backslash escapes keep the per-row Python path.
_RE2_SAFE_ESCAPES = set("dwsDWS.()[]{}*+?|^$-/")
_RE2_REPEAT = re.compile(r"\{\d+(,\d*)?\}")


def _re2_pattern(pattern: str, flags: str) -> tuple[str, bool] | None:
    """(RE2 pattern, ignore case) meaning what ``pattern`` means here, or None."""
    if set(flags) - set("icns") or "(?" in pattern:
        return None
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in _RE2_SAFE_ESCAPES:
                return None
            i += 2
            continue
        if c == "{" and not _RE2_REPEAT.match(pattern, i):
            return None
        i += 1
    ignore_case, newline = False, False
    for f in flags:
        if f in "ic":
            ignore_case = f == "i"
        else:
            newline = f == "n"
    text = to_python_regex(pattern, newline).replace("\\Z", "\\z")
    return ("(?m)" if newline else "(?s)") + text, ignore_case


def _like_vector(ignore_case: bool):
    def vec(s, pattern, flags=None):
        constant = isinstance(pattern, pa.Scalar) and (flags is None or
                                                       isinstance(flags, pa.Scalar))
        if constant and not isinstance(s, pa.Scalar) and pattern.is_valid and \
                (flags is None or flags.is_valid):
            text = ("i" if ignore_case else "") + (flags.as_py() if flags is not None else "")
            compile_regex(pattern.as_py(), text)          # PostgreSQL's errors first
            re2 = _re2_pattern(pattern.as_py(), text)
            if re2 is not None:
                import pyarrow.compute as pc
                return pc.match_substring_regex(s, re2[0], ignore_case=re2[1])
        row = regexp_ilike if ignore_case else regexp_like
        return map_rows(row, (s, pattern) + ((flags,) if flags is not None else ()),
                        out_type=pa.bool_())
    return vec


def regexp_ilike(s: str, pattern: str) -> bool:
    return regexp_like(s, pattern, "i")


def regexp_count(s: str, pattern: str, start: int = 1, flags: str = "") -> int:
    if start < 1:
        raise errors.sql_error("22023", f'invalid value for parameter "start": {start}')
    rx, _ = compile_regex(pattern, flags)
    return sum(1 for _ in rx.finditer(s, start - 1))


def regexp_substr(s: str, pattern: str, start: int = 1, nth: int = 1, flags: str = "",
                  group: int = 0):
    if start < 1 or nth < 1 or group < 0:
        raise errors.sql_error("22023", "invalid value for parameter \"start\", \"n\" or "
                                        "\"subexpr\"")
    rx, _ = compile_regex(pattern, flags)
    for k, m in enumerate(rx.finditer(s, start - 1), 1):
        if k == nth:
            return m.group(group) if group <= rx.groups else None
    return None


def regexp_instr(s: str, pattern: str, start: int = 1, nth: int = 1, endoption: int = 0,
                 flags: str = "", group: int = 0) -> int:
    """Where the nth match (or its subexpression ``group``) starts, 1-based; with
    ``endoption`` 1, the position just after it ends; 0 when there is no such match."""
    if start < 1 or nth < 1 or group < 0 or endoption not in (0, 1):
        raise errors.sql_error("22023", "invalid value for parameter \"start\", \"n\", "
                                        "\"endoption\" or \"subexpr\"")
    rx, _ = compile_regex(pattern, flags)
    if group > rx.groups:
        return 0
    for k, m in enumerate(rx.finditer(s, start - 1), 1):
        if k == nth:
            if m.start(group) < 0:
                return 0
            return (m.end(group) if endoption else m.start(group)) + 1
    return 0


def substring_regex(s: str, pattern: str):
    """substring(s FROM pattern): the first parenthesized group's match, or the match."""
    rx, _ = compile_regex(pattern)
    m = rx.search(s)
    if m is None:
        return None
    return m.group(1) if rx.groups else m.group(0)


# ---- SIMILAR TO --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def similar_to_regex(pattern: str, escape: str = "\\") -> re.Pattern:
    """SQL's SIMILAR TO pattern as a compiled regex matching the whole string, as
    PostgreSQL's similar_to_escape translates it: ``%`` any text, ``_`` one character,
    ``| * + ? {m,n} ( ) [...]`` as in regular expressions, everything else literal,
    and the escape character (default backslash) makes the next character literal."""
    if len(escape) > 1:
        raise errors.sql_error("22025", "invalid escape string",
                               hint="Escape string must be empty or one character.")
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if escape and c == escape:
            if i + 1 < n:
                out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "[":
            text, i = _bracket(pattern, i)
            out.append(text)
            continue
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "(":
            out.append("(?:")
        elif c in "|*+?{}),":
            out.append(c)
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("(?:" + "".join(out) + r")\Z", re.S)
    except re.error as exc:
        raise _invalid(str(exc)) from None


def similar_to(s: str, pattern: str, escape: str = "\\") -> bool:
    return similar_to_regex(pattern, escape).match(s) is not None


def _vector(row, out: str):
    """``row`` mapped over columns, giving SQL type ``out`` (a name: registering the
    functions does not import pyarrow)."""
    def vec(*args):
        return map_rows(row, args, out_type=types.arrow_type(out))
    return vec


def regexp_split(s: str, pattern: str, flags: str = "") -> list:
    """regexp_split_to_array: the pieces between matches. As in PostgreSQL, a zero-length
    match at the start or end of the string, or right after a previous match, splits
    nothing (so the empty pattern splits a string into its characters)."""
    rx = compile_regex(pattern, flags)[0]
    pieces, prev, pos, n = [], 0, 0, len(s)
    last_end = None
    while pos <= n:
        m = rx.search(s, pos)
        if m is None:
            break
        start, end = m.span()
        if start == end and (start == 0 or start >= n or start == last_end):
            pos = start + 1
            continue
        pieces.append(s[prev:start])
        prev = last_end = end
        pos = end if end > start else end + 1
    pieces.append(s[prev:])
    return pieces


def register(reg) -> None:
    text, boolean, int64 = T, B, I
    # set-returning: the row's arrays, expanded by LogicalProjectSet (volatile: never folded)
    sets = types.array_of(types.array_of(T))
    reg.add(ScalarFunction("srf_regexp_matches", fixed((T, T, sets), (T, T, T, sets)),
                           _vector(regexp_matches_rows, sets),
                           regexp_matches_rows, volatile=True))
    reg.add(ScalarFunction("regexp_match", fixed((T, T, "TEXT[]"), (T, T, T, "TEXT[]")),
                           None, regexp_match))
    reg.add(ScalarFunction("regexp_split_to_array", fixed((T, T, "TEXT[]"), (T, T, T, "TEXT[]")),
                           None, regexp_split))
    reg.add(ScalarFunction("regexp_replace", fixed((T, T, T, T), (T, T, T, T, T),
                                                   (T, T, T, I, T), (T, T, T, I, T, T),
                                                   (T, T, T, I, I, T), (T, T, T, I, I, T, T)),
                           _vector(regexp_replace, text), regexp_replace))
    reg.add(ScalarFunction("regexp_like", fixed((T, T, B), (T, T, T, B)),
                           _like_vector(False), regexp_like))
    reg.add(ScalarFunction("regexp_ilike", fixed((T, T, B)), _like_vector(True),
                           regexp_ilike))
    reg.add(ScalarFunction("regexp_count", fixed((T, T, I), (T, T, I, I), (T, T, I, T, I)),
                           _vector(regexp_count, int64), regexp_count))
    reg.add(ScalarFunction("regexp_substr", fixed((T, T, T), (T, T, I, T), (T, T, I, I, T),
                                                  (T, T, I, I, T, T), (T, T, I, I, T, I, T)),
                           _vector(regexp_substr, text), regexp_substr))
    reg.add(ScalarFunction("regexp_instr", fixed((T, T, I), (T, T, I, I), (T, T, I, I, I),
                                                 (T, T, I, I, I, I), (T, T, I, I, I, T, I),
                                                 (T, T, I, I, I, T, I, I)),
                           _vector(regexp_instr, int64), regexp_instr))
    reg.add(ScalarFunction("substring", fixed((T, T, T)), _vector(substring_regex, text),
                           substring_regex))
    reg.add(ScalarFunction("similar_to", fixed((T, T, B), (T, T, T, B)),
                           _vector(similar_to, boolean), similar_to))
