"""``%sql --serve [PORT]`` and ``%sql --serve stop``: the notebook's database over the
PostgreSQL protocol, so psql, a BI tool or pandas in another process can query it.

The server (``rustmemodb.serve``) runs on its own thread and event loop, never on
the kernel's, so a synchronous client in the same kernel works too. The database
name a client asks for picks the branch (``psql -d what_if``), including branches
forked after the server started: the branch list is read on every connect.

Only loopback is served, with SCRAM-SHA-256 and a password made up per server
(shown once, in the status line): a notebook should not open a database to the
network by accident, nor to every local user without a password.
"""

from __future__ import annotations

import secrets

from rustmemodb_lab.command import Command
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.views import Status

HOST = "127.0.0.1"
USER = "lab"


def serve(cmd: Command, ctx: Context) -> Status:
    session = ctx.session
    if cmd.serve == "stop":
        return _stop(session)
    port = _port(cmd.serve)
    registry = session.registry          # opens the default connection on first use
    name = session.current_name
    running = session.servers.get(name)
    if running is not None and not running[0].closed:
        return Status(f"already serving {name} at {_dsn(*running, registry.current)}"
                      " · %sql --serve stop to stop it")
    from rustmemodb.server import serve as start

    password = secrets.token_urlsafe(12)
    main = registry.branches[registry.main]
    try:
        server = start(main.database, host=HOST, port=port, users={USER: password},
                       branches=lambda: {n: b.database for n, b in list(registry.branches.items())
                                         if n != registry.main},
                       dbname=registry.main)
    except OSError as exc:
        raise LabUsageError(f"--serve could not listen on {HOST}:{port}: {exc.strerror or exc}") from None
    session.servers[name] = (server, password)
    return Status(f"serving {name} on {HOST}:{server.port} · {_dsn(server, password, registry.current)}"
                  " · the database name picks the branch")


def _dsn(server, password: str, branch: str) -> str:
    return f"postgresql://{USER}:{password}@{HOST}:{server.port}/{branch}"


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise LabUsageError(f"--serve takes a port number (0 picks a free one) or 'stop', not {value!r}") from None
    if not 0 <= port <= 65535:
        raise LabUsageError(f"--serve port must be between 0 and 65535, not {port}")
    return port


def _stop(session) -> Status:
    stopped = [name for name, (server, _) in session.servers.items() if not server.closed]
    for server, _ in session.servers.values():
        server.close()
    session.servers.clear()
    if not stopped:
        return Status("no server is running")
    return Status("stopped serving " + ", ".join(stopped))
