"""PostgreSQL wire-protocol server for a rustmemodb database.

    >>> import rustmemodb
    >>> conn = rustmemodb.connect()
    >>> server = rustmemodb.serve(conn, users={"admin": "secret"})   # doctest: +SKIP
    >>> # psql -h 127.0.0.1 -p {server.port} -U admin
    >>> server.close()                                               # doctest: +SKIP

The server runs on its own thread with its own asyncio event loop, never on the
caller's: a notebook kernel that starts a server and then connects to it with a
synchronous client (psycopg, pandas) would otherwise deadlock. Each client gets
its own engine connection; the startup packet's database name picks the
database: ``main`` / the server's ``dbname`` / the user name select the database
served, and the names in ``branches`` select those databases (a notebook's forks).

Modules: ``messages`` (framing), ``pgtypes`` (OIDs and value formats), ``auth``
(SCRAM), ``session`` (one client), ``durable`` (group commit off the loop), ``cursors``
(DECLARE / FETCH), this one (the listener and its thread) and
``__main__`` (the console command).
"""
from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import errors

__all__ = ["serve", "Server", "main"]

SERVER_VERSION = "15.0 (rustmemodb)"
_LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _new_loop() -> asyncio.AbstractEventLoop:
    """The server's own event loop: uvloop's when installed (its socket I/O costs a
    fraction of asyncio's per message), else asyncio's. Only this thread's loop: no
    process-wide event loop policy is set."""
    if os.environ.get("RUSTMEMODB_SERVER_LOOP", "auto") != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _as_database(obj: Any):
    from ..api.connection import Connection
    from ..database import Database
    if isinstance(obj, Database):
        return obj
    if isinstance(obj, Connection):
        return obj.database
    raise TypeError(f"serve() needs a rustmemodb Database or Connection, got {type(obj).__name__}")


class Server:
    """A running server: ``port``, ``close()``; a context manager too."""

    def __init__(self, database, host: str = "127.0.0.1", port: int = 0,
                 users: dict[str, str] | None = None, auth: str | None = None,
                 branches: dict[str, Any] | None = None, dbname: str = "rustmemodb",
                 max_message_size: int = 64 << 20, workers: int = 16,
                 settings: dict[str, str] | None = None, tls_cert: str | None = None,
                 tls_key: str | None = None, fsync_helper: bool | str = True,
                 default_isolation: str = "read committed") -> None:
        from ..txn import isolation
        self.database = _as_database(database)
        # the isolation of a client's transactions unless it asks for one: PostgreSQL's
        # READ COMMITTED (the embedded API's default is REPEATABLE READ: README)
        self.default_isolation = isolation.normalize(default_isolation)
        # A callable is asked on every connect, so branches made after the server
        # started (a notebook's later forks) are served too.
        self._branches = branches if callable(branches) else \
            {name: _as_database(db) for name, db in (branches or {}).items()}
        self.host = host
        self.port = port
        self.dbname = dbname
        self.max_message_size = max_message_size
        self.settings = dict(settings or {})
        has_roles = self.database.head.auth.active
        auth = auth or ("scram-sha-256" if users or has_roles else None)
        if auth == "trust":
            if not _is_loopback(host):
                raise ValueError("auth='trust' is only allowed on a loopback address")
            self.verifiers = None
        elif auth in ("scram-sha-256", "md5", "password"):
            if not users and not has_roles:
                raise ValueError(f"auth={auth!r} needs users={{'name': 'password'}} or a "
                                 "database with roles (CREATE ROLE ... LOGIN PASSWORD ...)")
            from .auth import Verifiers, ensure_users
            if users:       # the configured users become (or update) SUPERUSER roles
                ensure_users(self.database, users, auth)
            self.verifiers = Verifiers(self.database)
        elif auth is None:
            raise ValueError("serve() needs users={'name': 'password'} (SCRAM-SHA-256), "
                             "a database with roles, or auth='trust' on a loopback address")
        else:
            raise ValueError(f"unknown auth method {auth!r}: 'scram-sha-256', 'md5', "
                             "'password' or 'trust'")
        self.auth = auth
        self.tls = None
        if tls_cert or tls_key:
            if not (tls_cert and tls_key):
                raise ValueError("TLS needs both tls_cert and tls_key")
            import ssl
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(tls_cert, tls_key)
        self.executor = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="rustmemodb-server")
        from .durable import DurabilityWaiter
        # group commit of loop-run statements; ``fsync_helper=False``: by a thread only,
        # True: a helper process or AIO (the first that works), or "aio" / "process"
        self.durability = DurabilityWaiter(helpers=fsync_helper)
        self._sessions: dict[int, Any] = {}
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.closed = False

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> "Server":
        self._thread = threading.Thread(target=self._run, name=f"rustmemodb-server:{self.port}",
                                        daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self.executor.shutdown(wait=False)
            raise self._error
        return self

    def _run(self) -> None:
        loop = _new_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._listen())
        except BaseException as exc:  # noqa: BLE001 - reported to start()'s caller
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _listen(self) -> None:
        # asyncio.start_server's reader and writer, with the session's own protocol:
        # it answers a point SELECT's messages as they arrive (session.Protocol).
        from .session import Protocol
        loop = asyncio.get_running_loop()

        def connection() -> Protocol:
            return Protocol(asyncio.StreamReader(limit=1 << 16, loop=loop), self._accept,
                            loop=loop)
        self._listener = await loop.create_server(connection, self.host, self.port)
        self.port = self._listener.sockets[0].getsockname()[1]
        self.durability.prepare(self.database)    # its fsync helper, if it gets one

    async def _accept(self, reader, writer) -> None:
        from .session import ClientSession
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await ClientSession(self, reader, writer).run()
        finally:
            self._tasks.discard(task)

    def close(self) -> None:
        """Stop listening, disconnect every client (rolling back their transactions)."""
        if self.closed:
            return
        self.closed = True
        loop = self._loop
        if loop is not None and loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                fut.result(timeout=30)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.durability.close()
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def _shutdown(self) -> None:
        self._listener.close()
        for session in list(self._sessions.values()):
            if session.conn is not None:
                session.conn.interrupt()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._listener.wait_closed()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "serving"
        return f"<rustmemodb Server {self.host}:{self.port} {state}>"

    @property
    def branches(self) -> dict[str, Any]:
        """``{name: Database}`` served besides the main database, as of now."""
        source = self._branches
        if not callable(source):
            return source
        return {name: _as_database(db) for name, db in source().items()}

    # ---- used by sessions (on the server's loop) -----------------------------------------------
    def _resolve(self, name: str, user: str):
        branches = self.branches
        if name in branches:
            return branches[name]
        if name in ("main", self.dbname, "postgres", user):
            return self.database
        raise errors.sql_error("3D000", f'database "{name}" does not exist',
                               hint="Databases served: "
                                    + ", ".join(["main", self.dbname, *branches]))

    def _register(self, session) -> tuple[int, int]:
        while True:
            pid = secrets.randbelow(2**31 - 2) + 1
            if pid not in self._sessions:
                break
        self._sessions[pid] = session
        return pid, secrets.randbelow(2**32) - 2**31

    def _forget(self, session) -> None:
        if self._sessions.get(session.pid) is session:
            del self._sessions[session.pid]

    def _cancel(self, pid: int, secret: int) -> None:
        session = self._sessions.get(pid)
        # Constant-time comparison: the secret is the only thing guarding cancellation.
        if session is not None and secrets.compare_digest(
                secret.to_bytes(4, "big", signed=True), session.secret.to_bytes(4, "big", signed=True)):
            if session.busy and session.conn is not None:
                session.conn.interrupt()

    def parameter_status(self, startup: dict[str, str], superuser: bool = True
                         ) -> dict[str, str]:
        status = {
            "server_version": SERVER_VERSION,
            "server_encoding": "UTF8",
            "client_encoding": "UTF8",
            "DateStyle": "ISO, MDY",
            "TimeZone": "UTC",
            "IntervalStyle": "postgres",
            "integer_datetimes": "on",
            "standard_conforming_strings": "on",
            "is_superuser": "on" if superuser else "off",
            "session_authorization": startup.get("user", ""),
            "application_name": startup.get("application_name", ""),
        }
        status.update(self.settings)
        return status


def serve(database, host: str = "127.0.0.1", port: int = 0, users: dict[str, str] | None = None,
          **options) -> Server:
    """Serve ``database`` (a Database or Connection) over the PostgreSQL protocol.

    Returns once listening (``port=0`` picks a free port: read ``Server.port``).
    Clients log in as the database's roles (CREATE ROLE ... LOGIN PASSWORD ...);
    ``users={'name': 'password'}`` creates those as SUPERUSER roles (or sets their
    password) first. SCRAM-SHA-256 is the default (``auth='md5'`` or ``'password'``
    for old clients); ``auth='trust'`` admits anyone and is refused off loopback.
    ``branches={'what_if': fork}`` serves other databases by name
    (``psql -d what_if``); a callable returning such a mapping is asked on every
    connect (a notebook's branches, including forks made later). ``tls_cert``/``tls_key`` (PEM files) answer SSLRequest
    with TLS; without them clients are told ``N`` and continue in clear. A durable
    database in sync mode has its commits' fsyncs done by io_uring, an fsync helper
    process or Linux AIO, whichever works first (server/durable.py): io_uring
    (``durability/uring_sync.py``, the ``liburing`` package) writes a durable point
    write's log frames and, linked to that write, sends its reply, with no process or
    thread of ours woken; ``fsync_helper="uring"``, ``"aio"`` or ``"process"`` picks one,
    ``False`` waits for fsyncs on a thread instead; ``"replies"``: the helper process
    that also writes the log's frames and sends durable point writes' replies.
    ``default_isolation``: of clients' transactions that name none (what
    ``default_transaction_isolation`` starts as and RESET returns to): ``"read
    committed"``, as PostgreSQL's, or ``"repeatable read"`` (the embedded default)."""
    return Server(database, host, port, users, **options).start()


def main(argv: list[str] | None = None) -> int:
    from .__main__ import main as _main
    return _main(argv)
