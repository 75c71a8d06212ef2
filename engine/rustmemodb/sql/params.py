"""Placeholders: every style (``?``, ``%s``, ``$1``, ``:name``) becomes ``$n``.

Rewriting the text before parsing makes the textual order of ``?`` the slot
order (an AST walk would follow the binder's order instead) and lets one
cached plan serve every style. The rewrite skips quotes, comments, ``::``
casts and jsonb's ``?|``, ``?&`` and ``@?`` operators (``?||`` is a placeholder and
``||``), and jsonb's ``?`` operator itself: a ``?`` right after an operand (a name, a
literal, a closing bracket, a cast's type) is the operator, as in ``doc ? 'key'``; a
placeholder only ever stands where an operand starts (after ``=``, ``(``, ``,`` or a
keyword such as SELECT, WHERE, LIMIT, THEN). Returns the rewritten text, the number of
slots and, for named style, the names in slot order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import errors
from ..statement_limits import MAX_PARAMS

_TOKEN = re.compile(
    r"""('(?:[^']|'')*')|("(?:[^"]|"")*")|(--[^\n]*)|(/\*.*?\*/)|(\$\d+)|(::)"""
    r"""|((?<!@)\?(?!\|(?!\|)|&))|(%s)"""
    r"""|(?<![:\w]):([A-Za-z_][A-Za-z_0-9]*)""", re.S)


@dataclass(frozen=True)
class Placeholders:
    sql: str
    count: int
    names: tuple = ()
    style: str = "none"   # none | qmark | numeric | named | format
    # (start, end in the rewritten text, start, end in the original) per rewritten
    # placeholder: error positions found in ``sql`` map back to the user's text.
    edits: tuple = ()

    def original_position(self, pos: int) -> int:
        """A 0-based offset into ``sql`` as an offset into the text the user wrote."""
        return original_position(self.edits, pos)


def original_position(edits, pos: int) -> int:
    """``pos`` in a rewritten text as a position in the text it was made from.

    ``edits`` are ``(new_start, new_end, old_start, old_end)`` spans in text order. A
    position inside a replacement maps to the start of what it replaced (a caret then
    points at the placeholder as typed); a position after it shifts by the accumulated
    length difference. The lab maps its own rewrites (``:var``, ``{var}``) the same way.
    """
    shift = 0
    for new_start, new_end, old_start, old_end in edits:
        if pos < new_start:
            break
        if pos < new_end:
            return old_start
        shift = old_end - new_end
    return pos + shift


_WORD_BEFORE = re.compile(r"(::\s*)?([A-Za-z_][A-Za-z_0-9$]*)\s*\Z")
_KEYWORDS: frozenset | None = None


def _keywords() -> frozenset:
    """The words sqlglot's tokenizer reads as keywords (SELECT, LIMIT, THEN, ...)."""
    global _KEYWORDS
    if _KEYWORDS is None:
        from sqlglot.tokens import Tokenizer
        _KEYWORDS = frozenset(k for k in Tokenizer.KEYWORDS if k.isidentifier())
    return _KEYWORDS


def _operator_qmark(sql: str, at: int) -> bool:
    """Whether the ``?`` at ``at`` follows an operand, which makes it jsonb's operator.
    A string right after it settles it too (``json ? 'k'``, a column named like a type):
    a placeholder is never followed by another operand."""
    before = sql[max(0, at - 64):at].rstrip()
    if not before:
        return False
    if sql[at + 1:at + 65].lstrip().startswith("'"):
        return True
    if before[-1] in ")]'\"":
        return True
    m = _WORD_BEFORE.search(before)
    if m is None:
        return before[-1].isdigit()       # a number, or a $n placeholder
    return m.group(1) is not None or m.group(2).upper() not in _keywords()


# CREATE FUNCTION's body names its own parameters $1, $2 (``RETURN $1 * 2``): they are
# not the statement's placeholders.
_CREATE_FUNCTION = re.compile(r"\s*create\s+(?:or\s+replace\s+)?function\b", re.I)


def normalize(sql: str) -> Placeholders:
    if "?" not in sql and "$" not in sql and ":" not in sql and "%s" not in sql:
        return Placeholders(sql, 0)
    if _CREATE_FUNCTION.match(sql):
        return Placeholders(sql, 0)
    out, pos, count, names, styles, edits, size = [], 0, 0, [], set(), [], 0
    for m in _TOKEN.finditer(sql):
        quoted, dq, line_c, block_c, dollar, cast, qmark, fmt, name = m.groups()
        if quoted or dq or line_c or block_c or cast or \
                (qmark and _operator_qmark(sql, m.start())):
            continue
        out.append(sql[pos:m.start()])
        size += m.start() - pos
        start = size
        pos = m.end()
        if dollar:
            styles.add("numeric")
            number = int(dollar[1:])
            if number < 1 or number > MAX_PARAMS:   # refused before any slot is built
                raise errors.sql_error("42P02", f"there is no parameter {dollar}",
                                       position=m.start())
            count = max(count, number)
            text = dollar
        elif qmark or fmt:
            styles.add("qmark" if qmark else "format")
            count += 1
            text = f"${count}"
        else:
            styles.add("named")
            if name not in names:
                names.append(name)
            text = f"${names.index(name) + 1}"
            count = len(names)
        if pos < len(sql) and not sql[pos].isspace():
            # sqlglot's tokenizer reads "$1,$2" as the start of a dollar-quoted string:
            # a space after each placeholder keeps "(?,?)" and "$1,$2" working.
            text += " "
        out.append(text)
        size += len(text)
        edits.append((start, size, m.start(), m.end()))
    out.append(sql[pos:])
    if len(styles) > 1:
        raise errors.syntax_error("cannot mix placeholder styles in one statement",
                                  hint="Use only ?, only $1.. or only :name placeholders.")
    style = styles.pop() if styles else "none"
    return Placeholders("".join(out), count, tuple(names), style, tuple(edits))


def order_params(ph: Placeholders, params) -> list:
    """The parameter values in slot order, checking their number."""
    if params is None:
        params = ()
    if ph.style == "named":
        if not isinstance(params, dict):
            raise errors.ProgrammingError("named placeholders need a dict of parameters",
                                          sqlstate="08P01")
        try:
            return [params[n] for n in ph.names]
        except KeyError as exc:
            raise errors.ProgrammingError(f"missing parameter :{exc.args[0]}",
                                          sqlstate="08P01") from None
    if isinstance(params, dict):
        raise errors.ProgrammingError("positional placeholders need a sequence of parameters",
                                      sqlstate="08P01")
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise errors.ProgrammingError(
            f"parameters must be a sequence or a mapping, not {type(params).__name__}",
            sqlstate="08P01")
    values = list(params)
    if len(values) < ph.count and ph.style == "numeric":
        raise errors.sql_error("42P02", f"there is no parameter ${len(values) + 1}",
                               hint=f"The statement uses ${ph.count}; {len(values)} "
                                    "parameter(s) were given.")
    if len(values) != ph.count:
        raise errors.ProgrammingError(
            f"the statement has {ph.count} placeholder(s) but {len(values)} parameter(s) were given",
            sqlstate="08P01")
    return values
