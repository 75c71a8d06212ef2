"""Constant folding: evaluate a call whose arguments are all constants, once.

Runs while binding (so a literal like ``DATE '1998-12-01' - INTERVAL '90 day'``
is one constant before planning) and again as an optimizer rule after other
rewrites. Volatile functions (NOW(), random()) are never folded. Errors raised
while folding (``1/0``) surface at bind time, as PostgreSQL does for constants.

Example:
    >>> from rustmemodb.plan.expr import Const
    >>> from rustmemodb.exec.functions.registry import FunctionRegistry
    >>> reg = FunctionRegistry(); fn, t = reg.resolve("add", ["INTEGER", "INTEGER"])
    >>> from rustmemodb.plan.expr import Call
    >>> fold(Call("add", (Const(1, "INTEGER"), Const(2, "INTEGER")), t, fn))
    Const(value=3, type='INTEGER')
"""
from __future__ import annotations

from ..plan.expr import Call, Cast, Const, Expr


def fold(expr: Expr) -> Expr:
    """``expr`` evaluated if it is a call or cast of constants; the result remembers
    ``expr`` when a lifted literal went into it (see ``Const.origin``)."""
    if isinstance(expr, Call):
        fn = expr.impl
        if fn is None or fn.volatile or fn.row is None:
            return expr
        for a in expr.args:     # a loop, not all(genexpr): every bound call comes here
            if not isinstance(a, Const):
                return expr
        values = [a.value for a in expr.args]
        origin = expr if any(lifted(a) for a in expr.args) else None
        if fn.strict and any(v is None for v in values):
            return Const(None, expr.type, origin=origin)
        return Const(fn.row(*values), expr.type, origin=origin)
    if isinstance(expr, Cast) and isinstance(expr.arg, Const):
        from ..exec.functions.cast import cast_row
        return Const(cast_row(expr.arg.value, expr.arg.type, expr.type), expr.type,
                     origin=expr if lifted(expr.arg) else None)
    return expr


def lifted(e: Expr) -> bool:
    """Whether ``e`` is a constant that depends on a literal lifted into a parameter: its
    value may differ the next time a cached plan runs."""
    return type(e) is Const and (e.slot is not None or e.origin is not None)
