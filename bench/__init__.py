"""RustMemDB benchmark suites, side by side with sqlite3, DuckDB and pandas.

Run `python -m bench [suite ...] [--quick] [--rows N]`; see bench/README.md. Each suite
is a module with NAME, DESCRIPTION and run(opts) -> harness.Report.
"""

from __future__ import annotations

import importlib

SUITES = ("fork", "load", "analytics", "oltp", "lab", "durability", "frontend", "storage",
          "contention", "pauses", "branch", "persist", "live", "loadtest", "rest", "scale")
# Run when no suite is named; `scale` (5M rows) only when named or --scale-rows is given.
DEFAULT_SUITES = tuple(s for s in SUITES if s != "scale")


def suite_module(name: str):
    """The module implementing suite `name` (imported lazily: suites pull in big deps)."""
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")
    return importlib.import_module(f"bench.{name}")


def run_suite(name: str, opts):
    """Run one suite with `opts` (a harness.Options) and return its Report (not printed)."""
    return suite_module(name).run(opts)
