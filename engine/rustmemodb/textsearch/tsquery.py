"""tsquery values: PostgreSQL's query text read and written, and the query tree.

A query is a tree of tuples (stored, like a tsvector, as its canonical output text):

    ("val", lexeme, weights, prefix)   weights: a frozenset of 0..3 (D..A), empty = any
    ("not", child)
    ("and", left, right) / ("or", left, right)
    ("phrase", left, right, distance)  left <distance> right (<-> is 1)
    None                               the empty query

``parse`` is tsquery input (operators ! <-> <N> & | and parentheses, precedence in that
order, binary operators grouping to the left); ``format`` prints PostgreSQL's infix form
with its parentheses. ``clean_stopwords`` removes the stop-word placeholders to_tsquery
leaves, adjusting phrase distances as PostgreSQL does.
"""
from __future__ import annotations

from functools import lru_cache

from .. import errors
from .tsvector import quote, read_word

MAX_DISTANCE = 16384
_PRIORITY = {"or": 1, "and": 2, "phrase": 3, "not": 4}
_WEIGHT_OF = {"a": 3, "b": 2, "c": 1, "d": 0}
STOP = ("stop",)       # a stop word's placeholder while to_tsquery builds its tree


def _syntax(text: str) -> errors.Error:
    return errors.sql_error("42601", f'syntax error in tsquery: "{text}"')


def val(lexeme: str, weights=frozenset(), prefix: bool = False) -> tuple:
    return ("val", lexeme, frozenset(weights), prefix)


# ---- input ---------------------------------------------------------------------------------

_OPERATOR_CHARS = "!&|()<"


def tokens(text: str, operand_stop: str = _OPERATOR_CHARS + ":"):
    """The query's tokens: ("val", word, weights, prefix), ("op", name, distance), "(",
    ")", "!"."""
    out = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return out
        c = text[i]
        if c in "()!&|":
            out.append(c)
            i += 1
        elif c == "<":
            j = text.find(">", i)
            inner = text[i + 1:j] if j > 0 else ""
            if inner == "-":
                distance = 1
            elif inner.strip().isdigit():
                distance = int(inner)
                if distance > MAX_DISTANCE:
                    raise errors.sql_error(
                        "22023", "distance in phrase operator must be an integer value "
                                 f"between zero and {MAX_DISTANCE} inclusive")
            else:
                raise _syntax(text)
            out.append(("op", "phrase", distance))
            i = j + 1
        elif c == ":":
            raise _syntax(text)
        else:
            word, i, _ = read_word(text, i, operand_stop, "tsquery")
            weights, prefix = set(), False
            if i < n and text[i] == ":":
                i += 1
                while i < n and (text[i].lower() in _WEIGHT_OF or text[i] == "*"):
                    if text[i] == "*":
                        prefix = True
                    else:
                        weights.add(_WEIGHT_OF[text[i].lower()])
                    i += 1
                if i < n and text[i] == ":":
                    raise _syntax(text)
            if word == "":
                raise _syntax(text)
            out.append(("val", word, frozenset(weights), prefix))


def build_tree(toks: list, text: str, operand=None):
    """A query tree from ``tokens`` (precedence climbing); ``operand`` maps an operand
    token to a subtree (to_tsquery runs it through the configuration)."""
    pos = 0
    if not toks:
        return None

    def primary():
        nonlocal pos
        if pos >= len(toks):
            raise errors.sql_error("42601", f'no operand in tsquery: "{text}"')
        t = toks[pos]
        if t == "!":
            pos += 1
            return ("not", primary())
        if t == "(":
            pos += 1
            inner = expression(0)
            if pos >= len(toks) or toks[pos] != ")":
                raise _syntax(text)
            pos += 1
            return inner
        if isinstance(t, tuple) and t[0] == "val":
            pos += 1
            return operand(t) if operand is not None else val(t[1], t[2], t[3])
        if t in ("&", "|", ")") or (isinstance(t, tuple) and t[0] == "op"):
            raise _syntax(text) if pos else errors.sql_error(
                "42601", f'syntax error in tsquery: "{text}"')
        raise _syntax(text)

    def expression(min_priority: int):
        nonlocal pos
        left = primary()
        while pos < len(toks):
            t = toks[pos]
            if t == "&":
                op, distance = "and", 0
            elif t == "|":
                op, distance = "or", 0
            elif isinstance(t, tuple) and t[0] == "op":
                op, distance = "phrase", t[2]
            elif t == ")":
                return left
            else:
                raise _syntax(text)
            priority = _PRIORITY[op]
            if priority <= min_priority:
                return left
            pos += 1
            right = expression(priority)
            left = ("phrase", left, right, distance) if op == "phrase" else (op, left, right)
        return left

    tree = expression(0)
    if pos != len(toks):
        raise _syntax(text)
    return tree


@lru_cache(maxsize=4096)
def parse(text: str):
    """tsquery input (tsqueryin)."""
    toks = tokens(text)
    if toks and all(t == "!" for t in toks):
        raise errors.sql_error("42601", f'no operand in tsquery: "{text}"')
    return build_tree(toks, text)


# ---- output --------------------------------------------------------------------------------

def format(node) -> str:
    """tsquery output (PostgreSQL's infix form)."""
    if node is None:
        return ""
    return _infix(node, -1, False)


def operand_text(node) -> str:
    _, lexeme, weights, prefix = node
    out = quote(lexeme)
    if weights or prefix:
        out += ":" + ("*" if prefix else "") + "".join(
            letter for w, letter in ((3, "A"), (2, "B"), (1, "C"), (0, "D")) if w in weights)
    return out


def _infix(node, parent_priority: int, right_phrase: bool) -> str:
    kind = node[0]
    if kind == "val":
        return operand_text(node)
    priority = _PRIORITY[kind]
    if kind == "not":
        inner = "!" + _infix(node[1], priority, False)
        return f"( {inner} )" if priority < parent_priority else inner
    right = _infix(node[2], priority, kind == "phrase")
    left = _infix(node[1], priority, False)
    if kind == "phrase":
        sign = "<->" if node[3] == 1 else f"<{node[3]}>"
    else:
        sign = "&" if kind == "and" else "|"
    text = f"{left} {sign} {right}"
    if priority < parent_priority or (kind == "phrase" and right_phrase):
        return f"( {text} )"
    return text


def canonical(text: str) -> str:
    return format(parse(text))


# ---- tree operations -----------------------------------------------------------------------

def clean_stopwords(node):
    """The tree without stop-word placeholders (None when nothing is left)."""
    return _clean(node)[0]


def _clean(node):
    if node is None or node is STOP or node == STOP:
        return None, 0, 0
    kind = node[0]
    if kind == "val":
        return node, 0, 0
    if kind == "not":
        child, ladd, radd = _clean(node[1])
        return (("not", child) if child is not None else None), ladd, radd
    left, lladd, lradd = _clean(node[1])
    right, rladd, rradd = _clean(node[2])
    phrase = kind == "phrase"
    distance = node[3] if phrase else 0
    if left is None and right is None:
        total = lladd + distance + rladd if phrase else 0
        return None, total, total
    if left is None:
        return right, (lladd + distance + rladd if phrase else 0), rradd
    if right is None:
        return left, lladd, (lradd + distance + rradd if phrase else 0)
    if phrase:
        return ("phrase", left, right, min(distance + lradd + rladd, MAX_DISTANCE)), lladd, rradd
    return (kind, left, right), 0, 0


def numnode(node) -> int:
    if node is None:
        return 0
    if node[0] == "val":
        return 1
    return 1 + sum(numnode(c) for c in node[1:3] if isinstance(c, tuple))


def operands(node) -> list:
    """Every operand of the tree, left to right (NOT's included)."""
    if node is None:
        return []
    if node[0] == "val":
        return [node]
    return [x for c in node[1:3] if isinstance(c, tuple) for x in operands(c)]


def querytree(node) -> str:
    """querytree(q): the part an index can use, NOT branches removed; 'T' when none."""
    kept = _without_not(node)
    return "T" if kept is None else format(kept)


def _without_not(node):
    if node is None:
        return None
    kind = node[0]
    if kind == "val":
        return node
    if kind == "not":
        return None
    left, right = _without_not(node[1]), _without_not(node[2])
    if kind == "or":
        return None if left is None or right is None else (kind, left, right)
    if left is None or right is None:
        return left if right is None else right
    return (kind, left, right) + ((node[3],) if kind == "phrase" else ())


def and_(a, b):
    return b if a is None else a if b is None else ("and", a, b)


def or_(a, b):
    return b if a is None else a if b is None else ("or", a, b)


def not_(a):
    return None if a is None else ("not", a)


def phrase(a, b, distance: int = 1):
    if not 0 <= distance <= MAX_DISTANCE:
        raise errors.sql_error("22023", "distance in phrase operator must be an integer value "
                                        f"between zero and {MAX_DISTANCE} inclusive")
    return b if a is None else a if b is None else ("phrase", a, b, distance)
