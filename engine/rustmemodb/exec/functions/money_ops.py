"""Operators and functions of ``money`` (cents in an int64; money.py), as cash.c has them.

money ± money; money * / float8 and integer (float: rounded half to even, as rint;
integer division truncates); money / money is float8; cash_words. Comparisons, min/max
and ORDER BY are the integer ones; sum(money) is registered with the aggregates. There
is no unary minus on money (42883), as in PostgreSQL.
"""
from __future__ import annotations

from ... import errors, money, types
from .registry import ScalarFunction, fixed
from .string import _rows

M, I, F, T = types.MONEY, types.INTEGER, types.FLOAT, types.TEXT


def _div_float(cents: int, f: float) -> int:
    if f == 0:
        raise errors.sql_error("22012", "division by zero")
    return money.rint(cents / f)


def _div_money(a: int, b: int) -> float:
    if b == 0:
        raise errors.sql_error("22012", "division by zero")
    return a / b


def register(reg) -> None:
    def add(name, resolve, row, out="int64"):
        reg.add(ScalarFunction(name, resolve, _rows(row, out), row))
    add("add", fixed((M, M, M)), lambda a, b: money.check(a + b))
    add("sub", fixed((M, M, M)), lambda a, b: money.check(a - b))
    add("mul", fixed((M, F, M)), lambda c, f: money.rint(c * f))
    add("mul", fixed((F, M, M)), lambda f, c: money.rint(c * f))
    add("mul", fixed((M, I, M)), lambda c, n: money.check(c * n))
    add("mul", fixed((I, M, M)), lambda n, c: money.check(c * n))
    add("div", fixed((M, F, M)), _div_float)
    add("div", fixed((M, I, M)), money.div_int)
    add("div", fixed((M, M, F)), _div_money, "float64")
    add("cash_words", fixed((M, T)), money.words, "large_string")
