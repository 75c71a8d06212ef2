"""A range value, its bounds and PostgreSQL's rules for making one (rangetypes.c).

``Range`` is what the DB-API hands out and takes (``lower``, ``upper``, ``bounds`` such
as ``'[)'``, ``isempty``), as psycopg's and asyncpg's range objects do. The engine
itself keeps ranges in their ordered byte form (ranges/codec.py) and comes here to
make, compare and combine them.

``make`` is PostgreSQL's make_range: an infinite bound is never inclusive, a lower
bound above the upper one is 22000, equal bounds not both inclusive are the empty
range, and a discrete kind is canonicalized to ``[)`` (``(1,5]`` is ``[2,6)``).
Bounds compare as range_cmp_bounds does: at the same value an inclusive lower bound
is below an exclusive one, an exclusive upper bound below an inclusive one.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from .. import errors
from .kinds import INT4RANGE, INT8RANGE, DATERANGE, INT4_MIN, INT4_MAX, RangeKind


@dataclass(frozen=True)
class Bound:
    value: Any           # None when infinite
    infinite: bool
    inclusive: bool
    lower: bool


class Range:
    """A range: bounds (None for infinite), their inclusiveness, or empty."""

    __slots__ = ("lower", "upper", "lower_inc", "upper_inc", "empty", "kind")

    def __init__(self, lower: Any = None, upper: Any = None, bounds: str = "[)",
                 empty: bool = False, kind: RangeKind | None = None) -> None:
        if bounds not in ("[)", "(]", "[]", "()"):
            raise ValueError(f"bound flags must be one of '[)', '(]', '[]', '()': {bounds!r}")
        self.empty = empty
        self.lower = None if empty else lower
        self.upper = None if empty else upper
        self.lower_inc = not empty and lower is not None and bounds[0] == "["
        self.upper_inc = not empty and upper is not None and bounds[1] == "]"
        self.kind = kind

    @property
    def bounds(self) -> str | None:
        if self.empty:
            return None
        return ("[" if self.lower_inc else "(") + ("]" if self.upper_inc else ")")

    @property
    def isempty(self) -> bool:
        return self.empty

    @property
    def lower_inf(self) -> bool:
        return not self.empty and self.lower is None

    @property
    def upper_inf(self) -> bool:
        return not self.empty and self.upper is None

    def lower_bound(self) -> Bound:
        return Bound(self.lower, self.lower is None, self.lower_inc, True)

    def upper_bound(self) -> Bound:
        return Bound(self.upper, self.upper is None, self.upper_inc, False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return (self.empty, self.lower, self.upper, self.lower_inc, self.upper_inc) == \
            (other.empty, other.lower, other.upper, other.lower_inc, other.upper_inc)

    def __hash__(self) -> int:
        return hash((self.empty, self.lower, self.upper, self.lower_inc, self.upper_inc))

    def __repr__(self) -> str:
        if self.empty:
            return "Range(empty=True)"
        return f"Range({self.lower!r}, {self.upper!r}, {self.bounds!r})"

    def __str__(self) -> str:
        if self.kind is not None:
            # PostgreSQL's text; a tstzrange's instants in UTC, as a timestamptz leaves
            # the DB-API (aware, UTC): ``::text`` shows them in the session's TimeZone
            from .text import format_range     # text imports this module
            return format_range(self.kind, self, _dt.timezone.utc)
        if self.empty:
            return "empty"
        return f"{self.bounds[0]}{'' if self.lower is None else self.lower}," \
               f"{'' if self.upper is None else self.upper}{self.bounds[1]}"


EMPTY = Range(empty=True)


def _key(v: Any) -> tuple:
    """A bound value's order: a float NaN is above every number, as in PostgreSQL."""
    if isinstance(v, float) and v != v:
        return (1, 0.0)
    return (0, v)


def cmp_values(a: Any, b: Any) -> int:
    ka, kb = _key(a), _key(b)
    return (ka > kb) - (ka < kb)


def cmp_bounds(b1: Bound, b2: Bound) -> int:
    """range_cmp_bounds: the order of two bounds, lower or upper."""
    result = cmp_bound_values(b1, b2)
    if result != 0 or b1.infinite or b2.infinite:
        return result
    if not b1.inclusive and not b2.inclusive:
        return 0 if b1.lower == b2.lower else (1 if b1.lower else -1)
    if not b1.inclusive:
        return 1 if b1.lower else -1
    if not b2.inclusive:
        return -1 if b2.lower else 1
    return 0


def cmp_bound_values(b1: Bound, b2: Bound) -> int:
    """range_cmp_bound_values: as cmp_bounds, inclusiveness left out."""
    if b1.infinite and b2.infinite:
        return 0 if b1.lower == b2.lower else (-1 if b1.lower else 1)
    if b1.infinite:
        return -1 if b1.lower else 1
    if b2.infinite:
        return 1 if b2.lower else -1
    return cmp_values(b1.value, b2.value)


def cmp_ranges(r1: Range, r2: Range) -> int:
    """range_cmp: empty first, then by lower bound, then by upper bound."""
    if r1.empty or r2.empty:
        return (not r1.empty) - (not r2.empty)
    return cmp_bounds(r1.lower_bound(), r2.lower_bound()) or \
        cmp_bounds(r1.upper_bound(), r2.upper_bound())


def make(kind: RangeKind, lower: Bound, upper: Bound, empty: bool = False) -> Range:
    """PostgreSQL's make_range: checked, emptied where the bounds meet, canonical."""
    if empty:
        return Range(empty=True, kind=kind)
    lo_inc = lower.inclusive and not lower.infinite
    up_inc = upper.inclusive and not upper.infinite
    lo = None if lower.infinite else lower.value
    up = None if upper.infinite else upper.value
    if lo is not None and up is not None:
        c = cmp_values(lo, up)
        if c > 0:
            raise errors.sql_error(
                "22000", "range lower bound must be less than or equal to range upper bound")
        if c == 0 and not (lo_inc and up_inc):
            return Range(empty=True, kind=kind)
    if kind.discrete:
        if lo is not None and not lo_inc:
            lo, lo_inc = _successor(kind, lo), True
        if up is not None and up_inc:
            up, up_inc = _successor(kind, up), False
        if lo is not None and up is not None and cmp_values(lo, up) >= 0:
            return Range(empty=True, kind=kind)
    return Range(lo, up, ("[" if lo_inc else "(") + ("]" if up_inc else ")"), kind=kind)


def _successor(kind: RangeKind, v: Any) -> Any:
    if kind.name == DATERANGE:
        try:
            return v + _dt.timedelta(days=1)
        except OverflowError:
            raise errors.sql_error("22008", "date out of range") from None
    if kind.name == INT4RANGE and v + 1 > INT4_MAX:
        raise errors.sql_error("22003", "integer out of range")
    if kind.name == INT8RANGE and v + 1 > 2 ** 63 - 1:
        raise errors.sql_error("22003", "bigint out of range")
    return v + 1


def check_element(kind: RangeKind, v: Any) -> Any:
    """A bound value of ``kind``: int4range keeps to int4's range (INTEGER is int64)."""
    if kind.name == INT4RANGE and v is not None and not INT4_MIN <= v <= INT4_MAX:
        raise errors.sql_error("22003", "integer out of range")
    if isinstance(v, float) and v == 0.0:
        return 0.0        # -0 and 0 are one numeric value
    return v


def construct(kind: RangeKind, lower: Any, upper: Any, flags: str = "[)") -> Range:
    """The constructor functions (int4range(1, 5, '[]')): a NULL bound is infinite."""
    if flags not in ("[]", "[)", "(]", "()"):
        raise errors.sql_error("42601", "invalid range bound flags",
                               hint='Valid values are "[]", "[)", "(]", and "()".')
    lower, upper = check_element(kind, lower), check_element(kind, upper)
    return make(kind, Bound(lower, lower is None, flags[0] == "[", True),
                Bound(upper, upper is None, flags[1] == "]", False))
