"""Where the shards run: in this process (``local``), on Dask actors or on Ray actors.

A backend starts ``shards`` ``ShardHost`` objects and calls their methods: ``call`` on
one shard, ``call_all`` on several in parallel. Calls that get no answer within the
timeout, or whose worker died, raise ``OperationalError`` with SQLSTATE ``08006``.
"""
from __future__ import annotations

from ... import errors

DEFAULT_TIMEOUT = 60.0


def connection_failure(shard: int, why: str) -> errors.Error:
    return errors.sql_error("08006", f"cluster shard {shard} is unreachable: {why}",
                            hint="The worker hosting this shard died or stopped answering; "
                                 "reconnect once it is back (in-doubt transactions: "
                                 "ClusterConnection.recover()).")


def shard_path(path, shard: int) -> str | None:
    """Where durable shard ``shard`` of the cluster in directory ``path`` keeps its data."""
    import os
    return None if path is None else os.path.join(os.fspath(path), f"shard-{shard}")


def make_backend(kind: str, shards: int, address: str | None, timeout: float, path=None):
    if kind == "local":
        from .local import LocalBackend
        return LocalBackend(shards, timeout, path)
    if kind == "dask":
        from .dask import DaskBackend
        return DaskBackend(shards, address, timeout, path)
    if kind == "ray":
        from .ray import RayBackend
        return RayBackend(shards, address, timeout, path)
    raise errors.sql_error("22023", f'unknown cluster backend "{kind}"',
                           hint="Use 'local', 'dask' or 'ray'.")
