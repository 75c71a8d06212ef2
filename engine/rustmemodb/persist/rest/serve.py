"""``rustmemodb serve-rest``: serve the collections stored in a database directory,
and with ``--schemas DIR`` the zero-code JSON Schema collections of DIR (watched:
schemas_dir.py).

A database written by a Python program holds its collections' descriptions in
``_persist_collections`` (field names, SQL types, required flags, unique fields), not
the model classes, so the server re-attaches each collection with a ``CREATE TABLE``
model built from that description: the same columns and checks by type, without
the classes' own validators. (Re-attaching records that SQL model as the stored
description; the program's next ``app.collection(name, Model)`` records its own again.)
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..schema import ddl_type, quote


def attach_stored_collections(app) -> list[str]:
    """Register every collection described in the database; returns their names."""
    rows = app._read(lambda conn: conn.execute(
        'SELECT "name", "schema_version", "model" FROM "_persist_collections" '
        'ORDER BY "name"').fetchall())
    names = []
    for name, version, model in rows:
        if name in app._collections:
            names.append(name)
            continue
        cols = ", ".join(f"{quote(f)} {ddl_type(typ)}" + (" NOT NULL" if required else "")
                         for f, typ, required in model["fields"])
        app.collection(name, f"CREATE TABLE {quote(name)} ({cols})",
                       unique=[tuple(u) for u in model.get("unique", [])],
                       schema_version=version)
        names.append(name)
    return names


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rustmemodb serve-rest",
        description="Serve the persist collections of a database directory as REST routes "
                    "with an OpenAPI 3.1 document ({prefix}/_openapi.json, /docs).")
    p.add_argument("--db", metavar="PATH",
                   help="database directory (opened durable; its collections are served); "
                        "without it, an in-memory database")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (8000; 0 picks one)")
    p.add_argument("--prefix", default="/api", help="URL prefix of the routes (/api)")
    p.add_argument("--token", default=os.environ.get("RUSTMEMODB_REST_TOKEN"),
                   help="require 'Authorization: Bearer TOKEN' (default: "
                        "$RUSTMEMODB_REST_TOKEN, else no token)")
    p.add_argument("--auth", choices=("tokens",), default=None,
                   help="tokens: require an API token issued by 'rustmemodb token --db PATH "
                        "--user NAME'; each request runs as the token's database role "
                        "(GRANT/REVOKE apply; denied is 403)")
    p.add_argument("--schemas", metavar="DIR", help="zero-code: each DIR/*.json JSON "
                   "Schema is a collection; the directory is watched (new and changed "
                   "files take effect without a restart; incompatible changes are refused)")
    p.add_argument("--poll", type=float, default=0.5, metavar="SECONDS",
                   help="how often --schemas DIR is checked for changes (0.5)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.auth == "tokens" and args.token:
        print("rustmemodb serve-rest: --auth tokens and --token (or $RUSTMEMODB_REST_TOKEN) "
              "exclude each other", file=sys.stderr)
        return 2
    if args.schemas and not os.path.isdir(args.schemas):
        print(f"rustmemodb serve-rest: --schemas {args.schemas}: not a directory",
              file=sys.stderr)
        return 2
    try:
        import uvicorn

        from . import create_app
    except ImportError as exc:
        print(f"rustmemodb serve-rest needs the 'rest' extra (pip install "
              f"'rustmemodb[rest]'): {exc}", file=sys.stderr)
        return 2
    from .. import PersistApp
    from .schemas_dir import watch_schemas
    app = PersistApp.open(args.db)
    watcher = None
    try:
        api = create_app(app, args.prefix, token=args.token, auth=args.auth)
        if args.schemas:
            # The schema files first: a stored collection whose file is refused is then
            # served from its stored description (the old routes stay).
            watcher = watch_schemas(app, api, args.schemas, interval=args.poll,
                                    on_message=lambda m: print(f"rustmemodb serve-rest: {m}",
                                                               file=sys.stderr, flush=True))
        for name in attach_stored_collections(app):
            if name not in api.state.rest.collections:
                api.state.rest.mount(app[name])
        names = sorted(api.state.rest.collections)
        print(f"rustmemodb serve-rest: {len(names)} collection(s) "
              f"({', '.join(names) or 'none'}) on http://{args.host}:{args.port}"
              f"{api.openapi_url.rsplit('/', 1)[0]}", file=sys.stderr, flush=True)
        uvicorn.run(api, host=args.host, port=args.port, log_level="warning")
    finally:
        if watcher is not None:
            watcher.stop()
        app.close()
    return 0
