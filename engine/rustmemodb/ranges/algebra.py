"""The range operators and functions, as PostgreSQL's rangetypes.c defines them.

Each works on ``Range`` values of one kind (ranges/value.py) and follows the C code
it is named after, bound comparison by bound comparison, so the corner cases agree:
an empty range contains nothing and is contained by everything, overlaps and is
adjacent to nothing; ``+`` of ranges that neither overlap nor touch and ``-`` that
would leave two pieces are 22000; ``range_merge`` spans the gap instead.
"""
from __future__ import annotations

import dataclasses

from .. import errors
from .kinds import RangeKind
from .value import Bound, Range, cmp_bound_values, cmp_bounds, cmp_values, make


def contains_elem(r: Range, v) -> bool:
    if r.empty:
        return False
    if r.lower is not None:
        c = cmp_values(r.lower, v)
        if c > 0 or (c == 0 and not r.lower_inc):
            return False
    if r.upper is not None:
        c = cmp_values(r.upper, v)
        if c < 0 or (c == 0 and not r.upper_inc):
            return False
    return True


def contains(r1: Range, r2: Range) -> bool:
    if r2.empty:
        return True
    if r1.empty:
        return False
    return cmp_bounds(r1.lower_bound(), r2.lower_bound()) <= 0 and \
        cmp_bounds(r1.upper_bound(), r2.upper_bound()) >= 0


def overlaps(r1: Range, r2: Range) -> bool:
    if r1.empty or r2.empty:
        return False
    l1, u1, l2, u2 = r1.lower_bound(), r1.upper_bound(), r2.lower_bound(), r2.upper_bound()
    if cmp_bounds(l1, l2) >= 0 and cmp_bounds(l1, u2) <= 0:
        return True
    return cmp_bounds(l2, l1) >= 0 and cmp_bounds(l2, u1) <= 0


def before(r1: Range, r2: Range) -> bool:
    """``<<``: strictly left of."""
    if r1.empty or r2.empty:
        return False
    return cmp_bounds(r1.upper_bound(), r2.lower_bound()) < 0


def after(r1: Range, r2: Range) -> bool:
    """``>>``: strictly right of."""
    if r1.empty or r2.empty:
        return False
    return cmp_bounds(r1.lower_bound(), r2.upper_bound()) > 0


def overleft(r1: Range, r2: Range) -> bool:
    """``&<``: does not extend to the right of."""
    if r1.empty or r2.empty:
        return False
    return cmp_bounds(r1.upper_bound(), r2.upper_bound()) <= 0


def overright(r1: Range, r2: Range) -> bool:
    """``&>``: does not extend to the left of."""
    if r1.empty or r2.empty:
        return False
    return cmp_bounds(r1.lower_bound(), r2.lower_bound()) >= 0


def _bounds_adjacent(kind: RangeKind, a: Bound, b: Bound) -> bool:
    """bounds_adjacent: upper bound ``a`` meets lower bound ``b`` with no value between."""
    c = cmp_bound_values(a, b)
    if c < 0:
        if not kind.discrete:
            return False
        # nothing lies between them when the range (a, b) is empty
        gap = make(kind, dataclasses.replace(a, inclusive=not a.inclusive, lower=True),
                   dataclasses.replace(b, inclusive=not b.inclusive, lower=False))
        return gap.empty
    if c == 0:
        return a.inclusive != b.inclusive
    return False


def adjacent(kind: RangeKind, r1: Range, r2: Range) -> bool:
    """``-|-``."""
    if r1.empty or r2.empty:
        return False
    return _bounds_adjacent(kind, r1.upper_bound(), r2.lower_bound()) or \
        _bounds_adjacent(kind, r2.upper_bound(), r1.lower_bound())


def union(kind: RangeKind, r1: Range, r2: Range, strict: bool = True) -> Range:
    """``+`` (strict) and range_merge."""
    if r1.empty:
        return r2
    if r2.empty:
        return r1
    if strict and not overlaps(r1, r2) and not adjacent(kind, r1, r2):
        raise errors.sql_error("22000", "result of range union would not be contiguous")
    l1, l2 = r1.lower_bound(), r2.lower_bound()
    u1, u2 = r1.upper_bound(), r2.upper_bound()
    lower = l1 if cmp_bounds(l1, l2) < 0 else l2
    upper = u1 if cmp_bounds(u1, u2) > 0 else u2
    return make(kind, lower, upper)


def intersection(kind: RangeKind, r1: Range, r2: Range) -> Range:
    """``*``."""
    if r1.empty or r2.empty or not overlaps(r1, r2):
        return Range(empty=True, kind=kind)
    l1, l2 = r1.lower_bound(), r2.lower_bound()
    u1, u2 = r1.upper_bound(), r2.upper_bound()
    lower = l1 if cmp_bounds(l1, l2) >= 0 else l2
    upper = u1 if cmp_bounds(u1, u2) <= 0 else u2
    return make(kind, lower, upper)


def difference(kind: RangeKind, r1: Range, r2: Range) -> Range:
    """``-`` (range_minus_internal)."""
    if r1.empty or r2.empty:
        return r1
    l1, u1, l2, u2 = r1.lower_bound(), r1.upper_bound(), r2.lower_bound(), r2.upper_bound()
    c_l1l2, c_l1u2 = cmp_bounds(l1, l2), cmp_bounds(l1, u2)
    c_u1l2, c_u1u2 = cmp_bounds(u1, l2), cmp_bounds(u1, u2)
    if c_l1l2 < 0 and c_u1u2 > 0:
        raise errors.sql_error("22000", "result of range difference would not be contiguous")
    if c_l1u2 > 0 or c_u1l2 < 0:
        return r1
    if c_l1l2 >= 0 and c_u1u2 <= 0:
        return Range(empty=True, kind=kind)
    if c_l1l2 <= 0 and c_u1l2 >= 0 and c_u1u2 <= 0:
        return make(kind, l1, dataclasses.replace(l2, inclusive=not l2.inclusive, lower=False))
    return make(kind, dataclasses.replace(u2, inclusive=not u2.inclusive, lower=True), u1)
