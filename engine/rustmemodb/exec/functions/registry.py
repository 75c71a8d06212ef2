"""The function catalog: name -> overloads, each with a vector and a row body.

A ``ScalarFunction`` carries

* ``resolve(arg_types) -> return type`` (or ``None`` when the types don't fit),
  used by the binder to type-check a call and pick the overload;
* ``vector(args, n)``: evaluates over Arrow arrays/scalars (the analytic path);
* ``row(*args)``: evaluates over Python values (the point/row path), optional.

When ``strict`` is set (the default, as PostgreSQL's STRICT functions), the row
path returns NULL as soon as any argument is NULL without calling ``row``.
Families register themselves in ``builtins()``; user functions are added per
database with ``register`` / ``register_function``.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ... import errors, types
from ...plan.internal_functions import is_internal


@dataclass
class ScalarFunction:
    name: str
    resolve: Callable[[Sequence[str]], str | None]
    vector: Callable[..., Any] | None
    row: Callable[..., Any] | None = None
    strict: bool = True
    volatile: bool = False         # NOW(), random(): never constant-folded
    user: bool = False             # registered by the user (pg_proc lists it in public)


@dataclass
class AggregateFunction:
    name: str
    resolve: Callable[[Sequence[str]], str | None]
    # Python-level aggregate for user functions: step over values -> result.
    python: Callable[[list], Any] | None = None


def fixed(*signatures: tuple) -> Callable[[Sequence[str]], str | None]:
    """A resolver from explicit (arg types..., return type) signatures."""
    def resolve(arg_types: Sequence[str]) -> str | None:
        for sig in signatures:
            *params, ret = sig
            if len(params) == len(arg_types) and all(
                    p == a or a == types.NULL or p == "ANY" for p, a in zip(params, arg_types)):
                return ret
        return None
    resolve.signatures = signatures       # listed by pg_catalog.pg_proc
    return resolve


def _shown(arg_types: Sequence[str]) -> str:
    """Argument types as PostgreSQL's messages list them (json, not the engine's JSONT)."""
    return ", ".join(types.shown_type(t) for t in arg_types)


# Registry versions are drawn from one global counter, so two registries (say, two
# forks that each registered a different UDF) never share a version number and a
# cached plan can never be reused against the wrong set of functions.
_versions = itertools.count(1)


_LOAD_LOCK = threading.Lock()
# (scalars, aggregates): the built-ins, registered once per process and never changed
# afterwards. A registry reads them until a function is added to it, and then copies
# them (``_own``): a database made for every connection would otherwise register
# ~40,000 objects of its own, which outlive the connection's first statements and so
# reach the collector's oldest generation, whose full collections they bring on.
_BUILTINS: tuple | None = None


class FunctionRegistry:
    """A database's functions. The built-ins are registered on first use, not when the
    database is made: their modules import most of the executor (and pyarrow), which a
    ``connect()`` followed by statements that call no function should not pay for."""

    def __init__(self, parent: "FunctionRegistry | None" = None) -> None:
        self.version = next(_versions)
        self.shared = False   # set when forks share this registry: copy before writing
        # (name, argument types) -> (overload, return type) found by ``resolve``: a one-off
        # statement binds dozens of calls (every operator is one), and trying each
        # overload's resolver was a tenth of binding. Replaced whenever a function is added.
        self._resolved: dict = {}
        if parent is None:
            self._maps: tuple | None = None     # (scalars, aggregates) once loaded
            self._own = False                   # the shared built-ins until one is added
        else:
            self._maps = ({k: list(v) for k, v in parent._scalars.items()},
                          dict(parent._aggregates))
            self._own = True
            self.version = parent.version   # same functions: plans stay valid

    def _load(self) -> tuple:
        # Readers do not take the lock: they see either None or the finished maps. The
        # built-ins are registered into a private staging registry and published with one
        # assignment, so a thread racing the first load never finds a half-filled catalog
        # (a missing operator there is a spurious 42883).
        global _BUILTINS
        with _LOAD_LOCK:
            if self._maps is None:
                if _BUILTINS is None:
                    staging = FunctionRegistry.__new__(FunctionRegistry)
                    staging.version = self.version
                    staging.shared = False
                    staging._resolved = {}
                    staging._maps = ({}, {})
                    staging._own = True
                    from . import builtins
                    builtins.register_all(staging)
                    _BUILTINS = staging._maps
                self._maps = _BUILTINS
        return self._maps

    def _owned(self) -> tuple:
        """The maps, copied first if they are the shared built-ins."""
        if not self._own:
            scalars, aggregates = self._maps if self._maps is not None else self._load()
            self._maps = ({k: list(v) for k, v in scalars.items()}, dict(aggregates))
            self._own = True
        return self._maps

    @property
    def _scalars(self) -> dict:
        maps = self._maps
        return (maps if maps is not None else self._load())[0]

    @property
    def _aggregates(self) -> dict:
        maps = self._maps
        return (maps if maps is not None else self._load())[1]

    def copy(self) -> "FunctionRegistry":
        return FunctionRegistry(parent=self)

    def add(self, fn: ScalarFunction) -> None:
        self._owned()[0].setdefault(fn.name.lower(), []).insert(0, fn)
        self._resolved = {}
        self.version = next(_versions)

    def add_aggregate(self, fn: AggregateFunction) -> None:
        self._owned()[1][fn.name.lower()] = fn
        self.version = next(_versions)

    def names(self) -> list[str]:
        """Every scalar and aggregate function name SQL can call, sorted (for completion,
        docs and privileges): the binder's helpers (``internal_only``) are not listed."""
        return sorted(n for n in set(self._scalars) | set(self._aggregates)
                      if not self.internal_only(n))

    def aggregate(self, name: str) -> AggregateFunction | None:
        return self._aggregates.get(name.lower())

    def internal_only(self, name: str) -> bool:
        """Whether ``name`` is one of the binder's helpers (plan/internal_functions.py)
        that no user function of the same name stands beside: then SQL that writes it
        gets ``not_found``."""
        name = name.lower()
        return is_internal(name) and not any(f.user for f in self._scalars.get(name, ()))

    @staticmethod
    def not_found(name: str, arg_types: Sequence[str]) -> errors.Error:
        """PostgreSQL's 42883 for a call no function takes."""
        return errors.undefined_function(
            f"function {name.lower()}({_shown(arg_types)}) does not exist",
            hint="No function matches the given name and argument types. "
                 "You might need to add explicit type casts.")

    def resolve(self, name: str, arg_types: Sequence[str]) -> tuple[ScalarFunction, str]:
        key = (name, tuple(arg_types))
        found = self._resolved.get(key)
        if found is None:
            # the resolvers are handed the caller's sequence, as before (some compare
            # it with a list)
            found = self._resolve(name, arg_types)
            if type(found[1]) is not str:
                # an enum type's TEXT (types.EnumType) passed through from an argument:
                # the cache is keyed by equal names, so plain text would come out as
                # that enum; functions answer TEXT (min/max keep the enum: enum_order.py)
                found = (found[0], types.TEXT)
            self._resolved[key] = found
        return found

    def _resolve(self, name: str, arg_types: Sequence[str]) -> tuple[ScalarFunction, str]:
        overloads = self._scalars.get(name.lower())
        if not overloads:
            raise errors.undefined_function(
                f"function {name.lower()}({_shown(arg_types)}) does not exist",
                hint="Register it with conn.register_function(name, fn, arg_types, return_type).")
        for fn in overloads:
            if not _takes(fn, len(arg_types)):
                continue
            try:
                ret = fn.resolve(arg_types)
            except (IndexError, KeyError, TypeError, ValueError):   # resolvers index ts[0]..
                ret = None
            if ret is not None:
                return fn, ret
        raise self.not_found(name, arg_types)

    def lookup(self, name: str, ret_type_hint: str | None = None) -> ScalarFunction:
        return self._scalars[name.lower()][0]

    # ---- the public plugin API ----------------------------------------------------------
    def register(self, name: str, fn: Callable, arg_types: Sequence[str] | None = None,
                 return_type: str = types.TEXT, *, vectorized: bool = False,
                 strict: bool = True, volatile: bool = False) -> None:
        """Register a Python scalar UDF.

        ``fn`` takes Python values (one call per row) unless ``vectorized`` is set,
        in which case it receives pyarrow arrays and returns one.
        """
        from .udf import make_udf
        self.add(make_udf(name, fn, arg_types, return_type, vectorized, strict, volatile))

    def register_aggregate(self, name: str, fn: Callable[[list], Any],
                           arg_types: Sequence[str], return_type: str) -> None:
        """Register a Python aggregate: ``fn(values: list) -> result`` per group."""
        arg_types = [types.normalize_type_name(t) for t in arg_types]
        ret = types.normalize_type_name(return_type)
        self.add_aggregate(AggregateFunction(name.lower(), fixed((*arg_types, ret)), fn))


def _takes(fn: ScalarFunction, n: int) -> bool:
    """Whether ``fn``'s body accepts ``n`` arguments: resolvers written as ``lambda ts: B``
    do not check the count, and a call with the wrong number (``ne()``, ``is_null(a, b)``)
    must be 42883, not a Python TypeError at execution. Read once from the row body's
    signature (or the vector body's); bodies without one (C functions) accept any."""
    arity = getattr(fn, "_arity", None)
    if arity is None:
        import inspect
        arity = (0, None)
        for body in (fn.row, fn.vector):
            if body is None:
                continue
            try:
                params = inspect.signature(body).parameters.values()
            except (TypeError, ValueError):
                continue
            if any(p.kind is p.VAR_POSITIONAL for p in params):
                break
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                          p.POSITIONAL_OR_KEYWORD)]
            arity = (sum(p.default is p.empty for p in positional), len(positional))
            break
        fn._arity = arity
    low, high = arity
    return low <= n and (high is None or n <= high)
