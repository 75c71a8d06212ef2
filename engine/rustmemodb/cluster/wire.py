"""What crosses between the coordinator and the shards: Arrow IPC bytes and error tuples.

Only plain data crosses (``bytes``, ``str``, tuples): engine objects never do, so a Dask
or Ray worker pickles nothing but these, and an error raised on a shard comes back as
``("error", sqlstate, message)`` and is rebuilt here as the matching PEP 249 exception.
"""
from __future__ import annotations

import pyarrow as pa

from .. import errors


def table_to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def ipc_to_table(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def error_tuple(exc: BaseException) -> tuple:
    state = getattr(exc, "sqlstate", None) or "XX000"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return ("error", state, str(message), getattr(exc, "hint", None),
            getattr(exc, "detail", None))


def raise_error(reply: tuple, shard: int | None = None):
    """Raise the PEP 249 exception a shard's ``("error", ...)`` reply stands for."""
    state, message = reply[1], reply[2]
    hint = reply[3] if len(reply) > 3 else None
    detail = reply[4] if len(reply) > 4 else None
    raise errors.sql_error(state, message, hint=hint, detail=detail)


def check(reply: tuple, shard: int | None = None) -> tuple:
    if reply[0] == "error":
        raise_error(reply, shard)
    return reply
