"""Point-statement fast paths, compiled once per cached plan.

For the shapes OLTP traffic repeats — ``SELECT ... WHERE pk = $1``, single-row
``INSERT ... VALUES ($1, ...)``, ``UPDATE/DELETE ... WHERE pk = $1`` — the
generic operators would pay several Arrow calls (150-220 µs each on tiny
inputs). ``compile_fast_path`` returns a closure that runs such a statement
with Python tuples only, or ``None`` when the plan is not one of these shapes.
The closure may also return ``None`` at run time to fall back to the generic
path.
"""
from __future__ import annotations


# Compilers tried in order: fn(prepared) -> closure | None.
COMPILERS: list = []


def compile_fast_path(prepared):
    plan = prepared.plan
    if plan is None:
        return None
    for compiler in COMPILERS or _default_compilers():
        fast = compiler(prepared)
        if fast is not None:
            return fast
    return None


def _default_compilers():
    from . import fast_delete, fast_insert, fast_select, fast_update  # noqa: F401 (register)
    return COMPILERS
