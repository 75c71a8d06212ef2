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
# Checks registered beside the compilers: fn(prepared) -> whether bounded.
BOUNDED: list = []
_LOADED: set = set()     # statement kinds whose compiler modules are imported


def compile_fast_path(prepared):
    plan = prepared.plan
    if plan is None:
        return None
    bound = prepared.bound
    kind = bound.kind if bound is not None else None
    if kind in ("INSERT", "UPDATE") and any(
            dep[0] == "table" and any(c.generated is not None for c in dep[2].columns)
            for dep in bound.deps):
        return None          # generated columns are computed by the operators (generated.py)
    if kind not in _LOADED:
        _load(kind)
    for compiler in COMPILERS:
        fast = compiler(prepared)
        if fast is not None:
            return fast
    return None


def _load(kind) -> None:
    """Import (and so register) the compiler of this statement kind the first time one is
    planned, not all at once: the write paths import the storage layer and pyarrow, which
    a process that has only run ``SELECT 1`` need not load (issue 11, start-up). The
    compiler modules import COMPILERS from here, hence imports in a function."""
    if kind == "SELECT":
        from . import fast_select  # noqa: F401 (registers its compiler)
    elif kind in ("INSERT", "UPDATE", "DELETE"):
        from . import fast_delete, fast_insert, fast_update  # noqa: F401 (register)
    _LOADED.add(kind)


def bounded_insert(prepared) -> bool:
    """Whether ``prepared``, a plan with no fast path, is an INSERT whose work is bounded
    like a point statement's all the same (exec/fast_insert.py ``bounded``). The wire
    server runs such a statement on its event loop (``Session.point_kind``): a thread
    hop would cost more than the statement."""
    return any(check(prepared) for check in BOUNDED)
