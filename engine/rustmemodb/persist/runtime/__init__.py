"""The persist entity runtime: commands as data, a journal, an outbox, projections.

``EntityRuntime(app)`` dispatches ``CommandEnvelope``s through a deterministic
``CommandRegistry`` (aliases for renamed commands, upcasters for old payloads);
each command's entity change, journal record, outbox messages and projection
updates commit in one transaction of the engine. See runtime.py.
"""
from .envelope import CommandEnvelope
from .journal import Journal, JournalRecord
from .outbox import Delivery, Dispatcher, Outbox, OutboxRecord
from .projection import Projection, ProjectionEvent, ProjectionWriter
from .registry import CommandRegistry, Handler, UnknownCommand
from .runtime import DELETE, CommandContext, CommandResult, EntityRuntime

__all__ = ["EntityRuntime", "CommandEnvelope", "CommandRegistry", "Handler", "UnknownCommand",
           "CommandContext", "CommandResult", "DELETE", "Journal", "JournalRecord", "Outbox",
           "OutboxRecord", "Delivery", "Dispatcher", "Projection", "ProjectionEvent",
           "ProjectionWriter"]
