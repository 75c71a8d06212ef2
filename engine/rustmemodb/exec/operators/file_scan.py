"""Operators for files: reading (``LogicalFileScan``) and ``COPY ... TO`` (``LogicalCopyTo``).

The binder has resolved the paths and checked them against the file root, and fixed
the column names and types; these only call exec/files.py.
"""
from __future__ import annotations

import pyarrow as pa

from ...plan.logical import LogicalCopyTo, LogicalFileScan
from .. import files
from ..run import operator, run_plan


@operator(LogicalFileScan)
def file_scan(node: LogicalFileScan, ctx) -> pa.Table:
    return files.read_files(node.format, node.paths, node.columns, dict(node.options))


@operator(LogicalCopyTo)
def copy_to(node: LogicalCopyTo, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    files.write_file(node.format, node.path, table, node.child.columns, dict(node.options))
    ctx.rowcount = table.num_rows
    return pa.table({})
