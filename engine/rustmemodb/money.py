"""PostgreSQL's ``money``: a 64-bit count of cents, read and printed as lc_monetary C.

Why a module of its own: money's text forms are PostgreSQL's cash_in/cash_out (cash.c)
for the C locale (``$``, ``,`` between thousands, ``.`` and two fraction digits, a sign
or parentheses before or after), which no Python formatting reproduces; its arithmetic
rounds as cash.c does (rint after multiplying or dividing by a float, truncation after
dividing by an integer) and overflows as ``22003 money out of range``.

Storage form: the int64 number of cents (rows and Arrow ``int64``); a cursor returns the
text (``$1,234.56``), as psycopg does.
"""
from __future__ import annotations

import decimal
import math

from . import errors

MONEY = "MONEY"
# exact for any money value (never the process's decimal context)
_CONTEXT = decimal.Context(prec=60)
_MIN, _MAX = -(1 << 63), (1 << 63) - 1


def out_of_range() -> errors.Error:
    return errors.sql_error("22003", "money out of range")


def check(cents: int) -> int:
    if not _MIN <= cents <= _MAX:
        raise out_of_range()
    return cents


def parse(text: str) -> int:
    """cash_in: the cents ``text`` names (22P02 on junk, 22003 past int64)."""
    def bad() -> errors.Error:
        return errors.sql_error("22P02", f'invalid input syntax for type money: "{text}"')

    def too_big() -> errors.Error:
        return errors.sql_error("22003", f'value "{text}" is out of range for type money')

    s, i, n = text, 0, len(text)

    def skip_space_and_symbol(i: int) -> int:
        while i < n and s[i].isspace():
            i += 1
        if s.startswith("$", i):
            i += 1
        while i < n and s[i].isspace():
            i += 1
        return i

    i = skip_space_and_symbol(i)
    sign = 1
    if s.startswith("-", i):
        sign, i = -1, i + 1
    elif s.startswith("(", i):
        sign, i = -1, i + 1
    elif s.startswith("+", i):
        i += 1
    i = skip_space_and_symbol(i)
    value = decimals = 0
    seen_dot = False
    while i < n:
        c = s[i]
        if "0" <= c <= "9" and (not seen_dot or decimals < 2):
            value = value * 10 + ord(c) - 48
            if value > -_MIN:
                raise too_big()
            if seen_dot:
                decimals += 1
        elif c == "." and not seen_dot:
            seen_dot = True
        elif c == ",":
            pass
        else:
            break
        i += 1
    if i < n and "5" <= s[i] <= "9":        # a third fraction digit rounds (half up)
        value += 1
    value *= 10 ** (2 - decimals)
    if value > -_MIN:
        raise too_big()
    while i < n and "0" <= s[i] <= "9":
        i += 1
    while i < n:
        c = s[i]
        if c.isspace() or c in ")+$":
            i += 1
        elif c == "-":
            sign, i = -1, i + 1
        else:
            raise bad()
    if sign > 0 and value > _MAX:
        raise too_big()
    return sign * value


def format(cents: int) -> str:
    """cash_out in the C locale: ``$1,234.56``, ``-$0.05``."""
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}${whole:,}.{frac:02d}"


def of_number(value) -> int:
    """numeric (a Decimal) or float8 -> money: cents rounded half away from zero, as
    numeric_cash rounds."""
    if isinstance(value, int):
        return check(value * 100)
    from decimal import ROUND_HALF_UP, Decimal
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise errors.sql_error("22003", "money out of range")
        exact = value
    else:
        if math.isnan(value) or math.isinf(value):
            raise errors.sql_error("22003", "money out of range")
        exact = Decimal(repr(value))
    cents = exact.scaleb(2, context=_CONTEXT).quantize(Decimal(1), rounding=ROUND_HALF_UP,
                                                        context=_CONTEXT)
    return check(int(cents))


def to_number(cents: int) -> float:
    """money -> float8."""
    return cents / 100


def to_decimal(cents: int):
    """money -> numeric: the cents with two digits after the point (cash_numeric)."""
    from decimal import Decimal
    return Decimal((1 if cents < 0 else 0, tuple(int(c) for c in str(abs(cents))), -2))


def rint(x: float) -> int:
    """C's rint (half to even), as cash_mul_flt8 / cash_div_flt8 round."""
    if math.isnan(x) or math.isinf(x):
        raise out_of_range()
    return check(int(round(x)))


def div_int(cents: int, divisor: int) -> int:
    """money / integer: truncated toward zero (C's integer division)."""
    if divisor == 0:
        raise errors.sql_error("22012", "division by zero")
    q = abs(cents) // abs(divisor)
    return check(q if (cents < 0) == (divisor < 0) else -q)


_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty "
          "sixty seventy eighty ninety").split()
_BIG = _SMALL[18:]                  # cash.c: big = small + 18 (big[2] is "twenty")


def _num_word(value: int) -> str:
    """cash.c's num_word: a number below 1000 in words, its quirks kept."""
    tu = value % 100
    if value <= 20:
        return _SMALL[value]
    if not tu:
        return f"{_SMALL[value // 100]} hundred"
    if value > 99:
        head = _SMALL[value // 100]
        if value % 10 == 0 and tu > 10:
            return f"{head} hundred {_BIG[tu // 10]}"
        if tu < 20:
            return f"{head} hundred and {_SMALL[tu]}"
        return f"{head} hundred {_BIG[tu // 10]} {_SMALL[tu % 10]}"
    if value % 10 == 0 and tu > 10:
        return _BIG[tu // 10]
    if tu < 20:
        return _SMALL[tu]
    return f"{_BIG[tu // 10]} {_SMALL[tu % 10]}"


def words(cents: int) -> str:
    """cash_words: ``One thousand two hundred thirty four dollars and fifty six cents``."""
    out = ""
    if cents < 0:
        out, cents = "minus ", -cents
    dollars = cents // 100
    parts = [(cents // 10 ** (2 + 3 * k)) % 1000 for k in range(6)]   # m1 .. m6
    for part, name in zip(reversed(parts[1:]), ("quadrillion", "trillion", "billion",
                                                "million", "thousand")):
        if part:
            out += f"{_num_word(part)} {name} "
    if parts[0]:
        out += _num_word(parts[0])
    if dollars == 0:
        out += "zero"
    out += " dollar and " if dollars == 1 else " dollars and "
    m0 = cents % 100
    out += _num_word(m0) + (" cent" if m0 == 1 else " cents")
    return out[0].upper() + out[1:]
