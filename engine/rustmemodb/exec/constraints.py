"""Constraint checks on rows about to be written: NOT NULL, CHECK, FOREIGN KEY.

UNIQUE/PRIMARY KEY are enforced by the indexes themselves (storage/index.py).
Each check runs before anything is written, so a violating statement changes
nothing. Two entry points per check: one over Python row tuples (row path),
one over an Arrow table (bulk path). Registries let other modules add checks
(CHECK constraints, foreign keys) without this module knowing them.
"""
from __future__ import annotations

import pyarrow as pa

from .. import errors

# Extra checks: fn(txn, schema, rows=None, table=None, ctx=None) -> None (raise on violation).
ROW_CHECKS: list = []
# Actions before rows are deleted: fn(txn, schema, rows, ctx) -> None (restrict/cascade).
DELETE_ACTIONS: list = []
# Checks before rows are updated: fn(txn, schema, old_rows, new_rows, ctx) -> None.
UPDATE_ACTIONS: list = []


def not_null_violation(schema, col: int) -> errors.Error:
    return errors.sql_error(
        "23502", f'null value in column "{schema.columns[col].name}" of relation '
                 f'"{schema.name}" violates not-null constraint',
        hint=f"Give column '{schema.columns[col].name}' a value.")


def check_rows(txn, schema, rows: list[tuple], ctx) -> None:
    required = [i for i, c in enumerate(schema.columns) if c.not_null]
    for row in rows:
        for i in required:
            if row[i] is None:
                raise not_null_violation(schema, i)
    for check in ROW_CHECKS:
        check(txn, schema, rows=rows, ctx=ctx)


def check_table(txn, schema, table: pa.Table, ctx) -> None:
    for i, c in enumerate(schema.columns):
        if c.not_null and table.column(i).null_count:
            raise not_null_violation(schema, i)
    for check in ROW_CHECKS:
        check(txn, schema, table=table, ctx=ctx)


def before_delete(txn, schema, rows: list[tuple], ctx) -> None:
    for action in DELETE_ACTIONS:
        action(txn, schema, rows, ctx)


def before_update(txn, schema, old_rows: list[tuple], new_rows: list[tuple], ctx) -> None:
    for action in UPDATE_ACTIONS:
        action(txn, schema, old_rows, new_rows, ctx)
