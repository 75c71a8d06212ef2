"""Notebook data (pandas, Arrow) → the Arrow table the engine reads, or a clear SQL error.

The variable bridge (``session.scan``), ``--persist`` / ``--append`` and
``--import`` hand the engine Arrow tables. The checks (a column mixing Python
types → 42804, an integer beyond int64 → 22003, an Arrow type with no SQL
counterpart → 42804) are the engine's own
(``rustmemodb.api.arrow_io.to_arrow_table``), so a ``%sql`` cell shows the
same SQLSTATE, message and hint as ``Connection.register``; errors name the
variable as the user wrote it.

What is added here: ``uint64`` columns, whose values the check has found to
fit, are cast to int64 (lossless), which is how the engine's INTEGER stores
them, so ``--persist`` creates BIGINT columns.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def to_engine_table(value: Any, name: str) -> pa.Table:
    """``value`` (pandas DataFrame or Arrow table) as an Arrow table the engine can scan."""
    from rustmemodb.api.arrow_io import to_arrow_table

    table = to_arrow_table(value, name, label=name)
    for i, field in enumerate(table.schema):
        t = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if pa.types.is_uint64(t):
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return table
