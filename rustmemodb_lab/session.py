"""The lab's state inside one IPython shell: open connections and their branches.

A shell has one ``LabSession``. It owns every open connection under a name
(``default`` is an embedded in-memory database created on first use;
``--connect PATH`` adds more, ``--connection NAME`` switches), and each
connection owns a :class:`~rustmemodb_lab.branches.BranchRegistry`.

It is also where notebook variables become tables: every connection (forks
included) gets a *replacement scan*, a callback the engine consults when a
table name is not in its catalog. It answers with the pandas DataFrame or
Arrow table of that name from the user namespace, which the engine reads
zero-copy through Arrow as a read-only table. Real tables always win over
variables of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rustmemodb_lab.branches import BranchRegistry, check_name
from rustmemodb_lab.config import RustmemodbLab
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.frames import to_engine_table
from rustmemodb_lab.snippets import SnippetStore

MEMORY = ":memory:"


class LabSession:
    """Open connections by name, the current one, and the variable bridge."""

    def __init__(self, config: RustmemodbLab, user_ns: Callable[[], Mapping[str, Any]]) -> None:
        self.config = config
        self._user_ns = user_ns
        self.connections: dict[str, BranchRegistry] = {}
        self.paths: dict[str, str] = {}
        self.external: dict[str, Any] = {}  # name -> connections.ExternalConnection
        self.current_name: str | None = None
        self.snippets = SnippetStore()
        self.servers: dict[str, tuple[Any, str]] = {}  # name -> (rustmemodb Server, password)
        self.rest_servers: dict[str, Any] = {}  # name -> persist.rest BackgroundServer
        # set by the sidebar comm (sidebar.py) once the JupyterLab extension has spoken
        self.labextension_connected = False

    # -- connections -------------------------------------------------------------
    @property
    def registry(self) -> BranchRegistry:
        """The current connection's branches (opens ``default`` on first use)."""
        if self.current_name is None:
            self.connect(MEMORY, alias="default")
        if self.current_name in self.external:
            ext = self.external[self.current_name]
            raise LabUsageError(
                f"the current connection {ext.name} is {ext.dialect} through SQLAlchemy, not rustmemodb; "
                f"switch with %sql --connection {self._rustmemodb_name()}"
            )
        registry = self.connections[self.current_name]
        registry.undo_depth = self.config.undo_depth
        return registry

    def connect(self, path: str, alias: str | None = None) -> str:
        """Open ``path`` (or a new in-memory database) as ``alias`` and switch to it."""
        name = alias or self._default_alias(path)
        check_name(name)
        if name in self.connections or name in self.external:
            raise LabUsageError(f"a connection named {name!r} is already open; pick another --alias")
        conn = open_connection(path)
        self.attach(conn)
        self.connections[name] = BranchRegistry(
            conn, main=self.config.default_branch, undo_depth=self.config.undo_depth, attach=self.attach
        )
        self.paths[name] = path
        self.current_name = name
        return name

    def connect_cluster(self, backend: str, shards: int, alias: str | None = None) -> str:
        """Open a sharded database (``rustmemodb.cluster``) as ``alias`` and switch to it."""
        from rustmemodb import Error, cluster

        name = alias or self._unique(f"{backend}{shards}")
        check_name(name)
        if name in self.connections or name in self.external:
            raise LabUsageError(f"a connection named {name!r} is already open; pick another --alias")
        try:
            conn = cluster.connect(backend, shards=shards)
        except ImportError as exc:
            raise LabUsageError(f"--cluster {backend} needs {exc.name}: pip install "
                                f"'rustmemodb[cluster-{backend}]'") from None
        except Error as exc:
            raise LabUsageError(str(exc)) from None
        self.connections[name] = BranchRegistry(
            conn, main=self.config.default_branch, undo_depth=self.config.undo_depth, attach=self.attach
        )
        self.paths[name] = f"cluster:{backend}:{shards}"
        self.current_name = name
        return name

    @property
    def current_external(self) -> Any:
        """The current connection if it is an external (SQLAlchemy) one, else None."""
        return self.external.get(self.current_name) if self.current_name else None

    def _rustmemodb_name(self) -> str:
        return next(iter(self.connections), "default")

    def connect_url(self, url: str, alias: str | None = None) -> Any:
        """Open (or switch to, if already open) the external database at ``url``."""
        from rustmemodb_lab.connections import ExternalConnection, default_name

        for ext in self.external.values():
            if ext.url == url and alias in (None, ext.name):
                self.current_name = ext.name
                return ext
        name = alias or self._unique(default_name(url))
        check_name(name)
        if name in self.connections or name in self.external:
            raise LabUsageError(f"a connection named {name!r} is already open; pick another --alias")
        ext = ExternalConnection(name, url)
        self.external[name] = ext
        self.current_name = name
        return ext

    def _unique(self, name: str) -> str:
        n, candidate = 1, name
        while candidate in self.connections or candidate in self.external:
            n += 1
            candidate = f"{name}{n}"
        return candidate

    def switch(self, name: str) -> Any:
        if name == "default" and not self.connections and name not in self.external:
            self.connect(MEMORY, alias="default")  # never opened: a jupysql user started with a URL
        if name not in self.connections and name not in self.external:
            known = ", ".join([*self.connections, *self.external]) or "none"
            raise LabUsageError(f"no open connection named {name!r}; open: {known}")
        self.current_name = name
        return self.connections.get(name) or self.external[name]

    def _default_alias(self, path: str) -> str:
        if path == MEMORY:
            n = 1 + sum(p == MEMORY for p in self.paths.values())
            return "default" if n == 1 else f"memory{n}"
        return Path(path).stem or "db"

    def close(self) -> None:
        """Close every connection (used when the extension is unloaded)."""
        for server, _ in self.servers.values():
            server.close()
        self.servers.clear()
        for rest in self.rest_servers.values():
            rest.close()
        self.rest_servers.clear()
        for registry in self.connections.values():
            for branch in registry.branches.values():
                close = getattr(branch.conn, "close", None)
                if close:
                    close()
        for ext in self.external.values():
            ext.close()
        self.external.clear()
        self.connections.clear()
        self.current_name = None

    # -- the variable bridge -------------------------------------------------------
    def attach(self, conn: Any) -> Any:
        """Give ``conn`` the replacement scan over the user namespace."""
        try:
            conn.replacement_scan = self.scan
        except AttributeError:
            pass  # an engine without replacement scans: variables are not tables
        return conn

    def scan(self, name: str) -> Any:
        """The DataFrame / Arrow table variable called ``name`` (case-insensitive), as
        Arrow, or None; a column the engine cannot read is a SQL error naming it."""
        ns = self._user_ns()
        value = ns.get(name)
        if value is None:
            lowered = name.lower()
            matches = [v for k, v in ns.items() if k.lower() == lowered and not k.startswith("_")]
            value = matches[0] if len(matches) == 1 else None
        table = as_table(value)
        return None if table is None else to_engine_table(table, name)


def as_table(value: Any) -> Any:
    """``value`` if it is table data (pandas / Arrow), polars via Arrow; else None."""
    if value is None:
        return None
    module = type(value).__module__.split(".")[0]
    if module == "pandas" and type(value).__name__ == "DataFrame":
        return value
    if module == "pyarrow":
        import pyarrow as pa

        if isinstance(value, pa.Table):
            return value
        if isinstance(value, pa.RecordBatch):
            return pa.Table.from_batches([value])
        return None
    if module == "polars" and type(value).__name__ == "DataFrame":
        return value.to_arrow()
    return None


def open_connection(path: str) -> Any:
    """``rustmemodb.connect`` with a clear message when durability is missing."""
    import rustmemodb

    if path == MEMORY:
        return rustmemodb.connect()
    try:
        return rustmemodb.connect(path)
    except (ImportError, TypeError, NotImplementedError, getattr(rustmemodb, "NotSupportedError", TypeError)) as exc:
        raise LabUsageError(
            f"cannot open {path!r}: this rustmemodb build has no file-backed (durable) "
            f"databases yet ({exc}); use --connect :memory: for another in-memory one"
        ) from exc
