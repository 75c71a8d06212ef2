"""jsonb's comparison operators and sort order, as PostgreSQL's btree opclass defines them.

A jsonb document is stored as its canonical text (types.canonical_json), but text order is
not jsonb order: PostgreSQL sorts by kind first (null < string < number < boolean < array
< object), arrays and objects by their element (pair) count before their contents, numbers
by value (``9 < 10``, ``1.0 = 1``), and a top-level scalar as a one-element "raw scalar"
array (so ``[] < null`` and ``1 < [1]``). ``sort_key`` turns a document into bytes whose
bytewise order is that order and whose equality is jsonb's ``=``; the operators here
compare those keys, and the binder sorts jsonb by ``jsonb_sortkey`` (sql/bind/sort_keys.py).

Hashing (GROUP BY, DISTINCT, set operations, hash joins, IN (subquery), PARTITION BY)
groups a document by its text with every number in one form (exec/jsonb_keys.py).

Equality keeps a fast path: canonical texts that are equal are equal documents, and texts
that differ can only be equal documents when a number is written in two forms (1.0 and 1),
so only those rows are parsed.
"""
from __future__ import annotations

from decimal import Decimal

from ...lazy_import import arrow as pa, compute as pc
from ... import infinity, numeric, types
from ..expr.rowwise import map_rows
from ..jsonb_keys import NUMBER_FORM
from .registry import ScalarFunction

J, N, B, BYTEA = types.JSON, types.NULL, types.BOOLEAN, types.BYTEA

# kinds in PostgreSQL's order (jbvNull < jbvString < jbvNumeric < jbvBool < array < object)
_NULL, _STRING, _NUMBER, _BOOL, _ARRAY, _OBJECT = b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"
_NEGATIVE, _ZERO, _POSITIVE = b"\x01", b"\x02", b"\x03"
_EXP_BIAS = 1 << 63
_INVERT_DIGITS = bytes.maketrans(b"0123456789", b"9876543210")
_NUMBER_FORM, _NUMBER_FORM_PATTERN = NUMBER_FORM, NUMBER_FORM.pattern


def sort_key(text: str) -> bytes:
    """The bytes that order and equate jsonb ``text`` as PostgreSQL does."""
    value = types.load_jsonb(text)
    out = bytearray()
    if not isinstance(value, (dict, list)):
        # a raw scalar: a one-element array that sorts before real ones (their flag is 1)
        out += _ARRAY + b"\x00\x00\x00\x01\x00"
    _value(value, out)
    return bytes(out)


def _value(v, out: bytearray) -> None:
    if v is None:
        out += _NULL
    elif v is True or v is False:
        out += _BOOL + (b"\x01" if v else b"\x00")
    elif isinstance(v, str):
        out += _STRING
        _string(v, out)
    elif isinstance(v, (int, Decimal)):
        out += _NUMBER
        _number(v, out)
    elif isinstance(v, list):
        out += _ARRAY + len(v).to_bytes(4, "big") + b"\x01"
        for item in v:
            _value(item, out)
    else:
        _object(v, out)


def _object(d: dict, out: bytearray) -> None:
    # pairs in jsonb's storage order (shorter keys first, then bytewise): the canonical
    # text already has them so; a document parsed from elsewhere is put in that order
    out += _OBJECT + len(d).to_bytes(4, "big")
    for k in sorted(d, key=types.jsonb_key_order):
        _string(k, out)
        _value(d[k], out)


def _string(s: str, out: bytearray) -> None:
    # strings compare bytewise (code point order); the terminator sorts a prefix first
    out += s.encode().replace(b"\x00", b"\x00\x01") + b"\x00\x00"


def _number(v, out: bytearray) -> None:
    d = Decimal(v) if type(v) is int else v
    if not d:
        out += _ZERO
        return
    sign, digits, exp = d.normalize(numeric.CTX).as_tuple()   # every digit (not prec 28)
    magnitude = len(digits) + exp              # value = 0.d1d2... x 10**magnitude
    text = bytes(48 + x for x in digits)
    if sign:   # more magnitude, or more digits, is a smaller negative number
        out += _NEGATIVE + (_EXP_BIAS - magnitude).to_bytes(8, "big") + \
            text.translate(_INVERT_DIGITS) + b"\xff"
    else:
        out += _POSITIVE + (_EXP_BIAS + magnitude).to_bytes(8, "big") + text + b"\x00"


# ---- operators ------------------------------------------------------------------------

def _resolve(ts):
    """Two jsonb operands (one may be an untyped NULL)."""
    return B if len(ts) == 2 and J in ts and set(ts) <= {J, N} else None


def equal(a: str, b: str) -> bool:
    return a == b or ((_NUMBER_FORM.search(a) is not None or
                       _NUMBER_FORM.search(b) is not None) and sort_key(a) == sort_key(b))


def _keys(v):
    if isinstance(v, pa.Scalar):
        return pa.scalar(None if not v.is_valid else sort_key(v.as_py()), pa.large_binary())
    return pa.array([None if t is None else sort_key(t) for t in infinity.pylist(v)],
                    pa.large_binary())


def _vec_equal(a, b):
    """Equal texts, or (only where a number form is seen) equal keys."""
    if isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar):
        return pa.scalar(None if not (a.is_valid and b.is_valid) else
                         equal(a.as_py(), b.as_py()), pa.bool_())
    same = pc.equal(a, b)
    maybe = pc.or_(pc.match_substring_regex(a, _NUMBER_FORM_PATTERN),
                   pc.match_substring_regex(b, _NUMBER_FORM_PATTERN))
    doubtful = pc.and_(pc.invert(same), maybe)
    if not pc.any(doubtful).as_py():
        return same
    n = len(a) if not isinstance(a, pa.Scalar) else len(b)
    rows = pc.indices_nonzero(pc.fill_null(doubtful, False)).to_pylist()
    left = [a.as_py()] * n if isinstance(a, pa.Scalar) else None
    right = [b.as_py()] * n if isinstance(b, pa.Scalar) else None
    fixed = same.to_pylist()
    for i in rows:
        x = left[i] if left is not None else a[i].as_py()
        y = right[i] if right is not None else b[i].as_py()
        fixed[i] = sort_key(x) == sort_key(y)
    return pa.array(fixed, pa.bool_())


def _vec_ordering(kernel: str):
    # the kernel is looked up per call: registering must not import pyarrow (a point
    # statement's process never loads it)
    return lambda a, b: getattr(pc, kernel)(_keys(a), _keys(b))


def _vec_distinct(a, b):
    eq = _vec_equal(a, b)
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.if_else(both_null, False, pc.if_else(one_null, True, pc.invert(eq)))


def _row_distinct(a, b) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return not equal(a, b)


def _extreme(pick):
    """greatest/least over jsonb: by jsonb order, NULLs ignored (NULL only if all are)."""
    def row(*args):
        present = [a for a in args if a is not None]
        return pick(present, key=sort_key) if present else None
    return row


def _resolve_same(ts):
    return J if ts and J in ts and set(ts) <= {J, N} else None


def register(reg) -> None:
    reg.add(ScalarFunction("jsonb_sortkey", lambda ts: BYTEA if list(ts) == [J] else None,
                           _keys, sort_key))
    reg.add(ScalarFunction("eq", _resolve, _vec_equal, equal))
    reg.add(ScalarFunction("ne", _resolve, lambda a, b: pc.invert(_vec_equal(a, b)),
                           lambda a, b: not equal(a, b)))
    for name, kernel, op in (("lt", "less", bytes.__lt__), ("le", "less_equal", bytes.__le__),
                             ("gt", "greater", bytes.__gt__),
                             ("ge", "greater_equal", bytes.__ge__)):
        reg.add(ScalarFunction(name, _resolve, _vec_ordering(kernel),
                               lambda a, b, op=op: op(sort_key(a), sort_key(b))))
    reg.add(ScalarFunction("is_distinct", _resolve, _vec_distinct, _row_distinct,
                           strict=False))
    reg.add(ScalarFunction("is_not_distinct", _resolve,
                           lambda a, b: pc.invert(_vec_distinct(a, b)),
                           lambda a, b: not _row_distinct(a, b), strict=False))
    for name, pick in (("greatest", max), ("least", min)):
        row = _extreme(pick)
        reg.add(ScalarFunction(name, _resolve_same,
                               lambda *args, row=row: map_rows(row, args, strict=False,
                                                               out_type=pa.large_string()),
                               row, strict=False))
