"""The launcher: one console script, ``rustmemodb``, with a subcommand per tool.

    rustmemodb [cli] [PATH | postgresql://...]   the Textual SQL client (default)
    rustmemodb load-test [--duration-secs 10 ...] the synthetic point-query load test
    rustmemodb check PATH                         verify a database directory
    rustmemodb server [--host --port --db ...]    the PostgreSQL wire server
    rustmemodb serve-rest [--db PATH] [--schemas DIR] [--host --port] REST routes over persist collections

Exit status: 0 success, 1 the tool failed (load test could not run, damaged
database, ...), 2 usage errors (argparse's convention) and tools not available.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import loadtest

SUBCOMMANDS = ("cli", "load-test", "check", "server", "serve-rest")

# Tools the spec names whose engine parts do not exist yet: the subcommand exists so
# `rustmemodb server --help` explains the situation instead of "invalid choice".
NOT_BUILT: dict[str, str] = {}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rustmemodb",
        description="RustMemDB: an in-memory, PostgreSQL-flavoured SQL database. "
                    "Without a subcommand, starts the interactive client (cli).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    cli = sub.add_parser("cli", help="interactive SQL client in the terminal (the default)",
                         description="Textual SQL client: editor, result grid, history, "
                                     "branch commands (\\fork, \\checkout, \\diff, ...).")
    cli.add_argument("target", nargs="?", default=None,
                     help="database directory to open, or postgresql://user@host:port/db "
                          "(default: a new in-memory database)")
    cli.add_argument("--durability", choices=("sync", "async", "none"), default="sync",
                     help="with a directory: commit durability (default sync)")

    lt = sub.add_parser("load-test", help="synthetic point SELECT/UPDATE load test",
                        description="Fill table bench (id INTEGER PRIMARY KEY, payload TEXT) "
                                    "and run SELECT/UPDATE ... WHERE id = k with uniform k "
                                    "from several workers; report qps and latency.")
    loadtest.add_arguments(lt)

    ck = sub.add_parser("check", help="verify a database directory without modifying it",
                        description="Verify checksums, manifest and write-ahead log of a "
                                    "database directory. Exit status 0 healthy, 1 damaged.")
    ck.add_argument("path", help="the database directory")
    ck.add_argument("--json", action="store_true", help="print the report as JSON")

    sub.add_parser("server", help="PostgreSQL wire-protocol server (psql, psycopg, asyncpg)",
                   add_help=False)   # its own parser (rustmemodb.server) reads the options
    sub.add_parser("serve-rest", help="REST routes and OpenAPI over the persist collections "
                   "of a database directory", add_help=False)   # persist.rest.serve parses

    for name, what in NOT_BUILT.items():
        p = sub.add_parser(name, help=f"not available: {what}",
                           description=f"Not available: {what}.")
        p.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `rustmemodb`, `rustmemodb ./data`, `rustmemodb postgresql://...` all mean `cli`.
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "cli")
    if argv[0] == "server":
        from ..server import main as server_main
        return server_main(argv[1:])
    if argv[0] == "serve-rest":
        from ..persist.rest.serve import main as serve_rest_main
        return serve_rest_main(argv[1:])
    parser = build_parser()
    if argv[0] in NOT_BUILT and not {"-h", "--help"} & set(argv[1:]):
        # Whatever options were given (--host, --port, ...): the tool itself is missing.
        print(f"rustmemodb {argv[0]}: not available: {NOT_BUILT[argv[0]]}.", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.command in NOT_BUILT:
        print(f"rustmemodb {args.command}: not available: {NOT_BUILT[args.command]}.",
              file=sys.stderr)
        return 2
    if args.command == "load-test":
        return loadtest.run_command(args, parser)
    if args.command == "check":
        from .check import run_check
        return run_check(args.path, as_json=args.json)
    return _run_tui(args)


def _run_tui(args: argparse.Namespace) -> int:
    try:
        from .tui.app import run_app
    except ImportError as exc:
        print(f"rustmemodb cli needs the 'cli' extra (pip install 'rustmemodb[cli]'): {exc}",
              file=sys.stderr)
        return 2
    return run_app(args.target, durability=args.durability)


if __name__ == "__main__":
    sys.exit(main())
