"""``pg_catalog.pg_proc``: the functions the engine knows, as PostgreSQL lists them.

psql's ``\\df``, JDBC's ``getFunctions`` and pgcli's completion read pg_proc and call
``pg_get_function_result`` / ``pg_get_function_arguments`` on its oids. The rows
come from the database's function registry (built-ins and the user's
``register_function`` UDFs) plus the aggregates: one row per signature. A function
registered with explicit signatures (``registry.fixed``) lists those; one whose
resolver is a rule ("any numeric type") lists the uniform signatures it accepts
over the engine's types (``abs(bigint)``, ``abs(double precision)``).

Oids are derived from the signature text (stable across statements and
processes); the signature texts are remembered by oid so that the helper
functions, which only see an oid, can print them (bounded by the number of
distinct functions ever listed).
"""
from __future__ import annotations

from .. import types
from ..storage.roles import acl_text
from .pg_auth import role_oid
from .pg_catalog import (NAMESPACES, ROLE_OID, _table, _typed, format_type, proc_oid, split_key,
                         type_oid)

INTERNAL_LANG, PYTHON_LANG = 12, 13600      # pg_language: built-ins, Python UDFs
SQL_LANG = 14                               # CREATE FUNCTION ... LANGUAGE sql
_PROBE = (types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN, types.TIMESTAMP, types.DATE,
          types.UUID, types.JSON, types.JSONT, types.INTERVAL, types.TIME, types.BYTEA,
          types.TIMESTAMPTZ)
# oid -> (result text, argument text[, identity argument text]): what
# pg_get_function_result / _arguments / _identity_arguments print.
SIGNATURES: dict[int, tuple] = {}


def _signatures(resolve) -> list[tuple[tuple, str]]:
    """(argument types, return type) a resolver accepts."""
    fixed = getattr(resolve, "signatures", None)
    if fixed is not None:
        return [(tuple(sig[:-1]), sig[-1]) for sig in fixed]
    found = []
    for arity in (0, 1, 2):
        for t in ((None,) if arity == 0 else _PROBE):
            args = (t,) * arity
            try:
                ret = resolve(list(args))
            except Exception:   # noqa: BLE001 - a resolver may index ts[0] etc.
                ret = None
            if ret is not None and ret not in (types.NULL, types.UNKNOWN):
                found.append((args, ret))
        if found and arity >= 1:
            break
    return found


def _functions(snap):
    registry = snap.functions
    if registry is None:
        return
    from ..plan.aggregates import AGGREGATE_TYPES
    entries = []
    for name, overloads in sorted(registry._scalars.items()):
        if registry.internal_only(name):      # the binder's helpers: not SQL's functions
            continue
        for fn in overloads:
            for args, ret in _signatures(fn.resolve):
                entries.append(("f", name, args, ret, fn.strict, fn.volatile, fn.user))
    aggregates = {n: (r, False) for n, r in AGGREGATE_TYPES.items()}
    aggregates.update({n: (a.resolve, True) for n, a in registry._aggregates.items()})
    for name, (resolve, user) in sorted(aggregates.items()):
        for args, ret in _signatures(resolve):
            entries.append(("a", name, args, ret, False, False, user))
    seen = set()
    for kind, name, args, ret, strict, volatile, user in entries:
        oid = proc_oid(kind, name, args)
        if oid in seen:
            continue
        seen.add(oid)
        arg_oids = [type_oid(a) for a in args]
        ret_oid = type_oid(ret)
        SIGNATURES.setdefault(oid, (format_type(ret_oid) or "text",
                                    ", ".join(format_type(o) or "\"any\"" for o in arg_oids)))
        yield (oid, name, NAMESPACES["public" if user else "pg_catalog"], ROLE_OID,
               PYTHON_LANG if user else INTERNAL_LANG, 1.0, 0.0, 0, 0, kind,
               False, False, strict, False, "v" if volatile else "i", "s", len(args), 0,
               ret_oid, " ".join(str(o) for o in arg_oids), None, None, None, None, None,
               name, None, None, None, None)
    for name, fn in sorted(snap.root.functions.items()):    # CREATE FUNCTION ... LANGUAGE sql
        args = [t for _, t in fn.params]
        oid = proc_oid("f", name, args)
        arg_oids = [type_oid(a) for a in args]
        ret_oid = type_oid(fn.returns)
        # named parameters and defaults as PostgreSQL prints them (psql's \\df); kept up
        # to date, since CREATE OR REPLACE may rename a parameter
        named = [" ".join(p for p in (pname, format_type(o) or "text") if p)
                 for (pname, _), o in zip(fn.params, arg_oids)]
        defaults = fn.defaults or (None,) * len(named)
        SIGNATURES[oid] = (format_type(ret_oid) or "text",
                           ", ".join(a + (f" DEFAULT {d}" if d is not None else "")
                                     for a, d in zip(named, defaults)),
                           ", ".join(named))
        bare, namespace = split_key(snap.root, name)     # CREATE FUNCTION s.f: key "s.f"
        owner = snap.root.auth.owner("function", name)     # GRANT ... ON FUNCTION: proacl
        yield (oid, bare, namespace, role_oid(snap, owner) if owner else ROLE_OID, SQL_LANG, 100.0, 0.0, 0, 0, "f",
               False, False, False, False, fn.volatility[0].lower(), "u", len(args),
               sum(d is not None for d in fn.defaults), ret_oid,
               " ".join(str(o) for o in arg_oids), None, None,
               [p for p, _ in fn.params] if any(p for p, _ in fn.params) else None, None, None,
               fn.body, None, None, None, acl_text(snap.root.auth, "function", name))


_table("pg_proc", "oid proname pronamespace proowner prolang procost prorows provariadic "
                  "prosupport prokind prosecdef proleakproof proisstrict proretset provolatile "
                  "proparallel pronargs pronargdefaults prorettype proargtypes proallargtypes "
                  "proargmodes proargnames proargdefaults protrftypes prosrc probin prosqlbody "
                  "proconfig proacl", _functions,
       _typed("I: oid pronamespace proowner prolang provariadic prosupport pronargs "
              "pronargdefaults prorettype; F: procost prorows; B: prosecdef proleakproof "
              "proisstrict proretset; IA: proallargtypes; TA: proargmodes proargnames proacl "
              "proconfig"))


def _languages(snap):
    yield INTERNAL_LANG, "internal", ROLE_OID, False, False, 0, 0, 2246, None
    yield 13, "c", ROLE_OID, False, False, 0, 0, 2247, None
    yield 14, "sql", ROLE_OID, False, True, 0, 0, 2248, None
    yield PYTHON_LANG, "python", ROLE_OID, True, False, 0, 0, 0, None


_table("pg_language", "oid lanname lanowner lanispl lanpltrusted lanplcallfoid lanvalidator "
                      "laninline lanacl", _languages,
       _typed("I: oid lanowner lanplcallfoid lanvalidator laninline; B: lanispl lanpltrusted; "
              "TA: lanacl"))


def function_result(oid: int) -> str | None:
    sig = SIGNATURES.get(oid)
    return sig[0] if sig else None


def function_arguments(oid: int) -> str | None:
    sig = SIGNATURES.get(oid)
    return sig[1] if sig else None


def function_identity_arguments(oid: int) -> str | None:
    """The arguments without their defaults (what identifies the function)."""
    sig = SIGNATURES.get(oid)
    return sig[-1] if sig else None
