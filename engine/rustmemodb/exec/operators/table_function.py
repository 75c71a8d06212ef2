"""Set-returning functions in FROM evaluated at run time (``LogicalTableFunction``).

Arguments are constants, parameters or OuterRefs of the current LATERAL frame, so
each is a scalar: evaluated against a one-row table (against none, a function mapped
row by row over its arguments would give no value at all). ``WITH ORDINALITY`` adds the
1-based position as a trailing INTEGER column.
"""
from __future__ import annotations

from ... import infinity

import numpy as np
import pyarrow as pa

from ... import errors, statement_limits, types
from ...catalog.pg_keywords import keyword_rows
from ...textsearch import configs, tsvector
from ...plan.logical import LogicalTableFunction
from ..expr.vector import evaluate
from ..run import operator
from ..functions.series import generate_series
from ..functions.array import unnest_values
from ..functions.regex import regexp_matches_rows

_ONE_ROW = pa.table({"_": pa.nulls(1)})


@operator(LogicalTableFunction)
def table_function(node: LogicalTableFunction, ctx) -> pa.Table:
    values = [_scalar(evaluate(a, _ONE_ROW, ctx), a.type) for a in node.args]
    if node.function == "generate_series":
        arrays = [generate_series(values, node.columns[0][1])]
    elif node.function == "unnest":
        arrays = unnest_values(values, [t for _, t in node.columns[:len(values)]])
    elif node.function == "ts_debug":
        arrays = _ts_debug_rows(values, node.columns)
    elif node.function == "pg_get_keywords":
        rows = keyword_rows()
        arrays = [pa.array([r[k] for r in rows], types.arrow_type(t))
                  for k, (_, t) in enumerate(node.columns[:5])]
    elif node.function == "unnest_tsvector":
        arrays = _tsvector_rows(values[0], node.columns)
    elif node.function == "regexp_matches":
        rows = [] if any(v is None for v in values) else regexp_matches_rows(*values)
        arrays = [pa.array(rows, types.arrow_type(node.columns[0][1]))]
    else:
        raise errors.not_supported(f"table function {node.function}")
    if node.ordinality:
        rows = len(arrays[0]) if arrays else 0
        arrays.append(pa.array(np.arange(1, rows + 1, dtype=np.int64)))
    want = [types.arrow_type(t) for _, t in node.columns]
    arrays = [a if a.type == w else a.cast(w) for a, w in zip(arrays, want)]
    return pa.Table.from_arrays(arrays, names=[n for n, _ in node.columns])


def _scalar(value, sql_type: str):
    """A Python value from an evaluated argument (intervals as types.Interval)."""
    if isinstance(value, pa.Scalar):
        v = infinity.pyscalar(value)
    else:
        v = value[0].as_py() if len(value) else None
    if v is not None and sql_type == types.INTERVAL:
        return types.Interval.of(v)
    return v


def _tsvector_rows(text: str | None, columns) -> list:
    """unnest(tsvector)'s columns: lexeme, positions, weights (NULLs without positions)."""
    entries = tsvector.parse(text) if text is not None else ()
    lexemes = [lex for lex, _ in entries]
    positions = [[p for p, _ in ps] if ps else None for _, ps in entries]
    weights = [[tsvector.WEIGHT_LETTERS[w] for _, w in ps] if ps else None for _, ps in entries]
    return [pa.array(values, types.arrow_type(t))
            for values, (_, t) in zip((lexemes, positions, weights), columns)]


def _ts_debug_rows(values: list, columns) -> list:
    """ts_debug([config,] document): one row per token (none for a NULL argument)."""
    if any(v is None for v in values):
        rows = []
    else:
        config = values[0] if len(values) == 2 else statement_limits.text_search_config()
        rows = configs.debug_rows(config, values[-1])
    return [pa.array([r[k] for r in rows], types.arrow_type(t))
            for k, (_, t) in enumerate(columns[:6])]
