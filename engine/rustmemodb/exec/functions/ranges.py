"""Range operators and functions: int4range ... tstzrange (ranges/ holds the rules).

    int4range(a, b [, '[]'])       constructors (a NULL bound is infinite; flags 42601)
    @>  <@                         array_contains_all / array_contained_by: a range or an
                                   element (of the range's element type exactly)
    &&  <<  >>  &<  &>  -|-        array_overlaps, shift_left, shift_right, range_overleft,
                                   range_overright, range_adjacent
    +  *  -                        union (22000 when not contiguous), intersection,
                                   difference (22000 when it would leave two pieces)
    lower upper isempty lower_inc upper_inc lower_inf upper_inf range_merge
    range_intersect_agg            the aggregate intersection (NULLs skipped; no rows: NULL)

= <> < <= > >= need nothing here: ranges are stored as bytes in range order
(ranges/codec.py), which the generic comparisons compare. Each body decodes, computes
and encodes row by row: range columns are compared and sorted by their bytes, and the
operators that look inside a range are not where bulk time goes.
"""
from __future__ import annotations

from ... import errors, ranges, types
from ...ranges import algebra, bytewise
from .registry import AggregateFunction, ScalarFunction
from ...lazy_import import arrow as pa
from ..expr.rowwise import map_rows

B, N, T, I, F = types.BOOLEAN, types.NULL, types.TEXT, types.INTEGER, types.FLOAT
KINDS = ranges.KINDS


def _pair(ts) -> str | None:
    """The range type of a (range, range) call, a NULL taking the other's."""
    if len(ts) != 2:
        return None
    a, b = ts
    if a in KINDS and (b == a or b == N):
        return a
    if b in KINDS and a == N:
        return b
    return None


def _range_elem(ts) -> str | None:
    if len(ts) == 2 and ts[0] in KINDS and ts[1] in (KINDS[ts[0]].element, N):
        return ts[0]
    return None


def _elem_range(ts) -> str | None:
    if len(ts) == 2 and ts[1] in KINDS and ts[0] in (KINDS[ts[1]].element, N):
        return ts[1]
    return None


def _binary_ops(kind):
    dec, enc = ranges.decode, ranges.encode

    def rr(test):
        return lambda a, b: test(dec(kind, a), dec(kind, b))

    def rk(test):
        return lambda a, b: test(kind, dec(kind, a), dec(kind, b))

    def out(test):
        return lambda a, b: enc(kind, test(kind, dec(kind, a), dec(kind, b)))
    return {
        # @>, <@ and && on the stored bytes (ranges/bytewise.py): the hot WHERE cases
        ("array_contains_all", B, _pair): bytewise.contains,
        ("array_contained_by", B, _pair): lambda a, b: bytewise.contains(b, a),
        ("array_contains_all", B, _range_elem):
            lambda a, v: bytewise.contains_elem(kind, a, v),
        ("array_contained_by", B, _elem_range):
            lambda v, a: bytewise.contains_elem(kind, a, v),
        ("array_overlaps", B, _pair): bytewise.overlaps,
        ("shift_left", B, _pair): rr(algebra.before),
        ("shift_right", B, _pair): rr(algebra.after),
        ("range_overleft", B, _pair): rr(algebra.overleft),
        ("range_overright", B, _pair): rr(algebra.overright),
        ("range_adjacent", B, _pair): rk(algebra.adjacent),
        ("add", "range", _pair): out(algebra.union),
        ("mul", "range", _pair): out(algebra.intersection),
        ("sub", "range", _pair): out(algebra.difference),
        ("range_merge", "range", _pair):
            out(lambda k, x, y: algebra.union(k, x, y, strict=False)),
    }


def _unary_ops(kind):
    dec = ranges.decode
    return {
        "lower": (kind.element, lambda a: bytewise.lower(kind, a)),
        "upper": (kind.element, lambda a: bytewise.upper(kind, a)),
        "isempty": (B, lambda a: dec(kind, a).empty),
        "lower_inc": (B, lambda a: dec(kind, a).lower_inc),
        "upper_inc": (B, lambda a: dec(kind, a).upper_inc),
        "lower_inf": (B, lambda a: dec(kind, a).lower_inf),
        "upper_inf": (B, lambda a: dec(kind, a).upper_inf),
    }


def _constructor(kind):
    element = kind.element
    takes = (element, N, I) if element == F else (element, N)

    def resolve(ts):
        if len(ts) in (2, 3) and ts[0] in takes and ts[1] in takes and \
                (len(ts) == 2 or ts[2] in (T, N)):
            return kind.name
        return None
    resolve.signatures = ((element, element, kind.name), (element, element, T, kind.name))

    def row(lower, upper, flags="[)"):
        if flags is None:
            raise _null_flags()
        if element == F:
            lower = None if lower is None else float(lower)
            upper = None if upper is None else float(upper)
        return ranges.encode(kind, ranges.construct(kind, lower, upper, flags))
    return resolve, row


def _null_flags():
    return errors.sql_error("22000", "range constructor flags argument must not be null")


def _rows_typed(row, out: str, strict: bool = True):
    """The vector body: ``row`` over the rows, into the Arrow type of ``out``."""
    def vec(*args):
        target = types.arrow_type(out) if out != "range" else pa.large_binary()
        return map_rows(row, args, out_type=target, strict=strict)
    return vec


def register(reg) -> None:
    for kind in KINDS.values():
        for (name, out, resolve), row in _binary_ops(kind).items():
            ret = kind.name if out == "range" else out
            reg.add(ScalarFunction(name, _of_kind(kind, resolve, ret),
                                   _rows_typed(row, out),
                                   row))
        for name, (out, row) in _unary_ops(kind).items():
            reg.add(ScalarFunction(name, _unary(kind, out), _rows_typed(row, out), row))
        resolve, row = _constructor(kind)
        reg.add(ScalarFunction(kind.pg_name, resolve, _rows_typed(row, "range", False),
                               row, strict=False))
    reg.add_aggregate(AggregateFunction("range_intersect_agg", _resolve_intersect_agg,
                                        python=_intersect_agg))


def _of_kind(kind, resolve, ret):
    def fn(ts):
        return ret if resolve(ts) == kind.name else None
    fn.signatures = ()
    return fn


def _unary(kind, out):
    def fn(ts):
        return out if len(ts) == 1 and ts[0] == kind.name else None
    fn.signatures = ()   # PostgreSQL's are polymorphic (upper(anyrange)): pg_proc lists none
    return fn


def _intersect_agg(values: list):
    """range_intersect_agg over one group's stored ranges. The aggregate is handed values
    without their type, so the ranges are read by their bounds' order keys (the codec's
    KEY kind): an intersection makes no new bound, and canonical inputs stay canonical."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    key = ranges.codec.KEY
    out = ranges.decode(key, present[0])
    for v in present[1:]:
        out = algebra.intersection(key, out, ranges.decode(key, v))
    return ranges.encode(key, out)


def _resolve_intersect_agg(ts):
    return ts[0] if len(ts) == 1 and ts[0] in KINDS else None
