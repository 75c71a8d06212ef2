"""String functions and pattern matching (LIKE/ILIKE with ESCAPE).

Comparison and matching are bytewise (C collation), as Arrow's kernels are.
``||`` accepts any non-text operand on one side, as PostgreSQL's anynonarray
concatenation does; NULL on either side gives NULL.
"""
from __future__ import annotations

import re
import unicodedata
from hashlib import md5 as _md5

from ...lazy_import import arrow as pa, compute as pc, kernel

from ... import errors, types
from ... import statement_limits as limits
from ..semantics import arrow_errors
from .registry import ScalarFunction, fixed
from ..expr.rowwise import map_rows

T, I, B, N = types.TEXT, types.INTEGER, types.BOOLEAN, types.NULL


def like_to_regex(pattern: str, escape: str | None = "\\") -> str:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if escape and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "^" + "".join(out) + "$"


def _rewrite_escape(pattern: str, escape: str) -> str:
    """A LIKE pattern with a custom ESCAPE character, rewritten to backslash escapes."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt in "%_\\" else nxt)
            i += 2
        elif ch == "\\":
            out.append("\\\\")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def like_functions(ignore_case: bool):
    def vec(s, pattern, escape=None):
        if not isinstance(pattern, pa.Scalar):
            return map_rows(row, (s, pattern) + ((escape,) if escape is not None else ()))
        if not pattern.is_valid:
            return pa.nulls(len(s), pa.bool_()) if not isinstance(s, pa.Scalar) else pa.scalar(None, pa.bool_())
        pat = pattern.as_py()
        if escape is not None:
            esc = escape.as_py()
            if esc is None:
                return pa.nulls(len(s), pa.bool_())
            if len(esc) > 1:
                raise errors.sql_error("22025", "invalid escape string",
                                       hint="Escape string must be empty or one character.")
            pat = _rewrite_escape(pat, esc) if esc else pat.replace("\\", "\\\\")
        if isinstance(s, pa.Scalar):
            return pa.scalar(row(s.as_py(), pat) if s.is_valid else None, pa.bool_())
        return pc.match_like(s, pat, ignore_case=ignore_case)

    def row(s, pattern, escape="\\"):
        if len(escape) > 1:
            raise errors.sql_error("22025", "invalid escape string",
                                   hint="Escape string must be empty or one character.")
        flags = re.S | (re.I if ignore_case else 0)
        return re.match(like_to_regex(pattern, escape), s, flags) is not None
    return vec, row


def _sep():
    # Built on first use: any pa.scalar() makes pyarrow import pandas, and importing
    # rustmemodb must not (DESIGN.md).
    return pa.scalar("", pa.large_string())


@arrow_errors
def _vec_concat(*args):
    args = [a if a.type in (pa.large_string(), pa.string()) else pc.cast(a, pa.large_string())
            for a in args]
    return pc.binary_join_element_wise(*args, _sep(), null_handling="emit_null")


def _row_concat(*args):
    return "".join(_text(a) for a in args)


def _text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _concat_resolve(ts):
    return T if len(ts) == 2 and T in ts or ts == [N, N] else (T if all(t in (T, N) for t in ts) else None)


def _vec_concat_fn(*args):
    # concat() skips NULLs, unlike ||.
    args = [pc.cast(a, pa.large_string()) if a.type != pa.large_string() else a for a in args]
    return pc.binary_join_element_wise(*args, _sep(), null_handling="replace",
                                       null_replacement="")


def register(reg) -> None:
    like_vec, like_row = like_functions(False)
    ilike_vec, ilike_row = like_functions(True)
    reg.add(ScalarFunction("like", fixed((T, T, B), (T, T, T, B)), like_vec, like_row))
    reg.add(ScalarFunction("ilike", fixed((T, T, B), (T, T, T, B)), ilike_vec, ilike_row))
    reg.add(ScalarFunction("concat_op", _concat_resolve, _vec_concat, _row_concat))
    reg.add(ScalarFunction("concat", lambda ts: T, _vec_concat_fn,
                           lambda *a: "".join(_text(x) for x in a if x is not None), strict=False))
    reg.add(ScalarFunction("upper", fixed((T, T)), _case_vec("ascii_upper", _upper_row),
                           _upper_row))
    reg.add(ScalarFunction("lower", fixed((T, T)), _case_vec("ascii_lower", _lower_row),
                           _lower_row))
    reg.add(ScalarFunction("length", fixed((T, I)),
                           lambda s: pc.cast(pc.utf8_length(s), pa.int64()), len))
    reg.add(ScalarFunction("char_length", fixed((T, I)),
                           lambda s: pc.cast(pc.utf8_length(s), pa.int64()), len))
    register_more(reg)


# ---- more string functions (SUBSTRING, TRIM, REPLACE, POSITION, LEFT/RIGHT, PAD, ...) ------
# Vector bodies use Arrow's utf8 kernels when the non-string arguments are constants
# (the common case); otherwise they map the row body over the rows.

def _scalar_ints(*vals):
    return all(isinstance(v, pa.Scalar) for v in vals)


def _null_like(s, t=None):
    t = pa.large_string() if t is None else t
    return pa.scalar(None, t) if isinstance(s, pa.Scalar) else pa.nulls(len(s), t)


def _rows(row_fn, out: str = "large_string", strict=True):
    """A vectorized form of ``row_fn`` returning Arrow type ``pa.<out>()`` (named, so
    registering functions does not import pyarrow)."""
    def vec(*args):
        return map_rows(row_fn, args, out_type=getattr(pa, out)(), strict=strict)
    return vec


def _substr_row(s, start, length=None):
    if length is not None and length < 0:
        raise errors.sql_error("22011", "negative substring length not allowed")
    begin = max(start, 1)
    end = len(s) + 1 if length is None else start + length
    return s[begin - 1:max(begin, end) - 1]


def _substr_vec(s, start, length=None):
    if isinstance(s, pa.Scalar) or not _scalar_ints(start, *([length] if length is not None else [])):
        return _rows(_substr_row)(*([s, start] + ([length] if length is not None else [])))
    if not start.is_valid or (length is not None and not length.is_valid):
        return _null_like(s)
    st = start.as_py()
    if length is None:
        return pc.utf8_slice_codeunits(s, max(st, 1) - 1)
    ln = length.as_py()
    if ln < 0:
        raise errors.sql_error("22011", "negative substring length not allowed")
    begin, end = max(st, 1), st + ln
    return pc.utf8_slice_codeunits(s, begin - 1, max(begin, end) - 1)


def _trim_fns(where: str):
    trim = kernel({"both": "utf8_trim", "leading": "utf8_ltrim", "trailing": "utf8_rtrim"}[where])

    def row(s, chars=" "):
        return {"both": s.strip, "leading": s.lstrip, "trailing": s.rstrip}[where](chars)

    def vec(s, chars=None):
        if chars is not None and not isinstance(chars, pa.Scalar):
            return _rows(row)(s, chars)
        if chars is not None and not chars.is_valid:
            return _null_like(s)
        c = " " if chars is None else chars.as_py()
        if isinstance(s, pa.Scalar):
            return pa.scalar(row(s.as_py(), c) if s.is_valid else None, pa.large_string())
        return trim(s, characters=c) if c else s
    return vec, row


def _replace_vec(s, pattern, repl):
    if isinstance(s, pa.Scalar) or not _scalar_ints(pattern, repl):
        return _rows(lambda a, b, c: a.replace(b, c) if b else a)(s, pattern, repl)
    if not pattern.is_valid or not repl.is_valid:
        return _null_like(s)
    if not pattern.as_py():
        return s
    return pc.replace_substring(s, pattern.as_py(), repl.as_py())


def _quote_literal_row(s: str) -> str:
    """PostgreSQL's quote_literal: quotes doubled; with a backslash, an E'' string."""
    body = s.replace("'", "''")
    if "\\" in s:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def _strpos_row(s, sub):
    return s.find(sub) + 1


def _left_row(s, n):
    return s[:n] if n >= 0 else s[:max(len(s) + n, 0)]


def _right_row(s, n):
    if n >= 0:
        return s[max(len(s) - n, 0):] if n else ""
    return s[-n:]


def _slice_vec(row):
    def vec(s, n):
        if isinstance(s, pa.Scalar) or not isinstance(n, pa.Scalar):
            return _rows(row)(s, n)
        if not n.is_valid:
            return _null_like(s)
        k = n.as_py()
        if row is _left_row:
            if k >= 0:
                return pc.utf8_slice_codeunits(s, 0, k)
        elif k > 0:
            return pc.utf8_slice_codeunits(s, -k)
        return _rows(row)(s, n)
    return vec


def _pad_row(left: bool):
    def row(s, n, fill=" "):
        if n > len(s):
            limits.check_value_size(n, "requested length")
            limits.charge(n, "lpad" if left else "rpad")
        if n <= len(s):
            return s[:max(n, 0)]
        if not fill:
            return s
        pad = (fill * (n - len(s) + len(fill)))[:n - len(s)]
        return pad + s if left else s + pad
    return row


def _split_part_row(s, delim, n):
    if n == 0:
        raise errors.sql_error("22023", "field position must not be zero")
    parts = s.split(delim) if delim else [s]
    if n < 0:
        n = len(parts) + n + 1
        if n <= 0:
            return ""
    return parts[n - 1] if n <= len(parts) else ""


class _SimpleCase(dict):
    """Character to character, as PostgreSQL's upper() and lower() map text (towupper /
    towlower, one character each): a character whose full case mapping is longer stays
    as it is (``straße`` -> ``STRAßE``, not Python's ``STRASSE`` nor Arrow's
    ``STRAẞE``), so the row path and the Arrow path give PostgreSQL's one answer.
    Filled per character on first sight."""

    def __init__(self, fn) -> None:
        super().__init__()
        self._fn = fn

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        mapped = self._fn(ch)
        if len(mapped) != 1:
            mapped = "i" if ch == "\u0130" else ch    # İ's simple lower case is i
        self[code] = mapped
        return mapped


_UPPER, _LOWER = _SimpleCase(str.upper), _SimpleCase(str.lower)


def _upper_row(s: str) -> str:
    return s.upper() if s.isascii() else s.translate(_UPPER)


def _lower_row(s: str) -> str:
    return s.lower() if s.isascii() else s.translate(_LOWER)


def _case_vec(ascii_kernel: str, row_fn):
    """Arrow's ASCII kernel when every value is ASCII, else ``row_fn`` per value."""
    def vec(arg):
        if pc.all(pc.string_is_ascii(arg)).as_py() is not False:
            return getattr(pc, ascii_kernel)(arg)
        return map_rows(row_fn, (arg,), out_type=pa.large_string(), strict=True)
    return vec


def _initcap_row(s):
    out, start = [], True
    for ch in s:
        out.append(_upper_row(ch) if start else _lower_row(ch))
        start = not ch.isalnum()
    return "".join(out)


def _md5_row(s: str) -> str:
    # (hashlib imported once: an __import__ per row cost a third of the call, and every
    # row of pgbench's UPDATE ... SET payload = md5(...) comes here)
    return _md5(s.encode()).hexdigest()


def _chr_row(code: int) -> str:
    """chr() with PostgreSQL's checks for UTF8 (SQLSTATEs as PostgreSQL's)."""
    if code < 0:
        raise errors.sql_error("22023", "character number must be positive")
    if code == 0:
        raise errors.sql_error("54000", "null character not permitted")
    if code > 0x10FFFF:
        raise errors.sql_error("54000", f"requested character too large for encoding: {code}")
    if 0xD800 <= code <= 0xDFFF:
        raise errors.sql_error("54000", f"requested character not valid for encoding: {code}")
    return chr(code)


def _repeat_row(s: str, n: int) -> str:
    if n > 0 and s:
        # 54000 before building a value over 1 GB; 53200 past the statement's budget
        limits.check_value_size(len(s) * n, "requested length")
        limits.charge(len(s) * n, "repeat")
    return s * max(n, 0)


def _repeat_vec(s, n):
    if isinstance(s, pa.Scalar) or not isinstance(n, pa.Scalar):
        return _rows(_repeat_row)(s, n)
    if not n.is_valid:
        return _null_like(s)
    k = max(n.as_py(), 0)
    if k and len(s):
        sizes = pc.binary_length(s)
        limits.check_value_size((pc.max(sizes).as_py() or 0) * k, "requested length")
        limits.charge((pc.sum(sizes).as_py() or 0) * k, "repeat")
    return pc.binary_repeat(s, k)


def _starts_with_vec(s, p):
    if isinstance(s, pa.Scalar) or not isinstance(p, pa.Scalar):
        return _rows(lambda a, b: a.startswith(b), "bool_")(s, p)
    if not p.is_valid:
        return _null_like(s, pa.bool_())
    return pc.starts_with(s, p.as_py())


def _concat_ws_row(sep, *args):
    return sep.join(_text(a) for a in args if a is not None)


def _translate_row(text: str, source: str, target: str) -> str:
    """PostgreSQL's translate: each character of ``source`` becomes the character at the
    same place in ``target``, or is removed when ``target`` is shorter."""
    table: dict = {}
    for i, c in enumerate(source):
        if ord(c) not in table:             # the first occurrence of a character wins
            table[ord(c)] = target[i] if i < len(target) else None
    return text.translate(table)


def _overlay_row(text: str, new: str, start: int, count: int | None = None) -> str:
    """overlay(text PLACING new FROM start [FOR count]): ``count`` characters from
    ``start`` (1-based) replaced by ``new`` (as many as ``new`` has by default)."""
    if count is None:
        count = len(new)
    if start < 1:
        raise errors.sql_error("22011", "negative substring length not allowed")
    # PostgreSQL: substring(text, 1, start - 1) || new || substring(text, start + count),
    # so a negative count repeats text from before start (overlay('abc' placing 'X' from
    # 2 for -1) is aXabc)
    return text[:start - 1] + new + text[max(start - 1 + count, 0):]


def _to_hex(n: int) -> str:
    """Hexadecimal digits of a bigint; a negative one in two's complement (64 bits)."""
    return format(n & 0xFFFF_FFFF_FFFF_FFFF, "x")


def _text_position(i: int, n: int) -> int:
    """DuckDB's string index: 1-based, negative from the end (-1 is the last)."""
    return n + i + 1 if i < 0 else i


def _text_slice_row(s: str, lo, hi) -> str:
    """DuckDB's ``s[lo:hi]``: characters lo..hi inclusive, either bound left out."""
    n = len(s)
    lo = 1 if lo is None else max(_text_position(lo, n), 1)
    hi = n if hi is None else min(_text_position(hi, n), n)
    return s[lo - 1:hi] if lo <= hi else ""


def _text_element_row(s: str, i: int) -> str:
    """DuckDB's ``s[i]``: the i-th character, '' outside the string."""
    i = _text_position(i, len(s))
    return s[i - 1] if 1 <= i <= len(s) else ""


def _normalize_row(s: str, form: str) -> str:
    if form not in ("NFC", "NFD", "NFKC", "NFKD"):
        raise errors.sql_error("42601", f'invalid normalization form: {form}')
    return unicodedata.normalize(form, s)


def _bpchar_pad_vector(v, n):
    """character(n) values from text: trailing blanks cut, then padded to n (never cut)."""
    width = n.as_py() if isinstance(n, pa.Scalar) else n
    return pc.utf8_rpad(pc.utf8_rtrim(v, characters=" "), width=width, padding=" ")


def register_more(reg) -> None:
    # the binder's char(n) padding (internal: sql/bind/bpchar.py)
    reg.add(ScalarFunction("bpchar_pad", fixed((T, I, T)), _bpchar_pad_vector,
                           lambda v, n: v.rstrip(" ").ljust(n)))
    reg.add(ScalarFunction("normalize", fixed((T, T, T)), None, _normalize_row))
    reg.add(ScalarFunction("translate", fixed((T, T, T, T)), None, _translate_row))
    # s[lo:hi] and s[i] on text (DuckDB; PostgreSQL cannot subscript text: sql/bind/bind_array)
    reg.add(ScalarFunction("text_slice", fixed((T, I, I, T)), None,
                           lambda s, lo, hi: None if s is None else _text_slice_row(s, lo, hi),
                           strict=False))
    reg.add(ScalarFunction("text_element", fixed((T, I, T)), None, _text_element_row))
    for name in ("to_hex", "hex"):        # sqlglot reads to_hex as HEX
        reg.add(ScalarFunction(name, fixed((I, T)), None, _to_hex))
    reg.add(ScalarFunction("overlay", fixed((T, T, I, T), (T, T, I, I, T)), None, _overlay_row))
    reg.add(ScalarFunction("bit_length", fixed((T, I)), None,
                           lambda s: 8 * len(s.encode("utf-8"))))
    reg.add(ScalarFunction("substring", fixed((T, I, T), (T, I, I, T)), _substr_vec, _substr_row))
    reg.add(ScalarFunction("substr", fixed((T, I, T), (T, I, I, T)), _substr_vec, _substr_row))
    for name, where in (("btrim", "both"), ("ltrim", "leading"), ("rtrim", "trailing"),
                        ("trim", "both")):
        vec, row = _trim_fns(where)
        reg.add(ScalarFunction(name, fixed((T, T), (T, T, T)), vec, row))
    for where in ("both", "leading", "trailing"):
        vec, row = _trim_fns(where)
        reg.add(ScalarFunction(f"trim_{where}", fixed((T, T), (T, T, T)), vec, row))
    reg.add(ScalarFunction("replace", fixed((T, T, T, T)), _replace_vec,
                           lambda a, b, c: a.replace(b, c) if b else a))
    reg.add(ScalarFunction("strpos", fixed((T, T, I)), _rows(_strpos_row, "int64"), _strpos_row))
    reg.add(ScalarFunction("position", fixed((T, T, I)), _rows(_strpos_row, "int64"),
                           _strpos_row))
    reg.add(ScalarFunction("left", fixed((T, I, T)), _slice_vec(_left_row), _left_row))
    reg.add(ScalarFunction("right", fixed((T, I, T)), _slice_vec(_right_row), _right_row))
    for name, left in (("lpad", True), ("rpad", False)):
        row = _pad_row(left)
        reg.add(ScalarFunction(name, fixed((T, I, T), (T, I, T, T)), _rows(row), row))
    reg.add(ScalarFunction("reverse", fixed((T, T)), kernel("utf8_reverse"), lambda s: s[::-1]))
    reg.add(ScalarFunction("repeat", fixed((T, I, T)), _repeat_vec, _repeat_row))
    reg.add(ScalarFunction("split_part", fixed((T, T, I, T)), _rows(_split_part_row),
                           _split_part_row))
    reg.add(ScalarFunction("starts_with", fixed((T, T, B)), _starts_with_vec,
                           lambda a, b: a.startswith(b)))
    reg.add(ScalarFunction("initcap", fixed((T, T)), _rows(_initcap_row), _initcap_row))
    reg.add(ScalarFunction("ascii", fixed((T, I)), _rows(lambda s: ord(s[0]) if s else 0,
                                                         "int64"),
                           lambda s: ord(s[0]) if s else 0))
    reg.add(ScalarFunction("chr", fixed((I, T)), _rows(_chr_row), _chr_row))
    reg.add(ScalarFunction("md5", fixed((T, T)), _rows(_md5_row), _md5_row))
    # quote_literal: asyncpg inlines COPY-query arguments through it.
    reg.add(ScalarFunction("quote_literal", fixed((T, T)), _rows(_quote_literal_row),
                           _quote_literal_row))
    reg.add(ScalarFunction("octet_length", fixed((T, I)),
                           lambda s: pc.cast(pc.binary_length(s), pa.int64()),
                           lambda s: len(s.encode())))
    # concat_ws(sep, VARIADIC "any"): at least one value after the separator (42883)
    reg.add(ScalarFunction("concat_ws", lambda ts: T if len(ts) > 1 and ts[0] in (T, N) else None,
                           _rows(lambda *a: None if a[0] is None else _concat_ws_row(*a),
                                 strict=False),
                           lambda *a: None if a[0] is None else _concat_ws_row(*a),
                           strict=False))
