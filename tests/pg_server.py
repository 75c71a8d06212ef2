"""A throwaway PostgreSQL 15 server for the test session (the differential oracle).

The suite compares rustmemodb with a real PostgreSQL: the sqllogictest files under
``tests/sql`` are replayed on it (``tests/test_sql_logic_pg.py``), and the differential
tests run the same statements on both.  ``ThrowawayPostgres`` initdb's a cluster in a
temporary directory, starts it listening only on a unix socket inside that directory
(no TCP port to collide with other test runs) and removes everything on ``stop()``.

PostgreSQL refuses to run as root; tests often do (containers, CI), so then the
cluster is owned and run by the ``postgres`` system user when it exists, else by
``nobody``.  The server is tuned for a test oracle, not durability (``fsync=off``).

``$RUSTMEMODB_TEST_PG_DSN`` (or the older ``$DIFFERENTIAL_PG_DSN``) points the suite
at an existing server instead.  Without psycopg or the server binaries the PostgreSQL
comparisons skip with the reason; with them, a server that fails to start is an error.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
SUPERUSER = "postgres"          # the role initdb creates (``-U``), whoever runs the server


def find_bin_dir() -> str | None:
    """The directory holding ``initdb``/``pg_ctl``: PostgreSQL 15 first, then any."""
    env = os.environ.get("RUSTMEMODB_TEST_PG_BIN")
    candidates = ([env] if env else []) + list(BIN_DIRS) + \
        sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in candidates:
        if d and os.path.exists(os.path.join(d, "initdb")) and \
                os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    return None


def _server_user() -> str | None:
    """Whom the server runs as: None (the current user) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists "
                       "to own the throwaway PostgreSQL cluster")


class ThrowawayPostgres:
    """One PostgreSQL cluster in a temp dir; ``start()`` then ``dsn``; ``stop()``."""

    def __init__(self, bin_dir: str) -> None:
        self.bin_dir = bin_dir
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="rmdb-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.started = False

    @property
    def dsn(self) -> str:
        return f"host={self.root} port=5432 user={SUPERUSER} dbname=postgres"

    def _run(self, *args: str) -> None:
        out = subprocess.run([os.path.join(self.bin_dir, args[0]), *args[1:]],
                             user=self.user, capture_output=True, text=True, cwd=self.root)
        if out.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({out.returncode}):\n{out.stdout}\n"
                               f"{out.stderr}\n{log}")

    def start(self) -> "ThrowawayPostgres":
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o755)      # the (root) test process reaches the socket inside
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
        options = (f"-k {self.root} -c listen_addresses='' -c port=5432 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB "
                   "-c max_connections=40 -c TimeZone=UTC")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")
        self.started = True
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import psycopg  # noqa: PLC0415
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.dsn, autocommit=True).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def unavailable_reason() -> str | None:
    """Why PostgreSQL comparisons cannot run here, or None when they can."""
    if os.environ.get("RUSTMEMODB_TEST_PG_DSN") or os.environ.get("DIFFERENTIAL_PG_DSN"):
        return None
    import importlib.util
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install 'psycopg[binary]', the test extra)"
    if find_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    return None


def external_dsn() -> str | None:
    return os.environ.get("RUSTMEMODB_TEST_PG_DSN") or os.environ.get("DIFFERENTIAL_PG_DSN")


def as_url(dsn: str) -> str:
    """A keyword DSN (``host=... user=...``) as the ``postgresql://`` URL that clients taking
    only URLs (SQLAlchemy, the CLI's ``--dsn`` and TUI target) need; a URL is returned as is."""
    if "://" in dsn:
        return dsn
    from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415

    info = conninfo_to_dict(dsn)
    user = info.get("user", SUPERUSER)
    if info.get("password"):
        user += f":{info['password']}"
    query = f"host={info['host']}" if info.get("host") else ""
    if info.get("port") and str(info["port"]) != "5432":
        query += f"&port={info['port']}"
    return f"postgresql://{user}@/{info.get('dbname', 'postgres')}?{query}"


class TcpForward:
    """A loopback TCP port forwarding each connection to the throwaway server's unix
    socket, for clients that cannot reach a unix socket (pgjdbc). ``port`` once made;
    ``close()`` stops accepting (open connections end with their clients)."""

    def __init__(self, dsn: str) -> None:
        from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415

        info = conninfo_to_dict(dsn)
        self._path = os.path.join(info["host"], f".s.PGSQL.{info.get('port', 5432)}")
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return                  # closed
            server = socket.socket(socket.AF_UNIX)
            server.connect(self._path)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._listener.close()


def _pump(src, dst) -> None:
    """Copy bytes from ``src`` to ``dst`` until either side closes, then close both."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
