"""The notebook's side of ``%sql --serve-rest``: the shared persist app over the
notebook's database, and the running REST server's URL and headers."""

from __future__ import annotations

from typing import Any


def _session() -> Any:
    from IPython import get_ipython

    from rustmemodb_lab.errors import LabUsageError

    ip = get_ipython()
    session = getattr(ip, "_rustmemodb_lab_session", None) if ip is not None else None
    if session is None:
        raise LabUsageError("this needs a notebook with %load_ext rustmemodb_lab")
    return session


def persist_app(branch: str | None = None) -> Any:
    """``PersistApp.over(database)`` for the notebook's branch ``branch`` (current when
    ``None``): collections registered on it live in the notebook's database, so
    ``%%sql`` queries them, live grids follow them and ``--serve-rest`` serves them."""
    from rustmemodb.persist import PersistApp

    registry = _session().registry
    return PersistApp.over((registry.get(branch) if branch is not None else registry.active).database)


def rest_server(name: str | None = None) -> Any:
    """The running ``--serve-rest`` server of connection ``name`` (current when ``None``):
    ``.url``, ``.headers`` (the bearer token), ``.app``."""
    from rustmemodb_lab.errors import LabUsageError

    session = _session()
    server = session.rest_servers.get(name or session.current_name)
    if server is None or server.closed:
        raise LabUsageError("no REST server is running: %sql --serve-rest [PORT]")
    return server
