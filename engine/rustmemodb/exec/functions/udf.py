"""User-defined scalar functions: Python callables made into ScalarFunctions.

A row UDF (``fn(*values) -> value``) runs once per row on the row path and is
mapped over Arrow columns on the vector path; a vectorized UDF receives and
returns pyarrow arrays. Arguments are checked against ``arg_types`` at bind
time, and the result is converted to ``return_type`` so a UDF cannot smuggle a
wrongly typed value into a table.
"""
from __future__ import annotations

from typing import Callable, Sequence

import pyarrow as pa

from ... import errors, types
from .registry import ScalarFunction, fixed


def make_udf(name: str, fn: Callable, arg_types: Sequence[str] | None, return_type: str,
             vectorized: bool, strict: bool, volatile: bool) -> ScalarFunction:
    ret = types.normalize_type_name(return_type)
    if arg_types is None:
        resolve = lambda ts: ret  # noqa: E731 - any arguments
    else:
        params = [types.normalize_type_name(t) for t in arg_types]
        resolve = fixed((*params, ret))
    arrow_ret = types.arrow_type(ret)

    def row(*args):
        try:
            out = fn(*args)
        except errors.Error:
            raise
        except Exception as exc:  # a bug in user code is reported, not a crash
            raise errors.sql_error("38000", f"function {name}() raised {type(exc).__name__}: {exc}")
        return _check_result(name, out, ret)

    vector = None
    if vectorized:
        def vector(*args):
            try:
                out = fn(*args)
            except Exception as exc:
                raise errors.sql_error("38000",
                                       f"function {name}() raised {type(exc).__name__}: {exc}")
            return out if isinstance(out, (pa.Array, pa.ChunkedArray, pa.Scalar)) \
                else pa.array(out, arrow_ret)
    return ScalarFunction(name.lower(), resolve, vector, None if vectorized else row,
                          strict=strict, volatile=volatile, user=True)


def _check_result(name: str, value, ret: str):
    if value is None:
        return None
    stored, got = types.from_python(value)
    if got == ret or (ret == types.FLOAT and got == types.INTEGER):
        return float(stored) if ret == types.FLOAT else stored
    raise errors.datatype_mismatch(
        f"function {name}() returned {got}, but it is declared to return {ret}")
