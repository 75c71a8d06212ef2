"""Converting what users hand us (pandas, Arrow, polars) into Arrow tables, zero-copy where possible.

pandas is imported only when a DataFrame is actually passed (the engine never
imports it at module import, DESIGN.md).
"""
from __future__ import annotations

import pyarrow as pa

from .. import errors


def to_arrow_table(obj) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        import pandas as pd
        if isinstance(obj, pd.DataFrame):
            return pa.Table.from_pandas(obj, preserve_index=False)
    if module == "polars":
        return obj.to_arrow()
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    raise errors.ProgrammingError(
        f"cannot register a {type(obj).__name__}: expected a pandas DataFrame or an Arrow table",
        sqlstate="42804")
