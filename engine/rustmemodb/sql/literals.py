"""Auto-parameterization: a statement's literals lifted out of its text, so that
``WHERE id = 5`` and ``WHERE id = 6`` share one cached plan.

Notebooks paste literal SQL and wire clients send it; parsing and planning each
one-off text costs 100-1000 µs where a cached plan runs in a few. The plan cache
is therefore keyed by the statement's *shape*: its text with every number and
plain quoted string replaced by a marker of the literal's kind (``shape_of``, a
regular-expression scan, no sqlglot). Binding then proceeds on the real text; the
binder tags each Const made from a lexed literal with its slot, and after
optimization ``parameterize`` turns the tagged Consts that reached the plan into
``Param`` slots placed after the user's own placeholders. A literal whose value
the binder or optimizer consumed instead (``GROUP BY 1``, ``LIMIT 10``,
``INTERVAL '1 day'``, ``DATE '...'``, a folded ``1 + 2``) never reaches the plan
as a tagged Const: it stays *pinned*, and the cached plan serves only texts whose
literal at that place is the same. That rule needs no list of special cases and
errs only on the side of planning again.

A lifted literal keeps the type binding gave it: an integer stays INTEGER, a
quoted string compared with a DATE column becomes a DATE slot, and each later
value is converted exactly as the binder converts a literal (``convert``), with
the same errors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import types
from ..statement_limits import tick
from ..plan.expr import Const, Param
from ..plan.walk import map_expressions

# Spans skipped as they are (comments, quoted identifiers, dollar quotes, $n
# placeholders, E'' / B'' / X'' / N'' / U&'' strings), then the literals we lift.
_SCAN = re.compile(
    r"""(--[^\n]*|/\*.*?\*/|"(?:[^"]|"")*"|\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)?\$|\$\d+"""
    r"""|[A-Za-z_&]'(?:[^']|'')*')"""
    r"""|(?P<str>'(?:[^']|'')*')"""
    r"""|(?<![\w$.])(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])""", re.S)

_ANY = re.compile(r"['0-9]")
# The same numbers, for a text with nothing _SCAN skips or lifts as a string (no quote,
# dollar, comment): one alternative instead of eight, the common point query's case.
# Written to begin with a character class (the lookbehind of the plain form, checked
# after the first character), which lets the regex engine skip to the next digit or dot
# instead of trying the lookbehind at every position: a third of the scan's cost.
_NUM = re.compile(r"[\d.](?<![\w$.][\d.])(?:(?<=\d)\d*\.?\d*|(?<=\.)\d+)"
                  r"(?:[eE][+-]?\d+)?(?![\w.])")
# The same, as the one group of a cut: [text, number, text, ...].
_NUM_CUT = re.compile("(" + _NUM.pattern + ")")
INT, FLOAT, STR = "i", "f", "s"


def _plain(sql: str) -> bool:
    """Whether ``sql`` has nothing _SCAN skips or lifts as a string (no quote, dollar or
    comment): then only its numbers are scanned (_NUM). Substring tests: cheaper than
    a regex search."""
    return not ("'" in sql or '"' in sql or "$" in sql or "--" in sql or "/*" in sql)


_MARK = {INT: "\x00i", FLOAT: "\x00f", STR: "\x00s"}


class Shape:
    """``key``: the text with literals replaced by kind markers; ``literals``: ((start,
    kind, raw text), ...) in text order. A short plain text's literals are listed when
    first asked for, from the pieces its cut left (``_split_plain``): a new shape, the
    common one-off statement, only asks whether it has any."""

    __slots__ = ("key", "_literals", "_parts")

    def __init__(self, key: str, literals: tuple = (), parts: list | None = None) -> None:
        self.key = key
        self._literals = literals
        self._parts = parts     # [text, number, text, ...] (then ``literals`` is unset)

    @property
    def literals(self) -> tuple:
        parts = self._parts
        if parts is not None:
            lits = []
            pos = len(parts[0])
            for i in range(1, len(parts), 2):
                n = parts[i]
                lits.append((pos, INT if n.isdigit() else FLOAT, n))
                pos += len(n) + len(parts[i + 1])
            self._literals = tuple(lits)
            self._parts = None
        return self._literals

    @property
    def has_literals(self) -> bool:
        """Whether the text has a literal to lift (without listing them)."""
        return self._parts is not None or bool(self._literals)

    def values(self) -> tuple:
        if self._parts is not None:
            return tuple(self._parts[1::2])
        return tuple(raw for _, _, raw in self._literals)

    def __eq__(self, other) -> bool:
        return type(other) is Shape and self.key == other.key and \
            self.literals == other.literals

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Shape(key={self.key!r}, literals={self.literals!r})"


# Texts up to this long have their plain shape made in one substitution (no interrupt
# check while it runs: microseconds); longer ones are scanned literal by literal.
_SHORT_TEXT = 4096


def shape_of(sql: str, names: tuple = ()) -> Shape:
    """The statement's shape and its liftable literals, in text order. ``names``: the
    named placeholders in slot order (``:a`` and ``:b`` both became ``$1``), part of the
    shape since a plan takes its parameters by those names."""
    if names:
        shape = shape_of(sql)
        return Shape(shape.key + "\x00:" + ",".join(names), shape.literals)
    if _plain(sql):    # (a text without a number finds none below: no _ANY first)
        if len(sql) <= _SHORT_TEXT:
            # one cut at the numbers (no Python per literal while the regex runs), the
            # key joined from the pieces: a third of the cost of a substitution calling
            # back per literal (a one-off statement holds half a dozen)
            parts = _NUM_CUT.split(sql)
            if len(parts) == 1:
                return Shape(sql, ())
            nums = parts[1::2]
            if all(map(str.isdigit, nums)):
                key = _MARK[INT].join(parts[0::2])
            else:
                out = [parts[0]]
                for i in range(1, len(parts), 2):
                    out.append(_MARK[INT if parts[i].isdigit() else FLOAT])
                    out.append(parts[i + 1])
                key = "".join(out)
            return Shape(key, parts=parts)
        key, lits = _scan_plain(sql)
        return Shape(key, lits)
    out, pos, lits = [], 0, []
    if _ANY.search(sql) is None:
        return Shape(sql, ())
    for m in _SCAN.finditer(sql):
        tick()   # interrupt / timeout over huge text
        s, n = m.group("str"), m.group("num")
        if s is None and n is None:
            continue
        raw = s if s is not None else n
        kind = STR if s is not None else (INT if n.isdigit() else FLOAT)
        out.append(sql[pos:m.start()])
        out.append(_MARK[kind])
        pos = m.end()
        lits.append((m.start(), kind, raw))
    if not lits:
        return Shape(sql, ())
    out.append(sql[pos:])
    return Shape("".join(out), tuple(lits))


def _scan_plain(sql: str) -> tuple:
    """(key, literals) of a text with nothing _SCAN skips or lifts as a string."""
    out, pos, lits = [], 0, []
    for m in _NUM.finditer(sql):
        tick()
        n = m.group()
        kind = INT if n.isdigit() else FLOAT
        out.append(sql[pos:m.start()])
        out.append(_MARK[kind])
        pos = m.end()
        lits.append((m.start(), kind, n))
    if not lits:
        return sql, ()
    out.append(sql[pos:])
    return "".join(out), tuple(lits)


def literal_value(kind: str, raw: str) -> Any:
    """The value sqlglot's Literal node holds for this literal text (``this``)."""
    return raw[1:-1].replace("''", "'") if kind == STR else raw


def convert(kind: str, raw: str, target: str) -> Any:
    """A lifted literal's value in storage form for its slot, as binding makes it."""
    if kind == STR:
        value = raw[1:-1].replace("''", "'")
        if target == types.TEXT:
            return value
        return types.parse_literal_as(target, value)
    if kind == INT:
        if target == types.NUMERIC:       # beside a numeric, or past bigint
            return types.numeric.of_python(int(raw))
        value = types.check_int(int(raw))
        if target == types.TEXT:          # 42::text (bind_expr._cast)
            return str(value)
        return float(value) if target == types.FLOAT else value
    # a decimal numeral is numeric (bind_expr._Literal), float8 where a float8 met it
    value = types.numeric.parse(raw)
    if target == types.FLOAT:
        return types.numeric.to_float(value)
    return types.numeric.encode(value)


@dataclass(frozen=True)
class Lifted:
    """What a cached plan needs to run with another text of its shape."""
    base: int                        # first lifted slot (= the user's placeholder count)
    slots: tuple                     # ((literal index, kind, target type), ...)
    pinned: tuple                    # ((literal index, raw text), ...) that must match

    def matches(self, values: tuple) -> bool:
        for i, raw in self.pinned:
            if values[i] != raw:
                return False
        for i, kind, target in self.slots:
            # an integer past bigint is a numeric literal (bind_expr._Literal): a plan
            # bound for a bigint there does not serve it; its own binding does
            if kind == INT and target != types.NUMERIC and len(values[i]) > 18 and \
                    not types.INT64_MIN <= int(values[i]) <= types.INT64_MAX:
                return False
        return True

    def params(self, shape: Shape) -> list:
        """The lifted slots' values for this text (slots of pinned literals hold None)."""
        out = [None] * len(shape.literals)
        lits = shape.literals
        for i, kind, target in self.slots:
            out[i] = convert(kind, lits[i][2], target)
        return out


# Statements whose literals may become slots: queries and DML. DDL keeps its constants
# (defaults and CHECK expressions are stored with the schema).
_LIFTABLE = frozenset({"Select", "Union", "Intersect", "Except", "Values", "Subquery",
                       "Insert", "Update", "Delete"})


def tag_slots(shape: Shape, ast) -> dict | None:
    """start offset -> (literal index, kind, raw) for the binder to tag literals with,
    or None when nothing is to be lifted."""
    if not shape.literals or type(ast).__name__ not in _LIFTABLE:
        return None
    return {start: (i, kind, raw) for i, (start, kind, raw) in enumerate(shape.literals)}


def parameterize(plan, shape: Shape, base: int):
    """``plan`` with each tagged Const turned into a Param, and the Lifted record.

    A literal whose tag reached the plan with two different types (bound twice in
    two contexts) stays a constant and is pinned, like any literal the plan
    does not show."""
    seen: dict[int, set] = {}
    keep: set = set()

    def swap(e):
        if type(e) is Const:
            if e.slot is not None:
                seen.setdefault(e.slot, set()).add(e.type)
                if e.slot in keep:
                    return Const(e.value, e.type)
                return Param(base + e.slot, e.type)
            if e.origin is not None:   # folded from lifted literals: evaluated per run
                return e.origin        # (its own literals were swapped already: bottom-up)
        return e

    out = map_expressions(plan, swap)
    keep = {i for i, ts in seen.items() if len(ts) > 1}
    if keep:
        out = map_expressions(plan, swap)
    lifted = {i: next(iter(ts)) for i, ts in seen.items() if i not in keep}
    lits = shape.literals
    slots = tuple((i, lits[i][1], t) for i, t in sorted(lifted.items()))
    pinned = tuple((i, lits[i][2]) for i in range(len(lits)) if i not in lifted)
    return out, Lifted(base, slots, pinned)
