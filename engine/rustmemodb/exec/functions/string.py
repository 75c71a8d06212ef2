"""String functions and pattern matching (LIKE/ILIKE with ESCAPE).

Comparison and matching are bytewise (C collation), as Arrow's kernels are.
``||`` accepts any non-text operand on one side, as PostgreSQL's anynonarray
concatenation does; NULL on either side gives NULL.
"""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from ... import errors, types
from ..semantics import arrow_errors
from .registry import ScalarFunction, fixed

T, I, B, N = types.TEXT, types.INTEGER, types.BOOLEAN, types.NULL


def _text_out(ts):
    return T if all(t in (T, N) for t in ts) else None


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


def _like(ignore_case: bool):
    def vec(s, pattern, escape=None):
        if not isinstance(pattern, pa.Scalar):
            from ..expr.vector import map_rows
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
    like_vec, like_row = _like(False)
    ilike_vec, ilike_row = _like(True)
    reg.add(ScalarFunction("like", fixed((T, T, B), (T, T, T, B)), like_vec, like_row))
    reg.add(ScalarFunction("ilike", fixed((T, T, B), (T, T, T, B)), ilike_vec, ilike_row))
    reg.add(ScalarFunction("concat_op", _concat_resolve, _vec_concat, _row_concat))
    reg.add(ScalarFunction("concat", lambda ts: T, _vec_concat_fn,
                           lambda *a: "".join(_text(x) for x in a if x is not None), strict=False))
    reg.add(ScalarFunction("upper", fixed((T, T)), pc.utf8_upper, str.upper))
    reg.add(ScalarFunction("lower", fixed((T, T)), pc.utf8_lower, str.lower))
    reg.add(ScalarFunction("length", fixed((T, I)),
                           lambda s: pc.cast(pc.utf8_length(s), pa.int64()), len))
    reg.add(ScalarFunction("char_length", fixed((T, I)),
                           lambda s: pc.cast(pc.utf8_length(s), pa.int64()), len))
