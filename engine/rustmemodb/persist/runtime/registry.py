"""The command registry: which handler runs an envelope, decided from data alone.

Dispatch is a dictionary lookup on ``(entity_type, command)`` after following
aliases (a renamed command keeps answering to its old names) and then upcasting
the payload one version at a time from the envelope's ``payload_version`` to the
handler's ``version``. Nothing depends on registration order or on time, so the
journal's records replay through the same handlers to the same states. Duplicate
registrations, alias cycles and missing upcasters are errors, found when
registering or dispatching, never silently resolved.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import ValidationError
from .envelope import CommandEnvelope


class UnknownCommand(ValidationError):
    """No handler for this entity type and command (after aliases)."""
    sqlstate = "42883"          # undefined_function


@dataclass(frozen=True)
class Handler:
    entity_type: str
    name: str
    fn: Callable                # fn(entity or None, payload, ctx) -> entity | data | None
    creates: bool = False       # runs on a missing entity and returns its data
    version: int = 1            # the payload shape the handler takes


class CommandRegistry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._aliases: dict[tuple[str, str], str] = {}
        self._upcasters: dict[tuple[str, str, int], Callable[[dict], dict]] = {}

    # ---- registration -----------------------------------------------------------------
    def register(self, entity_type: str, name: str, fn: Callable, *, creates: bool = False,
                 version: int = 1, aliases=()) -> Handler:
        key = (entity_type, name)
        if key in self._handlers or key in self._aliases:
            raise ValueError(f"{entity_type}.{name} is registered already")
        if version < 1:
            raise ValueError("a payload version starts at 1")
        handler = Handler(entity_type, name, fn, creates, version)
        self._handlers[key] = handler
        for old in aliases:
            self.alias(entity_type, old, name)
        return handler

    def command(self, entity_type: str, name: str | None = None, *, creates: bool = False,
                version: int = 1, aliases=()):
        """Decorator form of ``register``."""
        def wrap(fn: Callable) -> Callable:
            self.register(entity_type, name or fn.__name__, fn, creates=creates,
                          version=version, aliases=aliases)
            return fn
        return wrap

    def alias(self, entity_type: str, old: str, new: str) -> None:
        """``old`` (a former name) now means ``new``."""
        key = (entity_type, old)
        if key in self._handlers or key in self._aliases:
            raise ValueError(f"{entity_type}.{old} is registered already")
        seen, target = {old}, new
        while (entity_type, target) in self._aliases:
            target = self._aliases[(entity_type, target)]
            if target in seen:
                raise ValueError(f"alias cycle through {entity_type}.{old}")
            seen.add(target)
        if target == old:
            raise ValueError(f"alias cycle through {entity_type}.{old}")
        self._aliases[key] = new

    def upcaster(self, entity_type: str, command: str, from_version: int):
        """Decorator: ``fn(payload) -> payload`` from ``from_version`` to the next."""
        def wrap(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
            key = (entity_type, command, from_version)
            if key in self._upcasters:
                raise ValueError(f"{entity_type}.{command} has an upcaster from "
                                 f"version {from_version} already")
            self._upcasters[key] = fn
            return fn
        return wrap

    # ---- dispatch ---------------------------------------------------------------------
    def canonical(self, entity_type: str, command: str) -> str:
        seen = set()
        while (entity_type, command) in self._aliases:
            if command in seen:                      # unreachable: alias() refuses cycles
                raise UnknownCommand(f"alias cycle through {entity_type}.{command}")
            seen.add(command)
            command = self._aliases[(entity_type, command)]
        return command

    def resolve(self, envelope: CommandEnvelope) -> tuple[Handler, CommandEnvelope]:
        """The handler and the envelope in its current form (canonical name, payload
        upcast to the handler's version)."""
        name = self.canonical(envelope.entity_type, envelope.command)
        handler = self._handlers.get((envelope.entity_type, name))
        if handler is None:
            raise UnknownCommand(f"no command {envelope.command!r} for entity type "
                                 f"{envelope.entity_type!r}")
        version = envelope.payload_version or handler.version
        if version > handler.version:
            raise ValidationError(f"{envelope.entity_type}.{name} payload version {version} "
                                  f"is newer than the handler's {handler.version}")
        payload = dict(envelope.payload or {})
        while version < handler.version:
            up = self._upcasters.get((envelope.entity_type, name, version))
            if up is None:
                raise ValidationError(f"{envelope.entity_type}.{name}: no upcaster from "
                                      f"payload version {version}")
            payload = up(dict(payload))
            version += 1
        return handler, envelope.with_(command=name, payload=payload,
                                       payload_version=handler.version)

    def names(self) -> list[tuple[str, str]]:
        return sorted(self._handlers)
