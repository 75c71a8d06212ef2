"""Command line: python -m bench [suite ...] [options]; with no suite, all of them."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# jupysql (lab suite) would otherwise try to phone home for telemetry and version checks.
os.environ.setdefault("PLOOMBER_STATS_ENABLED", "false")
os.environ.setdefault("PLOOMBER_VERSION_CHECK_DISABLED", "true")

from bench import DEFAULT_SUITES, SUITES, suite_module  # noqa: E402
from bench.harness import RESULTS_DIR, Options  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks: rustmemodb vs sqlite3, DuckDB, pandas. Ratios are "
        "time / fastest engine's time on the same row (1.00x = fastest).",
    )
    p.add_argument("suites", nargs="*", metavar="suite",
                   help=f"suites to run (default: {', '.join(DEFAULT_SUITES)}; "
                   "scale runs when named or with --scale-rows)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes and one repeat (smoke test); explicit flags still win")
    p.add_argument("--rows", type=int, help="main data size (default 1,000,000; quick 10,000)")
    p.add_argument("--scale-rows", type=int,
                   help="rows of the scale suite's sales table (default 5,000,000; quick: --rows); "
                   "giving it adds the scale suite to a default run")
    p.add_argument("--ops", type=int, help="operations per OLTP case (default 10,000; quick 200)")
    p.add_argument("--repeat", type=int, help="timed repeats, median reported (default 5; quick 1)")
    p.add_argument("--timeout", type=float, help="seconds allowed per timed call (default 120)")
    p.add_argument("--engines", help="comma-separated engine filter, e.g. rustmemodb,duckdb")
    p.add_argument("--no-gc", action="store_true", help="disable the garbage collector while timing")
    p.add_argument("--out-dir", type=Path, default=RESULTS_DIR,
                   help="where latest-<suite>.json is written (default bench/results)")
    p.add_argument("--no-save", action="store_true", help="do not write JSON results")
    p.add_argument("--list", action="store_true", help="list suites and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="print tracebacks of engine errors")
    return p.parse_args(argv)


def options_from(args: argparse.Namespace) -> Options:
    opts = Options.quick_defaults() if args.quick else Options()
    for field in ("rows", "scale_rows", "ops", "repeat", "timeout"):
        value = getattr(args, field)
        if value is not None:
            setattr(opts, field, value)
    opts.gc_off = args.no_gc
    opts.verbose = args.verbose
    opts.engines = tuple(e.strip() for e in args.engines.split(",")) if args.engines else None
    opts.out_dir = None if args.no_save else args.out_dir
    return opts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name in SUITES:
            print(f"{name:10} {suite_module(name).DESCRIPTION}")
        return 0
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}",
              file=sys.stderr)
        return 2
    opts = options_from(args)
    chosen = args.suites or list(DEFAULT_SUITES) + (["scale"] if args.scale_rows else [])
    for name in chosen:
        t0 = time.perf_counter()
        report = suite_module(name).run(opts)
        print(report.render())
        path = report.save()
        where = f", results in {path}" if path else ""
        print(f"\n({name}: {time.perf_counter() - t0:.1f} s{where})\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
