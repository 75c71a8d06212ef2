"""``%sql --serve-rest [PORT]`` and ``%sql --serve-rest stop``: the notebook database's
persist collections as REST routes (``rustmemodb.persist.rest``), so requests from
httpx, curl or a browser change the data the notebook's live grids show.

The app is the database's shared ``PersistApp.over(database)``: collections the
notebook registers on ``rustmemodb_lab.persist_app()`` (before or after the server
starts) are served with their models and ``@command`` methods; collections only
described in the database are served from that description. uvicorn runs on its
own thread and event loop (``persist.rest.background``), never the kernel's.

Only loopback is served, with a bearer token made up per server (shown once, and
in ``rustmemodb_lab.rest_server().headers``), for the same reason ``--serve`` has a
password: a notebook should not open its database to every local user.
"""

from __future__ import annotations

import secrets

from rustmemodb_lab.command import Command
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.views import Status

HOST = "127.0.0.1"


def serve_rest(cmd: Command, ctx: Context) -> Status:
    session = ctx.session
    if cmd.serve_rest == "stop":
        return _stop(session)
    port = _port(cmd.serve_rest)
    registry = session.registry
    name = session.current_name
    running = session.rest_servers.get(name)
    if running is not None and not running.closed:
        return Status(f"already serving {name} at {running.url}/api · %sql --serve-rest stop to stop it")
    try:
        from rustmemodb.persist.rest import create_app
        from rustmemodb.persist.rest.background import serve_in_thread
        from rustmemodb.persist.rest.serve import attach_stored_collections
    except ImportError as exc:
        raise LabUsageError(f"--serve-rest needs the rest extra (pip install 'rustmemodb[rest]'): {exc}") from None
    from rustmemodb.persist import PersistApp

    app = PersistApp.over(registry.branches[registry.main].database)
    attach_stored_collections(app)       # described in the database, not registered here
    token = secrets.token_urlsafe(16)
    api = create_app(app, token=token, follow=True)
    try:
        server = serve_in_thread(api, HOST, port, token=token)
    except OSError as exc:
        unfollow = getattr(api.state, "unfollow", None)
        if unfollow is not None:
            unfollow()
        raise LabUsageError(f"--serve-rest could not listen on {HOST}:{port}: {exc.strerror or exc}") from None
    server.app = app
    session.rest_servers[name] = server
    names = ", ".join(sorted(app._collections)) or "none yet"
    return Status(f"serving {name} as REST on {server.url}/api ({names}) · docs {server.url}/docs"
                  f" · Authorization: Bearer {token} · rustmemodb_lab.rest_server() has url and headers")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise LabUsageError(f"--serve-rest takes a port number (0 picks a free one) or 'stop', not {value!r}") from None
    if not 0 <= port <= 65535:
        raise LabUsageError(f"--serve-rest port must be between 0 and 65535, not {port}")
    return port


def _stop(session) -> Status:
    stopped = [name for name, server in session.rest_servers.items() if not server.closed]
    for server in session.rest_servers.values():
        server.close()
    session.rest_servers.clear()
    if not stopped:
        return Status("no REST server is running")
    return Status("stopped serving REST for " + ", ".join(stopped))
