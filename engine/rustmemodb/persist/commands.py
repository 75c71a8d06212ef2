"""``@command`` / ``@query``: model methods an application exposes by name.

A method marked ``@command`` changes its entity (in place, or by returning a new
instance of the model); ``@query`` only reads it. ``commands_of(model)`` finds the
marked methods with their parameters and type hints, which is what the REST layer
(rest/commands.py) turns into ``POST /c/{id}/{name}`` and ``GET /c/{id}/{name}``
with request and response schemas, and what ``Collection.apply`` can call by name.
Marking changes nothing about the method itself: it stays callable as before.
"""
from __future__ import annotations

import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any, Callable

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MARK = "__persist_command__"


@dataclass(frozen=True)
class Param:
    name: str
    annotation: Any               # typing.Any when the parameter has no hint
    default: Any                  # inspect.Parameter.empty when required


@dataclass(frozen=True)
class CommandSpec:
    kind: str                     # "command" or "query"
    name: str                     # the route segment
    attr: str                     # the method's attribute name on the model
    params: tuple[Param, ...]
    returns: Any                  # the return annotation (None for "-> None")
    doc: str


def _mark(kind: str, fn: Callable | None, name: str | None):
    def wrap(f: Callable) -> Callable:
        label = name or f.__name__
        if not NAME.fullmatch(label):
            raise ValueError(f"@{kind} name {label!r}: letters, digits and _, starting "
                             "with a letter")
        setattr(f, _MARK, (kind, label))
        return f
    return wrap(fn) if fn is not None else wrap


def command(fn: Callable | None = None, *, name: str | None = None):
    """Mark a model method as a command (it changes the entity)."""
    return _mark("command", fn, name)


def query(fn: Callable | None = None, *, name: str | None = None):
    """Mark a model method as a query (it reads the entity, changes nothing)."""
    return _mark("query", fn, name)


def commands_of(model) -> dict[str, CommandSpec]:
    """The marked methods of a model class, by route name (in definition order)."""
    if not isinstance(model, type):
        return {}
    out: dict[str, CommandSpec] = {}
    for klass in reversed(model.__mro__):
        for attr, fn in vars(klass).items():
            mark = getattr(fn, _MARK, None)
            if mark is None or not callable(fn):
                continue
            kind, label = mark
            out[label] = _spec(kind, label, attr, fn)
    return out


def _hints(fn: Callable) -> dict:
    """Resolved type hints; one unresolvable annotation (a model class defined in a
    function, named in quotes) costs only itself: it stays a string."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:                     # noqa: BLE001 - resolve one by one below
        pass
    out = {}
    for name, annotation in getattr(fn, "__annotations__", {}).items():
        holder = type("_Hint", (), {"__annotations__": {name: annotation}})
        try:
            out[name] = typing.get_type_hints(holder, globalns=getattr(fn, "__globals__", {}),
                                              include_extras=True)[name]
        except Exception:                 # noqa: BLE001 - left as written
            out[name] = annotation
    return out


def _spec(kind: str, label: str, attr: str, fn: Callable) -> CommandSpec:
    hints = _hints(fn)
    sig = inspect.signature(fn)
    params = []
    for i, p in enumerate(sig.parameters.values()):
        if i == 0:
            continue                      # self
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"@{kind} {label}: *args/**kwargs cannot become a request "
                            "schema; name the parameters")
        params.append(Param(p.name, hints.get(p.name, Any), p.default))
    returns = hints.get("return", sig.return_annotation)
    if returns is type(None):
        returns = None
    if returns is inspect.Signature.empty:
        returns = Any
    return CommandSpec(kind, label, attr, tuple(params), returns,
                       inspect.getdoc(fn) or "")


def args_model(spec: CommandSpec, title: str):
    """A pydantic model of the method's parameters (unknown keys refused): what a
    command's JSON payload is validated with, over REST and in the entity runtime."""
    import pydantic
    fields = {p.name: (p.annotation, ... if p.default is inspect.Parameter.empty
                       else p.default) for p in spec.params}
    return pydantic.create_model(title, __config__=pydantic.ConfigDict(extra="forbid"),
                                 **fields)
