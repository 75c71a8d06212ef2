"""``generate_series`` values: integers, or dates/timestamps stepped by an interval.

Shared by the binder (constant arguments: the series is built once, at bind time)
and the table-function operator (arguments known per row under LATERAL).
"""
from __future__ import annotations

import datetime as dt

from ...lazy_import import arrow as pa, numpy as np

from ... import errors, types
from ... import statement_limits as limits
from .arith import add_interval_to

MAX_ROWS = 10_000_000


def series_type(arg_types: list[str]) -> str | None:
    """The element type of ``generate_series(<arg_types>)``, or None if there is none."""
    if len(arg_types) not in (2, 3):
        return None
    if all(t in (types.INTEGER, types.NULL) for t in arg_types):
        return types.INTEGER
    if arg_types[0] in (types.DATE, types.TIMESTAMP) and \
            arg_types[1] in (types.DATE, types.TIMESTAMP, types.NULL) and \
            len(arg_types) == 3 and arg_types[2] == types.INTERVAL:
        return types.TIMESTAMP
    if arg_types[0] == types.TIMESTAMPTZ and arg_types[1] in (types.TIMESTAMPTZ, types.NULL) \
            and len(arg_types) == 3 and arg_types[2] == types.INTERVAL:
        return types.TIMESTAMPTZ      # steps of days and months in the session's zone
    return None


def generate_series(values: list, element_type: str) -> pa.Array:
    """The series for argument values (None anywhere: no rows), as an Arrow array."""
    if any(v is None for v in values):
        return pa.array([], types.arrow_type(element_type))
    if element_type == types.INTEGER:
        start, stop = values[0], values[1]
        step = values[2] if len(values) == 3 else 1
        if step == 0:
            raise errors.sql_error("22023", "step size cannot equal zero")
        end = stop + (1 if step > 0 else -1)
        count = max(0, (end - start + step - (1 if step > 0 else -1)) // step)
        limits.charge(8 * count, "generate_series")      # max_statement_memory (53200)
        if count > 1 << 24:   # big: built in slices, so interrupt/timeout act between them
            parts, first = [], start
            while first != end and (first < end) == (step > 0):
                last = first + step * (1 << 22)
                last = min(last, end) if step > 0 else max(last, end)
                parts.append(np.arange(first, last, step, dtype=np.int64))
                first = last
                limits.check()
            return pa.array(np.concatenate(parts))
        return pa.array(np.arange(start, end, step, dtype=np.int64))
    cur = values[0] if isinstance(values[0], dt.datetime) else \
        dt.datetime(*values[0].timetuple()[:3])
    stop = values[1] if isinstance(values[1], dt.datetime) else \
        dt.datetime(*values[1].timetuple()[:3])
    iv, out, start, k = values[2], [], cur, 0
    forward = add_interval_to(cur, iv) > cur
    if add_interval_to(cur, iv) == cur:
        raise errors.sql_error("22023", "step size cannot equal zero")
    while (cur <= stop) if forward else (cur >= stop):
        out.append(cur)
        if len(out) & 0xFFFF == 0:
            limits.charge(8 * 0x10000, "generate_series")
        if len(out) > MAX_ROWS:
            raise errors.sql_error("54000", "generate_series result too large")
        k += 1     # start + k * step, as PostgreSQL (month ends do not drift)
        cur = add_interval_to(start, types.Interval(iv.months * k, iv.days * k, iv.micros * k))
    return pa.array(out, types.arrow_type(element_type))
