"""``python -m rustmemodb.server``: serve a database over the PostgreSQL protocol.

The ``rustmemodb server`` console command calls ``main(argv)`` too.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rustmemodb server",
                                description="PostgreSQL wire-protocol server for rustmemodb")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5432)
    p.add_argument("--db", metavar="PATH", help="database directory (default: in memory)")
    p.add_argument("--durability", default="sync", choices=("sync", "async", "none"))
    p.add_argument("--user", help="a SUPERUSER LOGIN role created (or given this password) "
                                  "on start; other roles come from CREATE ROLE")
    p.add_argument("--password", help="password (default: $RUSTMEMODB_PASSWORD)")
    p.add_argument("--auth", choices=("scram-sha-256", "md5", "password"),
                   default="scram-sha-256", help="password method (default scram-sha-256)")
    p.add_argument("--trust", action="store_true",
                   help="no authentication (loopback addresses only)")
    p.add_argument("--tls-cert", metavar="PEM", help="certificate: answer SSLRequest with TLS")
    p.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    p.add_argument("--dbname", default="rustmemodb", help="database name clients use")
    p.add_argument("--fsync", default="auto",
                   choices=("auto", "aio", "process", "replies", "uring", "thread"),
                   help="how --durability sync commits wait for their fsync without "
                        "blocking the server: io_uring (a durable write of the log "
                        "linked to the send of a point write's reply), a helper process, "
                        "Linux AIO, a thread (default: the first that works here, in "
                        "that order); replies: the helper process also writes the log "
                        "and sends durable point writes' replies")
    p.add_argument("--default-isolation", default="read committed",
                   choices=("read committed", "repeatable read", "serializable"),
                   help="isolation of clients' transactions that name none (default: "
                        "PostgreSQL's read committed)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import rustmemodb
    from . import serve
    password = args.password or os.environ.get("RUSTMEMODB_PASSWORD")
    if args.user and not password:
        print("rustmemodb server: --user needs --password or $RUSTMEMODB_PASSWORD",
              file=sys.stderr)
        return 2
    conn = rustmemodb.connect(args.db, args.durability) if args.db else rustmemodb.connect()
    users = {args.user: password} if args.user else None
    try:
        server = serve(conn, host=args.host, port=args.port, users=users,
                       auth="trust" if args.trust and not users else args.auth, dbname=args.dbname,
                       tls_cert=args.tls_cert, tls_key=args.tls_key,
                       fsync_helper={"auto": True, "thread": False}.get(args.fsync, args.fsync),
                       default_isolation=args.default_isolation)
    except ValueError as exc:   # how to authenticate is missing or wrong: a usage error
        print(f"rustmemodb server: {exc}\nhint: give --user NAME --password ..., a --db whose "
              "database has LOGIN roles, or --trust (loopback only)", file=sys.stderr)
        conn.close()
        return 2
    except OSError as exc:
        print(f"rustmemodb server: {exc}", file=sys.stderr)
        conn.close()
        return 1
    print(f"rustmemodb server listening on {args.host}:{server.port}", flush=True)
    # SIGTERM (``kill``, a service manager) stops the server as Ctrl-C does: clients
    # disconnected, the fsync helper process reaped (it holds the database's lock until
    # it exits), a checkpoint written, the directory released on exit.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        while server._thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        conn.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
