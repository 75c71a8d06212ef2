"""Smoke test of bench/durability.py at tiny sizes: every cell has a number."""
from __future__ import annotations

from bench import durability
from bench.harness import Options


def test_durability_bench_runs_quick():
    report = durability.run(Options.quick_defaults(rows=3000, ops=30, out_dir=None))
    for table in report.tables:
        for row in table.rows:
            assert not row.errors, (table.title, row.case, row.errors)
            assert set(row.values) == {"rustmemodb", "sqlite3"}, (table.title, row.case)
