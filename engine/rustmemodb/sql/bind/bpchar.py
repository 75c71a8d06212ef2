"""PostgreSQL's ``character(n)`` (bpchar): blank-padded text whose trailing blanks do not
count.

A ``char(n)`` column stores its values padded to n (exec/typmods.py) and reads as a
``types.BpcharType``: TEXT that knows n, so storage, hashing, indexes and every kernel
treat it as text. The binder rewrites only where PostgreSQL's bpchar differs from text:

* comparisons (``=``, ``<``, IS DISTINCT FROM, IN lists): a literal or parameter beside a
  char(n) value is a char(n) too, so it is padded to n (``bpchar_pad``: the column's own
  values are, so ``c = 'ab'`` stays a plain comparison an index can serve); two char
  values of other lengths, or a char beside a text expression, compare without their
  trailing blanks (bpchar against text is text's ``=`` in PostgreSQL: the text keeps its);
* a char value handed to a function or operator of text (``||``, ``length``, ``upper``,
  ``replace`` ...) or cast to text/varchar loses its trailing blanks (PostgreSQL's
  bpchar-to-text cast is ``rtrim``); functions of any type (``concat``, ``format``,
  ``coalesce``, ``greatest``), ``octet_length`` and the pattern matches (``LIKE``,
  ``~``) see the padding, as PostgreSQL's do;
* a cast to char(n) cuts to n and pads to n; ``bpchar`` without n keeps the value.

Values within a char(n) column compare, sort, group and join by their padded text:
equal values are equal padded. Left different: ordering against a text beginning with a
character below the blank (a tab) at the cut, which PostgreSQL orders without the
padding.

The expressions made here are left for the caller to fold (bind_expr.py): a padded
literal must reach the plan as a constant, which an index probe reads.
"""
from __future__ import annotations

from ... import types
from ...plan.expr import Call, Cast, Const, Expr, Param

COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "is_distinct",
                         "is_not_distinct", "nullif"})
# functions and operators that take the padded value (PostgreSQL: of "any" type, or with
# a bpchar signature of their own that keeps the blanks)
PADDED = frozenset({"octet_length", "like", "ilike", "similar_to", "regexp_like",
                    "regexp_ilike", "not_regexp_like", "not_regexp_ilike", "concat",
                    "concat_ws", "format", "coalesce", "greatest", "least",
                    "is_null", "is_not_null", "to_json", "to_jsonb", "num_nulls",
                    "num_nonnulls", "pg_typeof", "bpchar_pad", "row_to_json", "agg_pack",
                    "json_build_array", "json_build_object", "jsonb_build_array",
                    "jsonb_build_object", "array_construct", "make_array"})


def involved(args) -> bool:
    return any(type(a.type) is types.BpcharType for a in args)


def trimmed(functions, e: Expr) -> Expr:
    """``e`` without trailing blanks, as text (PostgreSQL's bpchar-to-text cast)."""
    if isinstance(e, Const) and e.slot is None and isinstance(e.value, str):
        return Const(e.value.rstrip(" "), types.TEXT)
    fn, ret = functions.resolve("rtrim", [types.TEXT, types.TEXT])
    return Call("rtrim", (e, Const(" ", types.TEXT)), types.TEXT, fn)


def padded(functions, e: Expr, length: int) -> Expr:
    """``e`` blank-padded to ``length`` (its own trailing blanks first cut), typed
    char(length); never cut: a longer value stays longer, so it equals no char(n)."""
    fn, _ = functions.resolve("bpchar_pad", [types.TEXT, types.INTEGER])
    return Call("bpchar_pad", (e, Const(length, types.INTEGER)), types.bpchar_type(length),
                fn)


def _literal(e: Expr) -> bool:
    """A quoted literal or a parameter: PostgreSQL reads it as the other side's bpchar."""
    return (isinstance(e, Const) and e.type == types.TEXT and type(e.type) is not
            types.BpcharType and (e.value is None or isinstance(e.value, str))) or \
        (isinstance(e, Param) and e.type in (types.TEXT, types.UNKNOWN, types.NULL))


def call_args(functions, name: str, args: list) -> list:
    """The arguments of function or operator ``name`` where some are char values."""
    if name in COMPARISONS and len(args) == 2:
        return compared(functions, args[0], args[1])
    if name in PADDED:
        return args
    return [trimmed(functions, a) if type(a.type) is types.BpcharType else a for a in args]


def compared(functions, a: Expr, b: Expr) -> list:
    """Two operands of a comparison, one of them at least a char value."""
    ta, tb = type(a.type) is types.BpcharType, type(b.type) is types.BpcharType
    if ta and tb:
        if a.type.length is not None and a.type.length == b.type.length:
            return [a, b]                     # both padded to n: their text compares
        return [trimmed(functions, a), trimmed(functions, b)]
    char, other = (a, b) if ta else (b, a)
    if _literal(other) and char.type.length is not None:
        other = padded(functions, other, char.type.length)
    elif _literal(other) or other.type in (types.TEXT, types.NULL, types.UNKNOWN):
        if not _literal(other):               # text: its blanks count, the char's do not
            char = trimmed(functions, char)
        else:
            char, other = trimmed(functions, char), trimmed(functions, other)
    return [char, other] if ta else [other, char]


def paired_type(args) -> str | None:
    """The type of coalesce/nullif/greatest/least over char values (and literals): char
    of their one length (no length when they differ); None when a text value is among
    them (then the result is text)."""
    lengths = {a.type.length for a in args if type(a.type) is types.BpcharType}
    if not all(type(a.type) is types.BpcharType or _literal(a) or a.type == types.NULL
               for a in args):
        return None
    return types.bpchar_type(lengths.pop() if len(lengths) == 1 else None)


def in_list(functions, arg: Expr, values: list) -> tuple:
    """``arg IN (values)`` where ``arg`` or a value is a char value: literals beside a
    char(n) padded to n when every value can be; else the char values without their
    blanks (and the literals: they are char values of no length then)."""
    n = arg.type.length if type(arg.type) is types.BpcharType else None
    if n is not None and all(_literal(v) or (type(v.type) is types.BpcharType and
                                             v.type.length == n) for v in values):
        return arg, [padded(functions, v, n) if _literal(v) else v for v in values]
    char = type(arg.type) is types.BpcharType
    return (trimmed(functions, arg) if char else arg), [
        trimmed(functions, v) if type(v.type) is types.BpcharType or (char and _literal(v))
        else v for v in values]


def cast_to_text(functions, arg: Expr) -> Expr:
    """``char_value::text`` / ``::varchar``: without its trailing blanks."""
    return trimmed(functions, arg)


def cast_to_char(functions, out: Expr, length: int | None) -> Expr:
    """``x::char(n)`` (``out``: x as text cut to n) padded to n; ``x::bpchar`` as it is."""
    if length is None:
        return Cast(out, types.bpchar_type(None)) if not isinstance(out, Const) else \
            Const(out.value, types.bpchar_type(None))
    return padded(functions, out, length)
